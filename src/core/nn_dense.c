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
 */
#include "nn_kernel_util.h"

#include <cblas.h>

typedef struct dense_args
{
	float	   *y;
	float	   *db_parts;		/* NN_PARTS x out partial sums */
	float	   *db;
	const float *dy;
	const float *b;
	int			batch;
	int			out;
} dense_args;

static void
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
	dense_args	a = {.y = y, .b = b, .batch = batch, .out = out};

	nn_pool_run(pool, NN_PARTS, bias_fill_part, &a);
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, batch, out, in,
				1.0f, x, in, w, out, 1.0f, y, out);
}

size_t
nn_dense_backward_workspace_bytes(int batch, int in, int out)
{
	(void) batch;
	(void) in;
	return NN_WS_ALIGN + NN_PARTS * nn_round_up(sizeof(float) * (size_t) out);
}

static size_t
db_stride(const dense_args *a)
{
	return nn_round_up(sizeof(float) * (size_t) a->out) / sizeof(float);
}

static void
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
	if (dx)
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, batch, in, out,
					1.0f, dy, out, w, out, 0.0f, dx, in);
	/* dw += x^T dy: beta = 1 accumulates */
	cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, in, out, batch,
				1.0f, x, in, dy, out, 1.0f, dw, out);
	if (db)
	{
		nn_ws_cursor c = nn_ws_start(workspace);
		dense_args	a = {.db = db, .dy = dy, .batch = batch, .out = out};

		a.db_parts = nn_ws_take(&c, 0);
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
