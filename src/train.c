/*
 * train.c - ecg_train(): trains a model of a built-in architecture (baseline,
 * cnn, cnn_wide, and baseline_rr / cnn_rr with R-R features read from the
 * tables) inside the server, chooses its operating point and stores it in
 * ecgdl.models.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "portability/instr_time.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "ecgdl.h"
#include "jobs.h"
#include "model_blob.h"
#include "nn_decision.h"
#include "nn_model.h"
#include "nn_threads.h"
#include "nn_train.h"
#include "rr_features.h"
#include "utils/array.h"

PG_FUNCTION_INFO_V1(ecg_train);

static void
check_range(const char *what, double value, double lo, double hi)
{
	if (!(value >= lo && value <= hi))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be between %g and %g", what, lo, hi),
				 errdetail("The value given was %g.", value)));
}

/*
 * ecg_train's numeric and class-weight arguments into a configuration;
 * errors on any value out of range.
 */
static void
config_from_arguments(nn_train_config *config, int32 epochs, int32 batch_size,
					  double learning_rate, int32 patience, int32 seed, const char *class_weight,
					  double validation_fraction)
{
	nn_train_config_default(config);
	check_range("epochs", epochs, 1, 100000);
	check_range("batch_size", batch_size, 1, 65536);
	check_range("learning_rate", learning_rate, 1e-9, 10);
	check_range("patience", patience, 0, 100000);
	check_range("validation_fraction", validation_fraction, 0.01, 0.9);
	config->epochs = epochs;
	config->batch_size = batch_size;
	config->learning_rate = learning_rate;
	config->patience = patience;
	config->seed = (uint64) (uint32) seed;
	config->validation_fraction = validation_fraction;
	config->threads = ecgdl_threads;
	if (pg_strcasecmp(class_weight, "none") == 0)
		config->class_weighting = NN_CLASS_WEIGHT_NONE;
	else if (pg_strcasecmp(class_weight, "balanced") == 0)
		config->class_weighting = NN_CLASS_WEIGHT_BALANCED;
	else
	{
		double		w[ECGDL_N_CLASSES] = {1, 1, 1, 1, 1};

		ecgdl_parse_class_map(class_weight, w, "class_weight");
		config->class_weighting = NN_CLASS_WEIGHT_EXPLICIT;
		for (int c = 0; c < ECGDL_N_CLASSES; c++)
		{
			check_range("a class weight", w[c], 0, 1e6);
			config->class_weights[c] = (float) w[c];
		}
	}
}

void
train_check_arguments(const char *arch, int32 epochs, int32 batch_size, double learning_rate,
					  int32 patience, int32 seed, const char *class_weight,
					  double validation_fraction)
{
	nn_train_config config;
	nn_arch		known;
	ecg_status	st;

	config_from_arguments(&config, epochs, batch_size, learning_rate, patience, seed,
						  class_weight, validation_fraction);
	if (nn_arch_builtin(arch, &known, &st) != 0)
		ecgdl_report_status(&st, ERRCODE_INVALID_PARAMETER_VALUE, NULL);
}

/* A training or validation table's layout, required and optional columns
 * (synthetic must be boolean and method text: they are read after training). */
static void
check_table(Oid relid, const char *role)
{
	beat_table_check_layout(relid, role);
	beat_table_check_optional_columns(relid, role);
}

/*
 * Samples beyond NN_MAX_INPUT_MAGNITUDE are refused before training: ecgdl's
 * beats are in [0, 1], raw ADC counts or microvolts stay far below it, and
 * values near the float range overflow the network's sums and squares
 * (batch-normalisation variances, Adam's second moments) to inf and NaN.
 */
static void
check_magnitudes(const BeatRows *rows, const char *role)
{
	for (int64 i = 0; i < rows->n; i++)
	{
		const float *x = rows->signals + (Size) i * rows->signal_length;

		for (int t = 0; t < rows->signal_length; t++)
			if (!(fabsf(x[t]) <= NN_MAX_INPUT_MAGNITUDE))
				ereport(ERROR,
						(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
						 errmsg("signal of row id %lld of %s has a sample beyond %g in magnitude",
								(long long) rows->ids[i], role, NN_MAX_INPUT_MAGNITUDE),
						 errdetail("Sample %d is %.7g; ecgdl trains on samples of magnitude up to %g.",
								   t + 1, (double) x[t], NN_MAX_INPUT_MAGNITUDE),
						 errhint("Scale the signals: ecgdl's imports give samples in [0, 1].")));
	}
}

static void
append_json_number(StringInfo buf, double v)
{
	if (isfinite(v))
		appendStringInfo(buf, "%.6g", v);
	else
		appendStringInfoString(buf, "null");
}

static int
report_epoch(const nn_epoch_stats *s, void *arg)
{
	int			epochs = *(int *) arg;

	ereport(NOTICE,
			(errmsg("epoch %d/%d: loss %.4f, accuracy %.4f, val_loss %.4f, val_accuracy %.4f, lr %.2g, %.1f s",
					s->epoch, epochs, s->loss, s->accuracy, s->val_loss, s->val_accuracy, s->lr,
					s->seconds)));
	jobs_training_epoch(s);
	CHECK_FOR_INTERRUPTS();
	return 0;
}

/* The oversampling method that produced a table, when it says so. */
static char *
oversampling_of(Oid relid)
{
	char	   *method = NULL;
	MemoryContext caller = CurrentMemoryContext;
	StringInfoData sql;

	if (get_attnum(relid, "method") == InvalidAttrNumber ||
		get_attnum(relid, "synthetic") == InvalidAttrNumber)
		return NULL;
	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT method::pg_catalog.text FROM %s WHERE synthetic LIMIT 1",
					 ecgdl_relation_name(relid));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute(sql.data, true, 1) == SPI_OK_SELECT && SPI_processed == 1)
	{
		char	   *v = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

		if (v != NULL)
			method = MemoryContextStrdup(caller, v);
	}
	SPI_finish();
	return method;
}

static char *
class_counts_json(const BeatRows *rows)
{
	int64		counts[ECGDL_N_CLASSES] = {0};
	StringInfoData buf;

	for (int64 i = 0; i < rows->n; i++)
		counts[rows->labels[i]]++;
	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	for (int c = 0; c < ECGDL_N_CLASSES; c++)
		appendStringInfo(&buf, "%s\"%s\": %lld", c ? ", " : "", ecgdl_class_name(c), (long long) counts[c]);
	appendStringInfoChar(&buf, '}');
	return buf.data;
}

static char *
history_json(const nn_train_result *result)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '[');
	for (int e = 0; e < result->epochs_run; e++)
	{
		const nn_epoch_stats *s = &result->history[e];

		appendStringInfo(&buf, "%s{\"epoch\": %d, \"loss\": ", e ? ", " : "", s->epoch);
		append_json_number(&buf, s->loss);
		appendStringInfoString(&buf, ", \"accuracy\": ");
		append_json_number(&buf, s->accuracy);
		appendStringInfoString(&buf, ", \"val_loss\": ");
		append_json_number(&buf, s->val_loss);
		appendStringInfoString(&buf, ", \"val_accuracy\": ");
		append_json_number(&buf, s->val_accuracy);
		appendStringInfoString(&buf, ", \"lr\": ");
		append_json_number(&buf, s->lr);
		appendStringInfoString(&buf, ", \"seconds\": ");
		append_json_number(&buf, s->seconds);
		appendStringInfoChar(&buf, '}');
	}
	appendStringInfoChar(&buf, ']');
	return buf.data;
}

static nn_dataset
dataset_of(const BeatRows *rows)
{
	nn_dataset	d;

	d.beats = rows->signals;
	d.labels = rows->labels;
	d.n = (size_t) rows->n;
	d.features = NULL;
	return d;
}

/*
 * The model of architecture `arch`; `features` (a text[] of R-R column
 * names, NULL = all eight in rr_spec.md order) picks the features of a *_rr
 * architecture.
 */
static nn_model *
model_for(const char *arch, ArrayType *features)
{
	nn_arch		a;
	nn_model   *model;
	ecg_status	st;
	int32_t		ids[NN_MAX_FEATURES];
	int			n = 0;
	bool		has_features = false;

	if (nn_arch_builtin(arch, &a, &st) != 0)
		ecgdl_report_status(&st, ERRCODE_INVALID_PARAMETER_VALUE, NULL);
	for (int i = 0; i < a.n_nodes; i++)
		has_features |= a.nodes[i].op == NN_OP_FEATURES;
	if (features != NULL)
	{
		Datum	   *elems;
		bool	   *nulls;
		int			count;

		if (!has_features)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("architecture \"%s\" takes no features", arch),
					 errhint("Only baseline_rr, cnn_rr, rr_net and rr_linear take R-R features; leave features NULL.")));
		deconstruct_array(features, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &count);
		if (count < 1 || count > NN_MAX_FEATURES)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("features must name 1 to %d R-R columns, not %d", NN_MAX_FEATURES, count)));
		for (int k = 0; k < count; k++)
		{
			char	   *name = nulls[k] ? NULL : TextDatumGetCString(elems[k]);
			int			id = -1;

			for (int f = 0; f < RR_FEATURES && name != NULL; f++)
				if (strcmp(name, rr_feature_names[f]) == 0)
					id = f;
			for (int j = 0; j < n && id >= 0; j++)
				if (ids[j] == id)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("feature \"%s\" is named twice", name)));
			if (id < 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("unknown feature \"%s\"", name ? name : "NULL"),
						 errhint("The R-R features are rr_pre, rr_post, rr_local, rr_record, rr_pre_local, rr_post_local, rr_pre_record, rr_post_record, rr_window, rr_pre_window and rr_post_window.")));
			ids[n++] = id;
		}
		if (nn_arch_set_feature_count(&a, n, &st) != 0)
			ecgdl_report_status(&st, ERRCODE_INVALID_PARAMETER_VALUE, NULL);
	}
	model = nn_model_create_from_arch(&a, &st);
	if (model == NULL)
		ecgdl_report_status(&st, ERRCODE_INVALID_PARAMETER_VALUE, NULL);
	if (n > 0 && nn_model_set_features(model, ids, n, &st) != 0)
		ecgdl_report_status(&st, ERRCODE_INVALID_PARAMETER_VALUE, NULL);
	return model;
}

/*
 * The operating point, chosen once the weights are final: from the training
 * class counts (prior) or the model's probabilities on the validation table
 * (validation; never the test data).
 */
void
choose_operating_point(nn_model *model, int mode, const BeatRows *train_rows,
					   const BeatRows *val_rows, const float *val_features)
{
	size_t		counts[NN_MAX_CLASSES] = {0};
	float	   *probs = NULL;
	size_t		n_val = 0;
	ecg_status	st;

	for (int64 i = 0; train_rows != NULL && i < train_rows->n; i++)
		counts[train_rows->labels[i]]++;
	if (mode == NN_DECISION_VALIDATION)
	{
		nn_input	in = {val_rows->signals, (size_t) val_rows->n, BEAT_SIGNAL_LENGTH, 1, val_features};

		n_val = (size_t) val_rows->n;
		probs = palloc(sizeof(float) * n_val * model->n_classes);
		if (nn_model_predict_input(model, NULL, &in, probs, NULL, &st) != 0)
			ecgdl_report_status(&st, ERRCODE_DATA_EXCEPTION, NULL);
	}
	if (nn_decision_choose(model, mode, counts, probs, val_rows ? val_rows->labels : NULL, n_val,
						   &st) != 0)
		ecgdl_report_status(&st, ERRCODE_INVALID_PARAMETER_VALUE, NULL);
}

/*
 * Runs the training on a thread pool that is destroyed on every way out,
 * including an error or a cancel thrown from the epoch callback.  The
 * training shows in ecgdl.jobs while it runs; in a job it resumes from the
 * job's checkpoint of this model and saves one per epoch (jobs.h).
 */
static int
train_on_pool(const char *name, nn_model *model, const nn_dataset *train,
			  const nn_dataset *validation, const nn_train_config *config, int *epochs,
			  nn_train_result *result, ecg_status *st)
{
	nn_pool    *volatile pool = NULL;
	volatile int status = -1;
	nn_train_resume resume;

	PG_TRY();
	{
		jobs_training_begin(name, config->epochs, &resume);
		pool = nn_pool_create(ecgdl_threads, st);
		if (pool == NULL)
			ecgdl_report_status(st, ERRCODE_INSUFFICIENT_RESOURCES, NULL);
		status = nn_train_run_resumable(model, train, validation, config, pool, report_epoch,
										epochs, &resume, result, st);
		if (status != 0 && resume.checkpoint != NULL &&
			(st->kind == ECG_ERR_FORMAT || st->kind == ECG_ERR_ARGUMENT))
			ereport(ERROR,
					(errcode(st->kind == ECG_ERR_FORMAT ? ERRCODE_DATA_CORRUPTED
							 : ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("cannot resume the training of \"%s\" from the job's checkpoint", name),
					 errdetail("%s.", st->message),
					 errhint("A checkpoint fits only the same tables and arguments; start a new job.")));
	}
	PG_FINALLY();
	{
		nn_pool_destroy(pool);
		jobs_training_end();
	}
	PG_END_TRY();
	return status;
}

/* ecg_train's arguments, parsed and checked (everything but the rows). */
typedef struct TrainCall
{
	char	   *name;
	char	   *class_weight;
	Oid			train_relid;
	Oid			val_relid;
	bool		replace;
	nn_train_config config;
	int			epochs;
	int			decision;
	nn_model   *model;
} TrainCall;

/*
 * Reads and checks ecg_train's arguments - ranges, architecture, features,
 * the model name, the tables' layouts - before any row is read (also for
 * ecg_train_async, which checks them before it queues a job, and for
 * ecg_cross_validate, which checks its source in place of the folds' tables).
 * train_role and val_role name the tables in the errors.
 */
static void
parse_call(FunctionCallInfo fcinfo, TrainCall *call, const char *train_role,
		   const char *val_role)
{
	char	   *name,
			   *arch,
			   *class_weight;
	Oid			train_relid,
				val_relid = InvalidOid;
	bool		replace;
	nn_train_config config;
	nn_model   *model;
	int			epochs;
	int			decision = NN_DECISION_ARGMAX;
	ArrayType  *features = NULL;
	nn_augment_config augment = {0};
	ecg_status	st = {0};

	/* 0.2.0: operating_point (argument 13) and features (14, may be NULL) */
	if (PG_NARGS() >= 14)
	{
		char	   *op;

		if (PG_ARGISNULL(12))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("operating_point must not be NULL")));
		op = text_to_cstring(PG_GETARG_TEXT_PP(12));
		decision = nn_decision_parse(op);
		if (decision < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown operating_point \"%s\"", op),
					 errhint("Use 'argmax', 'prior' or 'validation'.")));
		if (!PG_ARGISNULL(13))
			features = PG_GETARG_ARRAYTYPE_P(13);
	}
	/* 0.3.0: augment (argument 15) */
	if (PG_NARGS() >= 15)
	{
		char	   *aug;

		if (PG_ARGISNULL(14))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("augment must not be NULL"),
					 errhint("Use 'none' to train on the rows as they are.")));
		aug = text_to_cstring(PG_GETARG_TEXT_PP(14));
		if (nn_augment_parse(aug, &augment, &st) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s", st.message),
					 st.detail[0] ? errdetail("%s", st.detail) : 0,
					 errhint("Use 'none', 'lead', or a list such as 'lead, noise=0.05' or 'polarity=0.5, shift=2'.")));
	}
	for (int i = 0; i < 12; i++)
		if (i != 3 && PG_ARGISNULL(i))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("argument %d of ecg_train must not be NULL", i + 1),
					 errhint("Only validation may be NULL (a stratified part of the training table is then held out).")));
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	train_relid = PG_GETARG_OID(1);
	arch = text_to_cstring(PG_GETARG_TEXT_PP(2));
	if (!PG_ARGISNULL(3))
		val_relid = PG_GETARG_OID(3);
	class_weight = text_to_cstring(PG_GETARG_TEXT_PP(9));
	replace = PG_GETARG_BOOL(10);

	epochs = PG_GETARG_INT32(4);
	config_from_arguments(&config, epochs, PG_GETARG_INT32(5), PG_GETARG_FLOAT8(6),
						  PG_GETARG_INT32(7), PG_GETARG_INT32(8), class_weight,
						  PG_GETARG_FLOAT8(11));

	config.augment = augment;
	model = model_for(arch, features);
	model_store_check_name(name, replace);
	if (decision == NN_DECISION_VALIDATION && !OidIsValid(val_relid))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("operating_point 'validation' needs a validation table"),
				 errhint("Pass validation => a table of other records (never the test table).")));
	/* both tables' layouts before any row is read */
	check_table(train_relid, train_role);
	if (OidIsValid(val_relid))
		check_table(val_relid, val_role);
	if (model->n_features > 0)
	{
		rr_columns_check(train_relid, train_role, model);
		if (OidIsValid(val_relid))
			rr_columns_check(val_relid, val_role, model);
	}

	call->name = name;
	call->class_weight = class_weight;
	call->train_relid = train_relid;
	call->val_relid = val_relid;
	call->replace = replace;
	call->config = config;
	call->epochs = epochs;
	call->decision = decision;
	call->model = model;
}

void
train_check_call(FunctionCallInfo fcinfo, const char *train_role, const char *val_role)
{
	TrainCall	call;

	parse_call(fcinfo, &call, train_role, val_role);
}

/*
 * "operating_point": ..., "class_offsets": {...}, "features": [...] of a
 * model, as its hyperparameters JSON holds them (no braces around).
 */
void
append_operating_point_json(StringInfo buf, const nn_model *model)
{
	appendStringInfo(buf, "\"operating_point\": \"%s\", \"class_offsets\": {",
					 nn_decision_name(model->decision));
	for (int c = 0; c < model->n_classes; c++)
		appendStringInfo(buf, "%s\"%s\": %.4g", c ? ", " : "", ecgdl_class_name(c),
						 (double) model->class_offset[c]);
	appendStringInfoString(buf, "}, \"features\": [");
	for (int k = 0; k < model->n_features; k++)
		appendStringInfo(buf, "%s\"%s\"", k ? ", " : "", rr_feature_names[model->feature_ids[k]]);
	appendStringInfoChar(buf, ']');
}

/* The model blob of `model` with `metadata`, as a bytea (model `name` in errors). */
bytea *
model_blob_bytea(const nn_model *model, const char *metadata, const char *name)
{
	size_t		blob_len = model_blob_size(model, metadata ? strlen(metadata) : 0);
	bytea	   *blob;
	ecg_status	st;

	if (blob_len == 0 || blob_len > MaxAllocSize - VARHDRSZ)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("model \"%s\" is too large to store", name)));
	blob = palloc(VARHDRSZ + blob_len);
	SET_VARSIZE(blob, VARHDRSZ + blob_len);
	if (model_blob_encode_into(model, metadata, (uint8_t *) VARDATA(blob), blob_len, &st) != 0)
		ecgdl_report_status(&st, ERRCODE_DATA_EXCEPTION, NULL);
	return blob;
}

Datum
ecg_train(PG_FUNCTION_ARGS)
{
	char	   *name,
			   *class_weight;
	Oid			train_relid,
				val_relid;
	bool		replace;
	nn_train_config config;
	nn_train_result result;
	BeatRows   *train_rows,
			   *val_rows = NULL;
	nn_dataset	train_set,
				val_set;
	nn_model   *model;
	ecg_status	st;
	int			train_status;
	instr_time	start,
				elapsed;
	char	   *metadata;
	bytea	   *blob;
	ModelRecord rec = {0};
	StringInfoData hyper;
	int			epochs;
	int			decision;
	TrainCall	call;
	float	   *train_features = NULL,
			   *val_features = NULL;

	parse_call(fcinfo, &call, "training table", "validation table");
	name = call.name;
	class_weight = call.class_weight;
	train_relid = call.train_relid;
	val_relid = call.val_relid;
	replace = call.replace;
	config = call.config;
	epochs = call.epochs;
	decision = call.decision;
	model = call.model;

	train_rows = beat_rows_load(train_relid, "training table", true, false);
	check_magnitudes(train_rows, psprintf("training table \"%s\"", ecgdl_relation_name(train_relid)));
	{
		bool		seen[ECGDL_N_CLASSES] = {false};
		int			n_seen = 0;

		for (int64 i = 0; i < train_rows->n; i++)
			if (!seen[train_rows->labels[i]])
			{
				seen[train_rows->labels[i]] = true;
				n_seen++;
			}
		if (n_seen < 2)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("training table \"%s\" holds a single class", ecgdl_relation_name(train_relid)),
					 errhint("A classifier needs rows of at least two classes.")));
	}
	train_set = dataset_of(train_rows);
	if (model->n_features > 0)
	{
		train_features = rr_columns_load(train_relid, "training table", train_rows, model);
		/* the standardisation comes from the training rows only */
		nn_model_fit_feature_scaling(model, train_features, (size_t) train_rows->n);
		train_set.features = train_features;
	}
	if (OidIsValid(val_relid))
	{
		val_rows = beat_rows_load(val_relid, "validation table", true, false);
		check_magnitudes(val_rows, psprintf("validation table \"%s\"", ecgdl_relation_name(val_relid)));
		val_set = dataset_of(val_rows);
		if (model->n_features > 0)
		{
			val_features = rr_columns_load(val_relid, "validation table", val_rows, model);
			val_set.features = val_features;
		}
	}
	else
		ereport(NOTICE,
				(errmsg("no validation table: holding out a stratified %g%% of %s for validation",
						config.validation_fraction * 100, ecgdl_relation_name(train_relid))));

	/* the loaded rows and the training's work areas together must fit
	 * ecgdl.max_memory (each was checked on its own so far) */
	{
		size_t		row_bytes = sizeof(float) * BEAT_SIGNAL_LENGTH + sizeof(int64) + sizeof(int);
		size_t		n_val = val_rows ? (size_t) val_rows->n : 0;
		size_t		loaded = ((size_t) train_rows->n + n_val) * row_bytes;
		size_t		work = nn_train_memory_bytes(model, &config, (size_t) train_rows->n, n_val);

		if (work == 0 || ecg_check_memory(loaded + work, "training (rows and work areas)", &st) != 0)
		{
			if (work == 0)
				ecg_fail(&st, ECG_ERR_LIMIT, "training work areas overflow the address space");
			ecgdl_report_status(&st, ERRCODE_PROGRAM_LIMIT_EXCEEDED, NULL);
		}
	}
	/* draws the weights; the feature list and scaling set above stay */
	nn_model_init(model, config.seed);
	INSTR_TIME_SET_CURRENT(start);
	train_status = train_on_pool(name, model, &train_set, val_rows ? &val_set : NULL, &config, &epochs,
								 &result, &st);
	if (train_status != 0 && st.kind == ECG_ERR_DATA)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%s", st.message),
				 errdetail("%s", st.detail),
				 errhint("No model was stored.  Look for extreme values in the tables, or train with a lower learning_rate.")));
	if (train_status != 0)
		ecgdl_report_status(&st, ERRCODE_INVALID_PARAMETER_VALUE, NULL);
	choose_operating_point(model, decision, train_rows, val_rows, val_features);
	INSTR_TIME_SET_CURRENT(elapsed);
	INSTR_TIME_SUBTRACT(elapsed, start);

	initStringInfo(&hyper);
	appendStringInfo(&hyper, "{\"epochs\": %d, \"batch_size\": %d, \"learning_rate\": %g, "
					 "\"patience\": %d, \"plateau_patience\": %d, \"plateau_factor\": %g, "
					 "\"seed\": %u, \"threads\": %d, \"class_weight\": ",
					 config.epochs, config.batch_size, config.learning_rate, config.patience,
					 config.plateau_patience, config.plateau_factor, (uint32) config.seed,
					 ecgdl_threads);
	escape_json(&hyper, class_weight);
	appendStringInfoString(&hyper, ", \"validation\": ");
	if (val_rows)
		escape_json(&hyper, ecgdl_relation_name(val_relid));
	else
		appendStringInfo(&hyper, "\"held out %g%% of the training table\"",
						 config.validation_fraction * 100);
	/* only augmented models have the key: the others keep their bytes */
	if (nn_augment_enabled(&config.augment))
	{
		char		aug[200];

		nn_augment_format(&config.augment, aug, sizeof(aug));
		appendStringInfoString(&hyper, ", \"augment\": ");
		escape_json(&hyper, aug);
	}
	appendStringInfo(&hyper, ", \"train_rows\": %zu, \"validation_rows\": %zu, "
					 "\"stopped_early\": %s",
					 result.n_train, result.n_validation, result.stopped_early ? "true" : "false");
	/* models of 0.1.0's kind (no features, arg-max) keep 0.1.0's keys */
	if (model->n_features > 0 || model->decision != NN_DECISION_ARGMAX)
	{
		appendStringInfoString(&hyper, ", ");
		append_operating_point_json(&hyper, model);
	}
	appendStringInfoChar(&hyper, '}');

	/* the blob's metadata: what was trained how, without wall-clock times, so
	 * the same seed gives the same bytes */
	rec.class_counts = class_counts_json(train_rows);
	metadata = psprintf("{\"architecture\": \"%s\", \"hyperparameters\": %s, "
						"\"class_counts\": %s, \"best_epoch\": %d, \"epochs_run\": %d}",
						model->arch.name, hyper.data, rec.class_counts, result.best_epoch,
						result.epochs_run);
	blob = model_blob_bytea(model, metadata, name);

	rec.architecture = model->arch.name;
	rec.hyperparameters = hyper.data;
	rec.training_table = ecgdl_relation_name(train_relid);
	rec.oversampling = oversampling_of(train_relid);
	if (rec.oversampling == NULL && get_attnum(train_relid, "synthetic") == InvalidAttrNumber)
		rec.oversampling = "none";
	rec.history = history_json(&result);
	rec.best_epoch = result.best_epoch;
	rec.epochs_run = result.epochs_run;
	rec.training_seconds = INSTR_TIME_GET_DOUBLE(elapsed);
	rec.weights = blob;
	PG_RETURN_INT64(model_store_save(name, replace, &rec));
}
