/*
 * jobs.c - the SQL side of background jobs (jobs.h): ecg_train_async,
 * ecg_study_async, ecg_job_cancel, ecg_job_resume, and the queue.
 *
 * ecgdl.jobs_table holds one row per job: kind, owner (the role whose
 * privileges it runs with), the login role its worker connects as, the
 * arguments (jsonb, tables as OIDs), the caller's settings that shape the
 * work (search_path, ecgdl.threads, ecgdl.max_memory), the state, the study
 * steps done, the last progress, times and the error.  Only ecgdl's
 * functions write it (as its owner); everyone reads it through ecgdl.jobs.
 *
 * The queue: jobs start in the order they were queued, at most
 * ecgdl.max_jobs at a time in the whole server; a call that queues a job
 * starts what the limit allows, and a worker that ends starts the next ones.
 */
#include "postgres.h"

#include <math.h>

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/latch.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "ecgdl.h"
#include "jobs.h"

PG_FUNCTION_INFO_V1(ecg_train_async);
PG_FUNCTION_INFO_V1(ecg_study_async);
PG_FUNCTION_INFO_V1(ecg_job_cancel);
PG_FUNCTION_INFO_V1(ecg_job_resume);
PG_FUNCTION_INFO_V1(ecg_job_forget);

/* how long ecg_job_cancel waits for the worker to end */
#define CANCEL_WAIT_MS 10000

Oid
jobs_table_oid(void)
{
	Oid			nsp = get_namespace_oid("ecgdl", false);
	Oid			relid = get_relname_relid("jobs_table", nsp);

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("ecgdl.jobs_table does not exist"),
				 errhint("Update the extension: ALTER EXTENSION ecgdl UPDATE.")));
	return relid;
}

/* Runs a statement on the job table as its owner (SPI connected). */
static int
jobs_execute(const char *sql, int nargs, Oid *types, Datum *values, const char *nulls)
{
	int			ret = execute_as_table_owner(jobs_table_oid(), sql, nargs, types, values, nulls);

	if (ret < 0)
		elog(ERROR, "SPI failed on ecgdl.jobs_table: %s", SPI_result_code_string(ret));
	return ret;
}

void
jobs_launch_queued(TransactionId wait_for)
{
	Oid			types[1] = {INT4OID};
	Datum		values[1] = {Int32GetDatum(ECGDL_JOB_SLOTS)};
	uint64		n;

	if (!jobs_shmem_ready())
		return;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	jobs_execute("SELECT id, kind, owner::pg_catalog.oid, login_role::pg_catalog.oid "
				 "FROM ecgdl.jobs_table WHERE state OPERATOR(pg_catalog.=) 'queued' "
				 "ORDER BY queued_at, id LIMIT $1", 1, types, values, NULL);
	n = SPI_processed;
	for (uint64 i = 0; i < n; i++)
	{
		HeapTuple	row = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		int64		id = DatumGetInt64(SPI_getbinval(row, desc, 1, &isnull));
		char	   *kind = SPI_getvalue(row, desc, 2);
		Oid			owner = DatumGetObjectId(SPI_getbinval(row, desc, 3, &isnull));
		Oid			login = DatumGetObjectId(SPI_getbinval(row, desc, 4, &isnull));
		int			slot = jobs_slot_reserve(id, owner, kind);
		BackgroundWorker worker;
		BackgroundWorkerHandle *handle;
		pid_t		pid;
		JobWorkerArgs args;

		if (slot == -2)
			continue;			/* runs already */
		if (slot == -1)
			break;				/* ecgdl.max_jobs jobs run: the rest wait */
		memset(&worker, 0, sizeof(worker));
		worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
		worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
		worker.bgw_restart_time = BGW_NEVER_RESTART;
		strlcpy(worker.bgw_library_name, "ecgdl", BGW_MAXLEN);
		strlcpy(worker.bgw_function_name, "ecgdl_job_worker_main", BGW_MAXLEN);
		snprintf(worker.bgw_name, BGW_MAXLEN, "ecgdl job %lld", (long long) id);
		strlcpy(worker.bgw_type, "ecgdl job", BGW_MAXLEN);
		memset(&args, 0, sizeof(args));
		args.job_id = id;
		args.dboid = MyDatabaseId;
		args.login_role = login;
		args.wait_for = wait_for;
		args.slot = slot;
		memcpy(worker.bgw_extra, &args, sizeof(args));
		worker.bgw_notify_pid = MyProcPid;
		if (!RegisterDynamicBackgroundWorker(&worker, &handle) ||
			WaitForBackgroundWorkerStartup(handle, &pid) != BGWH_STARTED)
		{
			jobs_slot_release(slot);
			ereport(WARNING,
					(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
					 errmsg("no background worker slot is free: job %lld stays queued", (long long) id),
					 errhint("Raise max_worker_processes; the job starts when another job ends or "
							 "ecg_job_resume is called.")));
			break;
		}
		jobs_slot_set_pid(slot, pid);
	}
	SPI_finish();
}

uint64
jobs_update_row(int64 id, const JobSlot *s, const char *set, bool only_running)
{
	Oid			types[9] = {INT8OID, TEXTOID, INT4OID, INT4OID, FLOAT8OID, FLOAT8OID, FLOAT8OID,
	FLOAT8OID, FLOAT8OID};
	Datum		values[9];
	char		nulls[10] = "         ";
	bool		training = s->epochs > 0 && s->epoch > 0;

	values[0] = Int64GetDatum(id);
	values[1] = CStringGetTextDatum(s->model);
	values[2] = Int32GetDatum(s->epoch);
	values[3] = Int32GetDatum(s->epochs);
	values[4] = Float8GetDatum(s->loss);
	values[5] = Float8GetDatum(s->accuracy);
	values[6] = Float8GetDatum(s->val_loss);
	values[7] = Float8GetDatum(s->val_accuracy);
	values[8] = Float8GetDatum(s->lr);
	if (s->model[0] == '\0')
		nulls[1] = 'n';
	for (int i = 2; i < 9; i++)
		if (!training || (i >= 4 && isnan(DatumGetFloat8(values[i]))))
			nulls[i] = 'n';
	jobs_execute(psprintf("UPDATE ecgdl.jobs_table SET model = COALESCE($2, model), "
						  "epoch = COALESCE($3, epoch), epochs = COALESCE($4, epochs), "
						  "loss = COALESCE($5, loss), accuracy = COALESCE($6, accuracy), "
						  "val_loss = COALESCE($7, val_loss), val_accuracy = COALESCE($8, val_accuracy), "
						  "lr = COALESCE($9, lr), updated_at = pg_catalog.clock_timestamp()%s "
						  "WHERE id OPERATOR(pg_catalog.=) $1%s",
						  set, only_running ? " AND state OPERATOR(pg_catalog.=) 'running'" : ""),
				 9, types, values, nulls);
	return SPI_processed;
}

/*
 * Queues a job: its arguments as jsonb (built by `build`, a SELECT over the
 * function's arguments $1..$nargs), the caller's settings; returns its id.
 */
static int64
submit_job(FunctionCallInfo fcinfo, const char *kind, const char *build)
{
	int			nargs = PG_NARGS();
	Oid		   *types = palloc(sizeof(Oid) * (nargs + 2));
	Datum	   *values = palloc(sizeof(Datum) * (nargs + 2));
	char	   *nulls = palloc(nargs + 3);
	Datum		args,
				settings;
	Oid			ins_types[5] = {TEXTOID, OIDOID, OIDOID, JSONBOID, JSONBOID};
	Datum		ins_values[5];
	int64		id;
	bool		isnull;

	for (int i = 0; i < nargs; i++)
	{
		types[i] = get_fn_expr_argtype(fcinfo->flinfo, i);
		values[i] = PG_GETARG_DATUM(i);
		nulls[i] = PG_ARGISNULL(i) ? 'n' : ' ';
	}
	nulls[nargs] = '\0';
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args(build, nargs, types, values, nulls, true, 1) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "could not build the arguments of the job");
	args = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	/* the caller's settings that shape the work (the job's tables are made in
	 * the first schema of its search_path; the threads are in the model) */
	if (SPI_execute("SELECT pg_catalog.jsonb_build_object("
					"'search_path', pg_catalog.current_setting('search_path'), "
					"'ecgdl.threads', pg_catalog.current_setting('ecgdl.threads'), "
					"'ecgdl.max_memory', pg_catalog.current_setting('ecgdl.max_memory'))",
					true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not read the settings of the job");
	settings = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	ins_values[0] = CStringGetTextDatum(kind);
	ins_values[1] = ObjectIdGetDatum(GetUserId());
	ins_values[2] = ObjectIdGetDatum(GetSessionUserId());
	ins_values[3] = args;
	ins_values[4] = settings;
	jobs_execute("INSERT INTO ecgdl.jobs_table (kind, owner, login_role, args, settings) "
				 "VALUES ($1, $2::pg_catalog.regrole, $3::pg_catalog.regrole, $4, $5) RETURNING id",
				 5, ins_types, ins_values, NULL);
	id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	jobs_launch_queued(GetTopTransactionId());
	return id;
}

/* Errors (42501) unless the caller may read the table a job will read, and
 * (0A000) when it is a temporary table, which only the caller's session sees. */
static void
check_readable(Oid relid, const char *role)
{
	if (OidIsValid(relid) && get_rel_persistence(relid) == RELPERSISTENCE_TEMP)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("a background job cannot read the temporary %s \"%s\"", role,
						get_rel_name(relid)),
				 errdetail("A job runs in a session of its own, which does not see this session's temporary tables."),
				 errhint("Copy the rows into a regular table, or call the synchronous function.")));
	if (OidIsValid(relid) && pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for %s %s", role, ecgdl_relation_name(relid)),
				 errdetail("A job runs with its owner's privileges.")));
}

/*
 * ecg_train_async(): ecg_train's arguments, checked as ecg_train checks them
 * before it reads a row; queues the training and returns the job id.
 */
Datum
ecg_train_async(PG_FUNCTION_ARGS)
{
	jobs_require_shmem("ecg_train_async");
	train_check_call(fcinfo, "training table", "validation table");
	check_readable(PG_GETARG_OID(1), "training table");
	if (!PG_ARGISNULL(3))
		check_readable(PG_GETARG_OID(3), "validation table");
	PG_RETURN_INT64(submit_job(fcinfo, "train",
							   "SELECT pg_catalog.jsonb_build_object("
							   "'name', $1, 'train', $2::pg_catalog.oid, 'arch', $3, "
							   "'validation', $4::pg_catalog.oid, 'epochs', $5, 'batch_size', $6, "
							   "'learning_rate', $7, 'patience', $8, 'seed', $9, 'class_weight', $10, "
							   "'replace', $11, 'validation_fraction', $12, 'operating_point', $13, "
							   "'features', $14, 'augment', $15)"));
}

/*
 * ecg_study_async(): ecg_study's arguments, checked by ecgdl.study_prepare
 * (every check ecg_study makes before its first step); queues the study.
 */
Datum
ecg_study_async(PG_FUNCTION_ARGS)
{
	Oid			types[12];
	Datum		values[12];
	char		nulls[13];

	jobs_require_shmem("ecg_study_async");
	for (int i = 0; i < 12; i++)
	{
		types[i] = get_fn_expr_argtype(fcinfo->flinfo, i);
		values[i] = PG_GETARG_DATUM(i);
		nulls[i] = PG_ARGISNULL(i) ? 'n' : ' ';
	}
	nulls[12] = '\0';
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	SPI_execute_with_args("SELECT ecgdl.study_prepare($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
						  12, types, values, nulls, false, 1);
	SPI_finish();
	check_readable(PG_ARGISNULL(0) ? InvalidOid : PG_GETARG_OID(0), "source table");
	PG_RETURN_INT64(submit_job(fcinfo, "study",
							   "SELECT pg_catalog.jsonb_build_object("
							   "'source', $1::pg_catalog.oid, 'prefix', $2, 'epochs', $3, "
							   "'batch_size', $4, 'patience', $5, 'seed', $6, 'split', $7, "
							   "'methods', $8, 'archs', $9, 'replace', $10, 'class_weight', $11, "
							   "'reuse_split', $12)"));
}

typedef struct JobRow
{
	int64		id;
	Oid			owner;
	char	   *state;
} JobRow;

/* The job's row, locked for update; errors (42704) when there is none. */
static JobRow
lock_job(int64 id)
{
	Oid			types[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(id)};
	JobRow		row;
	bool		isnull;

	jobs_execute("SELECT owner::pg_catalog.oid, state FROM ecgdl.jobs_table WHERE id OPERATOR(pg_catalog.=) $1 "
				 "FOR UPDATE", 1, types, values, NULL);
	if (SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("job %lld does not exist", (long long) id),
				 errhint("The jobs are listed in ecgdl.jobs.")));
	row.id = id;
	row.owner = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	row.state = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
	return row;
}

/* A running job without a live worker was interrupted (crash, restart). */
static bool
is_interrupted(const JobRow *row)
{
	return strcmp(row->state, "running") == 0 && !jobs_slot_live(row->id, NULL);
}

/* Queued, or running with a live worker. */
static bool
is_active(const JobRow *row)
{
	return strcmp(row->state, "queued") == 0 ||
		(strcmp(row->state, "running") == 0 && !is_interrupted(row));
}

/*
 * Connects SPI and locks the job's row; errors (42501) unless the caller has
 * the privileges of the job's owner, as the job runs as its owner (`verb`
 * names what was refused).
 */
static JobRow
lock_owned_job(int64 id, const char *verb)
{
	JobRow		row;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	row = lock_job(id);
	if (!has_privs_of_role(GetUserId(), row.owner))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to %s job %lld", verb, (long long) id),
				 errdetail("A job runs as its owner %s: only roles with its privileges may %s it.",
						   GetUserNameFromId(row.owner, false), verb)));
	return row;
}

static void
set_state(int64 id, const char *state, const char *extra)
{
	Oid			types[2] = {INT8OID, TEXTOID};
	Datum		values[2] = {Int64GetDatum(id), CStringGetTextDatum(state)};

	jobs_execute(psprintf("UPDATE ecgdl.jobs_table SET state = $2, updated_at = pg_catalog.now()%s "
						  "WHERE id OPERATOR(pg_catalog.=) $1", extra),
				 2, types, values, NULL);
}

/*
 * ecg_job_cancel(id): stops a queued or running job (its worker ends at its
 * next check for interrupts, within a batch of training); the job's state
 * becomes cancelled and its checkpoint stays for ecg_job_resume.  As
 * pg_cancel_backend: the owner (a member of it), or a member of
 * pg_signal_backend for a job of a role that is not a superuser.
 */
Datum
ecg_job_cancel(PG_FUNCTION_ARGS)
{
	int64		id = PG_GETARG_INT64(0);
	JobRow		row;
	bool		allowed;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	row = lock_job(id);
	allowed = has_privs_of_role(GetUserId(), row.owner) ||
		(has_privs_of_role(GetUserId(), ROLE_PG_SIGNAL_BACKEND) && !superuser_arg(row.owner));
	if (!allowed)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to cancel job %lld", (long long) id),
				 errdetail("Only roles with the privileges of the job's owner %s, or of pg_signal_backend "
						   "(for a job of a role that is not a superuser), may cancel it.",
						   GetUserNameFromId(row.owner, false))));
	if (strcmp(row.state, "queued") != 0 && strcmp(row.state, "running") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("job %lld has already ended: it is %s", (long long) id, row.state)));
	if (is_interrupted(&row))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("job %lld has already ended: its worker was interrupted", (long long) id),
				 errhint("ecg_job_resume(%lld) continues it from its last checkpoint.", (long long) id)));
	{
		JobSlot		progress;

		/* the live progress stays in the row */
		if (jobs_slot_find(id, &progress))
			(void) jobs_update_row(id, &progress, "", false);
	}
	set_state(id, "cancelled", ", finished_at = pg_catalog.now(), pid = NULL");
	SPI_finish();
	if (jobs_slot_terminate(id))
	{
		TimestampTz deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), CANCEL_WAIT_MS);

		/* the worker ends at its next check for interrupts: wait for it */
		while (jobs_slot_live(id, NULL))
		{
			if (GetCurrentTimestamp() > deadline)
			{
				ereport(WARNING,
						(errmsg("the worker of job %lld has not ended yet", (long long) id)));
				break;
			}
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 10,
							 PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
			CHECK_FOR_INTERRUPTS();
		}
	}
	PG_RETURN_TEXT_P(cstring_to_text("cancelled"));
}

/*
 * ecg_job_resume(id): queues again a job that was cancelled, failed or
 * interrupted (a crash of its worker, a server restart); its worker goes on
 * from the last finished study step and the last epoch's checkpoint.  Only
 * roles with the owner's privileges (it runs as the owner).
 */
Datum
ecg_job_resume(PG_FUNCTION_ARGS)
{
	int64		id = PG_GETARG_INT64(0);
	JobRow		row;

	jobs_require_shmem("ecg_job_resume");
	row = lock_owned_job(id, "resume");
	if (strcmp(row.state, "done") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("job %lld is done: there is nothing to resume", (long long) id)));
	if (is_active(&row))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("job %lld is %s already", (long long) id, row.state)));
	set_state(id, "queued", ", queued_at = pg_catalog.clock_timestamp(), finished_at = NULL, "
			  "error = NULL, error_code = NULL, pid = NULL");
	SPI_finish();
	jobs_launch_queued(GetTopTransactionId());
	PG_RETURN_TEXT_P(cstring_to_text("queued"));
}

/*
 * ecg_job_forget(id): removes an ended job - its row and its checkpoint -
 * when it will not be resumed (done jobs have none left).  Only roles with
 * the owner's privileges; not a queued or running job (cancel it first).
 */
Datum
ecg_job_forget(PG_FUNCTION_ARGS)
{
	int64		id = PG_GETARG_INT64(0);
	Oid			types[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(id)};
	JobRow		row;

	row = lock_owned_job(id, "forget");
	if (is_active(&row))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("job %lld is %s", (long long) id, row.state),
				 errhint("Cancel it first: ecg_job_cancel(%lld).", (long long) id)));
	jobs_execute("DELETE FROM ecgdl.jobs_table WHERE id OPERATOR(pg_catalog.=) $1", 1, types, values, NULL);
	SPI_finish();
	/* the file goes now: a rollback of this call leaves a job without its
	 * checkpoint, which resumes from its first epoch of the running step */
	jobs_checkpoint_remove(MyDatabaseId, id);
	PG_RETURN_BOOL(true);
}
