/*
 * nn_model_exec.c - running a model's layer graph: the execution plan, the
 * per-batch workspace (one arena), forward and backward passes, inference.
 *
 * Plan.  The nodes are grouped into steps, one kernel call each: a batch norm
 * followed by its only consumer ReLU (and that ReLU's only consumer dropout)
 * becomes one fused step (nn_bn_relu_dropout_*), everything else is one step
 * per node.  Flatten is free (its output aliases its input) and a residual
 * add whose first input is a conv or dense output used by nothing else adds
 * in place into that buffer.
 *
 * Gradients.  The backward pass walks the steps in reverse.  Gradient
 * buffers ("slots", each the size of the largest activation) are handed out
 * on demand and returned as soon as a node's gradient has been consumed, so a
 * handful serve the whole network.  A node read by several consumers (the
 * residual shortcuts) gets its gradient from the first consumer written
 * (=) and from the later ones accumulated (+=) via a scratch slot.  An add
 * (and a flatten) passes its output gradient on by sharing the slot: slots
 * are reference-counted and copied before being accumulated into while
 * shared.  Elementwise backward kernels write in place when they may.  The
 * number of slots is found when the workspace is made, by running the same
 * bookkeeping without kernels (a dry run), so it always matches.
 *
 * Activations.  A training workspace keeps every step output (the backward
 * pass reads them); an inference workspace reuses a buffer as soon as all
 * readers of its value have run (three or four buffers for the cnn).
 */
#include "nn_model.h"

#include <math.h>
#include <string.h>

#include "nn_layers.h"

#define MAX_SLOTS (NN_MAX_NODES + 4)
#define ARENA_ALIGN 64
#define DEFAULT_PREDICT_BATCH NN_INFERENCE_BATCH
#define MAX_BATCH ((size_t) 1 << 24)

typedef enum step_kind
{
	STEP_CONV,
	STEP_DENSE,
	STEP_BATCHNORM,				/* batch norm, optionally fused with relu (+ dropout) */
	STEP_RELU,
	STEP_DROPOUT,
	STEP_MAXPOOL,
	STEP_ADD,
	STEP_FLATTEN,
	STEP_FEATURES,				/* copies the loaded auxiliary features in */
	STEP_CONCAT
} step_kind;

typedef struct nn_step
{
	step_kind	kind;
	int			node;			/* the node holding the parameters / the op */
	int			out;			/* the node whose output the step produces */
	int			in[2];			/* input nodes, -1 = none */
	int			relu;			/* batch norm step: ReLU fused */
	float		rate;			/* dropout rate (standalone or fused), 0 = none */
} nn_step;

struct nn_workspace
{
	const nn_model *model;		/* the model the buffers are laid out for */
	size_t		batch;			/* rows the buffers hold */
	int			training;		/* gradients and saved state present */
	int			n_steps;
	nn_step		steps[NN_MAX_NODES];
	int			producer[NN_MAX_NODES];	/* step producing each node's output, -1 */

	float	   *act[NN_MAX_NODES];	/* output of each node ([batch][L][C]) */
	float	   *bn_stats[NN_MAX_NODES]; /* per step: mean, var, invstd [3 * C] */
	uint8_t    *mask[NN_MAX_NODES];	/* per step: dropout mask or maxpool argmax */
	float	   *probs;			/* [batch][classes] */
	float	   *features_in;	/* [batch][n_features] standardised, as loaded */
	void	   *kernel_ws;		/* scratch of the layer kernels */
	int			n_slots;
	size_t		slot_floats;
	float	   *slots[MAX_SLOTS];
	void	   *arena;
};

/* Plan ------------------------------------------------------------------------- */

static void
build_steps(const nn_model *m, nn_workspace *ws)
{
	const nn_arch *a = &m->arch;
	int			i = 1;

	ws->n_steps = 0;
	for (int k = 0; k < NN_MAX_NODES; k++)
		ws->producer[k] = -1;
	while (i < a->n_nodes)
	{
		const nn_node *nd = &a->nodes[i];
		nn_step    *s = &ws->steps[ws->n_steps];

		memset(s, 0, sizeof(*s));
		s->node = i;
		s->out = i;
		s->in[0] = nd->input[0];
		s->in[1] = nd->input[1];
		switch ((nn_op) nd->op)
		{
			case NN_OP_CONV1D:
				s->kind = STEP_CONV;
				break;
			case NN_OP_DENSE:
				s->kind = STEP_DENSE;
				break;
			case NN_OP_BATCHNORM:
				s->kind = STEP_BATCHNORM;
				if (i + 1 < a->n_nodes && a->nodes[i + 1].op == NN_OP_RELU &&
					a->nodes[i + 1].input[0] == i && m->n_consumers[i] == 1)
				{
					s->relu = 1;
					s->out = i + 1;
					if (i + 2 < a->n_nodes && a->nodes[i + 2].op == NN_OP_DROPOUT &&
						a->nodes[i + 2].input[0] == i + 1 && m->n_consumers[i + 1] == 1)
					{
						s->out = i + 2;
						s->rate = a->nodes[i + 2].rate;
					}
				}
				break;
			case NN_OP_RELU:
				s->kind = STEP_RELU;
				break;
			case NN_OP_DROPOUT:
				s->kind = STEP_DROPOUT;
				s->rate = nd->rate;
				break;
			case NN_OP_MAXPOOL:
				s->kind = STEP_MAXPOOL;
				break;
			case NN_OP_ADD:
				s->kind = STEP_ADD;
				break;
			case NN_OP_FEATURES:
				s->kind = STEP_FEATURES;
				break;
			case NN_OP_CONCAT:
				s->kind = STEP_CONCAT;
				break;
			case NN_OP_FLATTEN:
			case NN_OP_INPUT:	/* only node 0, never here */
				s->kind = STEP_FLATTEN;
				break;
		}
		ws->producer[s->out] = ws->n_steps;
		ws->n_steps++;
		i = s->out + 1;
	}
}

/* an add may overwrite its first input when nothing else reads it and the
 * producer's backward pass does not need its own output */
static int
add_in_place(const nn_model *m, const nn_workspace *ws, const nn_step *s)
{
	int			p = ws->producer[s->in[0]];

	return p >= 0 && m->n_consumers[s->in[0]] == 1 &&
		(ws->steps[p].kind == STEP_CONV || ws->steps[p].kind == STEP_DENSE);
}

static size_t
node_values(const nn_model *m, int node)
{
	return (size_t) m->length[node] * (size_t) m->channels[node];
}

/* Arena layout ------------------------------------------------------------------ */

typedef struct arena_plan
{
	size_t		used;			/* bytes so far */
	int			overflow;
} arena_plan;

/* Reserves count * size bytes (64-byte aligned); returns the offset. */
static size_t
reserve(arena_plan *p, size_t count, size_t size)
{
	size_t		bytes,
				at;

	if (ecg_size_mul(count, size, &bytes) != 0 || bytes > SIZE_MAX / 2 - p->used - ARENA_ALIGN)
	{
		p->overflow = 1;
		return 0;
	}
	at = p->used;
	p->used += (bytes + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN;
	return at;
}

static size_t
kernel_workspace_bytes(const nn_model *m, const nn_workspace *ws)
{
	size_t		need = 64;

	for (int k = 0; k < ws->n_steps; k++)
	{
		const nn_step *s = &ws->steps[k];
		int			in = s->in[0];
		size_t		b = 0;

		if (s->kind == STEP_CONV)
			b = nn_conv1d_workspace_bytes(m->length[in], m->channels[in], m->arch.nodes[s->node].units,
										  m->arch.nodes[s->node].size);
		else if (s->kind == STEP_DENSE && ws->training)
			b = nn_dense_backward_workspace_bytes((int) ws->batch, (int) node_values(m, in),
												  m->arch.nodes[s->node].units);
		else if (s->kind == STEP_BATCHNORM)
			b = nn_batchnorm_workspace_bytes(m->channels[in]);
		if (b > need)
			need = b;
	}
	return need;
}

static int	count_gradient_slots(const nn_model *m, nn_workspace *ws);

/* The step's output is its input's buffer (no buffer of its own). */
static int
step_aliases_input(const nn_model *m, const nn_workspace *ws, const nn_step *s)
{
	return s->kind == STEP_FLATTEN || (s->kind == STEP_ADD && add_in_place(m, ws, s)) ||
		(s->kind == STEP_DROPOUT && !ws->training);
}

/*
 * Inference keeps no activation for a backward pass, so a buffer is reused as
 * soon as every reader of its value has run.  buffer_of[node] receives the
 * buffer index of every step output (aliases share their input's); returns
 * the number of buffers.  A step never writes into a buffer one of its own
 * inputs occupies (the occupant's last reader is this step, not earlier).
 */
static int
assign_inference_buffers(const nn_model *m, const nn_workspace *ws, int *buffer_of)
{
	int			root[NN_MAX_NODES];
	int			last_read[NN_MAX_NODES];	/* per root node: last reading step */
	int			free_after[NN_MAX_NODES + 1];	/* per buffer: last reading step */
	int			n_buffers = 0;

	for (int i = 0; i < NN_MAX_NODES; i++)
	{
		root[i] = i;
		last_read[i] = -1;
	}
	for (int k = 0; k < ws->n_steps; k++)
	{
		const nn_step *s = &ws->steps[k];

		for (int j = 0; j < 2; j++)
			if (s->in[j] >= 0 && k > last_read[root[s->in[j]]])
				last_read[root[s->in[j]]] = k;
		if (step_aliases_input(m, ws, s))
			root[s->out] = root[s->in[0]];
	}
	last_read[root[m->arch.n_nodes - 1]] = ws->n_steps;	/* the logits: read at the end */

	for (int k = -1; k < ws->n_steps; k++)
	{
		int			node = k < 0 ? 0 : ws->steps[k].out;
		int			chosen = -1;

		if (k >= 0 && step_aliases_input(m, ws, &ws->steps[k]))
		{
			buffer_of[node] = buffer_of[root[node]];
			continue;
		}
		for (int b = 0; b < n_buffers && chosen < 0; b++)
			if (free_after[b] < k)
				chosen = b;
		if (chosen < 0)
			chosen = n_buffers++;
		free_after[chosen] = last_read[node];
		buffer_of[node] = chosen;
	}
	return n_buffers;
}

/*
 * Lays the workspace out in an arena starting at base (NULL: sizes only).
 * Offsets are stored in the pointer fields and rebased afterwards.
 */
static size_t
layout_workspace(const nn_model *m, nn_workspace *ws, size_t *offsets, int *n_offsets)
{
	arena_plan	p = {0, 0};
	size_t		batch = ws->batch;
	int			n = 0;
	int			buffer_of[NN_MAX_NODES] = {0};
	size_t		buffer_at[NN_MAX_NODES + 1] = {0};

#define PLACE(field, count, size) \
	do { offsets[n++] = reserve(&p, (count), (size)); (void) (field); } while (0)

	/* inference: shared activation buffers of the largest activation size */
	if (!ws->training)
	{
		int			n_buffers = assign_inference_buffers(m, ws, buffer_of);

		for (int b = 0; b < n_buffers; b++)
			buffer_at[b] = reserve(&p, ws->slot_floats, sizeof(float));
	}

	/* input */
	if (ws->training)
		PLACE(ws->act[0], batch * node_values(m, 0), sizeof(float));
	else
		offsets[n++] = buffer_at[buffer_of[0]];
	for (int k = 0; k < ws->n_steps; k++)
	{
		const nn_step *s = &ws->steps[k];
		size_t		values = batch * node_values(m, s->out);

		if (step_aliases_input(m, ws, s))
			offsets[n++] = SIZE_MAX;	/* an alias */
		else if (!ws->training)
			offsets[n++] = buffer_at[buffer_of[s->out]];
		else
			PLACE(ws->act[s->out], values, sizeof(float));
		if (s->kind == STEP_BATCHNORM)
			PLACE(ws->bn_stats[k], 3 * (size_t) m->channels[s->node], sizeof(float));
		else
			offsets[n++] = SIZE_MAX;
		if (ws->training && ((s->kind == STEP_BATCHNORM && s->rate > 0) ||
							 (s->kind == STEP_DROPOUT && s->rate > 0)))
			PLACE(ws->mask[k], values, 1);
		else if (s->kind == STEP_MAXPOOL)
			PLACE(ws->mask[k], values, 1);	/* argmax, written in inference too */
		else
			offsets[n++] = SIZE_MAX;
	}
	PLACE(ws->probs, batch * (size_t) m->n_classes, sizeof(float));
	if (m->n_features > 0)
		PLACE(ws->features_in, batch * (size_t) m->n_features, sizeof(float));
	else
		offsets[n++] = SIZE_MAX;	/* no features: no buffer */
	PLACE(ws->kernel_ws, kernel_workspace_bytes(m, ws), 1);
	for (int k = 0; k < ws->n_slots; k++)
		PLACE(ws->slots[k], ws->slot_floats, sizeof(float));
#undef PLACE
	*n_offsets = n;
	return p.overflow ? 0 : p.used;
}

/* Points the buffers into the arena at base from the offsets. */
static void
bind_workspace(const nn_model *m, nn_workspace *ws, char *base, const size_t *offsets)
{
	int			n = 0;

#define BIND(field, type) \
	do { size_t at_ = offsets[n++]; (field) = at_ == SIZE_MAX ? NULL : (type) (void *) (base + at_); } while (0)

	BIND(ws->act[0], float *);
	for (int k = 0; k < ws->n_steps; k++)
	{
		const nn_step *s = &ws->steps[k];

		BIND(ws->act[s->out], float *);
		if (ws->act[s->out] == NULL)	/* aliases */
			ws->act[s->out] = ws->act[s->in[0]];
		BIND(ws->bn_stats[k], float *);
		BIND(ws->mask[k], uint8_t *);
	}
	BIND(ws->probs, float *);
	BIND(ws->features_in, float *);
	BIND(ws->kernel_ws, void *);
	for (int k = 0; k < ws->n_slots; k++)
		BIND(ws->slots[k], float *);
#undef BIND
	(void) m;
}

/* Sets up plan, slot count and size; returns the arena bytes (0 = overflow). */
static size_t
plan_workspace(const nn_model *m, nn_workspace *ws, size_t max_batch, int training,
			   size_t *offsets, int *n_offsets)
{
	size_t		largest = 0;

	memset(ws, 0, sizeof(*ws));
	ws->batch = max_batch;
	ws->training = training;
	build_steps(m, ws);
	for (int i = 0; i < m->arch.n_nodes; i++)
		if (node_values(m, i) > largest)
			largest = node_values(m, i);
	if (ecg_size_mul(largest, max_batch, &ws->slot_floats) != 0)
		return 0;
	ws->n_slots = training ? count_gradient_slots(m, ws) : 0;
	return layout_workspace(m, ws, offsets, n_offsets);
}

size_t
nn_workspace_bytes(const nn_model *model, size_t max_batch, int training)
{
	nn_workspace *ws;
	size_t		offsets[4 * NN_MAX_NODES + 8 + MAX_SLOTS];
	int			n_offsets;
	size_t		bytes;

	if (max_batch == 0 || max_batch > MAX_BATCH)
		return 0;
	ws = ecg_alloc(sizeof(nn_workspace));
	if (ws == NULL)
		return 0;
	bytes = plan_workspace(model, ws, max_batch, training, offsets, &n_offsets);
	ecg_free(ws);
	return bytes == 0 ? 0 : bytes + sizeof(nn_workspace) + ARENA_ALIGN;
}

nn_workspace *
nn_workspace_create(const nn_model *model, size_t max_batch, int training, ecg_status *st)
{
	nn_workspace *ws;
	size_t		offsets[4 * NN_MAX_NODES + 8 + MAX_SLOTS];
	int			n_offsets;
	size_t		bytes;
	char	   *base;

	if (max_batch == 0 || max_batch > MAX_BATCH)
	{
		ecg_fail(st, ECG_ERR_ARGUMENT, "batch size %zu out of range 1..%zu", max_batch, MAX_BATCH);
		return NULL;
	}
	ws = ecg_alloc(sizeof(nn_workspace));
	if (ws == NULL)
	{
		ecg_fail(st, ECG_ERR_NOMEM, "out of memory for a network workspace");
		return NULL;
	}
	bytes = plan_workspace(model, ws, max_batch, training, offsets, &n_offsets);
	if (bytes == 0)
	{
		ecg_free(ws);
		ecg_fail(st, ECG_ERR_NOMEM, "network workspace for batches of %zu rows is too large", max_batch);
		return NULL;
	}
	if (ecg_check_memory(bytes + sizeof(nn_workspace), "network workspace", st) != 0)
	{
		ecg_fail_detail(st, "%s model, %s batches of %zu rows need %zu MB", model->arch.name,
						training ? "training" : "inference", max_batch, bytes >> 20);
		ecg_free(ws);
		return NULL;
	}
	ws->arena = ecg_alloc(bytes + ARENA_ALIGN);
	if (ws->arena == NULL)
	{
		ecg_free(ws);
		ecg_fail(st, ECG_ERR_NOMEM, "out of memory for a network workspace of %zu MB", bytes >> 20);
		return NULL;
	}
	base = (char *) ws->arena + (ARENA_ALIGN - (uintptr_t) ws->arena % ARENA_ALIGN) % ARENA_ALIGN;
	bind_workspace(model, ws, base, offsets);
	ws->model = model;
	return ws;
}

void
nn_workspace_free(nn_workspace *ws)
{
	if (ws == NULL)
		return;
	ecg_free(ws->arena);
	ecg_free(ws);
}

const float *
nn_workspace_probs(const nn_workspace *ws)
{
	return ws->probs;
}

size_t
nn_workspace_batch(const nn_workspace *ws)
{
	return ws->batch;
}

int
nn_workspace_load_input(const nn_model *model, nn_workspace *ws, const nn_input *in,
						const uint32_t *rows, size_t n, ecg_status *st)
{
	size_t		row_values = (size_t) model->input_length * (size_t) model->input_channels;
	size_t		copy;

	if (ws->model != model)
		return ecg_fail(st, ECG_ERR_ARGUMENT, "the workspace was made for another model than \"%s\"",
						model->arch.name);
	if (in->channels != (size_t) model->input_channels || in->length == 0 ||
		in->length > (size_t) model->input_length)
	{
		ecg_fail(st, ECG_ERR_ARGUMENT, "beats of %zu samples x %zu channels do not fit model \"%s\"",
				 in->length, in->channels, model->arch.name);
		return ecg_fail_detail(st, "the model takes up to %d samples x %d channels",
							   model->input_length, model->input_channels);
	}
	if (n > ws->batch)
		return ecg_fail(st, ECG_ERR_ARGUMENT, "%zu beats exceed the workspace's batch of %zu rows",
						n, ws->batch);
	/* the values of one beat; <= row_values, so the product cannot overflow */
	copy = in->length * in->channels;
	for (size_t r = 0; r < n; r++)
	{
		size_t		src = rows ? rows[r] : r;
		float	   *dst = ws->act[0] + r * row_values;

		if (src >= in->n_beats)
			return ecg_fail(st, ECG_ERR_ARGUMENT, "beat %zu requested, %zu supplied", src, in->n_beats);
		memcpy(dst, in->values + src * copy, copy * sizeof(float));
		memset(dst + copy, 0, (row_values - copy) * sizeof(float));
	}
	if (model->n_features > 0)
	{
		size_t		w = (size_t) model->n_features;

		if (in->features == NULL)
		{
			ecg_fail(st, ECG_ERR_ARGUMENT, "model \"%s\" needs %zu features per beat, none were given",
					 model->arch.name, w);
			return ecg_fail_detail(st, "it was trained with R-R features (rr_features.h)");
		}
		for (size_t r = 0; r < n; r++)
		{
			const float *f = in->features + (rows ? rows[r] : r) * w;

			for (size_t k = 0; k < w; k++)
				ws->features_in[r * w + k] = (f[k] - model->feature_mean[k]) / model->feature_sd[k];
		}
	}
	return 0;
}

/* Forward ----------------------------------------------------------------------- */

static const float *
param(const nn_model *m, int node, int k)
{
	return m->tensors[m->node_tensor[node] + k].data;
}

static float *
param_grad(const nn_model *m, int node, int k)
{
	return m->tensors[m->node_tensor[node] + k].grad;
}

static void
forward_batchnorm(nn_model *m, nn_workspace *ws, int k, size_t n, int training, rng_state *rng,
				  nn_pool *pool)
{
	const nn_step *s = &ws->steps[k];
	int			c = m->channels[s->node];
	size_t		rows = n * (size_t) m->length[s->node];
	float	   *y = ws->act[s->out];
	const float *x = ws->act[s->in[0]];
	const float *gamma = param(m, s->node, 0);
	const float *beta = param(m, s->node, 1);
	float	   *mean = ws->bn_stats[k],
			   *var = mean + c,
			   *invstd = mean + 2 * c;

	if (!training)
	{
		if (s->relu)
			nn_bn_relu_forward_infer(pool, y, x, gamma, beta, param(m, s->node, 2),
									 param(m, s->node, 3), rows, c, NN_BN_EPSILON);
		else
			nn_batchnorm_forward_infer(pool, y, x, gamma, beta, param(m, s->node, 2),
									   param(m, s->node, 3), rows, c, NN_BN_EPSILON);
		return;
	}
	if (s->relu)
		nn_bn_relu_dropout_forward_train(pool, y, x, gamma, beta, rows, c, NN_BN_EPSILON,
										 mean, var, invstd, s->rate > 0 ? ws->mask[k] : NULL,
										 s->rate, rng, ws->kernel_ws);
	else
		nn_batchnorm_forward_train(pool, y, x, gamma, beta, rows, c, NN_BN_EPSILON,
								   mean, var, invstd, ws->kernel_ws);
	/* like a Keras training step, update the moving statistics right away */
	nn_batchnorm_update_moving((float *) param(m, s->node, 2), (float *) param(m, s->node, 3),
							   mean, var, c, NN_BN_MOMENTUM);
}

static void
forward_step(nn_model *m, nn_workspace *ws, int k, size_t n, int training, rng_state *rng,
			 nn_pool *pool)
{
	const nn_step *s = &ws->steps[k];
	const nn_node *nd = &m->arch.nodes[s->node];
	int			in = s->in[0];
	float	   *y = ws->act[s->out];
	const float *x = in >= 0 ? ws->act[in] : NULL;
	size_t		count = n * node_values(m, s->out);

	switch (s->kind)
	{
		case STEP_FEATURES:
			memcpy(y, ws->features_in, count * sizeof(float));
			break;
		case STEP_CONCAT:
			nn_concat_forward(y, x, (int) node_values(m, in), ws->act[s->in[1]],
							  (int) node_values(m, s->in[1]), (int) n);
			break;
		case STEP_CONV:
			nn_conv1d_forward(pool, y, x, param(m, s->node, 0), param(m, s->node, 1), (int) n,
							  m->length[in], m->channels[in], nd->units, nd->size, ws->kernel_ws);
			break;
		case STEP_DENSE:
			nn_dense_forward(pool, y, x, param(m, s->node, 0), param(m, s->node, 1), (int) n,
							 (int) node_values(m, in), nd->units);
			break;
		case STEP_BATCHNORM:
			forward_batchnorm(m, ws, k, n, training, rng, pool);
			break;
		case STEP_RELU:
			nn_relu_forward(pool, y, x, count);
			break;
		case STEP_DROPOUT:
			if (training && s->rate > 0)
				nn_dropout_forward_train(pool, y, x, ws->mask[k], count, s->rate, rng);
			else if (y != x)
				memcpy(y, x, count * sizeof(float));
			break;
		case STEP_MAXPOOL:
			nn_maxpool1d_forward(pool, y, ws->mask[k], x, (int) n, m->length[in], m->channels[in]);
			break;
		case STEP_ADD:
			nn_add_forward(pool, y, x, ws->act[s->in[1]], count);
			break;
		case STEP_FLATTEN:
			break;
	}
}

static void
forward_logits(nn_model *m, nn_workspace *ws, size_t n, int training, rng_state *rng,
			   nn_pool *pool)
{
	for (int k = 0; k < ws->n_steps; k++)
		forward_step(m, ws, k, n, training && ws->training, rng, pool);
}

static size_t
count_correct(const float *probs, const int *labels, size_t n, int classes)
{
	size_t		correct = 0;

	for (size_t i = 0; i < n; i++)
	{
		const float *p = probs + i * (size_t) classes;
		int			best = 0;

		for (int c = 1; c < classes; c++)
			if (p[c] > p[best])
				best = c;
		correct += best == labels[i];
	}
	return correct;
}

void
nn_forward(nn_model *model, nn_workspace *ws, size_t n, int training, rng_state *dropout_rng,
		   nn_pool *pool)
{
	forward_logits(model, ws, n, training, dropout_rng, pool);
	nn_softmax_forward(pool, ws->probs, ws->act[model->arch.n_nodes - 1], (int) n, model->n_classes);
}

double
nn_forward_loss(nn_model *model, nn_workspace *ws, size_t n, int training, rng_state *dropout_rng,
				const int *labels, const float *sample_weight, nn_pool *pool, size_t *correct)
{
	double		loss;

	forward_logits(model, ws, n, training, dropout_rng, pool);
	loss = nn_softmax_xent_forward(pool, ws->probs, NULL, ws->act[model->arch.n_nodes - 1],
								   labels, sample_weight, (int) n, model->n_classes);
	if (correct != NULL)
		*correct = count_correct(ws->probs, labels, n, model->n_classes);
	return loss;
}

/* Backward: gradient slot bookkeeping -------------------------------------------- */

typedef struct grad_state
{
	int			node_slot[NN_MAX_NODES];	/* slot holding each node's gradient, -1 */
	int			refs[MAX_SLOTS];	/* nodes (or scratch users) holding each slot */
	int			high_water;		/* slots ever used */
	int			dry;			/* bookkeeping only, no kernels */
	size_t		n;				/* rows */
	/*
	 * The gradient of the inference-mode function (nn_input_gradient): batch
	 * norm with its moving statistics (a per-channel affine map), dropout the
	 * identity, and the beat input (node 0) receives a gradient like any
	 * other node.  0: the training step's gradient, the input gets none.
	 */
	int			frozen;
	const float *d_logits;		/* frozen: the seed [n][classes] */
} grad_state;

static int
slot_acquire(grad_state *g)
{
	for (int i = 0; i < MAX_SLOTS; i++)
		if (g->refs[i] == 0)
		{
			g->refs[i] = 1;
			if (i + 1 > g->high_water)
				g->high_water = i + 1;
			return i;
		}
	return -1;					/* not reached: at most one slot per node + 2 */
}

static void
slot_release(grad_state *g, int slot)
{
	g->refs[slot]--;
}

static float *
slot_buf(nn_workspace *ws, grad_state *g, int slot)
{
	return g->dry ? NULL : ws->slots[slot];
}

/* A node whose values come from the caller (beat input or features): no
 * gradient is propagated into it - except into the beat input when the
 * input gradient is wanted (frozen). */
static int
is_data_node(const nn_model *m, const grad_state *g, int x)
{
	return (m->arch.nodes[x].op == NN_OP_INPUT && !g->frozen) ||
		m->arch.nodes[x].op == NN_OP_FEATURES;
}

/* Before accumulating into node x's gradient: unshare its slot by copying. */
static void
make_private(const nn_model *m, nn_workspace *ws, grad_state *g, int x, nn_pool *pool)
{
	int			old = g->node_slot[x];
	int			fresh;

	(void) pool;
	if (g->refs[old] == 1)
		return;
	fresh = slot_acquire(g);
	if (!g->dry)
		memcpy(ws->slots[fresh], ws->slots[old], g->n * node_values(m, x) * sizeof(float));
	slot_release(g, old);
	g->node_slot[x] = fresh;
}

/* An add or flatten hands its output gradient (slot dy) to input x. */
static void
pass_gradient(const nn_model *m, nn_workspace *ws, grad_state *g, int x, int dy, nn_pool *pool)
{
	if (is_data_node(m, g, x))
		return;
	if (g->node_slot[x] < 0)
	{
		g->node_slot[x] = dy;
		g->refs[dy]++;
		return;
	}
	make_private(m, ws, g, x, pool);
	if (!g->dry)
		nn_accumulate(pool, ws->slots[g->node_slot[x]], ws->slots[dy], g->n * node_values(m, x));
}

typedef struct grad_target
{
	int			slot;			/* where the kernel writes dx */
	int			accumulate;		/* scratch: add into x's gradient afterwards */
	int			discard;		/* x needs no gradient: drop after the kernel */
} grad_target;

/*
 * Chooses where a kernel writes the gradient of its input x: x's own new slot
 * (first consumer), dy's slot when the kernel may work in place and nothing
 * else holds it, or a scratch slot to be accumulated (later consumers).
 */
static grad_target
gradient_target(const nn_model *m, grad_state *g, int x, int dy, int may_alias)
{
	grad_target t = {-1, 0, 0};

	if (is_data_node(m, g, x))
	{
		t.slot = slot_acquire(g);
		t.discard = 1;
	}
	else if (g->node_slot[x] >= 0)
	{
		t.slot = slot_acquire(g);
		t.accumulate = 1;
	}
	else if (may_alias && g->refs[dy] == 1)
	{
		t.slot = dy;
		g->refs[dy]++;
		g->node_slot[x] = dy;
	}
	else
	{
		t.slot = slot_acquire(g);
		g->node_slot[x] = t.slot;
	}
	return t;
}

static void
gradient_done(const nn_model *m, nn_workspace *ws, grad_state *g, int x, grad_target t,
			  nn_pool *pool)
{
	if (t.accumulate)
	{
		make_private(m, ws, g, x, pool);
		if (!g->dry)
			nn_accumulate(pool, ws->slots[g->node_slot[x]], ws->slots[t.slot],
						  g->n * node_values(m, x));
	}
	if (t.accumulate || t.discard)
		slot_release(g, t.slot);
}

/* Backward of one step (kernels skipped in a dry run). */
static void
backward_step(nn_model *m, nn_workspace *ws, grad_state *g, int k, nn_pool *pool)
{
	const nn_step *s = &ws->steps[k];
	const nn_node *nd = &m->arch.nodes[s->node];
	int			in = s->in[0];
	int			dy_slot = g->node_slot[s->out];
	const float *dy = slot_buf(ws, g, dy_slot);
	const float *x;
	size_t		n = g->n;
	size_t		count = n * node_values(m, s->out);
	int			input_is_data;
	grad_target t;
	float	   *dx;

	if (s->kind == STEP_FEATURES)
	{
		/* data: its gradient is dropped */
		g->node_slot[s->out] = -1;
		slot_release(g, dy_slot);
		return;
	}
	x = ws->act[in];
	input_is_data = is_data_node(m, g, in);
	if (s->kind == STEP_CONCAT)
	{
		grad_target t0 = gradient_target(m, g, in, dy_slot, 0);
		grad_target t1 = gradient_target(m, g, s->in[1], dy_slot, 0);

		if (!g->dry)
			nn_concat_backward(t0.discard ? NULL : ws->slots[t0.slot],
							   t1.discard ? NULL : ws->slots[t1.slot], dy,
							   (int) node_values(m, in), (int) node_values(m, s->in[1]), (int) n);
		gradient_done(m, ws, g, in, t0, pool);
		gradient_done(m, ws, g, s->in[1], t1, pool);
	}
	else if (s->kind == STEP_ADD || s->kind == STEP_FLATTEN)
	{
		pass_gradient(m, ws, g, in, dy_slot, pool);
		if (s->kind == STEP_ADD)
			pass_gradient(m, ws, g, s->in[1], dy_slot, pool);
	}
	else if ((s->kind == STEP_CONV || s->kind == STEP_DENSE) && input_is_data)
	{
		/* the first layer: weight gradients only */
		if (!g->dry && s->kind == STEP_CONV)
			nn_conv1d_backward(pool, NULL, param_grad(m, s->node, 0), param_grad(m, s->node, 1), dy, x,
							   param(m, s->node, 0), (int) n, m->length[in], m->channels[in],
							   nd->units, nd->size, ws->kernel_ws);
		else if (!g->dry)
			nn_dense_backward(pool, NULL, param_grad(m, s->node, 0), param_grad(m, s->node, 1), dy, x,
							  param(m, s->node, 0), (int) n, (int) node_values(m, in), nd->units,
							  ws->kernel_ws);
	}
	else if (!(input_is_data && (s->kind == STEP_RELU || s->kind == STEP_DROPOUT ||
								 s->kind == STEP_MAXPOOL)))
	{
		int			elementwise = s->kind == STEP_BATCHNORM || s->kind == STEP_RELU ||
			s->kind == STEP_DROPOUT;

		t = gradient_target(m, g, in, dy_slot, elementwise);
		dx = slot_buf(ws, g, t.slot);
		if (!g->dry)
			switch (s->kind)
			{
				case STEP_CONV:
					/* frozen: the input gradient alone, no weight gradients */
					nn_conv1d_backward(pool, dx, g->frozen ? NULL : param_grad(m, s->node, 0),
									   g->frozen ? NULL : param_grad(m, s->node, 1), dy, x,
									   param(m, s->node, 0), (int) n, m->length[in],
									   m->channels[in], nd->units, nd->size, ws->kernel_ws);
					break;
				case STEP_DENSE:
					nn_dense_backward(pool, dx, param_grad(m, s->node, 0), param_grad(m, s->node, 1),
									  dy, x, param(m, s->node, 0), (int) n, (int) node_values(m, in),
									  nd->units, ws->kernel_ws);
					break;
				case STEP_BATCHNORM:
					{
						int			c = m->channels[in];
						size_t		rows = n * (size_t) m->length[in];
						const float *mean = ws->bn_stats[k];

						if (g->frozen)
							nn_batchnorm_backward_infer(pool, dx, dy, s->relu ? ws->act[s->out] : NULL,
														param(m, s->node, 0), param(m, s->node, 3),
														rows, c, NN_BN_EPSILON);
						else if (s->relu)
							nn_bn_relu_dropout_backward(pool, dx, param_grad(m, s->node, 0),
														param_grad(m, s->node, 1), dy, x,
														param(m, s->node, 0), param(m, s->node, 1),
														mean, mean + 2 * c,
														s->rate > 0 ? ws->mask[k] : NULL, s->rate,
														rows, c, ws->kernel_ws);
						else
							nn_batchnorm_backward(pool, dx, param_grad(m, s->node, 0),
												  param_grad(m, s->node, 1), dy, x,
												  param(m, s->node, 0), mean, mean + 2 * c, rows, c,
												  ws->kernel_ws);
					}
					break;
				case STEP_RELU:
					nn_relu_backward(pool, dx, dy, ws->act[s->out], count);
					break;
				case STEP_DROPOUT:
					if (s->rate > 0 && !g->frozen)
						nn_dropout_backward(pool, dx, dy, ws->mask[k], count, s->rate);
					else if (dx != dy)
						memcpy(dx, dy, count * sizeof(float));
					break;
				case STEP_MAXPOOL:
					nn_maxpool1d_backward(pool, dx, dy, ws->mask[k], (int) n, m->length[in],
										  m->channels[in]);
					break;
				case STEP_ADD:
				case STEP_FLATTEN:
				case STEP_FEATURES:
				case STEP_CONCAT:
					break;
			}
		gradient_done(m, ws, g, in, t, pool);
	}
	/* this step's output gradient is consumed */
	g->node_slot[s->out] = -1;
	slot_release(g, dy_slot);
}

static void
run_backward(nn_model *m, nn_workspace *ws, grad_state *g, const int *labels,
			 const float *sample_weight, nn_pool *pool)
{
	int			last = m->arch.n_nodes - 1;
	int			logits_slot;

	for (int i = 0; i < NN_MAX_NODES; i++)
		g->node_slot[i] = -1;
	memset(g->refs, 0, sizeof(g->refs));
	g->high_water = 0;
	logits_slot = slot_acquire(g);
	g->node_slot[last] = logits_slot;
	if (!g->dry && g->frozen)
		memcpy(ws->slots[logits_slot], g->d_logits, g->n * (size_t) m->n_classes * sizeof(float));
	else if (!g->dry)
		nn_softmax_xent_backward(pool, ws->slots[logits_slot], ws->probs, labels, sample_weight,
								 (int) g->n, m->n_classes);
	for (int k = ws->n_steps - 1; k >= 0; k--)
		backward_step(m, ws, g, k, pool);
}

/* Slots the backward passes need (dry runs of the bookkeeping): the
 * training step's and the input gradient's, whichever needs more. */
static int
count_gradient_slots(const nn_model *m, nn_workspace *ws)
{
	grad_state	g;
	int			most = 0;

	for (int frozen = 0; frozen <= 1; frozen++)
	{
		memset(&g, 0, sizeof(g));
		g.dry = 1;
		g.frozen = frozen;
		g.n = ws->batch;
		run_backward((nn_model *) m, ws, &g, NULL, NULL, NULL);
		if (g.high_water > most)
			most = g.high_water;
	}
	return most;
}

void
nn_backward(nn_model *model, nn_workspace *ws, const int *labels, const float *sample_weight,
			size_t n, nn_pool *pool)
{
	grad_state	g;

	memset(model->grads, 0, model->n_params * sizeof(float));
	memset(&g, 0, sizeof(g));
	g.n = n;
	run_backward(model, ws, &g, labels, sample_weight, pool);
}

void
nn_input_gradient(nn_model *model, nn_workspace *ws, size_t n, const float *d_logits,
				  float *d_input, nn_pool *pool)
{
	grad_state	g;
	size_t		row_values = node_values(model, 0);

	memset(model->grads, 0, model->n_params * sizeof(float));
	memset(&g, 0, sizeof(g));
	g.n = n;
	g.frozen = 1;
	g.d_logits = d_logits;
	run_backward(model, ws, &g, NULL, NULL, pool);
	if (g.node_slot[0] >= 0)
		memcpy(d_input, ws->slots[g.node_slot[0]], n * row_values * sizeof(float));
	else						/* no path from the beat to the logits */
		memset(d_input, 0, n * row_values * sizeof(float));
}

const float *
nn_workspace_logits(const nn_workspace *ws)
{
	return ws->act[ws->model->arch.n_nodes - 1];
}

/* Inference --------------------------------------------------------------------- */

/* Index of the first value of p[0..n) that is NaN or infinite, or n. */
static size_t
first_non_finite(const float *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isfinite(p[i]))
			return i;
	return n;
}

int
nn_model_predict(nn_model *model, nn_workspace *ws, const float *beats, size_t beat_length,
				 size_t n, float *probs, nn_pool *pool, ecg_status *st)
{
	nn_input	in = {beats, n, beat_length, 1, NULL};

	return nn_model_predict_input(model, ws, &in, probs, pool, st);
}

int
nn_model_predict_input(nn_model *model, nn_workspace *ws, const nn_input *rows_in, float *probs,
					   nn_pool *pool, ecg_status *st)
{
	nn_workspace *own = NULL;
	size_t		classes = (size_t) model->n_classes;
	size_t		bad;
	size_t		beat_length = rows_in->length;
	size_t		n = rows_in->n_beats;
	const float *beats = rows_in->values;
	nn_input	in = *rows_in;

	if (beat_length == 0 || beat_length > (size_t) model->input_length)
		return ecg_fail(st, ECG_ERR_ARGUMENT, "beats of %zu samples do not fit the model input of %d",
						beat_length, model->input_length);
	if (model->input_channels != 1)
		return ecg_fail(st, ECG_ERR_ARGUMENT, "model \"%s\" takes %d input channels, the beats have one",
						model->arch.name, model->input_channels);
	if (n == 0)
		return 0;
	if (ws != NULL && ws->model != model)
		return ecg_fail(st, ECG_ERR_ARGUMENT, "the workspace was made for another model than \"%s\"",
						model->arch.name);
	if (ws == NULL)
	{
		own = nn_workspace_create(model, n < DEFAULT_PREDICT_BATCH ? n : DEFAULT_PREDICT_BATCH, 0, st);
		if (own == NULL)
			return -1;
		ws = own;
	}
	for (size_t start = 0; start < n; start += ws->batch)
	{
		size_t		rows = n - start < ws->batch ? n - start : ws->batch;

		in.values = beats + start * beat_length;
		in.n_beats = rows;
		if (rows_in->features != NULL)
			in.features = rows_in->features + start * (size_t) model->n_features;
		if (nn_workspace_load_input(model, ws, &in, NULL, rows, st) != 0)
		{
			nn_workspace_free(own);
			return -1;
		}
		nn_forward(model, ws, rows, 0, NULL, pool);
		memcpy(probs + start * classes, ws->probs, rows * classes * sizeof(float));
		nn_model_apply_operating_point(model, probs + start * classes, rows);
		/* finite weights can still overflow float on the way (a corrupt or
		 * diverged model): report it rather than return NaN probabilities */
		bad = first_non_finite(probs + start * classes, rows * classes);
		if (bad < rows * classes)
		{
			nn_workspace_free(own);
			ecg_fail(st, ECG_ERR_DATA, "model \"%s\" computes a non-finite probability",
					 model->arch.name);
			return ecg_fail_detail(st, "beat %zu: its activations overflow float (weights too large)",
								   start + bad / classes);
		}
		ecg_check_interrupts();
	}
	nn_workspace_free(own);
	return 0;
}

/* Memory ------------------------------------------------------------------------- */

size_t
nn_model_inference_bytes(const nn_model *model)
{
	size_t		one = nn_workspace_bytes(model, 1, 0);
	size_t		batch = nn_workspace_bytes(model, NN_INFERENCE_BATCH, 0);
	/* params and grads are n_params floats each, state n_state (+1 each) */
	size_t		arrays = (2 * (model->n_params + 1) + model->n_state + 1) * sizeof(float);

	if (one == 0 || batch == 0 || one > SIZE_MAX / 4 || batch > SIZE_MAX / 4 || arrays > SIZE_MAX / 4)
		return 0;
	return sizeof(nn_model) + arrays + one + batch;
}

int
nn_model_check_inference_memory(const nn_model *model, ecg_status *st)
{
	size_t		need = nn_model_inference_bytes(model);
	size_t		limit = ecg_memory_limit();

	if (need == 0 || (limit != 0 && need > limit))
	{
		ecg_fail(st, ECG_ERR_LIMIT, "model \"%s\" needs more memory than the limit allows",
				 model->arch.name);
		if (need == 0)
			return ecg_fail_detail(st, "its workspace size overflows; the limit is %zu bytes", limit);
		return ecg_fail_detail(st, "running it takes %zu bytes (parameters, a workspace of one row and one of %d rows); the limit is %zu bytes",
							   need, NN_INFERENCE_BATCH, limit);
	}
	return 0;
}
