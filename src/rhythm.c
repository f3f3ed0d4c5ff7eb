/*
 * rhythm.c - ecg_rhythm_summary: a Holter-style summary per record of a
 * beat or annotation table (rhythm_stats.h for the definitions), from the
 * table's own labels or from a model's classes.
 */
#include "postgres.h"

#include <math.h>

#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "ecgdl.h"
#include "rhythm_stats.h"
#include "wfdb.h"

PG_FUNCTION_INFO_V1(ecg_rhythm_summary);

#define SUMMARY_COLUMNS 18

typedef struct SummaryState
{
	ReturnSetInfo *rsinfo;
	double		fs;				/* the argument; NaN when NULL */
	const char *role;
	int			records;
} SummaryState;

static Datum
float_or_null(double v, bool *isnull)
{
	*isnull = isnan(v);
	return Float8GetDatum(v);
}

static void
summarise_record(const AnnotationRecord *rec, void *arg)
{
	SummaryState *ss = arg;
	double		fs = rec->fs > 0 ? rec->fs : ss->fs;
	rhythm_stats r;
	ecg_status	st;
	Datum		v[SUMMARY_COLUMNS];
	bool		nulls[SUMMARY_COLUMNS] = {false};
	double		hours;
	int			k = 0;

	if (isnan(fs))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s has no sampling rate for record \"%s\"", ss->role, rec->record),
				 errhint("Pass fs => the recording's rate in Hz, or add a column fs float8 "
						 "(ecg_beats_from_signals and the annotation tables have one).")));
	if (rhythm_init(&r, fs, &st) != 0)
		ecgdl_report_status(&st, ERRCODE_INVALID_PARAMETER_VALUE, psprintf("record \"%s\"", rec->record));
	for (int64 i = 0; i < rec->n; i++)
		if (rhythm_add(&r, rec->ann[i].sample, rec->labels[i], &st) != 0)
			ecgdl_report_status(&st, ERRCODE_DATA_EXCEPTION,
								psprintf("%s, record \"%s\"", ss->role, rec->record));
	rhythm_finish(&r);
	hours = rhythm_duration_seconds(&r) / 3600.0;

	v[k++] = CStringGetTextDatum(rec->record);
	v[k++] = Float8GetDatum(rhythm_duration_seconds(&r));
	v[k++] = Int64GetDatum(r.beats);
	v[k] = float_or_null(rhythm_mean_hr(&r), &nulls[k]);
	k++;
	v[k] = float_or_null(r.min_hr, &nulls[k]);
	k++;
	v[k] = float_or_null(r.max_hr, &nulls[k]);
	k++;
	for (int c = RHYTHM_S; c <= RHYTHM_V; c++)
	{
		v[k++] = Int64GetDatum(r.ectopic[c]);
		v[k] = float_or_null(hours > 0 ? r.ectopic[c] / hours : NAN, &nulls[k]);
		k++;
		v[k++] = Int64GetDatum(r.couplets[c]);
		v[k++] = Int64GetDatum(r.runs[c]);
		v[k++] = Int64GetDatum(r.longest_run[c]);
	}
	v[k++] = Int64GetDatum(r.pauses);
	v[k] = float_or_null(r.beats >= 2 ? r.longest_rr / fs : NAN, &nulls[k]);
	k++;
	Assert(k == SUMMARY_COLUMNS);
	tuplestore_putvalues(ss->rsinfo->setResult, ss->rsinfo->setDesc, v, nulls);
	ss->records++;
}

/*
 * ecg_rhythm_summary(beats regclass, model text DEFAULT NULL, fs float8
 * DEFAULT NULL): model NULL uses the table's labels (an annotation table or a
 * labelled beat table); otherwise the beats (a beat table) are classified
 * with the model first.  fs is needed only for tables without an fs column.
 */
Datum
ecg_rhythm_summary(PG_FUNCTION_ARGS)
{
	Oid			relid;
	SummaryState ss;
	char	   *sql;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("beats must not be NULL")));
	relid = PG_GETARG_OID(0);
	memset(&ss, 0, sizeof(ss));
	ss.fs = PG_ARGISNULL(2) ? NAN : PG_GETARG_FLOAT8(2);
	if (!PG_ARGISNULL(2) && (!isfinite(ss.fs) || ss.fs <= 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("fs must be a positive sampling rate in Hz, not %g", ss.fs)));
	ss.role = psprintf("beat table \"%s\"", ecgdl_relation_name(relid));
	if (PG_ARGISNULL(1))
		sql = annotation_table_query(relid, "beat table", false);
	else
	{
		char	   *model = text_to_cstring(PG_GETARG_TEXT_PP(1));
		/* ecg_classify_table lives beside this function, in the extension's schema */
		char	   *schema = get_namespace_name(get_func_namespace(fcinfo->flinfo->fn_oid));
		char	   *rel = ecgdl_relation_name(relid);

		beat_table_check_layout(relid, "beat table");
		{
			static const char *const read[] = {"record", "sample", "fs"};

			ecgdl_require_builtin_column_types(relid, "beat table", read, lengthof(read));
		}
		if (get_attnum(relid, "record") == InvalidAttrNumber ||
			get_attnum(relid, "sample") == InvalidAttrNumber)
			ereport(ERROR,
					(errcode(ERRCODE_WRONG_OBJECT_TYPE),
					 errmsg("%s has no record and sample columns", ss.role),
					 errhint("The summary needs beat positions: cut the beats with ecg_beats_from_signals or ecg_import_wfdb.")));
		sql = psprintf("SELECT b.record::pg_catalog.text, b.sample::pg_catalog.int8, "
					   "NULL::pg_catalog.text, NULL::pg_catalog.int2, c.predicted, %s "
					   "FROM %s.ecg_classify_table(%s, %s::pg_catalog.regclass) c "
					   "JOIN %s b ON b.id OPERATOR(pg_catalog.=) c.id "
					   "ORDER BY b.record::pg_catalog.text COLLATE pg_catalog.\"C\", b.sample, b.id",
					   get_attnum(relid, "fs") != InvalidAttrNumber ? "b.fs::pg_catalog.float8" :
					   "NULL::pg_catalog.float8",
					   quote_identifier(schema), quote_literal_cstr(model),
					   quote_literal_cstr(rel), rel);
	}
	InitMaterializedSRF(fcinfo, 0);
	ss.rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	annotation_scan(sql, ss.role, true, summarise_record, &ss);
	if (ss.records == 0)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("%s holds no beats", ss.role)));
	return (Datum) 0;
}
