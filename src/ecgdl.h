/*
 * ecgdl.h - shared declarations of the PostgreSQL glue layer.
 *
 * The glue maps SQL calls onto the pure C core (src/core): it reads files and
 * tables, converts arrays, reports core failures with ereport and writes
 * result tables.  Nothing numeric lives here.
 */
#ifndef ECGDL_H
#define ECGDL_H

#include "postgres.h"

/* InitMaterializedSRF, MarkGUCPrefixReserved and the snapshot's completion
 * count need PostgreSQL 15; fields that later releases move are read under
 * PG_VERSION_NUM guards where they are used (MyProc->lxid: classify.c). */
#if PG_VERSION_NUM < 150000
#error "ecgdl needs PostgreSQL 15 or later"
#endif

#include "access/tupdesc.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "executor/tuptable.h"
#include "nodes/primnodes.h"
#include "storage/itemptr.h"
#include "utils/array.h"

#include "ecg_core.h"

#define ECGDL_N_CLASSES 5
#define BEAT_SIGNAL_LENGTH 187
/* longest model name in bytes (the per-backend model cache keys on it) */
#define ECGDL_MODEL_NAME_MAX 255

/* GUCs (ecgdl.c) */
extern int	ecgdl_max_memory_mb;
extern int	ecgdl_threads;
extern int	ecgdl_max_oversample_rows;

/* classify.c ------------------------------------------------------------ */

struct nn_model;
struct nn_input;

/*
 * The stored model named by argument 0 (cached per backend, as the current
 * snapshot sees it: 22004, 42622, 42704, ...) and the beat of argument 1 as
 * the classify functions read it: a signal real[] of 187 samples or the
 * model's input length, or - when argument 1 is a composite - a beat row's
 * signal and, for a model with R-R features, its rr_* columns (imputed).  A
 * model with R-R features refuses a bare signal (22023) with a hint naming
 * row_forms.  in->values and in->features point into the cache, valid until
 * the next call; *name is the model's name.
 */
struct nn_model *ecgdl_model_and_beat(FunctionCallInfo fcinfo, const char *row_forms,
									  struct nn_input *in, const char **name);

/* pg_util.c ------------------------------------------------------------- */

/* ereport(ERROR) for a failed core status; format_errcode is used for
 * ECG_ERR_FORMAT (the fitting SQLSTATE depends on what was parsed). */
pg_attribute_noreturn()
void		ecgdl_report_status(const ecg_status *st, int format_errcode, const char *context);

/* Errors (22004) when one of the first n arguments is NULL. */
void		ecgdl_require_args(FunctionCallInfo fcinfo, int n, const char *fname);

/* Errors (42809) unless relid is a table, view, materialized view or
 * foreign table; `role` names it ("test table"). */
void		ecgdl_check_table_or_view(Oid relid, const char *role);

/* Refuses unless the user may read server files (superuser or
 * pg_read_server_files), as COPY FROM a file does. */
void		ecgdl_check_read_server_files(const char *what);

/* Reads a whole server file into palloc'd memory; missing_ok returns NULL
 * when the file does not exist. */
char	   *ecgdl_read_server_file(const char *path, size_t *len_out, bool missing_ok);

/* Parses a possibly schema-qualified table name and errors out when a
 * relation of that name already exists. */
RangeVar   *ecgdl_new_table_name(const char *target);

/* Quoted, schema-qualified name of a relation. */
char	   *ecgdl_relation_name(Oid relid);

/* Refuses (42809) a column of relid among names (NULL: every column) whose
 * type is not built in: its owner's casts would run with the caller's rights. */
void		ecgdl_require_builtin_column_types(Oid relid, const char *role,
											   const char *const *names, int n);

/* Runs a read-only query through a cursor and hands its rows to fn in blocks
 * of block_rows, in a memory context reset after each block (allocate
 * anything that must outlive the block in an explicit context); checks for
 * interrupts between blocks. */
typedef void (*ecgdl_block_fn) (SPITupleTable *tuptable, uint64 n, void *arg);
void		ecgdl_scan(const char *sql, int block_rows, ecgdl_block_fn fn, void *arg);

/* Class names N, S, V, F, Q */
const char *ecgdl_class_name(int label);

/* import.c ------------------------------------------------------------ */

struct wfdb_header;
struct wfdb_signal_spec;

/* directory + "/" + name */
char	   *ecgdl_join_path(const char *directory, const char *name);
/* Record names from a text[] argument (NULL: the directory's RECORDS file). */
List	   *ecgdl_record_names(const char *directory, ArrayType *records_arg);
/* Reads and parses <directory>/<name>.hea; errors name the record. */
void		ecgdl_read_wfdb_header(const char *directory, const char *name,
								   struct wfdb_header *out);
/* Errors (22023) unless `lead` is a valid lead preference (lead_choice.h). */
void		ecgdl_check_lead_preference(const char *lead);
/* The signal of a header the lead preference picks, or -1 when none. */
int			ecgdl_wfdb_choose_lead(const struct wfdb_header *h, const char *lead);
/* The bytes of a lead's signal file, after checking its name is plain. */
char	   *ecgdl_read_signal_file(const char *directory, const char *record,
								   const struct wfdb_signal_spec *spec, size_t *len);

/* signal_reader.c ------------------------------------------------------ */

/* One lead of one record in a signal table. */
typedef struct SignalStream
{
	char	   *record;
	char	   *lead;
} SignalStream;

/* What a reader of a signal table does with each stream: begin (its rate,
 * before the first chunk), chunk (every chunk in order; x points into memory
 * freed after a few chunks; the consumer's own allocations must be made in
 * an explicit context), end (rate and length of the whole stream). */
typedef struct SignalConsumer
{
	void		(*begin) (const SignalStream *s, double fs, void *arg);
	void		(*chunk) (const SignalStream *s, int64 start, const float *x, int64 n, void *arg);
	void		(*end) (const SignalStream *s, double fs, int64 n_samples, void *arg);
	void	   *arg;
} SignalConsumer;

/* Errors unless relid has the columns of a signal table. */
void		signal_table_check_layout(Oid relid, const char *role);
/* Every (record, lead) of a signal table, ordered by record and lead (C
 * collation); errors on NULL names and on an empty table. */
List	   *signal_table_streams(Oid relid, const char *role);
/* One stream per record: its best-ranked lead by the preference `lead`
 * ('auto' or a list of names, lead_choice.h), else its first lead by name
 * (with a NOTICE naming the lead taken). */
List	   *signal_streams_pick_lead(List *streams, const char *lead);
/* Streams every chunk of the given streams in start_sample order, checking
 * continuity (errors name role, record, lead and sample). */
void		signal_read_streams(Oid relid, const char *role, List *streams,
								const SignalConsumer *consumer);

/* Two leads of each record read together: firsts[i] and seconds[i] (same
 * record) chunk by chunk; they must have the same rate and the same chunks
 * (start_sample and length), else 22000 naming the record and both leads. */
typedef struct SignalPairConsumer
{
	void		(*begin) (const SignalStream *a, const SignalStream *b, double fs, void *arg);
	void		(*chunk) (const SignalStream *a, const SignalStream *b, int64 start,
						  const float *x_a, const float *x_b, int64 n, void *arg);
	void		(*end) (const SignalStream *a, const SignalStream *b, double fs,
						int64 n_samples, void *arg);
	void	   *arg;
} SignalPairConsumer;

void		signal_read_stream_pairs(Oid relid, const char *role, List *firsts, List *seconds,
									 const SignalPairConsumer *consumer);

/* annotation_table.c --------------------------------------------------- */

typedef struct AnnotationWriter AnnotationWriter;

/* Creates `target` (id, record, sample, symbol, subtype, label, fs) and opens
 * it for bulk insertion; ids are 1, 2, ... in order of addition.  symbol
 * NULL, subtype < 0 and label < 0 are stored as NULL.  The primary key is
 * added by annotation_table_finish, which returns the rows written. */
AnnotationWriter *annotation_table_create(const char *target);
void		annotation_table_add(AnnotationWriter *w, const char *record, int64 sample,
								 const char *symbol, int subtype, int label, double fs);
int64		annotation_table_finish(AnnotationWriter *w);

/* The annotations of one record as a scan hands them over (in sample order):
 * ann[i].sample, .symbol ("" with has_symbol[i] false for NULL) and
 * .subtype; labels[i] (-1 for NULL); fs (0 when the table has none). */
typedef struct AnnotationRecord
{
	char	   *record;
	double		fs;
	int64		n;
	struct wfdb_annotation *ann;
	int		   *labels;
	bool	   *has_symbol;
} AnnotationRecord;

typedef void (*annotation_record_fn) (const AnnotationRecord *rec, void *arg);

/* The query that reads an annotation table for annotation_scan (columns
 * record, sample, symbol, subtype, label, fs; missing optional ones NULL),
 * after checking its layout (fs required when need_fs). */
char	   *annotation_table_query(Oid relid, const char *role, bool need_fs);
/* Runs such a query (ordered by record, then sample) and calls fn once per
 * record with all its rows (beats_only: only rows whose symbol is NULL or a
 * beat symbol); the rows are freed after the call.  Errors name `role`. */
void		annotation_scan(const char *sql, const char *role, bool beats_only,
							annotation_record_fn fn, void *arg);

/* bulk_table.c ---------------------------------------------------------- */

typedef struct BulkTable BulkTable;

/* Creates `target` with the given column list and opens it for bulk
 * insertion; bulk_table_finish adds the primary key (id) and returns the
 * rows written.  A row: bulk_table_next_slot (all NULL), fill its values
 * (allocations in bulk_table_batch_context, reset after every batch),
 * bulk_table_store. */
BulkTable  *bulk_table_create(const char *target, const char *columns);
MemoryContext bulk_table_batch_context(BulkTable *t);
Oid			bulk_table_relid(BulkTable *t);
TupleTableSlot *bulk_table_next_slot(BulkTable *t);
void		bulk_table_store(BulkTable *t, TupleTableSlot *slot);
/* Inserts the rows stored so far. */
void		bulk_table_flush(BulkTable *t);
int64		bulk_table_finish(BulkTable *t);

/* Per-record data kept from a scan: structs whose first member is the
 * record name, in a List; record_list_find returns the one of `record` or
 * NULL, and each item's `used` says whether a lookup found it. */
typedef struct RecordItem
{
	char	   *record;
	bool		used;
} RecordItem;

void	   *record_list_find(List *items, const char *record);

/* beat_table.c ---------------------------------------------------------- */

typedef struct BeatTableWriter BeatTableWriter;

/* Extra columns after the beat layout (for oversampled tables). */
typedef enum BeatTableKind
{
	BEAT_TABLE_PLAIN,
	BEAT_TABLE_OVERSAMPLED,
	BEAT_TABLE_SIGNALS			/* label may be NULL (label < 0), plus fs float8 */
} BeatTableKind;

/* Creates `target` with the beat layout (id, record, sample, symbol,
 * label, signal[, synthetic, base_id, partner_id, step, method][, fs], then,
 * with_rr, the eight R-R feature columns rr_pre ... rr_post_record of
 * rr_features.h, real) and opens it for bulk insertion.  The primary key is
 * added by beat_table_finish. */
BeatTableWriter *beat_table_create(const char *target, BeatTableKind kind, bool with_rr);
/* rr: RR_FEATURES values (NAN = NULL), or NULL for all NULL; ignored
 * without the R-R columns. */
void		beat_table_add(BeatTableWriter *w, int64 id, const char *record, int64 sample,
						   const char *symbol, int label, const float *signal, int n_samples,
						   const float *rr);
/* For oversampled tables: provenance of the row (base_id < 0 = original). */
void		beat_table_add_synthetic(BeatTableWriter *w, int64 id, int label, const float *signal,
									 int n_samples, int64 base_id, int64 partner_id, float step,
									 const char *method, const float *rr);
int64		beat_table_finish(BeatTableWriter *w);
/* BEAT_TABLE_SIGNALS: the sampling rate stored with the rows added next. */
void		beat_table_set_fs(BeatTableWriter *w, double fs);
Oid			beat_table_relid(BeatTableWriter *w);

/* Checks that relid has the beat layout (id bigint, label smallint,
 * signal real[]; record/sample/symbol optional); errors otherwise. */
void		beat_table_check_layout(Oid relid, const char *role);

/* Checks the optional columns a beat table may have (record text, sample
 * bigint, symbol text, the oversampling provenance synthetic boolean,
 * base_id bigint, partner_id bigint, step real, method text, and the R-R
 * features, real, all eight or none): each is absent or of exactly that
 * type; errors otherwise. */
void		beat_table_check_optional_columns(Oid relid, const char *role);

/* Whether relid has the eight R-R feature columns (rr_features.h); errors
 * (naming `role`) when it has only some of them, or one of another type
 * than real. */
bool		beat_table_has_rr(Oid relid, const char *role);

/* The R-R features of relid's n rows in id order (as beat_rows_load reads
 * them): n * RR_FEATURES floats, NAN for NULL, palloc'ed.  The table must
 * have the columns (beat_table_has_rr). */
float	   *beat_table_load_rr(Oid relid, int64 n, const char *role);

/* BEAT_TABLE_OVERSAMPLED when relid has a "synthetic" column. */
BeatTableKind beat_table_kind_of(Oid relid);
/* Whether relid has fs float8: a table cut from signals (ecg_beats_from_signals,
 * BEAT_TABLE_SIGNALS), whose labels may be NULL. */
bool		beat_table_has_fs(Oid relid);

/* The columns of ecgdl's beat tables of a kind, in their order, comma
 * separated ("id, record, sample, symbol, label, signal[, synthetic, ...]
 * [, rr_pre, ...]"); fs of BEAT_TABLE_SIGNALS is not among them. */
char	   *beat_table_column_list(BeatTableKind kind, bool with_rr);

/* The same columns read from `source` (each qualified with `alias`, "" or
 * "s."): a column the source lacks is NULL of its type.  Checks the source's
 * layout, required and optional columns, first. */
char	   *beat_table_select_list(Oid source, BeatTableKind kind, bool with_rr, const char *alias);

/* Reads the beat columns of a scanned row: id at column `col`, label at
 * col + 1 (read when label != NULL) and signal at col + 2 (read when signal
 * != NULL); errors name the row and `role`. */
void		beat_row_read(HeapTuple tuple, TupleDesc desc, int col, const char *role, int64 *id,
						  int *label, float *signal);

/* Float samples of a real[] datum, checking length, NULLs and finiteness.
 * `what` names the row for error messages. */
void		ecgdl_array_to_floats(ArrayType *arr, float *out, int expected_len, const char *what);

#endif

/* The rows of a beat table in id order, as the core wants them. */
typedef struct BeatRows
{
	int64		n;
	int			signal_length;
	int64	   *ids;
	int		   *labels;
	float	   *signals;		/* n * signal_length, row-major; NULL if not loaded */
	char	  **records;		/* NULL unless asked for */
} BeatRows;

/* Loads every row of a beat table ordered by id.  Errors on NULLs, labels
 * outside 0..4, wrong signal lengths, NaN/Inf samples, and an empty table. */
BeatRows   *beat_rows_load(Oid relid, const char *role, bool with_signals, bool with_records);
/* The same, where a NULL label is allowed (labels[i] = -1): for what does
 * not read labels, such as the record medians of beats cut at detections. */
BeatRows   *beat_rows_load_unlabelled(Oid relid, const char *role, bool with_signals,
									  bool with_records);

/* Errors (23505) when two loaded rows share an id, before any table is
 * written. */
void		beat_rows_check_unique_ids(const BeatRows *rows);

/* real[] from floats */
ArrayType  *ecgdl_floats_to_array(const float *values, int n);

/* train.c -------------------------------------------------------------- */

/* Errors as ecg_train would on its arguments (fcinfo: ecg_train's), before
 * any row is read: what ecg_train_async checks before it queues a job, and
 * ecg_cross_validate before its first fold.  train_role and val_role name the
 * two tables in the errors ("training table", "validation table"). */
void		train_check_call(FunctionCallInfo fcinfo, const char *train_role,
							 const char *val_role);
/* Checks what ecg_train checks of its arguments before any work (the
 * architecture, epochs, batch size, learning rate, patience, class weights
 * and validation fraction); errors as ecg_train would. */
void		train_check_arguments(const char *arch, int32 epochs, int32 batch_size,
								  double learning_rate, int32 patience, int32 seed,
								  const char *class_weight, double validation_fraction);

/* model_store.c -------------------------------------------------------- */

/* A row of ecgdl.models as the glue writes it (JSON fields as text). */
typedef struct ModelRecord
{
	const char *architecture;
	const char *hyperparameters;	/* JSON object */
	const char *training_table;		/* NULL if none */
	const char *class_counts;		/* JSON object or NULL */
	const char *oversampling;		/* NULL if unknown */
	const char *history;			/* JSON array or NULL */
	int			best_epoch;			/* <= 0: NULL */
	int			epochs_run;			/* <= 0: NULL */
	double		training_seconds;	/* < 0: NULL */
	bytea	   *weights;
} ModelRecord;

/* An ecg_evaluate() run as ecgdl.evaluations stores it (JSON as text). */
typedef struct EvaluationRecord
{
	int64		model_id;
	const char *model_name;
	const char *test_table;
	int64		rows;
	double		accuracy;
	double		macro_f1;
	const char *per_class;		/* JSON object */
	const char *confusion;		/* bigint[] literal */
} EvaluationRecord;

/* The version of a model row: a replacement writes a new row version (a new
 * ctid, and a new xmin unless in the same transaction). */
typedef struct ModelVersion
{
	int64		id;
	TransactionId xmin;
	ItemPointerData ctid;
} ModelVersion;

/* Runs one statement through SPI (connected) as the owner of table relid,
 * security-restricted, search_path pg_catalog; returns SPI's result code.
 * For ecgdl's own tables, which PUBLIC may not write directly. */
int			execute_as_table_owner(Oid relid, const char *sql, int nargs, Oid *argtypes,
								   Datum *args, const char *nulls);

/* Errors out when `name` exists and replace is false, or when it belongs to
 * a role the user is not a member of.  Called before long work. */
void		model_store_check_name(const char *name, bool replace);
/* Inserts or (replace) updates the model row, owned by the user; returns its
 * id.  Checks again, atomically, what model_store_check_name checked. */
int64		model_store_save(const char *name, bool replace, const ModelRecord *rec);
/* Stores an evaluation, owned by the user, of a model the user can read. */
void		model_store_save_evaluation(const EvaluationRecord *rec);
/* The same with the per-record confusion matrices (per_record: a JSON object
 * record -> 5 x 5 array, into the per_record column of 0.2.0; NULL: none). */
void		model_store_save_evaluation_records(const EvaluationRecord *rec, const char *per_record);
/* id and row version of a model; false when there is none. */
bool		model_store_version(const char *name, ModelVersion *version);
/* The weights blob of a model (copied into the current context) and its row
 * version (when version is not NULL); errors when there is no such model. */
bytea	   *model_store_load(const char *name, ModelVersion *version);
/* The model of a stored blob, decoded and checked against ecgdl.max_memory;
 * errors XX001 naming the model when the blob is not a valid model. */
struct nn_model *model_store_decode(const char *name, bytea *blob);
/* Name of a stored model whose blob has this SHA-256, or NULL. */
char	   *model_store_name_by_sha256(bytea *sha256);

/* model_check.c -------------------------------------------------------- */

struct nn_model;

/* Errors out (54000, the bytes needed and the limit in the detail) when
 * running `model` would exceed ecgdl.max_memory. */
void		ecgdl_check_model_memory(const struct nn_model *model, const char *name);

/* Class map "N=1, S=10" / {"S": 10} into values[5] (unnamed classes keep
 * their value); errors with `what` in the message on bad text. */
void		ecgdl_parse_class_map(const char *text, double *values, const char *what);

/* plots.c --------------------------------------------------------------- */

struct svg_buf;

/* The finished SVG of a core chart (svg.h) as text; frees the core's buffer
 * and errors (53200) when it failed to grow. */
text	   *plot_svg_text(struct svg_buf *b);

/* rr_columns.c ----------------------------------------------------------- */

/* Errors (42703, naming it) when relid lacks one of the eight R-R columns,
 * or a window column (0.4.0) the model reads. */
void		rr_columns_check(Oid relid, const char *role, const struct nn_model *model);

/* ", rr_pre::pg_catalog.float4, ..., rr_post_window::pg_catalog.float4",
 * NULL in place of the window columns a table made before 0.4.0 lacks */
char	   *rr_columns_select_list(Oid relid);

/* One row's R-R features f[RR_FEATURES] (NaN = NULL) imputed, the model's
 * in its order into out; errors (22004) naming the column and the row (id of
 * role; role NULL: the beat row) when one cannot be imputed or a window column
 * the model reads is NULL. */
void		rr_features_for_model(float *f, const struct nn_model *model, int64 id,
								  const char *role, float *out);

/* The R-R columns at col .. col + RR_FEATURES - 1 of a scanned row
 * (rr_columns_select_list), through rr_features_for_model into out. */
void		rr_columns_read(HeapTuple tuple, TupleDesc desc, int col, const struct nn_model *model,
							int64 id, const char *role, float *out);

/* "operating_point": ..., "class_offsets": {...}, "features": [...] of a
 * model's hyperparameters JSON, appended to buf; train.c. */
void		append_operating_point_json(StringInfo buf, const struct nn_model *model);

/* The blob of model with metadata as a bytea, refusing (54000) one too large
 * to store; train.c. */
bytea	   *model_blob_bytea(const struct nn_model *model, const char *metadata, const char *name);

/* Sets model's operating point (nn_decision.h): PRIOR from train_rows'
 * class counts, VALIDATION from its probabilities on val_rows (with
 * val_features when it takes features); train.c. */
void		choose_operating_point(struct nn_model *model, int mode, const BeatRows *train_rows,
								   const BeatRows *val_rows, const float *val_features);

/* The model's features of every row of rows (loaded from relid in id
 * order), palloc'd [rows->n][n_features]. */
float	   *rr_columns_load(Oid relid, const char *role, const BeatRows *rows,
							const struct nn_model *model);
