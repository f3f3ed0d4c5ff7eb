/*
 * nn_model.c - layer-graph descriptions (built-in architectures, validation,
 * text rendering) and models: parameter tensors, allocation, initialisation.
 * The forward and backward passes over the graph are in nn_model_exec.c.
 */
#include "nn_model.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Bounds that keep every size computation far from overflow. */
#define MAX_NODE_VALUES (1 << 24)	/* length * channels of one node */
#define MAX_PARAMS (1 << 24)	/* floats over all tensors */
#define MAX_KERNEL 64
#define MAX_FILTERS 4096

/* Keras: the standard deviation of a normal truncated at +-2 sd is
 * 0.87962566103423978 times that of the untruncated one. */
#define TRUNCATED_NORMAL_SD_RATIO 0.87962566103423978

static const char *const op_names[] = {
	"?", "input", "conv1d", "dense", "batchnorm", "relu", "dropout", "maxpool", "add", "flatten",
	"features", "concat"
};

const char *
nn_op_name(int32_t op)
{
	if (op < NN_OP_FIRST || op > NN_OP_LAST)
		return "?";
	return op_names[op];
}

/* Built-in architectures ----------------------------------------------------- */

/* Appends a node; returns its index.  The built-ins stay far below the limit. */
static int
add_node(nn_arch *a, nn_op op, int in0, int in1, int units, int size, float rate)
{
	nn_node    *nd = &a->nodes[a->n_nodes];

	nd->op = op;
	nd->input[0] = in0;
	nd->input[1] = in1;
	nd->units = units;
	nd->size = size;
	nd->rate = rate;
	return a->n_nodes++;
}

/* Flatten(200) - Dense(128, relu) - Dropout(0.2) - Dense(5) */
static void
build_baseline(nn_arch *a)
{
	int			x;

	x = add_node(a, NN_OP_INPUT, -1, -1, NN_INPUT_CHANNELS, NN_INPUT_LENGTH, 0);
	x = add_node(a, NN_OP_FLATTEN, x, -1, 0, 0, 0);
	x = add_node(a, NN_OP_DENSE, x, -1, 128, 0, 0);
	x = add_node(a, NN_OP_RELU, x, -1, 0, 0, 0);
	x = add_node(a, NN_OP_DROPOUT, x, -1, 0, 0, 0.2f);
	add_node(a, NN_OP_DENSE, x, -1, NN_N_CLASSES, 0, 0);
}

/* Conv1D(filters, kernel 4, 'same') */
static int
conv4(nn_arch *a, int x, int filters)
{
	return add_node(a, NN_OP_CONV1D, x, -1, filters, 4, 0);
}

/* BN - ReLU - Dropout(0.2) */
static int
bn_relu_dropout(nn_arch *a, int x)
{
	x = add_node(a, NN_OP_BATCHNORM, x, -1, 0, 0, 0);
	x = add_node(a, NN_OP_RELU, x, -1, 0, 0, 0);
	return add_node(a, NN_OP_DROPOUT, x, -1, 0, 0, 0.2f);
}

/*
 * The reduced Rajpurkar et al. (2017) residual network:
 *   Conv - BN - ReLU;
 *   block 1: Conv - BN - ReLU - Dropout - Conv, + block input;
 *   blocks 2-4: BN - ReLU - Dropout - Conv - BN - ReLU - Dropout - Conv,
 *     + block input (block 3's input is first max-pooled, 200 -> 100);
 *   BN - ReLU - Flatten - Dense(5).
 * All convs kernel 4, 'same', with `filters` filters: 16 in the study's cnn.
 */
static void
build_residual_cnn(nn_arch *a, int filters)
{
	int			x,
				shortcut;

	x = add_node(a, NN_OP_INPUT, -1, -1, NN_INPUT_CHANNELS, NN_INPUT_LENGTH, 0);
	x = conv4(a, x, filters);
	x = add_node(a, NN_OP_BATCHNORM, x, -1, 0, 0, 0);
	x = add_node(a, NN_OP_RELU, x, -1, 0, 0, 0);

	shortcut = x;
	x = conv4(a, x, filters);
	x = bn_relu_dropout(a, x);
	x = conv4(a, x, filters);
	x = add_node(a, NN_OP_ADD, x, shortcut, 0, 0, 0);

	for (int block = 2; block <= 4; block++)
	{
		if (block == 3)
			x = add_node(a, NN_OP_MAXPOOL, x, -1, 0, 2, 0);
		shortcut = x;
		x = bn_relu_dropout(a, x);
		x = conv4(a, x, filters);
		x = bn_relu_dropout(a, x);
		x = conv4(a, x, filters);
		x = add_node(a, NN_OP_ADD, x, shortcut, 0, 0, 0);
	}

	x = add_node(a, NN_OP_BATCHNORM, x, -1, 0, 0, 0);
	x = add_node(a, NN_OP_RELU, x, -1, 0, 0, 0);
	x = add_node(a, NN_OP_FLATTEN, x, -1, 0, 0, 0);
	add_node(a, NN_OP_DENSE, x, -1, NN_N_CLASSES, 0, 0);
}

/*
 * baseline_rr: the baseline with the R-R features joined to the flattened
 * beat before its hidden layer:
 *   concat(Flatten(200), features(8)) - Dense(128, relu) - Dropout(0.2) - Dense(5).
 * Joined there, the hidden units can combine rhythm with morphology (a
 * premature beat of normal shape is S, a premature wide one V), which a join
 * before the last (linear) layer could only add up.
 */
static void
build_baseline_rr(nn_arch *a)
{
	int			x,
				f;

	x = add_node(a, NN_OP_INPUT, -1, -1, NN_INPUT_CHANNELS, NN_INPUT_LENGTH, 0);
	x = add_node(a, NN_OP_FLATTEN, x, -1, 0, 0, 0);
	f = add_node(a, NN_OP_FEATURES, -1, -1, NN_DEFAULT_FEATURES, 0, 0);
	x = add_node(a, NN_OP_CONCAT, x, f, 0, 0, 0);
	x = add_node(a, NN_OP_DENSE, x, -1, 128, 0, 0);
	x = add_node(a, NN_OP_RELU, x, -1, 0, 0, 0);
	x = add_node(a, NN_OP_DROPOUT, x, -1, 0, 0, 0.2f);
	add_node(a, NN_OP_DENSE, x, -1, NN_N_CLASSES, 0, 0);
}

/* The study's deep CNN: 16 filters. */
static void
build_cnn(nn_arch *a)
{
	build_residual_cnn(a, 16);
}

/* The same network twice as wide: 32 filters per conv (about 4x the work). */
static void
build_cnn_wide(nn_arch *a)
{
	build_residual_cnn(a, 32);
}

/*
 * cnn_rr: the study's cnn up to its flattened features (100 x 16), joined
 * with the R-R features passed through a small dense layer (Dense(16, relu):
 * a learned non-linear rhythm code, on the scale of the conv features), then
 * the final Dense(5).
 */
static void
build_cnn_rr(nn_arch *a)
{
	int			x,
				f;

	build_residual_cnn(a, 16);
	a->n_nodes--;				/* drop the final dense; re-added after the join */
	x = a->n_nodes - 1;			/* the flatten */
	f = add_node(a, NN_OP_FEATURES, -1, -1, NN_DEFAULT_FEATURES, 0, 0);
	f = add_node(a, NN_OP_DENSE, f, -1, 16, 0, 0);
	f = add_node(a, NN_OP_RELU, f, -1, 0, 0, 0);
	x = add_node(a, NN_OP_CONCAT, x, f, 0, 0, 0);
	add_node(a, NN_OP_DENSE, x, -1, NN_N_CLASSES, 0, 0);
}

/*
 * rr_net: a rhythm-first network for patients never seen (issue 12).  The
 * beat's shape is only summarised: three stages Conv1D(8, kernel 4, 'same') -
 * BN - ReLU - MaxPool(2) (200 -> 25 samples), Flatten(200), Dropout(0.5),
 * Dense(16, relu); the R-R features pass Dense(16, relu); the two codes are
 * joined and pass Dense(32, relu) - Dropout(0.2) - Dense(5).  cnn_rr gives
 * the final layer 1,600 shape values beside 16 rhythm values and learns the
 * training patients' beat shapes within 2-3 epochs; here both paths reach
 * the classifier as 16 values each, so rhythm (prematurity relative to the
 * patient's own R-R) weighs as much as shape.
 */
static void
build_rr_net(nn_arch *a)
{
	int			x,
				f;

	x = add_node(a, NN_OP_INPUT, -1, -1, NN_INPUT_CHANNELS, NN_INPUT_LENGTH, 0);
	for (int stage = 0; stage < 3; stage++)
	{
		x = conv4(a, x, 8);
		x = add_node(a, NN_OP_BATCHNORM, x, -1, 0, 0, 0);
		x = add_node(a, NN_OP_RELU, x, -1, 0, 0, 0);
		x = add_node(a, NN_OP_MAXPOOL, x, -1, 0, 2, 0);
	}
	x = add_node(a, NN_OP_FLATTEN, x, -1, 0, 0, 0);
	x = add_node(a, NN_OP_DROPOUT, x, -1, 0, 0, 0.5f);
	x = add_node(a, NN_OP_DENSE, x, -1, 16, 0, 0);
	x = add_node(a, NN_OP_RELU, x, -1, 0, 0, 0);
	f = add_node(a, NN_OP_FEATURES, -1, -1, NN_DEFAULT_FEATURES, 0, 0);
	f = add_node(a, NN_OP_DENSE, f, -1, 16, 0, 0);
	f = add_node(a, NN_OP_RELU, f, -1, 0, 0, 0);
	x = add_node(a, NN_OP_CONCAT, x, f, 0, 0, 0);
	x = add_node(a, NN_OP_DENSE, x, -1, 32, 0, 0);
	x = add_node(a, NN_OP_RELU, x, -1, 0, 0, 0);
	x = add_node(a, NN_OP_DROPOUT, x, -1, 0, 0, 0.2f);
	add_node(a, NN_OP_DENSE, x, -1, NN_N_CLASSES, 0, 0);
}

/*
 * rr_linear: a linear model of the R-R features alone, Dense(5) on them - a
 * multinomial logistic regression of the rhythm, trained like any model.
 * The beat is read but not used (node 0 has no consumer).  On its own it
 * knows S beats by prematurity only; its use is as the rhythm half of a
 * product of experts (nn_combine.h), beside a network that reads the shape.
 */
static void
build_rr_linear(nn_arch *a)
{
	int			f;

	add_node(a, NN_OP_INPUT, -1, -1, NN_INPUT_CHANNELS, NN_INPUT_LENGTH, 0);
	f = add_node(a, NN_OP_FEATURES, -1, -1, NN_DEFAULT_FEATURES, 0, 0);
	add_node(a, NN_OP_DENSE, f, -1, NN_N_CLASSES, 0, 0);
}

typedef struct builtin_arch
{
	const char *name;
	void		(*build) (nn_arch *a);
} builtin_arch;

static const builtin_arch builtins[] = {
	{"baseline", build_baseline},
	{"cnn", build_cnn},
	{"cnn_wide", build_cnn_wide},
	{"baseline_rr", build_baseline_rr},
	{"cnn_rr", build_cnn_rr},
	{"rr_net", build_rr_net},
	{"rr_linear", build_rr_linear},
};

const char *
nn_arch_known_names(void)
{
	return "baseline, cnn, cnn_wide, baseline_rr, cnn_rr, rr_net, rr_linear";
}

int
nn_arch_set_feature_count(nn_arch *arch, int n, ecg_status *st)
{
	if (n < 1 || n > NN_MAX_FEATURES)
		return ecg_fail(st, ECG_ERR_ARGUMENT, "a model takes 1 to %d features, not %d",
						NN_MAX_FEATURES, n);
	for (int i = 0; i < arch->n_nodes; i++)
		if (arch->nodes[i].op == NN_OP_FEATURES)
		{
			arch->nodes[i].units = n;
			return 0;
		}
	ecg_fail(st, ECG_ERR_ARGUMENT, "architecture \"%s\" takes no features", arch->name);
	return ecg_fail_detail(st, "only the *_rr architectures take R-R features");
}

int
nn_arch_builtin(const char *name, nn_arch *arch, ecg_status *st)
{
	for (size_t i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++)
		if (name != NULL && strcmp(name, builtins[i].name) == 0)
		{
			memset(arch, 0, sizeof(*arch));
			snprintf(arch->name, sizeof(arch->name), "%s", builtins[i].name);
			builtins[i].build(arch);
			return 0;
		}
	ecg_fail(st, ECG_ERR_ARGUMENT, "unknown model architecture \"%s\"", name ? name : "(null)");
	return ecg_fail_detail(st, "known architectures: %s", nn_arch_known_names());
}

/* Validation and shapes ------------------------------------------------------- */

static int
bad_node(ecg_status *st, const nn_arch *a, int i, const char *what)
{
	return ecg_fail(st, ECG_ERR_FORMAT, "invalid model graph \"%.31s\": node %d (%s): %s",
					a->name, i, nn_op_name(a->nodes[i].op), what);
}

/*
 * Checks node i given the shapes of the earlier nodes and stores its output
 * shape in length[i], channels[i].
 */
static int
check_node(const nn_arch *a, int i, int32_t *length, int32_t *channels, ecg_status *st)
{
	const nn_node *nd = &a->nodes[i];
	int			n_inputs = (nd->op == NN_OP_ADD || nd->op == NN_OP_CONCAT) ? 2 :
		nd->op == NN_OP_FEATURES ? 0 : 1;
	int64_t		in_len,
				in_ch;

	if (nd->op < NN_OP_FIRST || nd->op > NN_OP_LAST)
		return bad_node(st, a, i, "unknown operation code");
	if (nd->op == NN_OP_INPUT)
		return bad_node(st, a, i, "only node 0 may be an input");
	for (int k = 0; k < 2; k++)
	{
		if (k < n_inputs && (nd->input[k] < 0 || nd->input[k] >= i))
			return bad_node(st, a, i, "input must be an earlier node");
		if (k >= n_inputs && nd->input[k] != -1)
			return bad_node(st, a, i, "unused input slot must be -1");
	}
	if (!(nd->rate == 0.0f) && nd->op != NN_OP_DROPOUT)
		return bad_node(st, a, i, "rate must be 0 for this operation");
	if (nd->op == NN_OP_FEATURES)
	{
		if (nd->units < 1 || nd->units > NN_MAX_FEATURES || nd->size != 0)
			return bad_node(st, a, i, "features: units 1..11 and size 0");
		length[i] = 1;
		channels[i] = nd->units;
		return 0;
	}
	in_len = length[nd->input[0]];
	in_ch = channels[nd->input[0]];
	length[i] = (int32_t) in_len;
	channels[i] = (int32_t) in_ch;

	switch ((nn_op) nd->op)
	{
		case NN_OP_CONV1D:
			if (nd->units < 1 || nd->units > MAX_FILTERS)
				return bad_node(st, a, i, "filters out of range 1..4096");
			if (nd->size < 1 || nd->size > MAX_KERNEL)
				return bad_node(st, a, i, "kernel size out of range 1..64");
			channels[i] = nd->units;
			break;
		case NN_OP_DENSE:
			if (nd->units < 1 || nd->units > NN_MAX_DIM)
				return bad_node(st, a, i, "units out of range 1..65536");
			if (nd->size != 0)
				return bad_node(st, a, i, "size must be 0");
			length[i] = 1;
			channels[i] = nd->units;
			break;
		case NN_OP_MAXPOOL:
			if (nd->size != 2 || nd->units != 0)
				return bad_node(st, a, i, "only pool size 2 (units 0) is supported");
			if (in_len < 2)
				return bad_node(st, a, i, "input shorter than the pool");
			length[i] = (int32_t) (in_len / 2);
			break;
		case NN_OP_DROPOUT:
			if (!(nd->rate >= 0.0f && nd->rate < 1.0f))
				return bad_node(st, a, i, "rate must be in [0, 1)");
			/* FALLTHROUGH */
		case NN_OP_BATCHNORM:
		case NN_OP_RELU:
		case NN_OP_ADD:
		case NN_OP_FLATTEN:
			if (nd->units != 0 || nd->size != 0)
				return bad_node(st, a, i, "units and size must be 0");
			if (nd->op == NN_OP_ADD && (length[nd->input[1]] != in_len || channels[nd->input[1]] != in_ch))
				return bad_node(st, a, i, "the two inputs differ in shape");
			if (nd->op == NN_OP_FLATTEN)
			{
				length[i] = 1;
				channels[i] = (int32_t) (in_len * in_ch);
			}
			break;
		case NN_OP_CONCAT:
			if (nd->units != 0 || nd->size != 0)
				return bad_node(st, a, i, "units and size must be 0");
			if (in_len != 1 || length[nd->input[1]] != 1)
				return bad_node(st, a, i, "both inputs must be flat (length 1)");
			channels[i] = (int32_t) (in_ch + channels[nd->input[1]]);
			break;
		case NN_OP_INPUT:
		case NN_OP_FEATURES:
			break;				/* handled above */
	}
	if ((int64_t) length[i] * channels[i] > MAX_NODE_VALUES)
		return bad_node(st, a, i, "output larger than 2^24 values per row");
	return 0;
}

/* Parameter floats a node owns (trainable + state), in int64 */
static int64_t
node_param_count(const nn_arch *a, int i, const int32_t *length, const int32_t *channels)
{
	const nn_node *nd = &a->nodes[i];
	int			in = nd->input[0];

	switch ((nn_op) nd->op)
	{
		case NN_OP_CONV1D:
			return (int64_t) nd->size * channels[in] * nd->units + nd->units;
		case NN_OP_DENSE:
			return (int64_t) length[in] * channels[in] * nd->units + nd->units;
		case NN_OP_BATCHNORM:
			return 4 * (int64_t) channels[in];
		default:
			return 0;
	}
}

/* Validates and fills shapes and consumer counts (arrays of NN_MAX_NODES). */
static int
analyse_arch(const nn_arch *a, int32_t *length, int32_t *channels, int32_t *consumers,
			 ecg_status *st)
{
	const nn_node *first = &a->nodes[0];
	int64_t		params = 0;
	size_t		name_len = strnlen(a->name, NN_ARCH_NAME_MAX);

	if (name_len == 0 || name_len >= NN_ARCH_NAME_MAX)
		return ecg_fail(st, ECG_ERR_FORMAT, "invalid model graph: the name must have 1 to %d characters",
						NN_ARCH_NAME_MAX - 1);
	if (a->n_nodes < 2 || a->n_nodes > NN_MAX_NODES)
		return ecg_fail(st, ECG_ERR_FORMAT, "invalid model graph \"%.31s\": %d nodes, expected 2 to %d",
						a->name, (int) a->n_nodes, NN_MAX_NODES);
	if (first->op != NN_OP_INPUT || first->input[0] != -1 || first->input[1] != -1 ||
		!(first->rate == 0.0f))
		return bad_node(st, a, 0, "node 0 must be an input without inputs");
	if (first->size < 1 || first->size > NN_MAX_DIM || first->units < 1 || first->units > NN_MAX_DIM ||
		(int64_t) first->size * first->units > MAX_NODE_VALUES)
		return bad_node(st, a, 0, "input length or channels out of range");
	length[0] = first->size;
	channels[0] = first->units;
	memset(consumers, 0, sizeof(int32_t) * NN_MAX_NODES);
	for (int i = 1, n_features = 0; i < a->n_nodes; i++)
	{
		if (check_node(a, i, length, channels, st) != 0)
			return -1;
		if (a->nodes[i].op == NN_OP_FEATURES && ++n_features > 1)
			return bad_node(st, a, i, "a graph has at most one features node");
		if (a->nodes[i].input[0] >= 0)
			consumers[a->nodes[i].input[0]]++;
		if (a->nodes[i].input[1] >= 0)
			consumers[a->nodes[i].input[1]]++;
		params += node_param_count(a, i, length, channels);
		if (params > MAX_PARAMS)
			return bad_node(st, a, i, "more than 2^24 parameters in the model");
	}
	{
		int			has_features = 0;

		for (int j = 1; j < a->n_nodes; j++)
			has_features |= a->nodes[j].op == NN_OP_FEATURES;
		/* a model of the features alone (rr_linear) need not read the beat */
		for (int i = 0; i < a->n_nodes - 1; i++)
			if (consumers[i] == 0 && !(i == 0 && has_features))
				return bad_node(st, a, i, "output is never used");
	}
	if (length[a->n_nodes - 1] != 1 || channels[a->n_nodes - 1] < 2 ||
		channels[a->n_nodes - 1] > NN_MAX_CLASSES)
		return bad_node(st, a, a->n_nodes - 1, "the last node must give 2 to 64 class scores per row");
	return 0;
}

int
nn_arch_validate(const nn_arch *arch, ecg_status *st)
{
	int32_t		length[NN_MAX_NODES],
				channels[NN_MAX_NODES],
				consumers[NN_MAX_NODES];

	return analyse_arch(arch, length, channels, consumers, st);
}

size_t
nn_arch_param_floats(const nn_arch *arch)
{
	int32_t		length[NN_MAX_NODES],
				channels[NN_MAX_NODES],
				consumers[NN_MAX_NODES];
	ecg_status	st;
	int64_t		total = 0;

	if (analyse_arch(arch, length, channels, consumers, &st) != 0)
		return 0;
	for (int i = 1; i < arch->n_nodes; i++)
		total += node_param_count(arch, i, length, channels);
	return (size_t) total;
}

size_t
nn_arch_describe(const nn_arch *arch, char *buf, size_t len)
{
	int32_t		length[NN_MAX_NODES],
				channels[NN_MAX_NODES],
				consumers[NN_MAX_NODES];
	ecg_status	st;
	size_t		used = 0;
	int			valid;

	ecg_status_clear(&st);
	valid = analyse_arch(arch, length, channels, consumers, &st) == 0;
	if (len > 0)
		buf[0] = '\0';
#define EMIT(...) \
	do { \
		int n_ = snprintf(used < len ? buf + used : NULL, used < len ? len - used : 0, __VA_ARGS__); \
		if (n_ > 0) used += (size_t) n_; \
	} while (0)
	EMIT("%s\n", valid ? arch->name : "(invalid graph)");
	for (int i = 0; valid && i < arch->n_nodes; i++)
	{
		const nn_node *nd = &arch->nodes[i];

		EMIT("%d %s", i, nn_op_name(nd->op));
		if (nd->op != NN_OP_INPUT && nd->op != NN_OP_FEATURES)
			EMIT(" <- %d", nd->input[0]);
		if (nd->op == NN_OP_ADD || nd->op == NN_OP_CONCAT)
			EMIT(", %d", nd->input[1]);
		if (nd->op == NN_OP_CONV1D)
			EMIT(" filters=%d kernel=%d", nd->units, nd->size);
		else if (nd->op == NN_OP_DENSE)
			EMIT(" units=%d", nd->units);
		else if (nd->op == NN_OP_DROPOUT)
			EMIT(" rate=%g", (double) nd->rate);
		else if (nd->op == NN_OP_MAXPOOL)
			EMIT(" pool=%d", nd->size);
		EMIT("  [%d x %d]\n", length[i], channels[i]);
	}
#undef EMIT
	return used;
}

/* Models ---------------------------------------------------------------------- */

static void
add_tensor(nn_model *m, int node, const char *param, int rank, const int32_t *dims,
		   int trainable, size_t *offset)
{
	nn_tensor  *t = &m->tensors[m->n_tensors++];

	snprintf(t->name, sizeof(t->name), "%s_%d.%s", nn_op_name(m->arch.nodes[node].op), node, param);
	t->node = node;
	t->rank = rank;
	t->count = 1;
	for (int d = 0; d < rank; d++)
	{
		t->dims[d] = dims[d];
		t->count *= (size_t) dims[d];
	}
	t->trainable = trainable;
	t->data = NULL;				/* set once the arrays exist */
	t->grad = NULL;
	*offset += t->count;
}

/* Lists the tensors of every node; counts trainable and state floats. */
static void
layout_tensors(nn_model *m, size_t *param_offsets, size_t *state_offsets)
{
	size_t		n_params = 0,
				n_state = 0;

	m->n_tensors = 0;
	for (int i = 0; i < m->arch.n_nodes; i++)
	{
		const nn_node *nd = &m->arch.nodes[i];
		int			in = nd->input[0];
		int32_t		dims[3];

		m->node_tensor[i] = -1;
		if (nd->op != NN_OP_CONV1D && nd->op != NN_OP_DENSE && nd->op != NN_OP_BATCHNORM)
			continue;
		m->node_tensor[i] = m->n_tensors;
		if (nd->op == NN_OP_CONV1D)
		{
			dims[0] = nd->size;
			dims[1] = m->channels[in];
			dims[2] = nd->units;
			param_offsets[m->n_tensors] = n_params;
			add_tensor(m, i, "kernel", 3, dims, 1, &n_params);
			param_offsets[m->n_tensors] = n_params;
			add_tensor(m, i, "bias", 1, &dims[2], 1, &n_params);
		}
		else if (nd->op == NN_OP_DENSE)
		{
			dims[0] = m->length[in] * m->channels[in];
			dims[1] = nd->units;
			param_offsets[m->n_tensors] = n_params;
			add_tensor(m, i, "kernel", 2, dims, 1, &n_params);
			param_offsets[m->n_tensors] = n_params;
			add_tensor(m, i, "bias", 1, &dims[1], 1, &n_params);
		}
		else
		{
			dims[0] = m->channels[in];
			param_offsets[m->n_tensors] = n_params;
			add_tensor(m, i, "gamma", 1, dims, 1, &n_params);
			param_offsets[m->n_tensors] = n_params;
			add_tensor(m, i, "beta", 1, dims, 1, &n_params);
			state_offsets[m->n_tensors] = n_state;
			add_tensor(m, i, "moving_mean", 1, dims, 0, &n_state);
			state_offsets[m->n_tensors] = n_state;
			add_tensor(m, i, "moving_var", 1, dims, 0, &n_state);
		}
	}
	m->n_params = n_params;
	m->n_state = n_state;
}

nn_model *
nn_model_create_from_arch(const nn_arch *arch, ecg_status *st)
{
	nn_model   *m;
	size_t		param_offsets[NN_MAX_TENSORS],
				state_offsets[NN_MAX_TENSORS];

	m = ecg_alloc(sizeof(nn_model));
	if (m == NULL)
	{
		ecg_fail(st, ECG_ERR_NOMEM, "out of memory for a model");
		return NULL;
	}
	memset(m, 0, sizeof(*m));
	m->arch = *arch;
	if (analyse_arch(&m->arch, m->length, m->channels, m->n_consumers, st) != 0)
	{
		ecg_free(m);
		return NULL;
	}
	m->input_length = m->length[0];
	m->input_channels = m->channels[0];
	m->n_classes = m->channels[m->arch.n_nodes - 1];
	m->features_node = -1;
	for (int i = 0; i < m->arch.n_nodes; i++)
		if (m->arch.nodes[i].op == NN_OP_FEATURES)
		{
			m->features_node = i;
			m->n_features = m->arch.nodes[i].units;
			for (int k = 0; k < m->n_features; k++)
			{
				m->feature_ids[k] = k;
				m->feature_sd[k] = 1.0f;
			}
		}
	layout_tensors(m, param_offsets, state_offsets);

	m->params = ecg_calloc_array(m->n_params + 1, sizeof(float));
	m->grads = ecg_calloc_array(m->n_params + 1, sizeof(float));
	m->state = ecg_calloc_array(m->n_state + 1, sizeof(float));
	if (m->params == NULL || m->grads == NULL || m->state == NULL)
	{
		ecg_fail(st, ECG_ERR_NOMEM, "out of memory for %zu model parameters", m->n_params);
		nn_model_free(m);
		return NULL;
	}
	for (int i = 0; i < m->n_tensors; i++)
	{
		nn_tensor  *t = &m->tensors[i];

		if (t->trainable)
		{
			t->data = m->params + param_offsets[i];
			t->grad = m->grads + param_offsets[i];
		}
		else
			t->data = m->state + state_offsets[i];
	}
	return m;
}

nn_model *
nn_model_create(const char *arch_name, ecg_status *st)
{
	nn_arch		arch;

	if (nn_arch_builtin(arch_name, &arch, st) != 0)
		return NULL;
	return nn_model_create_from_arch(&arch, st);
}

void
nn_model_free(nn_model *model)
{
	if (model == NULL)
		return;
	ecg_free(model->params);
	ecg_free(model->grads);
	ecg_free(model->state);
	ecg_free(model);
}

nn_tensor *
nn_model_find_tensor(nn_model *model, const char *name)
{
	for (int i = 0; i < model->n_tensors; i++)
		if (strcmp(model->tensors[i].name, name) == 0)
			return &model->tensors[i];
	return NULL;
}

/* Initialisation ---------------------------------------------------------------- */

static const char *
tensor_param(const nn_tensor *t)
{
	const char *dot = strrchr(t->name, '.');

	return dot ? dot + 1 : t->name;
}

void
nn_model_init(nn_model *model, uint64_t seed)
{
	rng_state	rng;

	rng_seed(&rng, seed);
	for (int i = 0; i < model->n_tensors; i++)
	{
		nn_tensor  *t = &model->tensors[i];
		const char *param = tensor_param(t);
		int			op = model->arch.nodes[t->node].op;

		if (strcmp(param, "kernel") == 0 && op == NN_OP_CONV1D)
		{
			/* He normal, truncated at 2 sd and rescaled like Keras */
			double		fan_in = (double) t->dims[0] * t->dims[1];
			double		sd = sqrt(2.0 / fan_in) / TRUNCATED_NORMAL_SD_RATIO;

			for (size_t k = 0; k < t->count; k++)
			{
				double		z;

				do
					z = rng_normal(&rng);
				while (fabs(z) > 2.0);
				t->data[k] = (float) (z * sd);
			}
		}
		else if (strcmp(param, "kernel") == 0)
		{
			/* Glorot uniform */
			double		limit = sqrt(6.0 / ((double) t->dims[0] + t->dims[1]));

			for (size_t k = 0; k < t->count; k++)
				t->data[k] = (float) ((2.0 * rng_uniform(&rng) - 1.0) * limit);
		}
		else
		{
			float		v = (strcmp(param, "gamma") == 0 || strcmp(param, "moving_var") == 0) ? 1.0f : 0.0f;

			for (size_t k = 0; k < t->count; k++)
				t->data[k] = v;
		}
	}
	memset(model->grads, 0, model->n_params * sizeof(float));
}

/* Features and the operating point ------------------------------------------------ */

int
nn_model_set_features(nn_model *model, const int32_t *ids, int n, ecg_status *st)
{
	if (n != model->n_features)
		return ecg_fail(st, ECG_ERR_ARGUMENT, "model \"%s\" takes %d features, %d were named",
						model->arch.name, model->n_features, n);
	for (int k = 0; k < n; k++)
	{
		if (ids[k] < 0 || ids[k] >= NN_MAX_FEATURES)
			return ecg_fail(st, ECG_ERR_ARGUMENT, "feature id %d out of range 0..%d", ids[k],
							NN_MAX_FEATURES - 1);
		for (int j = 0; j < k; j++)
			if (ids[j] == ids[k])
				return ecg_fail(st, ECG_ERR_ARGUMENT, "feature id %d named twice", ids[k]);
	}
	for (int k = 0; k < n; k++)
	{
		model->feature_ids[k] = ids[k];
		model->feature_mean[k] = 0.0f;
		model->feature_sd[k] = 1.0f;
	}
	return 0;
}

void
nn_model_fit_feature_scaling(nn_model *model, const float *features, size_t n)
{
	int			w = model->n_features;

	for (int k = 0; k < w; k++)
	{
		double		sum = 0,
					sq = 0,
					mean,
					sd;

		for (size_t i = 0; i < n; i++)
			sum += features[i * (size_t) w + k];
		mean = n > 0 ? sum / (double) n : 0.0;
		for (size_t i = 0; i < n; i++)
		{
			double		d = features[i * (size_t) w + k] - mean;

			sq += d * d;
		}
		sd = n > 0 ? sqrt(sq / (double) n) : 1.0;
		model->feature_mean[k] = (float) mean;
		model->feature_sd[k] = sd < 1e-6 || !isfinite(sd) ? 1.0f : (float) sd;
	}
}

void
nn_model_apply_operating_point(const nn_model *model, float *probs, size_t n)
{
	int			classes = model->n_classes;
	int			any = 0;
	double		scale[NN_MAX_CLASSES];

	for (int c = 0; c < classes; c++)
	{
		any |= model->class_offset[c] != 0.0f;
		scale[c] = exp((double) model->class_offset[c]);
	}
	if (!any)
		return;
	for (size_t i = 0; i < n; i++)
	{
		float	   *p = probs + i * (size_t) classes;
		double		sum = 0;

		for (int c = 0; c < classes; c++)
			sum += p[c] * scale[c];
		for (int c = 0; c < classes; c++)
			p[c] = (float) (p[c] * scale[c] / sum);
	}
}
