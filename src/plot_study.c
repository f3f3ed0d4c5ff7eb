/*
 * plot_study.c - ecg_plot_study(prefix, metric, published): the per-class
 * figures of a study's configurations (the models ecg_study named
 * <prefix>_<arch>_<method>, their latest evaluation on <prefix>_test, as
 * ecgdl.report shows them) as grouped bars, the published figures
 * (ecgdl.published_results) beside ecgdl's.  The drawing is the core's
 * (src/core/plot_bars.c).
 */
#include "ecgdl.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"

#include "plots.h"

PG_FUNCTION_INFO_V1(ecg_plot_study);

/* the metrics a chart can show: a column prefix of ecgdl.report each */
static const char *const study_metrics[] = {"f1", "recall", "precision"};
static const char *const study_metric_names[] = {"F1", "sensitivity (recall, Se)", "positive predictivity (precision, +P)"};

/* a float8 column of an SPI row, NaN for NULL */
static double
column_or_nan(HeapTuple tup, TupleDesc desc, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tup, desc, col, &isnull);

	return isnull ? NAN : DatumGetFloat8(d);
}

/*
 * Errors when the prefix names no study: 42704 when no model is named
 * <prefix>_..., 55000 when none of them has an evaluation on <prefix>_test.
 * Called inside the SPI connection, after the chart's query found no row.
 */
static void
no_study_rows(const char *prefix, Datum arg)
{
	Oid			argtypes[1] = {TEXTOID};
	bool		isnull;
	int64		models;

	if (SPI_execute_with_args("SELECT pg_catalog.count(*) FROM ecgdl.models "
							  "WHERE pg_catalog.starts_with(name, $1 OPERATOR(pg_catalog.||) '_')",
							  1, argtypes, &arg, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not count the models of study \"%s\"", prefix);
	models = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	if (models == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("no study with prefix \"%s\"", prefix),
				 errdetail("No model in ecgdl.models is named %s_<architecture>_<method>.", prefix),
				 errhint("ecg_study(source, prefix) trains and evaluates the models of a study.")));
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("study \"%s\" has no evaluations on %s_test", prefix, prefix),
			 errdetail("Models of the study stored: %lld; none has an evaluation on the study's test table.",
					   (long long) models),
			 errhint("ecg_study evaluates each model on <prefix>_test; ecg_evaluate(model, '%s_test') does it by hand.",
					 prefix)));
}

/*
 * ecg_plot_study(prefix text, metric text DEFAULT 'f1', published boolean
 * DEFAULT true) -> text
 */
Datum
ecg_plot_study(PG_FUNCTION_ARGS)
{
	char	   *prefix;
	char	   *metric;
	int			m = -1;
	bool		published;
	StringInfoData sql;
	Oid			argtypes[1] = {TEXTOID};
	Datum		arg;
	plot_bar_group *groups;
	const char *names[ECGDL_N_CLASSES];
	uint64		n;
	int			with_published = 0;
	svg_buf		b;
	MemoryContext caller = CurrentMemoryContext;

	for (int i = 0; i < 3; i++)
		if (PG_ARGISNULL(i))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s must not be NULL", i == 0 ? "prefix" : i == 1 ? "metric" : "published")));
	prefix = text_to_cstring(PG_GETARG_TEXT_PP(0));
	metric = text_to_cstring(PG_GETARG_TEXT_PP(1));
	published = PG_GETARG_BOOL(2);
	/* ecg_study's own rule for a prefix */
	if (prefix[0] == '\0' || strspn(prefix, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(prefix) ||
		(prefix[0] >= '0' && prefix[0] <= '9'))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid study prefix \"%s\"", prefix),
				 errhint("A study prefix, as ecg_study takes it, has lower-case letters, digits and underscores.")));
	for (int i = 0; i < (int) lengthof(study_metrics); i++)
		if (strcmp(metric, study_metrics[i]) == 0)
			m = i;
	if (m < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown metric \"%s\"", metric),
				 errhint("Use 'f1', 'recall' (sensitivity, Se) or 'precision' (positive predictivity, +P).")));

	/* the study's report rows, as ecg_study returns them, with the published
	 * F1 of the same configuration */
	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT r.architecture, r.oversampling");
	for (int c = 0; c < ECGDL_N_CLASSES; c++)
	{
		char		lc = (char) (ecgdl_class_name(c)[0] - 'A' + 'a');

		appendStringInfo(&sql, ", r.%s_%c::pg_catalog.float8", study_metrics[m], lc);
	}
	for (int c = 0; c < ECGDL_N_CLASSES; c++)
		appendStringInfo(&sql, ", p.f1_%c::pg_catalog.float8", (char) (ecgdl_class_name(c)[0] - 'A' + 'a'));
	appendStringInfoString(&sql,
						   " FROM ecgdl.report r LEFT JOIN ecgdl.published_results p"
						   " ON p.architecture OPERATOR(pg_catalog.=) r.architecture"
						   " AND p.oversampling OPERATOR(pg_catalog.=) r.oversampling"
						   " WHERE pg_catalog.starts_with(r.model, $1 OPERATOR(pg_catalog.||) '_')"
						   " AND pg_catalog.split_part(r.test_table, '.', -1) OPERATOR(pg_catalog.=)"
						   " ($1 OPERATOR(pg_catalog.||) '_test')"
						   " ORDER BY r.architecture COLLATE pg_catalog.\"C\","
						   " pg_catalog.array_position(ARRAY['none', 'random', 'smote', 'adasyn'], r.oversampling),"
						   " r.model COLLATE pg_catalog.\"C\"");
	arg = CStringGetTextDatum(prefix);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args(sql.data, 1, argtypes, &arg, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the report of study \"%s\"", prefix);
	n = SPI_processed;
	if (n == 0)
		no_study_rows(prefix, arg);

	/* in the caller's context: used after SPI_finish */
	{
		MemoryContext spi = MemoryContextSwitchTo(caller);

		groups = palloc0(sizeof(plot_bar_group) * n);
		for (uint64 i = 0; i < n; i++)
		{
			HeapTuple	tup = SPI_tuptable->vals[i];
			TupleDesc	desc = SPI_tuptable->tupdesc;
			double	   *v = palloc(sizeof(double) * 2 * ECGDL_N_CLASSES);

			groups[i].label = SPI_getvalue(tup, desc, 1);
			groups[i].sublabel = SPI_getvalue(tup, desc, 2);
			for (int c = 0; c < 2 * ECGDL_N_CLASSES; c++)
				v[c] = column_or_nan(tup, desc, 3 + c);
			groups[i].values = v;
			/* the published study reports F1 only */
			if (published && m == 0)
			{
				groups[i].reference = v + ECGDL_N_CLASSES;
				for (int c = 0; c < ECGDL_N_CLASSES; c++)
					with_published |= isfinite(v[ECGDL_N_CLASSES + c]);
			}
		}
		MemoryContextSwitchTo(spi);
	}
	SPI_finish();

	for (int c = 0; c < ECGDL_N_CLASSES; c++)
		names[c] = ecgdl_class_name(c);
	svg_init(&b);
	plot_grouped_bars_svg(&b, groups, (int) n, ECGDL_N_CLASSES, names, plot_class_colours,
						  study_metric_names[m], "published (Kaggle MIT-BIH split)",
						  psprintf("study %s: %s per class on %s_test, %llu configurations%s", prefix,
								   study_metric_names[m], prefix, (unsigned long long) n,
								   with_published ? "; pale: the published figures" : ""));
	PG_RETURN_TEXT_P(plot_svg_text(&b));
}
