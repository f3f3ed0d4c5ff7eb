/*
 * Unit tests for training checkpoints (src/core/nn_checkpoint.c and the
 * resumable loop of src/core/nn_train.c): a training resumed from the
 * checkpoint of any epoch ends with the bits of the uninterrupted run -
 * weights, batch-norm statistics, history, best epoch - through learning-rate
 * drops and early stopping; damaged checkpoints and checkpoints of another
 * training are refused.
 */
#include <string.h>

#include "unit.h"
#include "nn_checkpoint.h"
#include "nn_train.h"
#include "rng.h"

#define N_ROWS 300
#define N_VAL 100
#define MAX_EPOCHS 40

static float beats[(N_ROWS + N_VAL) * NN_BEAT_LENGTH];
static int	labels[N_ROWS + N_VAL];

/* Class c: a bump centred at 25 + 35c plus noise; validation labels shifted by
 * one class, so the validation loss soon grows (early stopping) and stalls
 * (the plateau monitor drops the learning rate). */
static void
make_data(void)
{
	rng_state	r;

	rng_seed(&r, 11);
	for (int i = 0; i < N_ROWS + N_VAL; i++)
	{
		int			y = (int) rng_below(&r, 5);
		double		centre = 25 + 35 * y + 6 * (rng_uniform(&r) - 0.5);

		labels[i] = i < N_ROWS ? y : (y + 1) % 5;
		for (int t = 0; t < NN_BEAT_LENGTH; t++)
			beats[(size_t) i * NN_BEAT_LENGTH + t] =
				(float) (exp(-(t - centre) * (t - centre) / 50.0) + 0.1 * rng_normal(&r));
	}
}

static nn_train_config
config(void)
{
	nn_train_config c;

	nn_train_config_default(&c);
	c.epochs = MAX_EPOCHS;
	c.batch_size = 32;
	c.seed = 7;
	c.patience = 4;
	c.plateau_patience = 1;
	c.plateau_factor = 0.5;
	return c;
}

/* The checkpoints of a run, one per epoch (copies). */
typedef struct saved
{
	uint8_t    *bytes[MAX_EPOCHS + 1];
	size_t		len[MAX_EPOCHS + 1];
	int			count;
} saved;

static int
keep_checkpoint(const uint8_t *bytes, size_t len, const nn_epoch_stats *stats, void *arg)
{
	saved	   *s = arg;

	s->bytes[stats->epoch] = malloc(len);
	memcpy(s->bytes[stats->epoch], bytes, len);
	s->len[stats->epoch] = len;
	s->count++;
	return 0;
}

/* Stops the run after epoch *arg, as a cancel would. */
static int
stop_after(const nn_epoch_stats *stats, void *arg)
{
	return stats->epoch >= *(int *) arg;
}

static void
free_saved(saved *s)
{
	for (int e = 0; e <= MAX_EPOCHS; e++)
		free(s->bytes[e]);
	memset(s, 0, sizeof(*s));
}

static int
same_history(const nn_train_result *a, const nn_train_result *b)
{
	if (a->epochs_run != b->epochs_run)
		return 0;
	for (int e = 0; e < a->epochs_run; e++)
		if (a->history[e].loss != b->history[e].loss || a->history[e].val_loss != b->history[e].val_loss ||
			a->history[e].lr != b->history[e].lr || a->history[e].accuracy != b->history[e].accuracy)
			return 0;
	return 1;
}

static void
test_resume_from_every_epoch_gives_the_same_bits(void)
{
	ecg_status	st;
	nn_model   *straight = nn_model_create("cnn", &st),
			   *resumed = nn_model_create("cnn", &st);
	nn_train_config c = config();
	nn_dataset	train = {beats, labels, N_ROWS, NULL};
	nn_dataset	val = {beats + N_ROWS * NN_BEAT_LENGTH, labels + N_ROWS, N_VAL, NULL};
	nn_train_result r,
				r2;
	saved		ck = {0};
	nn_train_resume res = {NULL, 0, keep_checkpoint, &ck, 0};

	nn_model_init(straight, 3);
	CHECK_MSG(nn_train_run_resumable(straight, &train, &val, &c, NULL, NULL, NULL, &res, &r, &st) == 0,
			  "%s", st.message);
	/* the run this test needs: learning-rate drops and an early stop */
	CHECK_MSG(r.stopped_early && r.epochs_run < MAX_EPOCHS, "ran %d epochs", r.epochs_run);
	CHECK_MSG(r.final_lr < c.learning_rate / 2, "final lr %g", r.final_lr);
	CHECK(r.best_epoch < r.epochs_run);
	CHECK(ck.count == r.epochs_run && res.resumed_epochs == 0);

	for (int k = 1; k <= r.epochs_run; k++)
	{
		saved		later = {0};
		nn_train_resume from = {ck.bytes[k], ck.len[k], keep_checkpoint, &later, 0};

		nn_model_init(resumed, 3);
		CHECK_MSG(nn_train_run_resumable(resumed, &train, &val, &c, NULL, NULL, NULL, &from, &r2, &st) == 0,
				  "epoch %d: %s", k, st.message);
		CHECK(from.resumed_epochs == k);
		CHECK_MSG(memcmp(straight->params, resumed->params, straight->n_params * sizeof(float)) == 0 &&
				  memcmp(straight->state, resumed->state, straight->n_state * sizeof(float)) == 0,
				  "weights differ after resuming from epoch %d", k);
		CHECK_MSG(same_history(&r, &r2), "history differs after resuming from epoch %d", k);
		CHECK(r2.best_epoch == r.best_epoch && r2.stopped_early == r.stopped_early &&
			  r2.final_lr == r.final_lr && r2.best_monitor == r.best_monitor);
		/* the resumed run goes on checkpointing the epochs it runs */
		CHECK(later.count == r.epochs_run - k);
		nn_train_result_release(&r2);
		free_saved(&later);
	}
	nn_train_result_release(&r);
	free_saved(&ck);
	nn_model_free(straight);
	nn_model_free(resumed);
}

/* Interrupted (the epoch callback stops it, as a cancel does) after epoch 3,
 * then resumed from that checkpoint with fresh memory: same bits as a run of
 * all epochs. */
static void
test_interrupted_run_resumes(void)
{
	ecg_status	st;
	nn_model   *a = nn_model_create("baseline", &st),
			   *b = nn_model_create("baseline", &st);
	nn_train_config c = config();
	nn_dataset	train = {beats, labels, N_ROWS, NULL};
	nn_train_result r,
				r2;
	saved		ck = {0};
	nn_train_resume save = {NULL, 0, keep_checkpoint, &ck, 0};
	int			stop = 3;

	c.epochs = 8;
	c.patience = 0;
	nn_model_init(a, 9);
	CHECK(nn_train_run(a, &train, NULL, &c, NULL, NULL, NULL, &r, &st) == 0);
	CHECK(r.epochs_run == 8);

	nn_model_init(b, 9);
	CHECK(nn_train_run_resumable(b, &train, NULL, &c, NULL, stop_after, &stop, &save, &r2, &st) == 0);
	CHECK(r2.stopped_by_callback && r2.epochs_run == 3 && ck.count == 3);
	nn_train_result_release(&r2);
	{
		nn_model   *fresh = nn_model_create("baseline", &st);
		nn_train_resume from = {ck.bytes[3], ck.len[3], NULL, NULL, 0};

		nn_model_init(fresh, 9);
		CHECK(nn_train_run_resumable(fresh, &train, NULL, &c, NULL, NULL, NULL, &from, &r2, &st) == 0);
		CHECK(memcmp(a->params, fresh->params, a->n_params * sizeof(float)) == 0);
		CHECK(memcmp(a->state, fresh->state, a->n_state * sizeof(float)) == 0);
		CHECK(same_history(&r, &r2) && r2.best_epoch == r.best_epoch);
		nn_train_result_release(&r2);
		nn_model_free(fresh);
	}
	nn_train_result_release(&r);
	free_saved(&ck);
	nn_model_free(a);
	nn_model_free(b);
}

static int
resume_status(nn_model *m, const nn_dataset *train, const nn_train_config *c, const uint8_t *bytes,
			  size_t len, ecg_status *st)
{
	nn_train_result r;
	nn_train_resume from = {bytes, len, NULL, NULL, 0};
	int			rc;

	nn_model_init(m, 9);
	rc = nn_train_run_resumable(m, train, NULL, c, NULL, NULL, NULL, &from, &r, st);
	if (rc == 0)
		nn_train_result_release(&r);
	return rc;
}

/* Damaged bytes (any flipped bit, a cut) and checkpoints of another training
 * (seed, settings, data, architecture) are refused. */
static void
test_refuses_bad_checkpoints(void)
{
	ecg_status	st;
	nn_model   *m = nn_model_create("baseline", &st);
	nn_train_config c = config();
	nn_dataset	train = {beats, labels, N_ROWS, NULL};
	nn_train_result r;
	saved		ck = {0};
	nn_train_resume save = {NULL, 0, keep_checkpoint, &ck, 0};
	uint8_t    *copy;
	size_t		len;
	static float other[N_ROWS * NN_BEAT_LENGTH];

	c.epochs = 2;
	nn_model_init(m, 9);
	CHECK(nn_train_run_resumable(m, &train, NULL, &c, NULL, NULL, NULL, &save, &r, &st) == 0);
	nn_train_result_release(&r);
	len = ck.len[1];
	copy = malloc(len);

	CHECK(resume_status(m, &train, &c, ck.bytes[1], len, &st) == 0);
	/* a flipped bit anywhere: header, weights, the CRC itself */
	for (size_t at = 0; at < len; at += len / 97 + 1)
	{
		memcpy(copy, ck.bytes[1], len);
		copy[at] ^= 0x10;
		CHECK_MSG(resume_status(m, &train, &c, copy, len, &st) != 0 && st.kind == ECG_ERR_FORMAT,
				  "flipped byte %zu accepted", at);
	}
	memcpy(copy, ck.bytes[1], len);
	copy[len - 1] ^= 1;
	CHECK(resume_status(m, &train, &c, copy, len, &st) != 0 && st.kind == ECG_ERR_FORMAT);
	CHECK(resume_status(m, &train, &c, ck.bytes[1], len - 5, &st) != 0 && st.kind == ECG_ERR_FORMAT);
	CHECK(resume_status(m, &train, &c, ck.bytes[1], 10, &st) != 0 && st.kind == ECG_ERR_FORMAT);

	/* another seed, batch size, data or architecture */
	{
		nn_train_config c2 = c;

		c2.seed = 8;
		CHECK(resume_status(m, &train, &c2, ck.bytes[1], len, &st) != 0 && st.kind == ECG_ERR_ARGUMENT);
		c2 = c;
		c2.batch_size = 64;
		CHECK(resume_status(m, &train, &c2, ck.bytes[1], len, &st) != 0 && st.kind == ECG_ERR_ARGUMENT);
	}
	{
		nn_dataset	changed = {other, labels, N_ROWS, NULL};

		memcpy(other, beats, sizeof(other));
		other[12345] += 0.25f;
		CHECK(resume_status(m, &changed, &c, ck.bytes[1], len, &st) != 0 && st.kind == ECG_ERR_ARGUMENT);
	}
	{
		nn_model   *cnn = nn_model_create("cnn", &st);

		CHECK(resume_status(cnn, &train, &c, ck.bytes[1], len, &st) != 0 && st.kind == ECG_ERR_ARGUMENT);
		nn_model_free(cnn);
	}
	free(copy);
	free_saved(&ck);
	nn_model_free(m);
}

int
main(void)
{
	make_data();
	RUN_TEST(test_resume_from_every_epoch_gives_the_same_bits);
	RUN_TEST(test_interrupted_run_resumes);
	RUN_TEST(test_refuses_bad_checkpoints);
	UNIT_EXIT();
}
