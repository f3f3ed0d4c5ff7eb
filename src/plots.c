/*
 * plots.c - SQL functions that draw charts as SVG text: a beat on ECG paper,
 * the confusion matrix of a stored evaluation, and a model's training
 * history.  The drawing is the core's (src/core/plots.c); this file checks
 * the arguments and reads the stored figures.
 */
#include "ecgdl.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "plots.h"

PG_FUNCTION_INFO_V1(ecg_plot_beat);
PG_FUNCTION_INFO_V1(ecg_plot_confusion);
PG_FUNCTION_INFO_V1(ecg_plot_history);

/* limits of a beat chart: its samples, and the paper's size in mm */
#define PLOT_BEAT_MAX_SAMPLES 100000
#define PLOT_BEAT_MAX_WIDTH_MM 5000.0
#define PLOT_BEAT_MAX_HEIGHT_MM 2000.0

text *
plot_svg_text(svg_buf *b)
{
	text	   *t;

	if (b->failed || b->data == NULL)
	{
		svg_free(b);
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory while drawing a chart")));
	}
	t = cstring_to_text_with_len(b->data, (int) b->len);
	svg_free(b);
	return t;
}

/*
 * The samples of real[] argument argno as doubles: one-dimensional, no
 * NULLs, all finite; *n is their number (an expected length >= 0 must match).
 */
static double *
samples_argument(FunctionCallInfo fcinfo, int argno, const char *what, int expected, int *n)
{
	ArrayType  *arr = PG_GETARG_ARRAYTYPE_P(argno);
	const float *data;
	double	   *out;
	int			len;

	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("%s must be a one-dimensional array", what),
				 errdetail("It has %d dimensions.", ARR_NDIM(arr))));
	len = ARR_NDIM(arr) == 1 ? ARR_DIMS(arr)[0] : 0;
	if (len == 0)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("%s must not be empty", what)));
	if (expected >= 0 && len != expected)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("%s has %d samples, the signal %d", what, len, expected),
				 errhint("Give one value per sample of the signal.")));
	if (len > PLOT_BEAT_MAX_SAMPLES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s has %d samples, at most %d can be drawn", what, len, PLOT_BEAT_MAX_SAMPLES)));
	if (ARR_HASNULL(arr))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s contains NULL samples", what)));
	data = (const float *) ARR_DATA_PTR(arr);
	out = palloc(sizeof(double) * len);
	for (int i = 0; i < len; i++)
	{
		if (!isfinite(data[i]))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("%s has a non-finite sample", what),
					 errdetail("Sample %d is %s.", i + 1, isnan(data[i]) ? "NaN" : "infinite")));
		out[i] = data[i];
	}
	*n = len;
	return out;
}

/*
 * ecg_plot_beat(signal real[], second real[], shading real[], fs float8,
 * title text) -> text
 */
Datum
ecg_plot_beat(PG_FUNCTION_ARGS)
{
	double	   *signal,
			   *second = NULL,
			   *shading = NULL;
	double		fs,
				lo = 0,
				hi = 1;
	char	   *title = NULL;
	int			n,
				m;
	svg_buf		b;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("signal must not be NULL")));
	if (PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("fs must not be NULL")));
	fs = PG_GETARG_FLOAT8(3);
	if (!(fs > 0) || !isfinite(fs))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("fs must be a positive sampling rate in Hz, not %g", fs)));
	signal = samples_argument(fcinfo, 0, "signal", -1, &n);
	if (!PG_ARGISNULL(1))
		second = samples_argument(fcinfo, 1, "second", n, &m);
	if (!PG_ARGISNULL(2))
		shading = samples_argument(fcinfo, 2, "shading", n, &m);
	if (!PG_ARGISNULL(4))
		title = text_to_cstring(PG_GETARG_TEXT_PP(4));

	/* the paper must stay of a size a viewer can open */
	for (int i = 0; i < n; i++)
	{
		lo = Min(lo, signal[i]);
		hi = Max(hi, signal[i]);
		if (second)
		{
			lo = Min(lo, second[i]);
			hi = Max(hi, second[i]);
		}
	}
	if ((double) n / fs * PLOT_MM_PER_SECOND > PLOT_BEAT_MAX_WIDTH_MM ||
		(hi - lo) * PLOT_MM_PER_UNIT > PLOT_BEAT_MAX_HEIGHT_MM)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("the beat would need %.0f x %.0f mm of paper, at most %.0f x %.0f mm can be drawn",
						(double) n / fs * PLOT_MM_PER_SECOND, (hi - lo) * PLOT_MM_PER_UNIT,
						PLOT_BEAT_MAX_WIDTH_MM, PLOT_BEAT_MAX_HEIGHT_MM),
				 errhint("The paper runs at 25 mm/s and 10 mm per unit of the signal; check fs and the signal's scale.")));

	svg_init(&b);
	plot_beat_svg(&b, signal, second, shading, (size_t) n, fs, title);
	PG_RETURN_TEXT_P(plot_svg_text(&b));
}

/* the model name argument 0, checked */
static char *
model_name_argument(FunctionCallInfo fcinfo)
{
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("model name must not be NULL")));
	return text_to_cstring(PG_GETARG_TEXT_PP(0));
}

static pg_attribute_noreturn() void
no_such_model(const char *name)
{
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_OBJECT),
			 errmsg("model \"%s\" does not exist", name),
			 errhint("Trained models are listed in ecgdl.models.")));
}

/*
 * Runs `sql` (its $1 the model's name, $2 - if given - the text second_arg)
 * inside an SPI connection the caller finishes; errors (42704) when it
 * returns no row: the queries join ecgdl.models, so that a model that exists
 * always gives a row.  `what` names the figures in an internal error.
 */
static void
query_model(const char *sql, const char *model, const char *second_arg, const char *what)
{
	Oid			argtypes[2] = {TEXTOID, TEXTOID};
	Datum		args[2];

	args[0] = CStringGetTextDatum(model);
	args[1] = second_arg ? CStringGetTextDatum(second_arg) : (Datum) 0;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args(sql, second_arg ? 2 : 1, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the %s of model \"%s\"", what, model);
	if (SPI_processed == 0)
		no_such_model(model);
}

/*
 * ecg_plot_confusion(model text, test regclass) -> text: the confusion
 * matrix of the latest stored evaluation of the model on the test table.
 */
Datum
ecg_plot_confusion(PG_FUNCTION_ARGS)
{
	char	   *model = model_name_argument(fcinfo);
	Oid			test;
	char	   *test_name;
	long long	counts[ECGDL_N_CLASSES * ECGDL_N_CLASSES];
	const char *names[ECGDL_N_CLASSES];
	char	   *title;
	svg_buf		b;
	bool		isnull;
	int64		rows = 0;
	double		accuracy = 0;

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("test table must not be NULL")));
	test = PG_GETARG_OID(1);
	test_name = ecgdl_relation_name(test);
	/* the model (always one row when it exists) and its latest evaluation */
	query_model("SELECT e.confusion, e.rows, e.accuracy "
				"FROM ecgdl.models m LEFT JOIN LATERAL ("
				"  SELECT v.confusion, v.rows, v.accuracy FROM ecgdl.evaluations v "
				"  WHERE v.model_id OPERATOR(pg_catalog.=) m.id AND v.test_table OPERATOR(pg_catalog.=) $2 "
				"  ORDER BY v.evaluated_at DESC, v.id DESC LIMIT 1) e ON true "
				"WHERE m.name OPERATOR(pg_catalog.=) $1",
				model, test_name, "evaluations");
	{
		HeapTuple	tup = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		Datum		d = SPI_getbinval(tup, desc, 1, &isnull);
		ArrayType  *arr;
		Datum	   *elems;
		bool	   *nulls;
		int			nelems;

		if (isnull)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("model \"%s\" has no stored evaluation on %s", model, test_name),
					 errhint("Run ecg_evaluate(model, test) first; its confusion matrix is stored in ecgdl.evaluations.")));
		arr = DatumGetArrayTypeP(d);
		deconstruct_array(arr, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &elems, &nulls, &nelems);
		if (nelems != ECGDL_N_CLASSES * ECGDL_N_CLASSES)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("the stored confusion matrix of model \"%s\" on %s has %d entries, expected %d",
							model, test_name, nelems, ECGDL_N_CLASSES * ECGDL_N_CLASSES)));
		for (int i = 0; i < nelems; i++)
		{
			if (nulls[i] || DatumGetInt64(elems[i]) < 0)
				ereport(ERROR,
						(errcode(ERRCODE_DATA_CORRUPTED),
						 errmsg("the stored confusion matrix of model \"%s\" on %s has a NULL or negative entry",
								model, test_name)));
			counts[i] = (long long) DatumGetInt64(elems[i]);
		}
		rows = DatumGetInt64(SPI_getbinval(tup, desc, 2, &isnull));
		accuracy = DatumGetFloat8(SPI_getbinval(tup, desc, 3, &isnull));
	}
	SPI_finish();

	for (int c = 0; c < ECGDL_N_CLASSES; c++)
		names[c] = ecgdl_class_name(c);
	title = psprintf("%s on %s: %lld beats, accuracy %.4f", model, test_name, (long long) rows, accuracy);
	svg_init(&b);
	plot_confusion_svg(&b, counts, ECGDL_N_CLASSES, names, title);
	PG_RETURN_TEXT_P(plot_svg_text(&b));
}

/* a float8 column of an SPI row, NaN for NULL */
static double
float_or_nan(HeapTuple tup, TupleDesc desc, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tup, desc, col, &isnull);

	return isnull ? NAN : DatumGetFloat8(d);
}

/*
 * ecg_plot_history(model text) -> text: the loss and accuracy per epoch of
 * ecgdl.models.history (train.c writes it: an array of {"epoch", "loss",
 * "accuracy", "val_loss", "val_accuracy", "lr", "seconds"}, null for a
 * figure that was not computed).
 */
Datum
ecg_plot_history(PG_FUNCTION_ARGS)
{
	char	   *model = model_name_argument(fcinfo);
	plot_epoch *epochs;
	int			best = 0;
	uint64		n;
	svg_buf		b;
	bool		isnull;

	query_model("SELECT m.best_epoch, e.ord, "
				"  pg_catalog.int4(e.v OPERATOR(pg_catalog.->>) 'epoch'), "
				"  pg_catalog.float8(e.v OPERATOR(pg_catalog.->>) 'loss'), "
				"  pg_catalog.float8(e.v OPERATOR(pg_catalog.->>) 'accuracy'), "
				"  pg_catalog.float8(e.v OPERATOR(pg_catalog.->>) 'val_loss'), "
				"  pg_catalog.float8(e.v OPERATOR(pg_catalog.->>) 'val_accuracy'), "
				"  pg_catalog.float8(e.v OPERATOR(pg_catalog.->>) 'lr') "
				"FROM ecgdl.models m LEFT JOIN LATERAL pg_catalog.jsonb_array_elements("
				"  CASE WHEN pg_catalog.jsonb_typeof(m.history) OPERATOR(pg_catalog.=) 'array' THEN m.history END"
				") WITH ORDINALITY AS e(v, ord) ON true "
				"WHERE m.name OPERATOR(pg_catalog.=) $1 ORDER BY e.ord",
				model, NULL, "history");
	n = SPI_processed;
	(void) SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("model \"%s\" has no training history", model),
				 errdetail("ecgdl.models.history is empty; an imported model carries none."),
				 errhint("Models trained by ecg_train store their history per epoch.")));
	{
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		best = isnull ? 0 : DatumGetInt32(d);
	}
	/* in the caller's context: used after SPI_finish */
	epochs = SPI_palloc(sizeof(plot_epoch) * n);
	for (uint64 i = 0; i < n; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		Datum		d = SPI_getbinval(tup, desc, 3, &isnull);

		epochs[i].epoch = isnull ? (int) (i + 1) : DatumGetInt32(d);
		if (i > 0 && epochs[i].epoch <= epochs[i - 1].epoch)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("the history of model \"%s\" is not in increasing order of epochs", model),
					 errdetail("Entry %llu has epoch %d after epoch %d.", (unsigned long long) i + 1,
							   epochs[i].epoch, epochs[i - 1].epoch)));
		epochs[i].loss = float_or_nan(tup, desc, 4);
		epochs[i].accuracy = float_or_nan(tup, desc, 5);
		epochs[i].val_loss = float_or_nan(tup, desc, 6);
		epochs[i].val_accuracy = float_or_nan(tup, desc, 7);
		epochs[i].lr = float_or_nan(tup, desc, 8);
	}
	SPI_finish();

	svg_init(&b);
	plot_history_svg(&b, epochs, (size_t) n, best,
					 psprintf("%s: training history, %llu epochs, best %d", model, (unsigned long long) n, best));
	PG_RETURN_TEXT_P(plot_svg_text(&b));
}
