/*
 * nn_conv.c - Conv1D with Keras 'same' padding, stride 1, channels-last.
 *
 * With channels-last data the receptive field of output t is one contiguous
 * run of kernel*cin floats of the zero-padded input, starting at t*cin, and
 * the kernel [kernel][cin][cout] is a (kernel*cin) x cout matrix.  So each
 * sample is a small GEMM whose A rows overlap ("correlate" below); no im2col
 * copy is needed beyond one padded copy of the sample.
 *
 * The input gradient is the same correlation applied to the padded output
 * gradient with the kernel flipped in time and transposed in channels:
 *   dx[s][ci] = sum_{k', co} dy[s - (kernel-1-left) + k'][co] * w[kernel-1-k'][ci][co]
 * The weight gradient is dw[j][co] += sum_t xpad[t*cin + j] * dy[t][co].
 *
 * When the output width is a multiple of 16, one 16-float vector holds 16
 * output channels and the inner loops are broadcast-FMAs over a block of
 * positions (or of weight rows); otherwise a plain scalar path is used.
 *
 * Work is split over the batch into NN_PARTS parts; weight gradients are summed
 * per part in the workspace and reduced in part order.
 */
#include "nn_kernel_util.h"

/* positions computed together in the vector path (accumulators in registers;
 * 10 divides the cnn's lengths 200 and 100) */
#define CONV_BLOCK_T 20
/* weight rows accumulated together in the vector weight-gradient path */
#define CONV_BLOCK_J 16

static inline int
pad_left(int kernel)
{
	return (kernel - 1) / 2;
}

/* Copies a [length][ch] sample into [length + kernel - 1][ch] with `left` zero rows first. */
static void
pad_sample(float *dst, const float *src, int length, int ch, int kernel, int left)
{
	size_t		row = (size_t) ch;
	int			right = kernel - 1 - left;

	memset(dst, 0, sizeof(float) * row * left);
	memcpy(dst + row * left, src, sizeof(float) * row * length);
	memset(dst + row * (left + length), 0, sizeof(float) * row * right);
}

/*
 * out[t][co] = bias[co] + sum_j inp[t*cin + j] * wm[j][co], j < kernel*cin,
 * for one sample; inp is padded (length + kernel - 1 rows).
 */
static void
correlate_scalar(float *out, const float *inp, const float *wm, const float *bias,
				 int length, int cin, int cout, int kernel)
{
	int			K = kernel * cin;

	for (int t = 0; t < length; t++)
	{
		const float *xr = inp + (size_t) t * cin;
		float	   *yr = out + (size_t) t * cout;

		for (int co = 0; co < cout; co++)
			yr[co] = bias ? bias[co] : 0.0f;
		for (int j = 0; j < K; j++)
		{
			float		xv = xr[j];
			const float *wr = wm + (size_t) j * cout;

			for (int co = 0; co < cout; co++)
				yr[co] += xv * wr[co];
		}
	}
}

/*
 * One block of NB consecutive output positions for 16 output channels: NB
 * accumulators stay in registers while the (kernel*cin) weight rows stream
 * by; each weight vector is loaded once and used NB times, each input value
 * is a broadcast operand of one FMA.
 */
static inline void
correlate_block(float *out, const float *xr, const float *w, nn_v16 b0,
				int K, int cin, int cout, const int NB)
{
	nn_v16		acc[CONV_BLOCK_T];

	/* all entries set (not only NB) so the compiler sees no uninitialised use */
#pragma GCC unroll 32
	for (int r = 0; r < CONV_BLOCK_T; r++)
		acc[r] = b0;
	for (int j = 0; j < K; j++)
	{
		nn_v16		wv = nn_v16_load(w + (size_t) j * cout);

#pragma GCC unroll 32
		for (int r = 0; r < NB; r++)
			acc[r] += xr[(size_t) r * cin + j] * wv;
	}
#pragma GCC unroll 32
	for (int r = 0; r < NB; r++)
		nn_v16_store(out + (size_t) r * cout, acc[r]);
}

/* correlate() for cout % 16 == 0: 16 output channels per vector. */
static void
correlate_v16(float *out, const float *inp, const float *wm, const float *bias,
			  int length, int cin, int cout, int kernel)
{
	int			K = kernel * cin;

	for (int cb = 0; cb < cout; cb += 16)
	{
		nn_v16		b0 = nn_v16_splat(0.0f);
		int			t = 0;

		if (bias)
			b0 = nn_v16_load(bias + cb);
		for (; t + CONV_BLOCK_T <= length; t += CONV_BLOCK_T)
			correlate_block(out + (size_t) t * cout + cb, inp + (size_t) t * cin, wm + cb, b0,
							K, cin, cout, CONV_BLOCK_T);
		for (; t + 4 <= length; t += 4)
			correlate_block(out + (size_t) t * cout + cb, inp + (size_t) t * cin, wm + cb, b0,
							K, cin, cout, 4);
		for (; t < length; t++)
			correlate_block(out + (size_t) t * cout + cb, inp + (size_t) t * cin, wm + cb, b0,
							K, cin, cout, 1);
	}
}

static void
correlate(float *out, const float *inp, const float *wm, const float *bias,
		  int length, int cin, int cout, int kernel)
{
	if (cout % 16 == 0)
		correlate_v16(out, inp, wm, bias, length, cin, cout, kernel);
	else
		correlate_scalar(out, inp, wm, bias, length, cin, cout, kernel);
}

/* dw[j][co] += sum_t xp[t*cin + j] * dy[t][co];  db[co] += sum_t dy[t][co] */
static void
weight_grad_scalar(float *dw, float *db, const float *xp, const float *dy,
				   int length, int cin, int cout, int kernel)
{
	int			K = kernel * cin;

	for (int t = 0; t < length; t++)
	{
		const float *xr = xp + (size_t) t * cin;
		const float *g = dy + (size_t) t * cout;

		for (int j = 0; j < K; j++)
		{
			float		xv = xr[j];
			float	   *dr = dw + (size_t) j * cout;

			for (int co = 0; co < cout; co++)
				dr[co] += xv * g[co];
		}
		for (int co = 0; co < cout; co++)
			db[co] += g[co];
	}
}

/*
 * NJ weight rows j0 .. j0+NJ-1 of 16 output channels: NJ accumulators in
 * registers while the positions stream by (one dy vector load, NJ broadcast
 * FMAs per position).
 */
static inline void
weight_grad_block(float *dw, const float *xp, const float *dy, int length, int cin, int cout,
				  const int NJ)
{
	nn_v16		acc[CONV_BLOCK_J];

#pragma GCC unroll 32
	for (int r = 0; r < CONV_BLOCK_J; r++)
	{
		acc[r] = nn_v16_splat(0.0f);
		if (r < NJ)
			acc[r] = nn_v16_load(dw + (size_t) r * cout);
	}
	for (int t = 0; t < length; t++)
	{
		nn_v16		g = nn_v16_load(dy + (size_t) t * cout);
		const float *xr = xp + (size_t) t * cin;

#pragma GCC unroll 32
		for (int r = 0; r < NJ; r++)
			acc[r] += xr[r] * g;
	}
#pragma GCC unroll 32
	for (int r = 0; r < NJ; r++)
		nn_v16_store(dw + (size_t) r * cout, acc[r]);
}

static void
weight_grad_v16(float *dw, float *db, const float *xp, const float *dy,
				int length, int cin, int cout, int kernel)
{
	int			K = kernel * cin;

	for (int cb = 0; cb < cout; cb += 16)
	{
		int			j = 0;

		for (; j + CONV_BLOCK_J <= K; j += CONV_BLOCK_J)
			weight_grad_block(dw + (size_t) j * cout + cb, xp + j, dy + cb, length, cin, cout,
							  CONV_BLOCK_J);
		for (; j + 4 <= K; j += 4)
			weight_grad_block(dw + (size_t) j * cout + cb, xp + j, dy + cb, length, cin, cout, 4);
		for (; j < K; j++)
			weight_grad_block(dw + (size_t) j * cout + cb, xp + j, dy + cb, length, cin, cout, 1);

		nn_v16		bacc = nn_v16_load(db + cb);

		for (int t = 0; t < length; t++)
			bacc += nn_v16_load(dy + (size_t) t * cout + cb);
		nn_v16_store(db + cb, bacc);
	}
}

/* Workspace layout ------------------------------------------------------- */

typedef struct conv_args
{
	float	   *y;
	float	   *dx;
	float	   *dw;
	float	   *db;
	const float *x;
	const float *dy;
	const float *w;
	const float *bias;
	int			batch;
	int			length;
	int			cin;
	int			cout;
	int			kernel;
	/* carved from the workspace */
	float	   *wt;				/* flipped, transposed kernel for dx */
	float	   *pad[NN_PARTS];	/* padded sample, per part */
	float	   *dw_part[NN_PARTS];	/* dw then db partial sums, per part */
} conv_args;

static size_t
conv_pad_floats(int length, int cin, int cout, int kernel)
{
	int			ch = cin > cout ? cin : cout;

	return (size_t) (length + kernel - 1) * ch;
}

size_t
nn_conv1d_workspace_bytes(int length, int cin, int cout, int kernel)
{
	size_t		wn = (size_t) kernel * cin * cout;

	return NN_WS_ALIGN + nn_round_up(sizeof(float) * wn)
		+ NN_PARTS * (nn_round_up(sizeof(float) * conv_pad_floats(length, cin, cout, kernel))
					  + nn_round_up(sizeof(float) * (wn + cout)));
}

static void
conv_carve(conv_args *a, void *workspace)
{
	nn_ws_cursor c = nn_ws_start(workspace);
	size_t		wn = (size_t) a->kernel * a->cin * a->cout;

	a->wt = nn_ws_take(&c, sizeof(float) * wn);
	for (int p = 0; p < NN_PARTS; p++)
	{
		a->pad[p] = nn_ws_take(&c, sizeof(float) * conv_pad_floats(a->length, a->cin, a->cout,
																	a->kernel));
		a->dw_part[p] = nn_ws_take(&c, sizeof(float) * (wn + a->cout));
	}
}

/* Forward ------------------------------------------------------------------ */

static void
conv_forward_part(void *p, int part)
{
	conv_args  *a = p;
	size_t		b0,
				b1;
	size_t		in_stride = (size_t) a->length * a->cin;
	size_t		out_stride = (size_t) a->length * a->cout;

	nn_part_range((size_t) a->batch, part, &b0, &b1);
	for (size_t b = b0; b < b1; b++)
	{
		pad_sample(a->pad[part], a->x + b * in_stride, a->length, a->cin, a->kernel,
				   pad_left(a->kernel));
		correlate(a->y + b * out_stride, a->pad[part], a->w, a->bias,
				  a->length, a->cin, a->cout, a->kernel);
	}
}

void
nn_conv1d_forward(nn_pool *pool, float *y, const float *x, const float *w, const float *bias,
				  int batch, int length, int cin, int cout, int kernel, void *workspace)
{
	conv_args	a = {.y = y, .x = x, .w = w, .bias = bias, .batch = batch, .length = length,
	.cin = cin, .cout = cout, .kernel = kernel};

	conv_carve(&a, workspace);
	nn_pool_run(pool, NN_PARTS, conv_forward_part, &a);
}

/* Backward ------------------------------------------------------------------ */

static void
conv_backward_part(void *p, int part)
{
	conv_args  *a = p;
	size_t		b0,
				b1;
	size_t		in_stride = (size_t) a->length * a->cin;
	size_t		out_stride = (size_t) a->length * a->cout;
	size_t		wn = (size_t) a->kernel * a->cin * a->cout;
	float	   *dw = a->dw_part[part];
	float	   *db = dw + wn;
	int			left = pad_left(a->kernel);

	memset(dw, 0, sizeof(float) * (wn + a->cout));
	nn_part_range((size_t) a->batch, part, &b0, &b1);
	for (size_t b = b0; b < b1; b++)
	{
		const float *dy = a->dy + b * out_stride;

		pad_sample(a->pad[part], a->x + b * in_stride, a->length, a->cin, a->kernel, left);
		if (a->cout % 16 == 0)
			weight_grad_v16(dw, db, a->pad[part], dy, a->length, a->cin, a->cout, a->kernel);
		else
			weight_grad_scalar(dw, db, a->pad[part], dy, a->length, a->cin, a->cout, a->kernel);
		if (a->dx)
		{
			pad_sample(a->pad[part], dy, a->length, a->cout, a->kernel, a->kernel - 1 - left);
			correlate(a->dx + b * in_stride, a->pad[part], a->wt, NULL,
					  a->length, a->cout, a->cin, a->kernel);
		}
	}
}

static void
conv_reduce_part(void *p, int part)
{
	conv_args  *a = p;
	size_t		wn = (size_t) a->kernel * a->cin * a->cout;
	size_t		e0,
				e1;

	nn_part_range(wn + a->cout, part, &e0, &e1);
	for (size_t e = e0; e < e1; e++)
	{
		float		s = 0;

		for (int q = 0; q < NN_PARTS; q++)
			s += a->dw_part[q][e];
		if (e < wn)
			a->dw[e] += s;
		else if (a->db)
			a->db[e - wn] += s;
	}
}

void
nn_conv1d_backward(nn_pool *pool, float *dx, float *dw, float *dbias,
				   const float *dy, const float *x, const float *w,
				   int batch, int length, int cin, int cout, int kernel, void *workspace)
{
	conv_args	a = {.dx = dx, .dw = dw, .db = dbias, .x = x, .dy = dy, .w = w,
		.batch = batch, .length = length, .cin = cin, .cout = cout, .kernel = kernel};

	conv_carve(&a, workspace);
	/* wt[k'][co][ci] = w[kernel-1-k'][ci][co] */
	for (int k = 0; k < kernel; k++)
		for (int ci = 0; ci < cin; ci++)
			for (int co = 0; co < cout; co++)
				a.wt[((size_t) (kernel - 1 - k) * cout + co) * cin + ci] =
					w[((size_t) k * cin + ci) * cout + co];
	nn_pool_run(pool, NN_PARTS, conv_backward_part, &a);
	nn_pool_run(pool, NN_PARTS, conv_reduce_part, &a);
}
