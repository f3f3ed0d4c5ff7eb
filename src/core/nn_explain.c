/*
 * nn_explain.c - integrated gradients and plain input gradients of a class
 * logit (nn_explain.h), on the core's own forward and backward passes.
 */
#include "nn_explain.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/*
 * Runs the n rows of `in` (inference mode, one batch) and returns in
 * grad[n][in->length] the gradient of the logit of class targets[i] with
 * respect to row i's samples; logits[n][classes] receives the logits.
 * probs_out (if not NULL) receives the LAST row's probabilities at the
 * operating point - for integrated gradients the last row is the beat itself
 * - and with targets NULL, every row's class is the one that row is
 * predicted (*target_out).
 */
static int
run_gradient(nn_model *model, const nn_input *in, const int32_t *targets, int32_t *target_out,
			 float *probs_out, float *grad, float *logits, nn_pool *pool, ecg_status *st)
{
	size_t		n = in->n_beats;
	size_t		classes = (size_t) model->n_classes;
	size_t		row_values = (size_t) model->input_length * (size_t) model->input_channels;
	nn_workspace *ws;
	float	   *d_logits = NULL,
			   *d_input = NULL;
	const float *lg;
	int			rc = -1;

	if (n == 0)
		return ecg_fail(st, ECG_ERR_ARGUMENT, "no beat to explain");
	ws = nn_workspace_create(model, n, 1, st);
	if (ws == NULL)
		return -1;
	if (nn_workspace_load_input(model, ws, in, NULL, n, st) != 0)
		goto done;
	d_logits = ecg_alloc(n * classes * sizeof(float));
	d_input = ecg_alloc(n * row_values * sizeof(float));
	if (d_logits == NULL || d_input == NULL)
	{
		ecg_fail(st, ECG_ERR_NOMEM, "out of memory for an explanation");
		goto done;
	}
	nn_forward(model, ws, n, 0, NULL, pool);
	lg = nn_workspace_logits(ws);
	for (size_t i = 0; i < n * classes; i++)
		if (!isfinite(lg[i]))
		{
			ecg_fail(st, ECG_ERR_DATA, "model \"%s\" computes a non-finite score", model->arch.name);
			ecg_fail_detail(st, "its activations overflow float (weights too large)");
			goto done;
		}
	memcpy(logits, lg, n * classes * sizeof(float));
	if (probs_out != NULL)
	{
		int32_t		best = 0;

		memcpy(probs_out, nn_workspace_probs(ws) + (n - 1) * classes, classes * sizeof(float));
		nn_model_apply_operating_point(model, probs_out, 1);
		for (size_t c = 1; c < classes; c++)
			if (probs_out[c] > probs_out[best])
				best = (int32_t) c;
		if (targets == NULL)
			*target_out = best;
	}
	memset(d_logits, 0, n * classes * sizeof(float));
	for (size_t i = 0; i < n; i++)
	{
		int32_t		c = targets ? targets[i] : *target_out;

		if (c < 0 || (size_t) c >= classes)
		{
			ecg_fail(st, ECG_ERR_ARGUMENT, "class %d out of range 0..%zu", (int) c, classes - 1);
			goto done;
		}
		d_logits[i * classes + (size_t) c] = 1.0f;
	}
	nn_input_gradient(model, ws, n, d_logits, d_input, pool);
	for (size_t i = 0; i < n; i++)
		memcpy(grad + i * in->length, d_input + i * row_values, in->length * sizeof(float));
	rc = 0;
done:
	ecg_free(d_logits);
	ecg_free(d_input);
	nn_workspace_free(ws);
	return rc;
}

int
nn_explain_gradient(nn_model *model, const nn_input *in, const int32_t *targets, float *grad,
					nn_pool *pool, ecg_status *st)
{
	float	   *logits;
	int			rc;

	if (targets == NULL)
		return ecg_fail(st, ECG_ERR_ARGUMENT, "no classes given for the gradients");
	logits = ecg_alloc((in->n_beats + 1) * (size_t) model->n_classes * sizeof(float));
	if (logits == NULL)
		return ecg_fail(st, ECG_ERR_NOMEM, "out of memory for an explanation");
	rc = run_gradient(model, in, targets, NULL, NULL, grad, logits, pool, st);
	ecg_free(logits);
	return rc;
}

static int
compare_floats(const void *a, const void *b)
{
	float		x = *(const float *) a,
				y = *(const float *) b;

	return (x > y) - (x < y);
}

void
nn_explain_median_baseline(const float *x, size_t n, float *baseline)
{
	float		sorted[NN_BEAT_LENGTH];
	size_t		m = n < NN_BEAT_LENGTH ? n : NN_BEAT_LENGTH;
	float		level;

	if (n == 0)
		return;
	memcpy(sorted, x, m * sizeof(float));
	qsort(sorted, m, sizeof(float), compare_floats);
	level = sorted[(m - 1) / 2];
	for (size_t i = 0; i < n; i++)
		baseline[i] = i < m ? level : 0.0f;
}

int
nn_explain_integrated_gradients(nn_model *model, const nn_input *in, const float *baseline,
								int steps, int target, float *attributions, nn_explanation *out,
								nn_pool *pool, ecg_status *st)
{
	size_t		len = in->length;
	size_t		w = (size_t) model->n_features;
	size_t		rows,
				classes = (size_t) model->n_classes;
	float	   *path = NULL,
			   *base = NULL,
			   *feats = NULL,
			   *grad = NULL,
			   *logits = NULL;
	int32_t    *targets = NULL;
	nn_input	pin;
	int			rc = -1;

	memset(out, 0, sizeof(*out));
	if (steps < 1 || steps > NN_EXPLAIN_MAX_STEPS)
		return ecg_fail(st, ECG_ERR_ARGUMENT, "steps %d out of range 1..%d", steps,
						NN_EXPLAIN_MAX_STEPS);
	if (in->n_beats != 1 || in->channels != 1 || len == 0 || len > (size_t) model->input_length)
		return ecg_fail(st, ECG_ERR_ARGUMENT,
						"an explanation takes one beat of 1..%d samples of one channel",
						model->input_length);
	if (target < -1 || target >= model->n_classes)
		return ecg_fail(st, ECG_ERR_ARGUMENT, "class %d out of range 0..%d", target,
						model->n_classes - 1);
	if (w > 0 && in->features == NULL)
	{
		ecg_fail(st, ECG_ERR_ARGUMENT, "model \"%s\" needs %zu features per beat, none were given",
				 model->arch.name, w);
		return ecg_fail_detail(st, "it was trained with R-R features (rr_features.h)");
	}
	rows = (size_t) steps + 2;
	path = ecg_alloc(rows * len * sizeof(float));
	base = ecg_alloc(len * sizeof(float));
	grad = ecg_alloc(rows * len * sizeof(float));
	logits = ecg_alloc(rows * classes * sizeof(float));
	targets = ecg_alloc(rows * sizeof(int32_t));
	feats = w > 0 ? ecg_alloc(rows * w * sizeof(float)) : NULL;
	if (path == NULL || base == NULL || grad == NULL || logits == NULL || targets == NULL || (w > 0 && feats == NULL))
	{
		ecg_fail(st, ECG_ERR_NOMEM, "out of memory for an explanation");
		goto done;
	}
	if (baseline != NULL)
		memcpy(base, baseline, len * sizeof(float));
	else
		nn_explain_median_baseline(in->values, len, base);
	/* rows 0..steps-1: the midpoints baseline + ((k + 1/2) / steps) (x -
	 * baseline); row steps: the baseline; row steps + 1 (the last): x */
	for (size_t k = 0; k < rows; k++)
	{
		float		alpha = (float) (((double) k + 0.5) / (double) steps);

		for (size_t i = 0; i < len; i++)
		{
			float		b = base[i];

			if (k == rows - 1)
				path[k * len + i] = in->values[i];
			else if (k == rows - 2)
				path[k * len + i] = b;
			else
				path[k * len + i] = b + alpha * (in->values[i] - b);
		}
		if (w > 0)
			memcpy(feats + k * w, in->features, w * sizeof(float));
	}
	pin.values = path;
	pin.n_beats = rows;
	pin.length = len;
	pin.channels = 1;
	pin.features = feats;
	/* the predicted class is decided by the same forward pass (the path's
	 * last row), then the gradients of that class are taken */
	for (size_t k = 0; k < rows; k++)
		targets[k] = target;
	out->target = target;
	if (run_gradient(model, &pin, target < 0 ? NULL : targets, &out->target, out->probs, grad,
					 logits, pool, st) != 0)
		goto done;
	out->score = logits[(rows - 1) * classes + (size_t) out->target];
	out->baseline_score = logits[(rows - 2) * classes + (size_t) out->target];
	out->attribution_sum = 0;
	for (size_t i = 0; i < len; i++)
	{
		double		s = 0;
		double		b = base[i];

		for (size_t k = 0; k < (size_t) steps; k++)
			s += grad[k * len + i];
		attributions[i] = (float) (((double) in->values[i] - b) * s / steps);
		if (!isfinite(attributions[i]))
		{
			ecg_fail(st, ECG_ERR_DATA, "the attribution of sample %zu is not finite", i + 1);
			goto done;
		}
		out->attribution_sum += attributions[i];
	}
	rc = 0;
done:
	ecg_free(path);
	ecg_free(base);
	ecg_free(grad);
	ecg_free(logits);
	ecg_free(targets);
	ecg_free(feats);
	return rc;
}
