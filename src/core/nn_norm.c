/*
 * nn_norm.c - batch normalisation (training, inference, backward, moving
 * statistics) and the fused BatchNorm -> ReLU -> Dropout triple.
 *
 * Statistics: each part sums (x - shift) and (x - shift)^2 over its rows in
 * double, shift being the tensor's first row (this keeps the one-pass
 * variance accurate when |mean| >> std); the calling thread adds the parts in
 * order.  Every output pass then computes y = x * scale[c] + offset[c] with
 * scale = gamma * invstd and offset = beta - mean * scale; the fused kernel
 * and its backward pass use the very same expression, so the ReLU decisions
 * they see agree bit for bit.
 *
 * Channel counts that are multiples of 16 take vector paths (one vector per
 * 16 channels of a row), specialised for the cnn's 16; others a scalar path.
 */
#include "nn_kernel_util.h"

#include <math.h>

/* float arrays of C channels in the workspace (see bn_coefs) */
#define BN_COEF_ARRAYS 5

/* Per-part partial sums live in the workspace: NN_PARTS x 2 x C doubles. */
size_t
nn_batchnorm_workspace_bytes(int channels)
{
	return NN_WS_ALIGN + NN_PARTS * nn_round_up(sizeof(double) * 2 * (size_t) channels)
		+ BN_COEF_ARRAYS * nn_round_up(sizeof(float) * (size_t) channels);
}

typedef struct bn_args
{
	float	   *y;
	float	   *dx;
	const float *x;
	const float *dy;
	size_t		rows;
	int			channels;
	const float *shift;			/* statistics shift, [C] (the first row) */
	const float *scale;			/* [C] */
	const float *offset;		/* [C] */
	double	   *sums[NN_PARTS]; /* per part: [C] sums then [C] second sums */
	/* dropout (fused kernels) */
	uint8_t    *mask_out;
	const uint8_t *mask_in;
	uint64_t	seed;
	uint64_t	threshold;
	float		keep_scale;
	int			relu;
	/* backward */
	const float *mean;
	const float *invstd;
	const float *gcoef;			/* gamma * invstd */
	const float *mean_g;		/* sum g / rows */
	const float *mean_gx;		/* sum g*xhat / rows */
} bn_args;

/* Per-channel float coefficients carved from the workspace. */
typedef struct bn_coefs
{
	float	   *scale;
	float	   *offset;
	float	   *gcoef;
	float	   *mean_g;
	float	   *mean_gx;
} bn_coefs;

static void
bn_carve(bn_args *a, void *workspace, bn_coefs *k)
{
	nn_ws_cursor c = nn_ws_start(workspace);
	size_t		C = (size_t) a->channels;

	for (int p = 0; p < NN_PARTS; p++)
		a->sums[p] = nn_ws_take(&c, sizeof(double) * 2 * C);
	k->scale = nn_ws_take(&c, sizeof(float) * C);
	k->offset = nn_ws_take(&c, sizeof(float) * C);
	k->gcoef = nn_ws_take(&c, sizeof(float) * C);
	k->mean_g = nn_ws_take(&c, sizeof(float) * C);
	k->mean_gx = nn_ws_take(&c, sizeof(float) * C);
}

/* the vector paths for channels % 16 == 0, defined further down */
static void stats_v16(const bn_args *a, double *s1, double *s2, size_t r0, size_t r1);
static void output_v16(const bn_args *a, size_t r0, size_t r1);
static void grad_sums_v16(const bn_args *a, double *s1, double *s2, size_t r0, size_t r1);
static void grad_input_v16(const bn_args *a, size_t r0, size_t r1);

/* Statistics --------------------------------------------------------------- */

static inline void
stats_rows(double *s1, double *s2, const float *x, const float *shift,
		   size_t r0, size_t r1, int C)
{
	for (int c = 0; c < C; c++)
		s1[c] = s2[c] = 0;
	for (size_t r = r0; r < r1; r++)
	{
		const float *xr = x + r * C;

		for (int c = 0; c < C; c++)
		{
			double		d = (double) xr[c] - (double) shift[c];

			s1[c] += d;
			s2[c] += d * d;
		}
	}
}

NN_KERNEL static void
stats_part(void *p, int part)
{
	bn_args    *a = p;
	size_t		r0,
				r1;
	double	   *s1 = a->sums[part],
			   *s2 = s1 + a->channels;

	nn_part_range(a->rows, part, &r0, &r1);
	if (a->channels % 16 == 0)
		stats_v16(a, s1, s2, r0, r1);
	else
		stats_rows(s1, s2, a->x, a->shift, r0, r1, a->channels);
}

/* Computes mean, var, invstd and the affine scale/offset of the training pass. */
NN_KERNEL static void
batch_statistics(nn_pool *pool, bn_args *a, const float *gamma, const float *beta,
				 float eps, float *mean, float *var, float *invstd,
				 float *scale, float *offset)
{
	int			C = a->channels;

	a->shift = a->x;			/* first row */
	nn_pool_run(pool, NN_PARTS, stats_part, a);
	for (int c = 0; c < C; c++)
	{
		double		s1 = 0,
					s2 = 0,
					m,
					v;

		for (int p = 0; p < NN_PARTS; p++)
		{
			s1 += a->sums[p][c];
			s2 += a->sums[p][C + c];
		}
		m = s1 / (double) a->rows;
		v = s2 / (double) a->rows - m * m;
		if (v < 0)
			v = 0;
		mean[c] = (float) ((double) a->shift[c] + m);
		var[c] = (float) v;
		invstd[c] = (float) (1.0 / sqrt(v + (double) eps));
		scale[c] = gamma[c] * invstd[c];
		offset[c] = beta[c] - mean[c] * scale[c];
	}
}

/* Output pass: y = dropout(relu?(x * scale + offset)) --------------------- */

/* Rows of elements handled per mask refill in the fused pass. */
#define BN_MASK_ROWS 64

/*
 * The row loops below take the channel count and the relu/dropout switches as
 * arguments that are compile-time constants at each call site (see the
 * dispatchers), so every variant compiles to branch-free vector code: data
 * dependent choices are selects, never jumps (random signs would make the
 * branches mispredict half the time).
 */
static inline void
affine_rows(const bn_args *a, size_t r0, size_t r1, const int C, const int relu)
{
	const float *restrict scale = a->scale;
	const float *restrict offset = a->offset;

	for (size_t r = r0; r < r1; r++)
	{
		const float *restrict xr = a->x + r * C;
		float	   *restrict yr = a->y + r * C;

		for (int c = 0; c < C; c++)
		{
			float		z = xr[c] * scale[c] + offset[c];

			if (relu)
				z = z > 0.0f ? z : 0.0f;
			yr[c] = z;
		}
	}
}

static inline void
affine_dropout_rows(const bn_args *a, size_t r0, size_t r1, const int C)
{
	const float *restrict scale = a->scale;
	const float *restrict offset = a->offset;
	float		keep = a->keep_scale;

	for (size_t rb = r0; rb < r1; rb += BN_MASK_ROWS)
	{
		size_t		re = rb + BN_MASK_ROWS < r1 ? rb + BN_MASK_ROWS : r1;

		nn_dropout_fill_mask(a->mask_out + rb * C, a->seed, a->threshold, rb * C, re * C);
		for (size_t r = rb; r < re; r++)
		{
			const float *restrict xr = a->x + r * C;
			float	   *restrict yr = a->y + r * C;
			const uint8_t *restrict mr = a->mask_out + r * C;

			for (int c = 0; c < C; c++)
			{
				float		z = xr[c] * scale[c] + offset[c];

				z = z > 0.0f ? z : 0.0f;
				z = z * keep;
				yr[c] = mr[c] ? z : 0.0f;
			}
		}
	}
}

NN_KERNEL static void
output_part(void *p, int part)
{
	bn_args    *a = p;
	size_t		r0,
				r1;

	nn_part_range(a->rows, part, &r0, &r1);
	if (a->channels % 16 == 0)
		output_v16(a, r0, r1);
	else if (a->mask_out)
		affine_dropout_rows(a, r0, r1, a->channels);
	else if (a->relu)
		affine_rows(a, r0, r1, a->channels, 1);
	else
		affine_rows(a, r0, r1, a->channels, 0);
}

/* Vector paths for channel counts that are multiples of 16 ------------------
 *
 * Each group of 16 channels of a row is one vector.  Sums run in float vectors
 * over blocks of BN_BLOCK_ROWS rows and are then added to the part's double
 * sums, which keeps both the speed of float vectors and the accuracy of double
 * sums.  The bodies take the channel count as an argument that is the
 * constant 16 at the cnn's call sites (see the *_v16 dispatchers), so its row
 * addressing compiles to immediate offsets there.
 */
#define BN_BLOCK_ROWS 128

static inline __attribute__((always_inline)) void
stats_v16_body(const bn_args *a, double *s1, double *s2, size_t r0, size_t r1, const int C)
{
	for (int c = 0; c < C; c++)
		s1[c] = s2[c] = 0;
	for (size_t rb = r0; rb < r1; rb += BN_BLOCK_ROWS)
	{
		size_t		re = rb + BN_BLOCK_ROWS < r1 ? rb + BN_BLOCK_ROWS : r1;

		for (int c0 = 0; c0 < C; c0 += 16)
		{
			nn_v16		sh = nn_v16_load(a->shift + c0),
						acc1 = nn_v16_splat(0.0f),
						acc2 = nn_v16_splat(0.0f);

			for (size_t r = rb; r < re; r++)
			{
				nn_v16		d = nn_v16_load(a->x + r * C + c0) - sh;

				acc1 += d;
				acc2 += d * d;
			}
			for (int c = 0; c < 16; c++)
			{
				s1[c0 + c] += acc1[c];
				s2[c0 + c] += acc2[c];
			}
		}
	}
}

static void
stats_v16(const bn_args *a, double *s1, double *s2, size_t r0, size_t r1)
{
	if (a->channels == 16)
		stats_v16_body(a, s1, s2, r0, r1, 16);
	else
		stats_v16_body(a, s1, s2, r0, r1, a->channels);
}

static inline __attribute__((always_inline)) void
output_v16_body(const bn_args *a, size_t r0, size_t r1, const int C)
{
	float		keep = a->keep_scale;

	for (size_t rb = r0; rb < r1; rb += BN_MASK_ROWS)
	{
		size_t		re = rb + BN_MASK_ROWS < r1 ? rb + BN_MASK_ROWS : r1;

		if (a->mask_out)
			nn_dropout_fill_mask(a->mask_out + rb * C, a->seed, a->threshold, rb * C, re * C);
		for (int c0 = 0; c0 < C; c0 += 16)
		{
			nn_v16		sc = nn_v16_load(a->scale + c0),
						of = nn_v16_load(a->offset + c0);

			for (size_t r = rb; r < re; r++)
			{
				size_t		i = r * C + c0;
				nn_v16		z = nn_v16_load(a->x + i) * sc + of;

				if (a->relu)
					z = nn_v16_select(z > 0.0f, z);
				if (a->mask_out)
					z = nn_v16_select(nn_v16_mask_lanes(a->mask_out + i), z * keep);
				nn_v16_store(a->y + i, z);
			}
		}
	}
}

static void
output_v16(const bn_args *a, size_t r0, size_t r1)
{
	if (a->channels == 16)
		output_v16_body(a, r0, r1, 16);
	else
		output_v16_body(a, r0, r1, a->channels);
}

/* g (gradient at the batch-norm output) and xhat at element i of channels c0 .. c0+15 */
#define BN_ELEMENTS16(a, i, g, xhat) \
	do { \
		nn_v16		xv_ = nn_v16_load((a)->x + (i)); \
		(g) = nn_v16_load((a)->dy + (i)); \
		if ((a)->mask_in) \
			(g) = nn_v16_select(nn_v16_mask_lanes((a)->mask_in + (i)), (g) * (a)->keep_scale); \
		if ((a)->relu) \
			(g) = nn_v16_select(xv_ * sc + of > 0.0f, (g)); \
		(xhat) = (xv_ - mu) * is; \
	} while (0)

static inline __attribute__((always_inline)) void
grad_sums_v16_body(const bn_args *a, double *s1, double *s2, size_t r0, size_t r1, const int C)
{
	for (int c = 0; c < C; c++)
		s1[c] = s2[c] = 0;
	for (size_t rb = r0; rb < r1; rb += BN_BLOCK_ROWS)
	{
		size_t		re = rb + BN_BLOCK_ROWS < r1 ? rb + BN_BLOCK_ROWS : r1;

		for (int c0 = 0; c0 < C; c0 += 16)
		{
			nn_v16		sc = nn_v16_load(a->scale + c0),
						of = nn_v16_load(a->offset + c0),
						mu = nn_v16_load(a->mean + c0),
						is = nn_v16_load(a->invstd + c0),
						acc1 = nn_v16_splat(0.0f),
						acc2 = nn_v16_splat(0.0f);

			for (size_t r = rb; r < re; r++)
			{
				nn_v16		g,
							xhat;

				BN_ELEMENTS16(a, r * C + c0, g, xhat);
				acc1 += g;
				acc2 += g * xhat;
			}
			for (int c = 0; c < 16; c++)
			{
				s1[c0 + c] += acc1[c];
				s2[c0 + c] += acc2[c];
			}
		}
	}
}

static void
grad_sums_v16(const bn_args *a, double *s1, double *s2, size_t r0, size_t r1)
{
	if (a->channels == 16)
		grad_sums_v16_body(a, s1, s2, r0, r1, 16);
	else
		grad_sums_v16_body(a, s1, s2, r0, r1, a->channels);
}

static inline __attribute__((always_inline)) void
grad_input_v16_body(const bn_args *a, size_t r0, size_t r1, const int C)
{
	for (int c0 = 0; c0 < C; c0 += 16)
	{
		nn_v16		sc = nn_v16_load(a->scale + c0),
					of = nn_v16_load(a->offset + c0),
					mu = nn_v16_load(a->mean + c0),
					is = nn_v16_load(a->invstd + c0),
					gc = nn_v16_load(a->gcoef + c0),
					mg = nn_v16_load(a->mean_g + c0),
					mgx = nn_v16_load(a->mean_gx + c0);

		for (size_t r = r0; r < r1; r++)
		{
			size_t		i = r * C + c0;
			nn_v16		g,
						xhat;

			BN_ELEMENTS16(a, i, g, xhat);
			nn_v16_store(a->dx + i, gc * (g - mg - xhat * mgx));
		}
	}
}

static void
grad_input_v16(const bn_args *a, size_t r0, size_t r1)
{
	if (a->channels == 16)
		grad_input_v16_body(a, r0, r1, 16);
	else
		grad_input_v16_body(a, r0, r1, a->channels);
}

/* Public: batch norm -------------------------------------------------------- */

void
nn_batchnorm_forward_train(nn_pool *pool, float *y, const float *x,
						   const float *gamma, const float *beta,
						   size_t rows, int channels, float eps,
						   float *mean, float *var, float *invstd, void *workspace)
{
	bn_args		a = {.y = y, .x = x, .rows = rows, .channels = channels};
	bn_coefs	k;

	bn_carve(&a, workspace, &k);
	batch_statistics(pool, &a, gamma, beta, eps, mean, var, invstd, k.scale, k.offset);
	a.scale = k.scale;
	a.offset = k.offset;
	nn_pool_run(pool, NN_PARTS, output_part, &a);
}

/* Inference needs no workspace: each part derives scale/offset for 64 channels at a time. */
typedef struct bn_infer_args
{
	bn_args		base;
	const float *gamma;
	const float *beta;
	const float *moving_mean;
	const float *moving_var;
	float		eps;
} bn_infer_args;

NN_KERNEL static void
infer_part(void *p, int part)
{
	bn_infer_args *ia = p;
	bn_args		a = ia->base;
	int			C = a.channels;
	size_t		r0,
				r1;

	nn_part_range(a.rows, part, &r0, &r1);
	for (int c0 = 0; c0 < C; c0 += 64)
	{
		int			n = C - c0 < 64 ? C - c0 : 64;
		float		scale[64],
					offset[64];

		for (int c = 0; c < n; c++)
		{
			float		inv = (float) (1.0 / sqrt((double) ia->moving_var[c0 + c] + (double) ia->eps));

			scale[c] = ia->gamma[c0 + c] * inv;
			offset[c] = ia->beta[c0 + c] - ia->moving_mean[c0 + c] * scale[c];
		}
		for (size_t r = r0; r < r1; r++)
		{
			const float *xr = a.x + r * C + c0;
			float	   *yr = a.y + r * C + c0;

			for (int c = 0; c < n; c++)
			{
				float		z = xr[c] * scale[c] + offset[c];

				if (a.relu)
					z = z > 0.0f ? z : 0.0f;
				yr[c] = z;
			}
		}
	}
}

NN_KERNEL static void
infer(nn_pool *pool, float *y, const float *x, const float *gamma, const float *beta,
	  const float *moving_mean, const float *moving_var, size_t rows, int channels,
	  float eps, int relu)
{
	bn_infer_args ia = {.base = {.y = y, .x = x, .rows = rows, .channels = channels, .relu = relu},
		.gamma = gamma, .beta = beta, .moving_mean = moving_mean, .moving_var = moving_var,
	.eps = eps};

	nn_pool_run(pool, NN_PARTS, infer_part, &ia);
}

void
nn_batchnorm_forward_infer(nn_pool *pool, float *y, const float *x,
						   const float *gamma, const float *beta,
						   const float *moving_mean, const float *moving_var,
						   size_t rows, int channels, float eps)
{
	infer(pool, y, x, gamma, beta, moving_mean, moving_var, rows, channels, eps, 0);
}

void
nn_bn_relu_forward_infer(nn_pool *pool, float *y, const float *x,
						 const float *gamma, const float *beta,
						 const float *moving_mean, const float *moving_var,
						 size_t rows, int channels, float eps)
{
	infer(pool, y, x, gamma, beta, moving_mean, moving_var, rows, channels, eps, 1);
}

/* Inference-mode backward: dx = dy * scale (* [y > 0]), parts over rows. */
typedef struct bn_infer_grad_args
{
	float	   *dx;
	const float *dy;
	const float *y;
	const float *gamma;
	const float *moving_var;
	size_t		rows;
	int			channels;
	float		eps;
} bn_infer_grad_args;

NN_KERNEL static void
infer_grad_part(void *p, int part)
{
	bn_infer_grad_args *ga = p;
	int			C = ga->channels;
	size_t		r0,
				r1;

	nn_part_range(ga->rows, part, &r0, &r1);
	for (int c0 = 0; c0 < C; c0 += 64)
	{
		int			n = C - c0 < 64 ? C - c0 : 64;
		float		scale[64];

		for (int c = 0; c < n; c++)
			scale[c] = ga->gamma[c0 + c] *
				(float) (1.0 / sqrt((double) ga->moving_var[c0 + c] + (double) ga->eps));
		for (size_t r = r0; r < r1; r++)
		{
			const float *dyr = ga->dy + r * C + c0;
			float	   *dxr = ga->dx + r * C + c0;

			for (int c = 0; c < n; c++)
			{
				float		g = dyr[c] * scale[c];

				if (ga->y != NULL)
					g = ga->y[r * C + c0 + c] > 0.0f ? g : 0.0f;
				dxr[c] = g;
			}
		}
	}
}

void
nn_batchnorm_backward_infer(nn_pool *pool, float *dx, const float *dy, const float *y,
							const float *gamma, const float *moving_var,
							size_t rows, int channels, float eps)
{
	bn_infer_grad_args ga = {dx, dy, y, gamma, moving_var, rows, channels, eps};

	nn_pool_run(pool, NN_PARTS, infer_grad_part, &ga);
}

NN_KERNEL void
nn_batchnorm_update_moving(float *moving_mean, float *moving_var,
						   const float *mean, const float *var,
						   int channels, float momentum)
{
	for (int c = 0; c < channels; c++)
	{
		moving_mean[c] = momentum * moving_mean[c] + (1.0f - momentum) * mean[c];
		moving_var[c] = momentum * moving_var[c] + (1.0f - momentum) * var[c];
	}
}

/* Backward ------------------------------------------------------------------
 *
 * g is the gradient reaching the batch-norm output (dy itself, or dy through
 * dropout and ReLU in the fused kernel).  With xhat = (x - mean) * invstd:
 *   dbeta = sum g,  dgamma = sum g * xhat,
 *   dx = gamma * invstd * (g - mean(g) - xhat * mean(g * xhat)).
 */

/*
 * The gradient reaching the batch-norm output: dy, or for the fused kernel dy
 * through dropout (mask ? keep : 0) and ReLU (z > 0, z recomputed exactly as
 * in the forward pass).
 */
static inline float
upstream_grad(const bn_args *a, size_t i, float dy, float x, int c,
			  const int relu, const int has_mask)
{
	float		g = dy;

	if (has_mask)
	{
		float		kept = g * a->keep_scale;

		g = a->mask_in[i] ? kept : 0.0f;
	}
	if (relu)
	{
		float		z = x * a->scale[c] + a->offset[c];

		g = z > 0.0f ? g : 0.0f;
	}
	return g;
}

static inline void
grad_sums_rows(const bn_args *a, double *s1, double *s2, size_t r0, size_t r1,
			   const int C, const int relu, const int has_mask)
{
	for (int c = 0; c < C; c++)
		s1[c] = s2[c] = 0;
	for (size_t r = r0; r < r1; r++)
	{
		const float *restrict xr = a->x + r * C;
		const float *restrict dyr = a->dy + r * C;

		for (int c = 0; c < C; c++)
		{
			float		g = upstream_grad(a, r * C + c, dyr[c], xr[c], c, relu, has_mask);
			float		xhat = (xr[c] - a->mean[c]) * a->invstd[c];

			s1[c] += (double) g;
			s2[c] += (double) (g * xhat);
		}
	}
}

static inline void
grad_input_rows(const bn_args *a, size_t r0, size_t r1,
				const int C, const int relu, const int has_mask)
{
	for (size_t r = r0; r < r1; r++)
	{
		const float *xr = a->x + r * C;
		const float *dyr = a->dy + r * C;
		float	   *dxr = a->dx + r * C;

		for (int c = 0; c < C; c++)
		{
			float		g = upstream_grad(a, r * C + c, dyr[c], xr[c], c, relu, has_mask);
			float		xhat = (xr[c] - a->mean[c]) * a->invstd[c];

			dxr[c] = a->gcoef[c] * (g - a->mean_g[c] - xhat * a->mean_gx[c]);
		}
	}
}

/* Calls ROWS(..., C, relu, has_mask) with constant switches (scalar path, any C). */
#define BN_DISPATCH(ROWS, a, ...) \
	do { \
		int relu_ = (a)->relu, mask_ = (a)->mask_in != NULL; \
		if (relu_ && mask_) ROWS(__VA_ARGS__, (a)->channels, 1, 1); \
		else if (relu_) ROWS(__VA_ARGS__, (a)->channels, 1, 0); \
		else ROWS(__VA_ARGS__, (a)->channels, 0, 0); \
	} while (0)

NN_KERNEL static void
grad_sums_part(void *p, int part)
{
	bn_args    *a = p;
	size_t		r0,
				r1;
	double	   *s1 = a->sums[part],
			   *s2 = s1 + a->channels;

	nn_part_range(a->rows, part, &r0, &r1);
	if (a->channels % 16 == 0)
		grad_sums_v16(a, s1, s2, r0, r1);
	else
		BN_DISPATCH(grad_sums_rows, a, a, s1, s2, r0, r1);
}

NN_KERNEL static void
grad_input_part(void *p, int part)
{
	bn_args    *a = p;
	size_t		r0,
				r1;

	nn_part_range(a->rows, part, &r0, &r1);
	if (a->channels % 16 == 0)
		grad_input_v16(a, r0, r1);
	else
		BN_DISPATCH(grad_input_rows, a, a, r0, r1);
}

NN_KERNEL static void
backward(nn_pool *pool, bn_args *a, float *dgamma, float *dbeta, const float *gamma,
		 const float *beta, void *workspace)
{
	int			C = a->channels;
	bn_coefs	k;

	bn_carve(a, workspace, &k);
	/* scale/offset (for the ReLU decision) exactly as in the forward pass */
	for (int c = 0; c < C; c++)
	{
		k.scale[c] = gamma[c] * a->invstd[c];
		k.offset[c] = (beta ? beta[c] : 0.0f) - a->mean[c] * k.scale[c];
	}
	a->scale = k.scale;
	a->offset = k.offset;
	nn_pool_run(pool, NN_PARTS, grad_sums_part, a);

	for (int c = 0; c < C; c++)
	{
		double		s1 = 0,
					s2 = 0;

		for (int p = 0; p < NN_PARTS; p++)
		{
			s1 += a->sums[p][c];
			s2 += a->sums[p][C + c];
		}
		if (dbeta)
			dbeta[c] += (float) s1;
		if (dgamma)
			dgamma[c] += (float) s2;
		k.mean_g[c] = (float) (s1 / (double) a->rows);
		k.mean_gx[c] = (float) (s2 / (double) a->rows);
		k.gcoef[c] = gamma[c] * a->invstd[c];
	}
	a->gcoef = k.gcoef;
	a->mean_g = k.mean_g;
	a->mean_gx = k.mean_gx;
	nn_pool_run(pool, NN_PARTS, grad_input_part, a);
}

void
nn_batchnorm_backward(nn_pool *pool, float *dx, float *dgamma, float *dbeta,
					  const float *dy, const float *x, const float *gamma,
					  const float *mean, const float *invstd,
					  size_t rows, int channels, void *workspace)
{
	bn_args		a = {.dx = dx, .dy = dy, .x = x, .rows = rows, .channels = channels,
	.mean = mean, .invstd = invstd, .relu = 0};

	backward(pool, &a, dgamma, dbeta, gamma, NULL, workspace);
}

/* Fused BatchNorm -> ReLU -> Dropout ----------------------------------------- */

void
nn_bn_relu_dropout_forward_train(nn_pool *pool, float *y, const float *x,
								 const float *gamma, const float *beta,
								 size_t rows, int channels, float eps,
								 float *mean, float *var, float *invstd,
								 uint8_t *mask, float rate, rng_state *rng,
								 void *workspace)
{
	bn_args		a = {.y = y, .x = x, .rows = rows, .channels = channels, .relu = 1};
	bn_coefs	k;

	bn_carve(&a, workspace, &k);
	batch_statistics(pool, &a, gamma, beta, eps, mean, var, invstd, k.scale, k.offset);
	a.scale = k.scale;
	a.offset = k.offset;
	if (mask != NULL && rate > 0.0f)
	{
		a.mask_out = mask;
		a.seed = rng_next(rng);
		a.threshold = nn_dropout_threshold(rate);
		a.keep_scale = 1.0f / (1.0f - rate);
	}
	nn_pool_run(pool, NN_PARTS, output_part, &a);
}

void
nn_bn_relu_dropout_backward(nn_pool *pool, float *dx, float *dgamma, float *dbeta,
							const float *dy, const float *x,
							const float *gamma, const float *beta,
							const float *mean, const float *invstd,
							const uint8_t *mask, float rate,
							size_t rows, int channels, void *workspace)
{
	bn_args		a = {.dx = dx, .dy = dy, .x = x, .rows = rows, .channels = channels,
	.mean = mean, .invstd = invstd, .relu = 1};

	if (mask != NULL && rate > 0.0f)
	{
		a.mask_in = mask;
		a.keep_scale = 1.0f / (1.0f - rate);
	}
	backward(pool, &a, dgamma, dbeta, gamma, beta, workspace);
}
