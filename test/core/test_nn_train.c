/*
 * Unit tests for the training loop (src/core/nn_train.c) on a synthetic,
 * separable 5-class data set: learning, determinism (seed and thread count),
 * the stratified hold-out, class weights, the Keras-style monitors
 * (ReduceLROnPlateau, EarlyStopping with best weights restored), callbacks and
 * argument errors.
 */
#include <string.h>

#include "unit.h"
#include "nn_train.h"
#include "rng.h"

#define N_ROWS 400

static float beats[N_ROWS * NN_BEAT_LENGTH];
static int	labels[N_ROWS];
static const int class_counts[5] = {160, 80, 60, 60, 40};	/* majority rate 0.4 */

/* Class c: a Gaussian bump centred at 25 + 35c (jittered), plus noise; the
 * classes in a seeded random row order. */
static void
make_data(uint64_t seed, float *x, int *y, int n)
{
	rng_state	r;
	int			row = 0;

	rng_seed(&r, seed);
	for (int c = 0; c < 5; c++)
		for (int k = 0; k < class_counts[c] * n / N_ROWS; k++)
			y[row++] = c;
	for (int i = n - 1; i > 0; i--)
	{
		int			j = (int) rng_below(&r, (uint64_t) i + 1),
					t = y[i];

		y[i] = y[j];
		y[j] = t;
	}
	for (row = 0; row < n; row++)
	{
		double		centre = 25 + 35 * y[row] + 6 * (rng_uniform(&r) - 0.5);

		for (int t = 0; t < NN_BEAT_LENGTH; t++)
			x[(size_t) row * NN_BEAT_LENGTH + t] =
				(float) (exp(-(t - centre) * (t - centre) / 50.0) + 0.1 * rng_normal(&r));
	}
}

static nn_train_config
small_config(void)
{
	nn_train_config c;

	nn_train_config_default(&c);
	c.epochs = 3;
	c.batch_size = 32;
	c.seed = 5;
	return c;
}

static void
check_learns(const char *arch)
{
	ecg_status	st;
	nn_model   *m = nn_model_create(arch, &st);
	nn_train_config c = small_config();
	nn_dataset	train = {beats, labels, N_ROWS, NULL};
	nn_train_result r;

	nn_model_init(m, 1);
	CHECK_MSG(nn_train_run(m, &train, NULL, &c, NULL, NULL, NULL, &r, &st) == 0, "%s", st.message);
	CHECK(r.epochs_run == 3);
	CHECK(r.validation_held_out == 1);
	CHECK(r.n_train + r.n_validation == N_ROWS);
	CHECK_MSG(r.history[2].val_loss < r.history[0].val_loss, "%s val loss %.4f -> %.4f", arch,
			  r.history[0].val_loss, r.history[2].val_loss);
	CHECK_MSG(r.history[2].val_accuracy > 0.4 + 0.1, "%s val accuracy %.3f vs majority 0.4", arch,
			  r.history[2].val_accuracy);
	CHECK(r.history[2].loss < r.history[0].loss);
	CHECK(r.best_epoch >= 1 && r.best_epoch <= 3);
	CHECK(r.history[0].lr == 1e-3 && r.history[0].seconds > 0);
	CHECK(r.samples_per_second > 0);
	nn_train_result_release(&r);
	nn_model_free(m);
}

static void
test_baseline_learns(void)
{
	check_learns("baseline");
}

static void
test_cnn_learns(void)
{
	check_learns("cnn");
}

static void
train_once(const char *arch, nn_pool *pool, float *params_out, float *state_out)
{
	ecg_status	st;
	nn_model   *m = nn_model_create(arch, &st);
	nn_train_config c = small_config();
	nn_dataset	train = {beats, labels, N_ROWS, NULL};
	nn_train_result r;

	c.epochs = 2;
	c.class_weighting = NN_CLASS_WEIGHT_BALANCED;
	nn_model_init(m, 9);
	CHECK(nn_train_run(m, &train, NULL, &c, pool, NULL, NULL, &r, &st) == 0);
	memcpy(params_out, m->params, m->n_params * sizeof(float));
	memcpy(state_out, m->state, (m->n_state + 1) * sizeof(float));
	nn_train_result_release(&r);
	nn_model_free(m);
}

static void
test_training_is_deterministic(void)
{
	ecg_status	st;
	nn_pool    *pool = nn_pool_create(2, &st);
	static float p1[40000],
				p2[40000],
				p3[40000],
				s1[400],
				s2[400],
				s3[400];
	nn_model   *m = nn_model_create("cnn", &st);
	size_t		np = m->n_params,
				ns = m->n_state;

	nn_model_free(m);
	CHECK(np <= 40000 && ns < 400);
	train_once("cnn", NULL, p1, s1);
	train_once("cnn", NULL, p2, s2);
	train_once("cnn", pool, p3, s3);
	CHECK(memcmp(p1, p2, np * sizeof(float)) == 0 && memcmp(s1, s2, ns * sizeof(float)) == 0);
	CHECK_MSG(memcmp(p1, p3, np * sizeof(float)) == 0 && memcmp(s1, s3, ns * sizeof(float)) == 0,
			  "1 and 2 threads train differently");
	nn_pool_destroy(pool);
}

static void
test_holdout_is_stratified_and_weights_balanced(void)
{
	ecg_status	st;
	nn_model   *m = nn_model_create("baseline", &st);
	nn_train_config c = small_config();
	nn_dataset	train = {beats, labels, N_ROWS, NULL};
	nn_train_result r;
	size_t		expect_val = 0;

	c.epochs = 1;
	c.class_weighting = NN_CLASS_WEIGHT_BALANCED;
	nn_model_init(m, 2);
	CHECK(nn_train_run(m, &train, NULL, &c, NULL, NULL, NULL, &r, &st) == 0);
	for (int k = 0; k < 5; k++)
		expect_val += (size_t) lround(class_counts[k] * 0.3);
	CHECK(r.n_validation == expect_val);
	for (int k = 0; k < 5; k++)
	{
		double		train_count = class_counts[k] - lround(class_counts[k] * 0.3);

		/* sklearn 'balanced': n / (classes * count) */
		CHECK_CLOSE(r.class_weights[k], (double) r.n_train / (5 * train_count), 1e-6);
	}
	nn_train_result_release(&r);

	/* explicit validation set: nothing held out, all rows trained on */
	{
		nn_dataset	val = {beats, labels, 100, NULL};

		c.class_weighting = NN_CLASS_WEIGHT_NONE;
		CHECK(nn_train_run(m, &train, &val, &c, NULL, NULL, NULL, &r, &st) == 0);
		CHECK(r.validation_held_out == 0 && r.n_train == N_ROWS && r.n_validation == 100);
		CHECK(r.class_weights[0] == 1.0f);
		nn_train_result_release(&r);
	}
	nn_model_free(m);
}

/* A tiny learning rate: no epoch after the first improves the validation loss
 * by 1e-4, so ReduceLROnPlateau(patience 2) divides the rate by 10 every 2
 * epochs, while EarlyStopping (min_delta 0, patience 3) sees the tiny
 * improvements and does not stop. */
static void
test_plateau_reduces_learning_rate(void)
{
	ecg_status	st;
	nn_model   *m = nn_model_create("baseline", &st);
	nn_train_config c = small_config();
	nn_dataset	train = {beats, labels, N_ROWS, NULL};
	nn_train_result r;

	c.epochs = 6;
	c.learning_rate = 1e-9;
	c.plateau_patience = 2;
	c.patience = 3;
	nn_model_init(m, 3);
	CHECK(nn_train_run(m, &train, NULL, &c, NULL, NULL, NULL, &r, &st) == 0);
	CHECK(r.epochs_run == 6);
	CHECK_CLOSE(r.history[0].lr, 1e-9, 1e-15);
	CHECK_CLOSE(r.history[1].lr, 1e-9, 1e-15);
	/* epoch 1 improves on +inf; epochs 2 and 3 do not: reduced after epoch 3 */
	CHECK_CLOSE(r.history[2].lr, 1e-9, 1e-15);
	CHECK_CLOSE(r.history[3].lr, 1e-10, 1e-16);
	CHECK_CLOSE(r.history[4].lr, 1e-10, 1e-16);
	CHECK_CLOSE(r.history[5].lr, 1e-11, 1e-17);
	CHECK_CLOSE(r.final_lr, 1e-11, 1e-17);
	CHECK(!r.stopped_early);
	nn_train_result_release(&r);
	nn_model_free(m);
}

/* Replays Keras' EarlyStopping(min_delta 0) on the history. */
static int
keras_best_epoch(const nn_train_result *r, int patience, int *stop_epoch)
{
	double		best = INFINITY;
	int			best_epoch = 0,
				wait = 0;

	*stop_epoch = 0;
	for (int i = 0; i < r->epochs_run; i++)
	{
		wait++;
		if (r->history[i].val_loss < best)
		{
			best = r->history[i].val_loss;
			best_epoch = i + 1;
			wait = 0;
		}
		if (wait >= patience)
		{
			*stop_epoch = i + 1;
			break;
		}
	}
	return best_epoch;
}

/* Validation labels contradict the training labels (shifted by one class), so
 * as the model learns the validation loss gets worse: training stops after
 * `patience` epochs without improvement and the best epoch's weights (and
 * moving statistics) come back. */
static void
test_early_stopping_restores_best_weights(void)
{
	ecg_status	st;
	nn_model   *m = nn_model_create("cnn", &st);
	nn_train_config c = small_config();
	static int	wrong[100];
	nn_dataset	train = {beats, labels, 300, NULL};
	nn_dataset	val = {beats + 300 * NN_BEAT_LENGTH, wrong, 100, NULL};
	nn_train_result r;
	nn_workspace *ws;
	int			stop_epoch,
				best;
	double		loss;

	for (int i = 0; i < 100; i++)
		wrong[i] = (labels[300 + i] + 1) % 5;
	c.epochs = 40;
	c.patience = 3;
	c.plateau_patience = 0;
	nn_model_init(m, 4);
	CHECK(nn_train_run(m, &train, &val, &c, NULL, NULL, NULL, &r, &st) == 0);
	best = keras_best_epoch(&r, 3, &stop_epoch);
	CHECK_MSG(stop_epoch > 0 && r.stopped_early, "did not stop (ran %d epochs)", r.epochs_run);
	CHECK(r.epochs_run == stop_epoch);
	CHECK(r.best_epoch == best && r.epochs_run == best + 3);
	/* the model holds the best epoch's weights and moving statistics */
	ws = nn_workspace_create(m, (size_t) c.batch_size, 1, &st);
	loss = 0;
	for (size_t s = 0; s < 100; s += (size_t) c.batch_size)
	{
		size_t		nb = 100 - s < (size_t) c.batch_size ? 100 - s : (size_t) c.batch_size;

		nn_input	in = {val.beats + s * NN_BEAT_LENGTH, nb, NN_BEAT_LENGTH, 1, NULL};

		CHECK(nn_workspace_load_input(m, ws, &in, NULL, nb, &st) == 0);
		loss += nn_forward_loss(m, ws, nb, 0, NULL, val.labels + s, NULL, NULL, NULL) * (double) nb;
	}
	CHECK_CLOSE(loss / 100, r.history[best - 1].val_loss, 1e-9);
	CHECK(best < r.epochs_run);
	nn_workspace_free(ws);
	nn_train_result_release(&r);
	nn_model_free(m);
}

static int
stop_at_two(const nn_epoch_stats *e, void *arg)
{
	(*(int *) arg)++;
	return e->epoch == 2;
}

static void
test_callback_sees_epochs_and_can_stop(void)
{
	ecg_status	st;
	nn_model   *m = nn_model_create("baseline", &st);
	nn_train_config c = small_config();
	nn_dataset	train = {beats, labels, N_ROWS, NULL};
	nn_train_result r;
	int			calls = 0;
	char	   *summary;

	c.epochs = 10;
	nn_model_init(m, 6);
	CHECK(nn_train_run(m, &train, NULL, &c, NULL, stop_at_two, &calls, &r, &st) == 0);
	CHECK(calls == 2 && r.epochs_run == 2 && r.stopped_by_callback && !r.stopped_early);
	summary = nn_train_summary(&c, &r);
	CHECK(summary != NULL && strstr(summary, "epochs_run=2\n") != NULL);
	CHECK(strstr(summary, "\n2,") != NULL);
	ecg_free(summary);
	nn_train_result_release(&r);
	nn_model_free(m);
}

static void
test_rejects_bad_arguments(void)
{
	ecg_status	st;
	nn_model   *m = nn_model_create("baseline", &st);
	nn_train_config c = small_config();
	int			bad_labels[10];
	nn_dataset	train = {beats, bad_labels, 10, NULL};
	nn_dataset	ok = {beats, labels, N_ROWS, NULL};
	nn_train_result r;

	for (int i = 0; i < 10; i++)
		bad_labels[i] = i % 5;
	bad_labels[7] = 5;
	nn_model_init(m, 1);
	CHECK(nn_train_run(m, &train, NULL, &c, NULL, NULL, NULL, &r, &st) != 0);
	CHECK(st.kind == ECG_ERR_ARGUMENT && strstr(st.message, "row 7") != NULL);
	c.batch_size = 0;
	CHECK(nn_train_run(m, &ok, NULL, &c, NULL, NULL, NULL, &r, &st) != 0 && st.kind == ECG_ERR_ARGUMENT);
	c = small_config();
	c.beat_length = 250;
	CHECK(nn_train_run(m, &ok, NULL, &c, NULL, NULL, NULL, &r, &st) != 0 && st.kind == ECG_ERR_ARGUMENT);
	c = small_config();
	train.n = 2;				/* too few rows to hold out 30 % of each class */
	bad_labels[0] = 0;
	bad_labels[1] = 1;
	CHECK(nn_train_run(m, &train, NULL, &c, NULL, NULL, NULL, &r, &st) != 0 && st.kind == ECG_ERR_ARGUMENT);
	/* memory limit */
	c = small_config();
	c.batch_size = 2048;
	ecg_set_memory_limit(1 << 20);
	CHECK(nn_train_run(m, &ok, NULL, &c, NULL, NULL, NULL, &r, &st) != 0 && st.kind == ECG_ERR_LIMIT);
	ecg_set_memory_limit(0);
	nn_model_free(m);
}

static int
count_calls(const nn_epoch_stats *stats, void *arg)
{
	(void) stats;
	(*(int *) arg)++;
	return 0;
}

/* One row of finite but extreme samples (3e38) drives the baseline's loss
 * to NaN: training stops in that epoch with ECG_ERR_DATA naming it, before
 * the epoch is reported, and returns no result; the same row among the
 * validation rows names the validation loss.  (The glue refuses such
 * magnitudes before training; this is the core's own guard.) */
static void
test_stops_on_non_finite_loss(void)
{
	ecg_status	st;
	nn_model   *m = nn_model_create("baseline", &st);
	nn_train_config c = small_config();
	float	   *x = malloc(sizeof(beats));
	nn_dataset	poisoned = {x, labels, N_ROWS, NULL};
	nn_dataset	clean = {beats, labels, N_ROWS, NULL};
	nn_train_result r;
	int			calls = 0;

	memcpy(x, beats, sizeof(beats));
	for (int t = 0; t < NN_BEAT_LENGTH; t++)
		x[(size_t) 17 * NN_BEAT_LENGTH + t] = 3e38f;
	nn_model_init(m, 1);
	CHECK(nn_train_run(m, &poisoned, &clean, &c, NULL, count_calls, &calls, &r, &st) != 0);
	CHECK_MSG(st.kind == ECG_ERR_DATA && strstr(st.message, "epoch 1: the training loss is") != NULL,
			  "%s", st.message);
	CHECK(strstr(st.detail, "extreme magnitudes") != NULL);
	CHECK(calls == 0 && r.history == NULL);

	nn_model_init(m, 1);
	CHECK(nn_train_run(m, &clean, &poisoned, &c, NULL, count_calls, &calls, &r, &st) != 0);
	CHECK_MSG(st.kind == ECG_ERR_DATA && strstr(st.message, "epoch 1: the validation loss is") != NULL,
			  "%s", st.message);
	CHECK(calls == 0);

	/* the clean data still train */
	nn_model_init(m, 1);
	CHECK(nn_train_run(m, &clean, NULL, &c, NULL, NULL, NULL, &r, &st) == 0);
	nn_train_result_release(&r);
	free(x);
	nn_model_free(m);
}

int
main(void)
{
	make_data(1, beats, labels, N_ROWS);
	RUN_TEST(test_baseline_learns);
	RUN_TEST(test_cnn_learns);
	RUN_TEST(test_training_is_deterministic);
	RUN_TEST(test_holdout_is_stratified_and_weights_balanced);
	RUN_TEST(test_plateau_reduces_learning_rate);
	RUN_TEST(test_early_stopping_restores_best_weights);
	RUN_TEST(test_callback_sees_epochs_and_can_stop);
	RUN_TEST(test_rejects_bad_arguments);
	RUN_TEST(test_stops_on_non_finite_loss);
	UNIT_EXIT();
}
