/*
 * qrs_sql.c - QRS detection in SQL: ecg_detect_qrs (one array),
 * ecg_detect_beats (a signal table into an annotation table, streamed chunk
 * by chunk through the core's detector), ecg_qrs_evaluate (EC57 / bxb
 * beat-by-beat comparison of two annotation tables, stored in
 * ecgdl.qrs_evaluations) and ecg_qrs_evaluations_drop.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "ecgdl.h"
#include "lead_choice.h"
#include "qrs.h"
#include "qrs_leads.h"
#include "qrs_match.h"

PG_FUNCTION_INFO_V1(ecg_detect_qrs);
PG_FUNCTION_INFO_V1(ecg_detect_beats);
PG_FUNCTION_INFO_V1(ecg_qrs_evaluate);
PG_FUNCTION_INFO_V1(ecg_qrs_evaluations_drop);

/* Refuses a rate the detector does not work at (22023). */
static void
check_detector_rate(double fs, const char *where)
{
	if (!isfinite(fs) || fs < QRS_FS_MIN || fs > QRS_FS_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s%ssampling rate %g Hz is outside the detector's range", where ? where : "",
						where ? ": " : "", fs),
				 errdetail("The QRS detector works at %g to %g Hz.", QRS_FS_MIN, QRS_FS_MAX)));
}

/* Maps a failed detector call to an error: NaN/Inf samples are data (22000). */
static void
report_detector(const ecg_status *st, const char *where)
{
	ecgdl_report_status(st, ERRCODE_DATA_EXCEPTION, where);
}

/*
 * ecg_detect_qrs(samples real[], fs float8) -> bigint[]: R-peak positions
 * (0 = the first sample) of one signal in mV.  STRICT: NULL in, NULL out.
 */
Datum
ecg_detect_qrs(PG_FUNCTION_ARGS)
{
	ArrayType  *arr = PG_GETARG_ARRAYTYPE_P(0);
	double		fs = PG_GETARG_FLOAT8(1);
	int			n;
	int64_t    *peaks = NULL;
	size_t		n_peaks = 0;
	ecg_status	st;
	Datum	   *elems;

	check_detector_rate(fs, NULL);
	if (ARR_ELEMTYPE(arr) != FLOAT4OID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("samples must be a real[] array")));
	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("samples must be a one-dimensional array"),
				 errdetail("It has %d dimensions.", ARR_NDIM(arr))));
	n = ARR_NDIM(arr) == 1 ? ARR_DIMS(arr)[0] : 0;
	if (n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("samples must not be empty")));
	if (ARR_HASNULL(arr))
	{
		bits8	   *bitmap = ARR_NULLBITMAP(arr);

		for (int i = 0; i < n; i++)
			if (!(bitmap[i / 8] & (1 << (i % 8))))
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("sample %d is NULL", i)));
	}
	if (qrs_detect((const float *) ARR_DATA_PTR(arr), (size_t) n, fs, &peaks, &n_peaks, &st) != 0)
		report_detector(&st, NULL);
	elems = palloc(sizeof(Datum) * (n_peaks > 0 ? n_peaks : 1));
	for (size_t i = 0; i < n_peaks; i++)
		elems[i] = Int64GetDatum(peaks[i]);
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, (int) n_peaks, INT8OID, 8, FLOAT8PASSBYVAL,
										  TYPALIGN_DOUBLE));
}

/* ecg_detect_beats ----------------------------------------------------------- */

typedef struct DetectState
{
	AnnotationWriter *writer;
	MemoryContext context;		/* the current stream's detector */
	qrs_leads  *det;			/* one lead, or two (second_lead) */
	const char *record;
	double		fs;
	char	   *where;
	int64		beats;
} DetectState;

static int
emit_beat(void *arg, int64_t sample, ecg_status *st)
{
	DetectState *ds = arg;

	annotation_table_add(ds->writer, ds->record, sample, NULL, -1, -1, ds->fs);
	ds->beats++;
	return 0;
}

static void
detect_start(DetectState *ds, const char *record, char *where, double fs, int n_leads)
{
	MemoryContext old;
	ecg_status	st;

	MemoryContextReset(ds->context);
	old = MemoryContextSwitchTo(ds->context);
	ds->where = pstrdup(where);
	check_detector_rate(fs, ds->where);
	ds->det = qrs_leads_new(fs, n_leads, &st);
	if (ds->det == NULL)
		ecgdl_report_status(&st, ERRCODE_INVALID_PARAMETER_VALUE, ds->where);
	MemoryContextSwitchTo(old);
	ds->record = record;
	ds->fs = fs;
}

static void
detect_feed(DetectState *ds, const float *const *x, int64 n)
{
	ecg_status	st;

	if (qrs_leads_feed(ds->det, x, (size_t) n, emit_beat, ds, &st) != 0)
		report_detector(&st, ds->where);
}

static void
detect_stop(DetectState *ds)
{
	ecg_status	st;

	if (qrs_leads_finish(ds->det, emit_beat, ds, &st) != 0)
		report_detector(&st, ds->where);
	qrs_leads_free(ds->det);
	ds->det = NULL;
	MemoryContextReset(ds->context);
}

static void
detect_begin(const SignalStream *s, double fs, void *arg)
{
	detect_start(arg, s->record, psprintf("record \"%s\", lead \"%s\"", s->record, s->lead),
				 fs, 1);
}

static void
detect_chunk(const SignalStream *s, int64 start, const float *x, int64 n, void *arg)
{
	detect_feed(arg, &x, n);
}

static void
detect_end(const SignalStream *s, double fs, int64 n_samples, void *arg)
{
	detect_stop(arg);
}

static void
detect_pair_begin(const SignalStream *a, const SignalStream *b, double fs, void *arg)
{
	detect_start(arg, a->record, psprintf("record \"%s\", leads \"%s\" and \"%s\"", a->record,
										  a->lead, b->lead), fs, 2);
}

static void
detect_pair_chunk(const SignalStream *a, const SignalStream *b, int64 start, const float *x_a,
				  const float *x_b, int64 n, void *arg)
{
	const float *x[2] = {x_a, x_b};

	detect_feed(arg, x, n);
}

static void
detect_pair_end(const SignalStream *a, const SignalStream *b, double fs, int64 n_samples,
				void *arg)
{
	detect_stop(arg);
}

/*
 * The second lead of each record of `firsts` (all: every stream of the
 * table): the first lead of the preference `second` (a name or a list, as
 * for `lead`) that the record has, other than the lead detected on; 22023
 * when a record has none.
 */
static List *
second_streams(List *all, List *firsts, const char *second)
{
	List	   *seconds = NIL;
	ListCell   *lc;

	ecgdl_check_lead_preference(second);
	foreach(lc, firsts)
	{
		SignalStream *first = lfirst(lc);
		SignalStream *found = NULL;
		int			best = -1;
		bool		only_first = false;
		ListCell   *lc2;

		foreach(lc2, all)
		{
			SignalStream *s = lfirst(lc2);
			int			rank;

			if (strcmp(s->record, first->record) != 0 || (rank = lead_rank(second, s->lead)) < 0)
				continue;
			if (s == first)
				only_first = true;
			else if (best < 0 || rank < best)
			{
				found = s;
				best = rank;
			}
		}
		if (found == NULL && only_first)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("record \"%s\": second_lead \"%s\" has only the lead picked for detection (\"%s\")",
							first->record, second, first->lead),
					 errhint("The second lead must be another lead of the record.")));
		if (found == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("record \"%s\" has no lead \"%s\" (second_lead)", first->record, second),
					 errhint("Every record needs a second lead; detect the others with second_lead NULL.")));
		seconds = lappend(seconds, found);
	}
	return seconds;
}

/*
 * ecg_detect_beats(recordings regclass, target text, lead text DEFAULT
 * 'MLII', second_lead text DEFAULT NULL) -> bigint: one annotation row per
 * detected beat (symbol, subtype and label NULL) of every record, detected
 * on the chosen lead, or on it and the record's first lead of second_lead
 * (a name or a list) together (qrs_leads.h).  The 0.2.0 definition has no
 * fourth argument.
 */
Datum
ecg_detect_beats(PG_FUNCTION_ARGS)
{
	Oid			relid;
	char	   *target,
			   *lead,
			   *second = NULL;
	List	   *all,
			   *streams;
	DetectState ds;

	ecgdl_require_args(fcinfo, 3, "ecg_detect_beats");
	relid = PG_GETARG_OID(0);
	target = text_to_cstring(PG_GETARG_TEXT_PP(1));
	lead = text_to_cstring(PG_GETARG_TEXT_PP(2));
	if (PG_NARGS() > 3 && !PG_ARGISNULL(3))
		second = text_to_cstring(PG_GETARG_TEXT_PP(3));
	ecgdl_new_table_name(target);
	all = signal_table_streams(relid, "signal table");
	streams = signal_streams_pick_lead(all, lead);

	memset(&ds, 0, sizeof(ds));
	if (second != NULL)
	{
		List	   *seconds = second_streams(all, streams, second);
		SignalPairConsumer consumer = {detect_pair_begin, detect_pair_chunk, detect_pair_end, &ds};

		ds.writer = annotation_table_create(target);
		ds.context = AllocSetContextCreate(CurrentMemoryContext, "ecgdl QRS detector",
										   ALLOCSET_DEFAULT_SIZES);
		signal_read_stream_pairs(relid, "signal table", streams, seconds, &consumer);
	}
	else
	{
		SignalConsumer consumer = {detect_begin, detect_chunk, detect_end, &ds};

		ds.writer = annotation_table_create(target);
		ds.context = AllocSetContextCreate(CurrentMemoryContext, "ecgdl QRS detector",
										   ALLOCSET_DEFAULT_SIZES);
		signal_read_streams(relid, "signal table", streams, &consumer);
	}
	annotation_table_finish(ds.writer);
	MemoryContextDelete(ds.context);
	PG_RETURN_INT64(ds.beats);
}

/* ecg_qrs_evaluate ------------------------------------------------------------ */

/* The detected beats of one record. */
typedef struct DetectedRecord
{
	RecordItem	item;			/* record name, first */
	double		fs;
	int64	   *samples;
	int64		n;
} DetectedRecord;

typedef struct EvalState
{
	List	   *detected;		/* DetectedRecord, in record order */
	MemoryContext context;		/* where they live */
	double		window_ms;
	double		learning_s;
	const char *detected_role;
	const char *reference_role;
	ReturnSetInfo *rsinfo;
	qrs_match_counts gross,
				gross_whole;
	StringInfoData per_record;
	int			records;
} EvalState;

static void
keep_detected(const AnnotationRecord *rec, void *arg)
{
	EvalState  *es = arg;
	MemoryContext old = MemoryContextSwitchTo(es->context);
	DetectedRecord *d = palloc0(sizeof(DetectedRecord));

	d->item.record = pstrdup(rec->record);
	d->fs = rec->fs;
	d->n = rec->n;
	d->samples = palloc_extended(sizeof(int64) * Max(rec->n, 1), MCXT_ALLOC_HUGE);
	for (int64 i = 0; i < rec->n; i++)
		d->samples[i] = rec->ann[i].sample;
	es->detected = lappend(es->detected, d);
	MemoryContextSwitchTo(old);
}

static void
put_eval_row(EvalState *es, const char *record, const qrs_match_counts *c,
			 const qrs_match_counts *whole)
{
	Datum		values[8];
	bool		nulls[8] = {false};
	double		figures[4] = {qrs_sensitivity(c), qrs_positive_predictivity(c),
		qrs_sensitivity(whole), qrs_positive_predictivity(whole)};

	values[0] = CStringGetTextDatum(record);
	values[1] = Int64GetDatum(c->tp);
	values[2] = Int64GetDatum(c->fn);
	values[3] = Int64GetDatum(c->fp);
	for (int i = 0; i < 4; i++)
	{
		values[4 + i] = Float8GetDatum(figures[i]);
		nulls[4 + i] = isnan(figures[i]);
	}
	tuplestore_putvalues(es->rsinfo->setResult, es->rsinfo->setDesc, values, nulls);
}

static void
match_or_fail(const int64_t *ref, size_t n_ref, const DetectedRecord *d, int64 window, int64 start,
			  const qrs_interval *ex, size_t n_ex, qrs_match_counts *c, const char *record)
{
	ecg_status	st;

	if (qrs_match(ref, n_ref, d ? (const int64_t *) d->samples : NULL, d ? (size_t) d->n : 0,
				  window, start, -1, ex, n_ex, c, &st) != 0)
		ecgdl_report_status(&st, ERRCODE_DATA_EXCEPTION, psprintf("record \"%s\"", record));
}

/* JSON string of a C string: the record names go into per_record as keys. */
static char *
json_key(const char *s)
{
	StringInfoData buf;

	initStringInfo(&buf);
	escape_json(&buf, s);
	return buf.data;
}

static void
evaluate_record(const AnnotationRecord *rec, void *arg)
{
	EvalState  *es = arg;
	DetectedRecord *d = record_list_find(es->detected, rec->record);
	int64		window,
				start;
	int64_t    *ref;
	size_t		n_ref = 0;
	qrs_interval *ex = NULL;
	size_t		n_ex = 0;
	qrs_match_counts c = {0},
				whole = {0};
	ecg_status	st;

	if (!(rec->fs > 0) || !isfinite(rec->fs))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s, record \"%s\": no valid sampling rate (fs is %g)", es->reference_role,
						rec->record, rec->fs)));
	if (d != NULL && d->fs != 0 && d->fs != rec->fs)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("record \"%s\" is at %g Hz in %s but at %g Hz in %s", rec->record,
						d->fs, es->detected_role, rec->fs, es->reference_role)));
	window = qrs_window_samples(es->window_ms, rec->fs);
	start = (int64) floor(es->learning_s * rec->fs + 0.5);
	ref = palloc_extended(sizeof(int64_t) * Max(rec->n, 1), MCXT_ALLOC_HUGE);
	for (int64 i = 0; i < rec->n; i++)
		if (!rec->has_symbol[i] || qrs_is_beat_symbol(rec->ann[i].symbol))
			ref[n_ref++] = rec->ann[i].sample;
	if (qrs_excluded_intervals(rec->ann, (size_t) rec->n, window, &ex, &n_ex, &st) != 0)
		ecgdl_report_status(&st, ERRCODE_OUT_OF_MEMORY, NULL);
	match_or_fail(ref, n_ref, d, window, start, ex, n_ex, &c, rec->record);
	match_or_fail(ref, n_ref, d, window, 0, ex, n_ex, &whole, rec->record);
	if (d != NULL)
		d->item.used = true;

	put_eval_row(es, rec->record, &c, &whole);
	es->gross.tp += c.tp;
	es->gross.fn += c.fn;
	es->gross.fp += c.fp;
	es->gross_whole.tp += whole.tp;
	es->gross_whole.fn += whole.fn;
	es->gross_whole.fp += whole.fp;
	appendStringInfo(&es->per_record,
					 "%s%s: {\"tp\": %lld, \"fn\": %lld, \"fp\": %lld, \"tp_whole\": %lld, "
					 "\"fn_whole\": %lld, \"fp_whole\": %lld}",
					 es->records ? ", " : "", json_key(rec->record),
					 (long long) c.tp, (long long) c.fn, (long long) c.fp,
					 (long long) whole.tp, (long long) whole.fn, (long long) whole.fp);
	es->records++;
	ecg_free(ex);
	pfree(ref);
}

/* OID of ecgdl.qrs_evaluations */
static Oid
qrs_evaluations_relid(void)
{
	Oid			relid = get_relname_relid("qrs_evaluations", get_namespace_oid("ecgdl", false));

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("table ecgdl.qrs_evaluations does not exist"),
				 errhint("The table comes with CREATE EXTENSION ecgdl (version 0.2.0).")));
	return relid;
}

/*
 * Inserts the evaluation as the owner of ecgdl.qrs_evaluations (PUBLIC may
 * not write it); the row's owner is the calling user.
 */
static void
store_qrs_evaluation(EvalState *es, Oid detected, Oid reference)
{
	Oid			argtypes[14] = {TEXTOID, TEXTOID, FLOAT8OID, FLOAT8OID, INT4OID, INT8OID, INT8OID,
	INT8OID, FLOAT8OID, FLOAT8OID, FLOAT8OID, FLOAT8OID, TEXTOID, OIDOID};
	Datum		args[14];
	char		nulls[14];
	double		figures[4] = {qrs_sensitivity(&es->gross), qrs_positive_predictivity(&es->gross),
		qrs_sensitivity(&es->gross_whole), qrs_positive_predictivity(&es->gross_whole)};

	memset(nulls, ' ', sizeof(nulls));
	args[0] = CStringGetTextDatum(ecgdl_relation_name(detected));
	args[1] = CStringGetTextDatum(ecgdl_relation_name(reference));
	args[2] = Float8GetDatum(es->window_ms);
	args[3] = Float8GetDatum(es->learning_s);
	args[4] = Int32GetDatum(es->records);
	args[5] = Int64GetDatum(es->gross.tp);
	args[6] = Int64GetDatum(es->gross.fn);
	args[7] = Int64GetDatum(es->gross.fp);
	for (int i = 0; i < 4; i++)
	{
		args[8 + i] = Float8GetDatum(figures[i]);
		if (isnan(figures[i]))
			nulls[8 + i] = 'n';
	}
	args[12] = CStringGetTextDatum(psprintf("{%s}", es->per_record.data));
	args[13] = ObjectIdGetDatum(GetUserId());
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (execute_as_table_owner(qrs_evaluations_relid(),
							   "INSERT INTO ecgdl.qrs_evaluations (detected_table, reference_table, window_ms, "
							   "learning_period_s, records, tp, fn, fp, se, ppv, se_whole, ppv_whole, "
							   "per_record, owner) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, "
							   "$13::pg_catalog.jsonb, $14::pg_catalog.regrole)",
							   14, argtypes, args, nulls) != SPI_OK_INSERT)
		elog(ERROR, "could not store the QRS evaluation");
	SPI_finish();
}

/*
 * ecg_qrs_evaluations_drop(detected_table text DEFAULT NULL) -> bigint:
 * deletes the caller's stored evaluations (those of roles the caller is a
 * member of), only those of one detected table (as written in the table)
 * when given; returns how many.
 */
Datum
ecg_qrs_evaluations_drop(PG_FUNCTION_ARGS)
{
	Oid			argtypes[2] = {OIDOID, TEXTOID};
	Datum		args[2] = {ObjectIdGetDatum(GetUserId()), (Datum) 0};
	char		nulls[2] = {' ', 'n'};
	uint64		n;

	if (!PG_ARGISNULL(0))
	{
		args[1] = PG_GETARG_DATUM(0);
		nulls[1] = ' ';
	}
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (execute_as_table_owner(qrs_evaluations_relid(),
							   "DELETE FROM ecgdl.qrs_evaluations "
							   "WHERE pg_catalog.pg_has_role($1, owner::pg_catalog.oid, 'MEMBER') "
							   "AND ($2 IS NULL OR detected_table OPERATOR(pg_catalog.=) $2)",
							   2, argtypes, args, nulls) != SPI_OK_DELETE)
		elog(ERROR, "could not drop QRS evaluations");
	n = SPI_processed;
	SPI_finish();
	PG_RETURN_INT64((int64) n);
}

/*
 * ecg_qrs_evaluate(detected regclass, reference regclass, window_ms float8
 * DEFAULT 150, learning_period_s float8 DEFAULT 300) -> TABLE(record, tp,
 * fn, fp, se, ppv, se_whole, ppv_whole): one row per record of the reference
 * table, then 'gross'.  tp/fn/fp/se/ppv leave out the learning period,
 * se_whole/ppv_whole are over the whole record.
 */
Datum
ecg_qrs_evaluate(PG_FUNCTION_ARGS)
{
	Oid			detected,
				reference;
	EvalState	es;
	ListCell   *lc;

	ecgdl_require_args(fcinfo, 4, "ecg_qrs_evaluate");
	detected = PG_GETARG_OID(0);
	reference = PG_GETARG_OID(1);
	memset(&es, 0, sizeof(es));
	es.window_ms = PG_GETARG_FLOAT8(2);
	es.learning_s = PG_GETARG_FLOAT8(3);
	if (!isfinite(es.window_ms) || es.window_ms <= 0 || es.window_ms > 1000)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("window_ms must be above 0 and at most 1000, not %g", es.window_ms)));
	if (!isfinite(es.learning_s) || es.learning_s < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("learning_period_s must be finite and not negative, not %g", es.learning_s)));
	es.detected_role = psprintf("detected table \"%s\"", ecgdl_relation_name(detected));
	es.reference_role = psprintf("reference table \"%s\"", ecgdl_relation_name(reference));
	es.context = CurrentMemoryContext;
	initStringInfo(&es.per_record);

	annotation_scan(annotation_table_query(detected, "detected table", false), es.detected_role,
					true, keep_detected, &es);
	InitMaterializedSRF(fcinfo, 0);
	es.rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	annotation_scan(annotation_table_query(reference, "reference table", true), es.reference_role,
					false, evaluate_record, &es);
	if (es.records == 0)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("%s is empty", es.reference_role)));
	foreach(lc, es.detected)
	{
		DetectedRecord *d = lfirst(lc);

		if (!d->item.used)
			ereport(NOTICE,
					(errmsg("record %s of the detected table is not in the reference table; not evaluated",
							d->item.record)));
	}
	put_eval_row(&es, "gross", &es.gross, &es.gross_whole);
	store_qrs_evaluation(&es, detected, reference);
	return (Datum) 0;
}
