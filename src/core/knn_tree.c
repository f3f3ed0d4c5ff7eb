/*
 * knn_tree.c - exact k-NN by pruning over a projection tree.
 *
 * Points are described by a few coordinates whose distance is a certified
 * lower bound of their true Euclidean distance:
 *   - their projections on an orthonormal basis V of the leading principal
 *     directions (found by subspace iteration on the covariance of a sample
 *     of rows; any orthonormal basis gives a valid bound, a good one prunes
 *     more), and
 *   - the norm rho of their residual r = c - V V^T c (c = the centred row).
 * For two rows, |c_a - c_b|^2 = |V^T(c_a - c_b)|^2 + |r_a - r_b|^2 and
 * |r_a - r_b| >= |rho_a - rho_b|, so the distance of these "coordinates" is
 * a lower bound of the true distance.  A kd-tree over them (splits near the
 * median of the widest coordinate, leaves of at most TREE_LEAF_SIZE points)
 * is searched depth first, nearer child first, the far child only when the
 * distance from the query to its box can beat the current k-th candidate.
 * Splits fall on multiples of TREE_BLOCK points, so every leaf lies in one
 * block of TREE_BLOCK consecutive points, whose coordinates are stored
 * transposed (coordinate-major): the bounds of a whole leaf come out of one
 * vector per coordinate, without horizontal sums.
 *
 * Queries are answered in tree order (sorted by the tree position of their
 * own row, or of the leaf they descend to), so consecutive queries work on
 * the same part of the tree and find it in cache; the order changes no
 * result.
 *
 * Exactness.  The first pass keeps the best k candidates by a fast filter
 * distance (double precision, vectorised, relative error below 1e-13),
 * pruning with the k-th one's distance tau; they are then re-ranked by
 * knn_exact_sqdist().  A point left out was either pruned - its true
 * distance exceeds tau by more than the pruning margin, so its exact one
 * exceeds every kept candidate's - or offered and not kept, with a filter
 * distance >= `rejected` (the smallest such).  When the k-th exact distance
 * is below `rejected` by a relative margin, nothing left out can enter and
 * the answer is certified.  Otherwise (near-ties, duplicates) a second pass
 * ranks by knn_exact_sqdist() itself, pruning only points whose true
 * distance is provably above the k-th exact one.
 *
 * Rounding.  Coordinates are computed in double, multiplied by a power of
 * two `scale` (exact) that brings the largest centred norm of a sample of
 * the points into [0.5, 1), and stored as float (half the memory traffic);
 * node boxes hold the stored values, so they contain their points exactly.
 * Rounding a coordinate row moves it by at most u_float |c| (6e-8 |c|, c
 * the scaled centred row); the residual norm, computed as
 * sqrt(|c|^2 - |V^T c|^2), is off by at most sqrt(3e-13) |c| (6e-7 |c|)
 * from cancellation; the float sums of squares are within (32 + 2) u_float
 * of their value, plus at most 2^-149 per operation where they underflow.
 * The pruning threshold therefore adds TREE_REL_MARGIN (relative),
 * TREE_ABS_MARGIN x (|c_q| + max |c_p|) (absolute, in scaled units) and
 * TREE_UNDERFLOW_MARGIN, each more than ten times the errors it covers.
 * The scale keeps the points' coordinates far from float overflow and
 * underflow; when a point's or a query's scaled norm reaches TREE_MAX_NORM,
 * the tree is not built, or the query is answered without pruning.
 *
 * Threads: queries are handed out one at a time (an atomic counter) to the
 * workers during a round of about 10 ms; the calling thread polls for
 * interrupts between rounds.  Workers neither allocate nor poll.
 */
#include "knn_tree.h"

#include <cblas.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "rng.h"

/* Principal directions kept; with the residual norm, 32 coordinates
 * (fewer prune less, more cost more per bound: 31 measured best). */
#define TREE_COMPONENTS 31
/* Floats per coordinate row (coordinates padded with zeros). */
#define TREE_STRIDE 32
/* Lanes of the vectorised loops; TREE_STRIDE is a multiple of it
 * (coordinates are floats, filter distances doubles). */
#define TREE_LANES 16
#define FILTER_LANES 8
/* Points per transposed block (one vector of floats), and per leaf. */
#define TREE_BLOCK 16
#define TREE_LEAF_SIZE TREE_BLOCK
/* Rows of the covariance sample, and rows per chunk of the projection. */
#define TREE_SAMPLE_ROWS 4096
#define TREE_CHUNK_ROWS 256
#define TREE_SUBSPACE_ITERATIONS 12
/* Random restarts allowed for one basis column. */
#define TREE_BASIS_ATTEMPTS 16
/* Nodes larger than this poll for interrupts while the tree is built. */
#define TREE_POLL_NODE_SIZE 8192
/* Safety margins of the pruning and of the certification (see above). */
#define TREE_REL_MARGIN 1e-5
#define TREE_ABS_MARGIN 1e-5
#define TREE_MAX_NORM 1e15
#define TREE_UNDERFLOW_MARGIN 1e-40
#define TREE_CERTIFY_MARGIN 1e-9
/* Largest k for which a query's heap is seeded with the previous query's
 * neighbours (membership in the seeds is checked linearly). */
#define TREE_MAX_SEEDS 16
/* Largest acceptable deviation of V^T V from the identity. */
#define TREE_ORTHONORMAL_TOLERANCE 1e-12
/* Round length the calling thread aims at between two interrupt polls:
 * workers are started afresh every round (they must not outlive a poll,
 * which may not return), and starting a thread took up to 2 ms on the
 * development VM with the other core busy, so rounds are long enough to
 * amortise that while keeping a cancel prompt. */
#define TREE_ROUND_SECONDS 0.01

typedef float v16f __attribute__((vector_size(TREE_LANES * sizeof(float))));
typedef int32_t v16i __attribute__((vector_size(TREE_LANES * sizeof(int32_t))));
typedef double v8d __attribute__((vector_size(FILTER_LANES * sizeof(double))));
typedef float v8f __attribute__((vector_size(FILTER_LANES * sizeof(float))));

typedef struct tree_node
{
	int64_t		begin,
				end;			/* points [begin, end) in tree order */
	int32_t		left,
				right;			/* children, or -1 for a leaf */
} tree_node;

struct knn_tree
{
	int			dim;
	int			n_components;	/* columns of the basis; coordinate n_components
								 * is the residual norm */
	int64_t		n;
	const float *points;		/* the caller's rows */
	float	   *coord;			/* coordinates in tree order: rows of TREE_STRIDE
								 * while building, then blocks of TREE_BLOCK
								 * points stored coordinate-major */
	int64_t    *order;			/* tree position -> point index */
	int64_t    *position;		/* point index -> tree position */
	double	   *mean;			/* dim */
	double	   *basis;			/* dim x TREE_STRIDE, zero beyond n_components */
	tree_node  *nodes;
	float	   *boxes;			/* per node: TREE_STRIDE lows, TREE_STRIDE highs */
	int32_t		n_nodes;
	double		max_norm;		/* largest centred norm of a point */
	double		scale;			/* power of two applied to coordinates */
};

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + 1e-9 * (double) ts.tv_nsec;
}

static int32_t
max_nodes(int64_t n)
{
	/* leaves start at distinct multiples of TREE_BLOCK */
	int64_t		leaves = n / TREE_BLOCK + 1;

	return (int32_t) (2 * leaves);
}

size_t
knn_tree_work_bytes(int64_t n_points, int dim, int k)
{
	double		per_point,
				fixed,
				total;
	int			workers = knn_worker_count();

	/* node numbers are int32 */
	if (n_points < 0 || dim < 1 || k < 0 ||
		n_points > INT32_MAX / 2 * (int64_t) TREE_BLOCK - 2 * TREE_BLOCK)
		return SIZE_MAX;
	/* coordinates, order and position, nodes; the search's query order
	 * (16 bytes per query, at most one per point counted here: see knn.h) */
	per_point = 4.0 * TREE_STRIDE + 16.0 + 16.0 +
		2.0 * (sizeof(tree_node) + 8.0 * TREE_STRIDE) / TREE_BLOCK;
	/* mean, basis and subspace iteration (3 x dim x stride), covariance,
	 * projection chunk; per worker: centred query, candidates */
	fixed = 4.0 * TREE_STRIDE * TREE_BLOCK +
		8.0 * dim * (2.0 + 3.0 * TREE_STRIDE + dim + TREE_CHUNK_ROWS) +
		2.0 * (sizeof(tree_node) + 8.0 * TREE_STRIDE) + 64.0 * 1024 +
		(double) workers * (8.0 * dim + sizeof(knn_candidate) * 2.0 * (double) k);
	total = per_point * (double) n_points + fixed;
	return total >= (double) SIZE_MAX ? SIZE_MAX : (size_t) total;
}

void
knn_tree_free(knn_tree *t)
{
	if (t == NULL)
		return;
	ecg_free(t->coord);
	ecg_free(t->order);
	ecg_free(t->position);
	ecg_free(t->mean);
	ecg_free(t->basis);
	ecg_free(t->nodes);
	ecg_free(t->boxes);
	ecg_free(t);
}

/* ---------------------------------------------------------------------- */
/* The basis */

/* Horizontal sums; vectors are passed by address, as passing them by
 * value has a different ABI with and without AVX-512. */
static inline double
lanes_sum8(const v8d *p)
{
	v8d			v = *p;

	return ((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7]));
}

static inline float
lanes_sum16(const v16f *p)
{
	v16f		v = *p;

	return (((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7]))) +
		(((v[8] + v[9]) + (v[10] + v[11])) + ((v[12] + v[13]) + (v[14] + v[15])));
}

/* The centre: the mean of a sample of rows (every step-th point).  Any
 * centre gives valid bounds; this one keeps coordinates small. */
static void
compute_mean(const float *points, int64_t sample, double step, int dim, double *mean)
{
	for (int j = 0; j < dim; j++)
		mean[j] = 0.0;
	for (int64_t i = 0; i < sample; i++)
	{
		const float *r = points + (size_t) ((double) i * step) * dim;

		for (int j = 0; j < dim; j++)
			mean[j] += r[j];
	}
	for (int j = 0; j < dim; j++)
		mean[j] /= (double) sample;
}

/* Centred rows [first, first + rows) of the sample (every step-th point)
 * into buf (rows x dim doubles). */
static void
centre_rows(const knn_tree *t, const float *points, int64_t first, int64_t rows, double step,
			double *buf)
{
	for (int64_t i = 0; i < rows; i++)
	{
		int64_t		p = (int64_t) ((double) (first + i) * step);
		const float *r = points + (size_t) p * t->dim;
		double	   *out = buf + (size_t) i * t->dim;
		int			j = 0;

		for (; j + FILTER_LANES <= t->dim; j += FILTER_LANES)
		{
			v8f			x;
			v8d			m,
						c;

			memcpy(&x, r + j, sizeof(x));
			memcpy(&m, t->mean + j, sizeof(m));
			c = __builtin_convertvector(x, v8d) - m;
			memcpy(out + j, &c, sizeof(c));
		}
		for (; j < t->dim; j++)
			out[j] = (double) r[j] - t->mean[j];
	}
}

/*
 * Orthonormalises the m columns of q (dim x TREE_STRIDE, row-major) by
 * modified Gram-Schmidt applied twice; a column that is (numerically) in
 * the span of the previous ones is replaced by a random vector, so the
 * result is m orthonormal columns (m <= dim).  Returns 0, or -1 if random
 * vectors kept failing (not expected to happen: the caller then does
 * without the tree).
 */
static int
orthonormalise(double *q, int dim, int m, rng_state *rng)
{
	for (int c = 0; c < m; c++)
	{
		for (int attempt = 0;; attempt++)
		{
			double		before = 0.0,
						after = 0.0;

			for (int j = 0; j < dim; j++)
				before += q[(size_t) j * TREE_STRIDE + c] * q[(size_t) j * TREE_STRIDE + c];
			for (int pass = 0; pass < 2; pass++)
				for (int b = 0; b < c; b++)
				{
					double		dot = 0.0;

					for (int j = 0; j < dim; j++)
						dot += q[(size_t) j * TREE_STRIDE + b] * q[(size_t) j * TREE_STRIDE + c];
					for (int j = 0; j < dim; j++)
						q[(size_t) j * TREE_STRIDE + c] -= dot * q[(size_t) j * TREE_STRIDE + b];
				}
			for (int j = 0; j < dim; j++)
				after += q[(size_t) j * TREE_STRIDE + c] * q[(size_t) j * TREE_STRIDE + c];
			if (after > 1e-6 * before && after > 0.0)
			{
				double		scale = 1.0 / sqrt(after);

				for (int j = 0; j < dim; j++)
					q[(size_t) j * TREE_STRIDE + c] *= scale;
				break;
			}
			/* dependent column: start again from a random one */
			if (attempt == TREE_BASIS_ATTEMPTS)
				return -1;
			for (int j = 0; j < dim; j++)
				q[(size_t) j * TREE_STRIDE + c] = rng_normal(rng);
		}
	}
	return 0;
}

/* max |(V^T V - I)_ij|: the bound needs V^T V <= I up to the margins. */
static double
orthonormality_error(const double *q, int dim, int m)
{
	double		worst = 0.0;

	for (int a = 0; a < m; a++)
		for (int b = a; b < m; b++)
		{
			double		dot = 0.0;

			for (int j = 0; j < dim; j++)
				dot += q[(size_t) j * TREE_STRIDE + a] * q[(size_t) j * TREE_STRIDE + b];
			dot -= a == b ? 1.0 : 0.0;
			if (fabs(dot) > worst)
				worst = fabs(dot);
		}
	return worst;
}

/* Squared norm of n doubles, with eight partial sums. */
static inline double
sqnorm(const double *v, int n)
{
	v8d			acc = {0};
	double		s;
	int			j = 0;

	for (; j + FILTER_LANES <= n; j += FILTER_LANES)
	{
		v8d			x;

		memcpy(&x, v + j, sizeof(x));
		acc += x * x;
	}
	s = lanes_sum8(&acc);
	for (; j < n; j++)
		s += v[j] * v[j];
	return s;
}

/*
 * The leading principal directions of a sample of the points, by subspace
 * iteration on their covariance.  work: dim x dim + 2 x dim x TREE_STRIDE +
 * TREE_CHUNK_ROWS x dim doubles.  Returns 0, or 1 when the basis is not
 * orthonormal enough to certify bounds.
 */
static int
compute_basis(knn_tree *t, double *work)
{
	int			dim = t->dim,
				m = t->n_components;
	double	   *cov = work;
	double	   *z = cov + (size_t) dim * dim;
	double	   *chunk = z + (size_t) dim * TREE_STRIDE;
	int64_t		sample = t->n < TREE_SAMPLE_ROWS ? t->n : TREE_SAMPLE_ROWS;
	double		step = (double) t->n / (double) sample;
	rng_state	rng;

	double		sample_norm = 0.0;
	int			exponent;

	for (int64_t s0 = 0; s0 < sample; s0 += TREE_CHUNK_ROWS)
	{
		int64_t		rows = sample - s0 < TREE_CHUNK_ROWS ? sample - s0 : TREE_CHUNK_ROWS;

		centre_rows(t, t->points, s0, rows, step, chunk);
		for (int64_t i = 0; i < rows; i++)
		{
			double		norm = sqrt(sqnorm(chunk + (size_t) i * dim, dim));

			sample_norm = norm > sample_norm ? norm : sample_norm;
		}
		cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, dim, (int) rows, 1.0, chunk, dim,
					s0 == 0 ? 0.0 : 1.0, cov, dim);
		ecg_check_interrupts();
	}
	for (int a = 0; a < dim; a++)
		for (int b = 0; b < a; b++)
			cov[(size_t) a * dim + b] = cov[(size_t) b * dim + a];
	/* sample_norm = f 2^exponent, f in [0.5, 1): scale = 2^-exponent */
	frexp(sample_norm, &exponent);
	t->scale = sample_norm > 0.0 ? ldexp(1.0, -exponent) : 1.0;

	rng_seed(&rng, 0x6b6e6e5f74726565ULL);
	memset(t->basis, 0, sizeof(double) * (size_t) dim * TREE_STRIDE);
	for (int j = 0; j < dim; j++)
		for (int c = 0; c < m; c++)
			t->basis[(size_t) j * TREE_STRIDE + c] = rng_normal(&rng);
	if (orthonormalise(t->basis, dim, m, &rng) != 0)
		return 1;
	for (int it = 0; it < TREE_SUBSPACE_ITERATIONS; it++)
	{
		cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, dim, TREE_STRIDE, dim, 1.0, cov,
					dim, t->basis, TREE_STRIDE, 0.0, z, TREE_STRIDE);
		memcpy(t->basis, z, sizeof(double) * (size_t) dim * TREE_STRIDE);
		if (orthonormalise(t->basis, dim, m, &rng) != 0)
			return 1;
		ecg_check_interrupts();
	}
	/* the padding columns must be exactly zero */
	for (int j = 0; j < dim; j++)
		for (int c = m; c < TREE_STRIDE; c++)
			t->basis[(size_t) j * TREE_STRIDE + c] = 0.0;
	return orthonormality_error(t->basis, dim, m) <= TREE_ORTHONORMAL_TOLERANCE ? 0 : 1;
}

/* The coordinates of a centred row c, times scale: its projections proj
 * (n_components doubles) and the norm of the rest, sqrt(|c|^2 - |proj|^2). */
static void
store_coordinates(int m, double c_sqnorm, const double *proj, double scale, float *out)
{
	double		p_sqnorm = 0.0;

	for (int i = 0; i < m; i++)
	{
		out[i] = (float) (proj[i] * scale);
		p_sqnorm += proj[i] * proj[i];
	}
	for (int i = m; i < TREE_STRIDE; i++)
		out[i] = 0.0f;
	out[m] = (float) (sqrt(c_sqnorm > p_sqnorm ? c_sqnorm - p_sqnorm : 0.0) * scale);
}

/* Coordinates of every point (original order) into t->coord, and the
 * largest centred norm. */
static void
project_points(knn_tree *t, double *chunk, double *proj)
{
	int			dim = t->dim;

	t->max_norm = 0.0;
	for (int64_t p0 = 0; p0 < t->n; p0 += TREE_CHUNK_ROWS)
	{
		int64_t		rows = t->n - p0 < TREE_CHUNK_ROWS ? t->n - p0 : TREE_CHUNK_ROWS;

		centre_rows(t, t->points, p0, rows, 1.0, chunk);
		cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int) rows, TREE_STRIDE, dim, 1.0,
					chunk, dim, t->basis, TREE_STRIDE, 0.0, proj, TREE_STRIDE);
		for (int64_t i = 0; i < rows; i++)
		{
			double		sq = sqnorm(chunk + (size_t) i * dim, dim);

			if (sqrt(sq) > t->max_norm)
				t->max_norm = sqrt(sq);
			store_coordinates(t->n_components, sq, proj + (size_t) i * TREE_STRIDE, t->scale,
							  t->coord + (size_t) (p0 + i) * TREE_STRIDE);
		}
		ecg_check_interrupts();
	}
}

/* ---------------------------------------------------------------------- */
/* The tree */

static inline float
coord_of(const knn_tree *t, int64_t pos, int c)
{
	return t->coord[(size_t) pos * TREE_STRIDE + c];
}

/* Swaps two points of the tree order: their coordinate rows and indices
 * (rows move, so every level of the build reads them sequentially). */
static inline void
swap_points(knn_tree *t, int64_t a, int64_t b)
{
	float		tmp[TREE_STRIDE];
	int64_t		ix = t->order[a];

	memcpy(tmp, t->coord + (size_t) a * TREE_STRIDE, sizeof(tmp));
	memcpy(t->coord + (size_t) a * TREE_STRIDE, t->coord + (size_t) b * TREE_STRIDE, sizeof(tmp));
	memcpy(t->coord + (size_t) b * TREE_STRIDE, tmp, sizeof(tmp));
	t->order[a] = t->order[b];
	t->order[b] = ix;
}

/* Reorders points [lo, hi) so that point nth has the nth smallest
 * coordinate c, those before it no larger, those after no smaller (Hoare
 * partitions around random pivots: expected linear time whatever the
 * data). */
static void
select_nth(knn_tree *t, int64_t lo, int64_t hi, int64_t nth, int c, rng_state *rng)
{
	hi--;
	while (lo < hi)
	{
		float		pivot = coord_of(t, lo + (int64_t) rng_below(rng, (uint64_t) (hi - lo + 1)), c);
		int64_t		i = lo,
					j = hi;

		while (i <= j)
		{
			while (coord_of(t, i, c) < pivot)
				i++;
			while (coord_of(t, j, c) > pivot)
				j--;
			if (i <= j)
			{
				swap_points(t, i, j);
				i++;
				j--;
			}
		}
		/* [lo, j] <= pivot, (j, i) == pivot, [i, hi] >= pivot */
		if (nth <= j)
			hi = j;
		else if (nth >= i)
			lo = i;
		else
			break;
	}
}

/* The bounding box of points [begin, end). */
static void
compute_box(const knn_tree *t, int64_t begin, int64_t end, float *lo, float *hi)
{
	v16f		vlo[TREE_STRIDE / TREE_LANES],
				vhi[TREE_STRIDE / TREE_LANES];

	memcpy(vlo, t->coord + (size_t) begin * TREE_STRIDE, sizeof(vlo));
	memcpy(vhi, vlo, sizeof(vhi));
	for (int64_t i = begin + 1; i < end; i++)
	{
		const float *row = t->coord + (size_t) i * TREE_STRIDE;

		for (int v = 0; v < TREE_STRIDE / TREE_LANES; v++)
		{
			v16f		x;
			v16i		below,
						above;

			memcpy(&x, row + v * TREE_LANES, sizeof(x));
			below = x < vlo[v];
			above = x > vhi[v];
			/* select by masks: lo = below ? x : lo */
			vlo[v] = (v16f) (((v16i) x & below) | ((v16i) vlo[v] & ~below));
			vhi[v] = (v16f) (((v16i) x & above) | ((v16i) vhi[v] & ~above));
		}
	}
	memcpy(lo, vlo, sizeof(vlo));
	memcpy(hi, vhi, sizeof(vhi));
}

/* Builds the subtree over points [begin, end) of the tree order, with the
 * bounding box of every node; returns its node number. */
static int32_t
build_node(knn_tree *t, int64_t begin, int64_t end, rng_state *rng)
{
	int32_t		id = t->n_nodes++;
	tree_node  *nd = &t->nodes[id];
	float	   *lo = t->boxes + (size_t) id * 2 * TREE_STRIDE;
	float	   *hi = lo + TREE_STRIDE;
	int			widest = -1;
	float		spread = 0.0f;
	/* the median, rounded to a block boundary (begin is one) */
	int64_t		mid = begin + ((end - begin) / 2 + TREE_BLOCK / 2) / TREE_BLOCK * TREE_BLOCK;

	if (mid <= begin)
		mid = begin + TREE_BLOCK;
	nd->begin = begin;
	nd->end = end;
	nd->left = nd->right = -1;
	compute_box(t, begin, end, lo, hi);
	if (end - begin <= TREE_LEAF_SIZE)
		return id;
	if (end - begin >= TREE_POLL_NODE_SIZE)
		ecg_check_interrupts();
	for (int c = 0; c <= t->n_components; c++)
		if (hi[c] - lo[c] > spread)
		{
			spread = hi[c] - lo[c];
			widest = c;
		}
	if (widest < 0)
		return id;				/* all points equal in every coordinate */
	select_nth(t, begin, end, mid, widest, rng);
	{
		int32_t		left = build_node(t, begin, mid, rng);
		int32_t		right = build_node(t, mid, end, rng);

		/* nodes never move: the array is allocated at its maximal size */
		t->nodes[id].left = left;
		t->nodes[id].right = right;
	}
	return id;
}

/* Stores each block of TREE_BLOCK points coordinate-major, in place:
 * block[c * TREE_BLOCK + lane]. */
static void
transpose_blocks(knn_tree *t)
{
	float		tmp[TREE_BLOCK * TREE_STRIDE];

	for (int64_t b = 0; b <= t->n / TREE_BLOCK; b++)
	{
		float	   *block = t->coord + (size_t) b * TREE_BLOCK * TREE_STRIDE;

		memcpy(tmp, block, sizeof(tmp));
		for (int lane = 0; lane < TREE_BLOCK; lane++)
			for (int c = 0; c < TREE_STRIDE; c++)
				block[c * TREE_BLOCK + lane] = tmp[lane * TREE_STRIDE + c];
	}
}

int
knn_tree_build(const float *points, int64_t n_points, int dim, knn_tree **out,
			   ecg_status *st)
{
	knn_tree   *t;
	double	   *work = NULL;
	size_t		work_doubles;
	int			rc = -1;
	rng_state	rng;

	*out = NULL;
	if (dim > KNN_TREE_MAX_DIM)
		return 1;				/* the covariance would be too large */
	t = ecg_calloc_array(1, sizeof(knn_tree));
	if (t == NULL)
		return ecg_fail(st, ECG_ERR_NOMEM, "k-NN tree: out of memory");
	t->dim = dim;
	t->n = n_points;
	t->points = points;
	t->n_components = dim < TREE_COMPONENTS ? dim : TREE_COMPONENTS;
	work_doubles = (size_t) dim * dim + 2 * (size_t) dim * TREE_STRIDE +
		(size_t) TREE_CHUNK_ROWS * (size_t) dim + (size_t) TREE_CHUNK_ROWS * TREE_STRIDE;
	t->coord = ecg_calloc_array((size_t) (n_points / TREE_BLOCK + 1) * TREE_BLOCK * TREE_STRIDE,
								sizeof(float));
	t->order = ecg_alloc_array((size_t) n_points, sizeof(int64_t));
	t->position = ecg_alloc_array((size_t) n_points, sizeof(int64_t));
	t->mean = ecg_alloc_array((size_t) dim, sizeof(double));
	t->basis = ecg_alloc_array((size_t) dim * TREE_STRIDE, sizeof(double));
	t->nodes = ecg_alloc_array((size_t) max_nodes(n_points), sizeof(tree_node));
	t->boxes = ecg_alloc_array((size_t) max_nodes(n_points), 2 * TREE_STRIDE * sizeof(float));
	work = ecg_alloc_array(work_doubles, sizeof(double));
	if (!t->coord || !t->order || !t->position || !t->mean || !t->basis || !t->nodes || !t->boxes || !work)
	{
		ecg_fail(st, ECG_ERR_NOMEM, "k-NN tree: out of memory");
		ecg_fail_detail(st, "%zu bytes for %lld points of dimension %d",
						knn_tree_work_bytes(n_points, dim, 1), (long long) n_points, dim);
		goto done;
	}
	{
		int64_t		sample = n_points < TREE_SAMPLE_ROWS ? n_points : TREE_SAMPLE_ROWS;

		compute_mean(points, sample, (double) n_points / (double) sample, dim, t->mean);
	}
	if (compute_basis(t, work) != 0)
	{
		rc = 1;
		goto done;
	}
	project_points(t, work + (size_t) dim * dim + 2 * (size_t) dim * TREE_STRIDE,
				   work + (size_t) dim * dim + 2 * (size_t) dim * TREE_STRIDE +
				   (size_t) TREE_CHUNK_ROWS * (size_t) dim);
	if (!(t->max_norm * t->scale < TREE_MAX_NORM))
	{
		rc = 1;					/* float coordinates could overflow */
		goto done;
	}
	for (int64_t i = 0; i < n_points; i++)
		t->order[i] = i;
	rng_seed(&rng, 0x6b6e6e5f73706c74ULL);
	build_node(t, 0, n_points, &rng);
	transpose_blocks(t);
	for (int64_t i = 0; i < n_points; i++)
		t->position[t->order[i]] = i;
	rc = 0;

done:
	ecg_free(work);
	if (rc == 0)
		*out = t;
	else
		knn_tree_free(t);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* The search */

/* One worker: its share of the round's queries, its scratch, its counters. */
typedef struct tree_worker
{
	const knn_tree *tree;
	const float *queries;
	const int64_t *self_index;
	int64_t    *neighbours;
	float	   *distances;
	int			k;
	atomic_llong *next;			/* next entry of `sequence` to take */
	int64_t		round_end;
	const knn_candidate *sequence;	/* queries in tree order (index field) */

	double	   *centred;		/* dim */
	knn_candidate *heap;		/* max-heap of k candidates, root = worst */
	knn_candidate *rerank;		/* k */

	/* the current query */
	const float *q;
	int64_t		self;
	float		qc[TREE_STRIDE];	/* its coordinates */
	double		margin_scale;	/* |c_q| + largest point norm, scaled */
	bool		exact;			/* rank by knn_exact_sqdist() */
	int			size,
				capacity;
	double		threshold;		/* prune bounds above this */
	double		rejected;		/* smallest distance of a point offered and
								 * not kept (or a lower bound of it) */

	/* the previous query's row and neighbours: queries come in tree order,
	 * so they are good first candidates (offered before the traversal,
	 * skipped during it) */
	int64_t		seeds[TREE_MAX_SEEDS + 1];
	int			n_seeds;

	knn_tree_counters counters;
} tree_worker;

/* The filter distance: squared distance in double with eight partial sums
 * (relative error below (dim + 8) u_double).  Partial sums only grow, so
 * once one exceeds limit the full distance would too: it returns early. */
static inline double
filter_sqdist(const float *q, const float *x, int dim, double limit)
{
	v8d			acc = {0};
	double		s;
	int			j = 0;

	for (; j + FILTER_LANES <= dim; j += FILTER_LANES)
	{
		v8f			a,
					b;
		v8d			d;

		memcpy(&a, q + j, sizeof(a));
		memcpy(&b, x + j, sizeof(b));
		d = __builtin_convertvector(a, v8d) - __builtin_convertvector(b, v8d);
		acc += d * d;
		if ((j & 63) == 56 && lanes_sum8(&acc) > limit)
			return lanes_sum8(&acc);
	}
	s = lanes_sum8(&acc);
	for (; j < dim; j++)
	{
		double		d = (double) q[j] - (double) x[j];

		s += d * d;
	}
	return s;
}

/* Pruning threshold from the current worst kept distance tau: a bound above
 * it proves the true distance is above tau, rounding included. */
static void
update_threshold(tree_worker *w)
{
	double		tau,
				r,
				a = w->margin_scale;

	if (w->size < w->capacity || !(a < TREE_MAX_NORM))
	{
		w->threshold = INFINITY;
		return;
	}
	/* in the scaled units of the coordinates */
	tau = w->heap[0].dist * w->tree->scale * w->tree->scale;
	r = sqrt(tau) * (1.0 + TREE_REL_MARGIN) + TREE_ABS_MARGIN * a;
	w->threshold = r * r + TREE_ABS_MARGIN * a * a + TREE_UNDERFLOW_MARGIN;
}

/* Offers (d, ix) to the max-heap of the w->capacity best. */
static void
offer(tree_worker *w, double d, int64_t ix)
{
	knn_candidate *h = w->heap;
	int			pos;

	if (w->size < w->capacity)
	{
		pos = w->size++;
		while (pos > 0)
		{
			int			parent = (pos - 1) / 2;

			if (!knn_candidate_before(h[parent].dist, h[parent].index, d, ix))
				break;
			h[pos] = h[parent];
			pos = parent;
		}
		h[pos].dist = d;
		h[pos].index = ix;
		if (w->size == w->capacity)
			update_threshold(w);
		return;
	}
	if (!knn_candidate_before(d, ix, h[0].dist, h[0].index))
	{
		w->rejected = d < w->rejected ? d : w->rejected;
		return;
	}
	w->rejected = h[0].dist < w->rejected ? h[0].dist : w->rejected;
	pos = 0;
	for (;;)
	{
		int			child = 2 * pos + 1;

		if (child >= w->size)
			break;
		if (child + 1 < w->size &&
			knn_candidate_before(h[child].dist, h[child].index, h[child + 1].dist, h[child + 1].index))
			child++;
		if (!knn_candidate_before(d, ix, h[child].dist, h[child].index))
			break;
		h[pos] = h[child];
		pos = child;
	}
	h[pos].dist = d;
	h[pos].index = ix;
	update_threshold(w);
}

static inline bool
is_seed(const tree_worker *w, int64_t ix)
{
	for (int i = 0; i < w->n_seeds; i++)
		if (w->seeds[i] == ix)
			return true;
	return false;
}

/* The distance ranking the current pass. */
static inline double
pass_sqdist(const tree_worker *w, int64_t ix)
{
	const knn_tree *t = w->tree;

	if (w->exact)
		return knn_exact_sqdist(w->q, t->points + (size_t) ix * t->dim, t->dim);
	return filter_sqdist(w->q, t->points + (size_t) ix * t->dim, t->dim,
						 w->size < w->capacity ? INFINITY : w->heap[0].dist);
}

/* A float no smaller than x (for comparisons against float sums). */
static inline float
float_at_least(double x)
{
	float		f = (float) x;

	return (double) f >= x ? f : nextafterf(f, INFINITY);
}

/*
 * The points of a leaf: the bounds of each of its blocks at once (the
 * squared distance over the n_coords coordinates, in float), then the
 * distances of the points whose bound is within the threshold.
 */
static void
scan_leaf(tree_worker *w, const tree_node *nd)
{
	const knn_tree *t = w->tree;
	int			n_coords = t->n_components + 1;

	for (int64_t b0 = nd->begin; b0 < nd->end; b0 += TREE_BLOCK)
	{
		const float *block = t->coord + (size_t) b0 * TREE_STRIDE;
		int			lanes = nd->end - b0 < TREE_BLOCK ? (int) (nd->end - b0) : TREE_BLOCK;
		v16f		acc = {0};
		float		bound[TREE_BLOCK];
		float		limit;

		for (int c = 0; c < n_coords; c++)
		{
			v16f		x,
						d;

			memcpy(&x, block + c * TREE_BLOCK, sizeof(x));
			d = x - w->qc[c];
			acc += d * d;
		}
		memcpy(bound, &acc, sizeof(bound));
		w->counters.bounds += lanes;
		limit = float_at_least(w->threshold);
		for (int lane = 0; lane < lanes; lane++)
		{
			int64_t		ix;

			if (bound[lane] > limit)
				continue;
			ix = t->order[b0 + lane];
			if (ix == w->self || is_seed(w, ix))
				continue;
			w->counters.distances++;
			offer(w, pass_sqdist(w, ix), ix);
			/* the threshold shrinks as candidates come in */
			limit = float_at_least(w->threshold);
		}
	}
}

/* Squared distance from the query's coordinates to a node's box (in
 * float, like the point bounds). */
static inline double
box_sqdist(const float *q, const float *box)
{
	v16f		acc = {0};
	const v16f	zero = {0};

	for (int c = 0; c < TREE_STRIDE; c += TREE_LANES)
	{
		v16f		vq,
					lo,
					hi,
					below,
					above;

		memcpy(&vq, q + c, sizeof(vq));
		memcpy(&lo, box + c, sizeof(lo));
		memcpy(&hi, box + TREE_STRIDE + c, sizeof(hi));
		below = lo - vq;
		above = vq - hi;
		/* max(x, 0) by masking: at most one of them is positive */
		below = (v16f) ((v16i) below & (below > zero));
		above = (v16f) ((v16i) above & (above > zero));
		below += above;
		acc += below * below;
	}
	return lanes_sum16(&acc);
}

/* Depth first, the child with the nearer box first; a child is entered only
 * when its box can hold a point within the threshold. */
static void
search_node(tree_worker *w, int32_t id)
{
	const knn_tree *t = w->tree;
	const tree_node *nd = &t->nodes[id];
	int32_t		first,
				second;
	double		d_first,
				d_second;

	w->counters.nodes++;
	if (nd->left < 0)
	{
		scan_leaf(w, nd);
		return;
	}
	first = nd->left;
	second = nd->right;
	d_first = box_sqdist(w->qc, t->boxes + (size_t) first * 2 * TREE_STRIDE);
	d_second = box_sqdist(w->qc, t->boxes + (size_t) second * 2 * TREE_STRIDE);
	if (d_second < d_first)
	{
		double		d = d_first;

		first = nd->right;
		second = nd->left;
		d_first = d_second;
		d_second = d;
	}
	if (d_first <= w->threshold)
		search_node(w, first);
	if (d_second <= w->threshold)
		search_node(w, second);
}

/* The query's coordinates, computed like the points' (rounding differences
 * are far below the margins). */
static void
project_query(tree_worker *w)
{
	const knn_tree *t = w->tree;
	double		sq = 0.0;
	double		acc[TREE_STRIDE] = {0};

	for (int j = 0; j < t->dim; j++)
	{
		double		cj = (double) w->q[j] - t->mean[j];
		const double *b = t->basis + (size_t) j * TREE_STRIDE;

		w->centred[j] = cj;
		sq += cj * cj;
		for (int c = 0; c < TREE_STRIDE; c++)
			acc[c] += b[c] * cj;
	}
	store_coordinates(t->n_components, sq, acc, t->scale, w->qc);
	w->margin_scale = (sqrt(sq) + t->max_norm) * t->scale;
}

/* One search pass ranking by the filter or the exact distance. */
static void
search_pass(tree_worker *w, bool exact, int capacity)
{
	w->exact = exact;
	w->size = 0;
	w->capacity = capacity;
	w->threshold = INFINITY;
	w->rejected = INFINITY;
	for (int i = 0; i < w->n_seeds; i++)
		if (w->seeds[i] != w->self)
		{
			w->counters.distances++;
			offer(w, pass_sqdist(w, w->seeds[i]), w->seeds[i]);
		}
	search_node(w, 0);
}

static void
answer_query(tree_worker *w, int64_t qi)
{
	const knn_tree *t = w->tree;
	int			k = w->k;
	int64_t		eligible;
	int			m;
	bool		certified;
	knn_candidate *best = w->rerank;

	w->q = w->queries + (size_t) qi * t->dim;
	w->self = w->self_index ? w->self_index[qi] : -1;
	eligible = t->n - (w->self >= 0 ? 1 : 0);
	project_query(w);
	w->counters.queries++;

	search_pass(w, false, k);
	m = w->size;
	for (int i = 0; i < m; i++)
	{
		best[i].index = w->heap[i].index;
		best[i].dist = knn_exact_sqdist(w->q, t->points + (size_t) w->heap[i].index * t->dim,
										t->dim);
	}
	knn_sort_candidates(best, m);
	/*
	 * A point left out was either pruned, so its true distance is above the
	 * final root's filter distance by the pruning margin, hence its exact
	 * distance above every kept one's; or offered and not kept, so its
	 * filter distance is >= w->rejected.
	 */
	certified = m >= eligible ||
		best[k - 1].dist < w->rejected * (1.0 - TREE_CERTIFY_MARGIN);
	if (!certified)
	{
		w->counters.exact_searches++;
		search_pass(w, true, k);
		m = w->size;
		memcpy(best, w->heap, sizeof(knn_candidate) * (size_t) m);
		knn_sort_candidates(best, m);
	}
	for (int j = 0; j < k; j++)
	{
		w->neighbours[(size_t) qi * k + j] = best[j].index;
		if (w->distances)
			w->distances[(size_t) qi * k + j] = (float) sqrt(best[j].dist);
	}
	/* seeds for the next query: this one's neighbours and its own row */
	w->n_seeds = 0;
	if (k <= TREE_MAX_SEEDS)
	{
		for (int j = 0; j < k; j++)
			w->seeds[w->n_seeds++] = best[j].index;
		if (w->self >= 0)
			w->seeds[w->n_seeds++] = w->self;
	}
}

/* The tree position a query is expected near: its own point's when it has
 * one, else the first point of the leaf reached by always descending into
 * the child with the nearer box. */
static int64_t
query_position(tree_worker *w, int64_t qi)
{
	const knn_tree *t = w->tree;
	int32_t		id = 0;

	if (w->self_index && w->self_index[qi] >= 0)
		return t->position[w->self_index[qi]];
	w->q = w->queries + (size_t) qi * t->dim;
	project_query(w);
	while (t->nodes[id].left >= 0)
	{
		int32_t		l = t->nodes[id].left,
					r = t->nodes[id].right;

		id = box_sqdist(w->qc, t->boxes + (size_t) r * 2 * TREE_STRIDE) <
			box_sqdist(w->qc, t->boxes + (size_t) l * 2 * TREE_STRIDE) ? r : l;
	}
	return t->nodes[id].begin;
}

static int
compare_candidates(const void *a, const void *b)
{
	const knn_candidate *x = a,
			   *y = b;

	return knn_candidate_before(x->dist, x->index, y->dist, y->index) ? -1 :
		knn_candidate_before(y->dist, y->index, x->dist, x->index) ? 1 : 0;
}

/*
 * Queries [q_begin, q_end) sorted by their expected tree position (ties by
 * index), into sequence: consecutive queries then visit the same part of
 * the tree and find it in cache.  The order does not change any result.
 * Runs on the calling thread (w is a worker not running).
 */
static void
order_queries(tree_worker *w, int64_t q_begin, int64_t q_end, knn_candidate *sequence)
{
	for (int64_t qi = q_begin; qi < q_end; qi++)
	{
		sequence[qi - q_begin].dist = (double) query_position(w, qi);
		sequence[qi - q_begin].index = qi;
		if (((qi - q_begin) & 1023) == 1023)
			ecg_check_interrupts();
	}
	qsort(sequence, (size_t) (q_end - q_begin), sizeof(knn_candidate), compare_candidates);
}

static void *
worker_run(void *arg)
{
	tree_worker *w = arg;

	for (;;)
	{
		int64_t		s = (int64_t) atomic_fetch_add(w->next, 1);

		if (s >= w->round_end)
			break;
		answer_query(w, w->sequence[s].index);
	}
	return NULL;
}

int
knn_tree_search(const knn_tree *tree, const float *queries, int64_t q_begin, int64_t q_end,
				int k, const int64_t *query_self_index, int64_t *neighbours, float *distances,
				knn_tree_counters *counters, ecg_status *st)
{
	tree_worker workers[KNN_MAX_THREADS];
	void	   *args[KNN_MAX_THREADS];
	int			n_workers = knn_worker_count();
	atomic_llong next;
	int64_t		round_size;
	int64_t		n_queries = q_end - q_begin;
	knn_candidate *sequence;
	int			rc = -1;

	if (q_end <= q_begin)
		return 0;
	sequence = ecg_alloc_array((size_t) n_queries, sizeof(knn_candidate));
	if (sequence == NULL)
		return ecg_fail(st, ECG_ERR_NOMEM, "k-NN tree search: out of memory for %lld queries",
						(long long) n_queries);
	if (n_workers > q_end - q_begin)
		n_workers = (int) (q_end - q_begin);
	memset(workers, 0, sizeof(workers));
	for (int t = 0; t < n_workers; t++)
	{
		tree_worker *w = &workers[t];

		w->tree = tree;
		w->queries = queries;
		w->self_index = query_self_index;
		w->neighbours = neighbours;
		w->distances = distances;
		w->k = k;
		w->next = &next;
		w->sequence = sequence;
		w->centred = ecg_alloc_array((size_t) tree->dim, sizeof(double));
		w->heap = ecg_alloc_array((size_t) k, sizeof(knn_candidate));
		w->rerank = ecg_alloc_array((size_t) k, sizeof(knn_candidate));
		args[t] = w;
		if (!w->centred || !w->heap || !w->rerank)
		{
			ecg_fail(st, ECG_ERR_NOMEM, "k-NN tree search: out of memory");
			goto done;
		}
	}

	order_queries(&workers[0], q_begin, q_end, sequence);

	/* rounds of about TREE_ROUND_SECONDS, polling for interrupts between */
	round_size = 4 * (int64_t) n_workers;
	for (int64_t r0 = 0; r0 < n_queries;)
	{
		int64_t		r1 = n_queries - r0 < round_size ? n_queries : r0 + round_size;
		int			active = r1 - r0 < n_workers ? (int) (r1 - r0) : n_workers;
		double		t0 = now_seconds(),
					elapsed;

		atomic_store(&next, (long long) r0);
		for (int t = 0; t < active; t++)
			workers[t].round_end = r1;
		knn_run_parallel(worker_run, args, active);
		ecg_check_interrupts();
		elapsed = now_seconds() - t0;
		if (elapsed < 0.5 * TREE_ROUND_SECONDS && round_size < ((int64_t) 1 << 30))
			round_size *= 2;
		else if (elapsed > 2.0 * TREE_ROUND_SECONDS && round_size > n_workers)
			round_size /= 2;
		r0 = r1;
	}
	rc = 0;

done:
	for (int t = 0; t < n_workers; t++)
	{
		tree_worker *w = &workers[t];

		counters->queries += w->counters.queries;
		counters->nodes += w->counters.nodes;
		counters->bounds += w->counters.bounds;
		counters->distances += w->counters.distances;
		counters->exact_searches += w->counters.exact_searches;
		ecg_free(w->centred);
		ecg_free(w->heap);
		ecg_free(w->rerank);
	}
	ecg_free(sequence);
	return rc;
}
