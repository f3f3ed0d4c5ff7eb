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
 * Two leads read together (signal_read_stream_pairs) must also have the same
 * rate and the same chunks, else 22000.
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

/* One stream's chunks through a cursor, a few rows fetched at a time. */
typedef struct SignalCursor
{
	const char *role;
	const SignalStream *s;
	Portal		portal;
	sigchunk_stream cs;
	MemoryContext block;		/* the rows fetched and their detoasted arrays */
	SPITupleTable *rows;
	uint64		n_rows,
				next_row;
} SignalCursor;

static void
cursor_open(SignalCursor *c, SPIPlanPtr plan, const char *role, const SignalStream *s)
{
	Datum		args[2] = {CStringGetTextDatum(s->record), CStringGetTextDatum(s->lead)};

	memset(c, 0, sizeof(*c));
	c->role = role;
	c->s = s;
	c->block = AllocSetContextCreate(CurrentMemoryContext, "ecgdl signal chunks",
									 ALLOCSET_DEFAULT_SIZES);
	c->portal = SPI_cursor_open(NULL, plan, args, NULL, true);
	sigchunk_stream_init(&c->cs);
}

static void
cursor_close(SignalCursor *c)
{
	if (c->rows != NULL)
		SPI_freetuptable(c->rows);
	SPI_cursor_close(c->portal);
	MemoryContextDelete(c->block);
}

/*
 * The next chunk of the stream, checked (continuity, rate, samples): false
 * at its end.  *x stays valid until the next call on this cursor.
 */
static bool
cursor_next(SignalCursor *c, int64 *start, const float **x, int64 *n)
{
	const char *role = c->role;
	const SignalStream *s = c->s;
	MemoryContext old;
	HeapTuple	tup;
	TupleDesc	desc;
	bool		fnull,
				snull,
				anull;
	Datum		fd,
				sd,
				ad;
	ecg_status	st;

	if (c->next_row == c->n_rows)
	{
		if (c->rows != NULL)
			SPI_freetuptable(c->rows);
		c->rows = NULL;
		MemoryContextReset(c->block);
		SPI_cursor_fetch(c->portal, true, SIGNAL_FETCH_ROWS);
		c->rows = SPI_tuptable;
		c->n_rows = SPI_processed;
		c->next_row = 0;
		if (c->n_rows == 0)
			return false;
	}
	tup = c->rows->vals[c->next_row];
	desc = c->rows->tupdesc;
	c->next_row++;
	old = MemoryContextSwitchTo(c->block);
	fd = SPI_getbinval(tup, desc, 1, &fnull);
	sd = SPI_getbinval(tup, desc, 2, &snull);
	ad = SPI_getbinval(tup, desc, 3, &anull);
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
	*start = DatumGetInt64(sd);
	*x = chunk_samples(ad, role, s, *start, n);
	if (sigchunk_accept(&c->cs, DatumGetFloat8(fd), *start, *x, *n, &st) != 0)
		report_chunk_problem(&c->cs, &st, role, s);
	MemoryContextSwitchTo(old);
	return true;
}

/* The query of one stream's chunks, prepared. */
static SPIPlanPtr
prepare_chunk_query(Oid relid)
{
	StringInfoData sql;
	Oid			argtypes[2] = {TEXTOID, TEXTOID};
	SPIPlanPtr	plan;

	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "SELECT fs::pg_catalog.float8, start_sample::pg_catalog.int8, "
					 "samples::pg_catalog.float4[] FROM %s "
					 "WHERE record OPERATOR(pg_catalog.=) $1 AND lead OPERATOR(pg_catalog.=) $2 "
					 "ORDER BY start_sample",
					 ecgdl_relation_name(relid));
	plan = SPI_prepare(sql.data, 2, argtypes);
	if (plan == NULL)
		elog(ERROR, "could not prepare the chunk query of %s: %s", ecgdl_relation_name(relid),
			 SPI_result_code_string(SPI_result));
	return plan;
}

void
signal_read_streams(Oid relid, const char *role, List *streams, const SignalConsumer *consumer)
{
	SPIPlanPtr	plan;
	ListCell   *lc;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	plan = prepare_chunk_query(relid);
	foreach(lc, streams)
	{
		SignalStream *s = lfirst(lc);
		SignalCursor c;
		int64		start,
					n;
		const float *x;

		cursor_open(&c, plan, role, s);
		while (cursor_next(&c, &start, &x, &n))
		{
			/* what the consumer allocates in passing goes with the rows */
			MemoryContext old = MemoryContextSwitchTo(c.block);

			if (c.cs.n_chunks == 1 && consumer->begin)
				consumer->begin(s, c.cs.fs, consumer->arg);
			consumer->chunk(s, start, x, n, consumer->arg);
			MemoryContextSwitchTo(old);
			CHECK_FOR_INTERRUPTS();
		}
		if (consumer->end)
			consumer->end(s, c.cs.fs, c.cs.next_sample, consumer->arg);
		cursor_close(&c);
	}
	SPI_freeplan(plan);
	SPI_finish();
}

/* Refuses a second lead that does not keep step with the first (22000). */
static void
pair_mismatch(const char *role, const SignalStream *a, const SignalStream *b, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_EXCEPTION),
			 errmsg("%s, record \"%s\": lead \"%s\" %s lead \"%s\"", role, a->record, b->lead,
					what, a->lead),
			 errhint("Two leads detected together must have the same sampling rate and the same "
					 "chunks (start_sample and length).")));
}

void
signal_read_stream_pairs(Oid relid, const char *role, List *firsts, List *seconds,
						 const SignalPairConsumer *consumer)
{
	SPIPlanPtr	plan;

	Assert(list_length(firsts) == list_length(seconds));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	plan = prepare_chunk_query(relid);
	for (int i = 0; i < list_length(firsts); i++)
	{
		SignalStream *sa = list_nth(firsts, i),
				   *sb = list_nth(seconds, i);
		SignalCursor a,
					b;

		cursor_open(&a, plan, role, sa);
		cursor_open(&b, plan, role, sb);
		for (;;)
		{
			MemoryContext old;
			int64		start_a,
						start_b,
						n_a,
						n_b;
			const float *x_a,
					   *x_b;
			bool		more_a = cursor_next(&a, &start_a, &x_a, &n_a),
						more_b = cursor_next(&b, &start_b, &x_b, &n_b);

			if (!more_a && !more_b)
				break;
			if (more_a != more_b)
				pair_mismatch(role, sa, sb, psprintf("has %s chunks than", more_a ? "fewer" : "more"));
			if (a.cs.fs != b.cs.fs)
				pair_mismatch(role, sa, sb, psprintf("is at %g Hz, not at the %g Hz of", b.cs.fs,
													 a.cs.fs));
			if (start_a != start_b || n_a != n_b)
				pair_mismatch(role, sa, sb,
							  psprintf("has a chunk of %lld samples at sample %lld, not chunked as",
									   (long long) n_b, (long long) start_b));
			old = MemoryContextSwitchTo(a.block);
			if (a.cs.n_chunks == 1)
				consumer->begin(sa, sb, a.cs.fs, consumer->arg);
			consumer->chunk(sa, sb, start_a, x_a, x_b, n_a, consumer->arg);
			MemoryContextSwitchTo(old);
			CHECK_FOR_INTERRUPTS();
		}
		consumer->end(sa, sb, a.cs.fs, a.cs.next_sample, consumer->arg);
		cursor_close(&b);
		cursor_close(&a);
	}
	SPI_freeplan(plan);
	SPI_finish();
}
