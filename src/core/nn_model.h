/*
 * nn_model.h - neural-network models as small layer graphs.
 *
 * An architecture (nn_arch) is an array of nodes in topological order: node 0
 * is the input, every other node names its producer node(s) by index (always
 * an earlier node) and its shape parameters; the last node produces the
 * logits (one value per class).  Everything else - output shapes, parameter
 * tensors, activation / gradient / saved-state buffers - is derived from the
 * description, so a new architecture is a new description, not new plumbing.
 * The description is serialised into the model blob (model_blob.h), which
 * rebuilds the model without knowing the architecture by name.
 *
 * Data layout (the layer contract, nn_layers.h): activations are flat float
 * buffers [batch][length][channels] (channels-last, like Keras), so a
 * flatten is a reinterpretation ([batch][length * channels], index
 * t * channels + c) and costs nothing.  Weights are laid out like Keras:
 * conv kernel [kernel][in_channels][filters] + bias [filters], dense kernel
 * [in_features][units] + bias [units], batch norm gamma, beta, moving_mean,
 * moving_var [channels].
 *
 * Built-in architectures (nn_arch_builtin): "baseline" and "cnn", see
 * nn_model.c for the exact graphs.  Input beats of 187 samples are
 * zero-padded on the right to the model input length 200.
 *
 * Memory: the model owns its parameters, gradients and moving statistics;
 * a workspace (nn_workspace) owns every per-batch buffer for one maximal
 * batch size, allocated once, so the training and inference loops allocate
 * nothing per batch.
 */
#ifndef ECG_NN_MODEL_H
#define ECG_NN_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "ecg_core.h"
#include "nn_threads.h"
#include "rng.h"

#define NN_BEAT_LENGTH 187		/* samples per beat as imported */

/*
 * What ecgdl's models take and give: beats of one channel (one lead),
 * zero-padded to NN_INPUT_LENGTH samples, scored for the NN_N_CLASSES AAMI
 * classes.  The built-in architectures have this shape, and a model blob of
 * any other shape is refused when decoded (model_blob.h), because the
 * classification code feeds exactly these inputs and reads these outputs.
 */
#define NN_INPUT_LENGTH 200
#define NN_INPUT_CHANNELS 1
#define NN_N_CLASSES 5

/* Rows the batch inference paths (nn_model_predict without a workspace, the
 * server's table functions) run through the network at once. */
#define NN_INFERENCE_BATCH 128
/* Nodes of a graph: a cnn has 42, so a combination (nn_combine.h) holds up
 * to six of them. */
#define NN_MAX_NODES 256
#define NN_ARCH_NAME_MAX 32		/* including the terminating NUL */
#define NN_TENSOR_NAME_MAX 48	/* including the terminating NUL */
#define NN_MAX_TENSORS (4 * NN_MAX_NODES)
#define NN_MAX_CLASSES 64
#define NN_MAX_DIM 65536		/* bound on any length, channel or unit count */

typedef enum nn_op
{
	NN_OP_INPUT = 1,			/* size = length, units = channels */
	NN_OP_CONV1D = 2,			/* 'same' padding, stride 1, with bias; units = filters, size = kernel */
	NN_OP_DENSE = 3,			/* on the flattened input; units = output features */
	NN_OP_BATCHNORM = 4,		/* per channel; epsilon 1e-3, momentum 0.99 (Keras) */
	NN_OP_RELU = 5,
	NN_OP_DROPOUT = 6,			/* inverted dropout; rate in [0, 1) */
	NN_OP_MAXPOOL = 7,			/* pool 2, stride 2 (size must be 2) */
	NN_OP_ADD = 8,				/* input[0] + input[1], same shapes */
	NN_OP_FLATTEN = 9,			/* [L][C] -> [1][L*C]; no data movement */
	NN_OP_FEATURES = 10,		/* the auxiliary input: per row `units` standardised
								 * features (the R-R features), shape [1][units];
								 * no producers; at most one per graph */
	NN_OP_CONCAT = 11			/* [1][a] of input[0] followed by [1][b] of input[1] */
} nn_op;

#define NN_OP_FIRST NN_OP_INPUT
#define NN_OP_LAST NN_OP_CONCAT

/* Most auxiliary features a model may take (the eleven R-R features of
 * rr_features.h; eight before 0.4.0). */
#define NN_MAX_FEATURES 11
/* The width of the features node of a built-in architecture when no
 * features are named: the eight R-R features of 0.2.0 (rr_pre ...
 * rr_post_record), so such models stay what they were. */
#define NN_DEFAULT_FEATURES 8

/*
 * The operating point: how a model turns its class probabilities into a
 * class.  The decision is argmax_c (log p_c + offset_c); the offsets are
 * chosen at the end of training (nn_decision.h) and stored in the blob.
 */
typedef enum nn_decision_mode
{
	NN_DECISION_ARGMAX = 0,		/* offsets 0: the most probable class */
	NN_DECISION_PRIOR = 1,		/* offset_c = -log(training frequency of c): equal priors */
	NN_DECISION_VALIDATION = 2	/* offsets tuned for macro F1 on the validation rows */
} nn_decision_mode;

#define NN_DECISION_LAST NN_DECISION_VALIDATION
/* Bound on the magnitude of a stored offset (a factor of e^20 on a probability). */
#define NN_DECISION_MAX_OFFSET 20.0f

typedef struct nn_node
{
	int32_t		op;				/* an nn_op */
	int32_t		input[2];		/* producer nodes (earlier indices); -1 = unused */
	int32_t		units;			/* input channels, conv filters, dense units; else 0 */
	int32_t		size;			/* input length, conv kernel, pool size; else 0 */
	float		rate;			/* dropout rate; else 0 */
} nn_node;

typedef struct nn_arch
{
	char		name[NN_ARCH_NAME_MAX];
	int32_t		n_nodes;
	nn_node		nodes[NN_MAX_NODES];
} nn_arch;

/* The built-in architecture called `name`; unknown -> ECG_ERR_ARGUMENT listing
 * the known names. */
int			nn_arch_builtin(const char *name, nn_arch *arch, ecg_status *st);
/* "baseline, cnn, cnn_wide, baseline_rr, cnn_rr" */
const char *nn_arch_known_names(void);

/*
 * Checks a description completely (op codes, input indices, parameter ranges,
 * shape compatibility, a [1][n_classes] last node); ECG_ERR_FORMAT naming the
 * node on failure.  nn_model_create_from_arch calls it.
 */
int			nn_arch_validate(const nn_arch *arch, ecg_status *st);

/* Parameter and state floats of a valid description (0 if invalid). */
size_t		nn_arch_param_floats(const nn_arch *arch);

/* Lower-case op name ("conv1d", "batchnorm", ...), or "?" */
const char *nn_op_name(int32_t op);

/*
 * A readable description, one node a line ("3 relu <- 2  [200 x 16]"),
 * written into buf (always NUL-terminated when len > 0).  Returns the length
 * the full text needs (excluding the NUL), like snprintf.
 */
size_t		nn_arch_describe(const nn_arch *arch, char *buf, size_t len);

/* A parameter or state tensor of a model. */
typedef struct nn_tensor
{
	char		name[NN_TENSOR_NAME_MAX];	/* "conv1d_1.kernel", "batchnorm_2.moving_var" */
	int32_t		node;			/* owning node */
	int32_t		rank;			/* 1..3 */
	int32_t		dims[3];
	size_t		count;			/* product of dims */
	int			trainable;		/* 0 for batch-norm moving statistics */
	float	   *data;			/* into nn_model.params or nn_model.state */
	float	   *grad;			/* into nn_model.grads; NULL when not trainable */
} nn_tensor;

typedef struct nn_model
{
	nn_arch		arch;
	int32_t		n_classes;
	int32_t		input_length;
	int32_t		input_channels;
	int32_t		length[NN_MAX_NODES];	/* output shape of each node */
	int32_t		channels[NN_MAX_NODES];
	int32_t		n_consumers[NN_MAX_NODES];	/* how many nodes read each node */

	/* trainable parameters (and their gradients) contiguous, in tensor order */
	size_t		n_params;
	float	   *params;
	float	   *grads;
	/* non-trainable state (batch-norm moving mean / variance), in tensor order */
	size_t		n_state;
	float	   *state;

	int32_t		n_tensors;		/* in node order; per node: kernel, bias / gamma, beta,
								 * moving_mean, moving_var */
	nn_tensor	tensors[NN_MAX_TENSORS];
	int32_t		node_tensor[NN_MAX_NODES];	/* first tensor of each node, -1 if none */

	/*
	 * The auxiliary input (an NN_OP_FEATURES node; n_features 0 = none):
	 * which features, by index into rr_feature_names (rr_features.h), and
	 * their standardisation x' = (x - mean) / sd, fitted on the training rows
	 * (defaults 0 and 1).  The caller supplies raw (imputed) values.
	 */
	int32_t		n_features;
	int32_t		features_node;	/* -1 when none */
	int32_t		feature_ids[NN_MAX_FEATURES];
	float		feature_mean[NN_MAX_FEATURES];
	float		feature_sd[NN_MAX_FEATURES];

	/* the operating point (nn_decision_mode; offsets per class) */
	int32_t		decision;
	float		class_offset[NN_MAX_CLASSES];
} nn_model;

/* A model of a built-in architecture, parameters zero (call nn_model_init). */
nn_model   *nn_model_create(const char *arch_name, ecg_status *st);
/* A model of any valid description. */
nn_model   *nn_model_create_from_arch(const nn_arch *arch, ecg_status *st);
void		nn_model_free(nn_model *model);

/*
 * Deterministic initialisation from a seed, like Keras: conv kernels He
 * normal (truncated at 2 standard deviations, std sqrt(2 / fan_in) /
 * 0.87962566103423978, fan_in = kernel * in_channels), dense kernels Glorot
 * uniform (limit sqrt(6 / (fan_in + fan_out))), biases 0, gamma 1, beta 0,
 * moving mean 0, moving variance 1.  Tensors are drawn in tensor order from
 * one stream, so the same seed gives the same bits.
 */
void		nn_model_init(nn_model *model, uint64_t seed);

/* Returns the tensor called `name`, or NULL. */
nn_tensor  *nn_model_find_tensor(nn_model *model, const char *name);

/* Per-batch buffers ------------------------------------------------------- */

typedef struct nn_workspace nn_workspace;

/*
 * Bytes a workspace for batches of up to max_batch rows needs (training = 1
 * adds gradients and saved state for the backward pass).  0 on overflow.
 */
size_t		nn_workspace_bytes(const nn_model *model, size_t max_batch, int training);

/*
 * Allocates a workspace (one arena) for batches of up to max_batch rows;
 * checks the size against ecg_check_memory first.
 */
nn_workspace *nn_workspace_create(const nn_model *model, size_t max_batch, int training,
								  ecg_status *st);
void		nn_workspace_free(nn_workspace *ws);

/*
 * Input beats as the caller holds them: n_beats rows of length x channels
 * floats (channels-last, like the activations).  This, not the model, says
 * how many floats may be read from values.
 */
typedef struct nn_input
{
	const float *values;
	size_t		n_beats;
	size_t		length;			/* samples per beat */
	size_t		channels;		/* values per sample */
	/* the auxiliary features [n_beats][model->n_features], raw (the model
	 * standardises them); NULL for a model without features */
	const float *features;
} nn_input;

/*
 * Copies n beats of `in` into the workspace's input buffer, zero-padding each
 * to the model input length.  rows == NULL takes beats 0..n-1, otherwise beats
 * rows[0..n-1] (a gather for shuffled minibatches).  Reads nothing outside
 * in->values[in->n_beats * in->length * in->channels]: fails with
 * ECG_ERR_ARGUMENT when the beats do not fit the model (other channel count,
 * longer than its input, none), n exceeds the workspace's batch, a row is out
 * of range, or ws was made for another model.
 */
int			nn_workspace_load_input(const nn_model *model, nn_workspace *ws, const nn_input *in,
									const uint32_t *rows, size_t n, ecg_status *st);

/*
 * Forward pass over the n rows loaded in ws (n <= the workspace's batch).
 * training = 1: batch statistics for batch norm (the moving statistics are
 * updated, as Keras does in a training step), dropout masks drawn from
 * *dropout_rng in the calling thread (one draw per dropout layer; the same rng
 * state gives the same masks for any thread count); training = 0: inference
 * (moving statistics, dropout is the identity; dropout_rng may be NULL).
 * Afterwards nn_workspace_probs(ws) holds the class probabilities
 * [n][n_classes].
 */
void		nn_forward(nn_model *model, nn_workspace *ws, size_t n, int training,
					   rng_state *dropout_rng, nn_pool *pool);

/*
 * The same, and returns the mean categorical cross-entropy against labels[n]
 * (0..n_classes-1): (1/n) * sum_i w_i * -log p_i[label_i], w_i =
 * sample_weight[i] or 1 when sample_weight is NULL (Keras'
 * SUM_OVER_BATCH_SIZE).  *correct (if not NULL) receives the number of rows
 * whose arg-max probability is the label.
 */
double		nn_forward_loss(nn_model *model, nn_workspace *ws, size_t n, int training,
							rng_state *dropout_rng, const int *labels,
							const float *sample_weight, nn_pool *pool, size_t *correct);

/* [n][n_classes] probabilities of the last forward pass */
const float *nn_workspace_probs(const nn_workspace *ws);
/* rows a workspace holds */
size_t		nn_workspace_batch(const nn_workspace *ws);

/*
 * Backward pass after a training-mode nn_forward_loss with the same labels
 * and weights: model->grads is SET (=) to the gradient of that mean loss with
 * respect to the trainable parameters.  Requires a workspace created with
 * training = 1.
 */
void		nn_backward(nn_model *model, nn_workspace *ws, const int *labels,
						const float *sample_weight, size_t n, nn_pool *pool);

/*
 * The gradient of sum_i sum_c d_logits[i][c] * logit_c(row i) with respect
 * to the beat input, after an INFERENCE-mode nn_forward (training = 0) of the
 * n rows loaded in ws: the gradient of exactly the function inference
 * computes (batch norm with its moving statistics, dropout the identity).
 * ws must have been created with training = 1 (it keeps the activations).
 * d_input[n][input_length * input_channels] is written, including the
 * zero-padded samples; the auxiliary features get no gradient.
 * model->grads is used as scratch (its values afterwards mean nothing).
 */
void		nn_input_gradient(nn_model *model, nn_workspace *ws, size_t n, const float *d_logits,
							  float *d_input, nn_pool *pool);

/* [n][n_classes] logits (scores before the softmax) of the last forward pass */
const float *nn_workspace_logits(const nn_workspace *ws);

/*
 * Inference for n beats of beat_length samples of one channel (beats holds
 * n * beat_length floats; any n, processed in chunks of the workspace size):
 * probs[n][n_classes].  ws may be NULL (a workspace of up to
 * NN_INFERENCE_BATCH rows is made and freed here), otherwise one made for
 * this model.  The probabilities are at the model's operating point
 * (nn_model_apply_operating_point).  Calls ecg_check_interrupts() between chunks.  Fails with
 * ECG_ERR_ARGUMENT when the beats do not fit the model (nn_workspace_load_input)
 * and with ECG_ERR_DATA (naming the beat) when a probability is not finite:
 * finite weights so large that activations overflow float.
 */
int			nn_model_predict(nn_model *model, nn_workspace *ws, const float *beats,
							 size_t beat_length, size_t n, float *probs, nn_pool *pool,
							 ecg_status *st);

/*
 * The same for the rows of `in` (one channel), with their auxiliary features
 * when the model takes some (in->features is then required).
 */
int			nn_model_predict_input(nn_model *model, nn_workspace *ws, const nn_input *in,
								   float *probs, nn_pool *pool, ecg_status *st);

/*
 * Sets the model's feature list (ids into rr_feature_names, n must equal the
 * width of its features node) with mean 0 and sd 1; ECG_ERR_ARGUMENT if the
 * count differs, an id is out of range or repeated.
 */
int			nn_model_set_features(nn_model *model, const int32_t *ids, int n, ecg_status *st);

/*
 * Fits the standardisation on n rows of raw features [n][n_features]:
 * mean and (population) sd per feature; an sd below 1e-6 (a constant
 * feature) is stored as 1.
 */
void		nn_model_fit_feature_scaling(nn_model *model, const float *features, size_t n);

/*
 * Replaces the width of the features node of a built-in description (the
 * glue's `features` choice); ECG_ERR_ARGUMENT when it has none or n is out
 * of 1..NN_MAX_FEATURES.
 */
int			nn_arch_set_feature_count(nn_arch *arch, int n, ecg_status *st);

/*
 * Applies the operating point to n rows of probabilities in place:
 * p_c * exp(offset_c), renormalised (for 'prior', the posterior under equal
 * class priors), so the arg-max of the result is the operating point's
 * decision argmax_c (log p_c + offset_c).  Nothing changes when every offset
 * is 0.  nn_model_predict(_input) calls it: every classification path sees
 * the model's operating point.
 */
void		nn_model_apply_operating_point(const nn_model *model, float *probs, size_t n);

/*
 * Bytes running a model for inference takes in one process: its parameter,
 * gradient and state arrays, a one-row workspace (the per-row functions keep
 * one with a cached model) and a workspace of NN_INFERENCE_BATCH rows (batch
 * inference).  0 on overflow.
 */
size_t		nn_model_inference_bytes(const nn_model *model);

/*
 * Fails with ECG_ERR_LIMIT (the bytes needed and the limit in the detail)
 * when nn_model_inference_bytes exceeds the memory limit (ecg_core.h).
 */
int			nn_model_check_inference_memory(const nn_model *model, ecg_status *st);

#endif
