/*
 * plot_recording.c - ecg_plot_recording: a strip of one lead of a record of
 * a signal table on ECG paper, its beats (from an annotation or beat table)
 * marked with their classes - the table's labels, or a model's classes.
 * The samples are streamed by signal_reader.c (the continuity checks of
 * ecg_detect_beats); only the window is kept.  The drawing is the core's
 * (src/core/plot_strip.c).
 */
#include "ecgdl.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "plots.h"
#include "qrs_match.h"

PG_FUNCTION_INFO_V1(ecg_plot_recording);

/* the longest strip drawn, in seconds and in samples (60 s at 1 kHz) */
#define STRIP_MAX_SECONDS 60.0
#define STRIP_MAX_SAMPLES 60000
/* the paper's greatest height in mm (200 mV at 10 mm/mV) */
#define STRIP_MAX_HEIGHT_MM 2000.0

/* What the reader's consumer keeps: the samples of the window. */
typedef struct StripWindow
{
	double		start_s;
	double		seconds;
	int64		first;			/* the window's first sample */
	int64		count;			/* its samples (set at the stream's start) */
	double	   *x;				/* count samples, in the caller's context */
	int64		filled;			/* how many arrived */
	double		fs;
	int64		total;			/* the stream's length */
	MemoryContext context;
} StripWindow;

static void
window_begin(const SignalStream *s, double fs, void *arg)
{
	StripWindow *w = arg;

	w->fs = fs;
	w->first = (int64) llround(w->start_s * fs);
	w->count = (int64) llround(w->seconds * fs);
	if (w->count > STRIP_MAX_SAMPLES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("a strip of %g s of record \"%s\" at %g Hz has %lld samples, at most %d can be drawn",
						w->seconds, s->record, fs, (long long) w->count, STRIP_MAX_SAMPLES),
				 errhint("Draw a shorter window.")));
	if (w->count < 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a strip of %g s of record \"%s\" at %g Hz has fewer than two samples",
						w->seconds, s->record, fs)));
	w->x = MemoryContextAllocZero(w->context, sizeof(double) * w->count);
}

static void
window_chunk(const SignalStream *s, int64 start, const float *x, int64 n, void *arg)
{
	StripWindow *w = arg;

	for (int64 i = Max(start, w->first); i < start + n && i < w->first + w->count; i++)
	{
		w->x[i - w->first] = x[i - start];
		w->filled++;
	}
}

static void
window_end(const SignalStream *s, double fs, int64 n_samples, void *arg)
{
	((StripWindow *) arg)->total = n_samples;
}

/* the stream of `record` and `lead` in the table; errors (42704) naming what is missing */
static SignalStream *
find_stream(Oid relid, const char *record, const char *lead)
{
	List	   *streams = signal_table_streams(relid, "signal table");
	StringInfoData leads;
	ListCell   *lc;
	int			records = 0;
	const char *last = NULL;

	initStringInfo(&leads);
	foreach(lc, streams)
	{
		SignalStream *s = lfirst(lc);

		if (last == NULL || strcmp(last, s->record) != 0)
			records++;
		last = s->record;
		if (strcmp(s->record, record) != 0)
			continue;
		if (strcmp(s->lead, lead) == 0)
			return s;
		appendStringInfo(&leads, "%s%s", leads.len ? ", " : "", s->lead);
	}
	if (leads.len == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("record \"%s\" is not in signal table \"%s\"", record, ecgdl_relation_name(relid)),
				 errdetail("The table holds %d records.", records)));
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_OBJECT),
			 errmsg("record \"%s\" has no lead \"%s\" in signal table \"%s\"", record, lead,
					ecgdl_relation_name(relid)),
			 errdetail("Its leads: %s.", leads.data)));
}

/*
 * The beats of `record` in the window from an annotation table (record,
 * sample[, symbol][, label][, fs]) or a beat table (record, sample, label,
 * signal ...): positions from the window's first sample and classes (the
 * table's label, or model's class of the row).  Non-beat annotations are
 * left out.  An fs column must agree with the signal's rate.
 */
static plot_strip_mark *
window_beats(FunctionCallInfo fcinfo, Oid relid, const char *model, const char *record,
			 const StripWindow *w, int64 shown, size_t *n_marks)
{
	static const char *const read[] = {"record", "sample", "symbol", "label", "fs"};
	char	   *rel = ecgdl_relation_name(relid);
	bool		has_symbol = get_attnum(relid, "symbol") != InvalidAttrNumber;
	bool		has_label = get_attnum(relid, "label") != InvalidAttrNumber;
	bool		has_fs = get_attnum(relid, "fs") != InvalidAttrNumber;
	StringInfoData sql;
	Oid			argtypes[4] = {TEXTOID, INT8OID, INT8OID, TEXTOID};
	Datum		args[4];
	plot_strip_mark *marks;
	size_t		n = 0;
	MemoryContext caller = CurrentMemoryContext;

	ecgdl_check_table_or_view(relid, "beat table");
	if (get_attnum(relid, "record") == InvalidAttrNumber || get_attnum(relid, "sample") == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("beat table \"%s\" has no record and sample columns", rel),
				 errhint("Mark beats from an annotation table (ecg_detect_beats, ecg_import_annotations) "
						 "or a beat table with positions (ecg_beats_from_signals, ecg_import_wfdb).")));
	ecgdl_require_builtin_column_types(relid, "beat table", read, lengthof(read));
	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT b.sample::pg_catalog.int8, %s, %s, %s FROM %s b "
					 "WHERE b.record::pg_catalog.text OPERATOR(pg_catalog.=) $1 "
					 "AND b.sample OPERATOR(pg_catalog.>=) $2 AND b.sample OPERATOR(pg_catalog.<) $3 "
					 "ORDER BY b.sample",
					 has_symbol ? "b.symbol::pg_catalog.text" : "NULL::pg_catalog.text",
					 model ? psprintf("%s.ecg_classify_beat($4, b)::pg_catalog.int4",
									  quote_identifier(get_namespace_name(get_func_namespace(fcinfo->flinfo->fn_oid)))) :
					 has_label ? "b.label::pg_catalog.int4" : "NULL::pg_catalog.int4",
					 has_fs ? "b.fs::pg_catalog.float8" : "NULL::pg_catalog.float8", rel);
	args[0] = CStringGetTextDatum(record);
	args[1] = Int64GetDatum(w->first);
	args[2] = Int64GetDatum(w->first + shown);
	args[3] = model ? CStringGetTextDatum(model) : (Datum) 0;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args(sql.data, model ? 4 : 3, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the beats of record \"%s\" from %s", record, rel);
	marks = MemoryContextAlloc(caller, sizeof(plot_strip_mark) * (SPI_processed + 1));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		snull,
					lnull,
					fnull,
					ynull;
		int64		sample = DatumGetInt64(SPI_getbinval(tup, desc, 1, &snull));
		Datum		sym = SPI_getbinval(tup, desc, 2, &ynull);
		Datum		label = SPI_getbinval(tup, desc, 3, &lnull);
		Datum		fs = SPI_getbinval(tup, desc, 4, &fnull);

		if (!fnull && DatumGetFloat8(fs) != w->fs)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the beats of record \"%s\" in \"%s\" are at %g Hz, its signal at %g Hz",
							record, rel, DatumGetFloat8(fs), w->fs),
					 errhint("Mark the beats of the signal table they were detected in or cut from.")));
		if (!ynull && !qrs_is_beat_symbol(TextDatumGetCString(sym)))
			continue;
		marks[n].sample = (double) (sample - w->first);
		marks[n].label = lnull || DatumGetInt32(label) < 0 || DatumGetInt32(label) >= ECGDL_N_CLASSES ?
			-1 : DatumGetInt32(label);
		n++;
	}
	SPI_finish();
	*n_marks = n;
	return marks;
}

/*
 * ecg_plot_recording(recordings regclass, record text, lead text, start_s
 * float8, seconds float8, beats regclass, model text) -> text
 */
Datum
ecg_plot_recording(PG_FUNCTION_ARGS)
{
	static const char *const required[] = {"recordings", "record", "lead", "start_s", "seconds"};
	Oid			relid;
	char	   *record,
			   *lead,
			   *model = NULL;
	StripWindow w;
	SignalStream *stream;
	SignalConsumer consumer = {window_begin, window_chunk, window_end, &w};
	plot_strip_mark *marks = NULL;
	size_t		n_marks = 0;
	int64		shown;
	svg_buf		b;
	char	   *title;

	for (int i = 0; i < (int) lengthof(required); i++)
		if (PG_ARGISNULL(i))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s must not be NULL", required[i])));
	relid = PG_GETARG_OID(0);
	record = text_to_cstring(PG_GETARG_TEXT_PP(1));
	lead = text_to_cstring(PG_GETARG_TEXT_PP(2));
	memset(&w, 0, sizeof(w));
	w.start_s = PG_GETARG_FLOAT8(3);
	w.seconds = PG_GETARG_FLOAT8(4);
	w.context = CurrentMemoryContext;
	if (!isfinite(w.start_s) || w.start_s < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("start_s must be a finite number of seconds >= 0, not %g", w.start_s)));
	if (!isfinite(w.seconds) || !(w.seconds > 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("seconds must be a finite number of seconds > 0, not %g", w.seconds)));
	if (w.seconds > STRIP_MAX_SECONDS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("a strip of %g s is too long, at most %g s can be drawn", w.seconds, STRIP_MAX_SECONDS),
				 errhint("Draw the recording in several strips: call again with start_s moved on.")));
	if (!PG_ARGISNULL(6))
	{
		model = text_to_cstring(PG_GETARG_TEXT_PP(6));
		if (PG_ARGISNULL(5))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("a model needs a beat table to classify"),
					 errhint("Pass beats => a beat table with record, sample and signal columns (ecg_beats_from_signals makes one).")));
	}

	stream = find_stream(relid, record, lead);
	signal_read_streams(relid, "signal table", list_make1(stream), &consumer);
	if (w.first >= w.total)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the window starts at %g s, after the end of record \"%s\" (lead %s: %.1f s)",
						w.start_s, record, lead, (double) w.total / w.fs)));
	/* a window past the record's end is drawn to its end */
	shown = Min(w.count, w.total - w.first);
	Assert(w.filled == shown);
	if (shown < 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the window at %g s holds fewer than two samples of record \"%s\"", w.start_s, record)));
	/* the paper's height (it always shows -0.5 to 1 mV): samples in mV, as
	 * ecg_import_wfdb_signals stores them */
	{
		double		lo = w.x[0],
					hi = w.x[0];

		for (int64 i = 1; i < shown; i++)
		{
			lo = Min(lo, w.x[i]);
			hi = Max(hi, w.x[i]);
		}
		if ((Max(hi, 1.0) - Min(lo, -0.5)) * PLOT_MM_PER_UNIT > STRIP_MAX_HEIGHT_MM)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("the strip of record \"%s\" would need %.0f mm of paper, at most %.0f mm can be drawn",
							record, (Max(hi, 1.0) - Min(lo, -0.5)) * PLOT_MM_PER_UNIT, STRIP_MAX_HEIGHT_MM),
					 errdetail("Its samples range from %g to %g.", lo, hi),
					 errhint("A signal table holds samples in mV (10 mm each on the paper); check the table's units.")));
	}
	if (!PG_ARGISNULL(5))
		marks = window_beats(fcinfo, PG_GETARG_OID(5), model, record, &w, shown, &n_marks);

	title = psprintf("record %s, lead %s: %.1f to %.1f s at %g Hz%s%s%s", record, lead,
					 (double) w.first / w.fs, (double) (w.first + shown) / w.fs, w.fs,
					 PG_ARGISNULL(5) ? "" : psprintf("; %zu beats of %s", n_marks,
													 ecgdl_relation_name(PG_GETARG_OID(5))),
					 model ? ", classes by model " : (PG_ARGISNULL(5) ? "" : ", classes as labelled"),
					 model ? model : "");
	svg_init(&b);
	plot_strip_svg(&b, w.x, (size_t) shown, w.fs, (double) w.first / w.fs, marks, n_marks, title);
	PG_RETURN_TEXT_P(plot_svg_text(&b));
}
