/*
 * beat_table.c - creating, bulk-writing, checking and loading beat tables.
 *
 * A beat table has one row per heartbeat:
 *   id bigint primary key, record text, sample bigint, symbol text,
 *   label smallint (0..4 = N, S, V, F, Q), signal real[] (187 samples in [0,1])
 * and oversampled tables add synthetic, base_id, partner_id, step, method;
 * tables cut from signals (ecg_beats_from_signals) allow a NULL label and
 * add fs.
 *
 * Writing goes through bulk_table.c (table_multi_insert in batches, as COPY
 * does; the primary key built once at the end), inside the caller's
 * transaction, so an error or a cancel leaves no table behind.
 *
 * Every table ecgdl makes is created here, from ecgdl's own column list -
 * never like a source table: a source's index expressions, constraints,
 * defaults, generated columns or triggers are its owner's code, and copying
 * them would run that code with the rights of whoever writes the new table
 * (a superuser splitting another role's table, say).  Rows taken from a
 * source are read with a plain SELECT of columns whose types were checked to
 * be exactly the built-in ones, so no cast or operator of the source's owner
 * runs either.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "ecgdl.h"
#include "rr_features.h"

struct BeatTableWriter
{
	BeatTableKind kind;
	bool		with_rr;		/* the R-R feature columns, last */
	int			rr_first;		/* their first slot index */
	BulkTable  *table;
	double		fs;				/* BEAT_TABLE_SIGNALS: the current record's rate */
};

ArrayType *
ecgdl_floats_to_array(const float *values, int n)
{
	Size		nbytes = ARR_OVERHEAD_NONULLS(1) + sizeof(float4) * (Size) n;
	ArrayType  *arr = (ArrayType *) palloc0(nbytes);

	SET_VARSIZE(arr, nbytes);
	arr->ndim = 1;
	arr->dataoffset = 0;
	arr->elemtype = FLOAT4OID;
	ARR_DIMS(arr)[0] = n;
	ARR_LBOUND(arr)[0] = 1;
	memcpy(ARR_DATA_PTR(arr), values, sizeof(float4) * (Size) n);
	return arr;
}

BeatTableWriter *
beat_table_create(const char *target, BeatTableKind kind, bool with_rr)
{
	BeatTableWriter *w = palloc0(sizeof(BeatTableWriter));
	StringInfoData columns;

	w->kind = kind;
	w->with_rr = with_rr;
	/* the columns of beat_columns (below), in its order; fs after them for
	 * signals; the R-R features last */
	initStringInfo(&columns);
	appendStringInfo(&columns,
					 "id pg_catalog.int8 NOT NULL, "
					 "record pg_catalog.text, "
					 "sample pg_catalog.int8, "
					 "symbol pg_catalog.text, "
					 "label pg_catalog.int2 %sCHECK (label OPERATOR(pg_catalog.>=) 0 "
					 "AND label OPERATOR(pg_catalog.<=) 4), "
					 "signal pg_catalog.float4[] NOT NULL",
					 kind == BEAT_TABLE_SIGNALS ? "" : "NOT NULL ");
	w->rr_first = 6;
	if (kind == BEAT_TABLE_OVERSAMPLED)
	{
		appendStringInfoString(&columns,
							   ", synthetic pg_catalog.bool NOT NULL, base_id pg_catalog.int8, "
							   "partner_id pg_catalog.int8, step pg_catalog.float4, method pg_catalog.text");
		w->rr_first += 5;
	}
	else if (kind == BEAT_TABLE_SIGNALS)
	{
		appendStringInfoString(&columns, ", fs pg_catalog.float8 NOT NULL");
		w->rr_first += 1;
	}
	if (with_rr)
		for (int k = 0; k < RR_FEATURES; k++)
			appendStringInfo(&columns, ", %s pg_catalog.float4", rr_feature_names[k]);
	w->table = bulk_table_create(target, columns.data);
	return w;
}

/* The R-R features of a row (rr NULL, or NAN values: SQL NULL). */
static void
set_rr(BeatTableWriter *w, TupleTableSlot *slot, const float *rr)
{
	if (!w->with_rr || rr == NULL)
		return;
	for (int k = 0; k < RR_FEATURES; k++)
		if (!isnan(rr[k]))
		{
			slot->tts_values[w->rr_first + k] = Float4GetDatum(rr[k]);
			slot->tts_isnull[w->rr_first + k] = false;
		}
}

static void
set_common(TupleTableSlot *slot, int64 id, int label, const float *signal, int n_samples)
{
	slot->tts_values[0] = Int64GetDatum(id);
	slot->tts_isnull[0] = false;
	slot->tts_values[4] = Int16GetDatum((int16) label);
	slot->tts_isnull[4] = label < 0;	/* unlabelled (BEAT_TABLE_SIGNALS only) */
	slot->tts_values[5] = PointerGetDatum(ecgdl_floats_to_array(signal, n_samples));
	slot->tts_isnull[5] = false;
}

void
beat_table_add(BeatTableWriter *w, int64 id, const char *record, int64 sample,
			   const char *symbol, int label, const float *signal, int n_samples,
			   const float *rr)
{
	MemoryContext old = MemoryContextSwitchTo(bulk_table_batch_context(w->table));
	TupleTableSlot *slot = bulk_table_next_slot(w->table);

	set_common(slot, id, label, signal, n_samples);
	if (record)
	{
		slot->tts_values[1] = CStringGetTextDatum(record);
		slot->tts_isnull[1] = false;
	}
	if (sample >= 0)
	{
		slot->tts_values[2] = Int64GetDatum(sample);
		slot->tts_isnull[2] = false;
	}
	if (symbol)
	{
		slot->tts_values[3] = CStringGetTextDatum(symbol);
		slot->tts_isnull[3] = false;
	}
	if (w->kind == BEAT_TABLE_OVERSAMPLED)
	{
		slot->tts_values[6] = BoolGetDatum(false);
		slot->tts_isnull[6] = false;
	}
	else if (w->kind == BEAT_TABLE_SIGNALS)
	{
		slot->tts_values[6] = Float8GetDatum(w->fs);
		slot->tts_isnull[6] = false;
	}
	set_rr(w, slot, rr);
	MemoryContextSwitchTo(old);
	bulk_table_store(w->table, slot);
}

void
beat_table_add_synthetic(BeatTableWriter *w, int64 id, int label, const float *signal,
						 int n_samples, int64 base_id, int64 partner_id, float step,
						 const char *method, const float *rr)
{
	MemoryContext old = MemoryContextSwitchTo(bulk_table_batch_context(w->table));
	TupleTableSlot *slot = bulk_table_next_slot(w->table);

	Assert(w->kind == BEAT_TABLE_OVERSAMPLED);
	set_common(slot, id, label, signal, n_samples);
	slot->tts_values[6] = BoolGetDatum(true);
	slot->tts_isnull[6] = false;
	slot->tts_values[7] = Int64GetDatum(base_id);
	slot->tts_isnull[7] = false;
	slot->tts_values[8] = Int64GetDatum(partner_id);
	slot->tts_isnull[8] = false;
	slot->tts_values[9] = Float4GetDatum(step);
	slot->tts_isnull[9] = false;
	slot->tts_values[10] = CStringGetTextDatum(method);
	slot->tts_isnull[10] = false;
	set_rr(w, slot, rr);
	MemoryContextSwitchTo(old);
	bulk_table_store(w->table, slot);
}

void
beat_table_set_fs(BeatTableWriter *w, double fs)
{
	Assert(w->kind == BEAT_TABLE_SIGNALS);
	w->fs = fs;
}

Oid
beat_table_relid(BeatTableWriter *w)
{
	return bulk_table_relid(w->table);
}

int64
beat_table_finish(BeatTableWriter *w)
{
	return bulk_table_finish(w->table);
}

/* Type of a named column, or InvalidOid when absent (or dropped). */
static Oid
column_type(Oid relid, const char *name)
{
	AttrNumber	attnum = get_attnum(relid, name);

	if (attnum == InvalidAttrNumber)
		return InvalidOid;
	return get_atttype(relid, attnum);
}

void
beat_table_check_layout(Oid relid, const char *role)
{
	static const struct
	{
		const char *name;
		Oid			type;
		const char *type_name;
	}			required[] = {
		{"id", INT8OID, "bigint"},
		{"label", INT2OID, "smallint"},
		{"signal", FLOAT4ARRAYOID, "real[]"},
	};

	ecgdl_check_table_or_view(relid, role);
	for (size_t i = 0; i < lengthof(required); i++)
	{
		Oid			type = column_type(relid, required[i].name);

		if (type != required[i].type)
			ereport(ERROR,
					(errcode(ERRCODE_WRONG_OBJECT_TYPE),
					 errmsg("%s \"%s\" does not have the beat table layout", role,
							ecgdl_relation_name(relid)),
					 type == InvalidOid ?
					 errdetail("Column \"%s\" (%s) is missing.", required[i].name, required[i].type_name) :
					 errdetail("Column \"%s\" has type %s, expected %s.", required[i].name,
							   format_type_be(type), required[i].type_name),
					 errhint("A beat table has columns id bigint, label smallint and signal real[]; "
							 "ecg_import_wfdb and ecg_import_csv create such tables.")));
	}
}

/*
 * The columns of ecgdl's beat tables in their order: id, label and signal
 * every beat table has (beat_table_check_layout); the others may be absent
 * from a source.  The provenance columns are those of oversampled tables;
 * the R-R features (rr_features.h) those of tables made from records, and of
 * the tables made from those: all eight or none.
 */
typedef enum ColumnUse
{
	COLUMN_REQUIRED,
	COLUMN_OPTIONAL,
	COLUMN_PROVENANCE,
	COLUMN_RR
} ColumnUse;

static const struct
{
	const char *name;
	Oid			type;
	const char *type_name;		/* in pg_catalog */
	ColumnUse	use;
}			beat_columns[] = {
	{"id", INT8OID, "int8", COLUMN_REQUIRED},
	{"record", TEXTOID, "text", COLUMN_OPTIONAL},
	{"sample", INT8OID, "int8", COLUMN_OPTIONAL},
	{"symbol", TEXTOID, "text", COLUMN_OPTIONAL},
	{"label", INT2OID, "int2", COLUMN_REQUIRED},
	{"signal", FLOAT4ARRAYOID, "float4[]", COLUMN_REQUIRED},
	{"synthetic", BOOLOID, "bool", COLUMN_PROVENANCE},
	{"base_id", INT8OID, "int8", COLUMN_PROVENANCE},
	{"partner_id", INT8OID, "int8", COLUMN_PROVENANCE},
	{"step", FLOAT4OID, "float4", COLUMN_PROVENANCE},
	{"method", TEXTOID, "text", COLUMN_PROVENANCE},
	/* in the order of rr_feature_names */
	{"rr_pre", FLOAT4OID, "float4", COLUMN_RR},
	{"rr_post", FLOAT4OID, "float4", COLUMN_RR},
	{"rr_local", FLOAT4OID, "float4", COLUMN_RR},
	{"rr_record", FLOAT4OID, "float4", COLUMN_RR},
	{"rr_pre_local", FLOAT4OID, "float4", COLUMN_RR},
	{"rr_post_local", FLOAT4OID, "float4", COLUMN_RR},
	{"rr_pre_record", FLOAT4OID, "float4", COLUMN_RR},
	{"rr_post_record", FLOAT4OID, "float4", COLUMN_RR},
	{"rr_window", FLOAT4OID, "float4", COLUMN_RR},
	{"rr_pre_window", FLOAT4OID, "float4", COLUMN_RR},
	{"rr_post_window", FLOAT4OID, "float4", COLUMN_RR},
};

void
beat_table_check_optional_columns(Oid relid, const char *role)
{
	for (size_t i = 0; i < lengthof(beat_columns); i++)
	{
		Oid			type = column_type(relid, beat_columns[i].name);

		if (beat_columns[i].use != COLUMN_REQUIRED && type != InvalidOid &&
			type != beat_columns[i].type)
			ereport(ERROR,
					(errcode(ERRCODE_WRONG_OBJECT_TYPE),
					 errmsg("%s \"%s\" does not have the beat table layout", role,
							ecgdl_relation_name(relid)),
					 errdetail("Column \"%s\" has type %s, expected %s.", beat_columns[i].name,
							   format_type_be(type), format_type_be(beat_columns[i].type)),
					 errhint("Rename or drop the column, or cast it in a view over the table.")));
	}
	(void) beat_table_has_rr(relid, role);
}

bool
beat_table_has_rr(Oid relid, const char *role)
{
	const char *present = NULL,
			   *missing = NULL,
			   *missing_window = NULL;
	int			n_window = 0;

	for (int k = 0; k < RR_FEATURES; k++)
	{
		Oid			type = column_type(relid, rr_feature_names[k]);

		if (type == InvalidOid)
		{
			if (k >= RR_BASIC_FEATURES)
			{
				if (missing_window == NULL)
					missing_window = rr_feature_names[k];
			}
			else if (missing == NULL)
				missing = rr_feature_names[k];
			continue;
		}
		if (type != FLOAT4OID)
			ereport(ERROR,
					(errcode(ERRCODE_WRONG_OBJECT_TYPE),
					 errmsg("%s \"%s\" does not have the beat table layout", role,
							ecgdl_relation_name(relid)),
					 errdetail("Column \"%s\" has type %s, expected real.", rr_feature_names[k],
							   format_type_be(type)),
					 errhint("Rename or drop the column, or cast it in a view over the table.")));
		if (present == NULL)
			present = rr_feature_names[k];
		n_window += k >= RR_BASIC_FEATURES;
	}
	/* the eight alone are a table made before 0.4.0; the three window
	 * columns come with them or not at all */
	if (missing == NULL && missing_window != NULL && n_window > 0)
		missing = missing_window;
	if (present != NULL && missing != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("%s \"%s\" has only some of the R-R feature columns", role,
						ecgdl_relation_name(relid)),
				 errdetail("It has column \"%s\" but not \"%s\".", present, missing),
				 errhint("A beat table has all eleven R-R feature columns (rr_pre ... rr_post_window), the eight of ecgdl 0.2.0 and 0.3.0 (rr_pre ... rr_post_record), or none.")));
	return present != NULL;
}

BeatTableKind
beat_table_kind_of(Oid relid)
{
	return column_type(relid, "synthetic") != InvalidOid ? BEAT_TABLE_OVERSAMPLED : BEAT_TABLE_PLAIN;
}

bool
beat_table_has_fs(Oid relid)
{
	return column_type(relid, "fs") == FLOAT8OID;
}

/* The column list of a kind; with a source, its values read from there. */
static char *
column_list(BeatTableKind kind, bool with_rr, Oid source, const char *alias)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (size_t i = 0; i < lengthof(beat_columns); i++)
	{
		if ((beat_columns[i].use == COLUMN_PROVENANCE && kind != BEAT_TABLE_OVERSAMPLED) ||
			(beat_columns[i].use == COLUMN_RR && !with_rr))
			continue;
		if (i > 0)
			appendStringInfoString(&buf, ", ");
		if (!OidIsValid(source))
			appendStringInfoString(&buf, beat_columns[i].name);
		else if (beat_columns[i].use == COLUMN_REQUIRED ||
				 column_type(source, beat_columns[i].name) != InvalidOid)
			appendStringInfo(&buf, "%s%s", alias, beat_columns[i].name);
		else
			appendStringInfo(&buf, "NULL::pg_catalog.%s", beat_columns[i].type_name);
	}
	return buf.data;
}

char *
beat_table_column_list(BeatTableKind kind, bool with_rr)
{
	return column_list(kind, with_rr, InvalidOid, NULL);
}

char *
beat_table_select_list(Oid source, BeatTableKind kind, bool with_rr, const char *alias)
{
	beat_table_check_layout(source, "source table");
	beat_table_check_optional_columns(source, "source table");
	return column_list(kind, with_rr, source, alias);
}

void
ecgdl_array_to_floats(ArrayType *arr, float *out, int expected_len, const char *what)
{
	int			n;
	const float *data;

	if (ARR_ELEMTYPE(arr) != FLOAT4OID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("signal of %s is not a real[] array", what)));
	if (ARR_NDIM(arr) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("signal of %s must be a one-dimensional array", what),
				 errdetail("It has %d dimensions.", ARR_NDIM(arr))));
	n = ARR_DIMS(arr)[0];
	if (n != expected_len)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("signal of %s has %d samples, expected %d", what, n, expected_len)));
	if (ARR_HASNULL(arr))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("signal of %s contains NULL samples", what)));
	data = (const float *) ARR_DATA_PTR(arr);
	for (int i = 0; i < n; i++)
	{
		if (!isfinite(data[i]))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("signal of %s has a non-finite sample", what),
					 errdetail("Sample %d is %s.", i + 1, isnan(data[i]) ? "NaN" : "infinite")));
		out[i] = data[i];
	}
}

void
beat_row_read(HeapTuple tuple, TupleDesc desc, int col, const char *role, int64 *id,
			  int *label, float *signal)
{
	bool		isnull;
	Datum		d;
	char		what[128];

	d = SPI_getbinval(tuple, desc, col, &isnull);
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s has a row with a NULL id", role)));
	*id = DatumGetInt64(d);
	snprintf(what, sizeof(what), "row id %lld of %s", (long long) *id, role);
	if (label != NULL)
	{
		d = SPI_getbinval(tuple, desc, col + 1, &isnull);
		if (isnull || DatumGetInt16(d) < 0 || DatumGetInt16(d) >= ECGDL_N_CLASSES)
			ereport(ERROR,
					(errcode(isnull ? ERRCODE_NULL_VALUE_NOT_ALLOWED : ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("label of %s is %s", what, isnull ? "NULL" : "out of range"),
					 isnull ? 0 : errdetail("Labels must be 0..4 (N, S, V, F, Q); found %d.",
											DatumGetInt16(d)),
					 isnull ? errhint("This needs labelled beats. Beats cut at detected positions have no "
									  "label: classify them with ecg_classify_table, or cut them at "
									  "reference annotations to evaluate or train.") : 0));
		*label = DatumGetInt16(d);
	}
	if (signal != NULL)
	{
		d = SPI_getbinval(tuple, desc, col + 2, &isnull);
		if (isnull)
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("signal of %s is NULL", what)));
		ecgdl_array_to_floats(DatumGetArrayTypeP(d), signal, BEAT_SIGNAL_LENGTH, what);
	}
}

typedef struct LoadState
{
	BeatRows   *rows;
	int64		capacity;
	bool		with_signals;
	bool		with_records;
	bool		null_labels;	/* a NULL label is read as -1 */
	const char *role;
	MemoryContext context;		/* where rows live */
} LoadState;

static void
load_block(SPITupleTable *tuptable, uint64 n, void *arg)
{
	LoadState  *ls = arg;
	BeatRows   *rows = ls->rows;
	size_t		row_bytes = sizeof(int64) + sizeof(int) +
		(ls->with_signals ? sizeof(float) * BEAT_SIGNAL_LENGTH : 0) +
		(ls->with_records ? sizeof(char *) : 0);
	ecg_status	st;

	/* the rows loaded so far count against ecgdl.max_memory too */
	if (ecg_check_memory((size_t) (rows->n + (int64) n) * row_bytes,
						 psprintf("loading %s", ls->role), &st) != 0)
		ecgdl_report_status(&st, ERRCODE_PROGRAM_LIMIT_EXCEEDED, NULL);
	if (rows->n + (int64) n > ls->capacity)
	{
		MemoryContext old = MemoryContextSwitchTo(ls->context);

		while (rows->n + (int64) n > ls->capacity)
			ls->capacity *= 2;
		rows->ids = repalloc_huge(rows->ids, sizeof(int64) * ls->capacity);
		rows->labels = repalloc_huge(rows->labels, sizeof(int) * ls->capacity);
		if (ls->with_signals)
			rows->signals = repalloc_huge(rows->signals,
										  sizeof(float) * BEAT_SIGNAL_LENGTH * ls->capacity);
		if (ls->with_records)
			rows->records = repalloc_huge(rows->records, sizeof(char *) * ls->capacity);
		MemoryContextSwitchTo(old);
	}
	for (uint64 r = 0; r < n; r++)
	{
		int64		i = rows->n;
		bool		no_label = false;

		if (ls->null_labels)
			(void) SPI_getbinval(tuptable->vals[r], tuptable->tupdesc, 2, &no_label);
		beat_row_read(tuptable->vals[r], tuptable->tupdesc, 1, ls->role, &rows->ids[i],
					  no_label ? NULL : &rows->labels[i],
					  ls->with_signals ? rows->signals + (Size) i * BEAT_SIGNAL_LENGTH : NULL);
		if (no_label)
			rows->labels[i] = -1;
		if (ls->with_records)
		{
			bool		isnull;
			Datum		d = SPI_getbinval(tuptable->vals[r], tuptable->tupdesc, 4, &isnull);

			rows->records[i] = isnull ? NULL :
				MemoryContextStrdup(ls->context, TextDatumGetCString(d));
		}
		rows->n++;
	}
}

static BeatRows *
load_rows(Oid relid, const char *role, bool with_signals, bool with_records, bool null_labels)
{
	BeatRows   *rows = palloc0(sizeof(BeatRows));
	StringInfoData sql;
	LoadState	ls;
	bool		has_record = with_records && column_type(relid, "record") == TEXTOID;

	beat_table_check_layout(relid, role);
	ls.rows = rows;
	ls.capacity = 1024;
	ls.with_signals = with_signals;
	ls.with_records = with_records;
	ls.null_labels = null_labels;
	ls.role = psprintf("%s \"%s\"", role, ecgdl_relation_name(relid));
	ls.context = CurrentMemoryContext;
	rows->signal_length = BEAT_SIGNAL_LENGTH;
	rows->ids = palloc_extended(sizeof(int64) * ls.capacity, MCXT_ALLOC_HUGE);
	rows->labels = palloc_extended(sizeof(int) * ls.capacity, MCXT_ALLOC_HUGE);
	if (with_signals)
		rows->signals = palloc_extended(sizeof(float) * BEAT_SIGNAL_LENGTH * ls.capacity, MCXT_ALLOC_HUGE);
	if (with_records)
		rows->records = palloc_extended(sizeof(char *) * ls.capacity, MCXT_ALLOC_HUGE);

	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT id, label, %s, %s FROM %s ORDER BY id",
					 with_signals ? "signal" : "NULL::pg_catalog.float4[]",
					 has_record ? "record" : "NULL::pg_catalog.text",
					 ecgdl_relation_name(relid));
	ecgdl_scan(sql.data, 5000, load_block, &ls);
	if (rows->n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("%s is empty", ls.role)));
	return rows;
}

BeatRows *
beat_rows_load(Oid relid, const char *role, bool with_signals, bool with_records)
{
	return load_rows(relid, role, with_signals, with_records, false);
}

BeatRows *
beat_rows_load_unlabelled(Oid relid, const char *role, bool with_signals, bool with_records)
{
	return load_rows(relid, role, with_signals, with_records, true);
}

void
beat_rows_check_unique_ids(const BeatRows *rows)
{
	/* rows come ordered by id: a duplicate sits next to its twin */
	for (int64 i = 1; i < rows->n; i++)
		if (rows->ids[i] == rows->ids[i - 1])
			ereport(ERROR,
					(errcode(ERRCODE_UNIQUE_VIOLATION),
					 errmsg("source table has duplicate ids"),
					 errdetail("Id %lld appears more than once.", (long long) rows->ids[i]),
					 errhint("Every row of a beat table needs its own id.")));
}

typedef struct RRLoadState
{
	float	   *rr;
	int64		n,
				expected;
} RRLoadState;

static void
load_rr_block(SPITupleTable *tuptable, uint64 n, void *arg)
{
	RRLoadState *ls = arg;

	for (uint64 r = 0; r < n; r++, ls->n++)
	{
		if (ls->n >= ls->expected)
			continue;			/* counted, reported by the caller */
		for (int k = 0; k < RR_FEATURES; k++)
		{
			bool		isnull;
			Datum		d = SPI_getbinval(tuptable->vals[r], tuptable->tupdesc, k + 2, &isnull);

			ls->rr[ls->n * RR_FEATURES + k] = isnull ? NAN : DatumGetFloat4(d);
		}
	}
}

float *
beat_table_load_rr(Oid relid, int64 n, const char *role)
{
	RRLoadState ls;
	StringInfoData sql;
	ecg_status	st;

	if (ecg_check_memory((size_t) n * RR_FEATURES * sizeof(float),
						 psprintf("loading the R-R features of %s", role), &st) != 0)
		ecgdl_report_status(&st, ERRCODE_PROGRAM_LIMIT_EXCEEDED, NULL);
	ls.rr = palloc_extended(sizeof(float) * RR_FEATURES * (Size) Max(n, 1), MCXT_ALLOC_HUGE);
	ls.n = 0;
	ls.expected = n;
	initStringInfo(&sql);
	/* a placeholder first column (the list starts with a comma), then the
	 * R-R columns, NULL for the window ones of a table made before 0.4.0 */
	appendStringInfo(&sql, "SELECT NULL%s FROM %s ORDER BY id", rr_columns_select_list(relid),
					 ecgdl_relation_name(relid));
	ecgdl_scan(sql.data, 5000, load_rr_block, &ls);
	if (ls.n != n)
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("%s changed while it was read", role),
				 errdetail("It had %lld rows, then %lld.", (long long) n, (long long) ls.n)));
	return ls.rr;
}
