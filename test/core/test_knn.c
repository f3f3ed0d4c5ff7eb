/* Unit tests for the exact k-NN search (src/core/knn.c), against a naive
 * O(n^2) search in double with ties broken by index. */
#include <stdint.h>
#include <string.h>

#include "unit.h"
#include "knn.h"
#include "nn_threads.h"
#include "rng.h"

/* The naive reference: k nearest (dist, index) pairs, nearest first. */
static void
naive_knn(const float *points, int64_t n, const float *query, int dim, int k,
		  int64_t self, int64_t *out_index, double *out_dist)
{
	int			filled = 0;

	for (int64_t p = 0; p < n; p++)
	{
		double		d = 0;
		int			pos;

		if (p == self)
			continue;
		for (int j = 0; j < dim; j++)
		{
			double		diff = (double) query[j] - (double) points[p * dim + j];

			d += diff * diff;
		}
		/* insert, keeping (dist, index) order; p grows so equal distances
		 * stay behind earlier indices */
		if (filled == k && d >= out_dist[k - 1])
			continue;
		pos = filled < k ? filled++ : k - 1;
		while (pos > 0 && d < out_dist[pos - 1])
		{
			out_dist[pos] = out_dist[pos - 1];
			out_index[pos] = out_index[pos - 1];
			pos--;
		}
		out_dist[pos] = d;
		out_index[pos] = p;
	}
}

static float *
random_rows(rng_state *r, int64_t n, int dim, double scale, double offset)
{
	float	   *x = malloc(sizeof(float) * (size_t) n * dim);

	for (int64_t i = 0; i < n * dim; i++)
		x[i] = (float) (offset + scale * rng_uniform(r));
	return x;
}

/* Runs knn_search_using(method) and compares every neighbour list (and
 * distance) with the naive search; returns the number of mismatching
 * queries. */
static int
compare_method_with_naive(knn_method method, const float *points, int64_t n,
						  const float *queries, int64_t nq, int dim, int k,
						  const int64_t *self, knn_stats *stats)
{
	int64_t    *nb = malloc(sizeof(int64_t) * (size_t) nq * k);
	float	   *dist = malloc(sizeof(float) * (size_t) nq * k);
	int64_t    *ref = malloc(sizeof(int64_t) * k);
	double	   *refd = malloc(sizeof(double) * k);
	ecg_status	st;
	int			bad = 0;
	int			rc;

	rc = knn_search_using(method, points, n, queries, nq, dim, k, self, nb, dist, stats, &st);
	CHECK_MSG(rc == 0, "knn_search failed: %s (%s)", st.message, st.detail);
	if (rc != 0)
		bad = (int) nq;
	for (int64_t q = 0; rc == 0 && q < nq; q++)
	{
		int			wrong = 0;

		naive_knn(points, n, queries + q * dim, dim, k, self ? self[q] : -1, ref, refd);
		for (int j = 0; j < k; j++)
		{
			if (nb[q * k + j] != ref[j])
				wrong = 1;
			if (fabs(dist[q * k + j] - sqrt(refd[j])) > 1e-6 * (1 + sqrt(refd[j])))
				wrong = 1;
		}
		if (wrong && bad < 3)
			fprintf(stderr, "  query %lld: first neighbour %lld vs naive %lld\n",
					(long long) q, (long long) nb[q * k], (long long) ref[0]);
		bad += wrong;
	}
	free(nb);
	free(dist);
	free(ref);
	free(refd);
	return bad;
}

static int
compare_with_naive(const float *points, int64_t n, const float *queries, int64_t nq,
				   int dim, int k, const int64_t *self, knn_stats *stats)
{
	return compare_method_with_naive(KNN_METHOD_AUTO, points, n, queries, nq, dim, k, self,
									 stats);
}

/*
 * Rows of low intrinsic dimension, like heartbeats: a few cluster centres,
 * each row a centre plus random amounts of two fixed directions plus a
 * little noise.  This is the data the pruned search is made for.
 */
static float *
clustered_rows(rng_state *r, int64_t n, int dim)
{
	float	   *x = malloc(sizeof(float) * (size_t) n * dim);
	float	   *centre = malloc(sizeof(float) * 8 * dim);
	float	   *dir = malloc(sizeof(float) * 2 * dim);

	for (int i = 0; i < 8 * dim; i++)
		centre[i] = (float) rng_normal(r);
	for (int i = 0; i < 2 * dim; i++)
		dir[i] = (float) (0.5 * rng_normal(r));
	for (int64_t i = 0; i < n; i++)
	{
		int			c = (int) rng_below(r, 8);
		double		a = rng_normal(r),
					b = rng_normal(r);

		for (int j = 0; j < dim; j++)
			x[i * dim + j] = (float) (centre[c * dim + j] + a * dir[j] + b * dir[dim + j] +
									  0.05 * rng_normal(r));
	}
	free(centre);
	free(dir);
	return x;
}

/*
 * n rows of SHELL_DIM values on a thin shell: centre 1000, a random direction
 * at radius 1 +- 1e-4, so every row is nearly equidistant from the centre;
 * row 0 is a far point (all 1e4) that drags the mean and the norms up.
 */
#define SHELL_DIM 16

static float *
thin_shell_rows(uint64_t seed, int64_t n)
{
	rng_state	r;
	float	   *pts = malloc(sizeof(float) * n * SHELL_DIM);

	rng_seed(&r, seed);
	for (int64_t i = 0; i < n; i++)
	{
		double		v[SHELL_DIM],
					norm = 0;

		for (int j = 0; j < SHELL_DIM; j++)
		{
			v[j] = rng_normal(&r);
			norm += v[j] * v[j];
		}
		norm = sqrt(norm);
		for (int j = 0; j < SHELL_DIM; j++)
			pts[i * SHELL_DIM + j] = (float) (1000.0 + v[j] / norm * (1.0 + 1e-4 * rng_uniform(&r)));
	}
	for (int j = 0; j < SHELL_DIM; j++)
		pts[j] = 1e4f;
	return pts;
}

static void
test_random_queries_match_naive(void)
{
	rng_state	r;
	/* sizes straddling the query (256) and point (2048) blocks */
	int64_t		n = 2600,
				nq = 300;
	int			dim = 37;
	float	   *pts,
			   *qs;

	rng_seed(&r, 11);
	pts = random_rows(&r, n, dim, 1.0, 0.0);
	qs = random_rows(&r, nq, dim, 1.0, 0.0);
	CHECK(compare_with_naive(pts, n, qs, nq, dim, 1, NULL, NULL) == 0);
	CHECK(compare_with_naive(pts, n, qs, nq, dim, 5, NULL, NULL) == 0);
	CHECK(compare_with_naive(pts, n, qs, nq, dim, 40, NULL, NULL) == 0);
	free(pts);
	free(qs);
}

static void
test_self_exclusion_matches_naive(void)
{
	rng_state	r;
	int64_t		n = 2100;
	int			dim = 187;
	float	   *pts;
	int64_t    *self = malloc(sizeof(int64_t) * n);
	int64_t		nb[6];
	ecg_status	st;

	rng_seed(&r, 12);
	pts = random_rows(&r, n, dim, 1.0, 0.5);
	for (int64_t i = 0; i < n; i++)
		self[i] = (i % 7 == 3) ? -1 : i;	/* some queries keep themselves */
	CHECK(compare_with_naive(pts, n, pts, n, dim, 5, self, NULL) == 0);
	/* a query that is not excluded finds itself first, at distance 0 */
	CHECK(knn_search(pts, n, pts + 3 * dim, 1, dim, 6, NULL, nb, NULL, &st) == 0);
	CHECK(nb[0] == 3);
	/* excluded: never returned */
	for (int64_t i = 0; i < n; i++)
		self[i] = i;
	{
		int64_t    *all = malloc(sizeof(int64_t) * n * 3);

		CHECK(knn_search(pts, n, pts, n, dim, 3, self, all, NULL, &st) == 0);
		for (int64_t i = 0; i < n; i++)
			for (int j = 0; j < 3; j++)
				CHECK(all[i * 3 + j] != i);
		free(all);
	}
	free(pts);
	free(self);
}

/* Integer-grid data: many exactly equal distances, which must come out in
 * index order, and duplicates of the query. */
static void
test_ties_break_by_index(void)
{
	rng_state	r;
	int64_t		n = 3000;
	int			dim = 3;
	float	   *pts = malloc(sizeof(float) * n * dim);
	int64_t    *self = malloc(sizeof(int64_t) * n);

	rng_seed(&r, 13);
	for (int64_t i = 0; i < n * dim; i++)
		pts[i] = (float) rng_below(&r, 4);	/* 64 distinct points, ~47 copies each */
	for (int64_t i = 0; i < n; i++)
		self[i] = i;
	CHECK(compare_with_naive(pts, n, pts, n, dim, 5, self, NULL) == 0);
	CHECK(compare_with_naive(pts, n, pts, 500, dim, 60, NULL, NULL) == 0);
	free(pts);
	free(self);
}

/*
 * Points on a thin shell around the query, with a large common offset: the
 * float pass cannot order them, so the certification must fail and the
 * exact scan take over; the answer stays exact.
 */
static void
test_near_ties_fall_back_to_exact(void)
{
	int64_t		n = 3000;
	int			dim = SHELL_DIM;
	float	   *pts = thin_shell_rows(14, n);
	float		query[SHELL_DIM];
	knn_stats	stats;

	for (int j = 0; j < dim; j++)
		query[j] = 1000.0f;
	CHECK(compare_with_naive(pts, n, query, 1, dim, 5, NULL, &stats) == 0);
	CHECK_MSG(stats.exact_fallbacks == 1, "%lld fallbacks", (long long) stats.exact_fallbacks);
	free(pts);
}

static void
test_well_separated_needs_no_fallback(void)
{
	rng_state	r;
	int64_t		n = 4000;
	int			dim = 187;
	float	   *pts;
	int64_t    *self = malloc(sizeof(int64_t) * n);
	knn_stats	stats;

	rng_seed(&r, 15);
	pts = random_rows(&r, n, dim, 1.0, 0.0);
	for (int64_t i = 0; i < n; i++)
		self[i] = i;
	CHECK(compare_with_naive(pts, n, pts, 1000, dim, 5, self, &stats) == 0);
	CHECK_MSG(stats.exact_fallbacks < 10, "%lld fallbacks", (long long) stats.exact_fallbacks);
	free(pts);
	free(self);
}

static void
test_k_equals_all_points(void)
{
	float		pts[] = {0, 0, 3, 0, 1, 0, 0, 2};	/* 4 points in 2-D */
	int64_t		self[] = {0, 1, 2, 3};
	int64_t		nb[12];
	float		d[12];
	ecg_status	st;

	CHECK(knn_search(pts, 4, pts, 4, 2, 3, self, nb, d, &st) == 0);
	/* point 0: (1,0) at 1, (0,2) at 2, (3,0) at 3 */
	CHECK(nb[0] == 2 && nb[1] == 3 && nb[2] == 1);
	CHECK_CLOSE(d[0], 1.0, 1e-7);
	CHECK_CLOSE(d[1], 2.0, 1e-7);
	CHECK_CLOSE(d[2], 3.0, 1e-7);
	/* point 2 (1,0): (0,0) at 1, (0,2) at sqrt 5, (3,0) at 2 */
	CHECK(nb[6] == 0 && nb[7] == 1 && nb[8] == 3);
}

static void
test_error_paths(void)
{
	float		pts[] = {0, 1, 2, 3, 4, 5};	/* 3 points in 2-D */
	int64_t		nb[8];
	int64_t		self[] = {0, 1, 2};
	int64_t		bad_self[] = {0, 3, 1};
	ecg_status	st;

	CHECK(knn_search(pts, 3, pts, 1, 2, 4, NULL, nb, NULL, &st) == -1);
	CHECK(st.kind == ECG_ERR_ARGUMENT);
	CHECK(strstr(st.message, "eligible") != NULL);
	CHECK(knn_search(pts, 3, pts, 3, 2, 3, self, nb, NULL, &st) == -1);
	CHECK(st.kind == ECG_ERR_ARGUMENT);
	CHECK(strstr(st.detail, "itself excluded") != NULL);
	CHECK(knn_search(pts, 3, pts, 3, 2, 1, bad_self, nb, NULL, &st) == -1);
	CHECK(st.kind == ECG_ERR_ARGUMENT && strstr(st.message, "query 1") != NULL);
	CHECK(knn_search(pts, 3, pts, 1, 2, 0, NULL, nb, NULL, &st) == -1);
	CHECK(st.kind == ECG_ERR_ARGUMENT);
	CHECK(knn_search(pts, 3, pts, 1, 2, KNN_MAX_K + 1, NULL, nb, NULL, &st) == -1);
	CHECK(knn_search(pts, 3, pts, 1, 0, 1, NULL, nb, NULL, &st) == -1);
	CHECK(knn_search(pts, -1, pts, 1, 2, 1, NULL, nb, NULL, &st) == -1);
	CHECK(knn_search(NULL, 3, pts, 1, 2, 1, NULL, nb, NULL, &st) == -1);
	CHECK(knn_search(pts, 3, pts, 1, 2, 1, NULL, NULL, NULL, &st) == -1);
	/* no queries: nothing to do */
	CHECK(knn_search(pts, 3, NULL, 0, 2, 1, NULL, NULL, NULL, &st) == 0);
	/* non-finite input names the row and column */
	{
		float		q[] = {0, NAN};
		float		p2[] = {0, 1, INFINITY, 3, 4, 5};

		CHECK(knn_search(pts, 3, q, 1, 2, 1, NULL, nb, NULL, &st) == -1);
		CHECK(st.kind == ECG_ERR_DATA && strstr(st.message, "query row 0") != NULL);
		CHECK(strstr(st.detail, "column 1") != NULL);
		CHECK(knn_search(p2, 3, pts, 1, 2, 1, NULL, nb, NULL, &st) == -1);
		CHECK(st.kind == ECG_ERR_DATA && strstr(st.message, "point row 1") != NULL);
	}
	/* the memory limit is honoured before allocating */
	ecg_set_memory_limit(1000);
	CHECK(knn_search(pts, 3, pts, 1, 2, 1, NULL, nb, NULL, &st) == -1);
	CHECK(st.kind == ECG_ERR_LIMIT);
	ecg_set_memory_limit(0);
	CHECK(knn_search(pts, 3, pts, 1, 2, 1, NULL, nb, NULL, &st) == 0);
}

static void
test_work_bytes_formula(void)
{
	size_t		b1 = knn_work_bytes(1000, 187, 5),
				b2 = knn_work_bytes(2000, 187, 5);

	/* 4*(d+1) bytes per point on top of a fixed part */
	CHECK(b2 - b1 == (size_t) 1000 * 4 * 188);
	CHECK(b1 > (size_t) 4 * KNN_QUERY_BLOCK * KNN_POINT_BLOCK);
	CHECK(knn_work_bytes(INT64_MAX, 187, 5) == SIZE_MAX);
}

static int	interrupt_calls;
static void
count_interrupt(void)
{
	interrupt_calls++;
}

static void
test_interrupts_polled(void)
{
	rng_state	r;
	int64_t		n = 30000;
	int			dim = 8;
	float	   *pts;
	int64_t    *nb = malloc(sizeof(int64_t) * 600);
	ecg_status	st;

	rng_seed(&r, 16);
	pts = random_rows(&r, n, dim, 1.0, 0.0);
	interrupt_calls = 0;
	ecg_set_interrupt_hook(count_interrupt);
	CHECK(knn_search(pts, n, pts, 600, dim, 1, NULL, nb, NULL, &st) == 0);
	ecg_set_interrupt_hook(NULL);
	/* the point sweep alone takes several rounds, each followed by a poll */
	CHECK_MSG(interrupt_calls >= 30000 / (4 * KNN_POINT_BLOCK), "%d polls", interrupt_calls);
	free(pts);
	free(nb);
}

/* The tree path against the naive search on the data it is made for:
 * queries among the points (self excluded), and foreign queries. */
static void
test_tree_matches_naive(void)
{
	rng_state	r;
	int64_t		n = 6000,
				nq = 700;
	int			dim = 48;
	float	   *pts,
			   *foreign;
	int64_t    *self = malloc(sizeof(int64_t) * n);
	knn_stats	stats;

	rng_seed(&r, 21);
	pts = clustered_rows(&r, n, dim);
	foreign = clustered_rows(&r, nq, dim);
	for (int64_t i = 0; i < n; i++)
		self[i] = (i % 11 == 5) ? -1 : i;	/* a few queries keep themselves */
	CHECK(compare_method_with_naive(KNN_METHOD_TREE, pts, n, pts, nq, dim, 5, self, &stats) == 0);
	CHECK_MSG(stats.tree_queries == nq && stats.brute_queries == 0,
			  "%lld tree queries", (long long) stats.tree_queries);
	/* pruning works: far fewer distances than a full scan */
	CHECK_MSG(stats.tree_distances < nq * n / 10, "%lld distances",
			  (long long) stats.tree_distances);
	CHECK(compare_method_with_naive(KNN_METHOD_TREE, pts, n, pts, nq, dim, 1, self, NULL) == 0);
	/* k above the number of seeds taken from the previous query */
	CHECK(compare_method_with_naive(KNN_METHOD_TREE, pts, n, pts, 200, dim, 40, self, NULL) == 0);
	CHECK(compare_method_with_naive(KNN_METHOD_TREE, pts, n, foreign, nq, dim, 5, NULL,
									&stats) == 0);
	CHECK(stats.tree_queries == nq);
	free(pts);
	free(foreign);
	free(self);
}

/* Both paths give the same bytes: neighbours and distances. */
static void
test_tree_equals_brute_force(void)
{
	rng_state	r;
	int64_t		n = 5000,
				nq = 1000;
	int			dim = 187;
	int			k = 7;
	float	   *pts;
	int64_t    *self = malloc(sizeof(int64_t) * nq);
	int64_t    *nb_tree = malloc(sizeof(int64_t) * nq * k),
			   *nb_brute = malloc(sizeof(int64_t) * nq * k);
	float	   *d_tree = malloc(sizeof(float) * nq * k),
			   *d_brute = malloc(sizeof(float) * nq * k);
	knn_stats	stats;
	ecg_status	st;

	rng_seed(&r, 22);
	pts = clustered_rows(&r, n, dim);
	for (int64_t i = 0; i < nq; i++)
		self[i] = 3 * i;
	{
		float	   *q = malloc(sizeof(float) * nq * dim);

		for (int64_t i = 0; i < nq; i++)
			memcpy(q + i * dim, pts + 3 * i * dim, sizeof(float) * dim);
		CHECK(knn_search_using(KNN_METHOD_TREE, pts, n, q, nq, dim, k, self, nb_tree, d_tree,
							   &stats, &st) == 0);
		CHECK(stats.tree_queries == nq);
		CHECK(knn_search_using(KNN_METHOD_BRUTE, pts, n, q, nq, dim, k, self, nb_brute, d_brute,
							   &stats, &st) == 0);
		CHECK(stats.brute_queries == nq && stats.tree_queries == 0);
		free(q);
	}
	CHECK(memcmp(nb_tree, nb_brute, sizeof(int64_t) * nq * k) == 0);
	CHECK(memcmp(d_tree, d_brute, sizeof(float) * nq * k) == 0);
	free(pts);
	free(self);
	free(nb_tree);
	free(nb_brute);
	free(d_tree);
	free(d_brute);
}

/* Exact ties and duplicates: the filter pass cannot certify them, so the
 * exact-order pass runs, and ties still come out by index. */
static void
test_tree_ties_and_duplicates(void)
{
	rng_state	r;
	int64_t		n = 3000;
	float	   *pts4 = malloc(sizeof(float) * n * 4);
	float	   *pts1 = malloc(sizeof(float) * n);
	int64_t    *self = malloc(sizeof(int64_t) * n);
	knn_stats	stats;

	rng_seed(&r, 23);
	for (int64_t i = 0; i < n * 4; i++)
		pts4[i] = (float) rng_below(&r, 4);	/* 256 distinct points */
	for (int64_t i = 0; i < n; i++)
	{
		pts1[i] = (float) rng_below(&r, 50);
		self[i] = i;
	}
	CHECK(compare_method_with_naive(KNN_METHOD_TREE, pts4, n, pts4, n, 4, 5, self, &stats) == 0);
	CHECK_MSG(stats.exact_fallbacks > 0, "%lld exact searches",
			  (long long) stats.exact_fallbacks);
	CHECK(compare_method_with_naive(KNN_METHOD_TREE, pts4, n, pts4, 300, 4, 60, NULL, NULL) == 0);
	/* one dimension: the basis is the whole space */
	CHECK(compare_method_with_naive(KNN_METHOD_TREE, pts1, n, pts1, n, 1, 3, self, NULL) == 0);
	free(pts4);
	free(pts1);
	free(self);
}

/* Near-ties on a thin shell (see test_near_ties_fall_back_to_exact). */
static void
test_tree_near_ties(void)
{
	int64_t		n = 3000;
	int			dim = SHELL_DIM;
	float	   *pts = thin_shell_rows(24, n);
	float		query[SHELL_DIM];

	for (int j = 0; j < dim; j++)
		query[j] = 1000.0f;
	CHECK(compare_method_with_naive(KNN_METHOD_TREE, pts, n, query, 1, dim, 5, NULL, NULL) == 0);
	CHECK(compare_method_with_naive(KNN_METHOD_TREE, pts, n, pts, 500, dim, 5, NULL, NULL) == 0);
	free(pts);
}

/*
 * Scales far from 1: coordinates are scaled by a power of two, so tiny and
 * huge data are served by the tree (float squares of 1e-22 would underflow
 * into subnormals, those of 1e20 overflow); a huge query among normal
 * points is answered unpruned; a point far beyond the rows sampled for the
 * scale makes the tree refuse the data (brute force).
 */
static void
test_tree_extreme_scales(void)
{
	rng_state	r;
	int64_t		n = 3000;
	int			dim = 8;
	float	   *pts;
	float		far_query[8];
	knn_stats	stats;

	rng_seed(&r, 25);
	pts = clustered_rows(&r, n, dim);
	for (int j = 0; j < dim; j++)
		far_query[j] = 3e20f;
	CHECK(compare_method_with_naive(KNN_METHOD_TREE, pts, n, far_query, 1, dim, 5, NULL,
									&stats) == 0);
	CHECK(stats.tree_queries == 1);
	/* coordinates beyond the float range (infinite in the tree; the
	 * distances overflow float too, so only the neighbours are compared) */
	for (int j = 0; j < dim; j++)
		far_query[j] = j % 2 ? 3.4e38f : -3.4e38f;
	{
		int64_t		nb[5],
					ref[5];
		double		refd[5];
		ecg_status	st;

		CHECK(knn_search_using(KNN_METHOD_TREE, pts, n, far_query, 1, dim, 5, NULL, nb, NULL,
							   &stats, &st) == 0);
		CHECK(stats.tree_queries == 1);
		naive_knn(pts, n, far_query, dim, 5, -1, ref, refd);
		CHECK(memcmp(nb, ref, sizeof(nb)) == 0);
	}
	for (int j = 0; j < dim; j++)
		pts[17 * dim + j] = -2e19f;
	CHECK(compare_method_with_naive(KNN_METHOD_TREE, pts, n, pts, 400, dim, 5, NULL,
									&stats) == 0);
	CHECK_MSG(stats.tree_queries == 400, "%lld tree queries", (long long) stats.tree_queries);
	free(pts);

	/* tiny values: squared distances around 1e-44 */
	pts = clustered_rows(&r, n, dim);
	for (int64_t i = 0; i < n * dim; i++)
		pts[i] *= 1e-22f;
	CHECK(compare_method_with_naive(KNN_METHOD_TREE, pts, n, pts, 600, dim, 16, NULL,
									&stats) == 0);
	CHECK(stats.tree_queries == 600);
	free(pts);

	/* an outlier at row 1, which the scale sample (every n/4096-th row of
	 * 10,000) skips */
	n = 10000;
	pts = clustered_rows(&r, n, dim);
	for (int j = 0; j < dim; j++)
		pts[1 * dim + j] = 1e20f;
	CHECK(compare_method_with_naive(KNN_METHOD_TREE, pts, n, pts, 300, dim, 5, NULL,
									&stats) == 0);
	CHECK_MSG(stats.tree_queries == 0 && stats.brute_queries == 300, "%lld tree queries",
			  (long long) stats.tree_queries);
	free(pts);
}

/* The automatic choice: the tree on clustered data, brute force after the
 * trial batch on uniform noise in 187 dimensions, where pruning fails. */
static void
test_automatic_choice(void)
{
	rng_state	r;
	int64_t		n = 12000,
				nq = 1500;
	int			dim = 64;
	float	   *pts;
	knn_stats	stats;

	rng_seed(&r, 26);
	pts = clustered_rows(&r, n, dim);
	CHECK(compare_method_with_naive(KNN_METHOD_AUTO, pts, n, pts + 100 * dim, nq, dim, 5, NULL,
									&stats) == 0);
	CHECK_MSG(stats.tree_queries == nq, "%lld tree queries", (long long) stats.tree_queries);
	free(pts);

	n = 6000;
	dim = 187;
	pts = random_rows(&r, n, dim, 1.0, 0.0);
	CHECK(compare_method_with_naive(KNN_METHOD_AUTO, pts, n, pts, nq, dim, 5, NULL,
									&stats) == 0);
	CHECK_MSG(stats.brute_queries > 0 && stats.tree_queries + stats.brute_queries == nq,
			  "%lld tree, %lld brute-force queries", (long long) stats.tree_queries,
			  (long long) stats.brute_queries);
	free(pts);
	/* small searches do not try the tree */
	rng_seed(&r, 27);
	pts = clustered_rows(&r, 1000, 16);
	CHECK(compare_method_with_naive(KNN_METHOD_AUTO, pts, 1000, pts, 1000, 16, 5, NULL,
									&stats) == 0);
	CHECK(stats.tree_queries == 0);
	free(pts);
}

static void
test_tree_interrupts_polled(void)
{
	rng_state	r;
	int64_t		n = 20000;
	int			dim = 32;
	float	   *pts;
	int64_t    *nb = malloc(sizeof(int64_t) * n * 5);
	ecg_status	st;

	rng_seed(&r, 28);
	pts = clustered_rows(&r, n, dim);
	interrupt_calls = 0;
	ecg_set_interrupt_hook(count_interrupt);
	CHECK(knn_search_using(KNN_METHOD_TREE, pts, n, pts, n, dim, 5, NULL, nb, NULL, NULL,
						   &st) == 0);
	ecg_set_interrupt_hook(NULL);
	/* the build polls per chunk of rows, the search after every round */
	CHECK_MSG(interrupt_calls >= 20000 / 256, "%d polls", interrupt_calls);
	free(pts);
	free(nb);
}

/*
 * Random shapes, tree against brute force byte for byte: uniform, integer
 * grids (ties), rows near a large offset (near-ties), duplicated rows and
 * normal rows scaled by 1e-30 .. 1e12; self indices present, absent or
 * mixed; k up to 40.  (A longer run of the same kind found the underflow
 * that the coordinate scale now prevents.)
 */
static void
test_tree_random_shapes(void)
{
	rng_state	r;
	int			mismatches = 0;

	rng_seed(&r, 30);
	for (int it = 0; it < 40; it++)
	{
		int64_t		n = 20 + (int64_t) rng_below(&r, 1500);
		int			dim = 1 + (int) rng_below(&r, 60);
		int64_t		nq = 1 + (int64_t) rng_below(&r, 200);
		int			kind = (int) rng_below(&r, 5);
		int			self_mode = (int) rng_below(&r, 3);
		int			k = 1 + (int) rng_below(&r, 40);
		double		scale = kind == 4 ? pow(10.0, -30.0 + 42.0 * rng_uniform(&r)) : 1.0;
		float	   *x = malloc(sizeof(float) * n * dim);
		float	   *q = malloc(sizeof(float) * nq * dim);
		int64_t    *self = malloc(sizeof(int64_t) * nq);
		int64_t    *nb[2];
		float	   *d[2];
		ecg_status	st;
		int			rc[2];

		if (k > n - 1)
			k = (int) n - 1;
		for (int64_t i = 0; i < n * dim; i++)
			x[i] = kind == 0 ? (float) rng_uniform(&r) :
				kind == 1 ? (float) rng_below(&r, 3) :
				kind == 2 ? (float) (1000.0 + 1e-3 * rng_normal(&r)) :
				(float) (scale * rng_normal(&r));
		if (kind == 3)
			for (int64_t i = 1; i < n; i++)
				if (rng_below(&r, 4) == 0)
					memcpy(x + i * dim, x + rng_below(&r, (uint64_t) i) * dim, sizeof(float) * dim);
		for (int64_t i = 0; i < nq; i++)
		{
			int64_t		src = (int64_t) rng_below(&r, (uint64_t) n);

			memcpy(q + i * dim, x + src * dim, sizeof(float) * dim);
			self[i] = self_mode == 0 ? src : self_mode == 1 && rng_below(&r, 2) ? src : -1;
		}
		for (int m = 0; m < 2; m++)
		{
			nb[m] = malloc(sizeof(int64_t) * nq * k);
			d[m] = malloc(sizeof(float) * nq * k);
			rc[m] = knn_search_using(m == 0 ? KNN_METHOD_TREE : KNN_METHOD_BRUTE, x, n, q, nq,
									 dim, k, self_mode == 2 ? NULL : self, nb[m], d[m], NULL,
									 &st);
		}
		if (rc[0] != 0 || rc[1] != 0 || memcmp(nb[0], nb[1], sizeof(int64_t) * nq * k) != 0 ||
			memcmp(d[0], d[1], sizeof(float) * nq * k) != 0)
		{
			fprintf(stderr, "  shape %d: n %lld, dim %d, %lld queries, k %d, kind %d\n", it,
					(long long) n, dim, (long long) nq, k, kind);
			mismatches++;
		}
		for (int m = 0; m < 2; m++)
		{
			free(nb[m]);
			free(d[m]);
		}
		free(x);
		free(q);
		free(self);
	}
	CHECK_MSG(mismatches == 0, "%d of 40 shapes differ", mismatches);
}

/* Rows wider than the tree takes: forced to the tree, it is brute force. */
static void
test_tree_wide_rows(void)
{
	rng_state	r;
	int64_t		n = 60;
	int			dim = 1100;
	float	   *pts;
	knn_stats	stats;

	rng_seed(&r, 29);
	pts = random_rows(&r, n, dim, 1.0, 0.0);
	CHECK(compare_method_with_naive(KNN_METHOD_TREE, pts, n, pts, n, dim, 3, NULL, &stats) == 0);
	CHECK(stats.tree_queries == 0 && stats.brute_queries == n);
	free(pts);
}

static void
test_bad_method(void)
{
	float		pts[] = {0, 1, 2, 3};
	int64_t		nb[2];
	ecg_status	st;

	CHECK(knn_search_using((knn_method) 7, pts, 2, pts, 1, 2, 1, NULL, nb, NULL, NULL,
						   &st) == -1);
	CHECK(st.kind == ECG_ERR_ARGUMENT && strstr(st.message, "method") != NULL);
	/* the tree answers tiny searches too */
	CHECK(knn_search_using(KNN_METHOD_TREE, pts, 2, pts, 1, 2, 1, NULL, nb, NULL, NULL,
						   &st) == 0 && nb[0] == 0);
}

int
main(void)
{
	ecg_status	st;
	/* the searches run on a shared pool of 3 threads, as in the server */
	nn_pool    *pool = nn_pool_create(3, &st);

	if (pool == NULL)
	{
		fprintf(stderr, "could not create a thread pool: %s\n", st.message);
		return 1;
	}
	nn_pool_set_shared(pool);
	RUN_TEST(test_random_queries_match_naive);
	RUN_TEST(test_self_exclusion_matches_naive);
	RUN_TEST(test_ties_break_by_index);
	RUN_TEST(test_near_ties_fall_back_to_exact);
	RUN_TEST(test_well_separated_needs_no_fallback);
	RUN_TEST(test_k_equals_all_points);
	RUN_TEST(test_error_paths);
	RUN_TEST(test_work_bytes_formula);
	RUN_TEST(test_interrupts_polled);
	RUN_TEST(test_tree_matches_naive);
	RUN_TEST(test_tree_equals_brute_force);
	RUN_TEST(test_tree_ties_and_duplicates);
	RUN_TEST(test_tree_near_ties);
	RUN_TEST(test_tree_extreme_scales);
	RUN_TEST(test_automatic_choice);
	RUN_TEST(test_tree_interrupts_polled);
	RUN_TEST(test_tree_random_shapes);
	RUN_TEST(test_tree_wide_rows);
	RUN_TEST(test_bad_method);
	nn_pool_set_shared(NULL);
	nn_pool_destroy(pool);
	UNIT_EXIT();
}
