/*
 * Unit tests for the core's worker threads (src/core/ecg_thread.c,
 * nn_threads.c, knn_shared.c): every thread the core starts runs with all signals
 * blocked, so that the server's signal handlers run on the backend's own
 * thread only (issue 10, finding 13: the layer pool's workers did not block
 * them), and starting threads leaves the caller's own mask as it was.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>

#include "unit.h"
#include "ecg_thread.h"
#include "knn_shared.h"
#include "nn_threads.h"

/* The standard signals a server backend handles, and the real-time range. */
static int
all_blocked(const sigset_t *set)
{
	static const int server_signals[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGALRM, SIGUSR1,
	SIGUSR2, SIGCHLD, SIGPIPE, SIGURG, SIGWINCH};

	for (size_t i = 0; i < sizeof(server_signals) / sizeof(server_signals[0]); i++)
		if (sigismember(set, server_signals[i]) != 1)
			return 0;
	for (int s = SIGRTMIN; s <= SIGRTMAX; s++)
		if (sigismember(set, s) != 1)
			return 0;
	return 1;
}

static void
current_mask(sigset_t *set)
{
	sigemptyset(set);
	pthread_sigmask(SIG_BLOCK, NULL, set);
}

static void *
record_mask(void *arg)
{
	current_mask(arg);
	return NULL;
}

/* The caller's mask for the tests: only SIGUSR2 blocked. */
static void
set_caller_mask(sigset_t *saved)
{
	sigset_t	only;

	sigemptyset(&only);
	sigaddset(&only, SIGUSR2);
	pthread_sigmask(SIG_SETMASK, &only, saved);
}

static int
caller_mask_unchanged(void)
{
	sigset_t	now;

	current_mask(&now);
	return sigismember(&now, SIGUSR2) == 1 && sigismember(&now, SIGINT) == 0 &&
		sigismember(&now, SIGTERM) == 0;
}

static void
test_thread_start_blocks_every_signal(void)
{
	sigset_t	saved,
				seen;
	pthread_t	thread;

	set_caller_mask(&saved);
	CHECK(ecg_thread_start(&thread, record_mask, &seen) == 0);
	pthread_join(thread, NULL);
	CHECK(all_blocked(&seen));
	CHECK(caller_mask_unchanged());
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
}

/* Two tasks that each wait until both have started: they must run on two
 * threads at once, so one of them runs on a worker. */
typedef struct mask_probe
{
	atomic_int	started;
	pthread_t	caller;
	sigset_t	mask[2];
	int			on_worker[2];
} mask_probe;

static void
probe_task(void *arg, int task)
{
	mask_probe *p = arg;

	atomic_fetch_add(&p->started, 1);
	while (atomic_load(&p->started) < 2)
		;
	current_mask(&p->mask[task]);
	p->on_worker[task] = !pthread_equal(pthread_self(), p->caller);
}

static void
test_layer_pool_workers_block_every_signal(void)
{
	sigset_t	saved;
	ecg_status	st;
	nn_pool    *pool;
	mask_probe	probe;
	int			workers = 0;

	set_caller_mask(&saved);
	pool = nn_pool_create(2, &st);
	CHECK(pool != NULL);
	if (pool != NULL)
	{
		memset(&probe, 0, sizeof(probe));
		atomic_init(&probe.started, 0);
		probe.caller = pthread_self();
		nn_pool_run(pool, 2, probe_task, &probe);
		for (int t = 0; t < 2; t++)
			if (probe.on_worker[t])
			{
				workers++;
				CHECK_MSG(all_blocked(&probe.mask[t]), "task %d ran with signals unblocked", t);
			}
			else
				CHECK(!all_blocked(&probe.mask[t]));	/* the caller keeps its mask */
		CHECK(workers == 1);
		nn_pool_destroy(pool);
	}
	CHECK(caller_mask_unchanged());
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
}

typedef struct knn_slot
{
	sigset_t	mask;
	int			on_worker;
	pthread_t	caller;
	atomic_int *started;
} knn_slot;

/* waits for the other task, so that each of the two runs on its own thread */
static void *
knn_record(void *arg)
{
	knn_slot   *slot = arg;

	atomic_fetch_add(slot->started, 1);
	while (atomic_load(slot->started) < 2)
		;
	current_mask(&slot->mask);
	slot->on_worker = !pthread_equal(pthread_self(), slot->caller);
	return NULL;
}

/* the k-NN workers run as tasks of the shared pool (the layers' threads) */
static void
test_knn_workers_block_every_signal(void)
{
	sigset_t	saved;
	ecg_status	st;
	nn_pool    *pool;
	knn_slot	slots[2];
	void	   *args[2];
	atomic_int	started;
	int			workers = 0;

	set_caller_mask(&saved);
	CHECK(knn_worker_count() == 1);	/* no shared pool: the calling thread */
	pool = nn_pool_create(2, &st);
	CHECK(pool != NULL);
	if (pool != NULL)
	{
		nn_pool_set_shared(pool);
		CHECK(knn_worker_count() == 2);
		atomic_init(&started, 0);
		for (int t = 0; t < 2; t++)
		{
			memset(&slots[t], 0, sizeof(slots[t]));
			slots[t].caller = pthread_self();
			slots[t].started = &started;
			args[t] = &slots[t];
		}
		knn_run_parallel(knn_record, args, 2);
		for (int t = 0; t < 2; t++)
			if (slots[t].on_worker)
			{
				workers++;
				CHECK_MSG(all_blocked(&slots[t].mask), "k-NN task %d ran with signals unblocked", t);
			}
			else
				CHECK(!all_blocked(&slots[t].mask));
		CHECK(workers == 1);
		nn_pool_set_shared(NULL);
		nn_pool_destroy(pool);
	}
	CHECK(caller_mask_unchanged());
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
}

int
main(void)
{
	RUN_TEST(test_thread_start_blocks_every_signal);
	RUN_TEST(test_layer_pool_workers_block_every_signal);
	RUN_TEST(test_knn_workers_block_every_signal);
	UNIT_EXIT();
}
