/*
 * fuzz_model_run.c - libFuzzer target for decode-then-run: a model blob is
 * decoded (model_blob_decode) and, when it decodes, RUN the way the server's
 * classification functions run it (src/classify.c).  Issue 10 found a blob
 * with a valid checksum that decoded and then crashed the server when run:
 * decoding alone is not the whole attack surface.
 *
 * The blob's length field and trailing CRC-32 are rewritten to match the
 * input first, so that mutations reach the graph, the tensor table and the
 * weights behind the checksum (fuzz_model_blob also decodes the input as it
 * is, which exercises the envelope checks).
 *
 * A decoded model must have the shape the server feeds and reads (200 x 1 in,
 * 5 classes out, a bounded workspace), and then runs on deterministic beats
 * held in buffers of exactly the size the server supplies:
 *  - per row, like ecg_classify / ecg_predict_proba: each of 5 beats of 187
 *    samples, and one of the input length (200), in a workspace of one row;
 *  - in a batch, like ecg_classify_table / ecg_evaluate: 5 beats of 187
 *    samples through a 2-row workspace (chunks of 2, 2, 1) on a 2-thread pool,
 *    and through the default workspace single-threaded.
 * (Results may differ between batch sizes in the last bits - BLAS blocking -
 * and arbitrary weights can magnify that, so they are not compared here;
 * test_nn_model.c does for real models.)
 * A model that takes R-R features (format version 2) gets them too, in a
 * buffer of exactly n_features floats per beat, as the server reads them.
 * Every run must give 5 probabilities in [0, 1] summing to 1, or fail
 * cleanly (activations overflowing float are ECG_ERR_DATA).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_blob.h"
#include "fuzz_util.h"
#include "model_blob.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BATCH_BEATS 5

static nn_pool *pool;			/* two threads, kept for the whole run */

/* Beat `row`: a wave of its own frequency, in the range of normalised beats. */
static void
fill_beat(float *beat, size_t length, int row)
{
	for (size_t i = 0; i < length; i++)
		beat[i] = 0.5f + 0.4f * sinf(0.05f * (float) (row + 1) * (float) i);
}

/* Every probability of `rows` beats is in [0, 1], each row sums to 1. */
static void
check_probs(const float *probs, size_t rows)
{
	for (size_t r = 0; r < rows; r++)
	{
		double		sum = 0;

		for (int c = 0; c < NN_N_CLASSES; c++)
		{
			float		p = probs[r * NN_N_CLASSES + (size_t) c];

			FUZZ_ASSERT(isfinite(p) && p >= 0.0f && p <= 1.0f);
			sum += p;
		}
		FUZZ_ASSERT(fabs(sum - 1.0) < 1e-3);
	}
}

/*
 * Runs predict: valid probabilities, or a clean failure that is a non-finite
 * result - any other failure is a defect (the decoder accepted a model the
 * server cannot run).
 */
static void
predict(nn_model *model, nn_workspace *ws, const float *beats, size_t length, size_t n,
		float *probs, nn_pool *p)
{
	ecg_status	st;
	float	   *features = NULL;
	nn_input	in = {beats, n, length, 1, NULL};
	int			rc;

	if (model->n_features > 0)
	{
		features = malloc(sizeof(float) * n * (size_t) model->n_features);
		FUZZ_ASSERT(features != NULL);
		for (size_t i = 0; i < n * (size_t) model->n_features; i++)
			features[i] = 0.6f + 0.05f * (float) (i % 9);
		in.features = features;
	}
	ecg_status_clear(&st);
	rc = nn_model_predict_input(model, ws, &in, probs, p, &st);
	free(features);
	if (rc != 0)
	{
		FUZZ_EXPECT_FAILURE(&st);
		FUZZ_ASSERT(st.kind == ECG_ERR_DATA);
		return;
	}
	check_probs(probs, n);
}

static void
run_model(nn_model *model)
{
	ecg_status	st;
	nn_workspace *row_ws,
			   *small_ws;
	/* exact-size heap buffers: ASan reports any read beyond them */
	float	   *beat = malloc(sizeof(float) * NN_BEAT_LENGTH);
	float	   *full = malloc(sizeof(float) * NN_INPUT_LENGTH);
	float	   *batch = malloc(sizeof(float) * NN_BEAT_LENGTH * BATCH_BEATS);
	float		probs[BATCH_BEATS * NN_N_CLASSES];

	FUZZ_ASSERT(beat != NULL && full != NULL && batch != NULL);
	for (int r = 0; r < BATCH_BEATS; r++)
		fill_beat(batch + (size_t) r * NN_BEAT_LENGTH, NN_BEAT_LENGTH, r);
	fill_beat(full, NN_INPUT_LENGTH, 0);

	/* per row, in the one-row workspace a cached model keeps */
	ecg_status_clear(&st);
	row_ws = nn_workspace_create(model, 1, 0, &st);
	FUZZ_ASSERT(row_ws != NULL);
	for (int r = 0; r < BATCH_BEATS; r++)
	{
		memcpy(beat, batch + (size_t) r * NN_BEAT_LENGTH, sizeof(float) * NN_BEAT_LENGTH);
		predict(model, row_ws, beat, NN_BEAT_LENGTH, 1, probs, NULL);
	}
	predict(model, row_ws, full, NN_INPUT_LENGTH, 1, probs, NULL);
	nn_workspace_free(row_ws);

	/* in a batch: chunks of 2 rows on the thread pool, then the default
	 * workspace single-threaded */
	small_ws = nn_workspace_create(model, 2, 0, &st);
	FUZZ_ASSERT(small_ws != NULL);
	predict(model, small_ws, batch, NN_BEAT_LENGTH, BATCH_BEATS, probs, pool);
	nn_workspace_free(small_ws);
	predict(model, NULL, batch, NN_BEAT_LENGTH, BATCH_BEATS, probs, NULL);

	free(beat);
	free(full);
	free(batch);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t    *blob;
	ecg_status	st;
	nn_model   *model;

	if (size < FUZZ_BLOB_MIN_BYTES || size > UINT32_MAX)
		return 0;
	if (pool == NULL)
	{
		pool = nn_pool_create(2, &st);
		FUZZ_ASSERT(pool != NULL);
	}
	blob = malloc(size);
	FUZZ_ASSERT(blob != NULL);
	memcpy(blob, data, size);
	fuzz_blob_fix_envelope(blob, size);

	ecg_status_clear(&st);
	model = model_blob_decode(blob, size, NULL, &st);
	if (model == NULL)
		FUZZ_EXPECT_FAILURE(&st);
	else
	{
		FUZZ_ASSERT(model->input_length == NN_INPUT_LENGTH && model->input_channels == 1 &&
					model->n_classes == NN_N_CLASSES);
		FUZZ_ASSERT(nn_workspace_bytes(model, NN_INFERENCE_BATCH, 0) <= MODEL_BLOB_MAX_WORKSPACE);
		FUZZ_ASSERT(nn_model_inference_bytes(model) != 0);
		run_model(model);
		nn_model_free(model);
	}
	free(blob);
	return 0;
}
