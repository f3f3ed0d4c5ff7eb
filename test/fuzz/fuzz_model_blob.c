/*
 * fuzz_model_blob.c - libFuzzer target for model_blob_decode (model_blob.h).
 *
 * The input is decoded twice: as it is (which exercises the envelope checks
 * - nearly every mutation breaks the CRC), and with its length field and
 * trailing CRC-32 rewritten to match, so that mutations reach the graph,
 * tensor table, weights and metadata checks behind the checksum.
 *
 * Decoding must either fail cleanly (a status with a message) or return a
 * model that is safe to run: one inference on an all-zero beat must then
 * give n_classes probabilities in [0, 1] summing to 1.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_blob.h"
#include "fuzz_util.h"
#include "model_blob.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static void
run_model(nn_model *model)
{
	size_t		beat_length;
	float	   *beat;
	float	   *probs;
	double		sum = 0;
	ecg_status	st;

	/* the glue feeds 187-sample beats, or input_length ones when shorter */
	beat_length = (size_t) model->input_length < NN_BEAT_LENGTH
		? (size_t) model->input_length : NN_BEAT_LENGTH;
	beat = calloc(beat_length * (size_t) model->input_channels, sizeof(float));
	probs = calloc((size_t) model->n_classes, sizeof(float));
	FUZZ_ASSERT(beat != NULL && probs != NULL);
	ecg_status_clear(&st);
	if (nn_model_predict(model, NULL, beat, beat_length, 1, probs, NULL, &st) == 0)
	{
		for (int32_t c = 0; c < model->n_classes; c++)
		{
			FUZZ_ASSERT(isfinite(probs[c]) && probs[c] >= 0.0f && probs[c] <= 1.0f);
			sum += probs[c];
		}
		FUZZ_ASSERT(fabs(sum - 1.0) < 1e-3);
	}
	else
		FUZZ_EXPECT_FAILURE(&st);
	free(beat);
	free(probs);
}

static void
decode_and_run(const uint8_t *blob, size_t size)
{
	ecg_status	st;
	char	   *metadata = NULL;
	nn_model   *model;

	ecg_status_clear(&st);
	model = model_blob_decode(blob, size, &metadata, &st);
	if (model == NULL)
	{
		FUZZ_EXPECT_FAILURE(&st);
		return;
	}
	FUZZ_ASSERT(metadata != NULL);
	FUZZ_ASSERT(strlen(metadata) < size);
	FUZZ_ASSERT(model->n_classes >= 1 && model->input_length >= 1 && model->input_channels >= 1);
	run_model(model);
	ecg_free(metadata);
	nn_model_free(model);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t    *fixed;

	decode_and_run(data, size);
	if (size < FUZZ_BLOB_MIN_BYTES || size > UINT32_MAX)
		return 0;
	fixed = malloc(size);
	FUZZ_ASSERT(fixed != NULL);
	memcpy(fixed, data, size);
	fuzz_blob_fix_envelope(fixed, size);
	decode_and_run(fixed, size);
	free(fixed);
	return 0;
}
