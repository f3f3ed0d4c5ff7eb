/*
 * record_median_table.c - ecg_subtract_record_median(): a beat table whose
 * signals are each beat minus the median beat of its record (the core's
 * record_median.c), for models of patients never seen (issue 12).
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "ecgdl.h"
#include "record_median.h"

PG_FUNCTION_INFO_V1(ecg_subtract_record_median);

static int
compare_strings(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/*
 * The distinct records of the rows, sorted (C order), into *names, and each
 * row's index among them into group[].  Errors (22004) on a row without a
 * record: it belongs to no patient, so it has no median beat.
 */
static int
group_by_record(const BeatRows *rows, char ***names, int32 *group)
{
	char	  **sorted = palloc_extended(sizeof(char *) * rows->n, MCXT_ALLOC_HUGE);
	int			n_names = 0;

	for (int64 i = 0; i < rows->n; i++)
	{
		if (rows->records[i] == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("row id %lld of the source table has no record", (long long) rows->ids[i]),
					 errdetail("A beat is compared with the median beat of its own record (patient)."),
					 errhint("Fill the record column, or leave such rows out.")));
		sorted[i] = rows->records[i];
	}
	qsort(sorted, rows->n, sizeof(char *), compare_strings);
	for (int64 i = 0; i < rows->n; i++)
		if (n_names == 0 || strcmp(sorted[n_names - 1], sorted[i]) != 0)
			sorted[n_names++] = sorted[i];
	for (int64 i = 0; i < rows->n; i++)
	{
		char	  **hit = bsearch(&rows->records[i], sorted, n_names, sizeof(char *), compare_strings);

		group[i] = (int32) (hit - sorted);
	}
	*names = sorted;
	return n_names;
}

/*
 * Copies every source row into `target` (created with ecgdl's beat-table
 * definition of the source's kind, as ecg_split does; a table cut from
 * signals keeps its fs and NULL labels), the signal replaced
 * by signal minus the median beat of its record: records[g] has the median
 * beat medians[g * BEAT_SIGNAL_LENGTH ..].  Float4 subtraction in SQL is the
 * same IEEE operation as in C.
 */
static int64
write_target(Oid source, const char *target, bool from_signals, char **records, int n_records,
			 const float *medians)
{
	BeatTableKind kind = from_signals ? BEAT_TABLE_SIGNALS : beat_table_kind_of(source);
	bool		with_rr = beat_table_has_rr(source, "source table");
	char	   *select_list = beat_table_select_list(source, kind, with_rr, "s.");
	char	   *item;
	char	   *save;
	BeatTableWriter *writer;
	char	   *target_name;
	StringInfoData sql,
				items;
	Datum	   *names = palloc(sizeof(Datum) * n_records);
	Datum	   *values = palloc_extended(sizeof(Datum) * (Size) n_records * BEAT_SIGNAL_LENGTH,
										 MCXT_ALLOC_HUGE);
	Oid			argtypes[2] = {TEXTARRAYOID, FLOAT4ARRAYOID};
	Datum		args[2];
	int64		n;

	for (int g = 0; g < n_records; g++)
		names[g] = CStringGetTextDatum(records[g]);
	for (Size k = 0; k < (Size) n_records * BEAT_SIGNAL_LENGTH; k++)
		values[k] = Float4GetDatum(medians[k]);
	args[0] = PointerGetDatum(construct_array(names, n_records, TEXTOID, -1, false, TYPALIGN_INT));
	args[1] = PointerGetDatum(construct_array(values, n_records * BEAT_SIGNAL_LENGTH, FLOAT4OID,
											  sizeof(float4), true, TYPALIGN_INT));

	/* the source's select list with its signal item replaced */
	initStringInfo(&items);
	for (item = strtok_r(select_list, ",", &save); item != NULL; item = strtok_r(NULL, ",", &save))
	{
		while (*item == ' ')
			item++;
		if (items.len > 0)
			appendStringInfoString(&items, ", ");
		if (strcmp(item, "s.signal") == 0)
			appendStringInfo(&items,
							 "ARRAY(SELECT s.signal[k] OPERATOR(pg_catalog.-) "
							 "$2[(r.g OPERATOR(pg_catalog.-) 1) OPERATOR(pg_catalog.*) %d OPERATOR(pg_catalog.+) k] "
							 "FROM pg_catalog.generate_series(1, %d) AS k ORDER BY k)",
							 BEAT_SIGNAL_LENGTH, BEAT_SIGNAL_LENGTH);
		else
			appendStringInfoString(&items, item);
	}
	if (from_signals)
		appendStringInfoString(&items, ", s.fs");

	writer = beat_table_create(target, kind, with_rr);
	target_name = ecgdl_relation_name(beat_table_relid(writer));
	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "INSERT INTO %s (%s) SELECT %s FROM %s AS s "
					 "JOIN pg_catalog.unnest($1) WITH ORDINALITY AS r(record, g) "
					 "ON s.record::pg_catalog.text OPERATOR(pg_catalog.=) r.record "
					 "ORDER BY s.id",
					 target_name, psprintf("%s%s", beat_table_column_list(kind, with_rr),
										   from_signals ? ", fs" : ""), items.data,
					 ecgdl_relation_name(source));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args(sql.data, 2, argtypes, args, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not fill table %s", target_name);
	n = (int64) SPI_processed;
	SPI_finish();
	beat_table_finish(writer);
	return n;
}

Datum
ecg_subtract_record_median(PG_FUNCTION_ARGS)
{
	Oid			source;
	char	   *target;
	BeatRows   *rows;
	int32	   *group;
	char	  **records;
	int			n_records;
	float	   *medians;
	int64		written;
	bool		from_signals;
	ecg_status	st;

	ecgdl_require_args(fcinfo, 2, "ecg_subtract_record_median");
	source = PG_GETARG_OID(0);
	target = text_to_cstring(PG_GETARG_TEXT_PP(1));
	ecgdl_new_table_name(target);
	beat_table_check_layout(source, "source table");
	beat_table_check_optional_columns(source, "source table");
	if (get_attnum(source, "record") == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("source table \"%s\" has no column \"record\"", ecgdl_relation_name(source)),
				 errdetail("Each beat is compared with the median beat of its own record (patient)."),
				 errhint("Tables of ecg_import_wfdb and ecg_beats_from_signals have it; a CSV import has not.")));

	/* labels are copied, not read: beats cut from signals (a table of
	 * ecg_beats_from_signals, label NULL at detections) are centred like any
	 * others, into a table of the same kind */
	from_signals = beat_table_kind_of(source) == BEAT_TABLE_PLAIN && beat_table_has_fs(source);
	if (from_signals)
		rows = beat_rows_load_unlabelled(source, "source table", true, true);
	else
		rows = beat_rows_load(source, "source table", true, true);
	beat_rows_check_unique_ids(rows);
	group = palloc_extended(sizeof(int32) * rows->n, MCXT_ALLOC_HUGE);
	n_records = group_by_record(rows, &records, group);
	medians = palloc_extended(sizeof(float) * (Size) n_records * BEAT_SIGNAL_LENGTH, MCXT_ALLOC_HUGE);
	if (beats_subtract_group_median(rows->signals, (size_t) rows->n, BEAT_SIGNAL_LENGTH, group,
									(size_t) n_records, medians, &st) != 0)
		ecgdl_report_status(&st, ERRCODE_DATA_EXCEPTION, NULL);

	written = write_target(source, target, from_signals, records, n_records, medians);
	if (written != rows->n)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("source table changed while it was read"),
				 errdetail("%lld rows were read and %lld written.", (long long) rows->n, (long long) written)));
	ereport(NOTICE,
			(errmsg("%lld beats of %d records, each minus its record's median beat",
					(long long) rows->n, n_records)));
	PG_RETURN_INT64(written);
}
