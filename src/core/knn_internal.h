/*
 * knn_internal.h - the brute-force blocked-GEMM search (knn.c) as the search
 * entry points see it.  Not part of the public API (see knn.h); the pruned
 * search over a projection tree is declared in knn_tree.h, what both paths
 * use in knn_shared.h.
 *
 * Both paths return, for each query, the k points with the smallest
 * (knn_exact_sqdist(query, point), point index) pairs in lexicographic
 * order, so they give identical results and either can answer any query.
 */
#ifndef ECG_KNN_INTERNAL_H
#define ECG_KNN_INTERNAL_H

#include <stdint.h>

#include "knn_shared.h"

/* Work memory of the brute-force path alone. */
size_t		knn_brute_work_bytes(int64_t n_points, int dim, int k);

/* The brute-force search of already validated arguments (knn.h). */
int			knn_brute_search(const float *points, int64_t n_points,
							 const float *queries, int64_t n_queries,
							 int dim, int k, const int64_t *query_self_index,
							 int64_t *neighbours, float *distances,
							 int64_t *exact_fallbacks, ecg_status *st);

#endif
