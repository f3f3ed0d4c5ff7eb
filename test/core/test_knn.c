/* Unit tests for the exact k-NN search (src/core/knn.c), against a naive
 * O(n^2) search in double with ties broken by index. */
#include <stdint.h>
#include <string.h>

#include "unit.h"
#include "knn.h"
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

/* Runs knn_search and compares every neighbour list (and distance) with the
 * naive search; returns the number of mismatching queries. */
static int
compare_with_naive(const float *points, int64_t n, const float *queries, int64_t nq,
				   int dim, int k, const int64_t *self, knn_stats *stats)
{
	int64_t    *nb = malloc(sizeof(int64_t) * (size_t) nq * k);
	float	   *dist = malloc(sizeof(float) * (size_t) nq * k);
	int64_t    *ref = malloc(sizeof(int64_t) * k);
	double	   *refd = malloc(sizeof(double) * k);
	ecg_status	st;
	int			bad = 0;
	int			rc;

	rc = knn_search_with_stats(points, n, queries, nq, dim, k, self, nb, dist, stats, &st);
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
	rng_state	r;
	int64_t		n = 3000;
	int			dim = 16;
	float	   *pts = malloc(sizeof(float) * n * dim);
	float		query[16];
	knn_stats	stats;

	rng_seed(&r, 14);
	for (int j = 0; j < dim; j++)
		query[j] = 1000.0f;
	for (int64_t i = 0; i < n; i++)
	{
		/* a random direction, scaled to radius 1 +- 1e-4 */
		double		v[16],
					norm = 0;

		for (int j = 0; j < dim; j++)
		{
			v[j] = rng_normal(&r);
			norm += v[j] * v[j];
		}
		norm = sqrt(norm);
		for (int j = 0; j < dim; j++)
			pts[i * dim + j] = (float) (1000.0 + v[j] / norm * (1.0 + 1e-4 * rng_uniform(&r)));
	}
	/* one far point drags the mean and the norms up */
	for (int j = 0; j < dim; j++)
		pts[j] = 1e4f;
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

int
main(void)
{
	RUN_TEST(test_random_queries_match_naive);
	RUN_TEST(test_self_exclusion_matches_naive);
	RUN_TEST(test_ties_break_by_index);
	RUN_TEST(test_near_ties_fall_back_to_exact);
	RUN_TEST(test_well_separated_needs_no_fallback);
	RUN_TEST(test_k_equals_all_points);
	RUN_TEST(test_error_paths);
	RUN_TEST(test_work_bytes_formula);
	RUN_TEST(test_interrupts_polled);
	UNIT_EXIT();
}
