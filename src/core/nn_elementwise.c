/*
 * nn_elementwise.c - element-wise layers: ReLU, inverted dropout, residual
 * add.  Each splits the elements into NN_PARTS ranges; there are no
 * reductions, so the thread count cannot change any result.
 */
#include "nn_kernel_util.h"

typedef struct ew_args
{
	float	   *out;
	const float *a;
	const float *b;
	uint8_t    *mask_out;
	const uint8_t *mask_in;
	size_t		n;
	uint64_t	seed;
	uint64_t	threshold;
	float		keep_scale;
} ew_args;

/* ReLU ------------------------------------------------------------------------ */

NN_KERNEL static void
relu_forward_part(void *p, int part)
{
	ew_args    *e = p;
	size_t		i0,
				i1;

	nn_part_range(e->n, part, &i0, &i1);
	for (; i0 + 16 <= i1; i0 += 16)
	{
		nn_v16		v = nn_v16_load(e->a + i0);

		nn_v16_store(e->out + i0, nn_v16_select(v > 0.0f, v));
	}
	for (size_t i = i0; i < i1; i++)
	{
		float		v = e->a[i];

		e->out[i] = v > 0.0f ? v : 0.0f;
	}
}

void
nn_relu_forward(nn_pool *pool, float *y, const float *x, size_t n)
{
	ew_args		e = {.out = y, .a = x, .n = n};

	nn_pool_run(pool, NN_PARTS, relu_forward_part, &e);
}

NN_KERNEL static void
relu_backward_part(void *p, int part)
{
	ew_args    *e = p;
	size_t		i0,
				i1;

	nn_part_range(e->n, part, &i0, &i1);
	for (; i0 + 16 <= i1; i0 += 16)
		nn_v16_store(e->out + i0, nn_v16_select(nn_v16_load(e->b + i0) > 0.0f,
												nn_v16_load(e->a + i0)));
	for (size_t i = i0; i < i1; i++)
	{
		float		g = e->a[i];	/* loaded unconditionally: a select, not a branch */

		e->out[i] = e->b[i] > 0.0f ? g : 0.0f;
	}
}

void
nn_relu_backward(nn_pool *pool, float *dx, const float *dy, const float *y, size_t n)
{
	ew_args		e = {.out = dx, .a = dy, .b = y, .n = n};

	nn_pool_run(pool, NN_PARTS, relu_backward_part, &e);
}

/* Dropout --------------------------------------------------------------------- */

NN_KERNEL static void
dropout_forward_part(void *p, int part)
{
	ew_args    *e = p;
	size_t		i0,
				i1;

	float	   *out = e->out;
	const float *in = e->a;
	const uint8_t *mask = e->mask_out;
	float		keep = e->keep_scale;

	nn_part_range(e->n, part, &i0, &i1);
	nn_dropout_fill_mask(e->mask_out + i0, e->seed, e->threshold, i0, i1);
	for (; i0 + 16 <= i1; i0 += 16)
		nn_v16_store(out + i0, nn_v16_select(nn_v16_mask_lanes(mask + i0),
											 nn_v16_load(in + i0) * keep));
	for (size_t i = i0; i < i1; i++)
	{
		float		v = in[i] * keep;

		out[i] = mask[i] ? v : 0.0f;
	}
}

void
nn_dropout_forward_train(nn_pool *pool, float *y, const float *x, uint8_t *mask,
						 size_t n, float rate, rng_state *rng)
{
	ew_args		e = {.out = y, .a = x, .mask_out = mask, .n = n};

	e.seed = rng_next(rng);
	e.threshold = nn_dropout_threshold(rate);
	e.keep_scale = 1.0f / (1.0f - rate);
	nn_pool_run(pool, NN_PARTS, dropout_forward_part, &e);
}

NN_KERNEL static void
dropout_backward_part(void *p, int part)
{
	ew_args    *e = p;
	size_t		i0,
				i1;

	float	   *out = e->out;
	const float *in = e->a;
	const uint8_t *mask = e->mask_in;
	float		keep = e->keep_scale;

	nn_part_range(e->n, part, &i0, &i1);
	for (; i0 + 16 <= i1; i0 += 16)
		nn_v16_store(out + i0, nn_v16_select(nn_v16_mask_lanes(mask + i0),
											 nn_v16_load(in + i0) * keep));
	for (size_t i = i0; i < i1; i++)
	{
		float		v = in[i] * keep;

		out[i] = mask[i] ? v : 0.0f;
	}
}

void
nn_dropout_backward(nn_pool *pool, float *dx, const float *dy, const uint8_t *mask,
					size_t n, float rate)
{
	ew_args		e = {.out = dx, .a = dy, .mask_in = mask, .n = n};

	e.keep_scale = 1.0f / (1.0f - rate);
	nn_pool_run(pool, NN_PARTS, dropout_backward_part, &e);
}

/* Residual add ------------------------------------------------------------------ */

NN_KERNEL static void
add_part(void *p, int part)
{
	ew_args    *e = p;
	size_t		i0,
				i1;

	nn_part_range(e->n, part, &i0, &i1);
	for (; i0 + 16 <= i1; i0 += 16)
		nn_v16_store(e->out + i0, nn_v16_load(e->a + i0) + nn_v16_load(e->b + i0));
	for (size_t i = i0; i < i1; i++)
		e->out[i] = e->a[i] + e->b[i];
}

void
nn_add_forward(nn_pool *pool, float *y, const float *a, const float *b, size_t n)
{
	ew_args		e = {.out = y, .a = a, .b = b, .n = n};

	nn_pool_run(pool, NN_PARTS, add_part, &e);
}

void
nn_accumulate(nn_pool *pool, float *y, const float *x, size_t n)
{
	ew_args		e = {.out = y, .a = y, .b = x, .n = n};

	nn_pool_run(pool, NN_PARTS, add_part, &e);
}
