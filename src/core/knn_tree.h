/*
 * knn_tree.h - the pruned k-NN search over a projection tree (knn_tree.c),
 * as knn.c uses it.  Not part of the public API (see knn.h).  It returns the
 * same neighbours as the brute-force path (knn_internal.h).
 */
#ifndef ECG_KNN_TREE_H
#define ECG_KNN_TREE_H

#include <stdint.h>

#include "knn_shared.h"

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
