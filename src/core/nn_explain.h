/*
 * nn_explain.h - why a model gives a beat its class: per-sample attributions
 * by integrated gradients (Sundararajan, Taly & Yan 2017), computed through
 * the core's own backward pass (nn_input_gradient).
 *
 * What is attributed: the LOGIT of the explained class (the network's score
 * before the softmax), by default the class the model predicts for the beat
 * at its operating point (what ecg_classify returns).
 *
 * Baseline (nn_explain_median_baseline): the beat flattened to its median -
 * a flat line at the beat's own level, so that the level itself (the beat
 * tables' signals are min-max normalised, the isoelectric line sits anywhere
 * around 0.2-0.4) earns nothing and the attributions go to the shape: the
 * waves that lift the class's score above that of a flat beat.  The median
 * is taken over the first NN_BEAT_LENGTH samples (the beat), and samples
 * beyond them - the zero padding of a beat given at the model's input
 * length - keep the baseline 0 the model's own padding has, so a beat and
 * its padded form get the same explanation.  The auxiliary R-R features,
 * for a model that takes them, are held at the beat's own values along the
 * whole path: only the samples are attributed.

 * Path integral: the midpoint rule over `steps` intervals of the straight
 * line baseline + alpha (x - baseline): points alpha = (k + 1/2) / steps,
 * k = 0..steps-1, run through the network as ONE batch together with the
 * baseline and the beat themselves (steps + 2 rows; inference mode: batch
 * norm with its moving statistics, no dropout).  Attribution of sample i:
 *   a_i = (x_i - x'_i) * (1/steps) * sum_k dlogit_c/dx_i (path point k).
 * The midpoint rule never evaluates the gradient AT the baseline, where a
 * ReLU network without biases has a kink (every unit exactly 0: gradient 0),
 * which would cost the trapezoidal rule an error of 1/(2 steps).
 * Completeness: sum_i a_i approximates logit_c(x) - logit_c(x'), both from
 * the same batch; the error shrinks like 1/steps^2 where the network is
 * smooth along the path and is bounded by the ReLU kinks it crosses
 * (test/core/test_nn_explain.c measures it).
 */
#ifndef ECG_NN_EXPLAIN_H
#define ECG_NN_EXPLAIN_H

#include "nn_model.h"

/* The default number of intervals of the path integral. */
#define NN_EXPLAIN_STEPS 64
#define NN_EXPLAIN_MAX_STEPS 1024

typedef struct nn_explanation
{
	int32_t		target;			/* the class explained */
	float		score;			/* logit of the class at the beat */
	float		baseline_score; /* ... at the baseline */
	double		attribution_sum;	/* sum of the attributions */
	float		probs[NN_MAX_CLASSES];	/* the beat's probabilities, at the
										 * operating point */
} nn_explanation;

/*
 * Explains one beat: in->values holds in->length samples (n_beats 1, one
 * channel, in->features its raw features when the model takes some).
 * baseline: in->length samples, or NULL for nn_explain_median_baseline.  target: a class, or -1
 * for the predicted one.  attributions[in->length] is written.  steps in
 * 1..NN_EXPLAIN_MAX_STEPS.  Makes (and frees) a gradient workspace of steps
 * + 1 rows, after ecg_check_memory.  Fails with ECG_ERR_ARGUMENT for input
 * that does not fit the model (nn_workspace_load_input's checks) or a bad
 * steps / target, ECG_ERR_DATA when a value computed is not finite.
 */
int			nn_explain_integrated_gradients(nn_model *model, const nn_input *in,
											const float *baseline, int steps, int target,
											float *attributions, nn_explanation *out,
											nn_pool *pool, ecg_status *st);

/*
 * The default baseline of a beat of n samples: the median of x[0 ..
 * min(n, NN_BEAT_LENGTH)) (for an even count the lower of the two middle
 * values, so it is one of the samples, exactly) at those samples, 0 beyond.
 * baseline[n] is written.
 */
void		nn_explain_median_baseline(const float *x, size_t n, float *baseline);

/*
 * The plain gradient of the logit of class targets[i] with respect to the
 * samples of beat i, for in->n_beats beats (inference mode, one batch):
 * grad[n_beats][in->length].  For the PyTorch comparison and for callers
 * that want a saliency map.
 */
int			nn_explain_gradient(nn_model *model, const nn_input *in, const int32_t *targets,
								float *grad, nn_pool *pool, ecg_status *st);

#endif
