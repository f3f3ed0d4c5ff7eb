/*
 * nn_maxpool.c - MaxPool1D with pool 2, stride 2, 'valid' padding, over
 * [batch][length][channels]; the forward pass records which of each pair won
 * so the backward pass routes the gradient there.
 */
#include "nn_kernel_util.h"

typedef struct pool_args
{
	float	   *out;
	uint8_t    *argmax_out;
	const float *in;
	const uint8_t *argmax_in;
	int			batch;
	int			length;
	int			channels;
} pool_args;

/* One sample; C is a compile-time constant at the hot call site. */
static inline void
forward_sample(float *restrict y, uint8_t *restrict am, const float *restrict x,
			   size_t half, const size_t C)
{
	for (size_t t = 0; t < half; t++)
		for (size_t c = 0; c < C; c++)
		{
			float		first = x[2 * t * C + c];
			float		second = x[(2 * t + 1) * C + c];
			int			pick = second > first;	/* ties: the first */

			y[t * C + c] = pick ? second : first;
			am[t * C + c] = (uint8_t) pick;
		}
}

static inline void
backward_sample(float *restrict dx, const float *restrict dy, const uint8_t *restrict am,
				size_t length, const size_t C)
{
	size_t		half = length / 2;

	for (size_t t = 0; t < half; t++)
		for (size_t c = 0; c < C; c++)
		{
			float		g = dy[t * C + c];
			int			pick = am[t * C + c] != 0;

			dx[2 * t * C + c] = pick ? 0.0f : g;
			dx[(2 * t + 1) * C + c] = pick ? g : 0.0f;
		}
	/* an odd last position never won anything */
	if (length % 2)
		memset(dx + (length - 1) * C, 0, sizeof(float) * C);
}

NN_KERNEL static void
maxpool_forward_part(void *p, int part)
{
	pool_args  *a = p;
	size_t		b0,
				b1;
	size_t		C = (size_t) a->channels;
	size_t		half = (size_t) (a->length / 2);

	nn_part_range((size_t) a->batch, part, &b0, &b1);
	for (size_t b = b0; b < b1; b++)
	{
		const float *x = a->in + b * (size_t) a->length * C;
		float	   *y = a->out + b * half * C;
		uint8_t    *am = a->argmax_out + b * half * C;

		if (C == 16)
			forward_sample(y, am, x, half, 16);
		else
			forward_sample(y, am, x, half, C);
	}
}

void
nn_maxpool1d_forward(nn_pool *pool, float *y, uint8_t *argmax, const float *x,
					 int batch, int length, int channels)
{
	pool_args	a = {.out = y, .argmax_out = argmax, .in = x, .batch = batch,
	.length = length, .channels = channels};

	nn_pool_run(pool, NN_PARTS, maxpool_forward_part, &a);
}

NN_KERNEL static void
maxpool_backward_part(void *p, int part)
{
	pool_args  *a = p;
	size_t		b0,
				b1;
	size_t		C = (size_t) a->channels;
	size_t		half = (size_t) (a->length / 2);

	nn_part_range((size_t) a->batch, part, &b0, &b1);
	for (size_t b = b0; b < b1; b++)
	{
		float	   *dx = a->out + b * (size_t) a->length * C;
		const float *dy = a->in + b * half * C;
		const uint8_t *am = a->argmax_in + b * half * C;

		if (C == 16)
			backward_sample(dx, dy, am, (size_t) a->length, 16);
		else
			backward_sample(dx, dy, am, (size_t) a->length, C);
	}
}

void
nn_maxpool1d_backward(nn_pool *pool, float *dx, const float *dy, const uint8_t *argmax,
					  int batch, int length, int channels)
{
	pool_args	a = {.out = dx, .in = dy, .argmax_in = argmax, .batch = batch,
	.length = length, .channels = channels};

	nn_pool_run(pool, NN_PARTS, maxpool_backward_part, &a);
}
