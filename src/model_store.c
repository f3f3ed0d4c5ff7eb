/*
 * model_store.c - ecgdl.models: saving, loading, exporting and importing the
 * versioned model blobs.
 *
 * All SQL here names ecgdl.models and pg_catalog operators explicitly, so a
 * hostile search_path cannot redirect it.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/json.h"

#include "ecgdl.h"
#include "model_blob.h"

PG_FUNCTION_INFO_V1(ecg_model_export);
PG_FUNCTION_INFO_V1(ecg_model_import);

void
model_store_check_name(const char *name, bool replace)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1] = {CStringGetTextDatum(name)};

	if (name[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("model name must not be empty")));
	if (strlen(name) > ECGDL_MODEL_NAME_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_NAME_TOO_LONG),
				 errmsg("model name is too long"),
				 errdetail("Model names have at most %d bytes.", ECGDL_MODEL_NAME_MAX)));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT owner FROM ecgdl.models WHERE name OPERATOR(pg_catalog.=) $1",
							  1, argtypes, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not look up model \"%s\"", name);
	if (SPI_processed > 0)
	{
		bool		isnull;
		Name		owner = DatumGetName(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
													   1, &isnull));
		Oid			owner_oid = get_role_oid(NameStr(*owner), true);

		if (!replace)
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_OBJECT),
					 errmsg("model \"%s\" already exists", name),
					 errhint("Pass replace => true to replace it, or choose another name.")));
		if (!OidIsValid(owner_oid) || !is_member_of_role(GetUserId(), owner_oid))
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied to replace model \"%s\"", name),
					 errdetail("The model belongs to role \"%s\".", NameStr(*owner)),
					 errhint("Only members of the owning role may replace or drop a model.")));
	}
	SPI_finish();
}

int64
model_store_save(const char *name, bool replace, const ModelRecord *rec)
{
	Oid			argtypes[11] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID,
	TEXTOID, INT4OID, INT4OID, FLOAT8OID, BYTEAOID};
	Datum		args[11];
	char		nulls[11];
	const char *sql;
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

	/* check_name ran just before: the row exists only when replacing */
	sql = "INSERT INTO ecgdl.models AS m (name, architecture, hyperparameters, training_table, "
		"class_counts, oversampling, history, best_epoch, epochs_run, training_seconds, weights) "
		"VALUES ($1, $2, $3::pg_catalog.jsonb, $4, $5::pg_catalog.jsonb, $6, $7::pg_catalog.jsonb, "
		"$8, $9, $10, $11) "
		"ON CONFLICT (name) DO UPDATE SET architecture = EXCLUDED.architecture, "
		"hyperparameters = EXCLUDED.hyperparameters, training_table = EXCLUDED.training_table, "
		"class_counts = EXCLUDED.class_counts, oversampling = EXCLUDED.oversampling, "
		"history = EXCLUDED.history, best_epoch = EXCLUDED.best_epoch, "
		"epochs_run = EXCLUDED.epochs_run, training_seconds = EXCLUDED.training_seconds, "
		"created_at = pg_catalog.now(), weights = EXCLUDED.weights "
		"RETURNING m.id";
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (!replace)
		sql = pnstrdup(sql, strstr(sql, " ON CONFLICT") - sql);
	if (SPI_execute_with_args(replace ? sql : psprintf("%s RETURNING m.id", sql),
							  11, argtypes, args, nulls, false, 0) != SPI_OK_INSERT_RETURNING ||
		SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("could not store model \"%s\"", name)));
	id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	return id;
}

bool
model_store_version(const char *name, int64 *id, TransactionId *xmin)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1] = {CStringGetTextDatum(name)};
	bool		found,
				isnull;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT id, xmin FROM ecgdl.models WHERE name OPERATOR(pg_catalog.=) $1",
							  1, argtypes, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not look up model \"%s\"", name);
	found = SPI_processed > 0;
	if (found)
	{
		*id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		*xmin = DatumGetTransactionId(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2,
													&isnull));
	}
	SPI_finish();
	return found;
}

bytea *
model_store_load(const char *name, int64 *id, TransactionId *xmin)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1] = {CStringGetTextDatum(name)};
	MemoryContext caller = CurrentMemoryContext;
	bytea	   *weights;
	bool		isnull;
	HeapTuple	tuple;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT id, xmin, weights FROM ecgdl.models WHERE name OPERATOR(pg_catalog.=) $1",
							  1, argtypes, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not look up model \"%s\"", name);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("model \"%s\" does not exist", name),
				 errhint("Trained models are listed in ecgdl.models.")));
	tuple = SPI_tuptable->vals[0];
	if (id)
		*id = DatumGetInt64(SPI_getbinval(tuple, SPI_tuptable->tupdesc, 1, &isnull));
	if (xmin)
		*xmin = DatumGetTransactionId(SPI_getbinval(tuple, SPI_tuptable->tupdesc, 2, &isnull));
	/* detoast straight into the caller's context */
	{
		MemoryContext spi = MemoryContextSwitchTo(caller);

		weights = DatumGetByteaPCopy(SPI_getbinval(tuple, SPI_tuptable->tupdesc, 3, &isnull));
		MemoryContextSwitchTo(spi);
	}
	SPI_finish();
	return weights;
}

Datum
ecg_model_export(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));

	PG_RETURN_BYTEA_P(model_store_load(name, NULL, NULL));
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
