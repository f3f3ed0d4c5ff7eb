/*
 * knn.h - exact Euclidean k-nearest-neighbour search for dense float rows.
 *
 * Result: for each query, the k points with the smallest (d, index) pairs,
 * d = knn_exact_sqdist(query, point) (the squared distance accumulated in
 * double), nearest first.  Two search paths give exactly that result, so
 * which one runs never changes an answer:
 *
 * 1. A pruned search (knn_tree.c), for large searches on data of low
 *    intrinsic dimension such as heartbeats: the rows are described by
 *    their projections on 31 leading principal directions plus the norm of
 *    the remainder, whose distance is a certified lower bound of the true
 *    distance; a kd-tree over those 32 coordinates (node bounding boxes)
 *    lets each query skip the points and whole subtrees that cannot be
 *    among its k nearest.  Details, error margins and the certification in
 *    knn_tree.c.
 *
 * 2. Brute force, like scikit-learn's NearestNeighbors with
 *    algorithm='brute': every query is compared with every point.
 *
 * Choice (KNN_METHOD_AUTO): the tree is tried only when the brute-force
 * work is large (n_points >= 2048, 4 <= dim <= 1024, n_points x n_queries x
 * dim >= 5e8).  The tree answers a trial batch of 128 queries; its work
 * counters are then compared with the cost of brute force (a fixed cost
 * model), and the remaining queries go to the tree when it pays, else (data
 * of high intrinsic dimension, such as uniform noise) to brute force.
 * Points whose centred norm reaches 1e15 are not indexed (brute force).
 *
 * The brute-force path.  Squared distances are formed as
 * |q|^2 + |x|^2 - 2 q.x, the q.x products of a block
 * of queries against a block of points coming from one cblas_sgemm call.
 * Each query keeps a small max-heap of the best candidates seen so far
 * (k plus a few extra).  Because the expanded formula loses precision in
 * float, the candidates are then re-ranked by their exact distance computed
 * directly in double, and a rigorous bound on the float error checks that no
 * point left out of the candidate list could still belong to the k nearest;
 * when that check fails for a query (near-ties in huge, dense data), the
 * query is answered by an exact scan in double instead.  The result is
 * therefore the exact k-NN in double precision of the float inputs.
 *
 * Order and ties: neighbours come nearest first; equal exact distances are
 * ordered by ascending point index.  Rows are stored in id order, so ties
 * resolve by id and results are deterministic.
 *
 * Self-exclusion: when queries are (some of) the points themselves, pass
 * query_self_index[i] = the index in `points` of query i (or -1 for none) and
 * that point is never returned for query i.  imbalanced-learn instead asks
 * for k+1 neighbours and drops the first column; both agree except when a
 * query has exact duplicates (distance 0) that scikit-learn happens to order
 * before the query itself.
 *
 * To keep the float error small, the GEMM works on copies of the rows
 * centred on the points' mean (distances do not change under translation).
 *
 * Threads: T = the threads of the shared pool (nn_pool_shared(), 1 without
 * one; at most KNN_MAX_THREADS) run the workers, as task sets of that pool.
 * Brute force: at most one per query block; each worker owns a block of
 * queries and runs single-threaded GEMMs plus its own candidate selection
 * (OpenBLAS is set to one thread while workers run and restored to its
 * previous count after each round, ecg_blas.h).  Tree: workers take queries one at a time from a shared counter
 * during rounds of about 10 ms.  Workers never allocate and never poll; the
 * calling thread calls ecg_check_interrupts() between rounds (every ~10
 * milliseconds) and while building the tree.
 *
 * Memory (besides the caller's arrays), with n = n_points, d = dim,
 * Bq = KNN_QUERY_BLOCK, Bp = KNN_POINT_BLOCK, kc = k + KNN_EXTRA_CANDIDATES(k):
 *   brute force:
 *     4*n*d + 4*n + 12*d       centred points, their squared norms, the mean
 *   + T * ( 4*Bq*d + 4*Bq      per worker: centred query block and norms
 *         + 4*Bq*Bp            the q.x block (float)
 *         + 12*Bq*kc + 4*Bq    candidate heaps (float distance + int64 index)
 *         + 16*kc + 16*k )     re-ranking scratch
 *   (752 bytes per point + about 4.6 MB for d = 187, k = 5, T = 2);
 *   tree (the rows themselves are not copied):
 *     195 bytes per point      128 of coordinates (32 floats), 16 of
 *                              order and position, 35 of nodes and their
 *                              boxes, 16 of query order (one query per
 *                              point counted: add 16 per query beyond n)
 *   + 8*d*(d + 354) + 68 KB    covariance, basis, projection chunk
 *   + T * (8*d + 32*k)         per worker
 *   (12.8 MB for n = 61,315, d = 187, k = 5, T = 2), only for d <= 1024.
 * The two are never allocated together; knn_work_bytes() is the larger.
 * No n x n matrix is ever formed.
 */
#ifndef ECG_KNN_H
#define ECG_KNN_H

#include <stdint.h>

#include "ecg_core.h"

#define KNN_QUERY_BLOCK 256
#define KNN_POINT_BLOCK 2048
/* Largest k accepted. */
#define KNN_MAX_K 1024
/* Most worker threads (one per OpenBLAS thread). */
#define KNN_MAX_THREADS 16
/* Extra candidates kept per query before the exact re-ranking. */
#define KNN_EXTRA_CANDIDATES(k) ((k) < 8 ? 8 : (k))

/*
 * Finds, for each of n_queries query rows, its k nearest points.
 *
 * points:   n_points x dim floats, row-major.
 * queries:  n_queries x dim floats, row-major (may alias points).
 * k:        1..KNN_MAX_K; at most the number of eligible points (n_points,
 *           minus one when a self index is given), else ECG_ERR_ARGUMENT.
 * query_self_index: NULL, or n_queries entries, each -1 or the index in
 *           points of the point to exclude for that query.
 * neighbours: out, n_queries x k point indices, nearest first.
 * distances:  out or NULL, n_queries x k Euclidean distances (not squared),
 *           each computed exactly in double, then rounded to float.
 *
 * Non-finite values (NaN, infinity) in points or queries are rejected with
 * ECG_ERR_DATA naming the row.  Returns 0, or -1 with *st set
 * (ECG_ERR_ARGUMENT, ECG_ERR_DATA, ECG_ERR_NOMEM, ECG_ERR_LIMIT).
 */
int			knn_search(const float *points, int64_t n_points,
					   const float *queries, int64_t n_queries,
					   int dim, int k,
					   const int64_t *query_self_index,
					   int64_t *neighbours, float *distances,
					   ecg_status *st);

/* Work memory knn_search allocates for these sizes: the larger of the two
 * paths (see the formulas above; the tree adds 16 bytes per query beyond
 * n_points); SIZE_MAX when it overflows. */
size_t		knn_work_bytes(int64_t n_points, int dim, int k);

/* Optional counters of knn_search_with_stats() and knn_search_using(). */
typedef struct knn_stats
{
	int64_t		exact_fallbacks;	/* queries answered by an exact double search */
	int64_t		tree_queries;	/* queries answered by the pruned tree search */
	int64_t		brute_queries;	/* queries answered by brute force */
	int64_t		tree_nodes;		/* work of the tree search: nodes visited, */
	int64_t		tree_bounds;	/* per-point lower bounds evaluated, */
	int64_t		tree_distances; /* full-dimension distances evaluated */
} knn_stats;

/* knn_search(), also filling *stats when it is not NULL. */
int			knn_search_with_stats(const float *points, int64_t n_points,
								  const float *queries, int64_t n_queries,
								  int dim, int k,
								  const int64_t *query_self_index,
								  int64_t *neighbours, float *distances,
								  knn_stats *stats, ecg_status *st);

/* Which search path knn_search_using() takes (results are identical). */
typedef enum knn_method
{
	KNN_METHOD_AUTO = 0,		/* the choice described above */
	KNN_METHOD_BRUTE,			/* always brute force */
	KNN_METHOD_TREE				/* the tree for every query, unless it cannot
								 * serve the points (centred norms >= 1e15 or
								 * dim > 1024: brute force) */
} knn_method;

/* knn_search_with_stats() with a forced path (tests, benchmarks). */
int			knn_search_using(knn_method method, const float *points, int64_t n_points,
							 const float *queries, int64_t n_queries,
							 int dim, int k,
							 const int64_t *query_self_index,
							 int64_t *neighbours, float *distances,
							 knn_stats *stats, ecg_status *st);

/* Exact squared Euclidean distance of two float rows, accumulated in double. */
double		knn_exact_sqdist(const float *a, const float *b, int dim);

#endif
