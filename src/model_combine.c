/*
 * model_combine.c - ecg_model_combine(): several stored models as one, the
 * sum of their logits (a product of experts, src/core/nn_combine.h), with
 * its own operating point, stored in ecgdl.models like a trained model.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/lsyscache.h"

#include "ecgdl.h"
#include "nn_combine.h"
#include "nn_decision.h"
#include "nn_model.h"
#include "rr_features.h"

#define COMBINED_ARCH "logit_sum"

PG_FUNCTION_INFO_V1(ecg_model_combine);

/* The member models' names from models text[], checked. */
static int
member_names(ArrayType *models, char **names)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;

	if (ARR_NDIM(models) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("models must be a one-dimensional array")));
	deconstruct_array(models, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	if (n < 2 || n > NN_COMBINE_MAX_MODELS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("models must name 2 to %d models, not %d", NN_COMBINE_MAX_MODELS, n),
				 errhint("For example ARRAY['shape_model', 'rhythm_model'].")));
	for (int i = 0; i < n; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("models must not contain NULL")));
		names[i] = TextDatumGetCString(elems[i]);
		for (int j = 0; j < i; j++)
			if (strcmp(names[i], names[j]) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("model \"%s\" is named twice", names[i]),
						 errhint("Each member counts once; a model twice would only double its logits.")));
	}
	return n;
}

/*
 * The members' weights from weights float8[] (n of them), checked; NULL for
 * a NULL array (all 1).
 */
static float *
member_weights(ArrayType *weights, int n)
{
	Datum	   *elems;
	bool	   *nulls;
	int			count;
	float	   *out;

	if (ARR_NDIM(weights) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("weights must be a one-dimensional array")));
	deconstruct_array(weights, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
					  &elems, &nulls, &count);
	if (count != n)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("weights has %d elements for %d models", count, n),
				 errhint("Give one weight per model, in the order of models, or leave weights NULL for all 1.")));
	out = palloc(sizeof(float) * n);
	for (int i = 0; i < n; i++)
	{
		double		w;

		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("weights must not contain NULL")));
		w = DatumGetFloat8(elems[i]);
		if (!(w > 0.0 && w <= NN_COMBINE_MAX_WEIGHT) || (float) w <= 0.0f)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the weight of model %d is %g; a weight is above 0 and at most %g",
							i + 1, w, (double) NN_COMBINE_MAX_WEIGHT),
					 errhint("For an ensemble of k networks of one kind, weight each 1/k.")));
		out[i] = (float) w;
	}
	return out;
}

/* A stored model, decoded; its architecture's name into *arch_out. */
static nn_model *
member_model(const char *name, char **arch_out)
{
	/* errors 42704 when there is no such model, XX001 for a damaged blob */
	nn_model   *model = model_store_decode(name, model_store_load(name, NULL));

	*arch_out = pstrdup(model->arch.name);
	return model;
}

/*
 * ecg_model_combine(name text, models text[], validation regclass DEFAULT
 * NULL, operating_point text DEFAULT 'argmax', replace boolean DEFAULT
 * false, weights float8[] DEFAULT NULL) -> bigint (weights since 0.5.0; the
 * 0.4.0 declaration without it calls this too)
 */
Datum
ecg_model_combine(PG_FUNCTION_ARGS)
{
	char	   *name;
	char	   *names[NN_COMBINE_MAX_MODELS];
	char	   *archs[NN_COMBINE_MAX_MODELS];
	const nn_model *members[NN_COMBINE_MAX_MODELS];
	float	   *weights = NULL;
	int			n;
	Oid			val_relid = InvalidOid;
	char	   *mode_name;
	int			mode;
	bool		replace;
	nn_model   *model;
	ecg_status	st;
	BeatRows   *val_rows = NULL;
	float	   *val_features = NULL;
	StringInfoData hyper;
	char	   *metadata;
	bytea	   *blob;
	ModelRecord rec = {0};

	ecgdl_require_args(fcinfo, 2, "ecg_model_combine");
	if (PG_ARGISNULL(3) || PG_ARGISNULL(4))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("operating_point and replace must not be NULL")));
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	n = member_names(PG_GETARG_ARRAYTYPE_P(1), names);
	if (!PG_ARGISNULL(2))
		val_relid = PG_GETARG_OID(2);
	mode_name = text_to_cstring(PG_GETARG_TEXT_PP(3));
	replace = PG_GETARG_BOOL(4);
	if (PG_NARGS() > 5 && !PG_ARGISNULL(5))
		weights = member_weights(PG_GETARG_ARRAYTYPE_P(5), n);
	mode = nn_decision_parse(mode_name);
	if (mode < 0 || mode == NN_DECISION_PRIOR)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("operating_point of a combined model must be 'argmax' or 'validation', not \"%s\"",
						mode_name),
				 mode == NN_DECISION_PRIOR ?
				 errdetail("A combination has no training rows of its own to take class counts from.") : 0));
	if (mode == NN_DECISION_VALIDATION && !OidIsValid(val_relid))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("operating_point 'validation' needs a validation table"),
				 errhint("Pass validation => a beat table of other patients than the test table's.")));
	if (mode != NN_DECISION_VALIDATION && OidIsValid(val_relid))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a validation table is read only with operating_point => 'validation'")));
	model_store_check_name(name, replace);

	for (int i = 0; i < n; i++)
		members[i] = member_model(names[i], &archs[i]);
	model = nn_model_sum(members, weights, n, COMBINED_ARCH, &st);
	if (model == NULL)
		ecgdl_report_status(&st, st.kind == ECG_ERR_LIMIT ? ERRCODE_PROGRAM_LIMIT_EXCEEDED
							: ERRCODE_INVALID_PARAMETER_VALUE, NULL);
	ecgdl_check_model_memory(model, name);

	if (OidIsValid(val_relid))
	{
		beat_table_check_layout(val_relid, "validation table");
		beat_table_check_optional_columns(val_relid, "validation table");
		/* refuses an empty table (P0002) */
		val_rows = beat_rows_load(val_relid, "validation table", true, false);
		if (model->n_features > 0)
			val_features = rr_columns_load(val_relid, "validation table", val_rows, model);
	}
	choose_operating_point(model, mode, NULL, val_rows, val_features);

	initStringInfo(&hyper);
	appendStringInfoString(&hyper, "{\"models\": [");
	for (int i = 0; i < n; i++)
	{
		appendStringInfoString(&hyper, i ? ", {\"name\": " : "{\"name\": ");
		escape_json(&hyper, names[i]);
		appendStringInfoString(&hyper, ", \"architecture\": ");
		escape_json(&hyper, archs[i]);
		appendStringInfo(&hyper, ", \"weight\": %.9g}", weights != NULL ? (double) weights[i] : 1.0);
	}
	appendStringInfoString(&hyper, "], \"validation\": ");
	if (OidIsValid(val_relid))
		escape_json(&hyper, ecgdl_relation_name(val_relid));
	else
		appendStringInfoString(&hyper, "null");
	appendStringInfoString(&hyper, ", ");
	append_operating_point_json(&hyper, model);
	appendStringInfoChar(&hyper, '}');

	metadata = psprintf("{\"architecture\": \"%s\", \"hyperparameters\": %s}", COMBINED_ARCH, hyper.data);
	blob = model_blob_bytea(model, metadata, name);

	rec.architecture = COMBINED_ARCH;
	rec.hyperparameters = hyper.data;
	rec.training_table = NULL;
	rec.class_counts = NULL;
	rec.oversampling = NULL;
	rec.history = NULL;
	rec.best_epoch = 0;
	rec.epochs_run = 0;
	rec.training_seconds = -1;
	rec.weights = blob;
	PG_RETURN_INT64(model_store_save(name, replace, &rec));
}
