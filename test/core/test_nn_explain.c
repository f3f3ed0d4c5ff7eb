/*
 * Unit tests for the explanations (src/core/nn_explain.c) and the
 * inference-mode input gradient under them (nn_input_gradient):
 *  - gradients, integrated-gradient attributions, classes and scores of the
 *    baseline, cnn and cnn_rr models against PyTorch
 *    (test/ref/explain_refs.bin, made by test/ref/gen_explain_refs.py);
 *  - completeness: the attributions add up to score(beat) - score(baseline)
 *    on every built-in architecture (tolerance below), and the error shrinks
 *    with more steps;
 *  - the class explained is the class predicted at the operating point;
 *  - the same bits twice and for any thread count; bad arguments refused.
 */
#include <string.h>

#include "unit.h"
#include "nn_explain.h"

#define MODEL_REFS_FILE "explain_refs.bin"
#include "model_refs.h"

#define N_REF_BEATS 3

/*
 * Completeness tolerance: |sum - delta| <= tol * max(|delta|, floor), tol
 * COMPLETENESS_TOL at NN_EXPLAIN_STEPS (64) steps and COMPLETENESS_TOL_FINE
 * at 4 times as many.  The midpoint rule's error comes from the ReLU kinks
 * the path crosses; on the hashed reference weights below (wild for a
 * trained network: score differences ~0.1 from sums of large terms) the
 * largest measured errors are 2.5e-2 at 64 steps and 2.9e-3 at 256
 * (test_completeness prints them); trained models do better (the pg_regress
 * test explain checks 1e-2 at 64 steps on trained models).
 */
#define COMPLETENESS_TOL 0.05
#define COMPLETENESS_TOL_FINE 0.01
#define COMPLETENESS_FLOOR 0.1

/* A synthetic beat in the imported beats' range 0..1: P wave, QRS, T wave
 * and a little noise, its shape varied by `seed`. */
static void
synthetic_beat(float *x, size_t n, uint64_t seed)
{
	rng_state	r;
	double		shift,
				height;

	rng_seed(&r, seed);
	shift = 10.0 * (rng_uniform(&r) - 0.5);
	height = 0.6 + 0.4 * rng_uniform(&r);
	for (size_t i = 0; i < n; i++)
	{
		double		t = (double) i;
		double		p = 0.12 * exp(-pow((t - 35 - shift) / 8.0, 2));
		double		qrs = height * exp(-pow((t - 70 - shift) / 3.5, 2)) -
			0.15 * exp(-pow((t - 78 - shift) / 3.0, 2));
		double		tw = 0.25 * exp(-pow((t - 120 - shift) / 14.0, 2));

		x[i] = (float) (0.2 + p + qrs + tw + 0.01 * rng_normal(&r));
	}
}

static void
set_feature_scaling(nn_model *m)
{
	/* gen_model_refs.py's FEATURE_MEAN, FEATURE_SD */
	for (int k = 0; k < m->n_features; k++)
	{
		m->feature_mean[k] = 0.5f + (float) k / 8;
		m->feature_sd[k] = 0.25f * (float) (1 << (k % 3));
	}
}

static const ref_record *
ref_of(const char *arch, const char *what)
{
	char		name[128];

	snprintf(name, sizeof(name), "explain/%s/%s", arch, what);
	return find_ref(name);
}

/* Against PyTorch ----------------------------------------------------------------- */

static void
check_against_pytorch(const char *arch)
{
	const ref_record *rx = ref_of(arch, "x"),
			   *rt = ref_of(arch, "target"),
			   *rg = ref_of(arch, "grad"),
			   *rig = ref_of(arch, "ig"),
			   *rs = ref_of(arch, "score"),
			   *rb = ref_of(arch, "baseline_score"),
			   *rf = ref_of(arch, "features");
	nn_model   *m = model_without_dropout(arch);
	int32_t		targets[N_REF_BEATS];
	float		grad[N_REF_BEATS * NN_BEAT_LENGTH];
	ecg_status	st;
	int			bad;

	CHECK_MSG(rx && rt && rg && rig && rs && rb, "reference records for %s missing", arch);
	CHECK(m != NULL);
	if (!(rx && rt && rg && rig && rs && rb && m))
	{
		nn_model_free(m);
		return;
	}
	CHECK((rf != NULL) == (m->n_features > 0));
	set_reference_params(m);
	set_feature_scaling(m);
	for (int b = 0; b < N_REF_BEATS; b++)
		targets[b] = (int32_t) rt->values[b];

	/* the plain gradient, three beats in one batch */
	{
		nn_input	in = {rx->values, N_REF_BEATS, NN_BEAT_LENGTH, 1, rf ? rf->values : NULL};

		CHECK(nn_explain_gradient(m, &in, targets, grad, NULL, &st) == 0);
		bad = compare_array("grad", grad, rg, 1e-4);
		CHECK_MSG(bad == 0, "%s: %d input gradients differ from PyTorch's", arch, bad);
	}

	/* integrated gradients, beat by beat; the class is the predicted one */
	for (int b = 0; b < N_REF_BEATS; b++)
	{
		float		attr[NN_BEAT_LENGTH];
		nn_explanation ex;
		nn_input	in = {rx->values + b * NN_BEAT_LENGTH, 1, NN_BEAT_LENGTH, 1,
		rf ? rf->values + b * m->n_features : NULL};
		ref_record	one = *rig;
		double		err = 0,
					scale = max_abs(rig->values + b * NN_BEAT_LENGTH, NN_BEAT_LENGTH, 1);

		CHECK(nn_explain_integrated_gradients(m, &in, NULL, NN_EXPLAIN_STEPS, -1, attr, &ex, NULL, &st) == 0);
		CHECK_MSG(ex.target == targets[b], "%s beat %d: class %d, PyTorch %d", arch, b, ex.target,
				  targets[b]);
		CHECK_CLOSE(ex.score, rs->values[b], 1e-4);
		CHECK_CLOSE(ex.baseline_score, rb->values[b], 1e-4);
		one.values = rig->values + b * NN_BEAT_LENGTH;
		one.count = NN_BEAT_LENGTH;
		bad = compare_array("ig", attr, &one, 1e-4);
		CHECK_MSG(bad == 0, "%s beat %d: %d attributions differ from PyTorch's", arch, b, bad);
		for (int i = 0; i < NN_BEAT_LENGTH; i++)
			if (fabs(attr[i] - one.values[i]) > err)
				err = fabs(attr[i] - one.values[i]);
		printf("# %s beat %d: largest attribution difference from PyTorch %.2e (largest attribution %.3g)\n",
			   arch, b, err, scale);
	}
	nn_model_free(m);
}

static void
test_baseline_against_pytorch(void)
{
	check_against_pytorch("baseline");
}

static void
test_cnn_against_pytorch(void)
{
	check_against_pytorch("cnn");
}

static void
test_cnn_rr_against_pytorch(void)
{
	check_against_pytorch("cnn_rr");
}

/* Completeness -------------------------------------------------------------------- */

/* |sum - delta| / max(|delta|, floor) of one explanation */
static double
completeness_error(const nn_explanation *ex)
{
	double		delta = (double) ex->score - (double) ex->baseline_score;
	double		scale = fabs(delta) > COMPLETENESS_FLOOR ? fabs(delta) : COMPLETENESS_FLOOR;

	return fabs(ex->attribution_sum - delta) / scale;
}

static void
test_completeness(void)
{
	const char *archs[] = {"baseline", "cnn", "cnn_wide", "baseline_rr", "cnn_rr"};
	float		features[8] = {0.8f, 0.8f, 0.8f, 0.82f, 1.0f, 1.0f, 1.0f, 0.97f};

	for (size_t a = 0; a < sizeof(archs) / sizeof(archs[0]); a++)
	{
		nn_model   *m;
		ecg_status	st;
		double		worst = 0,
					worst_fine = 0;

		/* the hashed reference parameters: non-zero biases and batch-norm
		 * statistics far from the initial ones, so the path crosses many
		 * ReLU kinks */
		m = model_without_dropout(archs[a]);
		CHECK(m != NULL);
		if (m == NULL)
			continue;
		set_reference_params(m);
		set_feature_scaling(m);
		for (uint64_t s = 0; s < 6; s++)
		{
			float		x[NN_BEAT_LENGTH],
						attr[NN_BEAT_LENGTH];
			nn_explanation ex;
			nn_input	in = {x, 1, NN_BEAT_LENGTH, 1, m->n_features ? features : NULL};
			double		e;

			synthetic_beat(x, NN_BEAT_LENGTH, 1000 * a + s);
			CHECK(nn_explain_integrated_gradients(m, &in, NULL, NN_EXPLAIN_STEPS, -1, attr, &ex,
												  NULL, &st) == 0);
			e = completeness_error(&ex);
			CHECK_MSG(e <= COMPLETENESS_TOL, "%s beat %d: attributions sum to %.6g, score difference %.6g",
					  archs[a], (int) s, ex.attribution_sum, (double) (ex.score - ex.baseline_score));
			if (e > worst)
				worst = e;
			/* the midpoint rule converges: 4 times the steps, a smaller error */
			CHECK(nn_explain_integrated_gradients(m, &in, NULL, 4 * NN_EXPLAIN_STEPS, -1, attr, &ex,
												  NULL, &st) == 0);
			e = completeness_error(&ex);
			CHECK_MSG(e <= COMPLETENESS_TOL_FINE, "%s beat %d, %d steps: attributions sum to %.6g, score difference %.6g",
					  archs[a], (int) s, 4 * NN_EXPLAIN_STEPS, ex.attribution_sum,
					  (double) (ex.score - ex.baseline_score));
			if (e > worst_fine)
				worst_fine = e;
		}
		CHECK_MSG(worst_fine <= worst, "%s: more steps, a larger error", archs[a]);
		printf("# %s: largest completeness error %.2e (relative, %d steps), %.2e with %d steps\n",
			   archs[a], worst, NN_EXPLAIN_STEPS, worst_fine, 4 * NN_EXPLAIN_STEPS);
		nn_model_free(m);
	}
}

/* The class, determinism, threads ------------------------------------------------- */

static void
test_class_is_the_prediction(void)
{
	ecg_status	st;
	nn_model   *m = nn_model_create("cnn", &st);

	CHECK(m != NULL);
	if (m == NULL)
		return;
	nn_model_init(m, 7);
	/* an operating point that moves decisions: the explained class follows */
	m->decision = NN_DECISION_PRIOR;
	m->class_offset[1] = 1.5f;
	m->class_offset[3] = 0.7f;
	for (uint64_t s = 0; s < 8; s++)
	{
		float		x[NN_BEAT_LENGTH],
					attr[NN_BEAT_LENGTH],
					probs[NN_MAX_CLASSES];
		nn_explanation ex;
		nn_input	in = {x, 1, NN_BEAT_LENGTH, 1, NULL};
		int			best = 0;

		synthetic_beat(x, NN_BEAT_LENGTH, 50 + s);
		CHECK(nn_model_predict(m, NULL, x, NN_BEAT_LENGTH, 1, probs, NULL, &st) == 0);
		for (int c = 1; c < m->n_classes; c++)
			if (probs[c] > probs[best])
				best = c;
		CHECK(nn_explain_integrated_gradients(m, &in, NULL, NN_EXPLAIN_STEPS, -1, attr, &ex, NULL, &st) == 0);
		CHECK_MSG(ex.target == best, "beat %d: explained %d, predicted %d", (int) s, ex.target, best);
		for (int c = 0; c < m->n_classes; c++)
			CHECK_CLOSE(ex.probs[c], probs[c], 1e-6);
		/* another class on request */
		CHECK(nn_explain_integrated_gradients(m, &in, NULL, 8, (best + 1) % 5, attr, &ex, NULL, &st) == 0);
		CHECK(ex.target == (best + 1) % 5);
	}
	nn_model_free(m);
}

static void
test_deterministic_and_threads(void)
{
	ecg_status	st;
	nn_model   *m = nn_model_create("cnn_rr", &st);
	nn_pool    *pool = nn_pool_create(3, &st);
	float		x[NN_BEAT_LENGTH],
				a1[NN_BEAT_LENGTH],
				a2[NN_BEAT_LENGTH],
				a3[NN_BEAT_LENGTH];
	float		features[8] = {0.7f, 0.9f, 0.8f, 0.8f, 1.1f, 0.9f, 1.0f, 1.0f};
	nn_explanation e1,
				e2,
				e3;
	nn_input	in = {x, 1, NN_BEAT_LENGTH, 1, features};

	CHECK(m != NULL && pool != NULL);
	if (m == NULL || pool == NULL)
	{
		nn_model_free(m);
		nn_pool_destroy(pool);
		return;
	}
	nn_model_init(m, 3);
	synthetic_beat(x, NN_BEAT_LENGTH, 77);
	CHECK(nn_explain_integrated_gradients(m, &in, NULL, NN_EXPLAIN_STEPS, -1, a1, &e1, NULL, &st) == 0);
	CHECK(nn_explain_integrated_gradients(m, &in, NULL, NN_EXPLAIN_STEPS, -1, a2, &e2, NULL, &st) == 0);
	CHECK(nn_explain_integrated_gradients(m, &in, NULL, NN_EXPLAIN_STEPS, -1, a3, &e3, pool, &st) == 0);
	CHECK(memcmp(a1, a2, sizeof(a1)) == 0 && memcmp(a1, a3, sizeof(a1)) == 0);
	CHECK(e1.score == e3.score && e1.baseline_score == e3.baseline_score && e1.target == e3.target);
	/* a sample at the baseline (the median: setting one sample to it keeps
	 * the median) gets nothing */
	nn_explain_median_baseline(x, NN_BEAT_LENGTH, a2);
	x[10] = a2[0];
	CHECK(nn_explain_integrated_gradients(m, &in, NULL, NN_EXPLAIN_STEPS, -1, a1, &e1, NULL, &st) == 0);
	CHECK(a1[10] == 0.0f);
	/* a flat beat at any level is its own baseline */
	for (int i = 0; i < NN_BEAT_LENGTH; i++)
		x[i] = 0.37f;
	CHECK(nn_explain_integrated_gradients(m, &in, NULL, NN_EXPLAIN_STEPS, -1, a1, &e1, NULL, &st) == 0);
	CHECK(max_abs(a1, NN_BEAT_LENGTH, 1) == 0 && e1.score == e1.baseline_score);
	synthetic_beat(x, NN_BEAT_LENGTH, 77);
	/* a baseline given, equal to the beat: every attribution and the difference 0 */
	CHECK(nn_explain_integrated_gradients(m, &in, x, NN_EXPLAIN_STEPS, -1, a1, &e1, NULL, &st) == 0);
	CHECK(max_abs(a1, NN_BEAT_LENGTH, 1) == 0 && e1.score == e1.baseline_score);
	nn_pool_destroy(pool);
	nn_model_free(m);
}

static void
test_median_baseline(void)
{
	float		x[NN_INPUT_LENGTH],
				b[NN_INPUT_LENGTH];

	/* 187 samples: the 94th smallest */
	for (int i = 0; i < NN_BEAT_LENGTH; i++)
		x[i] = (float) ((i * 37) % NN_BEAT_LENGTH);	/* a permutation of 0..186 */
	nn_explain_median_baseline(x, NN_BEAT_LENGTH, b);
	CHECK(b[0] == 93.0f && b[NN_BEAT_LENGTH - 1] == 93.0f);
	/* an even count: the lower middle value */
	nn_explain_median_baseline(x, 4, b);
	CHECK(b[0] == 37.0f && b[3] == 37.0f);	/* 0, 37, 74, 111 */
	/* the model's input length: the median of the beat, 0 on its padding */
	for (int i = NN_BEAT_LENGTH; i < NN_INPUT_LENGTH; i++)
		x[i] = 0.0f;
	nn_explain_median_baseline(x, NN_INPUT_LENGTH, b);
	CHECK(b[0] == 93.0f && b[NN_BEAT_LENGTH - 1] == 93.0f && b[NN_BEAT_LENGTH] == 0.0f &&
		  b[NN_INPUT_LENGTH - 1] == 0.0f);
}

static void
test_bad_arguments(void)
{
	ecg_status	st;
	nn_model   *m = nn_model_create("baseline_rr", &st);
	float		x[NN_INPUT_LENGTH + 1] = {0},
				attr[NN_INPUT_LENGTH + 1];
	nn_explanation ex;
	nn_input	in = {x, 1, NN_BEAT_LENGTH, 1, NULL};
	float		features[8] = {1, 1, 1, 1, 1, 1, 1, 1};
	int32_t		t = 0;

	CHECK(m != NULL);
	if (m == NULL)
		return;
	nn_model_init(m, 1);
	/* R-R features required */
	CHECK(nn_explain_integrated_gradients(m, &in, NULL, 64, -1, attr, &ex, NULL, &st) != 0);
	CHECK(st.kind == ECG_ERR_ARGUMENT && strstr(st.message, "features") != NULL);
	in.features = features;
	CHECK(nn_explain_integrated_gradients(m, &in, NULL, 0, -1, attr, &ex, NULL, &st) != 0);
	CHECK(nn_explain_integrated_gradients(m, &in, NULL, NN_EXPLAIN_MAX_STEPS + 1, -1, attr, &ex, NULL, &st) != 0);
	CHECK(nn_explain_integrated_gradients(m, &in, NULL, 64, 5, attr, &ex, NULL, &st) != 0);
	CHECK(nn_explain_integrated_gradients(m, &in, NULL, 64, -2, attr, &ex, NULL, &st) != 0);
	in.length = NN_INPUT_LENGTH + 1;
	CHECK(nn_explain_integrated_gradients(m, &in, NULL, 64, -1, attr, &ex, NULL, &st) != 0);
	in.length = 0;
	CHECK(nn_explain_integrated_gradients(m, &in, NULL, 64, -1, attr, &ex, NULL, &st) != 0);
	in.length = NN_INPUT_LENGTH;	/* the whole model input is fine */
	CHECK(nn_explain_integrated_gradients(m, &in, NULL, 64, -1, attr, &ex, NULL, &st) == 0);
	in.n_beats = 2;
	CHECK(nn_explain_integrated_gradients(m, &in, NULL, 64, -1, attr, &ex, NULL, &st) != 0);
	CHECK(nn_explain_gradient(m, &in, NULL, attr, NULL, &st) != 0);
	in.n_beats = 1;
	t = 9;
	CHECK(nn_explain_gradient(m, &in, &t, attr, NULL, &st) != 0);
	/* a gradient workspace over the memory limit: refused */
	ecg_set_memory_limit(1 << 20);
	CHECK(nn_explain_integrated_gradients(m, &in, NULL, NN_EXPLAIN_MAX_STEPS, -1, attr, &ex, NULL, &st) != 0);
	CHECK(st.kind == ECG_ERR_LIMIT);
	ecg_set_memory_limit(0);
	CHECK(nn_explain_integrated_gradients(m, &in, NULL, 64, -1, attr, &ex, NULL, &st) == 0);
	/* weights that overflow float: refused, not NaN attributions */
	for (size_t k = 0; k < m->n_params; k++)
		m->params[k] = 3e37f;
	x[0] = 1.0f;
	CHECK(nn_explain_integrated_gradients(m, &in, NULL, 8, -1, attr, &ex, NULL, &st) != 0);
	CHECK(st.kind == ECG_ERR_DATA);
	nn_model_free(m);
}

int
main(void)
{
	RUN_TEST(test_baseline_against_pytorch);
	RUN_TEST(test_cnn_against_pytorch);
	RUN_TEST(test_cnn_rr_against_pytorch);
	RUN_TEST(test_completeness);
	RUN_TEST(test_class_is_the_prediction);
	RUN_TEST(test_deterministic_and_threads);
	RUN_TEST(test_median_baseline);
	RUN_TEST(test_bad_arguments);
	UNIT_EXIT();
}
