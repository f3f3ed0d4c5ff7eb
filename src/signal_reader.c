/*
 * signal_reader.c - reading signal tables: one row per chunk of one lead,
 *   record text, lead text, fs float8 (Hz), start_sample bigint, samples real[] (mV)
 * streamed one (record, lead) at a time in start_sample order through a
 * cursor, a few rows at a time, so that memory is bounded by a few chunks
 * whatever the recording's length.  Every chunk goes through the core's
 * continuity checks (signal_chunks.h); the first problem is an error naming
 * the record, the lead and the sample:
 *   22004  a NULL record, lead, fs, start_sample, samples or sample
 *   22023  fs not finite or <= 0, start_sample < 0
 *   2202E  an empty or multi-dimensional samples array
 *   22000  mixed rates, duplicate starts, overlaps, gaps, NaN/Inf samples
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
#include "lead_choice.h"
#include "signal_chunks.h"

/* rows fetched at once: a 60 s chunk at 360 Hz is 86 kB */
#define SIGNAL_FETCH_ROWS 8

void
signal_table_check_layout(Oid relid, const char *role)
{
	static const char *const columns[] = {"record", "lead", "fs", "start_sample", "samples"};

	ecgdl_check_table_or_view(relid, role);
	for (size_t i = 0; i < lengthof(columns); i++)
		if (get_attnum(relid, columns[i]) == InvalidAttrNumber)
			ereport(ERROR,
					(errcode(ERRCODE_WRONG_OBJECT_TYPE),
					 errmsg("%s \"%s\" does not have the signal table layout", role,
							ecgdl_relation_name(relid)),
					 errdetail("Column \"%s\" is missing.", columns[i]),
					 errhint("A signal table has columns record text, lead text, fs float8, "
							 "start_sample bigint and samples real[]; ecg_import_wfdb_signals creates one.")));
	ecgdl_require_builtin_column_types(relid, role, columns, lengthof(columns));
}

List *
signal_table_streams(Oid relid, const char *role)
{
	StringInfoData sql;
	List	   *streams = NIL;
	MemoryContext caller = CurrentMemoryContext;

	signal_table_check_layout(relid, role);
	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "SELECT r, l FROM (SELECT record::pg_catalog.text AS r, lead::pg_catalog.text AS l "
					 "FROM %s GROUP BY 1, 2) s ORDER BY r COLLATE pg_catalog.\"C\", l COLLATE pg_catalog.\"C\"",
					 ecgdl_relation_name(relid));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute(sql.data, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not list the leads of %s", ecgdl_relation_name(relid));
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		bool		rnull,
					lnull;
		Datum		rd = SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1, &rnull);
		Datum		ld = SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 2, &lnull);
		MemoryContext old;
		SignalStream *s;

		if (rnull || lnull)
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s \"%s\" has a row with a NULL %s", role, ecgdl_relation_name(relid),
							rnull ? "record" : "lead"),
					 rnull ? 0 : errdetail("Record \"%s\".", TextDatumGetCString(rd))));
		old = MemoryContextSwitchTo(caller);
		s = palloc(sizeof(SignalStream));
		s->record = TextDatumGetCString(rd);
		s->lead = TextDatumGetCString(ld);
		streams = lappend(streams, s);
		MemoryContextSwitchTo(old);
	}
	SPI_finish();
	if (streams == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("%s \"%s\" is empty", role, ecgdl_relation_name(relid))));
	return streams;
}

List *
signal_streams_pick_lead(List *streams, const char *lead)
{
	List	   *picked = NIL;
	ListCell   *lc;
	bool		any = false;
	bool		is_auto = lead_preference_is_auto(lead);

	ecgdl_check_lead_preference(lead);
	foreach(lc, streams)
		if (lead_rank(lead, ((SignalStream *) lfirst(lc))->lead) >= 0)
			any = true;
	if (!any && !is_auto)
		ereport(NOTICE,
				(errmsg("no record has a lead named \"%s\"", lead)));
	/* streams come ordered by record, then lead (C collation); each record
	 * takes its best-ranked lead, or its first by name */
	for (int i = 0; i < list_length(streams);)
	{
		SignalStream *first = list_nth(streams, i);
		SignalStream *choice = first;
		int			best = -1;
		int			j = i;

		for (; j < list_length(streams); j++)
		{
			SignalStream *s = list_nth(streams, j);
			int			rank;

			if (strcmp(s->record, first->record) != 0)
				break;
			rank = lead_rank(lead, s->lead);
			if (rank >= 0 && (best < 0 || rank < best))
			{
				choice = s;
				best = rank;
			}
		}
		if (best < 0)
			ereport(NOTICE,
					(errmsg("record %s has no lead %s; using %s, its first lead by name",
							choice->record, is_auto ? LEAD_AUTO_PREFERENCE : lead, choice->lead)));
		else if (best > 0)
			ereport(NOTICE,
					(errmsg("record %s: using lead %s, the first of %s it has",
							choice->record, choice->lead, is_auto ? LEAD_AUTO_PREFERENCE : lead)));
		picked = lappend(picked, choice);
		i = j;
	}
	return picked;
}

/* Reports a failed chunk check with the SQLSTATE of its kind. */
static void
report_chunk_problem(const sigchunk_stream *cs, const ecg_status *st, const char *role,
					 const SignalStream *s)
{
	int			code;

	switch (cs->problem)
	{
		case SIGCHUNK_BAD_RATE:
		case SIGCHUNK_BAD_START:
			code = ERRCODE_INVALID_PARAMETER_VALUE;
			break;
		case SIGCHUNK_EMPTY:
			code = ERRCODE_ARRAY_SUBSCRIPT_ERROR;
			break;
		default:
			code = ERRCODE_DATA_EXCEPTION;
			break;
	}
	ereport(ERROR,
			(errcode(code),
			 errmsg("%s, record \"%s\", lead \"%s\": %s", role, s->record, s->lead, st->message),
			 cs->problem == SIGCHUNK_GAP || cs->problem == SIGCHUNK_OVERLAP ||
			 cs->problem == SIGCHUNK_DUPLICATE ?
			 errhint("The chunks of one record and lead must start at sample 0 and follow each other "
					 "without gaps or overlaps (start_sample of a chunk = start_sample + length of the one before).") : 0));
}

/* The samples of a chunk row as floats (pointer into the detoasted array). */
static const float *
chunk_samples(Datum d, const char *role, const SignalStream *s, int64 start, int64 *n)
{
	ArrayType  *arr = DatumGetArrayTypeP(d);

	if (ARR_NDIM(arr) == 0)
	{
		*n = 0;
		return NULL;
	}
	if (ARR_NDIM(arr) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("%s, record \"%s\", lead \"%s\": the chunk at sample %lld is a %d-dimensional array",
						role, s->record, s->lead, (long long) start, ARR_NDIM(arr)),
				 errhint("samples must be a one-dimensional real[] array.")));
	*n = ARR_DIMS(arr)[0];
	if (ARR_HASNULL(arr))
	{
		bits8	   *bitmap = ARR_NULLBITMAP(arr);

		for (int64 i = 0; i < *n; i++)
			if (!(bitmap[i / 8] & (1 << (i % 8))))
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("%s, record \"%s\", lead \"%s\": sample %lld is NULL",
								role, s->record, s->lead, (long long) (start + i))));
	}
	return (const float *) ARR_DATA_PTR(arr);
}

void
signal_read_streams(Oid relid, const char *role, List *streams, const SignalConsumer *consumer)
{
	StringInfoData sql;
	MemoryContext block = AllocSetContextCreate(CurrentMemoryContext, "ecgdl signal chunks",
												ALLOCSET_DEFAULT_SIZES);
	SPIPlanPtr	plan;
	Oid			argtypes[2] = {TEXTOID, TEXTOID};
	ListCell   *lc;

	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "SELECT fs::pg_catalog.float8, start_sample::pg_catalog.int8, "
					 "samples::pg_catalog.float4[] FROM %s "
					 "WHERE record OPERATOR(pg_catalog.=) $1 AND lead OPERATOR(pg_catalog.=) $2 "
					 "ORDER BY start_sample",
					 ecgdl_relation_name(relid));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	plan = SPI_prepare(sql.data, 2, argtypes);
	if (plan == NULL)
		elog(ERROR, "could not prepare the chunk query of %s: %s", ecgdl_relation_name(relid),
			 SPI_result_code_string(SPI_result));
	foreach(lc, streams)
	{
		SignalStream *s = lfirst(lc);
		Datum		args[2] = {CStringGetTextDatum(s->record), CStringGetTextDatum(s->lead)};
		Portal		portal = SPI_cursor_open(NULL, plan, args, NULL, true);
		sigchunk_stream cs;

		sigchunk_stream_init(&cs);
		for (;;)
		{
			MemoryContext spi;

			SPI_cursor_fetch(portal, true, SIGNAL_FETCH_ROWS);
			if (SPI_processed == 0)
				break;
			spi = MemoryContextSwitchTo(block);
			for (uint64 r = 0; r < SPI_processed; r++)
			{
				HeapTuple	tup = SPI_tuptable->vals[r];
				TupleDesc	desc = SPI_tuptable->tupdesc;
				bool		fnull,
							snull,
							anull;
				Datum		fd = SPI_getbinval(tup, desc, 1, &fnull);
				Datum		sd = SPI_getbinval(tup, desc, 2, &snull);
				Datum		ad = SPI_getbinval(tup, desc, 3, &anull);
				int64		start;
				int64		n;
				const float *x;
				ecg_status	st;

				if (snull)
					ereport(ERROR,
							(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
							 errmsg("%s, record \"%s\", lead \"%s\": a chunk has a NULL start_sample",
									role, s->record, s->lead)));
				if (fnull || anull)
					ereport(ERROR,
							(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
							 errmsg("%s, record \"%s\", lead \"%s\": the chunk at sample %lld has a NULL %s",
									role, s->record, s->lead, (long long) DatumGetInt64(sd),
									fnull ? "fs" : "samples array")));
				start = DatumGetInt64(sd);
				x = chunk_samples(ad, role, s, start, &n);
				if (sigchunk_accept(&cs, DatumGetFloat8(fd), start, x, n, &st) != 0)
					report_chunk_problem(&cs, &st, role, s);
				if (cs.n_chunks == 1 && consumer->begin)
					consumer->begin(s, cs.fs, consumer->arg);
				consumer->chunk(s, start, x, n, consumer->arg);
				CHECK_FOR_INTERRUPTS();
			}
			MemoryContextSwitchTo(spi);
			MemoryContextReset(block);
			SPI_freetuptable(SPI_tuptable);
		}
		SPI_cursor_close(portal);
		if (consumer->end)
			consumer->end(s, cs.fs, cs.next_sample, consumer->arg);
	}
	SPI_freeplan(plan);
	SPI_finish();
	MemoryContextDelete(block);
}
