/*
 * nn_threads.h - a small fixed-size pool of worker threads for the layer
 * kernels (src/core/nn_layers.h).
 *
 * The pool runs "task sets": nn_pool_run(pool, n_tasks, fn, arg) calls
 * fn(arg, task) once for every task in [0, n_tasks) and returns when all have
 * finished.  Threads claim tasks from a shared counter (so a thread slowed by
 * another program simply does fewer); which thread runs which task is
 * unspecified.  The calling thread works too, so a pool of 2 threads starts 1
 * worker.
 *
 * Determinism: the kernels split their work into a FIXED number of tasks
 * (NN_PARTS, see nn_layers.h) that does not depend on the thread count, every
 * task writes only its own outputs, and partial sums are reduced by the
 * calling thread in task order.  So results are bit-identical for any number
 * of threads, including a NULL pool.
 *
 * Rules (see ecg_core.h):
 *  - task functions never call ecg_alloc/ecg_free or ecg_check_interrupts (they
 *    may run on worker threads); everything they touch is allocated by the
 *    caller beforehand;
 *  - nn_pool_run must be called from the thread that created the pool, never
 *    recursively from inside a task;
 *  - the pool memory comes from ecg_alloc and the workers sleep inside it, so
 *    the creator MUST call nn_pool_destroy on every exit path, including when
 *    an error or cancel unwinds (PG_TRY/PG_FINALLY in the server), before that
 *    memory is released.
 *
 * A NULL pool means "single-threaded": nn_pool_run then runs every task in the
 * calling thread, in order.
 */
#ifndef ECG_NN_THREADS_H
#define ECG_NN_THREADS_H

#include "ecg_core.h"

/* Largest accepted thread count. */
#define NN_POOL_MAX_THREADS 64

typedef struct nn_pool nn_pool;

typedef void (*nn_task_fn) (void *arg, int task);

/*
 * Creates a pool of n_threads threads in total (the caller counts as one, so
 * n_threads - 1 workers are started).  n_threads must be in
 * [1, NN_POOL_MAX_THREADS]; otherwise ECG_ERR_ARGUMENT.  Failure to start a
 * thread gives ECG_ERR_NOMEM with the system's reason in the detail.
 * Returns NULL on failure.
 */
nn_pool    *nn_pool_create(int n_threads, ecg_status *st);

/* Stops and joins the workers and frees the pool.  NULL is accepted. */
void		nn_pool_destroy(nn_pool *pool);

/* Number of threads (1 for NULL). */
int			nn_pool_threads(const nn_pool *pool);

/*
 * Runs fn(arg, t) for t = 0 .. n_tasks-1 (each exactly once, on any of the
 * pool's threads) and waits for all of them.  n_tasks <= 0 does nothing.
 */
void		nn_pool_run(nn_pool *pool, int n_tasks, nn_task_fn fn, void *arg);

/*
 * The shared pool: the pool the core's code without a pool argument (the
 * k-NN search, knn_shared.h) runs on - the same threads as the layers.  The
 * pool's creator sets it around a call and sets NULL again before destroying
 * the pool, on every exit path (PG_FINALLY in the server).  NULL (the
 * default): that code runs in the calling thread.  One per process; the core
 * is called from one thread at a time.
 */
void		nn_pool_set_shared(nn_pool *pool);
nn_pool    *nn_pool_shared(void);

#endif
