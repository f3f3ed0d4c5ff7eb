/*
 * model_store.c - ecgdl.models: saving, loading, exporting and importing the
 * versioned model blobs.
 *
 * All SQL here names ecgdl.models and pg_catalog operators explicitly, so a
 * hostile search_path cannot redirect it.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "ecgdl.h"
#include "model_blob.h"

PG_FUNCTION_INFO_V1(ecg_model_export);
PG_FUNCTION_INFO_V1(ecg_model_import);
PG_FUNCTION_INFO_V1(ecg_model_drop);
PG_FUNCTION_INFO_V1(ecg_evaluations_drop);

/* id, xmin and ctid (columns 1-3 of a look-up) of a model row */
static void
read_version(HeapTuple tuple, TupleDesc desc, ModelVersion *version)
{
	bool		isnull;

	version->id = DatumGetInt64(SPI_getbinval(tuple, desc, 1, &isnull));
	version->xmin = DatumGetTransactionId(SPI_getbinval(tuple, desc, 2, &isnull));
	ItemPointerCopy((ItemPointer) DatumGetPointer(SPI_getbinval(tuple, desc, 3, &isnull)), &version->ctid);
}

/*
 * Who writes the two tables.  From 0.2.0 on PUBLIC may not INSERT into or
 * UPDATE ecgdl.models and ecgdl.evaluations: the functions here check what
 * the caller may do - replace only a model of a role the caller is a member
 * of, store an evaluation only of a model the caller can read - and then run
 * their one INSERT as the tables' owner, in a security-restricted context with
 * search_path pg_catalog, pg_temp, the owner column set to the caller.  Under
 * the 0.1.0 definitions (owner a name, before ALTER EXTENSION ecgdl UPDATE)
 * they write as the caller, under 0.1.0's row-level security, as 0.1.0 did.
 */

/* OID of ecgdl.<relname> */
static Oid
store_relid(const char *relname)
{
	Oid			relid = get_relname_relid(relname, get_namespace_oid("ecgdl", false));

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("table ecgdl.%s does not exist", relname),
				 errhint("The tables come with CREATE EXTENSION ecgdl.")));
	return relid;
}

/* The error for a model name that no row of ecgdl.models has (42704). */
pg_attribute_noreturn()
static void
report_missing_model(const char *name)
{
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_OBJECT),
			 errmsg("model \"%s\" does not exist", name),
			 errhint("Trained models are listed in ecgdl.models.")));
}

/* true from 0.2.0 on: owner is a regrole, and writes go through the owner */
static bool
owner_is_role(Oid relid)
{
	AttrNumber	attnum = get_attnum(relid, "owner");

	return attnum != InvalidAttrNumber && get_atttype(relid, attnum) == REGROLEOID;
}

/* Runs one statement through SPI (connected) as the owner of relid; returns
 * SPI's result code.  (Also used for ecgdl.qrs_evaluations, qrs_sql.c.) */
int
execute_as_table_owner(Oid relid, const char *sql, int nargs, Oid *argtypes, Datum *args,
					   const char *nulls)
{
	HeapTuple	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			owner;
	Oid			save_userid;
	int			save_sec_context;
	int			save_nestlevel;
	volatile int ret = 0;

	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tuple))->relowner;
	ReleaseSysCache(tuple);

	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(owner, save_sec_context | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	PG_TRY();
	{
		save_nestlevel = NewGUCNestLevel();
		(void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
		ret = SPI_execute_with_args(sql, nargs, argtypes, args, nulls, false, 0);
		AtEOXact_GUC(true, save_nestlevel);
	}
	PG_FINALLY();
	{
		/* on an error the (sub)transaction's abort restores the GUC */
		SetUserIdAndSecContext(save_userid, save_sec_context);
	}
	PG_END_TRY();
	return ret;
}

void
model_store_check_name(const char *name, bool replace)
{
	Oid			argtypes[2] = {TEXTOID, OIDOID};
	Datum		args[2] = {CStringGetTextDatum(name), ObjectIdGetDatum(GetUserId())};
	char	   *sql;

	if (name[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("model name must not be empty")));
	if (strlen(name) > ECGDL_MODEL_NAME_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_NAME_TOO_LONG),
				 errmsg("model name is too long"),
				 errdetail("Model names have at most %d bytes.", ECGDL_MODEL_NAME_MAX)));
	/* membership of the owning role; under 0.1.0 owner is a name, and a name
	 * no role has any more gives NULL (no one but superusers is a member) */
	sql = psprintf("SELECT owner::pg_catalog.text, pg_catalog.pg_has_role($2, %s, 'MEMBER') "
				   "FROM ecgdl.models WHERE name OPERATOR(pg_catalog.=) $1",
				   owner_is_role(store_relid("models")) ? "owner::pg_catalog.oid" :
				   "pg_catalog.to_regrole(pg_catalog.quote_ident(owner::pg_catalog.text))");
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args(sql, 2, argtypes, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not look up model \"%s\"", name);
	if (SPI_processed > 0)
	{
		bool		isnull;
		char	   *owner = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		Datum		member = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);

		if (!replace)
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_OBJECT),
					 errmsg("model \"%s\" already exists", name),
					 errhint("Pass replace => true to replace it, or choose another name.")));
		if (isnull || !DatumGetBool(member))
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied to replace model \"%s\"", name),
					 errdetail("The model belongs to role %s.", owner),
					 errhint("Only members of the owning role may replace or drop a model.")));
	}
	SPI_finish();
}

int64
model_store_save(const char *name, bool replace, const ModelRecord *rec)
{
	Oid			argtypes[12] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID,
	TEXTOID, INT4OID, INT4OID, FLOAT8OID, BYTEAOID, OIDOID};
	Datum		args[12];
	char		nulls[12];
	Oid			models = store_relid("models");
	bool		as_owner = owner_is_role(models);
	char	   *sql;
	int			ret;
	bool		isnull;
	int64		id;

	model_store_check_name(name, replace);
	memset(nulls, ' ', sizeof(nulls));
	args[0] = CStringGetTextDatum(name);
	args[1] = CStringGetTextDatum(rec->architecture);
	args[2] = CStringGetTextDatum(rec->hyperparameters);
#define TEXT_OR_NULL(i, v) \
	do { if ((v) != NULL) args[i] = CStringGetTextDatum(v); else { args[i] = (Datum) 0; nulls[i] = 'n'; } } while (0)
	TEXT_OR_NULL(3, rec->training_table);
	TEXT_OR_NULL(4, rec->class_counts);
	TEXT_OR_NULL(5, rec->oversampling);
	TEXT_OR_NULL(6, rec->history);
#undef TEXT_OR_NULL
	args[7] = Int32GetDatum(rec->best_epoch);
	nulls[7] = rec->best_epoch > 0 ? ' ' : 'n';
	args[8] = Int32GetDatum(rec->epochs_run);
	nulls[8] = rec->epochs_run > 0 ? ' ' : 'n';
	args[9] = Float8GetDatum(rec->training_seconds);
	nulls[9] = rec->training_seconds >= 0 ? ' ' : 'n';
	args[10] = PointerGetDatum(rec->weights);
	args[11] = ObjectIdGetDatum(GetUserId());

	/*
	 * check_name ran just before; the row may still have come or changed
	 * hands since: a new row of that name is not overwritten without
	 * replace, and a replacement keeps the row's id and owner and happens
	 * only while the caller is a member of that owner (as the table owner,
	 * row-level security does not check it).
	 */
	sql = psprintf("INSERT INTO ecgdl.models AS m (name, architecture, hyperparameters, training_table, "
				   "class_counts, oversampling, history, best_epoch, epochs_run, training_seconds, weights%s) "
				   "VALUES ($1, $2, $3::pg_catalog.jsonb, $4, $5::pg_catalog.jsonb, $6, $7::pg_catalog.jsonb, "
				   "$8, $9, $10, $11%s) ON CONFLICT (name) %s RETURNING m.id",
				   as_owner ? ", owner" : "", as_owner ? ", $12::pg_catalog.regrole" : "",
				   !replace ? "DO NOTHING" :
				   psprintf("DO UPDATE SET architecture = EXCLUDED.architecture, "
							"hyperparameters = EXCLUDED.hyperparameters, training_table = EXCLUDED.training_table, "
							"class_counts = EXCLUDED.class_counts, oversampling = EXCLUDED.oversampling, "
							"history = EXCLUDED.history, best_epoch = EXCLUDED.best_epoch, "
							"epochs_run = EXCLUDED.epochs_run, training_seconds = EXCLUDED.training_seconds, "
							"created_at = pg_catalog.now(), weights = EXCLUDED.weights%s",
							as_owner ? " WHERE pg_catalog.pg_has_role($12, m.owner::pg_catalog.oid, 'MEMBER')" : ""));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = as_owner ? execute_as_table_owner(models, sql, 12, argtypes, args, nulls)
		: SPI_execute_with_args(sql, 12, argtypes, args, nulls, false, 0);
	if (ret != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "could not store model \"%s\"", name);
	if (SPI_processed != 1)
		ereport(ERROR,
				replace ?
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to replace model \"%s\"", name),
				 errdetail("The model was stored by another role while this call ran.")) :
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("model \"%s\" already exists", name),
				 errdetail("Another session stored it while this call ran.")));
	id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	return id;
}

void
model_store_save_evaluation(const EvaluationRecord *rec)
{
	model_store_save_evaluation_records(rec, NULL);
}

void
model_store_save_evaluation_records(const EvaluationRecord *rec, const char *per_record)
{
	Oid			argtypes[10] = {INT8OID, TEXTOID, TEXTOID, INT8OID, FLOAT8OID, FLOAT8OID, TEXTOID,
	TEXTOID, OIDOID, TEXTOID};
	Datum		args[10];
	Oid			evaluations = store_relid("evaluations");
	bool		as_owner = owner_is_role(evaluations);
	int			ret;
	/* per_record only when given: a 0.1.0 table has no such column */
	const char *rec_column = per_record ? ", per_record" : "";
	const char *rec_value = per_record ? ", $10::pg_catalog.jsonb" : "";

	args[0] = Int64GetDatum(rec->model_id);
	args[1] = CStringGetTextDatum(rec->model_name);
	args[2] = CStringGetTextDatum(rec->test_table);
	args[3] = Int64GetDatum(rec->rows);
	args[4] = Float8GetDatum(rec->accuracy);
	args[5] = Float8GetDatum(rec->macro_f1);
	args[6] = CStringGetTextDatum(rec->per_class);
	args[7] = CStringGetTextDatum(rec->confusion);
	args[8] = ObjectIdGetDatum(GetUserId());
	args[9] = per_record ? CStringGetTextDatum(per_record) : (Datum) 0;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	/* the caller must be able to read the model (its privileges and row-level
	 * security), now, not only when it was cached */
	if (as_owner &&
		(SPI_execute_with_args("SELECT FROM ecgdl.models WHERE id OPERATOR(pg_catalog.=) $1",
							   1, argtypes, args, NULL, false, 1) != SPI_OK_SELECT ||
		 SPI_processed != 1))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("model \"%s\" does not exist", rec->model_name),
				 errdetail("It was dropped while it was evaluated, or this role cannot read it."),
				 errhint("Trained models are listed in ecgdl.models.")));
	if (as_owner)
	{
		/* $10 goes after $9 (owner) */
		ret = execute_as_table_owner(evaluations,
									 psprintf("INSERT INTO ecgdl.evaluations (model_id, model_name, test_table, rows, "
											  "accuracy, macro_f1, per_class, confusion, owner%s) "
											  "VALUES ($1, $2, $3, $4, $5, $6, $7::pg_catalog.jsonb, $8::pg_catalog.int8[], "
											  "$9::pg_catalog.regrole%s)", rec_column, rec_value),
									 per_record ? 10 : 9, argtypes, args, NULL);
	}
	else
	{
		/* no owner argument: per_record is $9 */
		argtypes[8] = TEXTOID;
		args[8] = args[9];
		ret = SPI_execute_with_args(psprintf("INSERT INTO ecgdl.evaluations (model_id, model_name, test_table, "
											 "rows, accuracy, macro_f1, per_class, confusion%s) "
											 "VALUES ($1, $2, $3, $4, $5, $6, $7::pg_catalog.jsonb, $8::pg_catalog.int8[]%s)",
											 rec_column, per_record ? ", $9::pg_catalog.jsonb" : ""),
									per_record ? 9 : 8, argtypes, args, NULL, false, 0);
	}
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "could not store the evaluation");
	SPI_finish();
}

bool
model_store_version(const char *name, ModelVersion *version)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1] = {CStringGetTextDatum(name)};
	bool		found;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT id, xmin, ctid FROM ecgdl.models WHERE name OPERATOR(pg_catalog.=) $1",
							  1, argtypes, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not look up model \"%s\"", name);
	found = SPI_processed > 0;
	if (found)
		read_version(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, version);
	SPI_finish();
	return found;
}

/*
 * Name of a stored model whose blob has this SHA-256 (32 bytes; the oldest
 * such model when several have the same content), palloc'd; NULL when none.
 */
char *
model_store_name_by_sha256(bytea *sha256)
{
	Oid			argtypes[1] = {BYTEAOID};
	Datum		args[1] = {PointerGetDatum(sha256)};
	MemoryContext caller = CurrentMemoryContext;
	char	   *name = NULL;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT name FROM ecgdl.models"
							  " WHERE pg_catalog.sha256(weights) OPERATOR(pg_catalog.=) $1"
							  " ORDER BY id LIMIT 1",
							  1, argtypes, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not look up a model by its SHA-256");
	if (SPI_processed > 0)
	{
		char	   *found = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

		name = MemoryContextStrdup(caller, found);
	}
	SPI_finish();
	return name;
}

struct nn_model *
model_store_decode(const char *name, bytea *blob)
{
	ecg_status	st;
	nn_model   *model = model_blob_decode((const uint8_t *) VARDATA_ANY(blob),
										  VARSIZE_ANY_EXHDR(blob), NULL, &st);

	if (model == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("model \"%s\" is not a valid ecgdl model: %s", name, st.message),
				 st.detail[0] ? errdetail("%s", st.detail) : 0,
				 errhint("Train it again, or import an intact blob with ecg_model_import(..., replace => true).")));
	ecgdl_check_model_memory(model, name);
	return model;
}

bytea *
model_store_load(const char *name, ModelVersion *version)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1] = {CStringGetTextDatum(name)};
	MemoryContext caller = CurrentMemoryContext;
	bytea	   *weights;
	bool		isnull;
	HeapTuple	tuple;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT id, xmin, ctid, weights FROM ecgdl.models WHERE name OPERATOR(pg_catalog.=) $1",
							  1, argtypes, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not look up model \"%s\"", name);
	if (SPI_processed == 0)
		report_missing_model(name);
	tuple = SPI_tuptable->vals[0];
	if (version)
		read_version(tuple, SPI_tuptable->tupdesc, version);
	/* detoast straight into the caller's context */
	{
		MemoryContext spi = MemoryContextSwitchTo(caller);

		weights = DatumGetByteaPCopy(SPI_getbinval(tuple, SPI_tuptable->tupdesc, 4, &isnull));
		MemoryContextSwitchTo(spi);
	}
	SPI_finish();
	return weights;
}

Datum
ecg_model_export(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));

	PG_RETURN_BYTEA_P(model_store_load(name, NULL));
}

Datum
ecg_model_import(PG_FUNCTION_ARGS)
{
	char	   *name;
	bytea	   *blob;
	bool		replace;
	nn_model   *model;
	char	   *metadata;
	ecg_status	st;
	ModelRecord rec = {0};
	StringInfoData hyper;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("ecg_model_import arguments must not be NULL")));
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	blob = PG_GETARG_BYTEA_PP(1);
	replace = PG_GETARG_BOOL(2);

	model = model_blob_decode((const uint8_t *) VARDATA_ANY(blob), VARSIZE_ANY_EXHDR(blob),
							  &metadata, &st);
	if (model == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("not a valid ecgdl model: %s", st.message),
				 st.detail[0] ? errdetail("%s", st.detail) : 0,
				 errhint("Models come from ecg_model_export(); the format is described in the README.")));
	ecgdl_check_model_memory(model, name);
	/* the decoder checked that the metadata is UTF-8; in the database's
	 * encoding it becomes a JSON string (22021/22P05 if not representable) */
	metadata = pg_any_to_server(metadata, (int) strlen(metadata), PG_UTF8);
	initStringInfo(&hyper);
	appendStringInfoString(&hyper, "{\"imported\": true, \"metadata\": ");
	escape_json(&hyper, metadata);
	appendStringInfoChar(&hyper, '}');
	rec.architecture = model->arch.name;
	rec.hyperparameters = hyper.data;
	rec.best_epoch = -1;
	rec.epochs_run = -1;
	rec.training_seconds = -1;
	rec.weights = PG_GETARG_BYTEA_P(1);
	PG_RETURN_INT64(model_store_save(name, replace, &rec));
}

/*
 * ecg_model_drop(name text, if_exists boolean DEFAULT false) -> boolean
 *
 * From 0.2.0 on no role but the tables' owner holds a write privilege on
 * ecgdl.models (a role that may DELETE could also LOCK the table and stall
 * every classification): members of a model's owning role drop it here.  Its
 * evaluations go with it (ON DELETE CASCADE).  Returns whether a model was
 * dropped; a missing model is an error unless if_exists.
 */
Datum
ecg_model_drop(PG_FUNCTION_ARGS)
{
	Oid			argtypes[2] = {TEXTOID, OIDOID};
	Datum		args[2];
	char	   *name;
	bool		if_exists;
	bool		dropped;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("ecg_model_drop arguments must not be NULL")));
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if_exists = PG_GETARG_BOOL(1);
	args[0] = CStringGetTextDatum(name);
	args[1] = ObjectIdGetDatum(GetUserId());
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (execute_as_table_owner(store_relid("models"),
							   "DELETE FROM ecgdl.models AS m WHERE m.name OPERATOR(pg_catalog.=) $1 "
							   "AND pg_catalog.pg_has_role($2, m.owner::pg_catalog.oid, 'MEMBER')",
							   2, argtypes, args, NULL) != SPI_OK_DELETE)
		elog(ERROR, "could not drop model \"%s\"", name);
	dropped = SPI_processed > 0;
	if (!dropped)
	{
		/* not there, or not the caller's: say which (read_only false: a
		 * fresh snapshot, which sees drops earlier in the same statement) */
		if (SPI_execute_with_args("SELECT owner::pg_catalog.text FROM ecgdl.models "
								  "WHERE name OPERATOR(pg_catalog.=) $1",
								  1, argtypes, args, NULL, false, 1) != SPI_OK_SELECT)
			elog(ERROR, "could not look up model \"%s\"", name);
		if (SPI_processed > 0)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied to drop model \"%s\"", name),
					 errdetail("The model belongs to role %s.",
							   SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1)),
					 errhint("Only members of the owning role may replace or drop a model.")));
		if (!if_exists)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("model \"%s\" does not exist", name),
					 errhint("Trained models are listed in ecgdl.models; pass if_exists => true to ignore a missing one.")));
	}
	SPI_finish();
	PG_RETURN_BOOL(dropped);
}

/*
 * ecg_evaluations_drop(model text, test_table text DEFAULT NULL) -> bigint
 *
 * Deletes the stored evaluations of a model (on one test table, as written in
 * ecgdl.evaluations.test_table, when given) that the caller may delete: its
 * own, and every one of a model the caller owns.  Returns how many.
 */
Datum
ecg_evaluations_drop(PG_FUNCTION_ARGS)
{
	Oid			argtypes[3] = {TEXTOID, OIDOID, TEXTOID};
	Datum		args[3];
	char		nulls[3] = {' ', ' ', ' '};
	char	   *name;
	uint64		n;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("model must not be NULL")));
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	args[0] = CStringGetTextDatum(name);
	args[1] = ObjectIdGetDatum(GetUserId());
	if (PG_ARGISNULL(1))
	{
		args[2] = (Datum) 0;
		nulls[2] = 'n';
	}
	else
		args[2] = PG_GETARG_DATUM(1);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT FROM ecgdl.models WHERE name OPERATOR(pg_catalog.=) $1",
							  1, argtypes, args, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not look up model \"%s\"", name);
	if (SPI_processed == 0)
		report_missing_model(name);
	if (execute_as_table_owner(store_relid("evaluations"),
							   "DELETE FROM ecgdl.evaluations AS e USING ecgdl.models AS m "
							   "WHERE m.id OPERATOR(pg_catalog.=) e.model_id "
							   "AND m.name OPERATOR(pg_catalog.=) $1 "
							   "AND ($3 IS NULL OR e.test_table OPERATOR(pg_catalog.=) $3) "
							   "AND (pg_catalog.pg_has_role($2, e.owner::pg_catalog.oid, 'MEMBER') "
							   "OR pg_catalog.pg_has_role($2, m.owner::pg_catalog.oid, 'MEMBER'))",
							   3, argtypes, args, nulls) != SPI_OK_DELETE)
		elog(ERROR, "could not drop the evaluations of model \"%s\"", name);
	n = SPI_processed;
	SPI_finish();
	PG_RETURN_INT64((int64) n);
}
