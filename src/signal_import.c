/*
 * signal_import.c - ecg_import_wfdb_signals: WFDB records into a new signal
 * table (record, lead, fs, start_sample, samples real[] in physical units),
 * one row per chunk of chunk_seconds of one lead.
 *
 * Samples are converted to physical units exactly as the beat import does
 * (beats_physical_units), so that beats cut from the table are those of
 * ecg_import_wfdb bit for bit.  A record is read and decoded one lead at a
 * time (the signal file and one decoded lead in memory, both counted against
 * ecgdl.max_memory); rows are written as the lead is cut.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "beats.h"
#include "ecgdl.h"
#include "lead_choice.h"
#include "wfdb.h"

PG_FUNCTION_INFO_V1(ecg_import_wfdb_signals);

#define CHUNK_SECONDS_MAX 3600
/* samples in one row at most (64 MB of real[]), whatever a header's rate */
#define CHUNK_SAMPLES_MAX (1 << 24)

/* Lead names of the argument, or NULL for every lead. */
static List *
lead_names(FunctionCallInfo fcinfo, int argno)
{
	List	   *names = NIL;
	Datum	   *elems;
	bool	   *nulls;
	int			n;

	if (PG_ARGISNULL(argno))
		return NIL;
	deconstruct_array(PG_GETARG_ARRAYTYPE_P(argno), TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	for (int i = 0; i < n; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("lead names must not be NULL")));
		names = lappend(names, TextDatumGetCString(elems[i]));
	}
	if (names == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("leads must not be an empty array"),
				 errhint("Pass NULL for every lead.")));
	return names;
}

/* Name of signal i of a header: its description, or its number when it has none. */
static char *
signal_name(const wfdb_header *h, int i)
{
	if (h->signals[i].description[0] != '\0')
		return pstrdup(h->signals[i].description);
	return psprintf("%d", i);
}

/* Whether signal s of a record is asked for: all are without a list; a
 * name asks for the lead of that name, 'auto' for the lead ecg_import_wfdb
 * would take by default (lead_choice.h; the first signal when none). */
static bool
lead_wanted(List *leads, const wfdb_header *h, int s)
{
	ListCell   *lc;
	char	   *name = signal_name(h, s);

	if (leads == NIL)
		return true;
	foreach(lc, leads)
	{
		if (lead_preference_is_auto(lfirst(lc)))
		{
			int			choice = ecgdl_wfdb_choose_lead(h, lfirst(lc));

			if (s == (choice >= 0 ? choice : 0))
				return true;
		}
		else if (strcmp(lfirst(lc), name) == 0)
			return true;
	}
	return false;
}

/* Writes one lead as rows of `chunk` samples through the prepared INSERT. */
static int64
write_lead(SPIPlanPtr insert, const char *record, const char *lead, double fs,
		   const float *x, int64 n, int64 chunk)
{
	int64		rows = 0;

	for (int64 start = 0; start < n; start += chunk)
	{
		int64		len = Min(chunk, n - start);
		ArrayType  *arr = ecgdl_floats_to_array(x + start, (int) len);
		Datum		args[5] = {CStringGetTextDatum(record), CStringGetTextDatum(lead),
		Float8GetDatum(fs), Int64GetDatum(start), PointerGetDatum(arr)};

		if (SPI_execute_plan(insert, args, NULL, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "could not insert a chunk of record %s", record);
		pfree(arr);
		rows++;
		CHECK_FOR_INTERRUPTS();
	}
	return rows;
}

Datum
ecg_import_wfdb_signals(PG_FUNCTION_ARGS)
{
	char	   *directory,
			   *target;
	List	   *names,
			   *leads;
	int			chunk_seconds;
	RangeVar   *rv;
	char	   *qualified;
	StringInfoData sql;
	SPIPlanPtr	insert;
	Oid			argtypes[5] = {TEXTOID, TEXTOID, FLOAT8OID, INT8OID, FLOAT4ARRAYOID};
	wfdb_header *headers;
	ListCell   *lc;
	int64		rows = 0;
	MemoryContext lead_context,
				old;

	ecgdl_require_args(fcinfo, 2, "ecg_import_wfdb_signals");
	if (PG_ARGISNULL(4))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("chunk_seconds must not be NULL")));
	directory = text_to_cstring(PG_GETARG_TEXT_PP(0));
	target = text_to_cstring(PG_GETARG_TEXT_PP(1));
	leads = lead_names(fcinfo, 3);
	chunk_seconds = PG_GETARG_INT32(4);
	if (chunk_seconds < 1 || chunk_seconds > CHUNK_SECONDS_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("chunk_seconds must be between 1 and %d, not %d", CHUNK_SECONDS_MAX, chunk_seconds)));
	ecgdl_check_read_server_files("read WFDB records");
	rv = ecgdl_new_table_name(target);
	qualified = quote_qualified_identifier(rv->schemaname, rv->relname);

	names = ecgdl_record_names(directory, PG_ARGISNULL(2) ? NULL : PG_GETARG_ARRAYTYPE_P(2));
	headers = palloc0(sizeof(wfdb_header) * list_length(names));
	/* headers first: a missing record or lead fails before any heavy work */
	foreach(lc, names)
	{
		wfdb_header *h = &headers[foreach_current_index(lc)];
		bool		any = false;

		ecgdl_read_wfdb_header(directory, lfirst(lc), h);
		for (int s = 0; s < h->n_signals; s++)
			any |= lead_wanted(leads, h, s);
		if (!any)
		{
			StringInfoData have;

			initStringInfo(&have);
			for (int s = 0; s < h->n_signals; s++)
				appendStringInfo(&have, "%s%s", s ? ", " : "", signal_name(h, s));
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("record \"%s\" has none of the leads asked for", (char *) lfirst(lc)),
					 errdetail("Its leads are %s.", have.data),
					 errhint("Lead names are the signal descriptions in the .hea files, e.g. 'MLII' or 'V5'.")));
		}
		CHECK_FOR_INTERRUPTS();
	}

	/* outside SPI's memory, which SPI_finish frees */
	lead_context = AllocSetContextCreate(CurrentMemoryContext, "ecgdl lead", ALLOCSET_DEFAULT_SIZES);
	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "CREATE TABLE %s (record pg_catalog.text NOT NULL, lead pg_catalog.text NOT NULL, "
					 "fs pg_catalog.float8 NOT NULL, start_sample pg_catalog.int8 NOT NULL, "
					 "samples pg_catalog.float4[] NOT NULL, PRIMARY KEY (record, lead, start_sample)); "
					 "ALTER TABLE %s ALTER COLUMN samples SET STORAGE EXTERNAL",
					 qualified, qualified);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute(sql.data, false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "could not create table %s", qualified);
	resetStringInfo(&sql);
	appendStringInfo(&sql, "INSERT INTO %s (record, lead, fs, start_sample, samples) "
					 "VALUES ($1, $2, $3, $4, $5)", qualified);
	insert = SPI_prepare(sql.data, 5, argtypes);
	if (insert == NULL)
		elog(ERROR, "could not prepare the insert into %s", qualified);

	foreach(lc, names)
	{
		const char *record = lfirst(lc);
		wfdb_header *h = &headers[foreach_current_index(lc)];

		for (int s = 0; s < h->n_signals; s++)
		{
			const wfdb_signal_spec *spec = &h->signals[s];
			char	   *lead = signal_name(h, s);
			char	   *dat;
			size_t		dat_len;
			int32_t    *adc;
			int64_t		n;
			float	   *phys;
			double		fs = h->sampling_frequency * spec->samples_per_frame;
			double		chunk = floor(chunk_seconds * fs + 0.5);
			ecg_status	st;

			if (!lead_wanted(leads, h, s))
				continue;
			if (!(chunk <= CHUNK_SAMPLES_MAX))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("record \"%s\", lead \"%s\": %d s at %g Hz is too many samples for one row",
								record, lead, chunk_seconds, fs),
						 errdetail("A row holds at most %d samples.", CHUNK_SAMPLES_MAX),
						 errhint("Pass a smaller chunk_seconds.")));
			CHECK_FOR_INTERRUPTS();
			old = MemoryContextSwitchTo(lead_context);
			dat = ecgdl_read_signal_file(directory, record, spec, &dat_len);
			if (wfdb_signal_decode(h, s, (const uint8_t *) dat, dat_len, &adc, &n, &st) != 0)
				ecgdl_report_status(&st, ERRCODE_INVALID_BINARY_REPRESENTATION, NULL);
			pfree(dat);
			if (beats_physical_units(adc, n, spec, &phys, &st) != 0)
				ecgdl_report_status(&st, ERRCODE_DATA_CORRUPTED,
									psprintf("record \"%s\", lead \"%s\"", record, lead));
			ecg_free(adc);
			if (n == 0)
				ereport(NOTICE,
						(errmsg("record %s, lead %s has no samples", record, lead)));
			rows += write_lead(insert, record, lead, fs, phys, n, (int64) Max(chunk, 1.0));
			MemoryContextSwitchTo(old);
			MemoryContextReset(lead_context);
		}
	}
	SPI_freeplan(insert);
	SPI_finish();
	MemoryContextDelete(lead_context);
	PG_RETURN_INT64(rows);
}
