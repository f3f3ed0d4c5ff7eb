/*
 * classify.c - classification with stored models: ecg_classify,
 * ecg_predict_proba (per row, PARALLEL SAFE), ecg_classify_table (batch) and
 * ecg_evaluate (classification report, stored in ecgdl.evaluations).
 *
 * Model cache: each backend decodes a model once and keeps it, with the
 * version (id, xmin, ctid) of its ecgdl.models row.  A call looks the row up
 * again (one index look-up) whenever what decides the row version it sees
 * has changed since the last look-up: the transaction, statement,
 * subtransaction or user, or the active snapshot (its command id, which moves
 * on after each change the transaction makes, and its count of transactions
 * completed anywhere).  So a DO block that replaces or deletes a model sees
 * that at its next statement, another session's replacement is seen from the
 * next statement (snapshot) on, and one statement - one snapshot - always
 * uses one whole model; parallel workers look the row up under the leader's
 * snapshot and so use the leader's model.
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "common/cryptohash.h"
#include "common/sha2.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "ecgdl.h"
#include "metrics.h"
#include "nn_model.h"
#include "nn_threads.h"
#include "rr_features.h"

PG_FUNCTION_INFO_V1(ecg_classify);
PG_FUNCTION_INFO_V1(ecg_predict_proba);
PG_FUNCTION_INFO_V1(ecg_classify_table);
PG_FUNCTION_INFO_V1(ecg_evaluate);
PG_FUNCTION_INFO_V1(ecg_classify_hash);
PG_FUNCTION_INFO_V1(ecg_predict_proba_hash);

#define MODEL_NAME_KEY (ECGDL_MODEL_NAME_MAX + 1)
#define BATCH_ROWS 2048
/* rows the network runs at once: small enough for the activations to stay in
 * cache (measured in test/bench/README.md) */
#ifndef INFERENCE_CHUNK_ROWS
#define INFERENCE_CHUNK_ROWS 128
#endif

/* What decides which version of a model row a look-up finds; while it is
 * unchanged, a look-up would find the same version as the last one. */
typedef struct ReadPoint
{
	bool		valid;			/* false: no active snapshot, always look up */
	LocalTransactionId lxid;
	TimestampTz statement;
	SubTransactionId subxact;
	Oid			user;
	CommandId	cid;
	uint64		completions;	/* 0 in parallel workers: their snapshot is fixed */
} ReadPoint;

typedef struct CachedModel
{
	char		name[MODEL_NAME_KEY];	/* hash key */
	ModelVersion version;
	MemoryContext context;		/* holds model and workspace */
	nn_model   *model;
	nn_workspace *row_workspace;	/* one row, for the per-row functions */
	float	   *row_signal;		/* input_length floats, for the per-row functions */
	float		row_features[NN_MAX_FEATURES];	/* and the beat row's R-R features */
	ReadPoint	checked;		/* where the row was last looked up */
	uint8		sha256[PG_SHA256_DIGEST_LENGTH];	/* of the blob */
} CachedModel;

static HTAB *model_cache = NULL;

/* SHA-256 of a blob, as SQL's sha256(blob). */
static void
blob_sha256(bytea *blob, uint8 *digest)
{
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);

	if (ctx == NULL || pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, (const uint8 *) VARDATA_ANY(blob), VARSIZE_ANY_EXHDR(blob)) < 0 ||
		pg_cryptohash_final(ctx, digest, PG_SHA256_DIGEST_LENGTH) < 0)
		elog(ERROR, "could not compute the SHA-256 of a model: %s", pg_cryptohash_error(ctx));
	pg_cryptohash_free(ctx);
}

/* Decodes a blob into a new context under CacheMemoryContext. */
static void
load_model(CachedModel *entry, bytea *blob)
{
	MemoryContext loading = AllocSetContextCreate(CurrentMemoryContext, "ecgdl model",
												  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(loading);
	ecg_status	st;
	nn_model   *model;
	nn_workspace *ws;
	float	   *row_signal;

	model = model_store_decode(entry->name, blob);
	ws = nn_workspace_create(model, 1, 0, &st);
	if (ws == NULL)
		ecgdl_report_status(&st, ERRCODE_OUT_OF_MEMORY, NULL);
	row_signal = palloc(sizeof(float) * Max(model->input_length, NN_BEAT_LENGTH));
	MemoryContextSwitchTo(old);

	/* success: replace the old model, keep the new one for the session */
	if (entry->context)
		MemoryContextDelete(entry->context);
	MemoryContextSetParent(loading, CacheMemoryContext);
	entry->context = loading;
	entry->model = model;
	entry->row_workspace = ws;
	entry->row_signal = row_signal;
	blob_sha256(blob, entry->sha256);
}

static void
current_read_point(ReadPoint *rp)
{
	rp->valid = ActiveSnapshotSet();
#if PG_VERSION_NUM >= 170000
	/* PostgreSQL 17 moved the local transaction id into PGPROC.vxid */
	rp->lxid = MyProc->vxid.lxid;
#else
	rp->lxid = MyProc->lxid;
#endif
	rp->statement = GetCurrentStatementStartTimestamp();
	rp->subxact = GetCurrentSubTransactionId();
	rp->user = GetUserId();
	rp->cid = rp->valid ? GetActiveSnapshot()->curcid : InvalidCommandId;
	rp->completions = rp->valid ? GetActiveSnapshot()->snapXactCompletionCount : 0;
}

static bool
same_read_point(const ReadPoint *a, const ReadPoint *b)
{
	return a->valid && b->valid && a->lxid == b->lxid && a->statement == b->statement &&
		a->subxact == b->subxact && a->user == b->user && a->cid == b->cid &&
		a->completions == b->completions;
}

static bool
same_version(const ModelVersion *a, const ModelVersion *b)
{
	return a->id == b->id && a->xmin == b->xmin &&
		ItemPointerGetBlockNumberNoCheck(&a->ctid) == ItemPointerGetBlockNumberNoCheck(&b->ctid) &&
		ItemPointerGetOffsetNumberNoCheck(&a->ctid) == ItemPointerGetOffsetNumberNoCheck(&b->ctid);
}

/* The model as the current snapshot sees it, (re)loaded when its row changed. */
static CachedModel *
get_model(text *name_text)
{
	char	   *name = text_to_cstring(name_text);
	CachedModel *entry;
	bool		found;
	ReadPoint	now;
	ModelVersion version;
	bytea	   *blob;

	if (strlen(name) >= MODEL_NAME_KEY)
		ereport(ERROR,
				(errcode(ERRCODE_NAME_TOO_LONG),
				 errmsg("model name is too long"),
				 errdetail("Model names have at most %d bytes.", MODEL_NAME_KEY - 1)));
	if (model_cache == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = MODEL_NAME_KEY;
		ctl.entrysize = sizeof(CachedModel);
		ctl.hcxt = CacheMemoryContext;
		model_cache = hash_create("ecgdl model cache", 16, &ctl,
								  HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	}
	entry = hash_search(model_cache, name, HASH_ENTER, &found);
	if (!found)
	{
		entry->context = NULL;
		entry->model = NULL;
		entry->checked.valid = false;
	}
	current_read_point(&now);
	if (entry->model != NULL && same_read_point(&entry->checked, &now))
		return entry;

	/* until the look-up succeeds, the entry counts as unchecked */
	entry->checked.valid = false;
	PG_TRY();
	{
		if (!model_store_version(name, &version))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("model \"%s\" does not exist", name),
					 errhint("Trained models are listed in ecgdl.models.")));
		if (entry->model == NULL || !same_version(&entry->version, &version))
		{
			blob = model_store_load(name, &version);
			load_model(entry, blob);
			entry->version = version;
		}
	}
	PG_CATCH();
	{
		if (entry->model == NULL)
			hash_search(model_cache, name, HASH_REMOVE, NULL);
		PG_RE_THROW();
	}
	PG_END_TRY();
	entry->checked = now;
	return entry;
}

/* Samples of a signal array: the model's beat length (187), or its input
 * length (zero padding is then already there). */
static void
signal_samples(ArrayType *arr, const nn_model *model, float *out, int *len)
{
	int			n = ARR_NDIM(arr) == 1 ? ARR_DIMS(arr)[0] : 0;

	if (n != NN_BEAT_LENGTH && n != model->input_length)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("signal has %d samples, expected %d (or the model input length %d)",
						n, NN_BEAT_LENGTH, model->input_length),
				 ARR_NDIM(arr) != 1 ? errdetail("The array has %d dimensions.", ARR_NDIM(arr)) : 0));
	ecgdl_array_to_floats(arr, out, n, "the argument");
	*len = n;
}

/* The signal argument argno. */
static void
signal_argument(FunctionCallInfo fcinfo, int argno, const nn_model *model, float *out, int *len)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("signal must not be NULL")));
	signal_samples(PG_GETARG_ARRAYTYPE_P(argno), model, out, len);
}

static CachedModel *
model_argument(FunctionCallInfo fcinfo)
{
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("model name must not be NULL")));
	return get_model(PG_GETARG_TEXT_PP(0));
}

/* Reads a signal argument (argno) into *in; a model with R-R features refuses
 * a bare signal, naming the forms that take a beat row (row_forms). */
static void
signal_input(FunctionCallInfo fcinfo, CachedModel *entry, int argno, const char *row_forms, nn_input *in)
{
	int			len;

	if (entry->model->n_features > 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("model \"%s\" takes R-R features besides the signal", entry->name),
				 errhint("Pass the whole beat row: %s for a row t of a beat table with the rr_* columns.",
						 row_forms)));
	signal_argument(fcinfo, argno, entry->model, entry->row_signal, &len);
	in->values = entry->row_signal;
	in->n_beats = 1;
	in->length = (size_t) len;
	in->channels = 1;
	in->features = NULL;
}

/* Attribute number of column `name` of a row type, or errors (42703). */
static int
row_column(TupleDesc desc, const char *name, Oid type)
{
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0)
		{
			if (att->atttypid != type)
				ereport(ERROR,
						(errcode(ERRCODE_DATATYPE_MISMATCH),
						 errmsg("column \"%s\" of the beat row has type %s, expected %s", name,
								format_type_be(att->atttypid), format_type_be(type))));
			return i + 1;
		}
	}
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_COLUMN),
			 errmsg("the beat row has no column \"%s\"", name),
			 strncmp(name, "rr_", 3) == 0 ?
			 errhint("The model takes R-R features: pass a row of a beat table made from records (ecg_import_wfdb, ecg_beats_from_signals), which has the rr_* columns.") :
			 errhint("Pass a row of a beat table (it has a signal real[] column).")));
	return 0;
}

/*
 * Reads a beat row (argument 1, any row type) into *in: its signal column
 * and, for a model with R-R features, its rr_* columns (by name, imputed).
 */
static void
row_input(FunctionCallInfo fcinfo, CachedModel *entry, nn_input *in)
{
	const nn_model *model = entry->model;
	HeapTupleHeader th;
	TupleDesc	desc;
	HeapTupleData tuple;
	bool		isnull;
	Datum		d;
	int			len;

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("beat row must not be NULL")));
	th = PG_GETARG_HEAPTUPLEHEADER(1);
	desc = lookup_rowtype_tupdesc(HeapTupleHeaderGetTypeId(th), HeapTupleHeaderGetTypMod(th));
	tuple.t_len = HeapTupleHeaderGetDatumLength(th);
	ItemPointerSetInvalid(&tuple.t_self);
	tuple.t_tableOid = InvalidOid;
	tuple.t_data = th;
	d = heap_getattr(&tuple, row_column(desc, "signal", FLOAT4ARRAYOID), desc, &isnull);
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("signal of the beat row is NULL")));
	signal_samples(DatumGetArrayTypeP(d), model, entry->row_signal, &len);
	if (model->n_features > 0)
	{
		float		f[RR_FEATURES];

		/* the window columns (0.4.0) only where the model reads them: a row
		 * of a table made before has the eight */
		bool		window = rr_features_read_window(model->feature_ids, model->n_features);

		for (int k = 0; k < RR_FEATURES; k++)
		{
			f[k] = NAN;
			if (k >= RR_BASIC_FEATURES && !window)
				continue;
			d = heap_getattr(&tuple, row_column(desc, rr_feature_names[k], FLOAT4OID), desc, &isnull);
			f[k] = isnull ? NAN : DatumGetFloat4(d);
		}
		rr_features_for_model(f, model, 0, NULL, entry->row_features);
	}
	ReleaseTupleDesc(desc);
	in->values = entry->row_signal;
	in->n_beats = 1;
	in->length = (size_t) len;
	in->channels = 1;
	in->features = model->n_features > 0 ? entry->row_features : NULL;
}

/*
 * The model of argument 0 and the beat of argument 1: a beat row (a composite
 * argument: ecg_classify_beat and the other _beat forms) or a signal real[].
 */
static CachedModel *
model_and_beat(FunctionCallInfo fcinfo, const char *row_forms, nn_input *in)
{
	Oid			type = get_fn_expr_argtype(fcinfo->flinfo, 1);
	CachedModel *entry = model_argument(fcinfo);

	if (OidIsValid(type) && type_is_rowtype(type))
		row_input(fcinfo, entry, in);
	else
		signal_input(fcinfo, entry, 1, row_forms, in);
	return entry;
}

nn_model *
ecgdl_model_and_beat(FunctionCallInfo fcinfo, const char *row_forms, nn_input *in,
					 const char **name)
{
	CachedModel *entry = model_and_beat(fcinfo, row_forms, in);

	*name = entry->name;
	return entry->model;
}

/* What the R-R hint of the classify functions names. */
#define CLASSIFY_ROW_FORMS "ecg_classify_beat(model, t) or ecg_predict_proba_beat(model, t)"

/* Runs the model on one beat; returns the number of classes. */
static int
predict_input(CachedModel *entry, const nn_input *in, float *probs)
{
	ecg_status	st;

	if (nn_model_predict_input(entry->model, entry->row_workspace, in, probs, NULL, &st) != 0)
		ecgdl_report_status(&st, ERRCODE_DATA_EXCEPTION, NULL);
	return entry->model->n_classes;
}

/* Runs the model on the signal argument argno. */
static int
predict_signal(FunctionCallInfo fcinfo, CachedModel *entry, int argno, float *probs)
{
	nn_input	in;

	signal_input(fcinfo, entry, argno, CLASSIFY_ROW_FORMS, &in);
	return predict_input(entry, &in, probs);
}

/*
 * The C functions ecg_classify and ecg_predict_proba serve both SQL forms:
 * ecg_classify_beat / ecg_predict_proba_beat (a beat row, a composite second
 * argument) and ecg_classify / ecg_predict_proba (a signal real[]).
 */
static int
predict_argument(FunctionCallInfo fcinfo, float *probs)
{
	nn_input	in;
	CachedModel *entry = model_and_beat(fcinfo, CLASSIFY_ROW_FORMS, &in);

	return predict_input(entry, &in, probs);
}

Datum
ecg_classify(PG_FUNCTION_ARGS)
{
	float		probs[NN_MAX_CLASSES];
	int			n_classes = predict_argument(fcinfo, probs);

	PG_RETURN_INT16((int16) metrics_argmax(probs, n_classes));
}

Datum
ecg_predict_proba(PG_FUNCTION_ARGS)
{
	float		probs[NN_MAX_CLASSES];
	int			n_classes = predict_argument(fcinfo, probs);

	PG_RETURN_ARRAYTYPE_P(ecgdl_floats_to_array(probs, n_classes));
}

/*
 * ecg_classify_hash / ecg_predict_proba_hash (model_sha256, signal):
 * IMMUTABLE, so that postgres_fdw ships them to the shards.  That is honest
 * because they name the model by its content - the SHA-256 of its blob
 * (ecg_model_hash) - and run only a stored model with exactly that content:
 * the same arguments always give the same result.  A server without it (no
 * such model, or another version under the name) refuses (55000).  (A text
 * model name would keep postgres_fdw from shipping the call: in PostgreSQL 15
 * it ships a function with collatable arguments only when their collation
 * comes from a remote column.)
 *
 * Which stored model has a hash is looked up (hashing the stored blobs) once
 * per read point, as get_model looks its row up; a few hashes are remembered,
 * for a statement that uses several models.
 */
#define HASH_LOOKUPS 4

typedef struct HashLookup
{
	uint8		sha256[PG_SHA256_DIGEST_LENGTH];
	ReadPoint	checked;
	char		name[MODEL_NAME_KEY];
} HashLookup;

static HashLookup hash_lookups[HASH_LOOKUPS];
static int	hash_lookup_next;	/* the entry a new look-up replaces */

/* The remembered look-up of this hash at this read point, or a new one. */
static HashLookup *
lookup_hash(const uint8 *sha256, const ReadPoint *now)
{
	HashLookup *l;
	char	   *name;
	bytea	   *arg;
	char		hex[PG_SHA256_DIGEST_STRING_LENGTH];

	for (int i = 0; i < HASH_LOOKUPS; i++)
	{
		l = &hash_lookups[i];
		if (same_read_point(&l->checked, now) && memcmp(l->sha256, sha256, PG_SHA256_DIGEST_LENGTH) == 0)
			return l;
	}
	l = &hash_lookups[hash_lookup_next];
	hash_lookup_next = (hash_lookup_next + 1) % HASH_LOOKUPS;
	l->checked.valid = false;
	arg = palloc(VARHDRSZ + PG_SHA256_DIGEST_LENGTH);
	SET_VARSIZE(arg, VARHDRSZ + PG_SHA256_DIGEST_LENGTH);
	memcpy(VARDATA(arg), sha256, PG_SHA256_DIGEST_LENGTH);
	name = model_store_name_by_sha256(arg);
	if (name == NULL)
	{
		hex[hex_encode((const char *) sha256, PG_SHA256_DIGEST_LENGTH, hex)] = '\0';
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("no model with SHA-256 %s on this server", hex),
				 errdetail("The model is missing here, or this server holds another version of it."),
				 errhint("Push the model to this server again (ecg_model_push).")));
	}
	strlcpy(l->name, name, MODEL_NAME_KEY);
	memcpy(l->sha256, sha256, PG_SHA256_DIGEST_LENGTH);
	l->checked = *now;
	return l;
}

static CachedModel *
model_argument_hashed(FunctionCallInfo fcinfo)
{
	bytea	   *wanted;
	ReadPoint	now;
	HashLookup *l;
	CachedModel *entry;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("model hash must not be NULL"),
				 errhint("Pass ecg_model_hash(model) of the server the model was pushed from.")));
	wanted = PG_GETARG_BYTEA_PP(0);
	if (VARSIZE_ANY_EXHDR(wanted) != PG_SHA256_DIGEST_LENGTH)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("model hash has %d bytes, expected a SHA-256 of %d bytes",
						(int) VARSIZE_ANY_EXHDR(wanted), PG_SHA256_DIGEST_LENGTH),
				 errhint("Pass ecg_model_hash(model).")));
	current_read_point(&now);
	l = lookup_hash((const uint8 *) VARDATA_ANY(wanted), &now);
	entry = get_model(cstring_to_text(l->name));
	/* one snapshot: the row the look-up found is the row get_model loaded */
	if (memcmp(entry->sha256, l->sha256, PG_SHA256_DIGEST_LENGTH) != 0)
		elog(ERROR, "model \"%s\" changed under a statement", entry->name);
	return entry;
}

Datum
ecg_classify_hash(PG_FUNCTION_ARGS)
{
	float		probs[NN_MAX_CLASSES];
	int			n_classes = predict_signal(fcinfo, model_argument_hashed(fcinfo), 1, probs);

	PG_RETURN_INT16((int16) metrics_argmax(probs, n_classes));
}

Datum
ecg_predict_proba_hash(PG_FUNCTION_ARGS)
{
	float		probs[NN_MAX_CLASSES];
	int			n_classes = predict_signal(fcinfo, model_argument_hashed(fcinfo), 1, probs);

	PG_RETURN_ARRAYTYPE_P(ecgdl_floats_to_array(probs, n_classes));
}

/*
 * Batch inference over a table: rows are read in blocks of BATCH_ROWS and
 * each block goes through the network at once, on a thread pool.
 */
typedef void (*batch_consumer) (const int64 *ids, const int *labels, const float *probs, int n,
								int n_classes, void *arg);

typedef struct PredictState
{
	CachedModel *entry;
	nn_workspace *ws;
	nn_pool    *pool;
	const char *role;
	bool		with_labels;
	int64	   *ids;
	int		   *labels;
	float	   *beats;
	float	   *features;		/* [block][n_features], NULL without */
	float	   *probs;
	batch_consumer consume;
	void	   *arg;
} PredictState;

static void
predict_block(SPITupleTable *tuptable, uint64 n, void *arg)
{
	PredictState *ps = arg;
	ecg_status	st;

	for (uint64 r = 0; r < n; r++)
	{
		ps->labels[r] = -1;
		beat_row_read(tuptable->vals[r], tuptable->tupdesc, 1, ps->role, &ps->ids[r],
					  ps->with_labels ? &ps->labels[r] : NULL, ps->beats + (Size) r * NN_BEAT_LENGTH);
		if (ps->features != NULL)
			rr_columns_read(tuptable->vals[r], tuptable->tupdesc, 4, ps->entry->model, ps->ids[r],
							ps->role, ps->features + (Size) r * ps->entry->model->n_features);
	}
	{
		nn_input	in = {ps->beats, (size_t) n, NN_BEAT_LENGTH, 1, ps->features};

		if (nn_model_predict_input(ps->entry->model, ps->ws, &in, ps->probs, ps->pool, &st) != 0)
			ecgdl_report_status(&st, ERRCODE_DATA_EXCEPTION, NULL);
	}
	ps->consume(ps->ids, ps->labels, ps->probs, (int) n, ps->entry->model->n_classes, ps->arg);
}

/*
 * Rows per block: BATCH_ROWS, halved while the block's buffers and network
 * workspace would exceed ecgdl.max_memory (a model that does not fit even for
 * one row is refused by nn_workspace_create with the limit's error).
 */
static int
block_rows_within_limit(const nn_model *model)
{
	size_t		limit = ecg_memory_limit();
	int			rows = BATCH_ROWS;

	while (limit != 0 && rows > 1)
	{
		size_t		buffers = (size_t) rows * (sizeof(int64) + sizeof(int) +
											   sizeof(float) * (NN_BEAT_LENGTH + model->n_classes +
																	model->n_features));
		size_t		ws = nn_workspace_bytes(model, (size_t) Min(rows, INFERENCE_CHUNK_ROWS), 0);

		if (ws != 0 && ws + buffers <= limit)
			break;
		rows /= 2;
	}
	return rows;
}

static void
predict_relation_blocks(CachedModel *entry, Oid relid, bool with_labels, nn_pool *pool,
						batch_consumer consume, void *arg)
{
	StringInfoData sql;
	PredictState ps;
	ecg_status	st;
	int			block_rows = block_rows_within_limit(entry->model);

	beat_table_check_layout(relid, with_labels ? "test table" : "source table");
	ps.entry = entry;
	ps.pool = pool;
	ps.with_labels = with_labels;
	ps.role = psprintf("%s \"%s\"", with_labels ? "test table" : "source table",
					   ecgdl_relation_name(relid));
	ps.ids = palloc(sizeof(int64) * block_rows);
	ps.labels = palloc(sizeof(int) * block_rows);
	ps.beats = palloc(sizeof(float) * (Size) block_rows * NN_BEAT_LENGTH);
	ps.probs = palloc(sizeof(float) * (Size) block_rows * entry->model->n_classes);
	ps.features = NULL;
	if (entry->model->n_features > 0)
	{
		rr_columns_check(relid, with_labels ? "test table" : "source table", entry->model);
		ps.features = palloc(sizeof(float) * (Size) block_rows * entry->model->n_features);
	}
	ps.consume = consume;
	ps.arg = arg;
	ps.ws = nn_workspace_create(entry->model, Min(block_rows, INFERENCE_CHUNK_ROWS), 0, &st);
	if (ps.ws == NULL)
		ecgdl_report_status(&st, ERRCODE_OUT_OF_MEMORY, NULL);
	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT id, %s, signal%s FROM %s",
					 with_labels ? "label" : "NULL::pg_catalog.int2",
					 entry->model->n_features > 0 ? rr_columns_select_list(relid) : "",
					 ecgdl_relation_name(relid));
	ecgdl_scan(sql.data, block_rows, predict_block, &ps);
	nn_workspace_free(ps.ws);
}

/* Runs predict_relation_blocks on a pool that is destroyed on every way out. */
static void
predict_relation(CachedModel *entry, Oid relid, bool with_labels, batch_consumer consume, void *arg)
{
	nn_pool    *volatile pool = NULL;
	ecg_status	st;

	PG_TRY();
	{
		pool = nn_pool_create(ecgdl_threads, &st);
		if (pool == NULL)
			ecgdl_report_status(&st, ERRCODE_INSUFFICIENT_RESOURCES, NULL);
		predict_relation_blocks(entry, relid, with_labels, pool, consume, arg);
	}
	PG_FINALLY();
	{
		nn_pool_destroy(pool);
	}
	PG_END_TRY();
}

typedef struct TableOutput
{
	ReturnSetInfo *rsinfo;
} TableOutput;

static void
emit_rows(const int64 *ids, const int *labels, const float *probs, int n, int n_classes, void *arg)
{
	TableOutput *out = arg;

	for (int r = 0; r < n; r++)
	{
		Datum		values[3];
		bool		nulls[3] = {false, false, false};
		const float *p = probs + (Size) r * n_classes;

		values[0] = Int64GetDatum(ids[r]);
		values[1] = Int16GetDatum((int16) metrics_argmax(p, n_classes));
		values[2] = PointerGetDatum(ecgdl_floats_to_array(p, n_classes));
		tuplestore_putvalues(out->rsinfo->setResult, out->rsinfo->setDesc, values, nulls);
		pfree(DatumGetPointer(values[2]));
	}
}

Datum
ecg_classify_table(PG_FUNCTION_ARGS)
{
	CachedModel *entry;
	TableOutput out;

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("source table must not be NULL")));
	entry = model_argument(fcinfo);
	InitMaterializedSRF(fcinfo, 0);
	out.rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	predict_relation(entry, PG_GETARG_OID(1), false, emit_rows, &out);
	return (Datum) 0;
}

typedef struct ConfusionSink
{
	int64		confusion[ECGDL_N_CLASSES * ECGDL_N_CLASSES];
} ConfusionSink;

static void
count_confusion(const int64 *ids, const int *labels, const float *probs, int n, int n_classes,
				void *arg)
{
	ConfusionSink *sink = arg;

	for (int r = 0; r < n; r++)
	{
		int			predicted = metrics_argmax(probs + (Size) r * n_classes, n_classes);

		if (predicted < ECGDL_N_CLASSES)
			sink->confusion[labels[r] * ECGDL_N_CLASSES + predicted]++;
	}
}

static void
append_metrics_json(StringInfo buf, const class_metrics *m)
{
	appendStringInfo(buf, "{\"precision\": %.6f, \"recall\": %.6f, \"f1\": %.6f, \"support\": %lld}",
					 m->precision, m->recall, m->f1, (long long) m->support);
}

static void
store_evaluation(CachedModel *entry, Oid test_relid, const ConfusionSink *sink,
				 const classification_report *report)
{
	StringInfoData per_class,
				confusion;
	EvaluationRecord rec;

	initStringInfo(&per_class);
	appendStringInfoChar(&per_class, '{');
	for (int c = 0; c < ECGDL_N_CLASSES; c++)
	{
		appendStringInfo(&per_class, "%s\"%s\": ", c ? ", " : "", ecgdl_class_name(c));
		append_metrics_json(&per_class, &report->per_class[c]);
	}
	appendStringInfoString(&per_class, ", \"macro avg\": ");
	append_metrics_json(&per_class, &report->macro);
	appendStringInfoString(&per_class, ", \"weighted avg\": ");
	append_metrics_json(&per_class, &report->weighted);
	appendStringInfoChar(&per_class, '}');

	initStringInfo(&confusion);
	appendStringInfoChar(&confusion, '{');
	for (int t = 0; t < ECGDL_N_CLASSES; t++)
	{
		appendStringInfo(&confusion, "%s{", t ? "," : "");
		for (int p = 0; p < ECGDL_N_CLASSES; p++)
			appendStringInfo(&confusion, "%s%lld", p ? "," : "",
							 (long long) sink->confusion[t * ECGDL_N_CLASSES + p]);
		appendStringInfoChar(&confusion, '}');
	}
	appendStringInfoChar(&confusion, '}');

	rec.model_id = entry->version.id;
	rec.model_name = entry->name;
	rec.test_table = ecgdl_relation_name(test_relid);
	rec.rows = report->total;
	rec.accuracy = report->accuracy;
	rec.macro_f1 = report->macro.f1;
	rec.per_class = per_class.data;
	rec.confusion = confusion.data;
	model_store_save_evaluation(&rec);
}

static void
put_report_row(ReturnSetInfo *rsinfo, const char *label, const class_metrics *m, bool only_f1)
{
	Datum		values[5];
	bool		nulls[5] = {false, false, false, false, false};

	values[0] = CStringGetTextDatum(label);
	values[1] = Float8GetDatum(m->precision);
	values[2] = Float8GetDatum(m->recall);
	values[3] = Float8GetDatum(m->f1);
	values[4] = Int64GetDatum(m->support);
	if (only_f1)
		nulls[1] = nulls[2] = true;
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

Datum
ecg_evaluate(PG_FUNCTION_ARGS)
{
	CachedModel *entry;
	Oid			test_relid;
	ConfusionSink sink;
	classification_report report;
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	class_metrics accuracy_row = {0};

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("test table must not be NULL")));
	entry = model_argument(fcinfo);
	if (entry->model->n_classes != ECGDL_N_CLASSES)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("model \"%s\" has %d classes; evaluation needs the 5 AAMI classes",
						entry->name, entry->model->n_classes)));
	test_relid = PG_GETARG_OID(1);
	memset(&sink, 0, sizeof(sink));
	predict_relation(entry, test_relid, true, count_confusion, &sink);
	metrics_report(sink.confusion, ECGDL_N_CLASSES, &report);
	if (report.total == 0)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("test table \"%s\" is empty", ecgdl_relation_name(test_relid))));
	store_evaluation(entry, test_relid, &sink, &report);

	InitMaterializedSRF(fcinfo, 0);
	for (int c = 0; c < ECGDL_N_CLASSES; c++)
		put_report_row(rsinfo, ecgdl_class_name(c), &report.per_class[c], false);
	accuracy_row.f1 = report.accuracy;
	accuracy_row.support = report.total;
	put_report_row(rsinfo, "accuracy", &accuracy_row, true);
	put_report_row(rsinfo, "macro avg", &report.macro, false);
	put_report_row(rsinfo, "weighted avg", &report.weighted, false);
	return (Datum) 0;
}
