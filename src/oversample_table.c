/*
 * oversample_table.c - ecg_oversample(): a beat table plus generated rows of
 * its minority classes (random duplication, SMOTE or ADASYN) into a new table.
 *
 * The new table keeps every source row unchanged (synthetic = false) and adds
 * the generated rows with fresh ids and their provenance: base_id, partner_id
 * and step, so that signal = base + step * (partner - base) can be recomputed
 * and audited, and method.  A source with R-R features passes them on:
 * random copies take the base row's, SMOTE and ADASYN interpolate them with
 * the signal's step; where the base or the partner has a NULL, the new row
 * takes the base row's value.
 */
#include "postgres.h"

#include <cblas.h>
#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"

#include "ecgdl.h"
#include "knn.h"
#include "oversample.h"
#include "rr_features.h"

PG_FUNCTION_INFO_V1(ecg_oversample);

static oversample_method
parse_method(const char *name)
{
	if (strcmp(name, "random") == 0)
		return OVERSAMPLE_RANDOM;
	if (strcmp(name, "smote") == 0)
		return OVERSAMPLE_SMOTE;
	if (strcmp(name, "adasyn") == 0)
		return OVERSAMPLE_ADASYN;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown oversampling method \"%s\"", name),
			 errhint("Use 'random', 'smote' or 'adasyn'.")));
	pg_unreachable();
}

/*
 * The sampling strategy: 'auto' (returns false), or explicit final counts per
 * class as "S=5000, V=5000" (also "S:5000" and the JSON object
 * {"S": 5000, "V": 5000}); classes not named are left as they are (-1).
 */
static bool
parse_strategy(const char *text, int64 *targets)
{
	double		values[ECGDL_N_CLASSES];

	if (pg_strcasecmp(text, "auto") == 0)
		return false;
	for (int c = 0; c < ECGDL_N_CLASSES; c++)
		values[c] = -1;
	ecgdl_parse_class_map(text, values, "sampling strategy");
	for (int c = 0; c < ECGDL_N_CLASSES; c++)
	{
		if (values[c] != -1 && (values[c] < 0 || values[c] != floor(values[c]) || values[c] > 1e15))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid target %g for class %s in sampling strategy", values[c],
							ecgdl_class_name(c)),
					 errhint("Targets are whole row counts.")));
		targets[c] = (int64) values[c];
	}
	return true;
}

/*
 * The source's rows, unchanged, into the new table (of ecgdl's own
 * definition): a plain SELECT of the beat columns, which were checked to
 * have exactly the built-in types.
 */
static void
copy_source_rows(Oid source, bool with_rr, const char *target_name)
{
	StringInfoData sql;

	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "INSERT INTO %s (%s, synthetic) SELECT %s, false FROM %s ORDER BY id",
					 target_name, beat_table_column_list(BEAT_TABLE_PLAIN, with_rr),
					 beat_table_select_list(source, BEAT_TABLE_PLAIN, with_rr, ""),
					 ecgdl_relation_name(source));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute(sql.data, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not copy the source rows");
	SPI_finish();
}

/*
 * Refuses, before any work, a strategy that would generate more rows than
 * ecgdl.max_oversample_rows (invalid strategies are refused here too, as
 * the oversampler itself would).
 */
static void
check_rows_to_generate(const BeatRows *rows, const oversample_params *params)
{
	int64		counts[ECGDL_N_CLASSES];
	int64		to_generate[ECGDL_N_CLASSES];
	int64		total = 0;
	ecg_status	st;
	StringInfoData per_class;

	if (oversample_count_classes(rows->labels, rows->n, ECGDL_N_CLASSES, counts, &st) != 0 ||
		oversample_plan(counts, ECGDL_N_CLASSES, params->targets, to_generate, &st) != 0)
		ecgdl_report_status(&st, ERRCODE_DATA_EXCEPTION, NULL);
	initStringInfo(&per_class);
	for (int c = 0; c < ECGDL_N_CLASSES; c++)
	{
		total += to_generate[c];
		appendStringInfo(&per_class, "%s%s %lld", c ? ", " : "", ecgdl_class_name(c),
						 (long long) to_generate[c]);
	}
	if (total > ecgdl_max_oversample_rows)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("the sampling strategy would generate %lld rows, more than ecgdl.max_oversample_rows (%d)",
						(long long) total, ecgdl_max_oversample_rows),
				 errdetail("New rows per class: %s; the source table has %lld rows.", per_class.data,
						   (long long) rows->n),
				 errhint("Lower the class targets of the strategy, or have a superuser raise "
						 "ecgdl.max_oversample_rows (ALTER ROLE ... SET sets it per role).")));
}

/*
 * Runs the oversampler with ecgdl.max_memory less the rows already loaded as
 * its limit, so that rows and work areas together fit the setting; the k-NN
 * runs ecgdl.threads workers of its own (ecg_set_thread_count).
 */
static int
run_within_limit(const BeatRows *rows, const oversample_params *params, oversample_result *result,
				 ecg_status *st)
{
	size_t		limit = ecg_memory_limit();
	size_t		loaded = (size_t) rows->n * (sizeof(float) * rows->signal_length +
											 sizeof(int64) + sizeof(int));
	volatile int status = -1;

	if (limit != 0 && loaded >= limit)
		return ecg_check_memory(loaded, "the loaded rows", st);
	if (limit != 0)
		ecg_set_memory_limit(limit - loaded);
	PG_TRY();
	{
		status = oversample_run(rows->signals, rows->labels, rows->n, rows->signal_length, params,
								result, st);
	}
	PG_FINALLY();
	{
		ecg_set_memory_limit(limit);
	}
	PG_END_TRY();
	return status;
}

Datum
ecg_oversample(PG_FUNCTION_ARGS)
{
	Oid			source;
	char	   *target,
			   *method_name,
			   *strategy;
	int32		k,
				seed;
	oversample_params params;
	oversample_result result;
	int64		targets[ECGDL_N_CLASSES];
	BeatRows   *rows;
	BeatTableWriter *writer;
	int64		next_id;
	ecg_status	st;
	StringInfoData counts;
	float	   *signal;
	bool		with_rr;
	float	   *source_rr = NULL;
	float		rr[RR_FEATURES];

	for (int i = 0; i < 6; i++)
		if (PG_ARGISNULL(i))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("ecg_oversample arguments must not be NULL")));
	source = PG_GETARG_OID(0);
	target = text_to_cstring(PG_GETARG_TEXT_PP(1));
	method_name = text_to_cstring(PG_GETARG_TEXT_PP(2));
	k = PG_GETARG_INT32(3);
	seed = PG_GETARG_INT32(4);
	strategy = text_to_cstring(PG_GETARG_TEXT_PP(5));

	oversample_params_init(&params, ECGDL_N_CLASSES);
	params.method = parse_method(method_name);
	if (k < 1 || k > KNN_MAX_K)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("k must be between 1 and %d", KNN_MAX_K),
				 errdetail("The value given was %d.", k)));
	params.k_neighbors = k;
	params.seed = (uint64) (uint32) seed;
	params.targets = parse_strategy(strategy, targets) ? targets : NULL;
	/* rows are interpolated one by one while they are written: no buffer of
	 * all new vectors */
	params.want_vectors = false;
	ecgdl_new_table_name(target);
	beat_table_check_layout(source, "source table");
	beat_table_check_optional_columns(source, "source table");
	with_rr = beat_table_has_rr(source, "source table");

	rows = beat_rows_load(source, "source table", true, false);

	beat_rows_check_unique_ids(rows);
	check_rows_to_generate(rows, &params);

	oversample_result_init(&result);
	if (run_within_limit(rows, &params, &result, &st) != 0)
		ecgdl_report_status(&st, ERRCODE_DATA_EXCEPTION, NULL);

	/* new rows take the ids after the largest one (rows are loaded by id) */
	if (result.n_new > 0 && rows->ids[rows->n - 1] > PG_INT64_MAX - result.n_new)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("no ids left for %lld new rows after the largest id %lld of the source table",
						(long long) result.n_new, (long long) rows->ids[rows->n - 1]),
				 errhint("Generated rows take the ids after the largest id; renumber the source table.")));
	/* the R-R features, when the source has them, interpolated with the
	 * signal's step (a NULL endpoint gives the base row's value) */
	if (with_rr)
		source_rr = beat_table_load_rr(source, rows->n, "source table");
	writer = beat_table_create(target, BEAT_TABLE_OVERSAMPLED, with_rr);
	copy_source_rows(source, with_rr, ecgdl_relation_name(beat_table_relid(writer)));
	next_id = rows->ids[rows->n - 1] + 1;
	signal = palloc(sizeof(float) * rows->signal_length);
	for (int64 i = 0; i < result.n_new; i++)
	{
		const float *base = rows->signals + (Size) result.base[i] * rows->signal_length;
		const float *partner = rows->signals + (Size) result.partner[i] * rows->signal_length;

		oversample_interpolate(base, partner, result.step[i], rows->signal_length, signal);
		if (with_rr)
			oversample_interpolate_nullable(source_rr + (Size) result.base[i] * RR_FEATURES,
											source_rr + (Size) result.partner[i] * RR_FEATURES,
											result.step[i], RR_FEATURES, rr);
		beat_table_add_synthetic(writer, next_id + i, result.label[i], signal, rows->signal_length,
								 rows->ids[result.base[i]], rows->ids[result.partner[i]],
								 result.step[i], method_name, with_rr ? rr : NULL);
	}
	beat_table_finish(writer);

	initStringInfo(&counts);
	for (int c = 0; c < ECGDL_N_CLASSES; c++)
		appendStringInfo(&counts, "%s%s %lld -> %lld", c ? ", " : "", ecgdl_class_name(c),
						 (long long) result.count_before[c], (long long) result.count_after[c]);
	ereport(NOTICE,
			(errmsg("%s generated %lld rows: %s", method_name, (long long) result.n_new, counts.data)));
	PG_RETURN_INT64(result.n_new);
}
