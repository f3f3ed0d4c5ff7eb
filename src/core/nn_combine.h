/*
 * nn_combine.h - a product of experts: one model whose logits are the sum of
 * several models' logits.
 *
 * Each model gives p_m(c | x) proportional to exp(logit_m,c); the combined
 * model gives p(c | x) proportional to the product of the p_m, i.e. softmax
 * of the summed logits.  Models trained apart on different evidence - a
 * network on the beat's shape, a linear model (rr_linear) on its R-R
 * features - so keep what each learnt: a rhythm term trained jointly with a
 * shape network is outweighed by the network, which learns the training
 * patients' beats (issue 12).  The class priors count once per model; the
 * operating point (nn_decision.h) chosen for the combined model corrects it.
 *
 * The result is an ordinary model (an nn_arch graph) and needs no new blob
 * format: node 0 is the shared beat input, then each model's nodes other than
 * its input in turn (inputs renumbered), then NN_OP_ADD nodes summing the
 * last nodes.  Parameters and batch-norm statistics are copied; the feature
 * list and standardisation are those of the one model that takes features.
 * Each member votes at its own operating point: its class offsets (added to
 * the log-probabilities before the arg-max) are added to the bias of its
 * last dense layer, so the sum is that of the members' log-probabilities as
 * they classify, up to a per-row constant.
 */
#ifndef ECG_NN_COMBINE_H
#define ECG_NN_COMBINE_H

#include "ecg_core.h"
#include "nn_model.h"

#define NN_COMBINE_MAX_MODELS 8
/* Bound on a member's weight (weights are > 0). */
#define NN_COMBINE_MAX_WEIGHT 100.0f

/*
 * The sum of models[0..n-1] (2 <= n <= NN_COMBINE_MAX_MODELS), named `name`
 * (the arch name, NN_ARCH_NAME_MAX).  The models must take the same input
 * (length and channels) and give the same number of classes; at most one of
 * them may take features (a graph has one features node).  ECG_ERR_ARGUMENT
 * with the reason otherwise, and ECG_ERR_LIMIT when the graph would exceed
 * NN_MAX_NODES.  The result's operating point is arg-max (offsets 0).
 *
 * weights (NULL: all 1) scales each member's logits, offsets included: the
 * sum is sum_m w_m (logit_m + offset_m), p proportional to the product of
 * p_m^w_m - with weights 1/k on k networks of one kind, the geometric mean of
 * an ensemble (their average logit) counts as one expert.  The weight is
 * multiplied into the dense layers that end the member (every dense layer a
 * chain of sums ends in, for a member that is itself a sum); a weight other
 * than 1 on a member whose scores end otherwise is refused
 * (ECG_ERR_ARGUMENT), as is a weight that is not finite and in
 * (0, NN_COMBINE_MAX_WEIGHT].
 */
nn_model   *nn_model_sum(const nn_model *const *models, const float *weights, int n,
						 const char *name, ecg_status *st);

#endif
