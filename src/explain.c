/*
 * explain.c - why a stored model gives a beat its class:
 * ecg_explain / ecg_explain_beat (per-sample attributions, real[]) and
 * ecg_explain_details / ecg_explain_beat_details (the class explained, its
 * score at the beat and at the baseline, and the attributions).
 *
 * The numerics are the core's (nn_explain.h): integrated gradients of the
 * predicted class's logit from the beat flattened to its median,
 * NN_EXPLAIN_STEPS midpoint steps run as one batch.  The model and the beat are read exactly as the
 * classify functions read them (ecgdl_model_and_beat): the same cache, the
 * same checks and errors, a beat row with its rr_* columns for a model with
 * R-R features (which are held fixed; only the samples are attributed).
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "funcapi.h"
#include "utils/array.h"

#include "ecgdl.h"
#include "nn_explain.h"
#include "nn_model.h"

PG_FUNCTION_INFO_V1(ecg_explain);
PG_FUNCTION_INFO_V1(ecg_explain_details);

/* What the R-R hint of the explain functions names. */
#define EXPLAIN_ROW_FORMS "ecg_explain_beat(model, t) or ecg_explain_beat_details(model, t)"

/* Explains the beat of the call's arguments; attributions has room for the
 * model's input length.  Returns the number of samples. */
static int
explain_argument(FunctionCallInfo fcinfo, float *attributions, nn_explanation *ex)
{
	nn_input	in;
	const char *name;
	ecg_status	st;
	nn_model   *model = ecgdl_model_and_beat(fcinfo, EXPLAIN_ROW_FORMS, &in, &name);

	(void) name;				/* the core's messages name the model's architecture */

	if (nn_explain_integrated_gradients(model, &in, NULL, NN_EXPLAIN_STEPS, -1, attributions, ex,
										NULL, &st) != 0)
		ecgdl_report_status(&st, ERRCODE_DATA_EXCEPTION, NULL);
	return (int) in.length;
}

/* ecg_explain(model, signal) / ecg_explain_beat(model, beat) -> real[] */
Datum
ecg_explain(PG_FUNCTION_ARGS)
{
	float		attributions[NN_INPUT_LENGTH];
	nn_explanation ex;
	int			n = explain_argument(fcinfo, attributions, &ex);

	PG_RETURN_ARRAYTYPE_P(ecgdl_floats_to_array(attributions, n));
}

/*
 * ecg_explain_details(model, signal) / ecg_explain_beat_details(model, beat)
 * -> (class smallint, score real, baseline_score real, attributions real[])
 */
Datum
ecg_explain_details(PG_FUNCTION_ARGS)
{
	float		attributions[NN_INPUT_LENGTH];
	nn_explanation ex;
	TupleDesc	desc;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};
	int			n;

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "ecg_explain_details must return a composite type");
	n = explain_argument(fcinfo, attributions, &ex);
	values[0] = Int16GetDatum((int16) ex.target);
	values[1] = Float4GetDatum(ex.score);
	values[2] = Float4GetDatum(ex.baseline_score);
	values[3] = PointerGetDatum(ecgdl_floats_to_array(attributions, n));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls)));
}
