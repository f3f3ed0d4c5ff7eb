/*
 * nn_train.c - minibatch training with Keras-style monitors (see nn_train.h).
 */
#include "nn_train.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "crc32.h"
#include "nn_adam.h"
#include "nn_checkpoint.h"
#include "split.h"

void
nn_train_config_default(nn_train_config *config)
{
	memset(config, 0, sizeof(*config));
	config->epochs = 100;
	config->batch_size = 2048;
	config->learning_rate = 1e-3;
	config->patience = 15;
	config->plateau_patience = 10;
	config->plateau_factor = 0.1;
	config->plateau_min_delta = 1e-4;
	config->seed = 42;
	config->threads = 1;
	config->class_weighting = NN_CLASS_WEIGHT_NONE;
	for (int c = 0; c < NN_MAX_CLASSES; c++)
		config->class_weights[c] = 1.0f;
	config->validation_fraction = 0.3;
	config->beat_length = NN_BEAT_LENGTH;
}

void
nn_train_result_release(nn_train_result *result)
{
	ecg_free(result->history);
	result->history = NULL;
}

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Checks ------------------------------------------------------------------------ */

static int
check_config(const nn_model *m, const nn_train_config *c, ecg_status *st)
{
	if (c->epochs < 1 || c->epochs > 100000)
		return ecg_fail(st, ECG_ERR_ARGUMENT, "epochs must be in 1..100000, got %d", c->epochs);
	if (c->batch_size < 1 || c->batch_size > (1 << 20))
		return ecg_fail(st, ECG_ERR_ARGUMENT, "batch size must be in 1..1048576, got %d", c->batch_size);
	if (!(c->learning_rate > 0 && c->learning_rate < 10))
		return ecg_fail(st, ECG_ERR_ARGUMENT, "learning rate must be in (0, 10), got %g", c->learning_rate);
	if (c->patience < 0 || c->plateau_patience < 0)
		return ecg_fail(st, ECG_ERR_ARGUMENT, "patience values must not be negative");
	if (!(c->plateau_factor > 0 && c->plateau_factor < 1))
		return ecg_fail(st, ECG_ERR_ARGUMENT, "plateau factor must be in (0, 1), got %g", c->plateau_factor);
	if (!(c->plateau_min_delta >= 0))
		return ecg_fail(st, ECG_ERR_ARGUMENT, "plateau min_delta must not be negative");
	if (!(c->validation_fraction >= 0 && c->validation_fraction < 1))
		return ecg_fail(st, ECG_ERR_ARGUMENT, "validation fraction must be in [0, 1), got %g",
						c->validation_fraction);
	if (c->beat_length < 1 || c->beat_length > (size_t) m->input_length)
		return ecg_fail(st, ECG_ERR_ARGUMENT, "rows of %zu samples do not fit the model input of %d",
						c->beat_length, m->input_length);
	if (m->input_channels != 1)
		return ecg_fail(st, ECG_ERR_ARGUMENT, "rows of one channel do not fit a model of %d input channels",
						m->input_channels);
	if (nn_augment_check(&c->augment, st) != 0)
		return -1;
	if (c->class_weighting == NN_CLASS_WEIGHT_EXPLICIT)
		for (int k = 0; k < m->n_classes; k++)
			if (!(c->class_weights[k] >= 0 && isfinite(c->class_weights[k])))
				return ecg_fail(st, ECG_ERR_ARGUMENT, "class weight %d must be finite and >= 0, got %g",
								k, (double) c->class_weights[k]);
	return 0;
}

static int
check_labels(const nn_dataset *d, int n_classes, int n_features, const char *what, ecg_status *st)
{
	if (d->n > 0 && (d->beats == NULL || d->labels == NULL))
		return ecg_fail(st, ECG_ERR_ARGUMENT, "%s data missing", what);
	if (d->n > 0 && (d->features == NULL) != (n_features == 0))
		return ecg_fail(st, ECG_ERR_ARGUMENT, "%s data %s features, the model takes %d",
						what, d->features ? "has" : "lacks", n_features);
	if (d->n >= UINT32_MAX)
		return ecg_fail(st, ECG_ERR_ARGUMENT, "%s set has %zu rows, at most %u are supported",
						what, d->n, UINT32_MAX - 1);
	for (size_t i = 0; i < d->n; i++)
		if (d->labels[i] < 0 || d->labels[i] >= n_classes)
			return ecg_fail(st, ECG_ERR_ARGUMENT, "%s row %zu has label %d, the model has classes 0..%d",
							what, i, d->labels[i], n_classes - 1);
	return 0;
}

/* Training state ------------------------------------------------------------------ */

typedef struct trainer
{
	nn_model   *model;
	const nn_train_config *config;
	nn_pool    *pool;
	const nn_dataset *train_data;
	const nn_dataset *val_data; /* rows taken from here for validation */
	uint32_t   *train_rows;		/* [n_train] indices into train_data, shuffled */
	uint32_t   *val_rows;		/* [n_val] indices into val_data */
	size_t		n_train;
	size_t		n_val;
	nn_workspace *ws;
	nn_adam		adam;
	int			adam_ready;
	int		   *batch_labels;	/* [batch] */
	float	   *batch_weights;	/* [batch] */
	float	   *best_params;	/* snapshot of params + state */
	float	   *best_state;
	float	   *aug_beats;		/* [batch][beat_length]: the augmented copy */
	float	   *aug_features;	/* [batch][n_features] (models with features) */
	float		class_weights[NN_MAX_CLASSES];
	rng_state	shuffle_rng;
	rng_state	dropout_rng;
} trainer;

static void
trainer_release(trainer *t)
{
	ecg_free(t->train_rows);
	ecg_free(t->val_rows);
	nn_workspace_free(t->ws);
	if (t->adam_ready)
		nn_adam_release(&t->adam);
	ecg_free(t->batch_labels);
	ecg_free(t->batch_weights);
	ecg_free(t->best_params);
	ecg_free(t->best_state);
	ecg_free(t->aug_beats);
	ecg_free(t->aug_features);
}

/* Splits off the validation rows (stratified) when no validation set is given. */
static int
choose_rows(trainer *t, const nn_dataset *train, const nn_dataset *validation, ecg_status *st)
{
	const nn_train_config *c = t->config;
	size_t		n = train->n;

	t->train_data = train;
	if (validation != NULL && validation->n > 0)
	{
		t->val_data = validation;
		t->n_train = n;
		t->n_val = validation->n;
		t->train_rows = ecg_alloc_array(n, sizeof(uint32_t));
		t->val_rows = ecg_alloc_array(validation->n, sizeof(uint32_t));
		if (t->train_rows == NULL || t->val_rows == NULL)
			return ecg_fail(st, ECG_ERR_NOMEM, "out of memory for the row order");
		for (size_t i = 0; i < n; i++)
			t->train_rows[i] = (uint32_t) i;
		for (size_t i = 0; i < validation->n; i++)
			t->val_rows[i] = (uint32_t) i;
		return 0;
	}
	t->val_data = train;
	t->train_rows = ecg_alloc_array(n, sizeof(uint32_t));
	t->val_rows = ecg_alloc_array(n, sizeof(uint32_t));
	if (t->train_rows == NULL || t->val_rows == NULL)
		return ecg_fail(st, ECG_ERR_NOMEM, "out of memory for the row order");
	if (c->validation_fraction > 0)
	{
		uint8_t    *is_val = ecg_alloc(n);

		if (is_val == NULL)
			return ecg_fail(st, ECG_ERR_NOMEM, "out of memory for the validation split");
		/* a separate stream of the seed, so it does not shift the shuffles */
		if (split_stratified(train->labels, (int64_t) n, t->model->n_classes, c->validation_fraction,
							 c->seed ^ UINT64_C(0x5EED0F0A11DA7E00), is_val, st) != 0)
		{
			ecg_free(is_val);
			return -1;
		}
		for (size_t i = 0; i < n; i++)
		{
			if (is_val[i])
				t->val_rows[t->n_val++] = (uint32_t) i;
			else
				t->train_rows[t->n_train++] = (uint32_t) i;
		}
		ecg_free(is_val);
		if (t->n_val == 0 || t->n_train == 0)
			return ecg_fail(st, ECG_ERR_ARGUMENT,
							"%zu rows are too few to hold out a validation fraction of %g",
							n, c->validation_fraction);
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		t->train_rows[i] = (uint32_t) i;
	t->n_train = n;
	return 0;
}

/* Class weights as applied: none, sklearn's 'balanced' over the rows trained on,
 * or explicit. */
static void
choose_class_weights(trainer *t)
{
	const nn_train_config *c = t->config;
	int			k = t->model->n_classes;
	size_t		counts[NN_MAX_CLASSES] = {0};
	int			present = 0;

	for (int j = 0; j < NN_MAX_CLASSES; j++)
		t->class_weights[j] = 1.0f;
	if (c->class_weighting == NN_CLASS_WEIGHT_EXPLICIT)
	{
		for (int j = 0; j < k; j++)
			t->class_weights[j] = c->class_weights[j];
		return;
	}
	if (c->class_weighting != NN_CLASS_WEIGHT_BALANCED)
		return;
	for (size_t i = 0; i < t->n_train; i++)
		counts[t->train_data->labels[t->train_rows[i]]]++;
	for (int j = 0; j < k; j++)
		present += counts[j] > 0;
	for (int j = 0; j < k; j++)
		t->class_weights[j] = counts[j] > 0
			? (float) ((double) t->n_train / ((double) present * (double) counts[j]))
			: 0.0f;
}

static size_t
batch_rows(const trainer *t)
{
	size_t		b = (size_t) t->config->batch_size;

	return b < t->n_train ? b : t->n_train;
}

size_t
nn_train_memory_bytes(const nn_model *model, const nn_train_config *config, size_t n_train,
					  size_t n_validation)
{
	size_t		batch = (size_t) config->batch_size;
	size_t		ws,
				total;

	if (n_train > 0 && n_train < batch)
		batch = n_train;
	ws = nn_workspace_bytes(model, batch, 1);
	if (ws == 0)
		return SIZE_MAX;
	total = ws;
	total += 4 * (model->n_params + 1) * sizeof(float);	/* adam m, v + best copy + grads */
	total += (model->n_state + 1) * sizeof(float);
	total += (n_train + n_validation) * (sizeof(uint32_t) + 1);
	total += batch * (sizeof(int) + sizeof(float));
	if (nn_augment_enabled(&config->augment))
		total += batch * (config->beat_length + (size_t) model->n_features + 2) * sizeof(float);
	return total;
}

static int
trainer_setup(trainer *t, const nn_dataset *train, const nn_dataset *validation, ecg_status *st)
{
	const nn_train_config *c = t->config;
	size_t		batch;

	if (choose_rows(t, train, validation, st) != 0)
		return -1;
	choose_class_weights(t);
	batch = batch_rows(t);
	if (ecg_check_memory(nn_train_memory_bytes(t->model, c, t->n_train, t->n_val),
						 "network training", st) != 0)
		return -1;
	t->ws = nn_workspace_create(t->model, batch, 1, st);
	if (t->ws == NULL)
		return -1;
	if (nn_adam_init(&t->adam, t->model->n_params, c->learning_rate, st) != 0)
		return -1;
	t->adam_ready = 1;
	t->batch_labels = ecg_alloc_array(batch, sizeof(int));
	t->batch_weights = ecg_alloc_array(batch, sizeof(float));
	t->best_params = ecg_alloc_array(t->model->n_params + 1, sizeof(float));
	t->best_state = ecg_alloc_array(t->model->n_state + 1, sizeof(float));
	if (t->batch_labels == NULL || t->batch_weights == NULL || t->best_params == NULL ||
		t->best_state == NULL)
		return ecg_fail(st, ECG_ERR_NOMEM, "out of memory for training buffers");
	if (nn_augment_enabled(&c->augment))
	{
		t->aug_beats = ecg_alloc_array(batch * c->beat_length, sizeof(float));
		t->aug_features = ecg_alloc_array(batch * (size_t) t->model->n_features + 1, sizeof(float));
		if (t->aug_beats == NULL || t->aug_features == NULL)
			return ecg_fail(st, ECG_ERR_NOMEM, "out of memory for the augmented minibatch");
	}
	rng_seed_stream(&t->shuffle_rng, c->seed, 1);
	rng_seed_stream(&t->dropout_rng, c->seed, 2);
	return 0;
}

/* One epoch --------------------------------------------------------------------- */

/*
 * Gathers rows[0..nb) of the training data into the batch copy and transforms
 * its beats (nn_augment.h); the rows are positions start.. of this epoch's
 * order.  Loads the copy into the workspace.
 */
static int
load_augmented(trainer *t, int epoch, size_t start, const uint32_t *rows, size_t nb, ecg_status *st)
{
	const nn_dataset *d = t->train_data;
	size_t		len = t->config->beat_length;
	size_t		w = (size_t) t->model->n_features;
	nn_input	in = {t->aug_beats, nb, len, 1, w > 0 ? t->aug_features : NULL};

	for (size_t i = 0; i < nb; i++)
	{
		memcpy(t->aug_beats + i * len, d->beats + (size_t) rows[i] * len, len * sizeof(float));
		if (w > 0)
			memcpy(t->aug_features + i * w, d->features + (size_t) rows[i] * w, w * sizeof(float));
	}
	nn_augment_batch(&t->config->augment, t->config->seed, (uint64_t) epoch, start, t->aug_beats,
					 nb, len);
	return nn_workspace_load_input(t->model, t->ws, &in, NULL, nb, st);
}

/* Trains one pass over the shuffled rows; fills loss and accuracy. */
static int
train_epoch(trainer *t, nn_epoch_stats *e, ecg_status *st)
{
	nn_model   *m = t->model;
	size_t		batch = nn_workspace_batch(t->ws);
	double		loss_sum = 0;
	size_t		correct_sum = 0;
	int			weighted = t->config->class_weighting != NN_CLASS_WEIGHT_NONE;
	nn_input	in = {t->train_data->beats, t->train_data->n, t->config->beat_length, 1,
	t->train_data->features};

	rng_shuffle_u32(&t->shuffle_rng, t->train_rows, t->n_train);
	for (size_t start = 0; start < t->n_train; start += batch)
	{
		size_t		nb = t->n_train - start < batch ? t->n_train - start : batch;
		const uint32_t *rows = t->train_rows + start;
		size_t		correct;
		double		loss;

		for (size_t i = 0; i < nb; i++)
		{
			t->batch_labels[i] = t->train_data->labels[rows[i]];
			t->batch_weights[i] = t->class_weights[t->batch_labels[i]];
		}
		if (t->aug_beats != NULL)
		{
			if (load_augmented(t, e->epoch, start, rows, nb, st) != 0)
				return -1;
		}
		else if (nn_workspace_load_input(m, t->ws, &in, rows, nb, st) != 0)
			return -1;
		loss = nn_forward_loss(m, t->ws, nb, 1, &t->dropout_rng, t->batch_labels,
							   weighted ? t->batch_weights : NULL, t->pool, &correct);
		nn_backward(m, t->ws, t->batch_labels, weighted ? t->batch_weights : NULL, nb, t->pool);
		nn_adam_step(&t->adam, m->params, m->grads);
		loss_sum += loss * (double) nb;
		correct_sum += correct;
		ecg_check_interrupts();
	}
	e->loss = loss_sum / (double) t->n_train;
	e->accuracy = (double) correct_sum / (double) t->n_train;
	return 0;
}

/* Mean loss and accuracy over the validation rows, inference mode, unweighted. */
static int
validate(trainer *t, nn_epoch_stats *e, ecg_status *st)
{
	nn_model   *m = t->model;
	size_t		batch = nn_workspace_batch(t->ws);
	double		loss_sum = 0;
	size_t		correct_sum = 0;
	nn_input	in = {t->val_data->beats, t->val_data->n, t->config->beat_length, 1,
	t->val_data->features};

	if (t->n_val == 0)
	{
		e->val_loss = NAN;
		e->val_accuracy = NAN;
		return 0;
	}
	for (size_t start = 0; start < t->n_val; start += batch)
	{
		size_t		nb = t->n_val - start < batch ? t->n_val - start : batch;
		const uint32_t *rows = t->val_rows + start;
		size_t		correct;

		for (size_t i = 0; i < nb; i++)
			t->batch_labels[i] = t->val_data->labels[rows[i]];
		if (nn_workspace_load_input(m, t->ws, &in, rows, nb, st) != 0)
			return -1;
		loss_sum += nn_forward_loss(m, t->ws, nb, 0, NULL, t->batch_labels, NULL, t->pool,
									&correct) * (double) nb;
		correct_sum += correct;
		ecg_check_interrupts();
	}
	e->val_loss = loss_sum / (double) t->n_val;
	e->val_accuracy = (double) correct_sum / (double) t->n_val;
	return 0;
}

/* Monitors ------------------------------------------------------------------------ */

typedef struct monitors
{
	double		stop_best;		/* early stopping: best monitored loss */
	int			stop_wait;
	double		plateau_best;	/* ReduceLROnPlateau: best (min_delta applied) */
	int			plateau_wait;
} monitors;

static void
snapshot_best(trainer *t)
{
	memcpy(t->best_params, t->model->params, t->model->n_params * sizeof(float));
	memcpy(t->best_state, t->model->state, t->model->n_state * sizeof(float));
}

/* Returns 1 when training should stop. */
static int
apply_monitors(trainer *t, monitors *mon, const nn_epoch_stats *e, nn_train_result *r)
{
	const nn_train_config *c = t->config;
	double		current = t->n_val > 0 ? e->val_loss : e->loss;
	int			stop = 0;

	/* EarlyStopping (min_delta 0): the best epoch's weights are kept */
	mon->stop_wait++;
	if (current < mon->stop_best)
	{
		mon->stop_best = current;
		mon->stop_wait = 0;
		r->best_epoch = e->epoch;
		r->best_monitor = current;
		snapshot_best(t);
	}
	if (c->patience > 0 && mon->stop_wait >= c->patience)
		stop = 1;

	/* ReduceLROnPlateau */
	if (current < mon->plateau_best - c->plateau_min_delta)
	{
		mon->plateau_best = current;
		mon->plateau_wait = 0;
	}
	else if (c->plateau_patience > 0)
	{
		mon->plateau_wait++;
		if (mon->plateau_wait >= c->plateau_patience)
		{
			t->adam.lr *= c->plateau_factor;
			mon->plateau_wait = 0;
		}
	}
	return stop;
}

/* Checkpoints ----------------------------------------------------------------------- */

static uint32_t
crc_dataset(uint32_t crc, const nn_dataset *d, const nn_train_config *c, int n_features)
{
	if (d == NULL || d->n == 0)
		return crc;
	crc = crc32_update(crc, d->beats, d->n * c->beat_length * sizeof(float));
	crc = crc32_update(crc, d->labels, d->n * sizeof(int));
	if (d->features != NULL)
		crc = crc32_update(crc, d->features, d->n * (size_t) n_features * sizeof(float));
	return crc;
}

/*
 * What a checkpoint belongs to: the settings that shape the run, the model's
 * shape and the rows (a resumed run on other data would silently differ).
 */
static uint32_t
training_fingerprint(const trainer *t, const nn_dataset *train, const nn_dataset *validation)
{
	const nn_train_config *c = t->config;
	uint64_t	seed = c->seed;
	int32_t		ints[6] = {c->epochs, c->batch_size, c->patience, c->plateau_patience,
	(int32_t) c->class_weighting, t->model->n_classes};
	double		reals[4] = {c->learning_rate, c->plateau_factor, c->plateau_min_delta,
	c->validation_fraction};
	uint64_t	sizes[5] = {c->beat_length, t->model->n_params, t->model->n_state, t->n_train, t->n_val};
	uint32_t	crc = crc32_compute(ints, sizeof(ints));

	crc = crc32_update(crc, &seed, sizeof(seed));
	crc = crc32_update(crc, reals, sizeof(reals));
	crc = crc32_update(crc, sizes, sizeof(sizes));
	crc = crc32_update(crc, t->class_weights, sizeof(t->class_weights));
	crc = crc32_update(crc, t->model->arch.name, strlen(t->model->arch.name));
	if (nn_augment_enabled(&c->augment))
	{
		/* field by field: no padding bytes in the sum */
		double		aug[4] = {c->augment.polarity, c->augment.amplitude, c->augment.wander,
		c->augment.noise};
		int32_t		shift = c->augment.shift;

		crc = crc32_update(crc, aug, sizeof(aug));
		crc = crc32_update(crc, &shift, sizeof(shift));
	}
	crc = crc_dataset(crc, train, c, t->model->n_features);
	return crc_dataset(crc, validation, c, t->model->n_features);
}

/* The trainer's state as a checkpoint view (arrays shared, not copied). */
static void
state_view(trainer *t, const monitors *mon, nn_train_result *r, int epochs_done, uint32_t fp,
		   nn_train_state *s)
{
	memset(s, 0, sizeof(*s));
	s->fingerprint = fp;
	s->epochs_done = epochs_done;
	s->n_params = t->model->n_params;
	s->n_state = t->model->n_state;
	s->n_train = t->n_train;
	s->params = t->model->params;
	s->state = t->model->state;
	s->best_params = t->best_params;
	s->best_state = t->best_state;
	s->adam_m = t->adam.m;
	s->adam_v = t->adam.v;
	s->adam_t = t->adam.t;
	s->lr = t->adam.lr;
	s->shuffle_rng = t->shuffle_rng;
	s->dropout_rng = t->dropout_rng;
	s->train_rows = t->train_rows;
	s->stop_best = mon->stop_best;
	s->stop_wait = mon->stop_wait;
	s->plateau_best = mon->plateau_best;
	s->plateau_wait = mon->plateau_wait;
	s->best_epoch = r->best_epoch;
	s->best_monitor = r->best_monitor;
	s->history = r->history;
}

static int
save_checkpoint(trainer *t, const monitors *mon, nn_train_result *r, int epoch, uint32_t fp,
				nn_train_resume *resume, ecg_status *st)
{
	nn_train_state s;
	size_t		len;
	uint8_t    *bytes;
	int			rc;

	state_view(t, mon, r, epoch, fp, &s);
	len = nn_checkpoint_size(&s);
	bytes = ecg_alloc(len);
	if (bytes == NULL)
		return ecg_fail(st, ECG_ERR_NOMEM, "out of memory for the checkpoint of epoch %d", epoch);
	nn_checkpoint_write(&s, bytes, len);
	rc = resume->save(bytes, len, &r->history[epoch - 1], resume->save_arg);
	ecg_free(bytes);
	if (rc != 0)
		return ecg_fail(st, ECG_ERR_DATA, "the checkpoint of epoch %d could not be saved", epoch);
	return 0;
}

/* Loads a checkpoint into the trainer; returns the epochs it holds, -1 on error. */
static int
load_checkpoint(trainer *t, monitors *mon, nn_train_result *r, uint32_t fp,
				const nn_train_resume *resume, ecg_status *st)
{
	nn_train_state s;
	size_t		n_rows = t->train_data->n;

	state_view(t, mon, r, 0, fp, &s);
	if (nn_checkpoint_read(resume->checkpoint, resume->checkpoint_len, &s, t->config->epochs, st) != 0)
		return -1;
	for (size_t i = 0; i < t->n_train; i++)
		if (t->train_rows[i] >= n_rows)
			return ecg_fail(st, ECG_ERR_FORMAT, "checkpoint holds a row index out of range");
	t->adam.t = s.adam_t;
	t->adam.lr = s.lr;
	t->shuffle_rng = s.shuffle_rng;
	t->dropout_rng = s.dropout_rng;
	mon->stop_best = s.stop_best;
	mon->stop_wait = s.stop_wait;
	mon->plateau_best = s.plateau_best;
	mon->plateau_wait = s.plateau_wait;
	r->best_epoch = s.best_epoch;
	r->best_monitor = s.best_monitor;
	r->epochs_run = s.epochs_done;
	return s.epochs_done;
}

/* The loop ------------------------------------------------------------------------- */

int
nn_train_run(nn_model *model, const nn_dataset *train, const nn_dataset *validation,
			 const nn_train_config *config, nn_pool *pool, nn_epoch_callback callback,
			 void *callback_arg, nn_train_result *result, ecg_status *st)
{
	return nn_train_run_resumable(model, train, validation, config, pool, callback, callback_arg,
								  NULL, result, st);
}

int
nn_train_run_resumable(nn_model *model, const nn_dataset *train, const nn_dataset *validation,
					   const nn_train_config *config, nn_pool *pool, nn_epoch_callback callback,
					   void *callback_arg, nn_train_resume *resume, nn_train_result *result,
					   ecg_status *st)
{
	trainer		t;
	monitors	mon = {INFINITY, 0, INFINITY, 0};
	double		train_seconds = 0;
	int			rc = -1;
	int			first_epoch = 1;
	uint32_t	fingerprint = 0;

	memset(result, 0, sizeof(*result));
	memset(&t, 0, sizeof(t));
	t.model = model;
	t.config = config;
	t.pool = pool;
	if (check_config(model, config, st) != 0 || check_labels(train, model->n_classes, model->n_features, "training", st) != 0 ||
		(validation != NULL && check_labels(validation, model->n_classes, model->n_features, "validation", st) != 0))
		return -1;
	if (train->n == 0)
		return ecg_fail(st, ECG_ERR_ARGUMENT, "no training rows");
	if (trainer_setup(&t, train, validation, st) != 0)
		goto done;
	result->history = ecg_alloc_array((size_t) config->epochs, sizeof(nn_epoch_stats));
	if (result->history == NULL)
	{
		ecg_fail(st, ECG_ERR_NOMEM, "out of memory for the training history");
		goto done;
	}
	result->validation_held_out = t.val_data == train && t.n_val > 0;
	result->n_train = t.n_train;
	result->n_validation = t.n_val;
	memcpy(result->class_weights, t.class_weights, sizeof(result->class_weights));
	snapshot_best(&t);			/* in case no epoch ever improves (NaN losses) */
	result->best_epoch = 0;
	result->best_monitor = NAN;
	if (resume != NULL)
	{
		resume->resumed_epochs = 0;
		if (resume->checkpoint != NULL || resume->save != NULL)
			fingerprint = training_fingerprint(&t, train, validation);
		if (resume->checkpoint != NULL)
		{
			int			done_epochs = load_checkpoint(&t, &mon, result, fingerprint, resume, st);

			if (done_epochs < 0)
				goto done;
			resume->resumed_epochs = done_epochs;
			first_epoch = done_epochs + 1;
			/* the checkpoint of the epoch that ended the run: nothing is left */
			if (config->patience > 0 && mon.stop_wait >= config->patience)
			{
				result->stopped_early = done_epochs < config->epochs;
				first_epoch = config->epochs + 1;
			}
		}
	}

	for (int epoch = first_epoch; epoch <= config->epochs; epoch++)
	{
		nn_epoch_stats *e = &result->history[epoch - 1];
		double		start = now_seconds();
		int			stop;

		e->epoch = epoch;
		e->lr = t.adam.lr;
		if (train_epoch(&t, e, st) != 0)
			goto done;
		train_seconds += now_seconds() - start;
		if (validate(&t, e, st) != 0)
			goto done;
		e->seconds = now_seconds() - start;
		result->epochs_run = epoch;
		/* a non-finite loss poisons every later step (and would leave a
		 * model whose best epoch is none): stop, store nothing */
		if (!isfinite(e->loss) || (t.n_val > 0 && !isfinite(e->val_loss)))
		{
			int			train_bad = !isfinite(e->loss);
			double		bad = train_bad ? e->loss : e->val_loss;

			ecg_fail(st, ECG_ERR_DATA, "training diverged in epoch %d: the %s loss is %s", epoch,
					 train_bad ? "training" : "validation", isnan(bad) ? "NaN" : "infinite");
			ecg_fail_detail(st, "Likely causes: non-finite values or extreme magnitudes in the training "
							"or validation rows, or a learning rate too high (%g).", e->lr);
			goto done;
		}
		stop = apply_monitors(&t, &mon, e, result);
		if (resume != NULL && resume->save != NULL &&
			save_checkpoint(&t, &mon, result, epoch, fingerprint, resume, st) != 0)
			goto done;
		if (callback != NULL && callback(e, callback_arg) != 0)
		{
			result->stopped_by_callback = 1;
			break;
		}
		if (stop)
		{
			result->stopped_early = epoch < config->epochs;
			break;
		}
	}
	/* restore the best epoch's weights and moving statistics */
	memcpy(model->params, t.best_params, model->n_params * sizeof(float));
	memcpy(model->state, t.best_state, model->n_state * sizeof(float));
	result->final_lr = t.adam.lr;
	result->samples_per_second = train_seconds > 0
		? (double) t.n_train * (result->epochs_run - (resume ? resume->resumed_epochs : 0)) / train_seconds
		: 0;
	rc = 0;

done:
	trainer_release(&t);
	if (rc != 0)
		nn_train_result_release(result);
	return rc;
}

/* Summary text ---------------------------------------------------------------------- */

/* printf-style append to text[cap], truncating (always NUL-terminated) */
static void
append(char *text, size_t cap, size_t *used, const char *fmt,...)
	__attribute__((format(printf, 4, 5)));

static void
append(char *text, size_t cap, size_t *used, const char *fmt,...)
{
	va_list		ap;
	int			n;

	if (*used + 1 >= cap)
		return;
	va_start(ap, fmt);
	n = vsnprintf(text + *used, cap - *used, fmt, ap);
	va_end(ap);
	if (n > 0)
		*used += (size_t) n < cap - *used ? (size_t) n : cap - *used - 1;
}

char *
nn_train_summary(const nn_train_config *config, const nn_train_result *result)
{
	size_t		cap = 1024 + (size_t) result->epochs_run * 160;
	char	   *text = ecg_alloc(cap);
	size_t		used = 0;
	static const char *const weighting[] = {"none", "balanced", "explicit"};

	if (text == NULL)
		return NULL;
	text[0] = '\0';
#define EMIT(...) append(text, cap, &used, __VA_ARGS__)
	EMIT("epochs=%d\nbatch_size=%d\nlearning_rate=%g\npatience=%d\nplateau_patience=%d\n"
		 "plateau_factor=%g\nseed=%llu\nclass_weighting=%s\nvalidation_fraction=%g\n",
		 config->epochs, config->batch_size, config->learning_rate, config->patience,
		 config->plateau_patience, config->plateau_factor, (unsigned long long) config->seed,
		 weighting[config->class_weighting <= NN_CLASS_WEIGHT_EXPLICIT ? config->class_weighting : 0],
		 config->validation_fraction);
	if (nn_augment_enabled(&config->augment))
	{
		char		aug[200];

		nn_augment_format(&config->augment, aug, sizeof(aug));
		EMIT("augment=%s\n", aug);
	}
	EMIT("epochs_run=%d\nbest_epoch=%d\nbest_loss=%.6g\nstopped_early=%d\nvalidation_held_out=%d\n"
		 "n_train=%zu\nn_validation=%zu\nfinal_lr=%g\n",
		 result->epochs_run, result->best_epoch, result->best_monitor, result->stopped_early,
		 result->validation_held_out, result->n_train, result->n_validation, result->final_lr);
	EMIT("history=epoch,loss,accuracy,val_loss,val_accuracy,lr,seconds\n");
	for (int i = 0; i < result->epochs_run; i++)
	{
		const nn_epoch_stats *e = &result->history[i];

		EMIT("%d,%.6g,%.6g,%.6g,%.6g,%g,%.3f\n", e->epoch, e->loss, e->accuracy, e->val_loss,
			 e->val_accuracy, e->lr, e->seconds);
	}
#undef EMIT
	return text;
}
