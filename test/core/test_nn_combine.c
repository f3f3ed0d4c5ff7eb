/*
 * Unit tests for the product of experts (src/core/nn_combine.c): the sum
 * model's logits are the members' logits at their operating points added,
 * row by row;
 * its parameters, batch-norm statistics and feature standardisation are the
 * members'; what cannot be summed is refused with the reason.
 */
#include <string.h>

#include "unit.h"
#include "nn_combine.h"
#include "nn_model.h"

#define ROWS 37

static nn_model *
made(const char *arch, uint64_t seed)
{
	ecg_status	st;
	nn_model   *m = nn_model_create(arch, &st);

	if (m != NULL)
		nn_model_init(m, seed);
	return m;
}

/* logits[ROWS][n_classes] of m on beats/features */
static void
logits_of(nn_model *m, const float *beats, const float *features, float *logits)
{
	ecg_status	st;
	nn_workspace *ws = nn_workspace_create(m, ROWS, 0, &st);
	nn_input	in = {beats, ROWS, NN_BEAT_LENGTH, 1, m->n_features > 0 ? features : NULL};

	CHECK(ws != NULL);
	if (ws == NULL)
		return;
	CHECK(nn_workspace_load_input(m, ws, &in, NULL, ROWS, &st) == 0);
	nn_forward(m, ws, ROWS, 0, NULL, NULL);
	memcpy(logits, nn_workspace_logits(ws), sizeof(float) * ROWS * m->n_classes);
	nn_workspace_free(ws);
}

static void
test_sum_adds_logits(void)
{
	ecg_status	st;
	nn_model   *cnn = made("cnn", 7),
			   *rr = made("rr_linear", 8);
	float		beats[ROWS * NN_BEAT_LENGTH],
				features[ROWS * 8],
				a[ROWS * 5],
				b[ROWS * 5],
				s[ROWS * 5];
	uint64_t	x = 12345;

	CHECK(cnn != NULL && rr != NULL);
	if (cnn == NULL || rr == NULL)
		return;
	for (size_t i = 0; i < sizeof(beats) / sizeof(beats[0]); i++)
	{
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		beats[i] = (float) ((x >> 40) & 0xffff) / 65536.0f;
	}
	for (size_t i = 0; i < sizeof(features) / sizeof(features[0]); i++)
	{
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		features[i] = 0.4f + 1.2f * (float) ((x >> 40) & 0xffff) / 65536.0f;
	}
	/* non-trivial batch-norm statistics and feature scaling, to be copied */
	for (int t = 0; t < cnn->n_tensors; t++)
		if (!cnn->tensors[t].trainable)
			for (size_t k = 0; k < cnn->tensors[t].count; k++)
				cnn->tensors[t].data[k] = strstr(cnn->tensors[t].name, "var") ? 0.5f + 0.01f * k : 0.02f * k;
	nn_model_fit_feature_scaling(rr, features, ROWS);
	/* the cnn votes at its operating point: offsets S +1.5, V -0.5, F +0.25 */
	cnn->decision = NN_DECISION_VALIDATION;
	cnn->class_offset[1] = 1.5f;
	cnn->class_offset[2] = -0.5f;
	cnn->class_offset[3] = 0.25f;
	logits_of(cnn, beats, features, a);
	logits_of(rr, beats, features, b);
	{
		const nn_model *members[2] = {cnn, rr};
		nn_model   *sum = nn_model_sum(members, 2, "logit_sum", &st);

		CHECK_MSG(sum != NULL, "%s", st.message);
		if (sum == NULL)
			return;
		CHECK(strcmp(sum->arch.name, "logit_sum") == 0);
		CHECK(sum->arch.n_nodes == 1 + 41 + 2 + 1);
		CHECK(sum->n_params == cnn->n_params + rr->n_params);
		CHECK(sum->n_state == cnn->n_state);
		CHECK(sum->n_features == 8);
		for (int k = 0; k < 8; k++)
		{
			CHECK(sum->feature_ids[k] == rr->feature_ids[k]);
			CHECK(sum->feature_mean[k] == rr->feature_mean[k]);
			CHECK(sum->feature_sd[k] == rr->feature_sd[k]);
		}
		CHECK(sum->decision == NN_DECISION_ARGMAX);
		logits_of(sum, beats, features, s);
		for (int i = 0; i < ROWS * 5; i++)
			CHECK_CLOSE(s[i], a[i] + cnn->class_offset[i % 5] + b[i], 1e-5);
		for (int c = 0; c < 5; c++)
			CHECK(sum->class_offset[c] == 0.0f);
		/* the order of the members does not change the logits */
		{
			const nn_model *swapped[2] = {rr, cnn};
			nn_model   *sum2 = nn_model_sum(swapped, 2, "logit_sum", &st);
			float		s2[ROWS * 5];

			CHECK(sum2 != NULL);
			if (sum2 != NULL)
			{
				logits_of(sum2, beats, features, s2);
				for (int i = 0; i < ROWS * 5; i++)
					CHECK_CLOSE(s2[i], s[i], 1e-5);
				nn_model_free(sum2);
			}
		}
		nn_model_free(sum);
	}
	nn_model_free(cnn);
	nn_model_free(rr);
}

static void
test_sum_refuses_what_cannot_be_summed(void)
{
	ecg_status	st;
	nn_model   *cnn = made("cnn", 1),
			   *cnn2 = made("cnn", 2),
			   *rr = made("rr_linear", 3),
			   *rr2 = made("cnn_rr", 4),
			   *base = made("baseline", 5);
	const nn_model *one[1] = {cnn};
	const nn_model *two_features[2] = {rr, rr2};
	const nn_model *too_big[2] = {cnn, cnn2};
	const nn_model *five[5] = {base, base, base, base, base};

	CHECK(nn_model_sum(one, 1, "s", &st) == NULL && st.kind == ECG_ERR_ARGUMENT);
	CHECK(nn_model_sum(five, 5, "s", &st) == NULL && st.kind == ECG_ERR_ARGUMENT);
	CHECK(nn_model_sum(two_features, 2, "s", &st) == NULL && st.kind == ECG_ERR_ARGUMENT);
	CHECK_MSG(strstr(st.message, "both take R-R features") != NULL, "%s", st.message);
	CHECK(nn_model_sum(too_big, 2, "s", &st) == NULL && st.kind == ECG_ERR_LIMIT);
	CHECK_MSG(strstr(st.message, "nodes") != NULL, "%s", st.message);
	/* four small members fit and give their sum */
	{
		const nn_model *four[4] = {base, base, rr, base};
		nn_model   *s = nn_model_sum(four, 4, "s", &st);

		CHECK(s != NULL);
		if (s != NULL)
		{
			CHECK(s->n_params == 3 * base->n_params + rr->n_params);
			nn_model_free(s);
		}
	}
	nn_model_free(cnn);
	nn_model_free(cnn2);
	nn_model_free(rr);
	nn_model_free(rr2);
	nn_model_free(base);
}

int
main(void)
{
	RUN_TEST(test_sum_adds_logits);
	RUN_TEST(test_sum_refuses_what_cannot_be_summed);
	UNIT_EXIT();
}
