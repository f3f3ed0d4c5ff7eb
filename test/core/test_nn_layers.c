/*
 * Unit tests for the layer kernels (src/core/nn_layers.h) and the thread pool
 * (src/core/nn_threads.h).
 *
 *  - every layer against PyTorch 1.13 references (test/ref/layer_refs.txt,
 *    made by test/ref/gen_layer_refs.py; directory overridable with
 *    ECGDL_TEST_REFS), single-threaded and with 2 threads, to 1e-4;
 *  - wider convolutions against a double-precision C reference;
 *  - finite-difference gradient checks (conv, dense, batch norm, maxpool);
 *  - Keras moving statistics, dropout statistics, maxpool routing, weighted
 *    softmax cross-entropy, the fused BN-ReLU-dropout kernels;
 *  - bit-identical results for 1, 2 and 3 threads.
 */
#include "unit.h"

#include <stdint.h>
#include <string.h>

#include "ecg_core.h"
#include "nn_layers.h"
#include "rng.h"

#define REF_TOL 1e-4

/* Reference file ----------------------------------------------------------- */

typedef struct ref_array
{
	char		name[64];
	size_t		count;
	float	   *values;
} ref_array;

static ref_array refs[256];
static int	n_refs = -1;		/* -1: not loaded yet; -2: unreadable */

static void
load_refs(void)
{
	const char *dir = getenv("ECGDL_TEST_REFS");
	char		path[1024];
	FILE	   *f;
	char		name[64];
	size_t		count;

	snprintf(path, sizeof(path), "%s/layer_refs.txt", dir ? dir : "test/ref");
	f = fopen(path, "r");
	if (f == NULL)
	{
		fprintf(stderr, "  cannot open %s (run from the repository root or set ECGDL_TEST_REFS)\n",
				path);
		n_refs = -2;
		return;
	}
	n_refs = 0;
	while (n_refs < 256 && fscanf(f, "%63s %zu", name, &count) == 2)
	{
		ref_array  *r = &refs[n_refs++];

		snprintf(r->name, sizeof(r->name), "%s", name);
		r->count = count;
		r->values = malloc(sizeof(float) * (count ? count : 1));
		for (size_t i = 0; i < count; i++)
			if (fscanf(f, "%f", &r->values[i]) != 1)
			{
				fprintf(stderr, "  %s: bad value %zu of %s\n", path, i, name);
				r->count = i;
				break;
			}
	}
	fclose(f);
}

/* The array "<case>.<field>", which must have `count` values (0: any). */
static const float *
ref(const char *casename, const char *field, size_t count)
{
	char		name[64];

	if (n_refs == -1)
		load_refs();
	snprintf(name, sizeof(name), "%s.%s", casename, field);
	for (int i = 0; i < n_refs; i++)
		if (strcmp(refs[i].name, name) == 0)
		{
			CHECK_MSG(count == 0 || refs[i].count == count, "%s has %zu values, expected %zu",
					  name, refs[i].count, count);
			if (count != 0 && refs[i].count != count)
				return NULL;
			return refs[i].values;
		}
	CHECK_MSG(0, "reference %s is missing", name);
	return NULL;
}

static int
ref_dim(const char *casename, int index)
{
	const float *d = ref(casename, "dims", 0);

	return d ? (int) d[index] : 1;
}

/* Compares n values; reports the first few mismatches. */
static int
check_array(const char *what, const float *got, const float *want, size_t n, double tol)
{
	int			bad = 0;

	if (want == NULL)
		return 1;
	for (size_t i = 0; i < n; i++)
	{
		double		scale = fabs(want[i]) > 1.0 ? fabs(want[i]) : 1.0;

		if (!(fabs((double) got[i] - (double) want[i]) <= tol * scale))
		{
			if (bad < 5)
				fprintf(stderr, "  %s[%zu] = %.9g, expected %.9g\n", what, i, got[i], want[i]);
			bad++;
		}
	}
	CHECK_MSG(bad == 0, "%s: %d of %zu values differ", what, bad, n);
	return bad;
}

static float *
falloc(size_t n)
{
	float	   *p = calloc(n ? n : 1, sizeof(float));

	if (p == NULL)
	{
		fprintf(stderr, "out of memory\n");
		exit(2);
	}
	return p;
}

/* workspaces: plain malloc (16-byte aligned), as the kernels promise to need no more */
static void *
walloc(size_t bytes)
{
	void	   *p = malloc(bytes);

	if (p == NULL)
	{
		fprintf(stderr, "out of memory\n");
		exit(2);
	}
	return p;
}

static void
fill_normal(float *x, size_t n, uint64_t seed, double scale)
{
	rng_state	r;

	rng_seed(&r, seed);
	for (size_t i = 0; i < n; i++)
		x[i] = (float) (rng_normal(&r) * scale);
}

/* The pools tested: single-threaded (NULL) and 2 threads. */
static nn_pool *pool2;

#define N_POOLS 2
static nn_pool *
test_pool(int i)
{
	return i == 0 ? NULL : pool2;
}

/* Conv against PyTorch --------------------------------------------------------- */

static void
conv_ref_case(const char *c)
{
	int			B = ref_dim(c, 0),
				L = ref_dim(c, 1),
				ci = ref_dim(c, 2),
				co = ref_dim(c, 3),
				K = ref_dim(c, 4);
	size_t		nx = (size_t) B * L * ci,
				ny = (size_t) B * L * co,
				nw = (size_t) K * ci * co;
	const float *x = ref(c, "x", nx),
			   *w = ref(c, "w", nw),
			   *b = ref(c, "b", co),
			   *dy = ref(c, "dy", ny);

	if (!x || !w || !b || !dy)
		return;
	for (int pi = 0; pi < N_POOLS; pi++)
	{
		float	   *y = falloc(ny),
				   *dx = falloc(nx),
				   *dw = falloc(nw),
				   *db = falloc(co);
		void	   *ws = walloc(nn_conv1d_workspace_bytes(L, ci, co, K));
		char		what[96];

		nn_conv1d_forward(test_pool(pi), y, x, w, b, B, L, ci, co, K, ws);
		/* accumulation semantics: start the weight gradients at 1 */
		for (size_t i = 0; i < nw; i++)
			dw[i] = 1.0f;
		for (int i = 0; i < co; i++)
			db[i] = 1.0f;
		nn_conv1d_backward(test_pool(pi), dx, dw, db, dy, x, w, B, L, ci, co, K, ws);
		for (size_t i = 0; i < nw; i++)
			dw[i] -= 1.0f;
		for (int i = 0; i < co; i++)
			db[i] -= 1.0f;
		snprintf(what, sizeof(what), "%s.y (pool %d)", c, pi);
		check_array(what, y, ref(c, "y", ny), ny, REF_TOL);
		snprintf(what, sizeof(what), "%s.dx (pool %d)", c, pi);
		check_array(what, dx, ref(c, "dx", nx), nx, REF_TOL);
		snprintf(what, sizeof(what), "%s.dw (pool %d)", c, pi);
		check_array(what, dw, ref(c, "dw", nw), nw, REF_TOL);
		snprintf(what, sizeof(what), "%s.db (pool %d)", c, pi);
		check_array(what, db, ref(c, "db", co), co, REF_TOL);

		/* dx == NULL skips the input gradient but not the weight gradient */
		memset(dw, 0, sizeof(float) * nw);
		nn_conv1d_backward(test_pool(pi), NULL, dw, NULL, dy, x, w, B, L, ci, co, K, ws);
		snprintf(what, sizeof(what), "%s.dw without dx (pool %d)", c, pi);
		check_array(what, dw, ref(c, "dw", nw), nw, REF_TOL);
		free(y);
		free(dx);
		free(dw);
		free(db);
		free(ws);
	}
}

static void
test_conv_matches_torch(void)
{
	conv_ref_case("conv_small");
	conv_ref_case("conv_16x16");
	conv_ref_case("conv_first");
	conv_ref_case("conv_odd_k3");
	conv_ref_case("conv_odd_k5");
}

/* Double-precision conv reference (Keras 'same' padding, as validated above) */
static void
conv_naive(double *y, double *dx, double *dw, double *db, const float *x, const float *w,
		   const float *b, const float *dy, int B, int L, int ci, int co, int K)
{
	int			left = (K - 1) / 2;

	memset(dx, 0, sizeof(double) * B * L * ci);
	memset(dw, 0, sizeof(double) * K * ci * co);
	memset(db, 0, sizeof(double) * co);
	for (int n = 0; n < B; n++)
		for (int t = 0; t < L; t++)
			for (int o = 0; o < co; o++)
			{
				double		s = b[o];
				double		g = dy[((size_t) n * L + t) * co + o];

				db[o] += g;
				for (int k = 0; k < K; k++)
				{
					int			s_t = t + k - left;

					if (s_t < 0 || s_t >= L)
						continue;
					for (int i = 0; i < ci; i++)
					{
						size_t		xi = ((size_t) n * L + s_t) * ci + i;
						size_t		wi = ((size_t) k * ci + i) * co + o;

						s += (double) x[xi] * w[wi];
						dx[xi] += g * w[wi];
						dw[wi] += g * x[xi];
					}
				}
				y[((size_t) n * L + t) * co + o] = s;
			}
}

static void
conv_wide_case(int B, int L, int ci, int co, int K)
{
	size_t		nx = (size_t) B * L * ci,
				ny = (size_t) B * L * co,
				nw = (size_t) K * ci * co;
	float	   *x = falloc(nx),
			   *w = falloc(nw),
			   *b = falloc(co),
			   *dy = falloc(ny),
			   *y = falloc(ny),
			   *dx = falloc(nx),
			   *dw = falloc(nw),
			   *db = falloc(co);
	double	   *ry = calloc(ny, sizeof(double)),
			   *rdx = calloc(nx, sizeof(double)),
			   *rdw = calloc(nw, sizeof(double)),
			   *rdb = calloc(co, sizeof(double));
	float	   *want = falloc(nx > nw ? (nx > ny ? nx : ny) : (nw > ny ? nw : ny));
	void	   *ws = walloc(nn_conv1d_workspace_bytes(L, ci, co, K));
	char		what[96];

	fill_normal(x, nx, 1, 1.0);
	fill_normal(w, nw, 2, 0.3);
	fill_normal(b, co, 3, 0.3);
	fill_normal(dy, ny, 4, 1.0);
	conv_naive(ry, rdx, rdw, rdb, x, w, b, dy, B, L, ci, co, K);
	nn_conv1d_forward(pool2, y, x, w, b, B, L, ci, co, K, ws);
	nn_conv1d_backward(pool2, dx, dw, db, dy, x, w, B, L, ci, co, K, ws);
#define CMP(arr, ref_arr, n, label) \
	do { \
		for (size_t i_ = 0; i_ < (n); i_++) \
			want[i_] = (float) (ref_arr)[i_]; \
		snprintf(what, sizeof(what), "conv %dx%d k%d L%d %s", ci, co, K, L, label); \
		check_array(what, arr, want, n, REF_TOL); \
	} while (0)
	CMP(y, ry, ny, "y");
	CMP(dx, rdx, nx, "dx");
	CMP(dw, rdw, nw, "dw");
	CMP(db, rdb, (size_t) co, "db");
#undef CMP
	free(x), free(w), free(b), free(dy), free(y), free(dx), free(dw), free(db);
	free(ry), free(rdx), free(rdw), free(rdb), free(want), free(ws);
}

static void
test_conv_wide_matches_double_reference(void)
{
	conv_wide_case(5, 13, 16, 16, 4);	/* the cnn's shape, odd length */
	conv_wide_case(3, 20, 32, 16, 4);	/* several weight-row blocks */
	conv_wide_case(3, 17, 16, 32, 4);	/* two vectors of output channels */
	conv_wide_case(2, 9, 16, 16, 3);	/* odd kernel in the vector path */
	conv_wide_case(19, 3, 1, 16, 4);	/* length shorter than the kernel, more samples than parts */
	conv_wide_case(2, 1, 5, 3, 4);		/* length 1, scalar path */
}

/* conv + residual add, fused == separate, bit for bit (also in place) */
static void
conv_residual_case(int B, int L, int ci, int co)
{
	size_t		nx = (size_t) B * L * ci,
				ny = (size_t) B * L * co,
				nw = (size_t) 4 * ci * co;
	float	   *x = falloc(nx),
			   *w = falloc(nw),
			   *b = falloc(co),
			   *res = falloc(ny),
			   *y1 = falloc(ny),
			   *y2 = falloc(ny);
	void	   *ws = walloc(nn_conv1d_workspace_bytes(L, ci, co, 4));

	fill_normal(x, nx, 91, 1.0);
	fill_normal(w, nw, 92, 0.3);
	fill_normal(b, co, 93, 0.3);
	fill_normal(res, ny, 94, 1.0);
	nn_conv1d_forward(pool2, y1, x, w, b, B, L, ci, co, 4, ws);
	nn_add_forward(pool2, y1, y1, res, ny);
	nn_conv1d_forward_residual(pool2, y2, x, w, b, res, B, L, ci, co, 4, ws);
	CHECK_MSG(memcmp(y1, y2, sizeof(float) * ny) == 0, "conv+residual %dx%d L%d differs", ci, co, L);
	memcpy(y2, res, sizeof(float) * ny);
	nn_conv1d_forward_residual(NULL, y2, x, w, b, y2, B, L, ci, co, 4, ws);	/* in place */
	CHECK_MSG(memcmp(y1, y2, sizeof(float) * ny) == 0, "in-place conv+residual %dx%d L%d differs",
			  ci, co, L);
	free(x), free(w), free(b), free(res), free(y1), free(y2), free(ws);
}

static void
test_conv_residual_equals_conv_then_add(void)
{
	conv_residual_case(5, 45, 16, 16);	/* all block sizes of the vector path */
	conv_residual_case(3, 11, 3, 5);	/* scalar path */
	conv_residual_case(2, 2, 16, 16);	/* shorter than the kernel */
}

/* Dense against PyTorch ----------------------------------------------------------- */

static void
dense_ref_case(const char *c)
{
	int			B = ref_dim(c, 0),
				in = ref_dim(c, 1),
				out = ref_dim(c, 2);
	size_t		nx = (size_t) B * in,
				ny = (size_t) B * out,
				nw = (size_t) in * out;
	const float *x = ref(c, "x", nx),
			   *w = ref(c, "w", nw),
			   *b = ref(c, "b", out),
			   *dy = ref(c, "dy", ny);

	if (!x || !w || !b || !dy)
		return;
	for (int pi = 0; pi < N_POOLS; pi++)
	{
		float	   *y = falloc(ny),
				   *dx = falloc(nx),
				   *dw = falloc(nw),
				   *db = falloc(out);
		void	   *ws = walloc(nn_dense_backward_workspace_bytes(B, in, out));
		char		what[96];

		nn_dense_forward(test_pool(pi), y, x, w, b, B, in, out);
		for (size_t i = 0; i < nw; i++)
			dw[i] = 2.0f;
		for (int i = 0; i < out; i++)
			db[i] = -1.0f;
		nn_dense_backward(test_pool(pi), dx, dw, db, dy, x, w, B, in, out, ws);
		for (size_t i = 0; i < nw; i++)
			dw[i] -= 2.0f;
		for (int i = 0; i < out; i++)
			db[i] += 1.0f;
		snprintf(what, sizeof(what), "%s.y (pool %d)", c, pi);
		check_array(what, y, ref(c, "y", ny), ny, REF_TOL);
		snprintf(what, sizeof(what), "%s.dx (pool %d)", c, pi);
		check_array(what, dx, ref(c, "dx", nx), nx, REF_TOL);
		snprintf(what, sizeof(what), "%s.dw (pool %d)", c, pi);
		check_array(what, dw, ref(c, "dw", nw), nw, REF_TOL);
		snprintf(what, sizeof(what), "%s.db (pool %d)", c, pi);
		check_array(what, db, ref(c, "db", out), out, REF_TOL);
		free(y);
		free(dx);
		free(dw);
		free(db);
		free(ws);
	}
}

static void
test_dense_matches_torch(void)
{
	dense_ref_case("dense");
	dense_ref_case("dense_wide");
}

/* Both dense paths (narrow own kernels, sgemm) against double precision */
static void
dense_wide_case(int B, int in, int out)
{
	size_t		nx = (size_t) B * in,
				ny = (size_t) B * out,
				nw = (size_t) in * out;
	float	   *x = falloc(nx),
			   *w = falloc(nw),
			   *b = falloc(out),
			   *dy = falloc(ny),
			   *y = falloc(ny),
			   *dx = falloc(nx),
			   *dw = falloc(nw),
			   *db = falloc(out),
			   *want = falloc(nx > nw ? (nx > ny ? nx : ny) : (nw > ny ? nw : ny));
	void	   *ws = walloc(nn_dense_backward_workspace_bytes(B, in, out));
	char		what[96];

	fill_normal(x, nx, 81, 1.0);
	fill_normal(w, nw, 82, 0.2);
	fill_normal(b, out, 83, 0.5);
	fill_normal(dy, ny, 84, 1.0);
	for (size_t i = 0; i < nw; i++)
		dw[i] = 0.5f;
	nn_dense_forward(pool2, y, x, w, b, B, in, out);
	nn_dense_backward(pool2, dx, dw, db, dy, x, w, B, in, out, ws);
	for (int r = 0; r < B; r++)
		for (int o = 0; o < out; o++)
		{
			double		s = b[o];

			for (int i = 0; i < in; i++)
				s += (double) x[(size_t) r * in + i] * w[(size_t) i * out + o];
			want[(size_t) r * out + o] = (float) s;
		}
	snprintf(what, sizeof(what), "dense %dx%d->%d y", B, in, out);
	check_array(what, y, want, ny, REF_TOL);
	for (int r = 0; r < B; r++)
		for (int i = 0; i < in; i++)
		{
			double		s = 0;

			for (int o = 0; o < out; o++)
				s += (double) dy[(size_t) r * out + o] * w[(size_t) i * out + o];
			want[(size_t) r * in + i] = (float) s;
		}
	snprintf(what, sizeof(what), "dense %dx%d->%d dx", B, in, out);
	check_array(what, dx, want, nx, REF_TOL);
	for (int i = 0; i < in; i++)
		for (int o = 0; o < out; o++)
		{
			double		s = 0.5;

			for (int r = 0; r < B; r++)
				s += (double) dy[(size_t) r * out + o] * x[(size_t) r * in + i];
			want[(size_t) i * out + o] = (float) s;
		}
	snprintf(what, sizeof(what), "dense %dx%d->%d dw", B, in, out);
	check_array(what, dw, want, nw, REF_TOL);
	for (int o = 0; o < out; o++)
	{
		double		s = 0;

		for (int r = 0; r < B; r++)
			s += dy[(size_t) r * out + o];
		want[o] = (float) s;
	}
	snprintf(what, sizeof(what), "dense %dx%d->%d db", B, in, out);
	check_array(what, db, want, out, REF_TOL);
	free(x), free(w), free(b), free(dy), free(y), free(dx), free(dw), free(db), free(want);
	free(ws);
}

static void
test_dense_shapes_match_double_reference(void)
{
	dense_wide_case(19, 37, 5);		/* narrow kernels: 2 vectors + a tail */
	dense_wide_case(5, 1600, 5);	/* the cnn's head */
	dense_wide_case(40, 200, 128);	/* the baseline's hidden layer (sgemm) */
	dense_wide_case(7, 33, 20);		/* sgemm with odd sizes */
	dense_wide_case(3, 3000, 5);	/* too big for the narrow path's stack copy */
}

/* Batch norm against PyTorch (and Keras' moving variance) ---------------------- */

static void
bn_ref_case(const char *c, int relu)
{
	size_t		rows = (size_t) ref_dim(c, 0);
	int			C = ref_dim(c, 1);
	size_t		n = rows * C;
	const float *x = ref(c, "x", n),
			   *gamma = ref(c, "gamma", C),
			   *beta = ref(c, "beta", C),
			   *dy = ref(c, "dy", n),
			   *mm = ref(c, "mov_mean", C),
			   *mv = ref(c, "mov_var", C);

	if (!x || !gamma || !beta || !dy || !mm || !mv)
		return;
	for (int pi = 0; pi < N_POOLS; pi++)
	{
		nn_pool    *pool = test_pool(pi);
		float	   *y = falloc(n),
				   *dx = falloc(n),
				   *mean = falloc(C),
				   *var = falloc(C),
				   *invstd = falloc(C),
				   *dg = falloc(C),
				   *dbt = falloc(C),
				   *mov_mean = falloc(C),
				   *mov_var = falloc(C);
		void	   *ws = walloc(nn_batchnorm_workspace_bytes(C));
		char		what[96];

		if (relu)
			nn_bn_relu_dropout_forward_train(pool, y, x, gamma, beta, rows, C, NN_BN_EPSILON,
											 mean, var, invstd, NULL, 0.0f, NULL, ws);
		else
			nn_batchnorm_forward_train(pool, y, x, gamma, beta, rows, C, NN_BN_EPSILON,
									   mean, var, invstd, ws);
		for (int i = 0; i < C; i++)
		{
			CHECK_CLOSE(invstd[i], 1.0 / sqrt((double) var[i] + 1e-3), 1e-6);
			dg[i] = 0.5f;
			dbt[i] = 0.25f;
		}
		if (relu)
			nn_bn_relu_dropout_backward(pool, dx, dg, dbt, dy, x, gamma, beta, mean, invstd,
										NULL, 0.0f, rows, C, ws);
		else
			nn_batchnorm_backward(pool, dx, dg, dbt, dy, x, gamma, mean, invstd, rows, C, ws);
		for (int i = 0; i < C; i++)
		{
			dg[i] -= 0.5f;
			dbt[i] -= 0.25f;
		}
		snprintf(what, sizeof(what), "%s.y (pool %d)", c, pi);
		check_array(what, y, ref(c, "y", n), n, REF_TOL);
		snprintf(what, sizeof(what), "%s.mean (pool %d)", c, pi);
		check_array(what, mean, ref(c, "mean", C), C, REF_TOL);
		snprintf(what, sizeof(what), "%s.var (pool %d)", c, pi);
		check_array(what, var, ref(c, "var", C), C, REF_TOL);
		snprintf(what, sizeof(what), "%s.dx (pool %d)", c, pi);
		check_array(what, dx, ref(c, "dx", n), n, REF_TOL);
		snprintf(what, sizeof(what), "%s.dgamma (pool %d)", c, pi);
		check_array(what, dg, ref(c, "dgamma", C), C, REF_TOL);
		snprintf(what, sizeof(what), "%s.dbeta (pool %d)", c, pi);
		check_array(what, dbt, ref(c, "dbeta", C), C, REF_TOL);

		/* moving statistics: Keras (biased variance), not torch (unbiased) */
		memcpy(mov_mean, mm, sizeof(float) * C);
		memcpy(mov_var, mv, sizeof(float) * C);
		nn_batchnorm_update_moving(mov_mean, mov_var, mean, var, C, NN_BN_MOMENTUM);
		snprintf(what, sizeof(what), "%s.new_mov_mean (pool %d)", c, pi);
		check_array(what, mov_mean, ref(c, "new_mov_mean", C), C, 1e-5);
		snprintf(what, sizeof(what), "%s.new_mov_var (pool %d)", c, pi);
		check_array(what, mov_var, ref(c, "new_mov_var_keras", C), C, 1e-5);
		{
			const float *torch_var = ref(c, "new_mov_var_torch", C);
			int			differs = 0;

			for (int i = 0; torch_var && i < C; i++)
				differs += fabs(mov_var[i] - torch_var[i]) > 1e-4 * fabs(torch_var[i]);
			CHECK_MSG(differs == C, "%s: the Keras and torch moving variances should differ", c);
		}

		/* inference mode with the moving statistics */
		if (relu)
			nn_bn_relu_forward_infer(pool, y, x, gamma, beta, mm, mv, rows, C, NN_BN_EPSILON);
		else
			nn_batchnorm_forward_infer(pool, y, x, gamma, beta, mm, mv, rows, C, NN_BN_EPSILON);
		snprintf(what, sizeof(what), "%s.y_infer (pool %d)", c, pi);
		check_array(what, y, ref(c, "y_infer", n), n, REF_TOL);

		free(y), free(dx), free(mean), free(var), free(invstd), free(dg), free(dbt);
		free(mov_mean), free(mov_var), free(ws);
	}
}

static void
test_batchnorm_matches_torch(void)
{
	bn_ref_case("bn4", 0);
	bn_ref_case("bn16", 0);
	bn_ref_case("bn32", 0);
}

static void
test_bn_relu_matches_torch(void)
{
	bn_ref_case("bnrelu16", 1);
	bn_ref_case("bnrelu3", 1);
	bn_ref_case("bnrelu32", 1);
}

/* MaxPool against PyTorch -------------------------------------------------------- */

static void
test_maxpool_matches_torch(void)
{
	const char *c = "maxpool";
	int			B = ref_dim(c, 0),
				L = ref_dim(c, 1),
				C = ref_dim(c, 2);
	size_t		nx = (size_t) B * L * C,
				ny = (size_t) B * (L / 2) * C;
	const float *x = ref(c, "x", nx),
			   *dy = ref(c, "dy", ny);

	if (!x || !dy)
		return;
	for (int pi = 0; pi < N_POOLS; pi++)
	{
		float	   *y = falloc(ny),
				   *dx = falloc(nx);
		uint8_t    *am = malloc(ny);

		memset(dx, 0x7f, sizeof(float) * nx);	/* must be fully overwritten */
		nn_maxpool1d_forward(test_pool(pi), y, am, x, B, L, C);
		nn_maxpool1d_backward(test_pool(pi), dx, dy, am, B, L, C);
		check_array("maxpool.y", y, ref(c, "y", ny), ny, REF_TOL);
		check_array("maxpool.dx", dx, ref(c, "dx", nx), nx, REF_TOL);
		free(y);
		free(dx);
		free(am);
	}
}

/* Softmax + cross-entropy against PyTorch ----------------------------------------- */

static void
xent_ref_case(const char *c, int weighted)
{
	int			B = ref_dim(c, 0),
				K = ref_dim(c, 1);
	size_t		n = (size_t) B * K;
	const float *logits = ref(c, "logits", n),
			   *labf = ref(c, "labels", B),
			   *w = ref(c, "weights", B),
			   *loss_ref = ref(c, "loss", 1);
	int32_t    *labels = malloc(sizeof(int32_t) * B);

	if (!logits || !labf || !w || !loss_ref)
		return;
	for (int i = 0; i < B; i++)
		labels[i] = (int32_t) labf[i];
	for (int pi = 0; pi < N_POOLS; pi++)
	{
		float	   *probs = falloc(n),
				   *dl = falloc(n),
				   *sl = falloc(B);
		double		loss;

		loss = nn_softmax_xent_forward(test_pool(pi), probs, sl, logits, labels,
									   weighted ? w : NULL, B, K);
		nn_softmax_xent_backward(test_pool(pi), dl, probs, labels, weighted ? w : NULL, B, K);
		CHECK_CLOSE(loss, loss_ref[0], REF_TOL);
		check_array("xent.probs", probs, ref(c, "probs", n), n, REF_TOL);
		check_array("xent.sample_loss", sl, ref(c, "sample_loss", B), B, REF_TOL);
		check_array("xent.dlogits", dl, ref(c, "dlogits", n), n, REF_TOL);
		nn_softmax_forward(test_pool(pi), probs, logits, B, K);
		check_array("softmax.probs", probs, ref(c, "probs", n), n, REF_TOL);
		free(probs);
		free(dl);
		free(sl);
	}
	free(labels);
}

static void
test_softmax_xent_matches_torch(void)
{
	xent_ref_case("xent", 0);
	xent_ref_case("xent_weighted", 1);
}

static void
test_softmax_xent_edge_cases(void)
{
	/* huge logits: no overflow, loss of the winner ~0, of a loser = the gap */
	float		logits[6] = {1000.0f, 0.0f, -1000.0f, 5.0f, 5.0f, 5.0f};
	int32_t		labels[2] = {1, 7};	/* 7 is out of range: ignored */
	float		probs[6],
				dl[6],
				sl[2];
	double		loss = nn_softmax_xent_forward(NULL, probs, sl, logits, labels, NULL, 2, 3);

	CHECK_CLOSE(sl[0], 1000.0, 1e-6);
	CHECK(sl[1] == 0.0f);
	CHECK_CLOSE(loss, 500.0, 1e-6);	/* divided by the batch, not the valid rows */
	CHECK_CLOSE(probs[0], 1.0, 1e-7);
	CHECK_CLOSE(probs[3], 1.0 / 3, 1e-7);
	nn_softmax_xent_backward(NULL, dl, probs, labels, NULL, 2, 3);
	CHECK_CLOSE(dl[0], 0.5, 1e-7);
	CHECK_CLOSE(dl[1], -0.5, 1e-7);
	CHECK(dl[3] == 0.0f && dl[4] == 0.0f && dl[5] == 0.0f);
}

/* Finite differences ------------------------------------------------------------- */

/*
 * loss(params) = sum_i r_i * y_i for fixed random r; its gradient w.r.t. the
 * layer output is r.  Central differences in double over float kernels.
 */
typedef double (*loss_fn) (void *ctx);

static double
fd_grad(loss_fn f, void *ctx, float *param, double h)
{
	float		saved = *param;
	double		up,
				down;

	*param = (float) (saved + h);
	up = f(ctx);
	*param = (float) (saved - h);
	down = f(ctx);
	*param = saved;
	return (up - down) / (2 * h);
}

static double
dot(const float *a, const float *b, size_t n)
{
	double		s = 0;

	for (size_t i = 0; i < n; i++)
		s += (double) a[i] * b[i];
	return s;
}

typedef struct conv_fd
{
	int			B,
				L,
				ci,
				co,
				K;
	float	   *x,
			   *w,
			   *b,
			   *r,
			   *y;
	void	   *ws;
} conv_fd;

static double
conv_loss(void *p)
{
	conv_fd    *c = p;

	nn_conv1d_forward(NULL, c->y, c->x, c->w, c->b, c->B, c->L, c->ci, c->co, c->K, c->ws);
	return dot(c->y, c->r, (size_t) c->B * c->L * c->co);
}

static void
check_fd(const char *what, loss_fn f, void *ctx, float *params, const float *grad, size_t n,
		 double h, double tol)
{
	int			bad = 0;

	for (size_t i = 0; i < n; i++)
	{
		double		g = fd_grad(f, ctx, &params[i], h);
		double		scale = fabs(g) > 1.0 ? fabs(g) : 1.0;

		if (!(fabs(g - grad[i]) <= tol * scale))
		{
			if (bad < 5)
				fprintf(stderr, "  %s[%zu]: analytic %.7g, finite difference %.7g\n",
						what, i, grad[i], g);
			bad++;
		}
	}
	CHECK_MSG(bad == 0, "%s: %d of %zu gradients disagree with finite differences", what, bad, n);
}

static void
test_conv_finite_differences(void)
{
	for (int variant = 0; variant < 2; variant++)
	{
		conv_fd		c = {.B = 2, .L = 6, .ci = variant ? 16 : 2, .co = variant ? 16 : 3, .K = 4};
		size_t		nx = (size_t) c.B * c.L * c.ci,
					ny = (size_t) c.B * c.L * c.co,
					nw = (size_t) c.K * c.ci * c.co;
		float	   *dx = falloc(nx),
				   *dw = falloc(nw),
				   *db = falloc(c.co);

		c.x = falloc(nx), c.w = falloc(nw), c.b = falloc(c.co), c.r = falloc(ny), c.y = falloc(ny);
		c.ws = walloc(nn_conv1d_workspace_bytes(c.L, c.ci, c.co, c.K));
		fill_normal(c.x, nx, 11, 1.0);
		fill_normal(c.w, nw, 12, 0.5);
		fill_normal(c.b, c.co, 13, 0.5);
		fill_normal(c.r, ny, 14, 1.0);
		nn_conv1d_backward(NULL, dx, dw, db, c.r, c.x, c.w, c.B, c.L, c.ci, c.co, c.K, c.ws);
		/* the loss is linear in each parameter: large steps are exact */
		check_fd("conv dx", conv_loss, &c, c.x, dx, nx, 0.25, 1e-3);
		check_fd("conv dw", conv_loss, &c, c.w, dw, nw, 0.25, 1e-3);
		check_fd("conv db", conv_loss, &c, c.b, db, c.co, 0.25, 1e-3);
		free(dx), free(dw), free(db), free(c.x), free(c.w), free(c.b), free(c.r), free(c.y);
		free(c.ws);
	}
}

typedef struct dense_fd
{
	int			B,
				in,
				out;
	float	   *x,
			   *w,
			   *b,
			   *r,
			   *y;
} dense_fd;

static double
dense_loss(void *p)
{
	dense_fd   *d = p;

	nn_dense_forward(NULL, d->y, d->x, d->w, d->b, d->B, d->in, d->out);
	return dot(d->y, d->r, (size_t) d->B * d->out);
}

static void
test_dense_finite_differences(void)
{
	dense_fd	d = {.B = 3, .in = 6, .out = 4};
	size_t		nx = (size_t) d.B * d.in,
				ny = (size_t) d.B * d.out,
				nw = (size_t) d.in * d.out;
	float	   *dx = falloc(nx),
			   *dw = falloc(nw),
			   *db = falloc(d.out);
	void	   *ws = walloc(nn_dense_backward_workspace_bytes(d.B, d.in, d.out));

	d.x = falloc(nx), d.w = falloc(nw), d.b = falloc(d.out), d.r = falloc(ny), d.y = falloc(ny);
	fill_normal(d.x, nx, 21, 1.0);
	fill_normal(d.w, nw, 22, 0.5);
	fill_normal(d.b, d.out, 23, 0.5);
	fill_normal(d.r, ny, 24, 1.0);
	nn_dense_backward(NULL, dx, dw, db, d.r, d.x, d.w, d.B, d.in, d.out, ws);
	check_fd("dense dx", dense_loss, &d, d.x, dx, nx, 0.25, 1e-3);
	check_fd("dense dw", dense_loss, &d, d.w, dw, nw, 0.25, 1e-3);
	check_fd("dense db", dense_loss, &d, d.b, db, d.out, 0.25, 1e-3);
	free(dx), free(dw), free(db), free(ws), free(d.x), free(d.w), free(d.b), free(d.r), free(d.y);
}

typedef struct bn_fd
{
	size_t		rows;
	int			C;
	int			fused;
	float	   *x,
			   *gamma,
			   *beta,
			   *r,
			   *y,
			   *mean,
			   *var,
			   *invstd;
	void	   *ws;
} bn_fd;

static double
bn_loss(void *p)
{
	bn_fd	   *b = p;

	if (b->fused)
		nn_bn_relu_dropout_forward_train(NULL, b->y, b->x, b->gamma, b->beta, b->rows, b->C,
										 NN_BN_EPSILON, b->mean, b->var, b->invstd,
										 NULL, 0.0f, NULL, b->ws);
	else
		nn_batchnorm_forward_train(NULL, b->y, b->x, b->gamma, b->beta, b->rows, b->C,
								   NN_BN_EPSILON, b->mean, b->var, b->invstd, b->ws);
	return dot(b->y, b->r, b->rows * b->C);
}

static void
test_batchnorm_finite_differences(void)
{
	for (int fused = 0; fused < 2; fused++)
	{
		bn_fd		b = {.rows = 10, .C = fused ? 3 : 16, .fused = fused};
		size_t		n = b.rows * b.C;
		float	   *dx = falloc(n),
				   *dg = falloc(b.C),
				   *dbt = falloc(b.C);

		b.x = falloc(n), b.gamma = falloc(b.C), b.beta = falloc(b.C), b.r = falloc(n);
		b.y = falloc(n), b.mean = falloc(b.C), b.var = falloc(b.C), b.invstd = falloc(b.C);
		b.ws = walloc(nn_batchnorm_workspace_bytes(b.C));
		fill_normal(b.x, n, 31, 1.0);
		fill_normal(b.gamma, b.C, 32, 0.3);
		fill_normal(b.beta, b.C, 33, 0.3);
		fill_normal(b.r, n, 34, 1.0);
		for (int i = 0; i < b.C; i++)
			b.gamma[i] += 1.0f;
		bn_loss(&b);
		if (fused)
			nn_bn_relu_dropout_backward(NULL, dx, dg, dbt, b.r, b.x, b.gamma, b.beta, b.mean,
										b.invstd, NULL, 0.0f, b.rows, b.C, b.ws);
		else
			nn_batchnorm_backward(NULL, dx, dg, dbt, b.r, b.x, b.gamma, b.mean, b.invstd,
								  b.rows, b.C, b.ws);
		/* nonlinear in x: small steps, float rounding limits the precision */
		check_fd(fused ? "bn-relu dx" : "bn dx", bn_loss, &b, b.x, dx, n, 1e-2, 1e-2);
		check_fd(fused ? "bn-relu dgamma" : "bn dgamma", bn_loss, &b, b.gamma, dg, b.C, 1e-2, 1e-2);
		check_fd(fused ? "bn-relu dbeta" : "bn dbeta", bn_loss, &b, b.beta, dbt, b.C, 1e-2, 1e-2);
		free(dx), free(dg), free(dbt), free(b.x), free(b.gamma), free(b.beta), free(b.r);
		free(b.y), free(b.mean), free(b.var), free(b.invstd), free(b.ws);
	}
}

typedef struct pool_fd
{
	int			B,
				L,
				C;
	float	   *x,
			   *r,
			   *y;
	uint8_t    *am;
} pool_fd;

static double
maxpool_loss(void *p)
{
	pool_fd    *m = p;

	nn_maxpool1d_forward(NULL, m->y, m->am, m->x, m->B, m->L, m->C);
	return dot(m->y, m->r, (size_t) m->B * (m->L / 2) * m->C);
}

static void
test_maxpool_finite_differences(void)
{
	pool_fd		m = {.B = 2, .L = 7, .C = 3};
	size_t		nx = (size_t) m.B * m.L * m.C,
				ny = (size_t) m.B * (m.L / 2) * m.C;
	float	   *dx = falloc(nx);

	m.x = falloc(nx), m.r = falloc(ny), m.y = falloc(ny), m.am = malloc(ny);
	/* values at least 0.1 apart, so a step of 0.01 never changes a winner */
	for (size_t i = 0; i < nx; i++)
		m.x[i] = (float) (((i * 7919) % nx) * 0.1);
	fill_normal(m.r, ny, 41, 1.0);
	maxpool_loss(&m);
	nn_maxpool1d_backward(NULL, dx, m.r, m.am, m.B, m.L, m.C);
	check_fd("maxpool dx", maxpool_loss, &m, m.x, dx, nx, 1e-2, 1e-3);
	free(dx), free(m.x), free(m.r), free(m.y), free(m.am);
}

/* Maxpool routing details ---------------------------------------------------------- */

static void
test_maxpool_ties_and_odd_length(void)
{
	/* one sample, length 5, 2 channels */
	float		x[10] = {1, 5, 1, 2, 3, 7, 4, 7, 9, 9};
	float		y[4],
				dx[10],
				dy[4] = {10, 20, 30, 40};
	uint8_t		am[4];

	nn_maxpool1d_forward(NULL, y, am, x, 1, 5, 2);
	CHECK(y[0] == 1 && y[1] == 5);	/* tie in channel 0: first wins */
	CHECK(am[0] == 0 && am[1] == 0);
	CHECK(y[2] == 4 && y[3] == 7);	/* channel 1 ties (7, 7) */
	CHECK(am[2] == 1 && am[3] == 0);
	nn_maxpool1d_backward(NULL, dx, dy, am, 1, 5, 2);
	CHECK(dx[0] == 10 && dx[2] == 0);
	CHECK(dx[1] == 20 && dx[3] == 0);
	CHECK(dx[4] == 0 && dx[6] == 30);
	CHECK(dx[5] == 40 && dx[7] == 0);
	CHECK(dx[8] == 0 && dx[9] == 0);	/* odd last position */
}

/* ReLU, add ---------------------------------------------------------------------- */

static void
test_relu_and_add(void)
{
	size_t		n = 1000;
	float	   *x = falloc(n),
			   *y = falloc(n),
			   *dy = falloc(n),
			   *dx = falloc(n),
			   *s = falloc(n);

	fill_normal(x, n, 51, 1.0);
	fill_normal(dy, n, 52, 1.0);
	nn_relu_forward(pool2, y, x, n);
	nn_relu_backward(pool2, dx, dy, y, n);
	for (size_t i = 0; i < n; i++)
	{
		CHECK(y[i] == (x[i] > 0 ? x[i] : 0.0f));
		CHECK(dx[i] == (x[i] > 0 ? dy[i] : 0.0f));
	}
	nn_add_forward(pool2, s, x, dy, n);
	for (size_t i = 0; i < n; i++)
		CHECK(s[i] == x[i] + dy[i]);
	nn_accumulate(pool2, s, x, n);
	for (size_t i = 0; i < n; i++)
		CHECK(s[i] == (x[i] + dy[i]) + x[i]);
	/* in place */
	memcpy(y, x, sizeof(float) * n);
	nn_relu_forward(NULL, y, y, n);
	for (size_t i = 0; i < n; i++)
		CHECK(y[i] == (x[i] > 0 ? x[i] : 0.0f));
	free(x), free(y), free(dy), free(dx), free(s);
}

/* Concatenation is data movement: exact, both ways, either gradient optional. */
static void
test_concat(void)
{
	int			batch = 3,
				na = 5,
				nb = 2,
				w = 7;
	float	   *a = falloc(15),
			   *b = falloc(6),
			   *y = falloc(21),
			   *da = falloc(15),
			   *db = falloc(6);

	fill_normal(a, 15, 61, 1.0);
	fill_normal(b, 6, 62, 1.0);
	nn_concat_forward(y, a, na, b, nb, batch);
	for (int r = 0; r < batch; r++)
		for (int k = 0; k < w; k++)
			CHECK(y[r * w + k] == (k < na ? a[r * na + k] : b[r * nb + k - na]));
	nn_concat_backward(da, db, y, na, nb, batch);	/* dy = y gives back a and b */
	CHECK(memcmp(da, a, sizeof(float) * 15) == 0 && memcmp(db, b, sizeof(float) * 6) == 0);
	memset(da, 0, sizeof(float) * 15);
	nn_concat_backward(da, NULL, y, na, nb, batch);
	CHECK(memcmp(da, a, sizeof(float) * 15) == 0);
	memset(db, 0, sizeof(float) * 6);
	nn_concat_backward(NULL, db, y, na, nb, batch);
	CHECK(memcmp(db, b, sizeof(float) * 6) == 0);
	free(a), free(b), free(y), free(da), free(db);
}

/* Dropout ---------------------------------------------------------------------- */

static void
test_dropout_statistics_and_scaling(void)
{
	size_t		n = 1000003;
	float	   *x = falloc(n),
			   *y = falloc(n),
			   *dx = falloc(n);
	uint8_t    *mask = malloc(n),
			   *mask2 = malloc(n);
	rng_state	rng;
	size_t		kept = 0;
	double		sum = 0;

	for (size_t i = 0; i < n; i++)
		x[i] = 1.0f + (float) (i % 7);
	rng_seed(&rng, 99);
	nn_dropout_forward_train(pool2, y, x, mask, n, 0.2f, &rng);
	for (size_t i = 0; i < n; i++)
	{
		CHECK(mask[i] <= 1);
		if (mask[i])
		{
			kept++;
			CHECK(y[i] == x[i] * 1.25f);
		}
		else
			CHECK(y[i] == 0.0f);
		sum += y[i] - x[i];
	}
	/* binomial: sd of the kept fraction is 0.0004 */
	CHECK_MSG(fabs((double) kept / n - 0.8) < 0.002, "kept fraction %.5f", (double) kept / n);
	/* inverted dropout keeps the expectation: mean(y - x) ~ 0 (sd ~0.002) */
	CHECK_MSG(fabs(sum / n) < 0.01, "mean shift %.5f", sum / n);

	/* no runs: neighbouring decisions are not correlated */
	{
		size_t		both = 0;

		for (size_t i = 0; i + 1 < n; i++)
			both += mask[i] && mask[i + 1];
		CHECK_MSG(fabs((double) both / (n - 1) - 0.64) < 0.003, "pair fraction %.5f",
				  (double) both / (n - 1));
	}

	/* backward uses the same mask and scale, in place too */
	nn_dropout_backward(pool2, dx, x, mask, n, 0.2f);
	for (size_t i = 0; i < n; i++)
		CHECK(dx[i] == (mask[i] ? x[i] * 1.25f : 0.0f));

	/* same rng state -> same mask, whatever the thread count */
	rng_seed(&rng, 99);
	nn_dropout_forward_train(NULL, dx, x, mask2, n, 0.2f, &rng);
	CHECK(memcmp(mask, mask2, n) == 0);
	CHECK(memcmp(y, dx, sizeof(float) * n) == 0);
	/* the next call (rng advanced) gives another mask */
	nn_dropout_forward_train(NULL, dx, x, mask2, n, 0.2f, &rng);
	CHECK(memcmp(mask, mask2, n) != 0);

	/* the mask is a function of (seed, index): a shorter call gives a prefix,
	 * whatever the part boundaries (vector/scalar split) */
	for (size_t m = 1; m < 300; m += 37)
	{
		rng_seed(&rng, 99);
		nn_dropout_forward_train(NULL, dx, x, mask2, n - m * 1001, 0.2f, &rng);
		CHECK_MSG(memcmp(mask, mask2, n - m * 1001) == 0, "prefix of length %zu differs",
				  n - m * 1001);
	}

	/* rate 0 keeps everything unchanged */
	nn_dropout_forward_train(pool2, y, x, mask, n, 0.0f, &rng);
	for (size_t i = 0; i < n; i++)
		CHECK(mask[i] == 1 && y[i] == x[i]);

	/* rate 0.5 */
	nn_dropout_forward_train(pool2, y, x, mask, n, 0.5f, &rng);
	kept = 0;
	for (size_t i = 0; i < n; i++)
		kept += mask[i];
	CHECK_MSG(fabs((double) kept / n - 0.5) < 0.002, "kept fraction %.5f", (double) kept / n);
	free(x), free(y), free(dx), free(mask), free(mask2);
}

/* Fused BN-ReLU-dropout == BN, then ReLU, then dropout ---------------------------- */

static void
check_fused_equals_composition(int C)
{
	size_t		rows = 700;
	size_t		n = rows * C;
	float	   *x = falloc(n),
			   *gamma = falloc(C),
			   *beta = falloc(C),
			   *dy = falloc(n),
			   *y1 = falloc(n),
			   *y2 = falloc(n),
			   *t = falloc(n),
			   *dx1 = falloc(n),
			   *dx2 = falloc(n),
			   *st1 = falloc(3 * C),
			   *st2 = falloc(3 * C),
			   *dg1 = falloc(C),
			   *dg2 = falloc(C),
			   *db1 = falloc(C),
			   *db2 = falloc(C);
	uint8_t    *m1 = malloc(n),
			   *m2 = malloc(n);
	void	   *ws = walloc(nn_batchnorm_workspace_bytes(C));
	rng_state	r1,
				r2;
	double		maxdiff = 0;

	fill_normal(x, n, 61, 2.0);
	fill_normal(gamma, C, 62, 0.5);
	fill_normal(beta, C, 63, 0.5);
	fill_normal(dy, n, 64, 1.0);
	rng_seed(&r1, 5);
	rng_seed(&r2, 5);

	nn_bn_relu_dropout_forward_train(pool2, y1, x, gamma, beta, rows, C, NN_BN_EPSILON,
									 st1, st1 + C, st1 + 2 * C, m1, 0.2f, &r1, ws);
	nn_batchnorm_forward_train(pool2, t, x, gamma, beta, rows, C, NN_BN_EPSILON,
							   st2, st2 + C, st2 + 2 * C, ws);
	nn_relu_forward(pool2, t, t, n);
	nn_dropout_forward_train(pool2, y2, t, m2, n, 0.2f, &r2);
	CHECK(memcmp(st1, st2, sizeof(float) * 3 * C) == 0);
	CHECK(memcmp(m1, m2, n) == 0);
	CHECK(memcmp(y1, y2, sizeof(float) * n) == 0);
	CHECK(rng_next(&r1) == rng_next(&r2));	/* both drew the same amount */

	nn_bn_relu_dropout_backward(pool2, dx1, dg1, db1, dy, x, gamma, beta, st1, st1 + 2 * C,
								m1, 0.2f, rows, C, ws);
	nn_dropout_backward(pool2, t, dy, m2, n, 0.2f);
	/* ReLU's mask from the BN output: recompute it */
	nn_batchnorm_forward_train(pool2, dx2, x, gamma, beta, rows, C, NN_BN_EPSILON,
							   st2, st2 + C, st2 + 2 * C, ws);
	nn_relu_backward(pool2, t, t, dx2, n);
	nn_batchnorm_backward(pool2, dx2, dg2, db2, t, x, gamma, st2, st2 + 2 * C, rows, C, ws);
	for (size_t i = 0; i < n; i++)
	{
		double		d = fabs((double) dx1[i] - dx2[i]);

		if (d > maxdiff)
			maxdiff = d;
	}
	CHECK_MSG(maxdiff < 1e-6, "fused dx differs by %g", maxdiff);
	for (int c = 0; c < C; c++)
	{
		CHECK_CLOSE(dg1[c], dg2[c], 1e-5);
		CHECK_CLOSE(db1[c], db2[c], 1e-5);
	}
	free(x), free(gamma), free(beta), free(dy), free(y1), free(y2), free(t), free(dx1);
	free(dx2), free(st1), free(st2), free(dg1), free(dg2), free(db1), free(db2);
	free(m1), free(m2), free(ws);
}

/* the cnn's 16 channels, the wide cnn's 32, and the scalar path */
static void
test_fused_equals_composition(void)
{
	check_fused_equals_composition(16);
	check_fused_equals_composition(32);
	check_fused_equals_composition(5);
}

/* Determinism across thread counts ---------------------------------------------- */

/* Runs every kernel once with `pool`; writes all outputs into out (n_out floats). */
#define DET_B 37
#define DET_L 20
#define DET_C 16

static size_t
run_all_layers(nn_pool *pool, float *out)
{
	size_t		n = (size_t) DET_B * DET_L * DET_C;
	size_t		nw = 4 * DET_C * DET_C;
	size_t		pos = 0;
	float	   *x = falloc(n),
			   *w = falloc(nw),
			   *b = falloc(DET_C),
			   *dy = falloc(n),
			   *y = falloc(n),
			   *dx = falloc(n),
			   *dw = falloc(nw),
			   *db = falloc(DET_C),
			   *st = falloc(3 * DET_C),
			   *dwd = falloc((size_t) DET_L * DET_C * 5),
			   *logits = falloc((size_t) DET_B * 5),
			   *probs = falloc((size_t) DET_B * 5);
	int32_t		labels[DET_B];
	uint8_t    *mask = malloc(n);
	size_t		wsb = nn_conv1d_workspace_bytes(DET_L, DET_C, DET_C, 4);
	void	   *ws;
	rng_state	rng;
	double		loss;

	if (nn_batchnorm_workspace_bytes(DET_C) > wsb)
		wsb = nn_batchnorm_workspace_bytes(DET_C);
	if (nn_dense_backward_workspace_bytes(DET_B, DET_L * DET_C, 5) > wsb)
		wsb = nn_dense_backward_workspace_bytes(DET_B, DET_L * DET_C, 5);
	ws = walloc(wsb);
	fill_normal(x, n, 71, 1.0);
	fill_normal(w, nw, 72, 0.3);
	fill_normal(b, DET_C, 73, 0.3);
	fill_normal(dy, n, 74, 1.0);
	fill_normal(dwd, (size_t) DET_L * DET_C * 5, 75, 0.1);
	for (int i = 0; i < DET_B; i++)
		labels[i] = i % 5;
	rng_seed(&rng, 76);

#define EMIT(arr, cnt) do { memcpy(out + pos, arr, sizeof(float) * (cnt)); pos += (cnt); } while (0)
	nn_conv1d_forward(pool, y, x, w, b, DET_B, DET_L, DET_C, DET_C, 4, ws);
	EMIT(y, n);
	nn_conv1d_forward_residual(pool, y, x, w, b, dy, DET_B, DET_L, DET_C, DET_C, 4, ws);
	EMIT(y, n);
	nn_conv1d_backward(pool, dx, dw, db, dy, x, w, DET_B, DET_L, DET_C, DET_C, 4, ws);
	EMIT(dx, n);
	EMIT(dw, nw);
	EMIT(db, DET_C);
	nn_bn_relu_dropout_forward_train(pool, y, x, b, w, DET_B * DET_L, DET_C, NN_BN_EPSILON,
									 st, st + DET_C, st + 2 * DET_C, mask, 0.2f, &rng, ws);
	EMIT(y, n);
	EMIT(st, 3 * DET_C);
	nn_bn_relu_dropout_backward(pool, dx, dw, db, dy, x, b, w, st, st + 2 * DET_C, mask, 0.2f,
								DET_B * DET_L, DET_C, ws);
	EMIT(dx, n);
	EMIT(dw, DET_C);
	EMIT(db, DET_C);
	nn_dense_forward(pool, logits, y, dwd, b, DET_B, DET_L * DET_C, 5);
	EMIT(logits, DET_B * 5);
	loss = nn_softmax_xent_forward(pool, probs, NULL, logits, labels, NULL, DET_B, 5);
	out[pos++] = (float) loss;
	nn_softmax_xent_backward(pool, logits, probs, labels, NULL, DET_B, 5);
	nn_dense_backward(pool, dx, dwd, b, logits, y, dwd, DET_B, DET_L * DET_C, 5, ws);
	EMIT(dx, n);
	EMIT(dwd, (size_t) DET_L * DET_C * 5);
	nn_maxpool1d_forward(pool, y, mask, x, DET_B, DET_L, DET_C);
	EMIT(y, n / 2);
#undef EMIT
	free(x), free(w), free(b), free(dy), free(y), free(dx), free(dw), free(db), free(st);
	free(dwd), free(logits), free(probs), free(mask), free(ws);
	return pos;
}

static void
test_results_independent_of_thread_count(void)
{
	size_t		cap = 9 * (size_t) DET_B * DET_L * DET_C;
	float	   *a = falloc(cap),
			   *b = falloc(cap);
	size_t		na,
				nb;
	ecg_status	st;
	nn_pool    *pool3 = nn_pool_create(3, &st);

	CHECK(pool3 != NULL);
	na = run_all_layers(NULL, a);
	nb = run_all_layers(NULL, b);
	CHECK(na == nb && na <= cap);
	CHECK_MSG(memcmp(a, b, sizeof(float) * na) == 0, "two single-threaded runs differ");
	nb = run_all_layers(pool2, b);
	CHECK_MSG(memcmp(a, b, sizeof(float) * na) == 0, "1 and 2 threads differ");
	nb = run_all_layers(pool3, b);
	CHECK_MSG(memcmp(a, b, sizeof(float) * na) == 0, "1 and 3 threads differ");
	nn_pool_destroy(pool3);
	free(a);
	free(b);
}

/* Thread pool ------------------------------------------------------------------ */

typedef struct count_args
{
	long		hits[100];
	int			thread_of[100];
} count_args;

static void
count_task(void *p, int task)
{
	count_args *c = p;

	c->hits[task]++;
}

static void
test_pool_runs_every_task_once(void)
{
	ecg_status	st;
	nn_pool    *bad = nn_pool_create(0, &st);
	count_args	c;

	CHECK(bad == NULL && st.kind == ECG_ERR_ARGUMENT);
	bad = nn_pool_create(NN_POOL_MAX_THREADS + 1, &st);
	CHECK(bad == NULL && st.kind == ECG_ERR_ARGUMENT);
	CHECK(nn_pool_threads(NULL) == 1);
	CHECK(nn_pool_threads(pool2) == 2);

	memset(&c, 0, sizeof(c));
	/* many back-to-back task sets exercise the spin/sleep hand-over */
	for (int round = 0; round < 20000; round++)
		nn_pool_run(pool2, 1 + round % 100, count_task, &c);
	{
		int			ok = 1;

		for (int t = 0; t < 100; t++)
		{
			/* task t runs in every round with n_tasks > t */
			long		expect = 0;

			for (int round = 0; round < 20000; round++)
				expect += (1 + round % 100) > t;
			ok &= c.hits[t] == expect;
		}
		CHECK(ok);
	}
	nn_pool_run(pool2, 0, count_task, &c);	/* no-op */
	nn_pool_destroy(NULL);
}

int
main(void)
{
	ecg_status	st;

	pool2 = nn_pool_create(2, &st);
	if (pool2 == NULL)
	{
		fprintf(stderr, "cannot create a thread pool: %s\n", st.message);
		return 1;
	}
	RUN_TEST(test_conv_matches_torch);
	RUN_TEST(test_conv_wide_matches_double_reference);
	RUN_TEST(test_conv_residual_equals_conv_then_add);
	RUN_TEST(test_dense_matches_torch);
	RUN_TEST(test_dense_shapes_match_double_reference);
	RUN_TEST(test_batchnorm_matches_torch);
	RUN_TEST(test_bn_relu_matches_torch);
	RUN_TEST(test_maxpool_matches_torch);
	RUN_TEST(test_softmax_xent_matches_torch);
	RUN_TEST(test_softmax_xent_edge_cases);
	RUN_TEST(test_conv_finite_differences);
	RUN_TEST(test_dense_finite_differences);
	RUN_TEST(test_batchnorm_finite_differences);
	RUN_TEST(test_maxpool_finite_differences);
	RUN_TEST(test_maxpool_ties_and_odd_length);
	RUN_TEST(test_relu_and_add);
	RUN_TEST(test_concat);
	RUN_TEST(test_dropout_statistics_and_scaling);
	RUN_TEST(test_fused_equals_composition);
	RUN_TEST(test_results_independent_of_thread_count);
	RUN_TEST(test_pool_runs_every_task_once);
	nn_pool_destroy(pool2);
	for (int i = 0; i < n_refs; i++)
		free(refs[i].values);
	UNIT_EXIT();
}
