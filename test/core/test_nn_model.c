/*
 * Unit tests for the model graph (src/core/nn_model.c, nn_model_exec.c):
 * built-in architectures, validation, Keras-like initialisation, one training
 * step of both models against PyTorch (test/ref/model_refs.bin, made by
 * test/ref/gen_model_refs.py), a finite-difference gradient check of a small
 * graph using every operation, inference in chunks, thread independence.
 */
#include <float.h>
#include <stdint.h>
#include <string.h>

#include "unit.h"
#include "nn_adam.h"
#include "nn_model.h"

#define MODEL_REFS_FILE "model_refs.bin"
#include "model_refs.h"

/*
 * Every path from a conv bias of a cnn or of rr_net to the loss passes a
 * per-channel batch norm,
 * which removes any per-channel constant: the gradient is 0 in exact
 * arithmetic (and ~1e-8 noise in float32, on both sides).
 */
static int
is_zero_gradient(const char *arch, const nn_tensor *t)
{
	return (strncmp(arch, "cnn", 3) == 0 || strcmp(arch, "rr_net") == 0) &&
		strncmp(t->name, "conv1d_", 7) == 0 &&
		strstr(t->name, ".bias") != NULL;
}

/* One step against PyTorch ----------------------------------------------------------- */

static void
check_one_step(const char *arch)
{
	char		name[160];
	const ref_record *rx,
			   *rl,
			   *rw,
			   *rloss,
			   *rprobs,
			   *rinfer,
			   *rf;
	nn_model   *m = model_without_dropout(arch);
	const float *features = NULL;

	/*
	 * cnn_rr's conv gradients are about 100 times smaller than cnn's (the
	 * loss leans on the R-R branch) and come out of batch-norm backward
	 * passes as small differences of large sums: measured against a float64
	 * PyTorch run, both PyTorch's float32 values and ours are off by up to
	 * ~8e-4 relative on a few elements, so they are compared at 2e-3.
	 */
	double		grad_tol = strcmp(arch, "cnn_rr") == 0 ? 2e-3 : 1e-4;
	nn_workspace *ws;
	ecg_status	st;
	nn_adam		adam;
	int			labels[8];
	double		loss;
	int			bad;
	float		probs[8 * 5];

	snprintf(name, sizeof(name), "%s/x", arch);
	rx = find_ref(name);
	snprintf(name, sizeof(name), "%s/labels", arch);
	rl = find_ref(name);
	snprintf(name, sizeof(name), "%s/weights", arch);
	rw = find_ref(name);
	snprintf(name, sizeof(name), "%s/loss", arch);
	rloss = find_ref(name);
	snprintf(name, sizeof(name), "%s/probs", arch);
	rprobs = find_ref(name);
	snprintf(name, sizeof(name), "%s/probs_infer", arch);
	rinfer = find_ref(name);
	CHECK_MSG(rx && rl && rw && rloss && rprobs && rinfer, "reference records for %s missing", arch);
	CHECK(m != NULL);
	if (!(rx && rl && rw && rloss && rprobs && rinfer && m))
	{
		nn_model_free(m);
		return;
	}
	CHECK(rx->count == 8 * NN_BEAT_LENGTH && rl->count == 8);
	set_reference_params(m);
	for (int i = 0; i < 8; i++)
		labels[i] = (int) rl->values[i];
	snprintf(name, sizeof(name), "%s/features", arch);
	rf = find_ref(name);
	CHECK_MSG((rf != NULL) == (m->n_features > 0), "%s: features record and model disagree", arch);
	if (rf != NULL && m->n_features == 8 && rf->count == 8 * 8)
	{
		/* the standardisation of gen_model_refs.py (FEATURE_MEAN, FEATURE_SD) */
		for (int k = 0; k < 8; k++)
		{
			m->feature_mean[k] = 0.5f + (float) k / 8;
			m->feature_sd[k] = 0.25f * (float) (1 << (k % 3));
		}
		features = rf->values;
	}

	ws = nn_workspace_create(m, 8, 1, &st);
	CHECK(ws != NULL);
	if (ws == NULL)
	{
		nn_model_free(m);
		return;
	}
	{
		nn_input	in = {rx->values, 8, NN_BEAT_LENGTH, 1, features};

		CHECK(nn_workspace_load_input(m, ws, &in, NULL, 8, &st) == 0);
	}
	loss = nn_forward_loss(m, ws, 8, 1, NULL, labels, rw->values, NULL, NULL);
	CHECK_MSG(close_rel(loss, rloss->values[0], 1e-4, 1e-6), "%s loss %.9g, reference %.9g", arch,
			  loss, (double) rloss->values[0]);
	bad = compare_array("probs", nn_workspace_probs(ws), rprobs, 1e-4);
	CHECK_MSG(bad == 0, "%s: %d training-mode probabilities differ", arch, bad);

	nn_backward(m, ws, labels, rw->values, 8, NULL);
	for (int i = 0; i < m->n_tensors; i++)
	{
		nn_tensor  *t = &m->tensors[i];
		const ref_record *rg;

		if (!t->trainable)
			continue;
		snprintf(name, sizeof(name), "%s/grad/%s", arch, t->name);
		rg = find_ref(name);
		CHECK_MSG(rg != NULL, "no reference %s", name);
		if (rg == NULL)
			continue;
		CHECK_MSG((size_t) rg->count == (t->count + rg->stride - 1) / rg->stride, "%s size", name);
		if (is_zero_gradient(arch, t))
		{
			/* zero in exact arithmetic: both sides hold rounding noise */
			CHECK_MSG(max_abs(t->grad, t->count, 1) < 1e-6 && max_abs(rg->values, rg->count, 1) < 1e-6,
					  "%s should have a ~0 gradient", t->name);
			memset(t->grad, 0, t->count * sizeof(float));	/* as the reference step does */
			continue;
		}
		bad = compare_array(name, t->grad, rg, grad_tol);
		CHECK_MSG(bad == 0, "%d of %u gradient values of %s differ", bad, rg->count, t->name);
	}

	/* Adam step.  A gradient below ~1e-5 is dominated by rounding, and Adam's
	 * first step is ~lr * sign(g): such parameters are compared at scale lr */
	CHECK(nn_adam_init(&adam, m->n_params, 1e-3, &st) == 0);
	nn_adam_step(&adam, m->params, m->grads);
	for (int i = 0; i < m->n_tensors; i++)
	{
		nn_tensor  *t = &m->tensors[i];
		const ref_record *ra,
				   *rg;

		snprintf(name, sizeof(name), "%s/after/%s", arch, t->name);
		ra = find_ref(name);
		snprintf(name, sizeof(name), "%s/grad/%s", arch, t->name);
		rg = t->trainable ? find_ref(name) : NULL;
		CHECK_MSG(ra != NULL, "no reference %s/after/%s", arch, t->name);
		if (ra == NULL)
			continue;
		bad = 0;
		for (uint32_t k = 0; k < ra->count; k++)
		{
			size_t		at = (size_t) k * ra->stride;
			double		g = rg ? fabs(rg->values[k]) : 1;
			double		tol = (rg && g < 1e-5) ? 2.1e-3 : 1e-4 * (fabs(ra->values[k]) > 1e-2 ? fabs(ra->values[k]) : 1e-2);

			if (fabs(t->data[at] - ra->values[k]) > tol)
			{
				if (bad < 5)
					fprintf(stderr, "  %s after[%zu] = %.9g, reference %.9g\n", t->name, at,
							(double) t->data[at], (double) ra->values[k]);
				bad++;
			}
		}
		CHECK_MSG(bad == 0, "%d values of %s after the step differ", bad, t->name);
	}
	nn_adam_release(&adam);

	/* inference with the updated parameters and moving statistics */
	{
		nn_input	in = {rx->values, 8, NN_BEAT_LENGTH, 1, features};

		CHECK(nn_model_predict_input(m, NULL, &in, probs, NULL, &st) == 0);
	}
	{
		ref_record	r = *rinfer;

		bad = compare_array("probs_infer", probs, &r, 1e-4);
		CHECK_MSG(bad == 0, "%s: %d inference probabilities differ", arch, bad);
	}
	nn_workspace_free(ws);
	nn_model_free(m);
}

static void
test_baseline_step_matches_torch(void)
{
	check_one_step("baseline");
}

static void
test_cnn_step_matches_torch(void)
{
	check_one_step("cnn");
}

static void
test_cnn_wide_step_matches_torch(void)
{
	check_one_step("cnn_wide");
}

static void
test_baseline_rr_step_matches_torch(void)
{
	check_one_step("baseline_rr");
}

static void
test_rr_linear_step_matches_torch(void)
{
	check_one_step("rr_linear");
}

static void
test_cnn_rr_step_matches_torch(void)
{
	check_one_step("cnn_rr");
}

static void
test_rr_net_step_matches_torch(void)
{
	check_one_step("rr_net");
}

/* Architectures --------------------------------------------------------------------- */

static void
test_builtin_architectures(void)
{
	ecg_status	st;
	nn_model   *b = nn_model_create("baseline", &st);
	nn_model   *c = nn_model_create("cnn", &st);

	CHECK(b != NULL && c != NULL);
	if (b == NULL || c == NULL)
		return;
	/* Dense(200->128) + Dense(128->5) */
	CHECK(b->n_params == 200 * 128 + 128 + 128 * 5 + 5);
	CHECK(b->n_state == 0);
	/* 9 convs (first 1->16), 9 batch norms, Dense(1600->5) */
	CHECK(c->n_params == (4 * 1 * 16 + 16) + 8 * (4 * 16 * 16 + 16) + 9 * 2 * 16 + 1600 * 5 + 5);
	CHECK(c->n_state == 9 * 2 * 16);
	CHECK(c->n_classes == 5 && c->input_length == 200 && c->input_channels == 1);
	CHECK(c->length[c->arch.n_nodes - 2] == 1 && c->channels[c->arch.n_nodes - 2] == 1600);
	CHECK(nn_model_find_tensor(c, "conv1d_1.kernel") != NULL);
	CHECK(nn_model_find_tensor(c, "conv1d_1.kernel")->dims[1] == 1);
	CHECK(nn_model_find_tensor(c, "dense_41.kernel") != NULL);
	CHECK(nn_model_find_tensor(c, "batchnorm_38.moving_var") != NULL);
	CHECK(nn_model_find_tensor(c, "nonsense") == NULL);
	nn_model_free(b);
	nn_model_free(c);

	/* the same graph with 32 filters: Dense(3200->5) */
	c = nn_model_create("cnn_wide", &st);
	CHECK(c != NULL);
	if (c != NULL)
	{
		CHECK(c->n_params == (4 * 1 * 32 + 32) + 8 * (4 * 32 * 32 + 32) + 9 * 2 * 32 + 3200 * 5 + 5);
		CHECK(c->n_state == 9 * 2 * 32);
		CHECK(c->arch.n_nodes == 42);
		nn_model_free(c);
	}

	/* rr_net: 3 convs (1->8, 8->8, 8->8) with batch norms, Dense(200->16),
	 * Dense(8->16) on the features, Dense(32->32), Dense(32->5) */
	c = nn_model_create("rr_net", &st);
	CHECK(c != NULL);
	if (c != NULL)
	{
		CHECK(c->n_params == (4 * 1 * 8 + 8) + 2 * (4 * 8 * 8 + 8) + 3 * 2 * 8 + (200 * 16 + 16) +
			  (8 * 16 + 16) + (32 * 32 + 32) + (32 * 5 + 5));
		CHECK(c->n_params == 5197);
		CHECK(c->n_state == 3 * 2 * 8);
		CHECK(c->n_features == 8);
		CHECK(c->arch.n_nodes == 25);
		nn_model_free(c);
	}

	/* rr_linear: Dense(8->5) on the features; the beat input has no reader */
	c = nn_model_create("rr_linear", &st);
	CHECK(c != NULL);
	if (c != NULL)
	{
		CHECK(c->n_params == 8 * 5 + 5);
		CHECK(c->n_state == 0);
		CHECK(c->n_features == 8);
		CHECK(c->arch.n_nodes == 3);
		CHECK(c->n_consumers[0] == 0);
		nn_model_free(c);
	}

	CHECK(nn_model_create("resnet", &st) == NULL);
	CHECK(st.kind == ECG_ERR_ARGUMENT);
	CHECK_MSG(strstr(st.detail, "baseline") && strstr(st.detail, "cnn") && strstr(st.detail, "cnn_wide"),
			  "detail: %s", st.detail);
}

static void
test_describe(void)
{
	nn_arch		arch;
	ecg_status	st;
	char		buf[4096];
	size_t		need;

	CHECK(nn_arch_builtin("cnn", &arch, &st) == 0);
	need = nn_arch_describe(&arch, buf, sizeof(buf));
	CHECK(need < sizeof(buf) && strlen(buf) == need);
	CHECK(strstr(buf, "1 conv1d <- 0 filters=16 kernel=4  [200 x 16]") != NULL);
	CHECK(strstr(buf, "maxpool <- 18 pool=2  [100 x 16]") != NULL);
	CHECK(strstr(buf, "40 flatten <- 39  [1 x 1600]") != NULL);
	/* truncation is safe and reports the full length */
	CHECK(nn_arch_describe(&arch, buf, 10) == need && strlen(buf) == 9);
}

static void
expect_invalid(nn_arch *a, const char *fragment)
{
	ecg_status	st;

	ecg_status_clear(&st);
	CHECK_MSG(nn_arch_validate(a, &st) != 0, "accepted a graph that should fail with \"%s\"", fragment);
	CHECK(st.kind == ECG_ERR_FORMAT);
	CHECK_MSG(strstr(st.message, fragment) != NULL, "message \"%s\" lacks \"%s\"", st.message, fragment);
}

static void
test_validation_rejects_bad_graphs(void)
{
	nn_arch		good,
				a;
	ecg_status	st;

	CHECK(nn_arch_builtin("cnn", &good, &st) == 0);
	CHECK(nn_arch_validate(&good, &st) == 0);

	a = good;
	a.nodes[5].input[0] = 5;
	expect_invalid(&a, "earlier node");
	a = good;
	a.nodes[5].op = 42;
	expect_invalid(&a, "unknown operation");
	a = good;
	a.nodes[3].op = NN_OP_INPUT;
	expect_invalid(&a, "only node 0");
	a = good;
	a.nodes[1].size = 0;
	expect_invalid(&a, "kernel size");
	a = good;
	a.nodes[7].rate = 1.0f;
	expect_invalid(&a, "rate");
	a = good;
	a.nodes[7].rate = NAN;
	expect_invalid(&a, "rate");
	a = good;
	a.nodes[9].input[1] = 0;	/* 200 x 1 input added to 200 x 16 */
	expect_invalid(&a, "differ in shape");
	a = good;
	a.nodes[19].size = 3;
	expect_invalid(&a, "pool size 2");
	a = good;
	a.n_nodes = 40;				/* ends at the relu: not [1 x classes] */
	expect_invalid(&a, "last node");
	a = good;
	a.n_nodes = 0;
	expect_invalid(&a, "nodes");
	a = good;
	a.nodes[41].input[0] = 39;	/* flatten (40) now unused */
	expect_invalid(&a, "never used");
	a = good;
	a.nodes[0].size = 0;
	expect_invalid(&a, "input length");
	/* rr_linear: the beat input may go unread beside a features node, but
	 * any other unread output is still refused */
	{
		nn_arch		lin;

		CHECK(nn_arch_builtin("rr_linear", &lin, &st) == 0);
		CHECK(nn_arch_validate(&lin, &st) == 0);
		a = lin;
		a.nodes[3] = a.nodes[2];			/* a second dense of the features ... */
		a.n_nodes = 4;						/* ... and the first one's output unread */
		expect_invalid(&a, "never used");
	}
	/* the features node and concat of cnn_rr (41 features, 44 concat) */
	{
		nn_arch		rr;

		CHECK(nn_arch_builtin("cnn_rr", &rr, &st) == 0);
		CHECK(nn_arch_validate(&rr, &st) == 0);
		a = rr;
		a.nodes[41].units = 12;
		expect_invalid(&a, "features: units 1..11");
		a = rr;
		a.nodes[41].input[0] = 40;
		expect_invalid(&a, "unused input slot");
		a = rr;
		a.nodes[44].input[0] = 39;	/* a [100 x 16] map, not flat */
		expect_invalid(&a, "flat");
		a = rr;
		a.nodes[44].input[1] = -1;
		expect_invalid(&a, "earlier node");
		a = rr;
		a.nodes[40] = a.nodes[41];	/* two features nodes */
		a.nodes[44].input[0] = 42;
		expect_invalid(&a, "");
		a = rr;
		CHECK(nn_arch_set_feature_count(&a, 3, &st) == 0 && nn_arch_validate(&a, &st) == 0);
		CHECK(nn_arch_set_feature_count(&a, 0, &st) != 0);
		CHECK(nn_arch_set_feature_count(&good, 3, &st) != 0);	/* cnn has none */
	}
	a = good;
	a.nodes[41].units = 100;	/* more than NN_MAX_CLASSES scores */
	expect_invalid(&a, "last node");
	a = good;
	a.nodes[1].units = 4000;	/* 200 x 4000 values: fine per node, */
	a.nodes[4].units = 4000;	/* but a 4 x 4000 x 4000 kernel is too big */
	expect_invalid(&a, "");
	a = good;
	memset(a.name, 0, sizeof(a.name));
	expect_invalid(&a, "name");
}

/* Initialisation --------------------------------------------------------------------- */

static void
test_init_is_seeded_and_keras_like(void)
{
	ecg_status	st;
	nn_model   *a = nn_model_create("cnn", &st);
	nn_model   *b = nn_model_create("cnn", &st);
	double		sum = 0,
				sq = 0;
	size_t		n = 0;

	nn_model_init(a, 7);
	nn_model_init(b, 7);
	CHECK(memcmp(a->params, b->params, a->n_params * sizeof(float)) == 0);
	CHECK(memcmp(a->state, b->state, a->n_state * sizeof(float)) == 0);
	nn_model_init(b, 8);
	CHECK(memcmp(a->params, b->params, a->n_params * sizeof(float)) != 0);

	for (int i = 0; i < a->n_tensors; i++)
	{
		nn_tensor  *t = &a->tensors[i];

		if (strstr(t->name, "conv1d_") && strstr(t->name, ".kernel") && t->dims[1] == 16)
		{
			/* he_normal: truncated at 2 sd of sqrt(2/64)/0.8796; overall sd sqrt(2/64) */
			double		sd = sqrt(2.0 / 64.0) / 0.87962566103423978;

			for (size_t k = 0; k < t->count; k++)
			{
				CHECK(fabs(t->data[k]) <= 2 * sd + 1e-6);
				sum += t->data[k];
				sq += (double) t->data[k] * t->data[k];
				n++;
			}
		}
		else if (strstr(t->name, "dense_41.kernel"))
		{
			double		limit = sqrt(6.0 / (1600 + 5));
			double		m2 = 0;

			for (size_t k = 0; k < t->count; k++)
			{
				CHECK(fabs(t->data[k]) <= limit);
				m2 += (double) t->data[k] * t->data[k];
			}
			/* uniform(-l, l) has variance l^2 / 3 */
			CHECK_CLOSE(m2 / t->count, limit * limit / 3, 0.05 * limit * limit / 3);
		}
		else if (strstr(t->name, ".bias") || strstr(t->name, ".beta") || strstr(t->name, ".moving_mean"))
		{
			for (size_t k = 0; k < t->count; k++)
				CHECK(t->data[k] == 0.0f);
		}
		else if (strstr(t->name, ".gamma") || strstr(t->name, ".moving_var"))
		{
			for (size_t k = 0; k < t->count; k++)
				CHECK(t->data[k] == 1.0f);
		}
	}
	CHECK(n == 8 * 4 * 16 * 16);
	CHECK_CLOSE(sum / n, 0.0, 0.01);
	CHECK_MSG(fabs(sqrt(sq / n) - sqrt(2.0 / 64.0)) < 0.04 * sqrt(2.0 / 64.0),
			  "conv kernel sd %.5f, He sd %.5f", sqrt(sq / n), sqrt(2.0 / 64.0));
	nn_model_free(a);
	nn_model_free(b);
}

/* Finite differences ------------------------------------------------------------------ */

/*
 * A small graph using every operation: conv - bn - relu - dropout - conv
 * + shortcut, maxpool, bn alone, relu, dropout, flatten, dense.
 */
static void
build_tiny(nn_arch *a)
{
	nn_node    *n = a->nodes;

	memset(a, 0, sizeof(*a));
	strcpy(a->name, "tiny");
	n[0] = (nn_node) {NN_OP_INPUT, {-1, -1}, 2, 9, 0};
	n[1] = (nn_node) {NN_OP_CONV1D, {0, -1}, 3, 4, 0};
	n[2] = (nn_node) {NN_OP_BATCHNORM, {1, -1}, 0, 0, 0};
	n[3] = (nn_node) {NN_OP_RELU, {2, -1}, 0, 0, 0};
	n[4] = (nn_node) {NN_OP_DROPOUT, {3, -1}, 0, 0, 0.25f};
	n[5] = (nn_node) {NN_OP_CONV1D, {4, -1}, 3, 3, 0};
	n[6] = (nn_node) {NN_OP_ADD, {5, 1}, 0, 0, 0};
	n[7] = (nn_node) {NN_OP_MAXPOOL, {6, -1}, 0, 2, 0};
	n[8] = (nn_node) {NN_OP_BATCHNORM, {7, -1}, 0, 0, 0};
	n[9] = (nn_node) {NN_OP_RELU, {7, -1}, 0, 0, 0};	/* bn and relu both read 7 */
	n[10] = (nn_node) {NN_OP_ADD, {8, 9}, 0, 0, 0};
	n[11] = (nn_node) {NN_OP_DROPOUT, {10, -1}, 0, 0, 0.5f};
	n[12] = (nn_node) {NN_OP_FLATTEN, {11, -1}, 0, 0, 0};
	n[13] = (nn_node) {NN_OP_DENSE, {12, -1}, 4, 0, 0};
	a->n_nodes = 14;
}

static double
tiny_loss(nn_model *m, nn_workspace *ws, const float *x, const int *labels, const float *w,
		  size_t n, const rng_state *mask_rng)
{
	rng_state	r = *mask_rng;	/* the same dropout masks every time */
	nn_input	in = {x, n, 9, 2, NULL};	/* two channels */
	ecg_status	st;

	CHECK(nn_workspace_load_input(m, ws, &in, NULL, n, &st) == 0);
	return nn_forward_loss(m, ws, n, 1, &r, labels, w, NULL, NULL);
}

static void
test_gradients_match_finite_differences(void)
{
	nn_arch		arch;
	ecg_status	st;
	nn_model   *m;
	nn_workspace *ws;
	rng_state	data_rng,
				mask_rng;
	enum
	{
	N = 6};
	float		x[N * 9 * 2],
				w[N];
	int			labels[N];
	float	   *analytic;
	int			bad = 0,
				checked = 0;

	build_tiny(&arch);
	m = nn_model_create_from_arch(&arch, &st);
	CHECK_MSG(m != NULL, "%s", st.message);
	if (m == NULL)
		return;
	nn_model_init(m, 3);
	rng_seed(&data_rng, 11);
	/* random BN affine parameters, so their gradients are not special */
	for (int i = 0; i < m->n_tensors; i++)
		if (strstr(m->tensors[i].name, "gamma") || strstr(m->tensors[i].name, "beta"))
			for (size_t k = 0; k < m->tensors[i].count; k++)
				m->tensors[i].data[k] += (float) (0.3 * rng_normal(&data_rng));
	for (size_t i = 0; i < N * 9 * 2; i++)
		x[i] = (float) rng_normal(&data_rng);
	for (int i = 0; i < N; i++)
	{
		labels[i] = i % 4;
		w[i] = (float) (0.5 + rng_uniform(&data_rng));
	}
	rng_seed(&mask_rng, 99);
	ws = nn_workspace_create(m, N, 1, &st);
	CHECK(ws != NULL);
	if (ws == NULL)
	{
		nn_model_free(m);
		return;
	}
	tiny_loss(m, ws, x, labels, w, N, &mask_rng);
	nn_backward(m, ws, labels, w, N, NULL);
	analytic = malloc(m->n_params * sizeof(float));
	memcpy(analytic, m->grads, m->n_params * sizeof(float));

	for (size_t p = 0; p < m->n_params; p++)
	{
		float		saved = m->params[p];
		double		h = 2e-3,
					up,
					down,
					numeric;

		m->params[p] = saved + (float) h;
		up = tiny_loss(m, ws, x, labels, w, N, &mask_rng);
		m->params[p] = saved - (float) h;
		down = tiny_loss(m, ws, x, labels, w, N, &mask_rng);
		m->params[p] = saved;
		numeric = (up - down) / (2 * h);
		checked++;
		/* central differences are O(h^2); no relu / max kink lies within h here */
		if (fabs(numeric - analytic[p]) > 2e-3 + 2e-2 * fabs(analytic[p]))
		{
			if (bad < 5)
				fprintf(stderr, "  param %zu: analytic %.6g, numeric %.6g\n", p,
						(double) analytic[p], numeric);
			bad++;
		}
	}
	CHECK(checked == (int) m->n_params);
	CHECK_MSG(bad == 0, "%d of %d parameter gradients disagree", bad, checked);
	free(analytic);
	nn_workspace_free(ws);
	nn_model_free(m);
}

/* Inference and threads ----------------------------------------------------------------- */

static void
test_predict_any_batch(void)
{
	ecg_status	st;
	nn_model   *m = nn_model_create("cnn", &st);
	size_t		n = 300;
	float	   *beats = malloc(n * NN_BEAT_LENGTH * sizeof(float));
	float	   *p1 = malloc(n * 5 * sizeof(float));
	float	   *p2 = malloc(n * 5 * sizeof(float));
	nn_workspace *small;
	rng_state	r;
	int			bad = 0;

	nn_model_init(m, 5);
	rng_seed(&r, 5);
	for (size_t i = 0; i < n * NN_BEAT_LENGTH; i++)
		beats[i] = (float) rng_normal(&r);
	CHECK(nn_model_predict(m, NULL, beats, NN_BEAT_LENGTH, n, p1, NULL, &st) == 0);
	small = nn_workspace_create(m, 7, 0, &st);
	CHECK(nn_model_predict(m, small, beats, NN_BEAT_LENGTH, n, p2, NULL, &st) == 0);
	for (size_t i = 0; i < n; i++)
	{
		double		sum = 0;

		for (int c = 0; c < 5; c++)
		{
			sum += p1[i * 5 + c];
			/* chunk sizes may change BLAS blocking, hence rounding: 1e-5 */
			if (!(fabs(p1[i * 5 + c] - p2[i * 5 + c]) <= 1e-5) && bad++ < 3)
				fprintf(stderr, "  row %zu class %d: %.9g vs %.9g\n", i, c, (double) p1[i * 5 + c], (double) p2[i * 5 + c]);
		}
		CHECK_CLOSE(sum, 1.0, 1e-5);
	}
	CHECK_MSG(bad == 0, "%d probabilities depend on the chunk size", bad);
	/* beats longer than the input are refused */
	CHECK(nn_model_predict(m, NULL, beats, 201, 1, p1, NULL, &st) != 0 && st.kind == ECG_ERR_ARGUMENT);
	nn_workspace_free(small);
	nn_model_free(m);
	free(beats);
	free(p1);
	free(p2);
}

static void
one_step(nn_model *m, nn_pool *pool, const float *beats, const int *labels, size_t n,
		 float *grads_out, float *probs_out)
{
	ecg_status	st;
	nn_workspace *ws = nn_workspace_create(m, n, 1, &st);
	rng_state	r;
	nn_input	in = {beats, n, NN_BEAT_LENGTH, 1, NULL};

	rng_seed(&r, 77);
	CHECK(nn_workspace_load_input(m, ws, &in, NULL, n, &st) == 0);
	nn_forward_loss(m, ws, n, 1, &r, labels, NULL, pool, NULL);
	nn_backward(m, ws, labels, NULL, n, pool);
	memcpy(grads_out, m->grads, m->n_params * sizeof(float));
	memcpy(probs_out, nn_workspace_probs(ws), n * 5 * sizeof(float));
	nn_workspace_free(ws);
}

static void
test_thread_count_does_not_change_results(void)
{
	ecg_status	st;
	const char *archs[] = {"baseline", "cnn", "cnn_wide"};

	for (int a = 0; a < 3; a++)
	{
		nn_model   *m = nn_model_create(archs[a], &st);
		nn_pool    *pool = nn_pool_create(2, &st);
		size_t		n = 37;
		float	   *beats = malloc(n * NN_BEAT_LENGTH * sizeof(float));
		int		   *labels = malloc(n * sizeof(int));
		float	   *g1 = malloc(m->n_params * sizeof(float));
		float	   *g2 = malloc(m->n_params * sizeof(float));
		float		p1[37 * 5],
					p2[37 * 5];
		float	   *state = malloc((m->n_state + 1) * sizeof(float));
		rng_state	r;

		CHECK(pool != NULL);
		nn_model_init(m, 1);
		rng_seed(&r, 2);
		for (size_t i = 0; i < n * NN_BEAT_LENGTH; i++)
			beats[i] = (float) rng_normal(&r);
		for (size_t i = 0; i < n; i++)
			labels[i] = (int) (i % 5);
		memcpy(state, m->state, m->n_state * sizeof(float));
		one_step(m, NULL, beats, labels, n, g1, p1);
		memcpy(m->state, state, m->n_state * sizeof(float));
		one_step(m, pool, beats, labels, n, g2, p2);
		CHECK_MSG(memcmp(g1, g2, m->n_params * sizeof(float)) == 0, "%s gradients differ", archs[a]);
		CHECK_MSG(memcmp(p1, p2, sizeof(p1)) == 0, "%s probabilities differ", archs[a]);
		/* and something was computed */
		CHECK(max_abs(g1, m->n_params, 1) > 0);
		nn_pool_destroy(pool);
		nn_model_free(m);
		free(beats);
		free(labels);
		free(g1);
		free(g2);
		free(state);
	}
}

static void
test_workspace_respects_memory_limit(void)
{
	ecg_status	st;
	nn_model   *m = nn_model_create("cnn", &st);
	size_t		bytes = nn_workspace_bytes(m, 2048, 1);
	nn_workspace *ws;

	/* activations of ~20 nodes of 200 x 16 floats per row, at least */
	CHECK(bytes > (size_t) 20 * 100 * 16 * 4 * 2048);
	CHECK(bytes < (size_t) 2 << 30);
	/* inference reuses activation buffers: a few of 200 x 16 floats per row */
	CHECK(nn_workspace_bytes(m, 2048, 0) < (size_t) 5 * 200 * 16 * 4 * 2048);
	ecg_set_memory_limit(bytes / 2);
	ws = nn_workspace_create(m, 2048, 1, &st);
	CHECK(ws == NULL && st.kind == ECG_ERR_LIMIT);
	ecg_set_memory_limit(0);
	CHECK(nn_workspace_create(m, 0, 1, &st) == NULL && st.kind == ECG_ERR_ARGUMENT);
	nn_model_free(m);
}

/*
 * Issue 10, finding 1: the input loader read length x channels floats per row
 * whatever the caller held, so a 16-channel model fed one-channel beats read
 * far past them.  It now reads only what the caller says it supplied and
 * refuses beats that do not fit the model.
 */
static void
test_input_reads_only_what_is_supplied(void)
{
	nn_arch		a;
	ecg_status	st;
	nn_model   *wide,
			   *cnn = nn_model_create("cnn", &st),
			   *other = nn_model_create("cnn", &st);
	nn_workspace *ws = NULL,
			   *ws_other = NULL;
	/* exact-size heap buffers, so a memory checker would see any over-read */
	float	   *beat = calloc(NN_BEAT_LENGTH, sizeof(float));
	float	   *padded = calloc(NN_INPUT_LENGTH, sizeof(float));
	float	   *beats2 = calloc(2 * NN_BEAT_LENGTH, sizeof(float));
	float		p1[5],
				p2[5];
	uint32_t	rows[2] = {1, 2};
	nn_input	in = {beats2, 2, NN_BEAT_LENGTH, 1, NULL};

	memset(&a, 0, sizeof(a));
	strcpy(a.name, "wide_input");
	a.nodes[0] = (nn_node) {NN_OP_INPUT, {-1, -1}, 16, NN_INPUT_LENGTH, 0};
	a.nodes[1] = (nn_node) {NN_OP_FLATTEN, {0, -1}, 0, 0, 0};
	a.nodes[2] = (nn_node) {NN_OP_DENSE, {1, -1}, 5, 0, 0};
	a.n_nodes = 3;
	wide = nn_model_create_from_arch(&a, &st);
	CHECK(wide != NULL && cnn != NULL && other != NULL && beat && padded && beats2);
	if (!(wide && cnn && other && beat && padded && beats2))
		goto done;
	nn_model_init(cnn, 5);
	nn_model_init(wide, 5);
	for (int i = 0; i < NN_BEAT_LENGTH; i++)
		padded[i] = beat[i] = 0.5f + 0.3f * sinf(0.1f * (float) i);

	/* one-channel beats into a 16-channel model: refused before any read */
	CHECK(nn_model_predict(wide, NULL, beat, NN_BEAT_LENGTH, 1, p1, NULL, &st) == -1);
	CHECK_MSG(st.kind == ECG_ERR_ARGUMENT && strstr(st.message, "16 input channels") != NULL, "%s",
			  st.message);
	ws = nn_workspace_create(wide, 1, 0, &st);
	CHECK(ws != NULL);
	if (ws != NULL)
	{
		nn_input	one = {beat, 1, NN_BEAT_LENGTH, 1, NULL};

		CHECK(nn_workspace_load_input(wide, ws, &one, NULL, 1, &st) == -1);
		CHECK_MSG(strstr(st.detail, "200 samples x 16 channels") != NULL, "%s", st.detail);
		nn_workspace_free(ws);
	}

	/* the right beats: 187 samples are zero-padded, the same as 200 given */
	CHECK(nn_model_predict(cnn, NULL, beat, NN_BEAT_LENGTH, 1, p1, NULL, &st) == 0);
	CHECK(nn_model_predict(cnn, NULL, padded, NN_INPUT_LENGTH, 1, p2, NULL, &st) == 0);
	CHECK(memcmp(p1, p2, sizeof(p1)) == 0);
	CHECK(nn_model_predict(cnn, NULL, beat, NN_INPUT_LENGTH + 1, 1, p1, NULL, &st) == -1);

	ws = nn_workspace_create(cnn, 2, 0, &st);
	ws_other = nn_workspace_create(other, 2, 0, &st);
	CHECK(ws != NULL && ws_other != NULL);
	if (ws == NULL || ws_other == NULL)
		goto done;
	CHECK(nn_workspace_load_input(cnn, ws, &in, NULL, 2, &st) == 0);
	/* a row beyond the supplied beats */
	CHECK(nn_workspace_load_input(cnn, ws, &in, rows, 2, &st) == -1 && st.kind == ECG_ERR_ARGUMENT);
	CHECK_MSG(strstr(st.message, "beat 2 requested, 2 supplied") != NULL, "%s", st.message);
	/* more rows than the workspace holds, more than supplied */
	CHECK(nn_workspace_load_input(cnn, ws, &in, NULL, 3, &st) == -1);
	in.n_beats = 1;
	CHECK(nn_workspace_load_input(cnn, ws, &in, NULL, 2, &st) == -1);
	in.n_beats = 2;
	/* beats longer than the input, empty beats, two channels */
	in.length = NN_INPUT_LENGTH + 1;
	CHECK(nn_workspace_load_input(cnn, ws, &in, NULL, 1, &st) == -1);
	in.length = 0;
	CHECK(nn_workspace_load_input(cnn, ws, &in, NULL, 1, &st) == -1);
	in.length = NN_BEAT_LENGTH / 2;
	in.channels = 2;
	CHECK(nn_workspace_load_input(cnn, ws, &in, NULL, 1, &st) == -1);
	in.length = NN_BEAT_LENGTH;
	in.channels = 1;
	/* a workspace laid out for another model */
	CHECK(nn_workspace_load_input(cnn, ws_other, &in, NULL, 1, &st) == -1);
	CHECK_MSG(strstr(st.message, "another model") != NULL, "%s", st.message);
	CHECK(nn_model_predict(cnn, ws_other, beat, NN_BEAT_LENGTH, 1, p1, NULL, &st) == -1);

done:
	nn_workspace_free(ws);
	nn_workspace_free(ws_other);
	nn_model_free(wide);
	nn_model_free(cnn);
	nn_model_free(other);
	free(beat);
	free(padded);
	free(beats2);
}

int
main(void)
{
	RUN_TEST(test_builtin_architectures);
	RUN_TEST(test_describe);
	RUN_TEST(test_validation_rejects_bad_graphs);
	RUN_TEST(test_init_is_seeded_and_keras_like);
	RUN_TEST(test_baseline_step_matches_torch);
	RUN_TEST(test_cnn_step_matches_torch);
	RUN_TEST(test_cnn_wide_step_matches_torch);
	RUN_TEST(test_baseline_rr_step_matches_torch);
	RUN_TEST(test_cnn_rr_step_matches_torch);
	RUN_TEST(test_rr_net_step_matches_torch);
	RUN_TEST(test_rr_linear_step_matches_torch);
	RUN_TEST(test_gradients_match_finite_differences);
	RUN_TEST(test_predict_any_batch);
	RUN_TEST(test_thread_count_does_not_change_results);
	RUN_TEST(test_workspace_respects_memory_limit);
	RUN_TEST(test_input_reads_only_what_is_supplied);
	UNIT_EXIT();
}
