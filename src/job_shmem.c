/*
 * job_shmem.c - the progress slots of ecgdl.jobs in shared memory (jobs.h).
 *
 * ECGDL_JOB_SLOTS slots under one LWLock: a launched job reserves one before
 * its worker is registered (so ecgdl.max_jobs counts it at once), the worker
 * adopts it, and a session's synchronous ecg_train takes a free one while it
 * trains.  A slot is freed by its backend on exit; a slot whose worker never
 * started is freed by the next reservation that finds its worker stopped.
 * ecgdl.job_progress() lists the slots of the current database.
 */
#include "postgres.h"

#include <math.h>
#include <signal.h>

#include "access/xact.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/timestamp.h"

#include "ecgdl.h"
#include "jobs.h"

PG_FUNCTION_INFO_V1(ecg_job_progress);
PG_FUNCTION_INFO_V1(ecg_job_session_step);

typedef struct JobShared
{
	LWLock	   *lock;
	JobSlot		slots[ECGDL_JOB_SLOTS];
} JobShared;

static JobShared *job_shared = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;
static bool exit_callback_set = false;
/* this session's synchronous ecg_study holds the slot until its transaction ends */
static bool study_slot = false;
static bool xact_callback_set = false;

int			jobs_my_slot = -1;

static void
job_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(JobShared)));
	RequestNamedLWLockTranche("ecgdl_jobs", 1);
}

static void
job_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	job_shared = ShmemInitStruct("ecgdl_jobs", sizeof(JobShared), &found);
	if (!found)
	{
		memset(job_shared, 0, sizeof(JobShared));
		job_shared->lock = &(GetNamedLWLockTranche("ecgdl_jobs"))->lock;
	}
	LWLockRelease(AddinShmemInitLock);
}

void
jobs_shmem_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = job_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = job_shmem_startup;
	jobs_starter_register();
}

bool
jobs_shmem_ready(void)
{
	return job_shared != NULL;
}

void
jobs_require_shmem(const char *what)
{
	if (!jobs_shmem_ready())
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s needs ecgdl in shared_preload_libraries", what),
				 errdetail("Background jobs keep their progress in shared memory, which a library "
						   "loaded after the server started cannot have."),
				 errhint("Add ecgdl to shared_preload_libraries in postgresql.conf "
						 "(ALTER SYSTEM SET shared_preload_libraries = 'ecgdl') and restart the server.")));
}

/* Frees this backend's slot when it exits (a worker's end, a cancel, FATAL). */
static void
release_on_exit(int code, Datum arg)
{
	if (jobs_my_slot >= 0)
		jobs_slot_release(jobs_my_slot);
}

static void
ensure_exit_callback(void)
{
	if (!exit_callback_set)
	{
		on_shmem_exit(release_on_exit, (Datum) 0);
		exit_callback_set = true;
	}
}

/* how long a reserved slot may wait for its worker's pid */
#define RESERVE_TIMEOUT_MS 60000

/* Whether a slot's process is gone (a job's worker or a session), or a
 * reservation was never completed by its launcher.  Lock held. */
static bool
slot_is_stale(JobSlot *s)
{
	if (s->pid == 0)
		return TimestampDifferenceExceeds(s->started, GetCurrentTimestamp(), RESERVE_TIMEOUT_MS);
	return kill(s->pid, 0) != 0 && errno == ESRCH;
}

int
jobs_slot_reserve(int64 job_id, Oid owner, const char *kind)
{
	int			running = 0,
				free_slot = -1;

	LWLockAcquire(job_shared->lock, LW_EXCLUSIVE);
	for (int i = 0; i < ECGDL_JOB_SLOTS; i++)
	{
		JobSlot    *s = &job_shared->slots[i];

		if (s->in_use && slot_is_stale(s))
			s->in_use = false;
		if (!s->in_use)
		{
			if (free_slot < 0)
				free_slot = i;
			continue;
		}
		if (s->job_id == job_id && s->dboid == MyDatabaseId)
		{
			LWLockRelease(job_shared->lock);
			return -2;
		}
		if (s->job_id > 0)
			running++;
	}
	if (running >= ecgdl_max_jobs || free_slot < 0)
	{
		LWLockRelease(job_shared->lock);
		return -1;
	}
	{
		JobSlot    *s = &job_shared->slots[free_slot];

		memset(s, 0, sizeof(*s));
		s->in_use = true;
		s->dboid = MyDatabaseId;
		s->job_id = job_id;
		s->owner = owner;
		strlcpy(s->kind, kind, sizeof(s->kind));
		s->started = s->updated = GetCurrentTimestamp();
	}
	LWLockRelease(job_shared->lock);
	return free_slot;
}

void
jobs_slot_set_pid(int slot, pid_t pid)
{
	LWLockAcquire(job_shared->lock, LW_EXCLUSIVE);
	job_shared->slots[slot].pid = pid;
	LWLockRelease(job_shared->lock);
}

void
jobs_slot_release(int slot)
{
	if (job_shared == NULL || slot < 0)
		return;
	LWLockAcquire(job_shared->lock, LW_EXCLUSIVE);
	job_shared->slots[slot].in_use = false;
	LWLockRelease(job_shared->lock);
	if (slot == jobs_my_slot)
		jobs_my_slot = -1;
}

/* The slot of job_id of this database that is not stale, or -1.  Lock held. */
static int
find_job(int64 job_id)
{
	for (int i = 0; i < ECGDL_JOB_SLOTS; i++)
	{
		JobSlot    *s = &job_shared->slots[i];

		if (s->in_use && s->job_id == job_id && s->dboid == MyDatabaseId && !slot_is_stale(s))
			return i;
	}
	return -1;
}

bool
jobs_slot_live(int64 job_id, pid_t *pid)
{
	int			i;

	if (job_shared == NULL)
		return false;
	LWLockAcquire(job_shared->lock, LW_SHARED);
	i = find_job(job_id);
	if (i >= 0 && pid != NULL)
		*pid = job_shared->slots[i].pid;
	LWLockRelease(job_shared->lock);
	return i >= 0;
}

bool
jobs_slot_terminate(int64 job_id)
{
	int			i;
	pid_t		pid = 0;

	if (job_shared == NULL)
		return false;
	LWLockAcquire(job_shared->lock, LW_SHARED);
	i = find_job(job_id);
	if (i >= 0)
		pid = job_shared->slots[i].pid;
	LWLockRelease(job_shared->lock);
	if (pid != 0)
		(void) kill(pid, SIGTERM);
	return i >= 0;
}

bool
jobs_slot_find(int64 job_id, JobSlot *out)
{
	int			i;

	if (job_shared == NULL)
		return false;
	LWLockAcquire(job_shared->lock, LW_SHARED);
	i = find_job(job_id);
	if (i >= 0)
		*out = job_shared->slots[i];
	LWLockRelease(job_shared->lock);
	return i >= 0;
}

void
jobs_slot_copy(int slot, JobSlot *out)
{
	LWLockAcquire(job_shared->lock, LW_SHARED);
	*out = job_shared->slots[slot];
	LWLockRelease(job_shared->lock);
}

/* A worker takes over the slot its launcher reserved. */
void
jobs_slot_adopt(int slot)
{
	LWLockAcquire(job_shared->lock, LW_EXCLUSIVE);
	job_shared->slots[slot].pid = MyProcPid;
	job_shared->slots[slot].updated = GetCurrentTimestamp();
	LWLockRelease(job_shared->lock);
	jobs_my_slot = slot;
	ensure_exit_callback();
}

/*
 * A session's synchronous training takes a free slot (job 0) while it runs;
 * without a free slot (or without the slots) it is just not shown.
 */
static void
claim_session_slot(void)
{
	LWLockAcquire(job_shared->lock, LW_EXCLUSIVE);
	for (int i = 0; i < ECGDL_JOB_SLOTS && jobs_my_slot < 0; i++)
	{
		JobSlot    *s = &job_shared->slots[i];

		if (s->in_use && slot_is_stale(s))
			s->in_use = false;
		if (!s->in_use)
		{
			memset(s, 0, sizeof(*s));
			s->in_use = true;
			s->pid = MyProcPid;
			s->dboid = MyDatabaseId;
			s->owner = GetUserId();
			strlcpy(s->kind, "train", sizeof(s->kind));
			s->started = s->updated = GetCurrentTimestamp();
			jobs_my_slot = i;
		}
	}
	LWLockRelease(job_shared->lock);
	ensure_exit_callback();
}

/* Whether this backend's slot is a session's own (not a job worker's). */
bool
jobs_session_slot_claim(void)
{
	if (job_shared == NULL || jobs_my_slot >= 0)
		return false;
	claim_session_slot();
	return jobs_my_slot >= 0;
}

void
jobs_progress_model(const char *model, int epochs)
{
	JobSlot    *s;

	if (job_shared == NULL || jobs_my_slot < 0)
		return;
	s = &job_shared->slots[jobs_my_slot];
	LWLockAcquire(job_shared->lock, LW_EXCLUSIVE);
	strlcpy(s->model, model, sizeof(s->model));
	s->epochs = epochs;
	s->epoch = 0;
	s->loss = s->accuracy = s->val_loss = s->val_accuracy = s->lr = get_float8_nan();
	s->epoch_seconds = 0;
	s->epochs_timed = 0;
	s->updated = GetCurrentTimestamp();
	LWLockRelease(job_shared->lock);
}

void
jobs_progress_epoch(const nn_epoch_stats *e)
{
	JobSlot    *s;

	if (job_shared == NULL || jobs_my_slot < 0)
		return;
	s = &job_shared->slots[jobs_my_slot];
	LWLockAcquire(job_shared->lock, LW_EXCLUSIVE);
	s->epoch = e->epoch;
	s->loss = e->loss;
	s->accuracy = e->accuracy;
	s->val_loss = e->val_loss;
	s->val_accuracy = e->val_accuracy;
	s->lr = e->lr;
	if (e->seconds > 0)
	{
		s->epoch_seconds += e->seconds;
		s->epochs_timed++;
	}
	s->updated = GetCurrentTimestamp();
	LWLockRelease(job_shared->lock);
}

void
jobs_progress_step(int step, int steps)
{
	JobSlot    *s;

	if (job_shared == NULL || jobs_my_slot < 0)
		return;
	s = &job_shared->slots[jobs_my_slot];
	LWLockAcquire(job_shared->lock, LW_EXCLUSIVE);
	s->step = step;
	s->steps = steps;
	s->model[0] = '\0';
	s->epoch = s->epochs = 0;
	s->updated = GetCurrentTimestamp();
	LWLockRelease(job_shared->lock);
}

/* The end of the transaction of a synchronous study ends its display. */
static void
release_study_slot(XactEvent event, void *arg)
{
	if ((event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		 event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT) && study_slot)
	{
		study_slot = false;
		jobs_slot_release(jobs_my_slot);
	}
}

/*
 * ecgdl.session_step(step int, steps int): a synchronous ecg_study shows in
 * ecgdl.jobs which step it runs (kind study, id NULL); its trainings show in
 * the same row.  Step 0 ends the display, as does the end of the transaction.
 * Nothing without the slots, and nothing in a job's worker (which shows its
 * own steps).
 */
Datum
ecg_job_session_step(PG_FUNCTION_ARGS)
{
	int			step = PG_GETARG_INT32(0);

	if (job_shared == NULL || jobs_current_job > 0)
		PG_RETURN_VOID();
	if (step <= 0)
	{
		release_study_slot(XACT_EVENT_COMMIT, NULL);
		PG_RETURN_VOID();
	}
	if (jobs_my_slot < 0)
	{
		if (!xact_callback_set)
		{
			RegisterXactCallback(release_study_slot, NULL);
			xact_callback_set = true;
		}
		claim_session_slot();
		if (jobs_my_slot < 0)
			PG_RETURN_VOID();
		study_slot = true;
		LWLockAcquire(job_shared->lock, LW_EXCLUSIVE);
		strlcpy(job_shared->slots[jobs_my_slot].kind, "study", sizeof(job_shared->slots[0].kind));
		LWLockRelease(job_shared->lock);
	}
	if (study_slot)
		jobs_progress_step(step, PG_GETARG_INT32(1));
	PG_RETURN_VOID();
}

static Datum
float_or_null(double v, bool *isnull)
{
	*isnull = isnan(v);
	return Float8GetDatum(v);
}

/*
 * ecgdl.job_progress(): the live slots of this database - job (0 for a
 * session's training), pid, kind, owner, model, step, steps, epoch, epochs,
 * loss, accuracy, val_loss, val_accuracy, lr, seconds_left, started, updated.
 * No rows without the slots.
 */
Datum
ecg_job_progress(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	JobSlot    *copy;
	int			n = 0;

	InitMaterializedSRF(fcinfo, 0);
	if (job_shared == NULL)
		return (Datum) 0;
	copy = palloc(sizeof(JobSlot) * ECGDL_JOB_SLOTS);
	LWLockAcquire(job_shared->lock, LW_SHARED);
	for (int i = 0; i < ECGDL_JOB_SLOTS; i++)
		if (job_shared->slots[i].in_use && job_shared->slots[i].dboid == MyDatabaseId &&
			!slot_is_stale(&job_shared->slots[i]))
			copy[n++] = job_shared->slots[i];
	LWLockRelease(job_shared->lock);
	for (int i = 0; i < n; i++)
	{
		JobSlot    *s = &copy[i];
		Datum		v[17];
		bool		nulls[17] = {0};
		bool		training = s->epochs > 0;

		v[0] = Int64GetDatum(s->job_id);
		v[1] = Int32GetDatum(s->pid);
		nulls[1] = s->pid == 0;
		v[2] = CStringGetTextDatum(s->kind);
		v[3] = ObjectIdGetDatum(s->owner);
		v[4] = CStringGetTextDatum(s->model);
		nulls[4] = s->model[0] == '\0';
		v[5] = Int32GetDatum(s->step);
		nulls[5] = s->steps == 0;
		v[6] = Int32GetDatum(s->steps);
		nulls[6] = s->steps == 0;
		v[7] = Int32GetDatum(s->epoch);
		nulls[7] = !training;
		v[8] = Int32GetDatum(s->epochs);
		nulls[8] = !training;
		v[9] = float_or_null(training && s->epoch > 0 ? s->loss : NAN, &nulls[9]);
		v[10] = float_or_null(training && s->epoch > 0 ? s->accuracy : NAN, &nulls[10]);
		v[11] = float_or_null(training && s->epoch > 0 ? s->val_loss : NAN, &nulls[11]);
		v[12] = float_or_null(training && s->epoch > 0 ? s->val_accuracy : NAN, &nulls[12]);
		v[13] = float_or_null(training && s->epoch > 0 ? s->lr : NAN, &nulls[13]);
		/* the mean epoch time of this run times the epochs left (at most:
		 * early stopping may end it sooner) */
		v[14] = float_or_null(training && s->epochs_timed > 0
							  ? s->epoch_seconds / s->epochs_timed * (s->epochs - s->epoch) : NAN,
							  &nulls[14]);
		v[15] = TimestampTzGetDatum(s->started);
		v[16] = TimestampTzGetDatum(s->updated);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, nulls);
	}
	return (Datum) 0;
}
