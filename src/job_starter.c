/*
 * job_starter.c - after a server start, the queued jobs of every database
 * start (jobs.h).
 *
 * Jobs left queued when the server stopped (the limit ecgdl.max_jobs held
 * them back) would otherwise wait for the next job call in their database.
 * With ecgdl preloaded, a background worker registered at start reads the
 * database list (shared catalogs only, no database connection) and runs,
 * one database after the other, a short worker connected to it that starts
 * its queued jobs, if it has ecgdl.  Jobs that were running are not
 * restarted: ecgdl.jobs shows them as interrupted, for ecg_job_resume.
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_database.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "tcop/tcopprot.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "ecgdl.h"
#include "jobs.h"

static void
fill_worker(BackgroundWorker *w, const char *function, Oid dboid)
{
	memset(w, 0, sizeof(*w));
	w->bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	w->bgw_start_time = BgWorkerStart_RecoveryFinished;
	w->bgw_restart_time = BGW_NEVER_RESTART;
	strlcpy(w->bgw_library_name, "ecgdl", BGW_MAXLEN);
	strlcpy(w->bgw_function_name, function, BGW_MAXLEN);
	strlcpy(w->bgw_name, "ecgdl job starter", BGW_MAXLEN);
	strlcpy(w->bgw_type, "ecgdl job starter", BGW_MAXLEN);
	w->bgw_main_arg = ObjectIdGetDatum(dboid);
}

void
jobs_starter_register(void)
{
	BackgroundWorker w;

	fill_worker(&w, "ecgdl_job_starter_main", InvalidOid);
	RegisterBackgroundWorker(&w);
}

/* The databases one may connect to (not templates). */
static List *
database_list(void)
{
	List	   *dbs = NIL;
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tuple;
	MemoryContext caller = CurrentMemoryContext;

	StartTransactionCommand();
	(void) GetTransactionSnapshot();
	rel = table_open(DatabaseRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);
	while (HeapTupleIsValid(tuple = heap_getnext(scan, ForwardScanDirection)))
	{
		Form_pg_database db = (Form_pg_database) GETSTRUCT(tuple);
		MemoryContext old;

		if (!db->datallowconn || db->datistemplate)
			continue;
		old = MemoryContextSwitchTo(caller);
		dbs = lappend_oid(dbs, db->oid);
		MemoryContextSwitchTo(old);
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	CommitTransactionCommand();
	return dbs;
}

/* Per database: starts its queued jobs when it has ecgdl's job table. */
void
ecgdl_job_starter_main(Datum arg)
{
	Oid			dboid = DatumGetObjectId(arg);
	ListCell   *lc;
	List	   *dbs;

	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	if (OidIsValid(dboid))
	{
		BackgroundWorkerInitializeConnectionByOid(dboid, InvalidOid, 0);
		StartTransactionCommand();
		PushActiveSnapshot(GetTransactionSnapshot());
		if (OidIsValid(get_namespace_oid("ecgdl", true)) &&
			OidIsValid(get_relname_relid("jobs_table", get_namespace_oid("ecgdl", true))))
			jobs_launch_queued(InvalidTransactionId);
		PopActiveSnapshot();
		CommitTransactionCommand();
		proc_exit(0);
	}
	/* the first worker: no database, only the shared catalogs */
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);
	dbs = database_list();
	foreach(lc, dbs)
	{
		BackgroundWorker w;
		BackgroundWorkerHandle *handle;
		pid_t		pid;

		fill_worker(&w, "ecgdl_job_starter_main", lfirst_oid(lc));
		w.bgw_notify_pid = MyProcPid;
		if (!RegisterDynamicBackgroundWorker(&w, &handle))
			break;
		if (WaitForBackgroundWorkerStartup(handle, &pid) == BGWH_STARTED)
			(void) WaitForBackgroundWorkerShutdown(handle);
	}
	proc_exit(0);
}
