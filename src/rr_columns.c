/*
 * rr_columns.c - reading a model's R-R feature columns from beat tables
 * (rr_spec.md): the columns are checked, read by name, imputed as
 * rr_features_impute documents, and the model's features picked out in its
 * order.  Used by ecg_train and the classification functions.
 */
#include "postgres.h"

#include <math.h>

#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/lsyscache.h"

#include "ecgdl.h"
#include "nn_model.h"
#include "rr_features.h"

/*
 * Errors (42703) naming the first R-R column `relid` lacks among the eight
 * every R-R table has, then among the window columns (0.4.0) when `model`
 * reads one of them.
 */
void
rr_columns_check(Oid relid, const char *role, const nn_model *model)
{
	int			needed = rr_features_read_window(model->feature_ids, model->n_features) ?
		RR_FEATURES : RR_BASIC_FEATURES;

	for (int k = 0; k < needed; k++)
		if (get_attnum(relid, rr_feature_names[k]) == InvalidAttrNumber)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("%s \"%s\" has no column \"%s\"", role, ecgdl_relation_name(relid),
							rr_feature_names[k]),
					 k < RR_BASIC_FEATURES ?
					 errdetail("The model takes R-R features, read from the columns %s, %s, %s, %s, %s, %s, %s and %s.",
							   rr_feature_names[0], rr_feature_names[1], rr_feature_names[2],
							   rr_feature_names[3], rr_feature_names[4], rr_feature_names[5],
							   rr_feature_names[6], rr_feature_names[7]) :
					 errdetail("The model reads %s, one of the window columns beat tables have since ecgdl 0.4.0.",
							   rr_feature_names[k]),
					 k < RR_BASIC_FEATURES ?
					 errhint("Beat tables made from records (ecg_import_wfdb, ecg_beats_from_signals) have them; a CSV import has not. Use a model without R-R features (baseline, cnn) for such a table.") :
					 errhint("Import the records again (ecg_import_wfdb, ecg_beats_from_signals) to have them, or use a model without the window features.")));
}

/* ", rr_pre::pg_catalog.float4, ..." - the R-R columns for a select list, a
 * NULL in place of each window column `relid` lacks (a table made before
 * 0.4.0) */
char *
rr_columns_select_list(Oid relid)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (int k = 0; k < RR_FEATURES; k++)
		if (k < RR_BASIC_FEATURES || get_attnum(relid, rr_feature_names[k]) != InvalidAttrNumber)
			appendStringInfo(&buf, ", %s::pg_catalog.float4", rr_feature_names[k]);
		else
			appendStringInfoString(&buf, ", NULL::pg_catalog.float4");
	return buf.data;
}

/* "row id 7 of test table \"t\"", or "the beat row" (role NULL); for errors only */
static char *
row_name(int64 id, const char *role)
{
	return role == NULL ? pstrdup("the beat row") : psprintf("row id %lld of %s", (long long) id, role);
}

/*
 * Imputes a row of the R-R features (f[RR_FEATURES], NaN for NULL) and
 * writes the model's features in its order into out.  Errors (22004) naming
 * the column when one of the eight cannot be imputed, or a window column the
 * model reads is NULL (a row made before 0.4.0); id and role name the row
 * (role NULL: the beat row passed to a single-beat function).
 */
void
rr_features_for_model(float *f, const nn_model *model, int64 id, const char *role, float *out)
{
	int			rc = rr_features_impute(f);

	if (rc != 0)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s of %s is NULL and cannot be imputed", rr_feature_names[rc - 1],
						row_name(id, role)),
				 errdetail("A missing rr_pre is taken from rr_post and the reverse, rr_local from rr_record, and the ratios are recomputed; this row has nothing to take it from (a record of a single beat, or NULLs put there)."),
				 errhint("Delete the row, or fill the column, before using a model with R-R features.")));
	for (int k = 0; k < model->n_features; k++)
	{
		int			fid = model->feature_ids[k];

		if (!isfinite(f[fid]))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s of %s is NULL", rr_feature_names[fid], row_name(id, role)),
					 errdetail("The window columns are computed by the imports of ecgdl 0.4.0 and later; this row was made before, or from a table made before."),
					 errhint("Import the records again, or use a model without the window features.")));
		out[k] = f[fid];
	}
}

/*
 * Reads the R-R columns at col .. col + RR_FEATURES - 1 of a scanned row
 * (rr_columns_select_list; NULL -> NaN) and writes the model's features,
 * imputed, in its order into out (rr_features_for_model).
 */
void
rr_columns_read(HeapTuple tuple, TupleDesc desc, int col, const nn_model *model, int64 id,
				const char *role, float *out)
{
	float		f[RR_FEATURES];

	for (int k = 0; k < RR_FEATURES; k++)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(tuple, desc, col + k, &isnull);

		f[k] = isnull ? NAN : DatumGetFloat4(d);
	}
	rr_features_for_model(f, model, id, role, out);
}

typedef struct LoadFeatures
{
	const nn_model *model;
	const BeatRows *rows;
	const char *role;
	float	   *out;
	int64		at;
} LoadFeatures;

static void
load_block(SPITupleTable *tuptable, uint64 n, void *arg)
{
	LoadFeatures *lf = arg;

	for (uint64 r = 0; r < n; r++, lf->at++)
	{
		bool		isnull;
		int64		id = DatumGetInt64(SPI_getbinval(tuptable->vals[r], tuptable->tupdesc, 1, &isnull));

		/* the same table read again, in the same id order */
		if (lf->at >= lf->rows->n || isnull || id != lf->rows->ids[lf->at])
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("%s changed while it was read", lf->role)));
		rr_columns_read(tuptable->vals[r], tuptable->tupdesc, 2, lf->model, id, lf->role,
						lf->out + (Size) lf->at * lf->model->n_features);
	}
}

/*
 * The model's features of every row of `rows` (loaded from relid in id
 * order): a palloc'd [rows->n][model->n_features] array.
 */
float *
rr_columns_load(Oid relid, const char *role, const BeatRows *rows, const nn_model *model)
{
	LoadFeatures lf;
	char	   *who = psprintf("%s \"%s\"", role, ecgdl_relation_name(relid));

	rr_columns_check(relid, role, model);
	lf.model = model;
	lf.rows = rows;
	lf.role = who;
	lf.out = palloc(sizeof(float) * (Size) rows->n * model->n_features);
	lf.at = 0;
	ecgdl_scan(psprintf("SELECT id%s FROM %s ORDER BY id", rr_columns_select_list(relid),
						ecgdl_relation_name(relid)), 4096, load_block, &lf);
	if (lf.at != rows->n)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s changed while it was read", who)));
	return lf.out;
}
