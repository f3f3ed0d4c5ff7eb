/*
 * nn_decision.h - choosing a model's operating point (nn_model.h): the
 * per-class offsets added to the log-probabilities before the arg-max.
 *
 *  - NN_DECISION_ARGMAX: offsets 0, the most probable class (the Bayes
 *    decision for the class frequencies the model was trained on);
 *  - NN_DECISION_PRIOR: offset_c = log(n_max / n_c) from the training class
 *    counts (n_max the largest): the decision as if every class were equally
 *    frequent; classes absent from training keep 0;
 *  - NN_DECISION_VALIDATION: offsets chosen to maximise the macro F1 over the
 *    classes 0..NN_DECISION_F1_CLASSES-1 (N, S, V, F; Q is left out as in the
 *    inter-patient literature) on the VALIDATION rows: coordinate ascent,
 *    class 0's offset fixed at 0, the others on the grid -4 .. +6 in steps of
 *    0.25, three sweeps, ties kept at the smaller |offset|.  Deterministic.
 */
#ifndef ECG_NN_DECISION_H
#define ECG_NN_DECISION_H

#include <stddef.h>

#include "ecg_core.h"
#include "nn_model.h"

#define NN_DECISION_F1_CLASSES 4

/* "argmax", "prior", "validation" -> the mode; -1 when unknown. */
int			nn_decision_parse(const char *name);
const char *nn_decision_name(int mode);

/*
 * Sets model->decision and model->class_offset.  train_counts[n_classes]:
 * rows per class in the training data (PRIOR).  probs[n][n_classes] and
 * labels[n]: the model's probabilities on the validation rows (VALIDATION;
 * ECG_ERR_ARGUMENT when n is 0).
 */
int			nn_decision_choose(nn_model *model, int mode, const size_t *train_counts,
							   const float *probs, const int *labels, size_t n, ecg_status *st);

/* Macro F1 over classes 0..NN_DECISION_F1_CLASSES-1 of the decisions under
 * offsets on probs/labels (classes with neither rows nor calls are left out). */
double		nn_decision_macro_f1(const float *probs, const int *labels, size_t n, int n_classes,
								 const float *offsets);

#endif
