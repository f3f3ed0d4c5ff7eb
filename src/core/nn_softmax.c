/*
 * nn_softmax.c - softmax and softmax + categorical cross-entropy.
 *
 * The loss of a row is logsumexp(logits) - logits[label], computed after
 * subtracting the row maximum, so it is exact even where the probability
 * underflows.  The batch mean is reduced in part order (deterministic).
 */
#include "nn_kernel_util.h"

#include <math.h>

typedef struct softmax_args
{
	float	   *probs;
	float	   *sample_loss;
	float	   *d_logits;
	const float *logits;
	const float *probs_in;
	const int32_t *labels;
	const float *weights;
	int			batch;
	int			classes;
	double		part_loss[NN_PARTS];
} softmax_args;

/* probs row = softmax(logits row); returns log(sum exp(l - max)) + max */
static double
softmax_row(float *probs, const float *logits, int classes)
{
	float		mx = logits[0];
	double		sum = 0;

	for (int k = 1; k < classes; k++)
		if (logits[k] > mx)
			mx = logits[k];
	for (int k = 0; k < classes; k++)
		sum += exp((double) logits[k] - (double) mx);
	for (int k = 0; k < classes; k++)
		probs[k] = (float) (exp((double) logits[k] - (double) mx) / sum);
	return log(sum) + (double) mx;
}

NN_KERNEL static void
softmax_part(void *p, int part)
{
	softmax_args *a = p;
	size_t		r0,
				r1;
	size_t		K = (size_t) a->classes;
	double		total = 0;

	nn_part_range((size_t) a->batch, part, &r0, &r1);
	for (size_t r = r0; r < r1; r++)
	{
		double		lse = softmax_row(a->probs + r * K, a->logits + r * K, a->classes);

		if (a->labels == NULL)
			continue;

		int32_t		y = a->labels[r];
		double		loss;

		if (y < 0 || y >= a->classes)
		{
			if (a->sample_loss)
				a->sample_loss[r] = 0.0f;
			continue;
		}
		loss = lse - (double) a->logits[r * K + (size_t) y];
		if (a->sample_loss)
			a->sample_loss[r] = (float) loss;
		total += a->weights ? (double) a->weights[r] * loss : loss;
	}
	a->part_loss[part] = total;
}

void
nn_softmax_forward(nn_pool *pool, float *probs, const float *logits, int batch, int classes)
{
	softmax_args a = {.probs = probs, .logits = logits, .batch = batch, .classes = classes};

	nn_pool_run(pool, NN_PARTS, softmax_part, &a);
}

double
nn_softmax_xent_forward(nn_pool *pool, float *probs, float *sample_loss,
						const float *logits, const int32_t *labels,
						const float *sample_weight, int batch, int classes)
{
	softmax_args a = {.probs = probs, .sample_loss = sample_loss, .logits = logits,
		.labels = labels, .weights = sample_weight, .batch = batch, .classes = classes};
	double		total = 0;

	nn_pool_run(pool, NN_PARTS, softmax_part, &a);
	for (int p = 0; p < NN_PARTS; p++)
		total += a.part_loss[p];
	return batch > 0 ? total / batch : 0.0;
}

NN_KERNEL static void
xent_backward_part(void *p, int part)
{
	softmax_args *a = p;
	size_t		r0,
				r1;
	size_t		K = (size_t) a->classes;

	nn_part_range((size_t) a->batch, part, &r0, &r1);
	for (size_t r = r0; r < r1; r++)
	{
		int32_t		y = a->labels[r];
		float		w = (a->weights ? a->weights[r] : 1.0f) / (float) a->batch;
		const float *pr = a->probs_in + r * K;
		float	   *dr = a->d_logits + r * K;

		if (y < 0 || y >= a->classes)
		{
			memset(dr, 0, sizeof(float) * K);
			continue;
		}
		for (size_t k = 0; k < K; k++)
			dr[k] = (pr[k] - (k == (size_t) y ? 1.0f : 0.0f)) * w;
	}
}

void
nn_softmax_xent_backward(nn_pool *pool, float *d_logits, const float *probs,
						 const int32_t *labels, const float *sample_weight,
						 int batch, int classes)
{
	softmax_args a = {.d_logits = d_logits, .probs_in = probs, .labels = labels,
	.weights = sample_weight, .batch = batch, .classes = classes};

	nn_pool_run(pool, NN_PARTS, xent_backward_part, &a);
}
