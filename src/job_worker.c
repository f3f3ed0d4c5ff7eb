/*
 * job_worker.c - the background worker that runs one job (jobs.h).
 *
 * Launched by jobs_launch_queued with the job id, database, login role, the
 * transaction that queued it and its reserved progress slot.  It waits for
 * that transaction to end, marks the job running (or ends when the job is no
 * longer queued: rolled back or cancelled), takes its owner's role and the
 * caller's settings, and runs the work:
 *
 *  - train: ecg_train with the stored arguments, in one transaction that
 *    also marks the job done - or finds it cancelled and rolls back;
 *  - study: each step of the study (ecgdl.study_step: split, an
 *    oversampling, a model's training and evaluation) in its own
 *    transaction, which also records the step as done, so that a resumed
 *    study skips the steps done.
 *
 * The training of a job saves a checkpoint per epoch (job_checkpoint.c).  A
 * SIGTERM (ecg_job_cancel) ends the worker at its next check for interrupts
 * (die(): every batch of training checks); an error marks the job failed
 * with its message and SQLSTATE.  At the end the worker frees its slot and
 * starts the next queued jobs.
 */
#include "postgres.h"

#include <math.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/lmgr.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "ecgdl.h"
#include "jobs.h"

typedef struct JobSpec
{
	char	   *kind;
	Oid			owner;
	Datum		args;			/* jsonb, in TopMemoryContext */
	char	   *settings_path;	/* search_path */
	char	   *threads;
	char	   *max_memory;
	int			steps_done;
	char	   *ext_schema;		/* quoted */
} JobSpec;

static void
begin_work(void)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	PushActiveSnapshot(GetTransactionSnapshot());
}

static void
end_work(void)
{
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
}

static char *
dup_value(int col)
{
	char	   *v = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, col);

	return v ? MemoryContextStrdup(TopMemoryContext, v) : NULL;
}

/* Marks the job done in the work's own transaction; errors when it was
 * cancelled meanwhile (the work is then rolled back). */
static void
finish_or_cancelled(int64 id, const char *set)
{
	JobSlot		slot;

	jobs_slot_copy(jobs_my_slot, &slot);
	if (jobs_update_row(id, &slot, set, true) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_QUERY_CANCELED),
				 errmsg("job %lld was cancelled", (long long) id)));
}

/* Waits for the transaction that queued the job, then claims it. */
static bool
claim_job(const JobWorkerArgs *a, JobSpec *job)
{
	Oid			types[2] = {INT8OID, INT4OID};
	Datum		values[2] = {Int64GetDatum(a->job_id), Int32GetDatum(MyProcPid)};
	bool		isnull;
	bool		found;

	begin_work();
	if (TransactionIdIsValid(a->wait_for))
		XactLockTableWait(a->wait_for, NULL, NULL, XLTW_None);
	/* a new snapshot: the queuing transaction's row is visible now */
	PopActiveSnapshot();
	PushActiveSnapshot(GetTransactionSnapshot());
	(void) execute_as_table_owner(jobs_table_oid(),
								  "UPDATE ecgdl.jobs_table SET state = 'running', pid = $2, "
								  "started_at = COALESCE(started_at, pg_catalog.clock_timestamp()), "
								  "updated_at = pg_catalog.clock_timestamp() "
								  "WHERE id OPERATOR(pg_catalog.=) $1 AND state OPERATOR(pg_catalog.=) 'queued' "
								  "RETURNING kind, owner::pg_catalog.oid, args, settings->>'search_path', "
								  "settings->>'ecgdl.threads', settings->>'ecgdl.max_memory', steps_done, "
								  "(SELECT pg_catalog.quote_ident(n.nspname) FROM pg_catalog.pg_extension e "
								  " JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace "
								  " WHERE e.extname OPERATOR(pg_catalog.=) 'ecgdl')",
								  2, types, values, NULL);
	found = SPI_processed == 1;
	if (found)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		job->kind = dup_value(1);
		job->owner = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
		job->args = PointerGetDatum(DatumGetJsonbPCopy(SPI_getbinval(SPI_tuptable->vals[0],
																	  SPI_tuptable->tupdesc, 3, &isnull)));
		job->settings_path = dup_value(4);
		job->threads = dup_value(5);
		job->max_memory = dup_value(6);
		job->steps_done = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 7, &isnull));
		job->ext_schema = dup_value(8);
		MemoryContextSwitchTo(old);
	}
	end_work();
	return found;
}

/* The owner's role and the caller's settings, for the rest of the worker. */
static void
become_owner(const JobSpec *job)
{
	StartTransactionCommand();
	if (job->owner != GetUserId())
		SetCurrentRoleId(job->owner, superuser_arg(job->owner));
	CommitTransactionCommand();
	if (job->settings_path)
		SetConfigOption("search_path", job->settings_path, PGC_USERSET, PGC_S_SESSION);
	if (job->threads)
		SetConfigOption("ecgdl.threads", job->threads, PGC_USERSET, PGC_S_SESSION);
	if (job->max_memory)
		SetConfigOption("ecgdl.max_memory", job->max_memory, PGC_SUSET, PGC_S_SESSION);
}

static void
run_train(int64 id, const JobSpec *job)
{
	Oid			types[1] = {JSONBOID};
	Datum		values[1] = {job->args};
	bool		isnull;
	int64		model_id;

	begin_work();
	pgstat_report_activity(STATE_RUNNING, "ecgdl job: ecg_train");
	if (SPI_execute_with_args(psprintf("SELECT %s.ecg_train(a->>'name', (a->>'train')::pg_catalog.oid::pg_catalog.regclass, "
									   "a->>'arch', (a->>'validation')::pg_catalog.oid::pg_catalog.regclass, "
									   "(a->>'epochs')::pg_catalog.int4, (a->>'batch_size')::pg_catalog.int4, "
									   "(a->>'learning_rate')::pg_catalog.float8, (a->>'patience')::pg_catalog.int4, "
									   "(a->>'seed')::pg_catalog.int4, a->>'class_weight', (a->>'replace')::pg_catalog.bool, "
									   "(a->>'validation_fraction')::pg_catalog.float8, a->>'operating_point', "
									   "(SELECT pg_catalog.array_agg(f) FROM pg_catalog.jsonb_array_elements_text("
									   "  CASE WHEN pg_catalog.jsonb_typeof(a->'features') OPERATOR(pg_catalog.=) 'array' "
									   "  THEN a->'features' END) f), "
									   "COALESCE(a->>'augment', 'none')) "
									   "FROM (SELECT $1 AS a) s", job->ext_schema),
							  1, types, values, NULL, false, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "the training of job %lld returned no model", (long long) id);
	model_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	finish_or_cancelled(id, psprintf(", state = 'done', finished_at = pg_catalog.clock_timestamp(), "
									 "pid = NULL, model_id = %lld", (long long) model_id));
	end_work();
	jobs_checkpoint_remove(MyDatabaseId, id);
}

/* The number of steps of a study job: the split, an oversampling per method
 * but none, a training and evaluation per method and architecture. */
static int
study_steps(const JobSpec *job)
{
	Oid			types[1] = {JSONBOID};
	Datum		values[1] = {job->args};
	bool		isnull;
	int			n;

	begin_work();
	SPI_execute_with_args("SELECT 1 OPERATOR(pg_catalog.+) (SELECT pg_catalog.count(*)::pg_catalog.int4 "
						  "FROM pg_catalog.jsonb_array_elements_text($1->'methods') m "
						  "WHERE m OPERATOR(pg_catalog.<>) 'none') OPERATOR(pg_catalog.+) "
						  "pg_catalog.jsonb_array_length($1->'methods') OPERATOR(pg_catalog.*) "
						  "pg_catalog.jsonb_array_length($1->'archs')",
						  1, types, values, NULL, true, 1);
	n = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	end_work();
	return n;
}

static void
run_study(int64 id, const JobSpec *job)
{
	int			steps = study_steps(job);

	for (int step = job->steps_done + 1; step <= steps; step++)
	{
		Oid			types[2] = {JSONBOID, INT4OID};
		Datum		values[2] = {job->args, Int32GetDatum(step)};

		jobs_progress_step(step, steps);
		begin_work();
		pgstat_report_activity(STATE_RUNNING, psprintf("ecgdl job: study step %d of %d", step, steps));
		SPI_execute_with_args(psprintf("SELECT ecgdl.study_step((a->>'source')::pg_catalog.oid::pg_catalog.regclass, "
									   "a->>'prefix', (a->>'epochs')::pg_catalog.int4, (a->>'batch_size')::pg_catalog.int4, "
									   "(a->>'patience')::pg_catalog.int4, (a->>'seed')::pg_catalog.int4, a->>'split', "
									   "ARRAY(SELECT pg_catalog.jsonb_array_elements_text(a->'methods')), "
									   "ARRAY(SELECT pg_catalog.jsonb_array_elements_text(a->'archs')), "
									   "(a->>'replace')::pg_catalog.bool, a->>'class_weight', "
									   "(a->>'reuse_split')::pg_catalog.bool, $2) FROM (SELECT $1 AS a) s"),
							  2, types, values, NULL, false, 1);
		finish_or_cancelled(id, psprintf(", steps_done = %d, steps = %d", step, steps));
		end_work();
		jobs_checkpoint_remove(MyDatabaseId, id);
	}
	begin_work();
	finish_or_cancelled(id, ", state = 'done', finished_at = pg_catalog.clock_timestamp(), pid = NULL");
	end_work();
}

/* After an error: the job failed, with its message and SQLSTATE (unless it
 * was cancelled meanwhile). */
static void
record_failure(int64 id, ErrorData *edata)
{
	Oid			types[3] = {INT8OID, TEXTOID, TEXTOID};
	Datum		values[3] = {Int64GetDatum(id), CStringGetTextDatum(edata->message ? edata->message : "error"),
	CStringGetTextDatum(unpack_sql_state(edata->sqlerrcode))};

	begin_work();
	(void) execute_as_table_owner(jobs_table_oid(),
								  "UPDATE ecgdl.jobs_table SET state = 'failed', error = $2, error_code = $3, "
								  "finished_at = pg_catalog.clock_timestamp(), "
								  "updated_at = pg_catalog.clock_timestamp(), pid = NULL "
								  "WHERE id OPERATOR(pg_catalog.=) $1 AND state OPERATOR(pg_catalog.=) 'running'",
								  3, types, values, NULL);
	end_work();
}

void
ecgdl_job_worker_main(Datum main_arg)
{
	JobWorkerArgs a;
	JobSpec		job;

	memcpy(&a, MyBgworkerEntry->bgw_extra, sizeof(a));
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnectionByOid(a.dboid, a.login_role, 0);
	jobs_slot_adopt(a.slot);
	jobs_current_job = a.job_id;
	memset(&job, 0, sizeof(job));

	if (claim_job(&a, &job))
	{
		MemoryContext work = CurrentMemoryContext;

		become_owner(&job);
		PG_TRY();
		{
			if (strcmp(job.kind, "study") == 0)
				run_study(a.job_id, &job);
			else
				run_train(a.job_id, &job);
		}
		PG_CATCH();
		{
			ErrorData  *edata;

			MemoryContextSwitchTo(work);
			edata = CopyErrorData();
			EmitErrorReport();
			FlushErrorState();
			AbortCurrentTransaction();
			record_failure(a.job_id, edata);
		}
		PG_END_TRY();
	}
	/* the slot is this job's no more: the next queued jobs may start */
	jobs_slot_release(jobs_my_slot);
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	jobs_launch_queued(InvalidTransactionId);
	PopActiveSnapshot();
	CommitTransactionCommand();
	proc_exit(0);
}
