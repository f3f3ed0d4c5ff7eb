/*
 * nn_combine.c - the sum of several models' logits as one model
 * (nn_combine.h).
 */
#include "nn_combine.h"

#include <stdio.h>
#include <string.h>

/* Appends a node; the caller checked the room. */
static int
push_node(nn_arch *a, nn_node node)
{
	a->nodes[a->n_nodes] = node;
	return a->n_nodes++;
}

/*
 * A member votes at its own operating point: its class offsets are added to
 * the bias of the dense layer that ends it (through the sums of a member
 * that is itself a sum), in the member's image in `out`.
 */
static int
fold_offsets(nn_model *out, const nn_model *member, const int *map, ecg_status *st)
{
	int			node = member->arch.n_nodes - 1;
	int			any = 0;
	nn_tensor  *bias;

	for (int c = 0; c < member->n_classes; c++)
		any |= member->class_offset[c] != 0.0f;
	if (!any)
		return 0;
	while (member->arch.nodes[node].op == NN_OP_ADD)
		node = member->arch.nodes[node].input[0];
	if (member->arch.nodes[node].op != NN_OP_DENSE || out->node_tensor[map[node]] < 0)
		return ecg_fail(st, ECG_ERR_ARGUMENT,
						"a member's operating point cannot be folded: its scores do not end in a dense layer");
	bias = &out->tensors[out->node_tensor[map[node]] + 1];
	if (bias->count != (size_t) member->n_classes)
		return ecg_fail(st, ECG_ERR_FORMAT, "the bias of %s has %zu values, not %d", bias->name,
						bias->count, (int) member->n_classes);
	for (int c = 0; c < member->n_classes; c++)
		bias->data[c] += member->class_offset[c];
	return 0;
}

/*
 * Multiplies the dense layers that end a member's scores (through its sums)
 * by w, in the member's image in `out`: node `node` of the member and the
 * nodes it adds, each read by nothing else (scaling a layer another layer
 * reads would change that one too).
 */
static int
scale_scores(nn_model *out, const nn_model *member, const int *map, int node, float w,
			 unsigned char *done, ecg_status *st)
{
	const nn_node *x = &member->arch.nodes[node];

	if (done[node])
		return 0;
	done[node] = 1;
	if (node != member->arch.n_nodes - 1 && member->n_consumers[node] != 1)
	{
		ecg_fail(st, ECG_ERR_ARGUMENT,
				 "a member's scores cannot be weighted: node %d, which they add, is read by %d layers",
				 node, (int) member->n_consumers[node]);
		return ecg_fail_detail(st, "a weight multiplies layers whose output only the sum reads");
	}
	if (x->op == NN_OP_ADD)
	{
		if (scale_scores(out, member, map, x->input[0], w, done, st) != 0)
			return -1;
		return scale_scores(out, member, map, x->input[1], w, done, st);
	}
	if (x->op != NN_OP_DENSE || out->node_tensor[map[node]] < 0)
	{
		ecg_fail(st, ECG_ERR_ARGUMENT,
				 "a member's scores cannot be weighted: they come from a %s node, not a dense layer",
				 nn_op_name(x->op));
		return ecg_fail_detail(st, "a weight multiplies the dense layers that end a member, or the sums of them");
	}
	for (int k = 0; k < 2; k++)
	{
		nn_tensor  *t = &out->tensors[out->node_tensor[map[node]] + k];

		for (size_t i = 0; i < t->count; i++)
			t->data[i] *= w;
	}
	return 0;
}

static int
check_weights(const float *weights, int n, ecg_status *st)
{
	for (int m = 0; weights != NULL && m < n; m++)
		if (!(weights[m] > 0.0f && weights[m] <= NN_COMBINE_MAX_WEIGHT))
			return ecg_fail(st, ECG_ERR_ARGUMENT,
							"the weight of model %d is %g; a weight is above 0 and at most %g", m + 1,
							(double) weights[m], (double) NN_COMBINE_MAX_WEIGHT);
	return 0;
}

static int
check_models(const nn_model *const *models, int n, int *with_features, ecg_status *st)
{
	int			nodes = 1 + (n - 1);	/* the shared input, the adds */

	if (n < 2 || n > NN_COMBINE_MAX_MODELS)
		return ecg_fail(st, ECG_ERR_ARGUMENT, "a sum takes 2 to %d models, not %d",
						NN_COMBINE_MAX_MODELS, n);
	*with_features = -1;
	for (int m = 0; m < n; m++)
	{
		const nn_model *x = models[m];

		if (x->input_length != models[0]->input_length ||
			x->input_channels != models[0]->input_channels)
			return ecg_fail(st, ECG_ERR_ARGUMENT,
							"model %d takes beats of %d x %d values, model 1 of %d x %d", m + 1,
							(int) x->input_length, (int) x->input_channels,
							(int) models[0]->input_length, (int) models[0]->input_channels);
		if (x->n_classes != models[0]->n_classes)
			return ecg_fail(st, ECG_ERR_ARGUMENT, "model %d gives %d classes, model 1 %d", m + 1,
							(int) x->n_classes, (int) models[0]->n_classes);
		if (x->n_features > 0)
		{
			if (*with_features >= 0)
			{
				ecg_fail(st, ECG_ERR_ARGUMENT, "models %d and %d both take R-R features",
						 *with_features + 1, m + 1);
				return ecg_fail_detail(st, "a sum reads the features of one model only");
			}
			*with_features = m;
		}
		nodes += x->arch.n_nodes - 1;
	}
	if (nodes > NN_MAX_NODES)
		return ecg_fail(st, ECG_ERR_LIMIT, "the sum would have %d nodes; a model has at most %d",
						nodes, NN_MAX_NODES);
	return 0;
}

nn_model *
nn_model_sum(const nn_model *const *models, const float *weights, int n, const char *name,
			 ecg_status *st)
{
	nn_arch		a;
	int			map[NN_COMBINE_MAX_MODELS][NN_MAX_NODES];
	int			last[NN_COMBINE_MAX_MODELS];
	int			with_features = -1;
	int			sum;
	nn_model   *out;

	if (check_models(models, n, &with_features, st) != 0 || check_weights(weights, n, st) != 0)
		return NULL;
	memset(&a, 0, sizeof(a));
	snprintf(a.name, sizeof(a.name), "%s", name);
	push_node(&a, models[0]->arch.nodes[0]);
	for (int m = 0; m < n; m++)
	{
		const nn_arch *src = &models[m]->arch;

		map[m][0] = 0;
		for (int i = 1; i < src->n_nodes; i++)
		{
			nn_node		node = src->nodes[i];

			for (int k = 0; k < 2; k++)
				if (node.input[k] >= 0)
					node.input[k] = map[m][node.input[k]];
			map[m][i] = push_node(&a, node);
		}
		last[m] = map[m][src->n_nodes - 1];
	}
	sum = last[0];
	for (int m = 1; m < n; m++)
	{
		nn_node		add = {NN_OP_ADD, {sum, last[m]}, 0, 0, 0.0f};

		sum = push_node(&a, add);
	}
	out = nn_model_create_from_arch(&a, st);
	if (out == NULL)
		return NULL;

	/* parameters and state, tensor by tensor: each source node's tensors are
	 * those of its image, in the same order */
	for (int m = 0; m < n; m++)
	{
		const nn_model *src = models[m];

		for (int i = 1; i < src->arch.n_nodes; i++)
		{
			int			ts = src->node_tensor[i],
						td = out->node_tensor[map[m][i]];

			if (ts < 0)
				continue;
			for (; ts < src->n_tensors && src->tensors[ts].node == i; ts++, td++)
			{
				if (td >= out->n_tensors || out->tensors[td].count != src->tensors[ts].count)
				{
					ecg_fail(st, ECG_ERR_FORMAT, "model %d: tensor %s has no match in the sum",
							 m + 1, src->tensors[ts].name);
					nn_model_free(out);
					return NULL;
				}
				memcpy(out->tensors[td].data, src->tensors[ts].data,
					   sizeof(float) * src->tensors[ts].count);
			}
		}
	}
	for (int m = 0; m < n; m++)
	{
		unsigned char done[NN_MAX_NODES] = {0};

		if (fold_offsets(out, models[m], map[m], st) != 0 ||
			(weights != NULL && weights[m] != 1.0f &&
			 scale_scores(out, models[m], map[m], models[m]->arch.n_nodes - 1, weights[m], done,
						  st) != 0))
		{
			nn_model_free(out);
			return NULL;
		}
	}
	if (with_features >= 0)
	{
		const nn_model *f = models[with_features];

		if (nn_model_set_features(out, f->feature_ids, f->n_features, st) != 0)
		{
			nn_model_free(out);
			return NULL;
		}
		memcpy(out->feature_mean, f->feature_mean, sizeof(float) * f->n_features);
		memcpy(out->feature_sd, f->feature_sd, sizeof(float) * f->n_features);
	}
	out->decision = NN_DECISION_ARGMAX;
	memset(out->class_offset, 0, sizeof(out->class_offset));
	return out;
}
