/*
 * Unit tests for the product of experts (src/core/nn_combine.c): the sum
 * model's logits are the members' logits at their operating points added,
 * row by row;
 * its parameters, batch-norm statistics and feature standardisation are the
 * members'; weights scale each member's logits (offsets included, through
 * nested sums); what cannot be summed or weighted is refused with the reason.
 */
#include <math.h>
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

/* deterministic pseudo-random beats in [0, 1) and features in [0.4, 1.6) */
static void
fill_inputs(float *beats, size_t n_beats, float *features, size_t n_features)
{
	uint64_t	x = 12345;

	for (size_t i = 0; i < n_beats; i++)
	{
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		beats[i] = (float) ((x >> 40) & 0xffff) / 65536.0f;
	}
	for (size_t i = 0; i < n_features; i++)
	{
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		features[i] = 0.4f + 1.2f * (float) ((x >> 40) & 0xffff) / 65536.0f;
	}
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

	CHECK(cnn != NULL && rr != NULL);
	if (cnn == NULL || rr == NULL)
		return;
	fill_inputs(beats, ROWS * NN_BEAT_LENGTH, features, ROWS * 8);
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
		nn_model   *sum = nn_model_sum(members, NULL, 2, "logit_sum", &st);

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
			nn_model   *sum2 = nn_model_sum(swapped, NULL, 2, "logit_sum", &st);
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

/*
 * Weights scale each member's logits, offsets included: an ensemble of two
 * cnns weighted 1/2 each beside rr_linear, and a weighted sum of which one
 * member is itself a sum (every dense layer its sums end in is scaled once).
 */
static void
test_weighted_sum(void)
{
	ecg_status	st;
	nn_model   *cnn = made("cnn", 11),
			   *cnn2 = made("cnn", 12),
			   *rr = made("rr_linear", 13),
			   *base = made("baseline", 14);
	float		beats[ROWS * NN_BEAT_LENGTH],
				features[ROWS * 8],
				a[ROWS * 5],
				a2[ROWS * 5],
				b[ROWS * 5],
				z[ROWS * 5],
				s[ROWS * 5];

	CHECK(cnn != NULL && cnn2 != NULL && rr != NULL && base != NULL);
	if (cnn == NULL || cnn2 == NULL || rr == NULL || base == NULL)
		return;
	fill_inputs(beats, ROWS * NN_BEAT_LENGTH, features, ROWS * 8);
	nn_model_fit_feature_scaling(rr, features, ROWS);
	cnn2->decision = NN_DECISION_VALIDATION;
	cnn2->class_offset[1] = 2.0f;
	cnn2->class_offset[4] = -1.0f;
	logits_of(cnn, beats, features, a);
	logits_of(cnn2, beats, features, a2);
	logits_of(rr, beats, features, b);
	logits_of(base, beats, features, z);
	{
		const nn_model *members[3] = {cnn, cnn2, rr};
		const float w[3] = {0.5f, 0.5f, 1.0f};
		nn_model   *sum = nn_model_sum(members, w, 3, "logit_sum", &st);

		CHECK_MSG(sum != NULL, "%s", st.message);
		if (sum == NULL)
			return;
		CHECK(sum->arch.n_nodes == 1 + 2 * 41 + 2 + 2);
		CHECK(sum->n_params == cnn->n_params + cnn2->n_params + rr->n_params);
		logits_of(sum, beats, features, s);
		for (int i = 0; i < ROWS * 5; i++)
			CHECK_CLOSE(s[i], 0.5f * a[i] + 0.5f * (a2[i] + cnn2->class_offset[i % 5]) + b[i], 1e-4);
		/* the sum weighted 2 beside a baseline weighted 0.25 */
		{
			const nn_model *outer[2] = {sum, base};
			const float w2[2] = {2.0f, 0.25f};
			nn_model   *nested = nn_model_sum(outer, w2, 2, "logit_sum", &st);

			CHECK_MSG(nested != NULL, "%s", st.message);
			if (nested != NULL)
			{
				float		t[ROWS * 5];

				logits_of(nested, beats, features, t);
				for (int i = 0; i < ROWS * 5; i++)
					CHECK_CLOSE(t[i], 2.0f * s[i] + 0.25f * z[i], 1e-4);
				nn_model_free(nested);
			}
		}
		/* the members themselves are not changed */
		{
			float		again[ROWS * 5];

			logits_of(cnn, beats, features, again);
			for (int i = 0; i < ROWS * 5; i++)
				CHECK(again[i] == a[i]);
		}
		nn_model_free(sum);
	}
	nn_model_free(cnn);
	nn_model_free(cnn2);
	nn_model_free(rr);
	nn_model_free(base);
}

static void
test_sum_refuses_what_cannot_be_summed(void)
{
	ecg_status	st;
	nn_model   *cnn = made("cnn", 1),
			   *rr = made("rr_linear", 3),
			   *rr2 = made("cnn_rr", 4),
			   *base = made("baseline", 5);
	const nn_model *one[1] = {cnn};
	const nn_model *two_features[2] = {rr, rr2};
	const nn_model *too_big[7] = {cnn, cnn, cnn, cnn, cnn, cnn, cnn};
	const nn_model *nine[9] = {base, base, base, base, base, base, base, base, base};
	const nn_model *pair[2] = {base, rr};
	nn_arch		relu_last;
	nn_model   *relu_model;

	CHECK(nn_model_sum(one, NULL, 1, "s", &st) == NULL && st.kind == ECG_ERR_ARGUMENT);
	CHECK(nn_model_sum(nine, NULL, 9, "s", &st) == NULL && st.kind == ECG_ERR_ARGUMENT);
	CHECK(nn_model_sum(two_features, NULL, 2, "s", &st) == NULL && st.kind == ECG_ERR_ARGUMENT);
	CHECK_MSG(strstr(st.message, "both take R-R features") != NULL, "%s", st.message);
	/* seven cnns: 1 + 7 x 41 + 6 nodes */
	CHECK(nn_model_sum(too_big, NULL, 7, "s", &st) == NULL && st.kind == ECG_ERR_LIMIT);
	CHECK_MSG(strstr(st.message, "294 nodes") != NULL, "%s", st.message);
	/* six fit */
	{
		nn_model   *s = nn_model_sum(too_big, NULL, 6, "s", &st);

		CHECK_MSG(s != NULL, "%s", st.message);
		if (s != NULL)
		{
			CHECK(s->arch.n_nodes == 1 + 6 * 41 + 5);
			nn_model_free(s);
		}
	}
	/* weights: above 0, at most NN_COMBINE_MAX_WEIGHT, finite */
	{
		const float bad[][2] = {{0.0f, 1.0f}, {1.0f, -0.5f}, {1.0f, 101.0f},
		{1.0f, NAN}, {INFINITY, 1.0f}};

		for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++)
		{
			CHECK(nn_model_sum(pair, bad[k], 2, "s", &st) == NULL && st.kind == ECG_ERR_ARGUMENT);
			CHECK_MSG(strstr(st.message, "weight of model") != NULL, "%s", st.message);
		}
	}
	/* a member whose scores end in a relu takes weight 1, no other */
	memset(&relu_last, 0, sizeof(relu_last));
	strcpy(relu_last.name, "relu_last");
	relu_last.n_nodes = 4;
	relu_last.nodes[0] = (nn_node) {NN_OP_INPUT, {-1, -1}, 1, base->input_length, 0.0f};
	relu_last.nodes[1] = (nn_node) {NN_OP_FLATTEN, {0, -1}, 0, 0, 0.0f};
	relu_last.nodes[2] = (nn_node) {NN_OP_DENSE, {1, -1}, 5, 0, 0.0f};
	relu_last.nodes[3] = (nn_node) {NN_OP_RELU, {2, -1}, 0, 0, 0.0f};
	relu_model = nn_model_create_from_arch(&relu_last, &st);
	CHECK_MSG(relu_model != NULL, "%s", st.message);
	if (relu_model != NULL)
	{
		const nn_model *with_relu[2] = {relu_model, base};
		const float ones[2] = {1.0f, 1.0f},
					two[2] = {2.0f, 1.0f};
		nn_model   *s = nn_model_sum(with_relu, ones, 2, "s", &st);

		CHECK_MSG(s != NULL, "%s", st.message);
		nn_model_free(s);
		CHECK(nn_model_sum(with_relu, two, 2, "s", &st) == NULL && st.kind == ECG_ERR_ARGUMENT);
		CHECK_MSG(strstr(st.message, "relu") != NULL, "%s", st.message);
		nn_model_free(relu_model);
	}
	/* nor one whose summed dense layer is read by another layer too */
	relu_last.n_nodes = 5;
	relu_last.nodes[3] = (nn_node) {NN_OP_DENSE, {2, -1}, 5, 0, 0.0f};
	relu_last.nodes[4] = (nn_node) {NN_OP_ADD, {2, 3}, 0, 0, 0.0f};
	relu_model = nn_model_create_from_arch(&relu_last, &st);
	CHECK_MSG(relu_model != NULL, "%s", st.message);
	if (relu_model != NULL)
	{
		const nn_model *shared[2] = {relu_model, base};
		const float two[2] = {2.0f, 1.0f};

		CHECK(nn_model_sum(shared, two, 2, "s", &st) == NULL && st.kind == ECG_ERR_ARGUMENT);
		CHECK_MSG(strstr(st.message, "read by 2 layers") != NULL, "%s", st.message);
		nn_model_free(relu_model);
	}
	/* eight small members fit and give their sum */
	{
		const nn_model *eight[8] = {base, base, rr, base, base, base, base, base};
		nn_model   *s = nn_model_sum(eight, NULL, 8, "s", &st);

		CHECK(s != NULL);
		if (s != NULL)
		{
			CHECK(s->n_params == 7 * base->n_params + rr->n_params);
			nn_model_free(s);
		}
	}
	nn_model_free(cnn);
	nn_model_free(rr);
	nn_model_free(rr2);
	nn_model_free(base);
}

int
main(void)
{
	RUN_TEST(test_sum_adds_logits);
	RUN_TEST(test_weighted_sum);
	RUN_TEST(test_sum_refuses_what_cannot_be_summed);
	UNIT_EXIT();
}
