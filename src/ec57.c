/*
 * ec57.c - EC57 reporting of beat classification: ecg_evaluate_ec57 (per
 * record and gross Se, +P, FPR and F1 of N, S, V and F, stored in
 * ecgdl.evaluations with the per-record confusion matrices) and
 * ecgdl.ec57_figures (the same figures of one stored confusion matrix, for
 * the views ecgdl.report_ec57 and ecgdl.report_ec57_records).  The figures
 * are those of src/core/ec57.h (Q left out).
 *
 * ecg_evaluate_ec57 runs the model through ecg_classify_table, so it reads
 * the model and the table with exactly that function's rules and features,
 * and joins the predictions to the table's labels and records by id.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "ec57.h"
#include "ecgdl.h"
#include "metrics.h"

PG_FUNCTION_INFO_V1(ecg_evaluate_ec57);
PG_FUNCTION_INFO_V1(ecg_ec57_figures);

#define MATRIX_CELLS (EC57_MATRIX * EC57_MATRIX)

/* float8 datum, NULL when undefined */
static void
put_fraction(double v, Datum *value, bool *isnull)
{
	*isnull = isnan(v);
	*value = Float8GetDatum(*isnull ? 0.0 : v);
}

/* Rows (record, class, tp, fn, fp, tn, se, ppv, fpr, f1) of one matrix: N, S,
 * V, F, then "macro" with only its F1; record omitted when NULL
 * (ecgdl.ec57_figures has no record column). */
static void
put_matrix_rows(ReturnSetInfo *rsinfo, const char *record, const int64 *confusion)
{
	int			off = record ? 1 : 0;

	for (int c = 0; c <= EC57_CLASSES; c++)
	{
		Datum		values[10];
		bool		nulls[10] = {false};
		ec57_stats	s;

		if (record)
			values[0] = CStringGetTextDatum(record);
		if (c < EC57_CLASSES)
		{
			ec57_class_stats(confusion, c, &s);
			values[off] = CStringGetTextDatum(ecgdl_class_name(c));
			values[off + 1] = Int64GetDatum(s.tp);
			values[off + 2] = Int64GetDatum(s.fn);
			values[off + 3] = Int64GetDatum(s.fp);
			values[off + 4] = Int64GetDatum(s.tn);
			put_fraction(s.se, &values[off + 5], &nulls[off + 5]);
			put_fraction(s.ppv, &values[off + 6], &nulls[off + 6]);
			put_fraction(s.fpr, &values[off + 7], &nulls[off + 7]);
			put_fraction(s.f1, &values[off + 8], &nulls[off + 8]);
		}
		else
		{
			values[off] = CStringGetTextDatum("macro");
			for (int k = 1; k <= 7; k++)
				nulls[off + k] = true;
			put_fraction(ec57_macro_f1(confusion), &values[off + 8], &nulls[off + 8]);
		}
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
}

/*
 * ecgdl.ec57_figures(confusion bigint[]) -> TABLE (class, tp, fn, fp, tn,
 * se, ppv, fpr, f1): the EC57 figures of a 5 x 5 confusion matrix (as
 * ecgdl.evaluations stores it).
 */
Datum
ecg_ec57_figures(PG_FUNCTION_ARGS)
{
	ArrayType  *arr = PG_GETARG_ARRAYTYPE_P(0);
	int64		confusion[MATRIX_CELLS];
	Datum	   *elems;
	bool	   *nulls;
	int			n;

	if (ARR_NDIM(arr) != 2 || ARR_DIMS(arr)[0] != EC57_MATRIX || ARR_DIMS(arr)[1] != EC57_MATRIX)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("a confusion matrix must be 5 x 5 (N, S, V, F, Q)")));
	deconstruct_array(arr, INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
					  &elems, &nulls, &n);
	for (int i = 0; i < n; i++)
	{
		if (nulls[i] || DatumGetInt64(elems[i]) < 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("a confusion matrix holds counts"),
					 errdetail("Element %d is %s.", i + 1, nulls[i] ? "NULL" : "negative")));
		confusion[i] = DatumGetInt64(elems[i]);
	}
	InitMaterializedSRF(fcinfo, 0);
	put_matrix_rows((ReturnSetInfo *) fcinfo->resultinfo, NULL, confusion);
	return (Datum) 0;
}

/* One record's confusion matrix. */
typedef struct RecordConfusion
{
	char	   *record;
	int64		confusion[MATRIX_CELLS];
} RecordConfusion;

typedef struct CountState
{
	const char *role;
	int64		gross[MATRIX_CELLS];
	int64		rows;
	List	   *records;		/* RecordConfusion, in the scan's (record) order */
	RecordConfusion *current;
	MemoryContext context;
} CountState;

static void
count_block(SPITupleTable *tuptable, uint64 n, void *arg)
{
	CountState *cs = arg;

	for (uint64 r = 0; r < n; r++)
	{
		HeapTuple	tuple = tuptable->vals[r];
		int64		id;
		int			label;
		bool		isnull;
		Datum		d;
		int			predicted;
		char	   *record;

		beat_row_read(tuple, tuptable->tupdesc, 1, cs->role, &id, &label, NULL);
		d = SPI_getbinval(tuple, tuptable->tupdesc, 3, &isnull);
		predicted = isnull ? -1 : DatumGetInt16(d);
		if (predicted < 0 || predicted >= EC57_MATRIX)
			elog(ERROR, "ecg_classify_table gave class %d", predicted);
		cs->gross[label * EC57_MATRIX + predicted]++;
		cs->rows++;
		d = SPI_getbinval(tuple, tuptable->tupdesc, 4, &isnull);
		if (isnull)
			continue;			/* in the gross figures only */
		record = TextDatumGetCString(d);
		if (cs->current == NULL || strcmp(cs->current->record, record) != 0)
		{
			MemoryContext old = MemoryContextSwitchTo(cs->context);

			cs->current = palloc0(sizeof(RecordConfusion));
			cs->current->record = pstrdup(record);
			cs->records = lappend(cs->records, cs->current);
			MemoryContextSwitchTo(old);
		}
		cs->current->confusion[label * EC57_MATRIX + predicted]++;
	}
}

/* A 5 x 5 matrix as a bigint[] literal ('{{...},...}') or a JSON array of
 * arrays ('[[...],...]'). */
static void
append_matrix(StringInfo buf, const int64 *m, bool json)
{
	appendStringInfoChar(buf, json ? '[' : '{');
	for (int t = 0; t < EC57_MATRIX; t++)
	{
		appendStringInfoString(buf, t ? "," : "");
		appendStringInfoChar(buf, json ? '[' : '{');
		for (int p = 0; p < EC57_MATRIX; p++)
			appendStringInfo(buf, "%s%lld", p ? "," : "", (long long) m[t * EC57_MATRIX + p]);
		appendStringInfoChar(buf, json ? ']' : '}');
	}
	appendStringInfoChar(buf, json ? ']' : '}');
}

/* Stores the evaluation as ecg_evaluate does (the same per_class figures
 * and confusion), plus the per-record matrices. */
static void
store(const char *model, Oid test, const CountState *cs)
{
	classification_report report;
	StringInfoData per_class,
				confusion,
				per_record;
	EvaluationRecord rec;
	ModelVersion version;
	ListCell   *lc;

	metrics_report(cs->gross, EC57_MATRIX, &report);
	initStringInfo(&per_class);
	appendStringInfoChar(&per_class, '{');
	for (int c = 0; c < EC57_MATRIX + 2; c++)
	{
		const class_metrics *m = c < EC57_MATRIX ? &report.per_class[c] :
			c == EC57_MATRIX ? &report.macro : &report.weighted;
		const char *name = c < EC57_MATRIX ? ecgdl_class_name(c) :
			c == EC57_MATRIX ? "macro avg" : "weighted avg";

		appendStringInfo(&per_class,
						 "%s\"%s\": {\"precision\": %.6f, \"recall\": %.6f, \"f1\": %.6f, \"support\": %lld}",
						 c ? ", " : "", name, m->precision, m->recall, m->f1, (long long) m->support);
	}
	appendStringInfoChar(&per_class, '}');
	initStringInfo(&confusion);
	append_matrix(&confusion, cs->gross, false);
	initStringInfo(&per_record);
	appendStringInfoChar(&per_record, '{');
	foreach(lc, cs->records)
	{
		RecordConfusion *rc = lfirst(lc);

		appendStringInfo(&per_record, "%s", foreach_current_index(lc) ? ", " : "");
		escape_json(&per_record, rc->record);
		appendStringInfoString(&per_record, ": ");
		append_matrix(&per_record, rc->confusion, true);
	}
	appendStringInfoChar(&per_record, '}');

	if (!model_store_version(model, &version))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("model \"%s\" does not exist", model),
				 errdetail("It was dropped while it was evaluated."),
				 errhint("Trained models are listed in ecgdl.models.")));
	rec.model_id = version.id;
	rec.model_name = model;
	rec.test_table = ecgdl_relation_name(test);
	rec.rows = report.total;
	rec.accuracy = report.accuracy;
	rec.macro_f1 = report.macro.f1;
	rec.per_class = per_class.data;
	rec.confusion = confusion.data;
	model_store_save_evaluation_records(&rec, per_record.data);
}

/*
 * ecg_evaluate_ec57(model text, test regclass, by_record boolean DEFAULT
 * true) -> TABLE (record, class, tp, fn, fp, tn, se, ppv, fpr, f1): per
 * record (when by_record) and 'gross', the rows of put_matrix_rows.
 */
Datum
ecg_evaluate_ec57(PG_FUNCTION_ARGS)
{
	char	   *model;
	Oid			test;
	bool		by_record;
	CountState	cs;
	StringInfoData sql;
	ListCell   *lc;
	ReturnSetInfo *rsinfo;
	const char *record;

	ecgdl_require_args(fcinfo, 3, "ecg_evaluate_ec57");
	model = text_to_cstring(PG_GETARG_TEXT_PP(0));
	test = PG_GETARG_OID(1);
	by_record = PG_GETARG_BOOL(2);
	beat_table_check_layout(test, "test table");
	beat_table_check_optional_columns(test, "test table");

	memset(&cs, 0, sizeof(cs));
	cs.role = psprintf("test table \"%s\"", ecgdl_relation_name(test));
	cs.context = CurrentMemoryContext;
	initStringInfo(&sql);
	record = get_attnum(test, "record") != InvalidAttrNumber ?
		"t.record::pg_catalog.text" : "NULL::pg_catalog.text";
	appendStringInfo(&sql,
					 "SELECT t.id, t.label, c.predicted, %s "
					 "FROM %s.ecg_classify_table(%s::pg_catalog.text, %u::pg_catalog.oid::pg_catalog.regclass) c "
					 "JOIN %s t ON t.id OPERATOR(pg_catalog.=) c.id "
					 "ORDER BY %s COLLATE pg_catalog.\"C\", t.id",
					 record,
					 /* ecg_classify_table lives beside this function */
					 quote_identifier(get_namespace_name(get_func_namespace(fcinfo->flinfo->fn_oid))),
					 quote_literal_cstr(model), test, ecgdl_relation_name(test), record);
	ecgdl_scan(sql.data, 10000, count_block, &cs);
	if (cs.rows == 0)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("%s is empty", cs.role)));
	store(model, test, &cs);

	InitMaterializedSRF(fcinfo, 0);
	rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	if (by_record)
		foreach(lc, cs.records)
		{
			RecordConfusion *rc = lfirst(lc);

			put_matrix_rows(rsinfo, rc->record, rc->confusion);
		}
	put_matrix_rows(rsinfo, "gross", cs.gross);
	return (Datum) 0;
}
