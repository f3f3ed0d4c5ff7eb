/* Unit tests for the oversamplers (src/core/oversample.c). */
#include <stdint.h>
#include <string.h>

#include "unit.h"
#include "knn.h"
#include "oversample.h"
#include "rng.h"

#define DIM 12

/* A small imbalanced, overlapping data set: class c has sizes[c] rows around
 * a centre that moves a little with c. */
typedef struct toy
{
	int64_t		n;
	float	   *x;
	int		   *y;
} toy;

static toy
make_toy(const int64_t *sizes, int n_classes, uint64_t seed, double spread)
{
	toy			t;
	rng_state	r;
	int64_t		pos = 0;

	t.n = 0;
	for (int c = 0; c < n_classes; c++)
		t.n += sizes[c];
	t.x = malloc(sizeof(float) * (size_t) (t.n * DIM + 1));
	t.y = malloc(sizeof(int) * (size_t) (t.n + 1));
	rng_seed(&r, seed);
	/* classes interleaved, as ids would be */
	for (int64_t left = t.n; left > 0; left--)
	{
		uint64_t	pick = rng_below(&r, (uint64_t) left);
		int			c = 0;
		int64_t		seen = 0;

		/* pick a class with probability proportional to its remaining rows */
		for (c = 0; c < n_classes; c++)
		{
			int64_t		used = 0;

			for (int64_t i = 0; i < pos; i++)
				used += t.y[i] == c;
			seen += sizes[c] - used;
			if ((int64_t) pick < seen)
				break;
		}
		t.y[pos] = c;
		for (int j = 0; j < DIM; j++)
			t.x[pos * DIM + j] = (float) (0.3 * c * (j % 3 == 0) + spread * rng_normal(&r));
		pos++;
	}
	return t;
}

static void
free_toy(toy *t)
{
	free(t->x);
	free(t->y);
}

/* Checks the invariants every result must satisfy. */
static void
check_invariants(const toy *t, const oversample_params *p, const oversample_result *r)
{
	int64_t		per_class[OVERSAMPLE_MAX_CLASSES] = {0};
	int			k = p->k_neighbors;
	float		v[DIM];
	int			bad_recompute = 0,
				bad_partner = 0,
				bad_label = 0,
				bad_step = 0;

	for (int64_t i = 0; i < r->n_new; i++)
	{
		int			c = r->label[i];

		per_class[c]++;
		if (t->y[r->base[i]] != c || t->y[r->partner[i]] != c)
			bad_label++;
		if (!(r->step[i] >= 0.0f && r->step[i] < 1.0f))
			bad_step++;
		if (r->vectors)
		{
			oversample_interpolate(t->x + r->base[i] * DIM, t->x + r->partner[i] * DIM,
								   r->step[i], DIM, v);
			if (memcmp(v, r->vectors + i * DIM, sizeof(v)) != 0)
				bad_recompute++;
		}
		if (p->method == OVERSAMPLE_RANDOM)
		{
			if (r->base[i] != r->partner[i] || r->step[i] != 0.0f)
				bad_partner++;
		}
		else
		{
			/* the partner is among base's k nearest same-class rows */
			int64_t		nb[64];
			float		dist[64];
			ecg_status	st;
			int			found = 0;
			float		dp = (float) sqrt(knn_exact_sqdist(t->x + r->base[i] * DIM,
														   t->x + r->partner[i] * DIM, DIM));
			int64_t		m = 0;
			float	   *cls = malloc(sizeof(float) * t->n * DIM);
			int64_t    *idx = malloc(sizeof(int64_t) * t->n);
			int64_t		self = -1;

			for (int64_t j = 0; j < t->n; j++)
				if (t->y[j] == c)
				{
					if (j == r->base[i])
						self = m;
					idx[m] = j;
					memcpy(cls + m * DIM, t->x + j * DIM, sizeof(float) * DIM);
					m++;
				}
			CHECK(knn_search(cls, m, cls + self * DIM, 1, DIM, k, &self, nb, dist, &st) == 0);
			for (int j = 0; j < k; j++)
				found |= idx[nb[j]] == r->partner[i];
			if (!found || dp > dist[k - 1])
				bad_partner++;
			free(cls);
			free(idx);
			if (i > 300)
				break;			/* the neighbour check is slow: a sample */
		}
	}
	CHECK_MSG(bad_label == 0, "%d rows with a base or partner of another class", bad_label);
	CHECK_MSG(bad_step == 0, "%d steps outside [0,1)", bad_step);
	CHECK_MSG(bad_recompute == 0, "%d rows do not recompute", bad_recompute);
	CHECK_MSG(bad_partner == 0, "%d partners not among the k nearest", bad_partner);
	for (int c = 0; c < p->n_classes; c++)
		CHECK(r->count_after[c] == r->count_before[c] + r->generated[c]);
	/* per_class is complete only when the loop was not cut short */
	if (p->method == OVERSAMPLE_RANDOM)
		for (int c = 0; c < p->n_classes; c++)
			CHECK(per_class[c] == r->generated[c]);
}

static const int64_t sizes5[] = {400, 60, 35, 12, 80};

static void
test_random_counts_and_invariants(void)
{
	toy			t = make_toy(sizes5, 5, 1, 0.5);
	oversample_params p;
	oversample_result r;
	ecg_status	st;

	oversample_params_init(&p, 5);
	p.method = OVERSAMPLE_RANDOM;
	p.seed = 3;
	oversample_result_init(&r);
	CHECK(oversample_run(t.x, t.y, t.n, DIM, &p, &r, &st) == 0);
	for (int c = 0; c < 5; c++)
	{
		CHECK(r.count_before[c] == sizes5[c]);
		CHECK(r.count_after[c] == 400);
	}
	CHECK(r.n_new == 5 * 400 - (400 + 60 + 35 + 12 + 80));
	CHECK(r.row_counts == NULL);
	check_invariants(&t, &p, &r);
	/* draws are uniform: every row of the smallest class is used */
	{
		int			used[600] = {0},
					distinct = 0;

		for (int64_t i = 0; i < r.n_new; i++)
			if (r.label[i] == 3 && !used[r.base[i]]++)
				distinct++;
		CHECK_MSG(distinct == 12, "%d of 12 rows drawn", distinct);
	}
	oversample_result_free(&r);
	free_toy(&t);
}

static void
test_smote_counts_and_invariants(void)
{
	toy			t = make_toy(sizes5, 5, 2, 0.5);
	oversample_params p;
	oversample_result r;
	ecg_status	st;

	oversample_params_init(&p, 5);
	p.seed = 4;
	oversample_result_init(&r);
	CHECK(oversample_run(t.x, t.y, t.n, DIM, &p, &r, &st) == 0);
	for (int c = 0; c < 5; c++)
		CHECK(r.count_after[c] == 400);
	/* classes come in ascending order */
	for (int64_t i = 1; i < r.n_new; i++)
		CHECK(r.label[i - 1] <= r.label[i]);
	check_invariants(&t, &p, &r);
	oversample_result_free(&r);
	free_toy(&t);
}

static void
test_adasyn_counts_and_invariants(void)
{
	toy			t = make_toy(sizes5, 5, 5, 0.5);
	oversample_params p;
	oversample_result r;
	ecg_status	st;

	oversample_params_init(&p, 5);
	p.method = OVERSAMPLE_ADASYN;
	p.seed = 5;
	oversample_result_init(&r);
	CHECK_MSG(oversample_run(t.x, t.y, t.n, DIM, &p, &r, &st) == 0, "%s", st.message);
	CHECK(r.row_counts != NULL);
	for (int c = 0; c < 5; c++)
	{
		int64_t		sum = 0;

		for (int64_t i = 0; i < t.n; i++)
			if (t.y[i] == c)
				sum += r.row_counts[i];
		CHECK(sum == r.generated[c]);
		/* rint per row: at most half a row off per row of the class */
		if (c > 0)
			CHECK_MSG(llabs(r.count_after[c] - 400) <= (sizes5[c] + 1) / 2,
					  "class %d ends at %lld", c, (long long) r.count_after[c]);
		else
			CHECK(r.generated[c] == 0);
	}
	/* rows come grouped by base row, in row order */
	for (int64_t i = 1; i < r.n_new; i++)
		if (r.label[i - 1] == r.label[i])
			CHECK(r.base[i - 1] <= r.base[i]);
	for (int64_t i = 0; i < r.n_new; i++)
		CHECK(r.row_counts[r.base[i]] > 0);
	check_invariants(&t, &p, &r);
	oversample_result_free(&r);
	free_toy(&t);
}

/* The per-row counts follow from each row's other-class neighbours: rows
 * whose neighbours are all of their class get nothing, and a row with more
 * other-class neighbours never gets fewer rows. */
static void
test_adasyn_counts_follow_neighbours(void)
{
	toy			t = make_toy(sizes5, 5, 6, 0.5);
	oversample_params p;
	oversample_result r;
	ecg_status	st;
	int64_t		nb[5];
	int			other_of[600];

	oversample_params_init(&p, 5);
	p.method = OVERSAMPLE_ADASYN;
	oversample_result_init(&r);
	CHECK(oversample_run(t.x, t.y, t.n, DIM, &p, &r, &st) == 0);
	for (int64_t i = 0; i < t.n; i++)
	{
		int64_t		self = i;

		CHECK(knn_search(t.x, t.n, t.x + i * DIM, 1, DIM, 5, &self, nb, NULL, &st) == 0);
		other_of[i] = 0;
		for (int j = 0; j < 5; j++)
			other_of[i] += t.y[nb[j]] != t.y[i];
		if (t.y[i] != 0 && other_of[i] == 0)
			CHECK(r.row_counts[i] == 0);
	}
	for (int64_t i = 0; i < t.n; i++)
		for (int64_t j = 0; j < t.n; j++)
			if (t.y[i] == t.y[j] && t.y[i] != 0 && other_of[i] > other_of[j])
				CHECK(r.row_counts[i] >= r.row_counts[j]);
	oversample_result_free(&r);
	free_toy(&t);
}

static void
test_adasyn_rounding_half_to_even(void)
{
	int			other[4] = {1, 1, 1, 1};
	int			mixed[3] = {1, 2, 0};
	int			none[3] = {0, 0, 0};
	int64_t		counts[4];
	ecg_status	st;

	/* each row: 0.25 * 6 = 1.5 -> 2 (even) */
	CHECK(oversample_adasyn_counts(other, 4, 5, 6, counts, &st) == 0);
	for (int i = 0; i < 4; i++)
		CHECK(counts[i] == 2);
	/* 0.25 * 10 = 2.5 -> 2 */
	CHECK(oversample_adasyn_counts(other, 4, 5, 10, counts, &st) == 0);
	for (int i = 0; i < 4; i++)
		CHECK(counts[i] == 2);
	/* ratios 1/3, 2/3, 0 of 9 */
	CHECK(oversample_adasyn_counts(mixed, 3, 5, 9, counts, &st) == 0);
	CHECK(counts[0] == 3 && counts[1] == 6 && counts[2] == 0);
	CHECK(oversample_adasyn_counts(none, 3, 5, 9, counts, &st) == -1);
	CHECK(st.kind == ECG_ERR_DATA);
}

static void
test_determinism_per_seed(void)
{
	toy			t = make_toy(sizes5, 5, 7, 0.5);
	oversample_params p;
	oversample_result a,
				b;
	ecg_status	st;

	for (int m = OVERSAMPLE_RANDOM; m <= OVERSAMPLE_ADASYN; m++)
	{
		oversample_params_init(&p, 5);
		p.method = (oversample_method) m;
		p.seed = 99;
		oversample_result_init(&a);
		oversample_result_init(&b);
		CHECK(oversample_run(t.x, t.y, t.n, DIM, &p, &a, &st) == 0);
		CHECK(oversample_run(t.x, t.y, t.n, DIM, &p, &b, &st) == 0);
		CHECK(a.n_new == b.n_new);
		CHECK(memcmp(a.base, b.base, sizeof(int64_t) * a.n_new) == 0);
		CHECK(memcmp(a.partner, b.partner, sizeof(int64_t) * a.n_new) == 0);
		CHECK(memcmp(a.step, b.step, sizeof(float) * a.n_new) == 0);
		CHECK(memcmp(a.vectors, b.vectors, sizeof(float) * a.n_new * DIM) == 0);
		oversample_result_free(&b);
		/* another seed gives other draws (same counts) */
		p.seed = 100;
		CHECK(oversample_run(t.x, t.y, t.n, DIM, &p, &b, &st) == 0);
		CHECK(a.n_new == b.n_new);
		CHECK(memcmp(a.base, b.base, sizeof(int64_t) * a.n_new) != 0 ||
			  memcmp(a.step, b.step, sizeof(float) * a.n_new) != 0);
		/* without vectors: the same rows, no vector array */
		oversample_result_free(&b);
		p.seed = 99;
		p.want_vectors = false;
		CHECK(oversample_run(t.x, t.y, t.n, DIM, &p, &b, &st) == 0);
		CHECK(b.vectors == NULL && b.n_new == a.n_new);
		CHECK(memcmp(a.partner, b.partner, sizeof(int64_t) * a.n_new) == 0);
		oversample_result_free(&a);
		oversample_result_free(&b);
	}
	free_toy(&t);
}

static void
test_explicit_targets(void)
{
	toy			t = make_toy(sizes5, 5, 8, 0.5);
	oversample_params p;
	oversample_result r;
	ecg_status	st;
	int64_t		targets[5] = {-1, 100, 35, -1, 500};
	int64_t		below[5] = {-1, 59, -1, -1, -1};
	int64_t		negative[5] = {-1, -2, -1, -1, -1};

	oversample_params_init(&p, 5);
	p.targets = targets;
	oversample_result_init(&r);
	CHECK(oversample_run(t.x, t.y, t.n, DIM, &p, &r, &st) == 0);
	CHECK(r.count_after[0] == 400 && r.count_after[1] == 100 && r.count_after[2] == 35);
	CHECK(r.count_after[3] == 12 && r.count_after[4] == 500);
	CHECK(r.n_new == 40 + 420);
	oversample_result_free(&r);
	p.targets = below;
	CHECK(oversample_run(t.x, t.y, t.n, DIM, &p, &r, &st) == -1);
	CHECK(st.kind == ECG_ERR_ARGUMENT && strstr(st.message, "class 1") != NULL);
	CHECK(strstr(st.detail, "60 rows") != NULL);
	p.targets = negative;
	CHECK(oversample_run(t.x, t.y, t.n, DIM, &p, &r, &st) == -1);
	CHECK(st.kind == ECG_ERR_ARGUMENT);
	CHECK(r.n_new == 0 && r.label == NULL);
	free_toy(&t);
}

static void
test_plan_rules(void)
{
	int64_t		counts[4] = {10, 30, 0, 30};
	int64_t		gen[4];
	int64_t		absent[4] = {-1, -1, 5, -1};
	int64_t		one[3] = {0, 7, 0};
	ecg_status	st;

	/* auto: the first largest class stays, the other largest gets 0, an
	 * absent class gets nothing */
	CHECK(oversample_plan(counts, 4, NULL, gen, &st) == 0);
	CHECK(gen[0] == 20 && gen[1] == 0 && gen[2] == 0 && gen[3] == 0);
	CHECK(oversample_plan(counts, 4, absent, gen, &st) == -1);
	CHECK(st.kind == ECG_ERR_ARGUMENT && strstr(st.message, "class 2") != NULL);
	CHECK(oversample_plan(one, 3, NULL, gen, &st) == -1);
	CHECK(st.kind == ECG_ERR_ARGUMENT && strstr(st.detail, "class 1") != NULL);
}

static void
test_error_paths(void)
{
	toy			t = make_toy(sizes5, 5, 9, 0.5);
	oversample_params p;
	oversample_result r;
	ecg_status	st;

	oversample_params_init(&p, 5);
	oversample_result_init(&r);
	/* SMOTE with a class of k rows or fewer names the class and its size */
	p.k_neighbors = 12;
	CHECK(oversample_run(t.x, t.y, t.n, DIM, &p, &r, &st) == -1);
	CHECK(st.kind == ECG_ERR_ARGUMENT);
	CHECK_MSG(strstr(st.message, "class 3 has 12 rows") != NULL, "%s", st.message);
	p.method = OVERSAMPLE_ADASYN;
	CHECK(oversample_run(t.x, t.y, t.n, DIM, &p, &r, &st) == -1);
	CHECK(strstr(st.message, "ADASYN") != NULL && strstr(st.message, "class 3") != NULL);
	/* random needs no neighbours */
	p.method = OVERSAMPLE_RANDOM;
	CHECK(oversample_run(t.x, t.y, t.n, DIM, &p, &r, &st) == 0);
	oversample_result_free(&r);
	/* bad parameters */
	p.method = OVERSAMPLE_SMOTE;
	p.k_neighbors = 0;
	CHECK(oversample_run(t.x, t.y, t.n, DIM, &p, &r, &st) == -1 && st.kind == ECG_ERR_ARGUMENT);
	p.k_neighbors = 5;
	p.method = (oversample_method) 7;
	CHECK(oversample_run(t.x, t.y, t.n, DIM, &p, &r, &st) == -1 && st.kind == ECG_ERR_ARGUMENT);
	p.method = OVERSAMPLE_SMOTE;
	p.n_classes = OVERSAMPLE_MAX_CLASSES + 1;
	CHECK(oversample_run(t.x, t.y, t.n, DIM, &p, &r, &st) == -1 && st.kind == ECG_ERR_ARGUMENT);
	/* a label outside 0..n_classes-1 names the row */
	p.n_classes = 3;
	CHECK(oversample_run(t.x, t.y, t.n, DIM, &p, &r, &st) == -1);
	CHECK(st.kind == ECG_ERR_DATA && strstr(st.message, "label") != NULL);
	p.n_classes = 5;
	CHECK(oversample_run(t.x, t.y, t.n, 0, &p, &r, &st) == -1 && st.kind == ECG_ERR_ARGUMENT);
	CHECK(oversample_run(NULL, t.y, t.n, DIM, &p, &r, &st) == -1);
	CHECK(oversample_run(t.x, t.y, t.n, DIM, NULL, &r, &st) == -1);
	/* one class only */
	{
		int			same[5] = {2, 2, 2, 2, 2};

		CHECK(oversample_run(t.x, same, 5, DIM, &p, &r, &st) == -1);
		CHECK(st.kind == ECG_ERR_ARGUMENT && strstr(st.message, "two classes") != NULL);
	}
	/* the memory limit is checked first */
	ecg_set_memory_limit(4096);
	CHECK(oversample_run(t.x, t.y, t.n, DIM, &p, &r, &st) == -1 && st.kind == ECG_ERR_LIMIT);
	ecg_set_memory_limit(0);
	CHECK(r.n_new == 0 && r.vectors == NULL);
	free_toy(&t);
}

/* Well separated classes: no minority row has another class among its
 * neighbours, so ADASYN cannot weigh them and must fail like imblearn. */
static void
test_adasyn_without_other_class_neighbours(void)
{
	int64_t		sizes[2] = {50, 20};
	toy			t = make_toy(sizes, 2, 10, 0.01);
	oversample_params p;
	oversample_result r;
	ecg_status	st;

	oversample_params_init(&p, 2);
	p.method = OVERSAMPLE_ADASYN;
	oversample_result_init(&r);
	CHECK(oversample_run(t.x, t.y, t.n, DIM, &p, &r, &st) == -1);
	CHECK(st.kind == ECG_ERR_DATA && strstr(st.detail, "class 1") != NULL);
	/* SMOTE is fine there */
	p.method = OVERSAMPLE_SMOTE;
	CHECK(oversample_run(t.x, t.y, t.n, DIM, &p, &r, &st) == 0);
	CHECK(r.count_after[1] == 50);
	oversample_result_free(&r);
	free_toy(&t);
}

static void
test_interpolate_formula(void)
{
	float		b[3] = {1.0f, -2.0f, 0.1f},
				q[3] = {3.0f, -2.0f, 0.7f},
				o[3];

	oversample_interpolate(b, q, 0.5f, 3, o);
	CHECK(o[0] == 2.0f && o[1] == -2.0f);
	CHECK_CLOSE(o[2], 0.4, 1e-7);
	oversample_interpolate(b, q, 0.0f, 3, o);
	CHECK(memcmp(o, b, sizeof(o)) == 0);
}

/* NULL (NAN) endpoints: the new value is the base row's; others interpolate
 * exactly as oversample_interpolate does. */
static void
test_interpolate_nullable(void)
{
	const float base[4] = {1.0f, NAN, 0.5f, 2.0f};
	const float partner[4] = {3.0f, 1.0f, NAN, 1.0f};
	float		out[4],
				plain[1];

	oversample_interpolate_nullable(base, partner, 0.25f, 4, out);
	CHECK(out[0] == 1.5f);
	CHECK(isnan(out[1]));
	CHECK(out[2] == 0.5f);
	oversample_interpolate(base + 3, partner + 3, 0.25f, 1, plain);
	CHECK(out[3] == plain[0] && out[3] == 1.75f);
	/* step 0 (random oversampling) copies the base row */
	oversample_interpolate_nullable(base, base, 0.0f, 4, out);
	CHECK(out[0] == 1.0f && isnan(out[1]) && out[2] == 0.5f && out[3] == 2.0f);
}

int
main(void)
{
	RUN_TEST(test_random_counts_and_invariants);
	RUN_TEST(test_smote_counts_and_invariants);
	RUN_TEST(test_adasyn_counts_and_invariants);
	RUN_TEST(test_adasyn_counts_follow_neighbours);
	RUN_TEST(test_adasyn_rounding_half_to_even);
	RUN_TEST(test_determinism_per_seed);
	RUN_TEST(test_explicit_targets);
	RUN_TEST(test_plan_rules);
	RUN_TEST(test_error_paths);
	RUN_TEST(test_adasyn_without_other_class_neighbours);
	RUN_TEST(test_interpolate_formula);
	RUN_TEST(test_interpolate_nullable);
	UNIT_EXIT();
}
