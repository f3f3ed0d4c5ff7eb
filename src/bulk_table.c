/*
 * bulk_table.c - a new table written in batches through table_multi_insert,
 * as COPY does, with its primary key built once at the end.  Beat tables
 * (beat_table.c) and annotation tables (annotation_table.c) are written so.
 *
 * Rows are filled into virtual slots (values allocated in the batch context,
 * which is reset after every batch) and inserted BULK_BATCH_ROWS at a time.
 * Everything happens inside the caller's transaction, so an error or a cancel
 * leaves no table behind.
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "ecgdl.h"

#define BULK_BATCH_ROWS 1000

struct BulkTable
{
	char	   *qualified_name;
	Oid			relid;
	Relation	rel;
	BulkInsertState bistate;
	TupleTableSlot *slots[BULK_BATCH_ROWS];
	int			n_pending;
	int64		n_written;
	MemoryContext batch_context;
};

/* Runs one utility statement (CREATE, ALTER) through SPI. */
static void
run_utility(const char *sql, const char *what, const char *table)
{
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute(sql, false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "could not %s %s", what, table);
	SPI_finish();
}

BulkTable *
bulk_table_create(const char *target, const char *columns)
{
	BulkTable  *t = palloc0(sizeof(BulkTable));
	RangeVar   *rv = ecgdl_new_table_name(target);

	t->qualified_name = quote_qualified_identifier(rv->schemaname, rv->relname);
	run_utility(psprintf("CREATE TABLE %s (%s)", t->qualified_name, columns), "create table",
				t->qualified_name);
	CommandCounterIncrement();

	t->relid = RangeVarGetRelid(rv, AccessExclusiveLock, false);
	t->rel = table_open(t->relid, RowExclusiveLock);
	t->bistate = GetBulkInsertState();
	for (int i = 0; i < BULK_BATCH_ROWS; i++)
		t->slots[i] = table_slot_create(t->rel, NULL);
	t->batch_context = AllocSetContextCreate(CurrentMemoryContext, "ecgdl bulk insert batch",
											 ALLOCSET_DEFAULT_SIZES);
	return t;
}

MemoryContext
bulk_table_batch_context(BulkTable *t)
{
	return t->batch_context;
}

Oid
bulk_table_relid(BulkTable *t)
{
	return t->relid;
}

void
bulk_table_flush(BulkTable *t)
{
	if (t->n_pending == 0)
		return;
	/* the caller may run SQL on the table between batches: take the current command id */
	table_multi_insert(t->rel, t->slots, t->n_pending, GetCurrentCommandId(true), 0, t->bistate);
	for (int i = 0; i < t->n_pending; i++)
		ExecClearTuple(t->slots[i]);
	t->n_written += t->n_pending;
	t->n_pending = 0;
	MemoryContextReset(t->batch_context);
	CHECK_FOR_INTERRUPTS();
}

TupleTableSlot *
bulk_table_next_slot(BulkTable *t)
{
	TupleTableSlot *slot = t->slots[t->n_pending];

	ExecClearTuple(slot);
	memset(slot->tts_isnull, true, sizeof(bool) * slot->tts_tupleDescriptor->natts);
	return slot;
}

void
bulk_table_store(BulkTable *t, TupleTableSlot *slot)
{
	Assert(slot == t->slots[t->n_pending]);
	ExecStoreVirtualTuple(slot);
	if (++t->n_pending == BULK_BATCH_ROWS)
		bulk_table_flush(t);
}

int64
bulk_table_finish(BulkTable *t)
{
	bulk_table_flush(t);
	for (int i = 0; i < BULK_BATCH_ROWS; i++)
		ExecDropSingleTupleTableSlot(t->slots[i]);
	FreeBulkInsertState(t->bistate);
	table_close(t->rel, NoLock);
	CommandCounterIncrement();
	run_utility(psprintf("ALTER TABLE %s ADD PRIMARY KEY (id)", t->qualified_name),
				"add the primary key of", t->qualified_name);
	MemoryContextDelete(t->batch_context);
	return t->n_written;
}
