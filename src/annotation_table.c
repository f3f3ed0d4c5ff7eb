/*
 * annotation_table.c - annotation tables: one row per annotation of a record,
 *   id bigint primary key, record text, sample bigint (at the record's own
 *   rate), symbol text, subtype smallint, label smallint (AAMI class 0..4),
 *   fs float8 (the record's sampling rate)
 * as ecg_import_annotations (every annotation of the reference files) and
 * ecg_detect_beats (detected beats: symbol, subtype and label NULL) write
 * them; and reading such tables one record at a time.
 *
 * A row is a beat when its symbol is a beat symbol (WFDB's isqrs, see
 * qrs_is_beat_symbol) or NULL; the other rows (rhythm changes, noise and
 * ventricular-flutter markers ...) are kept for bxb's exclusion rules.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "ecgdl.h"
#include "qrs_match.h"

#define ANN_COLUMNS 7

struct AnnotationWriter
{
	BulkTable  *table;
	MemoryContext record_context;	/* the current record's text datum */
	char	   *record;
	Datum		record_datum;
	int64		n_added;
};

AnnotationWriter *
annotation_table_create(const char *target)
{
	AnnotationWriter *w = palloc0(sizeof(AnnotationWriter));

	w->table = bulk_table_create(target,
								 "id pg_catalog.int8 NOT NULL, record pg_catalog.text NOT NULL, "
								 "sample pg_catalog.int8 NOT NULL, symbol pg_catalog.text, "
								 "subtype pg_catalog.int2, label pg_catalog.int2 "
								 "CHECK (label OPERATOR(pg_catalog.>=) 0 AND label OPERATOR(pg_catalog.<=) 4), "
								 "fs pg_catalog.float8 NOT NULL");
	w->record_context = AllocSetContextCreate(CurrentMemoryContext, "ecgdl annotation record",
											  ALLOCSET_SMALL_SIZES);
	return w;
}

void
annotation_table_add(AnnotationWriter *w, const char *record, int64 sample, const char *symbol,
					 int subtype, int label, double fs)
{
	TupleTableSlot *slot;
	MemoryContext old;

	if (w->record == NULL || strcmp(w->record, record) != 0)
	{
		/* the rows of one record come together: one text datum for all */
		bulk_table_flush(w->table);
		MemoryContextReset(w->record_context);
		old = MemoryContextSwitchTo(w->record_context);
		w->record = pstrdup(record);
		w->record_datum = CStringGetTextDatum(record);
		MemoryContextSwitchTo(old);
	}
	slot = bulk_table_next_slot(w->table);
	Assert(slot->tts_tupleDescriptor->natts == ANN_COLUMNS);
	slot->tts_values[0] = Int64GetDatum(++w->n_added);
	slot->tts_values[1] = w->record_datum;
	slot->tts_values[2] = Int64GetDatum(sample);
	slot->tts_values[6] = Float8GetDatum(fs);
	slot->tts_isnull[0] = slot->tts_isnull[1] = slot->tts_isnull[2] = slot->tts_isnull[6] = false;
	if (symbol != NULL)
	{
		old = MemoryContextSwitchTo(bulk_table_batch_context(w->table));
		slot->tts_values[3] = CStringGetTextDatum(symbol);
		slot->tts_isnull[3] = false;
		MemoryContextSwitchTo(old);
	}
	if (subtype >= 0)
	{
		slot->tts_values[4] = Int16GetDatum((int16) subtype);
		slot->tts_isnull[4] = false;
	}
	if (label >= 0)
	{
		slot->tts_values[5] = Int16GetDatum((int16) label);
		slot->tts_isnull[5] = false;
	}
	bulk_table_store(w->table, slot);
}

int64
annotation_table_finish(AnnotationWriter *w)
{
	int64		n = bulk_table_finish(w->table);

	MemoryContextDelete(w->record_context);
	return n;
}

/* Reading ------------------------------------------------------------------ */

/* The expression of an optional column: the column, cast, or a NULL of its type. */
static const char *
optional_column(Oid relid, const char *name, const char *type)
{
	if (get_attnum(relid, name) == InvalidAttrNumber)
		return psprintf("NULL::%s", type);
	return psprintf("%s::%s", quote_identifier(name), type);
}

char *
annotation_table_query(Oid relid, const char *role, bool need_fs)
{
	static const char *const required[] = {"record", "sample"};

	for (size_t i = 0; i < lengthof(required); i++)
		if (get_attnum(relid, required[i]) == InvalidAttrNumber)
			ereport(ERROR,
					(errcode(ERRCODE_WRONG_OBJECT_TYPE),
					 errmsg("%s \"%s\" does not have the annotation table layout", role,
							ecgdl_relation_name(relid)),
					 errdetail("Column \"%s\" is missing.", required[i]),
					 errhint("An annotation table has columns record text, sample bigint, and optionally "
							 "symbol text, subtype smallint, label smallint and fs float8; "
							 "ecg_import_annotations and ecg_detect_beats create such tables.")));
	if (need_fs && get_attnum(relid, "fs") == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("%s \"%s\" has no column \"fs\"", role, ecgdl_relation_name(relid)),
				 errhint("Sample positions need the sampling rate: add a column fs float8 "
						 "(ecg_import_annotations and ecg_detect_beats write it).")));
	{
		static const char *const read[] = {"record", "sample", "symbol", "subtype", "label", "fs", "id"};

		ecgdl_require_builtin_column_types(relid, role, read, lengthof(read));
	}
	/* annotations at the same sample keep their file order (id) */
	return psprintf("SELECT record::pg_catalog.text, sample::pg_catalog.int8, %s, %s, %s, %s FROM %s "
					"ORDER BY record::pg_catalog.text COLLATE pg_catalog.\"C\", sample%s",
					optional_column(relid, "symbol", "pg_catalog.text"),
					optional_column(relid, "subtype", "pg_catalog.int2"),
					optional_column(relid, "label", "pg_catalog.int2"),
					optional_column(relid, "fs", "pg_catalog.float8"),
					ecgdl_relation_name(relid),
					get_attnum(relid, "id") != InvalidAttrNumber ? ", id" : "");
}

typedef struct AnnScanState
{
	const char *role;
	bool		beats_only;
	annotation_record_fn fn;
	void	   *arg;
	MemoryContext record_context;
	AnnotationRecord rec;
	int64		capacity;
} AnnScanState;

static void
emit_record(AnnScanState *ss)
{
	if (ss->rec.record == NULL)
		return;
	ss->fn(&ss->rec, ss->arg);
	MemoryContextReset(ss->record_context);
	memset(&ss->rec, 0, sizeof(ss->rec));
	ss->capacity = 0;
}

static void
scan_block(SPITupleTable *tuptable, uint64 n, void *arg)
{
	AnnScanState  *ss = arg;

	for (uint64 r = 0; r < n; r++)
	{
		HeapTuple	tup = tuptable->vals[r];
		TupleDesc	desc = tuptable->tupdesc;
		bool		isnull[6];
		Datum		v[6];
		AnnotationRecord *rec = &ss->rec;
		int64		i;
		char	   *symbol;

		for (int c = 0; c < 6; c++)
			v[c] = SPI_getbinval(tup, desc, c + 1, &isnull[c]);
		if (isnull[0] || isnull[1])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s has a row with a NULL %s", ss->role, isnull[0] ? "record" : "sample")));
		symbol = isnull[2] ? NULL : TextDatumGetCString(v[2]);
		if (ss->beats_only && symbol != NULL && !qrs_is_beat_symbol(symbol))
			continue;
		if (rec->record == NULL || strcmp(rec->record, TextDatumGetCString(v[0])) != 0)
		{
			emit_record(ss);
			rec->record = MemoryContextStrdup(ss->record_context, TextDatumGetCString(v[0]));
			rec->fs = isnull[5] ? 0 : DatumGetFloat8(v[5]);
		}
		if (!isnull[5] && DatumGetFloat8(v[5]) != rec->fs)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("%s, record \"%s\": mixed sampling rates %g and %g Hz", ss->role,
							rec->record, rec->fs, DatumGetFloat8(v[5]))));
		if (rec->n == ss->capacity)
		{
			MemoryContext old = MemoryContextSwitchTo(ss->record_context);
			ecg_status	st;

			ss->capacity = ss->capacity ? 2 * ss->capacity : 1024;
			if (ecg_check_memory((size_t) ss->capacity * (sizeof(wfdb_annotation) + sizeof(int) + 4),
								 psprintf("annotations of record \"%s\"", rec->record), &st) != 0)
				ecgdl_report_status(&st, ERRCODE_PROGRAM_LIMIT_EXCEEDED, NULL);
			rec->ann = rec->ann ? repalloc_huge(rec->ann, sizeof(wfdb_annotation) * ss->capacity) :
				palloc_extended(sizeof(wfdb_annotation) * ss->capacity, MCXT_ALLOC_HUGE);
			rec->labels = rec->labels ? repalloc_huge(rec->labels, sizeof(int) * ss->capacity) :
				palloc_extended(sizeof(int) * ss->capacity, MCXT_ALLOC_HUGE);
			rec->has_symbol = rec->has_symbol ? repalloc_huge(rec->has_symbol, sizeof(bool) * ss->capacity) :
				palloc_extended(sizeof(bool) * ss->capacity, MCXT_ALLOC_HUGE);
			MemoryContextSwitchTo(old);
		}
		i = rec->n++;
		memset(&rec->ann[i], 0, sizeof(wfdb_annotation));
		rec->ann[i].sample = DatumGetInt64(v[1]);
		rec->ann[i].aux = "";
		rec->has_symbol[i] = symbol != NULL;
		if (symbol != NULL)
			strlcpy(rec->ann[i].symbol, symbol, sizeof(rec->ann[i].symbol));
		rec->ann[i].subtype = isnull[3] ? 0 : DatumGetInt16(v[3]);
		if (!isnull[4] && (DatumGetInt16(v[4]) < 0 || DatumGetInt16(v[4]) > 4))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("%s, record \"%s\": label %d at sample %lld is out of range", ss->role,
							rec->record, DatumGetInt16(v[4]), (long long) rec->ann[i].sample),
					 errdetail("Labels must be 0..4 (N, S, V, F, Q) or NULL.")));
		rec->labels[i] = isnull[4] ? -1 : DatumGetInt16(v[4]);
	}
}

void
annotation_scan(const char *sql, const char *role, bool beats_only, annotation_record_fn fn,
				void *arg)
{
	AnnScanState	ss;

	memset(&ss, 0, sizeof(ss));
	ss.role = role;
	ss.beats_only = beats_only;
	ss.fn = fn;
	ss.arg = arg;
	ss.record_context = AllocSetContextCreate(CurrentMemoryContext, "ecgdl annotations of a record",
											  ALLOCSET_DEFAULT_SIZES);
	ecgdl_scan(sql, 10000, scan_block, &ss);
	emit_record(&ss);
	MemoryContextDelete(ss.record_context);
}

void *
record_list_find(List *items, const char *record)
{
	ListCell   *lc;

	foreach(lc, items)
	{
		RecordItem *item = lfirst(lc);

		if (strcmp(item->record, record) == 0)
			return item;
	}
	return NULL;
}
