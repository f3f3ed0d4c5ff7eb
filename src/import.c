/*
 * import.c - ecg_import_wfdb, ecg_import_csv and ecg_import_csv_staged:
 * heartbeats into a new beat table, from raw WFDB records or from the
 * Kaggle "heartbeat" CSV format.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "beats.h"
#include "ecgdl.h"
#include "heartbeat_csv.h"
#include "lead_choice.h"
#include "wfdb.h"

PG_FUNCTION_INFO_V1(ecg_import_wfdb);
PG_FUNCTION_INFO_V1(ecg_import_csv);
PG_FUNCTION_INFO_V1(ecg_import_csv_staged);

char *
ecgdl_join_path(const char *directory, const char *name)
{
	size_t		dl = strlen(directory);

	if (dl > 0 && directory[dl - 1] == '/')
		return psprintf("%s%s", directory, name);
	return psprintf("%s/%s", directory, name);
}

List *
ecgdl_record_names(const char *directory, ArrayType *records_arg)
{
	List	   *names = NIL;

	if (records_arg != NULL)
	{
		Datum	   *elems;
		bool	   *nulls;
		int			n;

		deconstruct_array(records_arg, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
		for (int i = 0; i < n; i++)
		{
			if (nulls[i])
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("record names must not be NULL")));
			names = lappend(names, TextDatumGetCString(elems[i]));
		}
	}
	else
	{
		char	   *path = ecgdl_join_path(directory, "RECORDS");
		size_t		len;
		char	   *text = ecgdl_read_server_file(path, &len, true);
		char	   *line,
				   *save = NULL;

		if (text == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_FILE),
					 errmsg("directory \"%s\" has no RECORDS file", directory),
					 errhint("Pass the record names in the records argument, or add a RECORDS file listing one per line.")));
		for (line = strtok_r(text, "\r\n", &save); line != NULL; line = strtok_r(NULL, "\r\n", &save))
		{
			char	   *start = line,
					   *end;

			while (*start == ' ' || *start == '\t')
				start++;
			end = start + strlen(start);
			while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
				*--end = '\0';
			if (*start != '\0' && *start != '#')
				names = lappend(names, pstrdup(start));
		}
	}
	if (names == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("no records to import from \"%s\"", directory)));
	return names;
}

void
ecgdl_check_lead_preference(const char *lead)
{
	if (!lead_preference_valid(lead))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid lead \"%s\"", lead),
				 errdetail("A lead is 'auto' or a comma-separated list of lead names, none empty."),
				 errhint("For example 'MLII' or 'MLII, V5'; 'auto' tries %s.", LEAD_AUTO_PREFERENCE)));
}

int
ecgdl_wfdb_choose_lead(const wfdb_header *h, const char *lead)
{
	const char **names = palloc(sizeof(char *) * Max(h->n_signals, 1));

	for (int i = 0; i < h->n_signals; i++)
		names[i] = h->signals[i].description;
	return lead_choose(lead, names, h->n_signals);
}

typedef struct RecordPlan
{
	char	   *name;
	wfdb_header header;
	int			signal;			/* chosen lead */
} RecordPlan;

void
ecgdl_read_wfdb_header(const char *directory, const char *name, wfdb_header *out)
{
	char	   *path = ecgdl_join_path(directory, psprintf("%s.hea", name));
	size_t		len;
	char	   *text = ecgdl_read_server_file(path, &len, true);
	ecg_status	st;

	if (text == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FILE),
				 errmsg("record \"%s\" not found", name),
				 errdetail("File \"%s\" does not exist.", path)));
	if (wfdb_header_parse(text, len, out, &st) != 0)
		ecgdl_report_status(&st, ERRCODE_INVALID_TEXT_REPRESENTATION,
							psprintf("header of record \"%s\"", name));
	if (out->n_signals < 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("record \"%s\" has no signals", name)));
}

char *
ecgdl_read_signal_file(const char *directory, const char *record, const wfdb_signal_spec *spec,
					   size_t *len)
{
	if (!wfdb_file_name_is_plain(spec->file_name))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("record \"%s\" names signal file \"%s\" outside its directory",
						record, spec->file_name),
				 errdetail("Signal file names in a header must be plain names, without '/' or '..'.")));
	return ecgdl_read_server_file(ecgdl_join_path(directory, spec->file_name), len, false);
}

Datum
ecg_import_wfdb(PG_FUNCTION_ARGS)
{
	char	   *directory,
			   *target,
			   *lead;
	List	   *names;
	RecordPlan *plans;
	int			n_records,
				n_with_lead = 0;
	ListCell   *lc;
	BeatTableWriter *writer;
	int64		next_id = 1;
	int64		totals[AAMI_N_CLASSES] = {0};
	MemoryContext record_context,
				old;

	ecgdl_require_args(fcinfo, 2, "ecg_import_wfdb");
	if (PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("lead must not be NULL")));
	directory = text_to_cstring(PG_GETARG_TEXT_PP(0));
	target = text_to_cstring(PG_GETARG_TEXT_PP(1));
	lead = text_to_cstring(PG_GETARG_TEXT_PP(3));
	ecgdl_check_read_server_files("read WFDB records");
	ecgdl_new_table_name(target);

	names = ecgdl_record_names(directory, PG_ARGISNULL(2) ? NULL : PG_GETARG_ARRAYTYPE_P(2));
	n_records = list_length(names);
	plans = palloc0(sizeof(RecordPlan) * n_records);

	ecgdl_check_lead_preference(lead);

	/* headers first: a missing record or lead fails before any heavy work */
	foreach(lc, names)
	{
		RecordPlan *plan = &plans[foreach_current_index(lc)];

		plan->name = lfirst(lc);
		ecgdl_read_wfdb_header(directory, plan->name, &plan->header);
		plan->signal = ecgdl_wfdb_choose_lead(&plan->header, lead);
		if (plan->signal >= 0)
			n_with_lead++;
		CHECK_FOR_INTERRUPTS();
	}
	/* 'auto' always finds a lead (a record's first signal at worst); a named
	 * lead no record has is a mistake */
	if (n_with_lead == 0 && !lead_preference_is_auto(lead))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 strchr(lead, ',') ? errmsg("no record has any of the leads \"%s\"", lead) :
				 errmsg("no record has a lead named \"%s\"", lead),
				 errdetail("Record \"%s\" has %s%s%s.", plans[0].name,
						   plans[0].header.signals[0].description,
						   plans[0].header.n_signals > 1 ? ", " : "",
						   plans[0].header.n_signals > 1 ? plans[0].header.signals[1].description : ""),
				 errhint("Lead names are the signal descriptions in the .hea files, e.g. 'MLII' or 'V5'.")));

	writer = beat_table_create(target, BEAT_TABLE_PLAIN, true);
	record_context = AllocSetContextCreate(CurrentMemoryContext, "ecgdl record",
										   ALLOCSET_DEFAULT_SIZES);
	for (int r = 0; r < n_records; r++)
	{
		RecordPlan *plan = &plans[r];
		const wfdb_signal_spec *spec;
		char	   *dat,
				   *atr,
				   *atr_path;
		size_t		dat_len,
					atr_len;
		beat_set	set;
		ecg_status	st;
		int64		dropped = 0;
		StringInfoData drops;

		CHECK_FOR_INTERRUPTS();
		old = MemoryContextSwitchTo(record_context);
		if (plan->signal < 0)
		{
			plan->signal = 0;
			ereport(NOTICE,
					(errmsg("record %s has no lead %s; using its first signal, %s",
							plan->name, lead_preference_is_auto(lead) ? LEAD_AUTO_PREFERENCE : lead,
							plan->header.signals[0].description)));
		}
		else if (lead_rank(lead, plan->header.signals[plan->signal].description) > 0)
			ereport(NOTICE,
					(errmsg("record %s: using lead %s, the first of %s it has",
							plan->name, plan->header.signals[plan->signal].description,
							lead_preference_is_auto(lead) ? LEAD_AUTO_PREFERENCE : lead)));
		spec = &plan->header.signals[plan->signal];
		dat = ecgdl_read_signal_file(directory, plan->name, spec, &dat_len);
		atr_path = ecgdl_join_path(directory, psprintf("%s.atr", plan->name));
		atr = ecgdl_read_server_file(atr_path, &atr_len, true);
		if (atr == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_FILE),
					 errmsg("record \"%s\" has no annotation file", plan->name),
					 errdetail("File \"%s\" does not exist.", atr_path)));
		if (beats_extract_record(&plan->header, plan->signal, (const uint8_t *) dat, dat_len,
								 (const uint8_t *) atr, atr_len, &set, &st) != 0)
			ecgdl_report_status(&st, ERRCODE_INVALID_BINARY_REPRESENTATION, NULL);
		MemoryContextSwitchTo(old);

		for (size_t b = 0; b < set.n_beats; b++)
		{
			const beat *bt = &set.beats[b];

			beat_table_add(writer, next_id++, plan->name, bt->sample, bt->symbol, bt->label,
						   bt->signal, BEAT_LENGTH, bt->rr);
		}
		initStringInfo(&drops);
		for (int reason = 0; reason < BEAT_DROP_N_REASONS; reason++)
			if (set.drop_counts[reason] > 0)
			{
				appendStringInfo(&drops, "%s%lld %s", dropped ? ", " : " (",
								 (long long) set.drop_counts[reason], beat_drop_reason_name(reason));
				dropped += set.drop_counts[reason];
			}
		if (dropped)
			appendStringInfoChar(&drops, ')');
		for (int c = 0; c < AAMI_N_CLASSES; c++)
			totals[c] += set.class_counts[c];
		ereport(NOTICE,
				(errmsg("record %s (%s): %zu beats: N %lld, S %lld, V %lld, F %lld, Q %lld; %lld dropped%s",
						plan->name, spec->description, set.n_beats,
						(long long) set.class_counts[0], (long long) set.class_counts[1],
						(long long) set.class_counts[2], (long long) set.class_counts[3],
						(long long) set.class_counts[4], (long long) dropped, drops.data)));
		MemoryContextReset(record_context);
	}
	beat_table_finish(writer);
	if (n_records > 1)
		ereport(NOTICE,
				(errmsg("imported %lld beats from %d records: N %lld, S %lld, V %lld, F %lld, Q %lld",
						(long long) (next_id - 1), n_records,
						(long long) totals[0], (long long) totals[1], (long long) totals[2],
						(long long) totals[3], (long long) totals[4])));
	PG_RETURN_INT64(next_id - 1);
}

/* Parses one CSV line and adds it as a beat; `where` names it in errors. */
static void
add_csv_line(BeatTableWriter *writer, const char *line, size_t len, int64 id, const char *where)
{
	float		samples[HEARTBEAT_CSV_SAMPLES];
	int			label;
	ecg_status	st;

	if (heartbeat_csv_parse_line(line, len, samples, &label, &st) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
				 errmsg("%s: %s", where, st.message),
				 st.detail[0] ? errdetail("%s", st.detail) : 0));
	beat_table_add(writer, id, NULL, -1, NULL, label, samples, HEARTBEAT_CSV_SAMPLES, NULL);
}

Datum
ecg_import_csv(PG_FUNCTION_ARGS)
{
	char	   *path,
			   *target;
	char	   *buf;
	size_t		len;
	heartbeat_csv_reader reader;
	const char *line;
	size_t		line_len;
	int64		line_no,
				n = 0;
	BeatTableWriter *writer;

	ecgdl_require_args(fcinfo, 2, "ecg_import_csv");
	path = text_to_cstring(PG_GETARG_TEXT_PP(0));
	target = text_to_cstring(PG_GETARG_TEXT_PP(1));
	ecgdl_check_read_server_files("read a CSV file");
	ecgdl_new_table_name(target);
	buf = ecgdl_read_server_file(path, &len, false);

	writer = beat_table_create(target, BEAT_TABLE_PLAIN, false);
	heartbeat_csv_reader_init(&reader, buf, len);
	while (heartbeat_csv_next_line(&reader, &line, &line_len, &line_no))
	{
		char		where[64];

		snprintf(where, sizeof(where), "line %lld", (long long) line_no);
		add_csv_line(writer, line, line_len, ++n, where);
	}
	if (n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("file \"%s\" holds no beats", path)));
	beat_table_finish(writer);
	PG_RETURN_INT64(n);
}

typedef struct StagedState
{
	BeatTableWriter *writer;
	int64		n;
} StagedState;

static void
add_staged_block(SPITupleTable *tuptable, uint64 n, void *arg)
{
	StagedState *ss = arg;

	for (uint64 r = 0; r < n; r++)
	{
		bool		isnull,
					no_null;
		Datum		d = SPI_getbinval(tuptable->vals[r], tuptable->tupdesc, 1, &isnull);
		Datum		no = SPI_getbinval(tuptable->vals[r], tuptable->tupdesc, 2, &no_null);
		char		where[64];
		text	   *t;

		ss->n++;
		if (no_null)
			snprintf(where, sizeof(where), "staging row %lld", (long long) ss->n);
		else
			snprintf(where, sizeof(where), "line %lld", (long long) DatumGetInt64(no));
		if (isnull)
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s: line is NULL", where)));
		t = DatumGetTextPP(d);
		add_csv_line(ss->writer, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), ss->n, where);
	}
}

/*
 * ecg_import_csv_staged(staging regclass, target text): for clients without
 * server file access.  The staging table has a text column "line" (one CSV
 * line per row, as \copy ... (line) loads it) and, optionally, a column
 * "line_no" that orders the rows and names them in errors.
 */
Datum
ecg_import_csv_staged(PG_FUNCTION_ARGS)
{
	Oid			staging;
	char	   *target;
	StringInfoData sql;
	StagedState ss = {NULL, 0};
	AttrNumber	line_attnum,
				line_no_attnum;
	bool		has_line_no;

	ecgdl_require_args(fcinfo, 2, "ecg_import_csv_staged");
	staging = PG_GETARG_OID(0);
	target = text_to_cstring(PG_GETARG_TEXT_PP(1));
	line_attnum = get_attnum(staging, "line");
	if (line_attnum == InvalidAttrNumber || get_atttype(staging, line_attnum) != TEXTOID)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("staging table \"%s\" has no text column \"line\"", ecgdl_relation_name(staging)),
				 errhint("CREATE TABLE staging (line_no bigint GENERATED ALWAYS AS IDENTITY, line text); "
						 "then \\copy staging (line) FROM 'mitbih_train.csv'")));
	/* line_no, when present, must be a built-in integer: it is read and
	 * ordered by, and a cast or ordering of a type of the table owner's own
	 * would run their code with the caller's rights */
	line_no_attnum = get_attnum(staging, "line_no");
	has_line_no = line_no_attnum != InvalidAttrNumber;
	if (has_line_no && get_atttype(staging, line_no_attnum) != INT8OID &&
		get_atttype(staging, line_no_attnum) != INT4OID && get_atttype(staging, line_no_attnum) != INT2OID)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("column \"line_no\" of staging table \"%s\" is not an integer", ecgdl_relation_name(staging)),
				 errdetail("It has type %s.", format_type_be(get_atttype(staging, line_no_attnum))),
				 errhint("Use bigint, integer or smallint, or leave the column out.")));
	ecgdl_new_table_name(target);
	ss.writer = beat_table_create(target, BEAT_TABLE_PLAIN, false);

	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT line, %s FROM %s%s",
					 has_line_no ? "line_no::pg_catalog.int8" : "NULL::pg_catalog.int8",
					 ecgdl_relation_name(staging), has_line_no ? " ORDER BY line_no" : "");
	ecgdl_scan(sql.data, 5000, add_staged_block, &ss);
	if (ss.n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("staging table \"%s\" is empty", ecgdl_relation_name(staging))));
	beat_table_finish(ss.writer);
	PG_RETURN_INT64(ss.n);
}
