/*
 * nn_threads.c - the worker pool behind the layer kernels.
 *
 * A task set is published by bumping `generation`; workers notice it (first
 * by spinning briefly, since kernels follow each other within microseconds,
 * then by sleeping on a condition variable), claim tasks from a shared
 * counter until none is left and count themselves out through `pending`.  The last worker out wakes the
 * caller, which may itself be spinning or sleeping.
 *
 * Workers start with every signal blocked (ecg_thread.h): only the creating
 * thread - the server backend - handles signals.
 */
#include "nn_threads.h"

#include "ecg_thread.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

/* Spin iterations before sleeping (a few tens of microseconds). */
#define NN_SPIN_LIMIT 20000

typedef struct nn_worker
{
	nn_pool    *pool;
	int			index;			/* thread number, 1 .. threads-1 */
	pthread_t	thread;
} nn_worker;

struct nn_pool
{
	int			threads;
	int			started;		/* workers actually running */
	nn_worker  *workers;

	pthread_mutex_t lock;
	pthread_cond_t wake;		/* a new generation or stop */
	pthread_cond_t done;		/* pending reached 0 */

	/* the current task set */
	nn_task_fn	fn;
	void	   *arg;
	int			n_tasks;

	atomic_uint generation;
	atomic_int	next_task;		/* the next task to hand out */
	atomic_int	pending;		/* workers still busy with this generation */
	atomic_int	stop;
};

/*
 * Every thread takes the next unclaimed task until none is left: a thread
 * slowed down by another program on its core simply takes fewer tasks.
 * Which thread runs a task never matters: tasks write disjoint outputs.
 */
static void
run_share(nn_pool *pool)
{
	int			t;

	while ((t = atomic_fetch_add_explicit(&pool->next_task, 1, memory_order_relaxed)) <
		   pool->n_tasks)
		pool->fn(pool->arg, t);
}

static void *
worker_main(void *p)
{
	nn_worker  *self = p;
	nn_pool    *pool = self->pool;
	unsigned	seen = 0;

	for (;;)
	{
		unsigned	gen = atomic_load_explicit(&pool->generation, memory_order_acquire);

		for (int spin = 0; gen == seen && spin < NN_SPIN_LIMIT; spin++)
		{
			if (atomic_load_explicit(&pool->stop, memory_order_relaxed))
				break;
			gen = atomic_load_explicit(&pool->generation, memory_order_acquire);
		}
		if (gen == seen)
		{
			pthread_mutex_lock(&pool->lock);
			while ((gen = atomic_load(&pool->generation)) == seen && !atomic_load(&pool->stop))
				pthread_cond_wait(&pool->wake, &pool->lock);
			pthread_mutex_unlock(&pool->lock);
		}
		if (atomic_load(&pool->stop))
			return NULL;
		seen = gen;
		run_share(pool);
		if (atomic_fetch_sub_explicit(&pool->pending, 1, memory_order_acq_rel) == 1)
		{
			/* last one out: wake the caller if it sleeps */
			pthread_mutex_lock(&pool->lock);
			pthread_cond_signal(&pool->done);
			pthread_mutex_unlock(&pool->lock);
		}
	}
}

static void
stop_workers(nn_pool *pool)
{
	pthread_mutex_lock(&pool->lock);
	atomic_store(&pool->stop, 1);
	pthread_cond_broadcast(&pool->wake);
	pthread_mutex_unlock(&pool->lock);
	for (int i = 0; i < pool->started; i++)
		pthread_join(pool->workers[i].thread, NULL);
	pool->started = 0;
}

nn_pool *
nn_pool_create(int n_threads, ecg_status *st)
{
	nn_pool    *pool;

	if (n_threads < 1 || n_threads > NN_POOL_MAX_THREADS)
	{
		ecg_fail(st, ECG_ERR_ARGUMENT, "thread count %d is out of range", n_threads);
		ecg_fail_detail(st, "The thread count must be between 1 and %d.", NN_POOL_MAX_THREADS);
		return NULL;
	}
	pool = ecg_alloc(sizeof(nn_pool));
	if (pool == NULL)
	{
		ecg_fail(st, ECG_ERR_NOMEM, "out of memory creating a thread pool");
		return NULL;
	}
	memset(pool, 0, sizeof(*pool));
	pool->threads = n_threads;
	atomic_init(&pool->generation, 0);
	atomic_init(&pool->next_task, 0);
	atomic_init(&pool->pending, 0);
	atomic_init(&pool->stop, 0);
	pthread_mutex_init(&pool->lock, NULL);
	pthread_cond_init(&pool->wake, NULL);
	pthread_cond_init(&pool->done, NULL);
	if (n_threads > 1)
	{
		pool->workers = ecg_alloc_array((size_t) (n_threads - 1), sizeof(nn_worker));
		if (pool->workers == NULL)
		{
			nn_pool_destroy(pool);
			ecg_fail(st, ECG_ERR_NOMEM, "out of memory creating a thread pool");
			return NULL;
		}
	}
	for (int i = 0; i < n_threads - 1; i++)
	{
		nn_worker  *w = &pool->workers[i];
		int			rc;

		w->pool = pool;
		w->index = i + 1;
		rc = ecg_thread_start(&w->thread, worker_main, w);
		if (rc != 0)
		{
			nn_pool_destroy(pool);
			ecg_fail(st, ECG_ERR_NOMEM, "could not start worker thread %d of %d", i + 1,
					 n_threads - 1);
			ecg_fail_detail(st, "pthread_create: %s", strerror(rc));
			return NULL;
		}
		pool->started++;
	}
	return pool;
}

void
nn_pool_destroy(nn_pool *pool)
{
	if (pool == NULL)
		return;
	stop_workers(pool);
	pthread_cond_destroy(&pool->done);
	pthread_cond_destroy(&pool->wake);
	pthread_mutex_destroy(&pool->lock);
	if (pool->workers)
		ecg_free(pool->workers);
	ecg_free(pool);
}

int
nn_pool_threads(const nn_pool *pool)
{
	return pool ? pool->threads : 1;
}

void
nn_pool_run(nn_pool *pool, int n_tasks, nn_task_fn fn, void *arg)
{
	if (n_tasks <= 0)
		return;
	if (pool == NULL || pool->threads == 1 || n_tasks == 1)
	{
		for (int t = 0; t < n_tasks; t++)
			fn(arg, t);
		return;
	}
	pool->fn = fn;
	pool->arg = arg;
	pool->n_tasks = n_tasks;
	atomic_store_explicit(&pool->next_task, 0, memory_order_relaxed);
	atomic_store_explicit(&pool->pending, pool->started, memory_order_relaxed);

	/* publish; the mutex pairs with sleeping workers' predicate check */
	pthread_mutex_lock(&pool->lock);
	atomic_fetch_add_explicit(&pool->generation, 1, memory_order_release);
	pthread_cond_broadcast(&pool->wake);
	pthread_mutex_unlock(&pool->lock);

	run_share(pool);

	for (int spin = 0; spin < NN_SPIN_LIMIT; spin++)
		if (atomic_load_explicit(&pool->pending, memory_order_acquire) == 0)
			return;
	pthread_mutex_lock(&pool->lock);
	while (atomic_load(&pool->pending) != 0)
		pthread_cond_wait(&pool->done, &pool->lock);
	pthread_mutex_unlock(&pool->lock);
}

static nn_pool *shared_pool;

void
nn_pool_set_shared(nn_pool *pool)
{
	shared_pool = pool;
}

nn_pool *
nn_pool_shared(void)
{
	return shared_pool;
}
