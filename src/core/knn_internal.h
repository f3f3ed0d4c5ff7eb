/*
 * knn_internal.h - what the two k-NN search paths share: the brute-force
 * blocked-GEMM search (knn.c) and the pruned search over a projection tree
 * (knn_tree.c).  Not part of the public API (see knn.h).
 *
 * Both paths return, for each query, the k points with the smallest
 * (knn_exact_sqdist(query, point), point index) pairs in lexicographic
 * order, so they give identical results and either can answer any query.
 */
#ifndef ECG_KNN_INTERNAL_H
#define ECG_KNN_INTERNAL_H

#include <stdint.h>

#include "ecg_core.h"
#include "knn.h"

/* One candidate: a squared distance and the point index; ordered by
 * distance, then index. */
typedef struct knn_candidate
{
	double		dist;
	int64_t		index;
} knn_candidate;

static inline int
knn_candidate_before(double da, int64_t ia, double db, int64_t ib)
{
	return da < db || (da == db && ia < ib);
}

/* Insertion sort of a few candidates by (dist, index). */
void		knn_sort_candidates(knn_candidate *c, int n);

/* Worker threads to use: openblas_get_num_threads(), 1..KNN_MAX_THREADS. */
int			knn_worker_count(void);

/* Runs fn(args[t]) for t in 0..n-1: args[0] on the calling thread, the
 * others on new threads with every signal blocked (on the calling thread
 * when a thread cannot start); returns when all are done. */
void		knn_run_parallel(void *(*fn) (void *), void **args, int n);

/* Work memory of the brute-force path alone. */
size_t		knn_brute_work_bytes(int64_t n_points, int dim, int k);

/* The brute-force search of already validated arguments (knn.h). */
int			knn_brute_search(const float *points, int64_t n_points,
							 const float *queries, int64_t n_queries,
							 int dim, int k, const int64_t *query_self_index,
							 int64_t *neighbours, float *distances,
							 int64_t *exact_fallbacks, ecg_status *st);

/* ---------------------------------------------------------------------- */
/* The projection tree (knn_tree.c) */

typedef struct knn_tree knn_tree;

/* Widest rows the tree takes (its build needs dim x dim doubles). */
#define KNN_TREE_MAX_DIM 1024

/* Work counters of tree searches, summed over queries. */
typedef struct knn_tree_counters
{
	int64_t		queries;
	int64_t		nodes;			/* tree nodes visited */
	int64_t		bounds;			/* per-point lower bounds evaluated */
	int64_t		distances;		/* full-dimension distances evaluated */
	int64_t		exact_searches; /* queries that needed the exact-order search */
} knn_tree_counters;

/* Work memory of knn_tree_build() plus knn_tree_search(); SIZE_MAX on
 * overflow. */
size_t		knn_tree_work_bytes(int64_t n_points, int dim, int k);

/* Builds the tree over points (kept by pointer: they must outlive it).
 * Polls for interrupts.  Returns 0; 1 when the tree cannot serve these
 * points (dim > KNN_TREE_MAX_DIM, centred norms >= 1e15, no orthonormal
 * basis), nothing allocated; or -1 (ECG_ERR_NOMEM) with *st set. */
int			knn_tree_build(const float *points, int64_t n_points, int dim,
						   knn_tree **out, ecg_status *st);
void		knn_tree_free(knn_tree *tree);

/* Answers queries [q_begin, q_end) (arguments already validated), adding
 * to *counters.  Returns 0, or -1 with *st set (out of memory). */
int			knn_tree_search(const knn_tree *tree, const float *queries,
							int64_t q_begin, int64_t q_end, int k,
							const int64_t *query_self_index,
							int64_t *neighbours, float *distances,
							knn_tree_counters *counters, ecg_status *st);

#endif
