/*
 * nn_conv.c - Conv1D with Keras 'same' padding, stride 1, channels-last.
 *
 * With channels-last data the receptive field of output t is one contiguous
 * run of kernel*cin floats of the zero-padded input, starting at t*cin, and
 * the kernel [kernel][cin][cout] is a (kernel*cin) x cout matrix.  So each
 * sample is a small GEMM whose A rows overlap ("correlate" below); no im2col
 * copy is needed, only small padded copies of each sample's two ends.
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

/* positions computed together in the vector path: 20 accumulators plus the
 * weight vector fit the 32 AVX-512 registers (measured better than 10 or 16) */
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
 * The input windows of one sample's output positions, in (up to) three runs:
 * windows that reach into the left or right zero padding are read from small
 * padded copies of the sample's ends in `buf`; all others straight from the
 * sample, so the bulk of the data is never copied.  Window t of run r starts
 * at base[r] + (t - first[r]) * ch.
 */
typedef struct window_runs
{
	int			n;
	const float *base[3];
	int			first[3];
	int			count[3];
} window_runs;

static void
split_windows(window_runs *w, const float *in, float *buf, int length, int ch, int kernel,
			  int left)
{
	int			right = kernel - 1 - left;
	size_t		row = (size_t) ch;
	float	   *head = buf,
			   *tail = buf + row * (left + kernel - 1);

	if (length < kernel)
	{
		/* short sample: pad it whole */
		pad_sample(buf, in, length, ch, kernel, left);
		w->n = 1;
		w->base[0] = buf;
		w->first[0] = 0;
		w->count[0] = length;
		return;
	}
	memset(head, 0, sizeof(float) * row * left);
	memcpy(head + row * left, in, sizeof(float) * row * (kernel - 1));
	memcpy(tail, in + row * (length - kernel + 1), sizeof(float) * row * (kernel - 1));
	memset(tail + row * (kernel - 1), 0, sizeof(float) * row * right);
	w->n = 3;
	w->base[0] = head;
	w->first[0] = 0;
	w->count[0] = left;
	w->base[1] = in;
	w->first[1] = left;
	w->count[1] = length - kernel + 1;
	w->base[2] = tail;
	w->first[2] = length - right;
	w->count[2] = right;
}

/*
 * out[t][co] = bias[co] + sum_j inp[t*cin + j] * wm[j][co]  (+ res[t][co]),
 * j < kernel*cin, over `length` positions whose windows start at inp + t*cin.
 * The residual (NULL: none) is added last, so the result equals the
 * convolution followed by a separate add, bit for bit; res may equal out.
 */
static void
correlate_scalar(float *out, const float *inp, const float *wm, const float *bias,
				 const float *res, int length, int cin, int cout, int kernel)
{
	int			K = kernel * cin;

	for (int t = 0; t < length; t++)
	{
		const float *xr = inp + (size_t) t * cin;
		float	   *yr = out + (size_t) t * cout;

		for (int co = 0; co < cout; co++)
		{
			float		acc = bias ? bias[co] : 0.0f;

			for (int j = 0; j < K; j++)
				acc += xr[j] * wm[(size_t) j * cout + co];
			if (res)
				acc += res[(size_t) t * cout + co];	/* read before yr is written */
			yr[co] = acc;
		}
	}
}

/*
 * One block of NB consecutive output positions for 16 output channels: NB
 * accumulators stay in registers while the (kernel*cin) weight rows stream
 * by; each weight vector is loaded once and used NB times, each input value
 * is a broadcast operand of one FMA.
 */
static inline __attribute__((always_inline)) void
correlate_block(float *out, const float *xr, const float *w, const float *bias16,
				const float *res, int K, int cin, int cout, const int NB)
{
	nn_v16		acc[CONV_BLOCK_T];
	nn_v16		b0 = nn_v16_load(bias16);

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
	if (res)
	{
#pragma GCC unroll 32
		for (int r = 0; r < NB; r++)
			acc[r] += nn_v16_load(res + (size_t) r * cout);
	}
#pragma GCC unroll 32
	for (int r = 0; r < NB; r++)
		nn_v16_store(out + (size_t) r * cout, acc[r]);
}

/*
 * correlate() for cout % 16 == 0: 16 output channels per vector.  Always
 * inlined so that block sizes, and for the cnn's 16 -> 16 (cnn_wide's 32 -> 32)
 * layers the channel counts, are compile-time constants: every input offset in the block is
 * then an immediate displacement from one pointer.
 */
static inline __attribute__((always_inline)) void
correlate_v16(float *out, const float *inp, const float *wm, const float *bias,
			  const float *res, int length, int cin, int cout, int kernel)
{
	int			K = kernel * cin;

	for (int cb = 0; cb < cout; cb += 16)
	{
		static const float zeros[16];
		const float *b0 = bias ? bias + cb : zeros;
		int			t = 0;

#define CORRELATE_AT(t, NB) \
		correlate_block(out + (size_t) (t) * cout + cb, inp + (size_t) (t) * cin, wm + cb, b0, \
						res ? res + (size_t) (t) * cout + cb : NULL, K, cin, cout, (NB))
		for (; t + CONV_BLOCK_T <= length; t += CONV_BLOCK_T)
			CORRELATE_AT(t, CONV_BLOCK_T);
		for (; t + 4 <= length; t += 4)
			CORRELATE_AT(t, 4);
		for (; t < length; t++)
			CORRELATE_AT(t, 1);
#undef CORRELATE_AT
	}
}

static void
correlate(float *out, const float *inp, const float *wm, const float *bias,
		  const float *res, int length, int cin, int cout, int kernel)
{
	if (cin == 16 && cout == 16 && kernel == 4)
		correlate_v16(out, inp, wm, bias, res, length, 16, 16, 4);
	else if (cin == 32 && cout == 32 && kernel == 4)
		correlate_v16(out, inp, wm, bias, res, length, 32, 32, 4);
	else if (cout % 16 == 0)
		correlate_v16(out, inp, wm, bias, res, length, cin, cout, kernel);
	else
		correlate_scalar(out, inp, wm, bias, res, length, cin, cout, kernel);
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
static inline __attribute__((always_inline)) void
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

static inline __attribute__((always_inline)) void
weight_grad_v16_body(float *dw, float *db, const float *xp, const float *dy,
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

/* weight gradient for cout % 16 == 0, with the cnn's 16 -> 16 and cnn_wide's 32 -> 32 shapes specialised */
static void
weight_grad_v16(float *dw, float *db, const float *xp, const float *dy,
				int length, int cin, int cout, int kernel)
{
	if (cin == 16 && cout == 16 && kernel == 4)
		weight_grad_v16_body(dw, db, xp, dy, length, 16, 16, 4);
	else if (cin == 32 && cout == 32 && kernel == 4)
		weight_grad_v16_body(dw, db, xp, dy, length, 32, 32, 4);
	else
		weight_grad_v16_body(dw, db, xp, dy, length, cin, cout, kernel);
}

/*
 * Weight gradient with the weight rows in the vector lanes, for
 * K = kernel*cin a multiple of 16 (the cnn's 16 -> 16 convs): accumulators
 * dwt[co][j .. j+15] for all NQ = K/16 lane groups and CT output channels.
 * Per position: NQ vector loads of the input window, CT broadcasts of dy,
 * NQ*CT FMAs - about 0.4 loads per FMA instead of 1 in weight_grad_block, so
 * the loop is bound by the FMA units rather than by loads.  dwt is the
 * part's transposed partial [cout][K]; db is left to the caller.
 */
#define CONV_WT_CT 6			/* output channels per tile: 4 x 6 accumulators */

static inline __attribute__((always_inline)) void
weight_grad_t_tile(float *dwt, const float *xp, const float *dy, int length, int cin,
				   int cout, const int NQ, const int CT)
{
	int			K = NQ * 16;
	nn_v16		acc[CONV_WT_CT][4];

#pragma GCC unroll 8
	for (int c = 0; c < CONV_WT_CT; c++)
#pragma GCC unroll 4
		for (int q = 0; q < 4; q++)
		{
			acc[c][q] = nn_v16_splat(0.0f);
			if (c < CT && q < NQ)
				acc[c][q] = nn_v16_load(dwt + (size_t) c * K + 16 * q);
		}
	for (int t = 0; t < length; t++)
	{
		const float *xr = xp + (size_t) t * cin;
		const float *g = dy + (size_t) t * cout;
		nn_v16		xv[4];

#pragma GCC unroll 4
		for (int q = 0; q < NQ; q++)
			xv[q] = nn_v16_load(xr + 16 * q);
#pragma GCC unroll 8
		for (int c = 0; c < CT; c++)
#pragma GCC unroll 4
			for (int q = 0; q < NQ; q++)
				acc[c][q] += g[c] * xv[q];
	}
#pragma GCC unroll 8
	for (int c = 0; c < CT; c++)
#pragma GCC unroll 4
		for (int q = 0; q < NQ; q++)
			nn_v16_store(dwt + (size_t) c * K + 16 * q, acc[c][q]);
}

static inline __attribute__((always_inline)) void
weight_grad_t_body(float *dwt, const float *xp, const float *dy, int length, int cin, int cout,
				   const int NQ)
{
	int			K = NQ * 16;
	int			c = 0;

	for (; c + CONV_WT_CT <= cout; c += CONV_WT_CT)
		weight_grad_t_tile(dwt + (size_t) c * K, xp, dy + c, length, cin, cout, NQ, CONV_WT_CT);
	for (; c + 2 <= cout; c += 2)
		weight_grad_t_tile(dwt + (size_t) c * K, xp, dy + c, length, cin, cout, NQ, 2);
	for (; c < cout; c++)
		weight_grad_t_tile(dwt + (size_t) c * K, xp, dy + c, length, cin, cout, NQ, 1);
}

/* K / 16 lane groups: 1 .. 4 (K <= 64); the cnn's shape is specialised */
static void
weight_grad_t(float *dwt, const float *xp, const float *dy, int length, int cin, int cout,
			  int kernel)
{
	int			NQ = kernel * cin / 16;

	if (cin == 16 && cout == 16 && kernel == 4)
		weight_grad_t_body(dwt, xp, dy, length, 16, 16, 4);
	else if (NQ == 4)
		weight_grad_t_body(dwt, xp, dy, length, cin, cout, 4);
	else if (NQ == 3)
		weight_grad_t_body(dwt, xp, dy, length, cin, cout, 3);
	else if (NQ == 2)
		weight_grad_t_body(dwt, xp, dy, length, cin, cout, 2);
	else
		weight_grad_t_body(dwt, xp, dy, length, cin, cout, 1);
}

/* the lanes-over-weight-rows path applies: K a multiple of 16, at most 64 */
static int
use_weight_grad_t(int cin, int kernel)
{
	int			K = kernel * cin;

	return K % 16 == 0 && K <= 64;
}

/* db[co] += sum_t dy[t][co] */
static void
bias_grad(float *db, const float *dy, int length, int cout)
{
	int			c = 0;

	for (; c + 16 <= cout; c += 16)
	{
		nn_v16		acc = nn_v16_load(db + c);

		for (int t = 0; t < length; t++)
			acc += nn_v16_load(dy + (size_t) t * cout + c);
		nn_v16_store(db + c, acc);
	}
	for (; c < cout; c++)
		for (int t = 0; t < length; t++)
			db[c] += dy[(size_t) t * cout + c];
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
	const float *residual;
	int			batch;
	int			length;
	int			cin;
	int			cout;
	int			kernel;
	/* carved from the workspace */
	float	   *wt;				/* flipped, transposed kernel for dx */
	float	   *pad[NN_PARTS];	/* padded sample, per part */
	float	   *dw_part[NN_PARTS];	/* dw ([K][cout], or [cout][K] when
									 * use_weight_grad_t) then db partial sums,
									 * per part */
} conv_args;

/* split_windows' buffer: a whole padded sample, or both padded ends */
static size_t
conv_pad_floats(int length, int cin, int cout, int kernel)
{
	int			ch = cin > cout ? cin : cout;
	size_t		rows = (size_t) length + kernel - 1;

	if (rows < 3 * (size_t) kernel)
		rows = 3 * (size_t) kernel;
	return rows * ch;
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

NN_KERNEL static void
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
		window_runs w;
		float	   *y = a->y + b * out_stride;
		const float *res = a->residual ? a->residual + b * out_stride : NULL;

		split_windows(&w, a->x + b * in_stride, a->pad[part], a->length, a->cin, a->kernel,
					  pad_left(a->kernel));
		for (int r = 0; r < w.n; r++)
			if (w.count[r] > 0)
				correlate(y + (size_t) w.first[r] * a->cout, w.base[r], a->w, a->bias,
						  res ? res + (size_t) w.first[r] * a->cout : NULL,
						  w.count[r], a->cin, a->cout, a->kernel);
	}
}

void
nn_conv1d_forward(nn_pool *pool, float *y, const float *x, const float *w, const float *bias,
				  int batch, int length, int cin, int cout, int kernel, void *workspace)
{
	nn_conv1d_forward_residual(pool, y, x, w, bias, NULL, batch, length, cin, cout, kernel,
							   workspace);
}

void
nn_conv1d_forward_residual(nn_pool *pool, float *y, const float *x, const float *w,
						   const float *bias, const float *residual,
						   int batch, int length, int cin, int cout, int kernel,
						   void *workspace)
{
	conv_args	a = {.y = y, .x = x, .w = w, .bias = bias, .residual = residual, .batch = batch,
	.length = length, .cin = cin, .cout = cout, .kernel = kernel};

	conv_carve(&a, workspace);
	nn_pool_run(pool, NN_PARTS, conv_forward_part, &a);
}

/* Backward ------------------------------------------------------------------ */

NN_KERNEL static void
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

	if (a->dw != NULL)
		memset(dw, 0, sizeof(float) * (wn + a->cout));
	nn_part_range((size_t) a->batch, part, &b0, &b1);
	for (size_t b = b0; b < b1; b++)
	{
		const float *dy = a->dy + b * out_stride;
		window_runs w;

		/* no dw: the input gradient alone (w.n = 0 skips the weights) */
		w.n = 0;
		if (a->dw != NULL)
			split_windows(&w, a->x + b * in_stride, a->pad[part], a->length, a->cin, a->kernel, left);
		for (int r = 0; r < w.n; r++)
		{
			const float *g = dy + (size_t) w.first[r] * a->cout;

			if (w.count[r] == 0)
				continue;
			if (use_weight_grad_t(a->cin, a->kernel))
			{
				weight_grad_t(dw, w.base[r], g, w.count[r], a->cin, a->cout, a->kernel);
				bias_grad(db, g, w.count[r], a->cout);
			}
			else if (a->cout % 16 == 0)
				weight_grad_v16(dw, db, w.base[r], g, w.count[r], a->cin, a->cout, a->kernel);
			else
				weight_grad_scalar(dw, db, w.base[r], g, w.count[r], a->cin, a->cout, a->kernel);
		}
		if (a->dx)
		{
			float	   *dx = a->dx + b * in_stride;

			split_windows(&w, dy, a->pad[part], a->length, a->cout, a->kernel,
						  a->kernel - 1 - left);
			for (int r = 0; r < w.n; r++)
				if (w.count[r] > 0)
					correlate(dx + (size_t) w.first[r] * a->cin, w.base[r], a->wt, NULL, NULL,
							  w.count[r], a->cout, a->cin, a->kernel);
		}
	}
}

NN_KERNEL static void
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

		/* weight entries of the transposed partials [cout][K] (see weight_grad_t) */
		size_t		src = e;

		if (e < wn && use_weight_grad_t(a->cin, a->kernel))
		{
			size_t		K = (size_t) a->kernel * a->cin;

			src = (e % a->cout) * K + e / a->cout;
		}
		for (int q = 0; q < NN_PARTS; q++)
			s += a->dw_part[q][src];
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
	if (dw != NULL)
		nn_pool_run(pool, NN_PARTS, conv_reduce_part, &a);
}
