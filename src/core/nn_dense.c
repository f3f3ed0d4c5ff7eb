/*
 * nn_dense.c - fully connected layer: y = x W + b, with our own kernels.
 *
 * Every output element is ONE chain of multiply-adds in a fixed order (bias,
 * then the products in increasing index order), computed in a 16-float
 * vector lane or, at a ragged edge, by scalar code doing the same operations.
 * The work is split into NN_PARTS parts over rows of the result, so no sum is
 * ever split: the results are the same bits for any thread count and on any
 * x86-64 CPU with FMA (AVX2 or AVX-512 registers alike, make portable-check).
 * OpenBLAS sgemm, used here before, picks its kernels (and so its summation
 * order) per CPU model: the baseline model trained to different figures on an
 * Intel AVX-512 and an AMD Zen 4 machine (issue 16).
 *
 * Wide layers (16 or more outputs, the baseline's 187 -> 128) run the tiled
 * product below: tiles of 4 result rows x 32 columns (8 vector accumulators,
 * which fit the 16 AVX2 registers as well as the 32 AVX-512 ones) walk the
 * summed index once.  The backward pass multiplies by a transposed copy of W
 * (in the workspace) for dx and computes dw row range by row range, each
 * element summed over the whole batch.  Only the bias gradient (column sums of
 * dy) is reduced in parts, per part in the workspace and then in part order.
 *
 * Narrow layers (fewer than 16 outputs, like the cnn's 1600 -> 5 head) use
 * kernels over the transposed kernel wt[out][in], vectorised along the input
 * features, split over the batch in NN_PARTS parts with per-part
 * weight-gradient partials reduced in order.
 */
#include "nn_kernel_util.h"

/* narrow path: outputs below this, and a transposed kernel of at most
 * DENSE_SMALL_WT floats (it lives on the stack in the forward pass) */
#define DENSE_SMALL_OUT 16
#define DENSE_SMALL_WT 8192

typedef struct dense_args
{
	float	   *y;
	float	   *dx;
	float	   *db_parts;		/* NN_PARTS x out partial sums */
	float	   *dwt_parts;		/* narrow path: NN_PARTS x [out][in] partial sums */
	float	   *db;
	const float *x;
	const float *dy;
	const float *b;
	const float *wt;			/* narrow path: [out][in]; wide: [out][in] for dx */
	float	   *dw;
	const float *w;
	int			batch;
	int			in;
	int			out;
} dense_args;

static int
dense_is_narrow(int in, int out)
{
	return out < DENSE_SMALL_OUT && (size_t) in * out <= DENSE_SMALL_WT;
}

static void
transpose_kernel(float *wt, const float *w, int in, int out)
{
	for (int i = 0; i < in; i++)
		for (int o = 0; o < out; o++)
			wt[(size_t) o * in + i] = w[(size_t) i * out + o];
}

/* y[r][o] = b[o] + x[r] . wt[o] for the part's rows */
NN_KERNEL static void
narrow_forward_part(void *p, int part)
{
	dense_args *a = p;
	size_t		r0,
				r1;
	int			in = a->in,
				out = a->out;

	nn_part_range((size_t) a->batch, part, &r0, &r1);
	for (size_t r = r0; r < r1; r++)
	{
		const float *xr = a->x + r * in;
		nn_v16		acc[DENSE_SMALL_OUT];
		int			i = 0;

		for (int o = 0; o < out; o++)
			acc[o] = nn_v16_splat(0.0f);
		for (; i + 16 <= in; i += 16)
		{
			nn_v16		xv = nn_v16_load(xr + i);

			for (int o = 0; o < out; o++)
				acc[o] += xv * nn_v16_load(a->wt + (size_t) o * in + i);
		}
		for (int o = 0; o < out; o++)
		{
			float		s = a->b ? a->b[o] : 0.0f;

			for (int l = 0; l < 16; l++)
				s += acc[o][l];
			for (int k = i; k < in; k++)
				s += xr[k] * a->wt[(size_t) o * in + k];
			a->y[r * out + o] = s;
		}
	}
}

/*
 * The wide path's product: for rows r of a range and every column j,
 *   c[r][j] = start + sum over k = 0 .. K-1, in order, of a(r, k) * b[k][j]
 * where a(r, k) = a[r * a_row + k * a_k] (strides let dw read x transposed),
 * start = bias[j] (or 0 without bias), and with accumulate set the sum is
 * added to c afterwards instead of stored (dw +=).
 */
typedef struct mm_args
{
	const float *a;
	size_t		a_row;
	size_t		a_k;
	const float *b;				/* [K][ldb] */
	size_t		ldb;
	const float *bias;			/* NULL: start at 0 */
	float	   *c;				/* [rows][ldc] */
	size_t		ldc;
	int			K;
	int			cols;
	int			accumulate;
} mm_args;

#define MM_ROWS 4
#define MM_VECS 4

/*
 * rows [r, r + R) x columns [j, j + 16 V), R <= MM_ROWS, V <= MM_VECS; the
 * loops over them are unrolled so that the accumulators stay in registers
 */
static inline __attribute__((always_inline)) void
mm_tile(const mm_args *m, size_t r, const int R, int j, const int V)
{
	nn_v16		acc[MM_ROWS][MM_VECS];

#pragma GCC unroll 4
	for (int q = 0; q < R; q++)
#pragma GCC unroll 4
		for (int v = 0; v < V; v++)
		{
			acc[q][v] = nn_v16_splat(0.0f);
			if (m->bias)
				acc[q][v] = nn_v16_load(m->bias + j + 16 * v);
		}
	for (int k = 0; k < m->K; k++)
	{
		const float *bk = m->b + (size_t) k * m->ldb + j;
		nn_v16		bv[MM_VECS];

#pragma GCC unroll 4
		for (int v = 0; v < V; v++)
			bv[v] = nn_v16_load(bk + 16 * v);
	#pragma GCC unroll 4
	for (int q = 0; q < R; q++)
		{
			float		av = m->a[(r + q) * m->a_row + (size_t) k * m->a_k];

#pragma GCC unroll 4
			for (int v = 0; v < V; v++)
				acc[q][v] += av * bv[v];
		}
	}
#pragma GCC unroll 4
	for (int q = 0; q < R; q++)
#pragma GCC unroll 4
		for (int v = 0; v < V; v++)
		{
			float	   *cq = m->c + (r + q) * m->ldc + j + 16 * v;

			if (m->accumulate)
				acc[q][v] += nn_v16_load(cq);
			nn_v16_store(cq, acc[q][v]);
		}
}

/*
 * rows [r, r + R) x the last n < 16 columns from j: the same lane-by-lane
 * chains in one vector whose lanes past n are zero and never stored
 */
static inline __attribute__((always_inline)) void
mm_tail(const mm_args *m, size_t r, const int R, int j, int n)
{
	nn_v16		acc[MM_ROWS];

	for (int q = 0; q < R; q++)
	{
		acc[q] = nn_v16_splat(0.0f);
		if (m->bias)
			memcpy(&acc[q], m->bias + j, sizeof(float) * n);
	}
	for (int k = 0; k < m->K; k++)
	{
		nn_v16		bv = nn_v16_splat(0.0f);

		memcpy(&bv, m->b + (size_t) k * m->ldb + j, sizeof(float) * n);
#pragma GCC unroll 4
		for (int q = 0; q < R; q++)
			acc[q] += m->a[(r + q) * m->a_row + (size_t) k * m->a_k] * bv;
	}
	for (int q = 0; q < R; q++)
	{
		float	   *cq = m->c + (r + q) * m->ldc + j;

		for (int l = 0; l < n; l++)
			cq[l] = m->accumulate ? cq[l] + acc[q][l] : acc[q][l];
	}
}

static inline __attribute__((always_inline)) void
mm_rows(const mm_args *m, size_t r, const int R)
{
	int			j = 0;

	for (; j + 64 <= m->cols; j += 64)
		mm_tile(m, r, R, j, 4);
	for (; j + 32 <= m->cols; j += 32)
		mm_tile(m, r, R, j, 2);
	for (; j + 16 <= m->cols; j += 16)
		mm_tile(m, r, R, j, 1);
	if (j < m->cols)
		mm_tail(m, r, R, j, m->cols - j);
}

/*
 * Result rows of part `part` of `rows`: the rows are dealt out to the parts
 * in groups of MM_ROWS, so that only the last group of all may be ragged.
 */
static void
mm_part(const mm_args *m, size_t rows, int part)
{
	size_t		g0,
				g1,
				r,
				r1;

	nn_part_range((rows + MM_ROWS - 1) / MM_ROWS, part, &g0, &g1);
	r = g0 * MM_ROWS;
	r1 = g1 * MM_ROWS < rows ? g1 * MM_ROWS : rows;
	for (; r + MM_ROWS <= r1; r += MM_ROWS)
		mm_rows(m, r, MM_ROWS);
	for (; r < r1; r++)
		mm_rows(m, r, 1);
}

/* y = x W + b for the part's rows */
NN_KERNEL static void
wide_forward_part(void *p, int part)
{
	dense_args *a = p;
	mm_args		m = {.a = a->x, .a_row = (size_t) a->in, .a_k = 1, .b = a->w,
	.ldb = (size_t) a->out, .bias = a->b, .c = a->y, .ldc = (size_t) a->out, .K = a->in,
	.cols = a->out};

	mm_part(&m, (size_t) a->batch, part);
}

/* dx = dy W^T for the part's rows (W^T is a->wt) */
NN_KERNEL static void
wide_backward_dx_part(void *p, int part)
{
	dense_args *a = p;
	mm_args		m = {.a = a->dy, .a_row = (size_t) a->out, .a_k = 1, .b = a->wt,
	.ldb = (size_t) a->in, .c = a->dx, .ldc = (size_t) a->in, .K = a->out, .cols = a->in};

	mm_part(&m, (size_t) a->batch, part);
}

/* dw += x^T dy for the part's rows of dw (input features), over the whole batch */
NN_KERNEL static void
wide_backward_dw_part(void *p, int part)
{
	dense_args *a = p;
	mm_args		m = {.a = a->x, .a_row = 1, .a_k = (size_t) a->in, .b = a->dy,
	.ldb = (size_t) a->out, .c = a->dw, .ldc = (size_t) a->out, .K = a->batch,
	.cols = a->out, .accumulate = 1};

	mm_part(&m, (size_t) a->in, part);
}

void
nn_dense_forward(nn_pool *pool, float *y, const float *x, const float *w, const float *b,
				 int batch, int in, int out)
{
	dense_args	a = {.y = y, .x = x, .b = b, .batch = batch, .in = in, .out = out};

	if (dense_is_narrow(in, out))
	{
		float		wt[DENSE_SMALL_WT];

		transpose_kernel(wt, w, in, out);
		a.wt = wt;
		nn_pool_run(pool, NN_PARTS, narrow_forward_part, &a);
		return;
	}
	a.w = w;
	nn_pool_run(pool, NN_PARTS, wide_forward_part, &a);
}

size_t
nn_dense_backward_workspace_bytes(int batch, int in, int out)
{
	size_t		bytes = NN_WS_ALIGN + NN_PARTS * nn_round_up(sizeof(float) * (size_t) out);

	(void) batch;
	if (dense_is_narrow(in, out))
		bytes += (1 + NN_PARTS) * nn_round_up(sizeof(float) * (size_t) in * out);
	else
		bytes += nn_round_up(sizeof(float) * (size_t) in * out);	/* W^T */
	return bytes;
}

/* dx rows and this part's dw^T partial, narrow path */
NN_KERNEL static void
narrow_backward_part(void *p, int part)
{
	dense_args *a = p;
	size_t		r0,
				r1;
	int			in = a->in,
				out = a->out;
	float	   *dwt = a->dwt_parts + (size_t) part * (nn_round_up(sizeof(float) * (size_t) in * out)
													/ sizeof(float));
	int			i = 0;

	nn_part_range((size_t) a->batch, part, &r0, &r1);
	if (a->dx)
		for (size_t r = r0; r < r1; r++)
		{
			const float *g = a->dy + r * out;
			float	   *dxr = a->dx + r * in;
			int			k = 0;

			for (; k + 16 <= in; k += 16)
			{
				nn_v16		acc = nn_v16_splat(0.0f);

				for (int o = 0; o < out; o++)
					acc += g[o] * nn_v16_load(a->wt + (size_t) o * in + k);
				nn_v16_store(dxr + k, acc);
			}
			for (; k < in; k++)
			{
				float		s = 0;

				for (int o = 0; o < out; o++)
					s += g[o] * a->wt[(size_t) o * in + k];
				dxr[k] = s;
			}
		}
	/* dwt[o][i] = sum over the part's rows of dy[r][o] * x[r][i] */
	for (; i + 16 <= in; i += 16)
	{
		nn_v16		acc[DENSE_SMALL_OUT];

		for (int o = 0; o < out; o++)
			acc[o] = nn_v16_splat(0.0f);
		for (size_t r = r0; r < r1; r++)
		{
			nn_v16		xv = nn_v16_load(a->x + r * in + i);

			for (int o = 0; o < out; o++)
				acc[o] += a->dy[r * out + o] * xv;
		}
		for (int o = 0; o < out; o++)
			nn_v16_store(dwt + (size_t) o * in + i, acc[o]);
	}
	for (; i < in; i++)
		for (int o = 0; o < out; o++)
		{
			float		s = 0;

			for (size_t r = r0; r < r1; r++)
				s += a->dy[r * out + o] * a->x[r * in + i];
			dwt[(size_t) o * in + i] = s;
		}
}

static size_t
db_stride(const dense_args *a)
{
	return nn_round_up(sizeof(float) * (size_t) a->out) / sizeof(float);
}

NN_KERNEL static void
bias_grad_part(void *p, int part)
{
	dense_args *a = p;
	size_t		r0,
				r1;
	float	   *db = a->db_parts + db_stride(a) * part;

	memset(db, 0, sizeof(float) * a->out);
	nn_part_range((size_t) a->batch, part, &r0, &r1);
	for (size_t r = r0; r < r1; r++)
		for (int o = 0; o < a->out; o++)
			db[o] += a->dy[r * a->out + o];
}

void
nn_dense_backward(nn_pool *pool, float *dx, float *dw, float *db,
				  const float *dy, const float *x, const float *w,
				  int batch, int in, int out, void *workspace)
{
	nn_ws_cursor c = nn_ws_start(workspace);
	dense_args	a = {.dx = dx, .db = db, .x = x, .dy = dy, .batch = batch, .in = in, .out = out};

	a.db_parts = nn_ws_take(&c, sizeof(float) * NN_PARTS * db_stride(&a));
	if (dense_is_narrow(in, out))
	{
		size_t		stride = nn_round_up(sizeof(float) * (size_t) in * out) / sizeof(float);
		float	   *wt = nn_ws_take(&c, sizeof(float) * (size_t) in * out);

		a.dwt_parts = nn_ws_take(&c, sizeof(float) * NN_PARTS * stride);
		transpose_kernel(wt, w, in, out);
		a.wt = wt;
		nn_pool_run(pool, NN_PARTS, narrow_backward_part, &a);
		for (int i = 0; i < in; i++)
			for (int o = 0; o < out; o++)
			{
				float		s = 0;

				for (int q = 0; q < NN_PARTS; q++)
					s += a.dwt_parts[stride * q + (size_t) o * in + i];
				dw[(size_t) i * out + o] += s;
			}
	}
	else
	{
		if (dx)
		{
			float	   *wt = nn_ws_take(&c, sizeof(float) * (size_t) in * out);

			transpose_kernel(wt, w, in, out);
			a.wt = wt;
			nn_pool_run(pool, NN_PARTS, wide_backward_dx_part, &a);
		}
		a.dw = dw;
		nn_pool_run(pool, NN_PARTS, wide_backward_dw_part, &a);
	}
	if (db)
	{
		nn_pool_run(pool, NN_PARTS, bias_grad_part, &a);
		for (int o = 0; o < out; o++)
		{
			float		s = 0;

			for (int q = 0; q < NN_PARTS; q++)
				s += a.db_parts[db_stride(&a) * q + o];
			db[o] += s;
		}
	}
}
