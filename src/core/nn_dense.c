/*
 * nn_dense.c - fully connected layer: y = x W + b through OpenBLAS sgemm.
 *
 * Each product is ONE sgemm over the whole batch, issued from the calling
 * thread: OpenBLAS parallelises it with its own threads, and its result does
 * not depend on how many threads our pool has (OpenBLAS splits the output
 * matrix among its threads, never the summation).  Calling sgemm per part from
 * our own workers instead was measured slower: the two thread sets compete.
 * Only the bias gradient (column sums of dy) is reduced by us, per part in the
 * workspace and then in part order.
 *
 * Narrow layers (fewer than 16 outputs, like the cnn's 1600 -> 5 head) are
 * poorly served by sgemm; they use our own kernels over the transposed kernel
 * wt[out][in], vectorised along the input features, split over the batch in
 * NN_PARTS parts with per-part weight-gradient partials reduced in order.
 */
#include "nn_kernel_util.h"

#include <cblas.h>

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
	const float *wt;			/* narrow path: [out][in] */
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

NN_KERNEL static void
bias_fill_part(void *p, int part)
{
	dense_args *a = p;
	size_t		r0,
				r1;

	nn_part_range((size_t) a->batch, part, &r0, &r1);
	for (size_t r = r0; r < r1; r++)
	{
		float	   *yr = a->y + r * a->out;

		if (a->b)
			memcpy(yr, a->b, sizeof(float) * a->out);
		else
			memset(yr, 0, sizeof(float) * a->out);
	}
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
	nn_pool_run(pool, NN_PARTS, bias_fill_part, &a);
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, batch, out, in,
				1.0f, x, in, w, out, 1.0f, y, out);
}

size_t
nn_dense_backward_workspace_bytes(int batch, int in, int out)
{
	size_t		bytes = NN_WS_ALIGN + NN_PARTS * nn_round_up(sizeof(float) * (size_t) out);

	(void) batch;
	if (dense_is_narrow(in, out))
		bytes += (1 + NN_PARTS) * nn_round_up(sizeof(float) * (size_t) in * out);
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
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, batch, in, out,
						1.0f, dy, out, w, out, 0.0f, dx, in);
		/* dw += x^T dy: beta = 1 accumulates */
		cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, in, out, batch,
					1.0f, x, in, dy, out, 1.0f, dw, out);
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
