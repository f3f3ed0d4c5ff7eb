/*
 * ecgdl.c - module entry: GUCs and the core's allocator and interrupt hooks.
 */
#include "postgres.h"

#include "ecg_blas.h"
#include <limits.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#include "ecgdl.h"
#include "jobs.h"

PG_MODULE_MAGIC;

int			ecgdl_max_memory_mb = 4096;
int			ecgdl_threads = 2;
int			ecgdl_max_oversample_rows = 10000000;
int			ecgdl_max_jobs = 2;

void		_PG_init(void);

/*
 * Core allocations go to the current memory context, so an error or a cancel
 * that unwinds the core frees them with the context.  Huge allocations are
 * allowed (activation arenas exceed 1 GB at large batch sizes); failure
 * returns NULL and the core reports it.
 */
static void *
core_alloc(size_t size, void *ctx)
{
	return MemoryContextAllocExtended(CurrentMemoryContext, size == 0 ? 1 : size,
									  MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM);
}

static void *
core_resize(void *ptr, size_t size, void *ctx)
{
	return repalloc_huge(ptr, size == 0 ? 1 : size);
}

static void
core_release(void *ptr, void *ctx)
{
	pfree(ptr);
}

static void
core_check_interrupts(void)
{
	CHECK_FOR_INTERRUPTS();
}

static void
assign_max_memory(int newval, void *extra)
{
	ecg_set_memory_limit((size_t) newval * 1024 * 1024);
}

void
_PG_init(void)
{
	static const ecg_allocator allocator = {core_alloc, core_resize, core_release, NULL};

	ecg_set_allocator(&allocator);
	ecg_set_interrupt_hook(core_check_interrupts);

	DefineCustomIntVariable("ecgdl.max_memory",
							"Largest working memory one ecgdl call may allocate for its data and models.",
							"Training, oversampling, neighbour searches and models estimate their memory "
							"first and refuse work above this limit.  Only superusers may change it "
							"(ALTER ROLE ... SET gives a role its own value).",
							&ecgdl_max_memory_mb,
							4096, 16, INT_MAX / 2,
							PGC_SUSET, GUC_UNIT_MB,
							NULL, assign_max_memory, NULL);
	DefineCustomIntVariable("ecgdl.threads",
							"Worker threads ecgdl uses for numerical work in one backend.",
							NULL,
							&ecgdl_threads,
							2, 1, 64,
							PGC_USERSET, 0,
							NULL, NULL, NULL);
	/* the rows one ecg_oversample call writes: a bound on the disk a
	 * mistyped strategy can fill, which only a superuser may raise (per
	 * role with ALTER ROLE ... SET) */
	DefineCustomIntVariable("ecgdl.max_oversample_rows",
							"Largest number of rows one ecg_oversample call may generate.",
							"Checked from the class counts and the strategy before anything is "
							"generated or written.",
							&ecgdl_max_oversample_rows,
							10000000, 1, INT_MAX,
							PGC_SUSET, 0,
							NULL, NULL, NULL);
	/* background jobs (jobs.h): at most this many run at once in the server,
	 * the others wait queued; read when a job is queued or one ends */
	DefineCustomIntVariable("ecgdl.max_jobs",
							"Largest number of ecgdl background jobs that run at the same time.",
							"Jobs over the limit wait queued and start in order as others end.  "
							"Each job is a background worker: max_worker_processes must leave room.",
							&ecgdl_max_jobs,
							2, 0, ECGDL_JOB_SLOTS / 2,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);
	MarkGUCPrefixReserved("ecgdl");
	jobs_shmem_init();
	ecg_set_memory_limit((size_t) ecgdl_max_memory_mb * 1024 * 1024);
	/* the core runs its own pool of ecgdl.threads threads; OpenBLAS (only
	 * the k-NN search calls it) stays single-threaded beside it */
	ecg_blas_set_threads(1);
}
