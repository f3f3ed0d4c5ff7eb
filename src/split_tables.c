/*
 * split_tables.c - ecg_split(): a beat table into train and test tables.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "ecgdl.h"
#include "split.h"

PG_FUNCTION_INFO_V1(ecg_split);

/*
 * Creates `target` with ecgdl's beat-table definition (of the source's kind:
 * oversampled tables keep their provenance columns, tables with R-R features
 * keep them) and copies into it the
 * source rows whose ids are given.  Nothing of the source's definition is
 * copied (see beat_table.c): only its column values, read with a plain SELECT.
 */
static void
copy_rows(Oid source, const char *target, const int64 *ids, int64 n)
{
	BeatTableKind kind = beat_table_kind_of(source);
	bool		with_rr = beat_table_has_rr(source, "source table");
	char	   *select_list = beat_table_select_list(source, kind, with_rr, "s.");
	BeatTableWriter *writer;
	char	   *target_name;
	Datum	   *elems = palloc_extended(sizeof(Datum) * (n > 0 ? n : 1), MCXT_ALLOC_HUGE);
	ArrayType  *id_array;
	StringInfoData sql;
	Oid			argtypes[1] = {INT8ARRAYOID};
	Datum		args[1];

	for (int64 i = 0; i < n; i++)
		elems[i] = Int64GetDatum(ids[i]);
	id_array = construct_array(elems, (int) n, INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
	args[0] = PointerGetDatum(id_array);

	writer = beat_table_create(target, kind, with_rr);
	target_name = ecgdl_relation_name(beat_table_relid(writer));
	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "INSERT INTO %s (%s) SELECT %s FROM %s AS s "
					 "JOIN pg_catalog.unnest($1) AS k(id) ON s.id OPERATOR(pg_catalog.=) k.id "
					 "ORDER BY s.id",
					 target_name, beat_table_column_list(kind, with_rr), select_list,
					 ecgdl_relation_name(source));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args(sql.data, 1, argtypes, args, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not fill table %s", target_name);
	if ((int64) SPI_processed != n)
		ereport(ERROR,
				(errcode(ERRCODE_UNIQUE_VIOLATION),
				 errmsg("source table has duplicate ids"),
				 errdetail("Copying %lld rows into %s gave %llu rows.",
						   (long long) n, target_name, (unsigned long long) SPI_processed)));
	SPI_finish();
	beat_table_finish(writer);
	pfree(elems);
}

Datum
ecg_split(PG_FUNCTION_ARGS)
{
	Oid			source_relid;
	char	   *train_name,
			   *test_name,
			   *method;
	double		test_fraction;
	int32		seed;
	BeatRows   *rows;
	uint8	   *side;			/* 0 train, 1 test, 2 left out */
	int64	   *train_ids,
			   *test_ids;
	int64		n_train = 0,
				n_test = 0,
				n_left_out = 0;
	int64		counts[2][ECGDL_N_CLASSES] = {{0}};
	RangeVar   *train_rv,
			   *test_rv;
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ecg_status	st;

	for (int i = 0; i < 6; i++)
		if (PG_ARGISNULL(i))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("ecg_split arguments must not be NULL")));
	source_relid = PG_GETARG_OID(0);
	train_name = text_to_cstring(PG_GETARG_TEXT_PP(1));
	test_name = text_to_cstring(PG_GETARG_TEXT_PP(2));
	test_fraction = PG_GETARG_FLOAT8(3);
	seed = PG_GETARG_INT32(4);
	method = text_to_cstring(PG_GETARG_TEXT_PP(5));

	if (strcmp(method, "stratified") != 0 && strcmp(method, "random") != 0 &&
		strcmp(method, "inter-patient") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown split method \"%s\"", method),
				 errhint("Use 'stratified', 'random' or 'inter-patient'.")));
	if (strcmp(method, "inter-patient") != 0 && !(test_fraction > 0.0 && test_fraction < 1.0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("test_fraction must be between 0 and 1 (exclusive)"),
				 errdetail("The value given was %g.", test_fraction)));
	train_rv = ecgdl_new_table_name(train_name);
	test_rv = ecgdl_new_table_name(test_name);
	if (strcmp(quote_qualified_identifier(train_rv->schemaname, train_rv->relname),
			   quote_qualified_identifier(test_rv->schemaname, test_rv->relname)) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("train and test tables must have different names")));

	beat_table_check_layout(source_relid, "source table");
	beat_table_check_optional_columns(source_relid, "source table");
	rows = beat_rows_load(source_relid, "source table", false, strcmp(method, "inter-patient") == 0);
	beat_rows_check_unique_ids(rows);
	side = palloc_extended(rows->n, MCXT_ALLOC_HUGE);
	if (strcmp(method, "stratified") == 0)
	{
		if (split_stratified(rows->labels, rows->n, ECGDL_N_CLASSES, test_fraction, (uint64) (uint32) seed,
							 side, &st) != 0)
			ecgdl_report_status(&st, ERRCODE_INVALID_PARAMETER_VALUE, NULL);
	}
	else if (strcmp(method, "random") == 0)
	{
		if (split_random(rows->n, test_fraction, (uint64) (uint32) seed, side, &st) != 0)
			ecgdl_report_status(&st, ERRCODE_INVALID_PARAMETER_VALUE, NULL);
	}
	else
	{
		for (int64 i = 0; i < rows->n; i++)
		{
			int			s = split_inter_patient_side(rows->records[i]);

			side[i] = s < 0 ? 2 : (uint8) s;
		}
	}

	train_ids = palloc_extended(sizeof(int64) * rows->n, MCXT_ALLOC_HUGE);
	test_ids = palloc_extended(sizeof(int64) * rows->n, MCXT_ALLOC_HUGE);
	for (int64 i = 0; i < rows->n; i++)
	{
		if (side[i] == 2)
		{
			n_left_out++;
			continue;
		}
		counts[side[i]][rows->labels[i]]++;
		if (side[i] == 1)
			test_ids[n_test++] = rows->ids[i];
		else
			train_ids[n_train++] = rows->ids[i];
	}
	if (n_train == 0 || n_test == 0)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("the split leaves the %s table empty", n_train == 0 ? "train" : "test"),
				 strcmp(method, "inter-patient") == 0 ?
				 errhint("The inter-patient split needs a record column holding MIT-BIH record names (100..234).") :
				 errhint("Use more rows or another test_fraction.")));
	if (n_left_out > 0)
		ereport(NOTICE,
				(errmsg("%lld rows left out: their record is in neither DS1 nor DS2 (paced records 102, 104, 107, 217 are excluded)",
						(long long) n_left_out)));

	copy_rows(source_relid, train_name, train_ids, n_train);
	copy_rows(source_relid, test_name, test_ids, n_test);

	InitMaterializedSRF(fcinfo, 0);
	for (int part = 0; part < 2; part++)
		for (int c = 0; c < ECGDL_N_CLASSES; c++)
		{
			Datum		values[3];
			bool		nulls[3] = {false, false, false};

			values[0] = CStringGetTextDatum(part == 0 ? "train" : "test");
			values[1] = CStringGetTextDatum(ecgdl_class_name(c));
			values[2] = Int64GetDatum(counts[part][c]);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	return (Datum) 0;
}
