/*
 * knn_shared.h - what the brute-force k-NN search (knn.c) and the projection
 * tree search (knn_tree.c) both use: the candidate order, the exact distance
 * (declared in knn.h), the worker count and running workers on the core's
 * thread pool.  Not part of the public API.  Neither search file includes the
 * other's header: knn.c chooses between them (knn_tree.h), knn_tree.c needs
 * only this file.
 */
#ifndef ECG_KNN_SHARED_H
#define ECG_KNN_SHARED_H

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

/* Worker count of a search: the threads of the shared pool
 * (nn_pool_shared(), nn_threads.h), 1 without one; at most KNN_MAX_THREADS. */
int			knn_worker_count(void);

/*
 * Runs fn(args[t]) for t in 0..n-1 (n <= knn_worker_count()) as one task set
 * of the shared pool, whose workers have every signal blocked; in the calling
 * thread, in order, without a pool.  Returns when all are done.  Each args[t]
 * is a worker's whole state, so which thread runs it does not matter.
 */
void		knn_run_parallel(void *(*fn) (void *), void **args, int n);

#endif
