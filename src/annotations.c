/*
 * annotations.c - ecg_import_annotations: the reference annotation files of
 * WFDB records (MIT format, .atr) into a new annotation table
 * (annotation_table.c), every annotation of each file in file order.
 *
 * label is the AAMI class of the symbol (aami.h: N L R e j, A a J S, V E, F,
 * / f Q), NULL for every other annotation - beats outside the five classes
 * (B r n ?) and non-beats alike; fs is the record's sampling rate from its
 * header.  Non-beat annotations are kept because the EC57/bxb comparison
 * reads them (ventricular flutter episodes '[' ... ']', signal shutdowns '~').
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "aami.h"
#include "ecgdl.h"
#include "wfdb.h"

PG_FUNCTION_INFO_V1(ecg_import_annotations);

Datum
ecg_import_annotations(PG_FUNCTION_ARGS)
{
	char	   *directory,
			   *target;
	List	   *names;
	wfdb_header *headers;
	ListCell   *lc;
	AnnotationWriter *writer;
	int64		rows;
	MemoryContext record_context,
				old;

	ecgdl_require_args(fcinfo, 2, "ecg_import_annotations");
	directory = text_to_cstring(PG_GETARG_TEXT_PP(0));
	target = text_to_cstring(PG_GETARG_TEXT_PP(1));
	ecgdl_check_read_server_files("read WFDB annotation files");
	ecgdl_new_table_name(target);
	names = ecgdl_record_names(directory, PG_ARGISNULL(2) ? NULL : PG_GETARG_ARRAYTYPE_P(2));

	/* headers (for the sampling rate) first: a missing record fails early */
	headers = palloc0(sizeof(wfdb_header) * list_length(names));
	foreach(lc, names)
		ecgdl_read_wfdb_header(directory, lfirst(lc), &headers[foreach_current_index(lc)]);

	writer = annotation_table_create(target);
	record_context = AllocSetContextCreate(CurrentMemoryContext, "ecgdl annotation file",
										   ALLOCSET_DEFAULT_SIZES);
	foreach(lc, names)
	{
		const char *record = lfirst(lc);
		double		fs = headers[foreach_current_index(lc)].sampling_frequency;
		char	   *path;
		char	   *buf;
		size_t		len,
					n;
		wfdb_annotation *ann;
		ecg_status	st;

		CHECK_FOR_INTERRUPTS();
		old = MemoryContextSwitchTo(record_context);
		path = ecgdl_join_path(directory, psprintf("%s.atr", record));
		buf = ecgdl_read_server_file(path, &len, true);
		if (buf == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_FILE),
					 errmsg("record \"%s\" has no annotation file", record),
					 errdetail("File \"%s\" does not exist.", path)));
		if (wfdb_annotations_parse((const uint8_t *) buf, len, &ann, &n, &st) != 0)
			ecgdl_report_status(&st, ERRCODE_INVALID_BINARY_REPRESENTATION,
								psprintf("annotations of record \"%s\"", record));
		MemoryContextSwitchTo(old);
		for (size_t i = 0; i < n; i++)
			annotation_table_add(writer, record, ann[i].sample, ann[i].symbol,
								 ann[i].subtype, aami_class_of_symbol(ann[i].symbol), fs);
		MemoryContextReset(record_context);
	}
	rows = annotation_table_finish(writer);
	MemoryContextDelete(record_context);
	PG_RETURN_INT64(rows);
}
