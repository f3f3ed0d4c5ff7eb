/*
 * knn.c - exact Euclidean k-NN: argument checks, the choice between the
 * pruned tree search (knn_tree.c) and brute force, and the brute-force path
 * (blocked GEMM, candidate heaps and an exact re-ranking in double); see
 * knn.h for the contract.
 */
#include "knn.h"
#include "knn_internal.h"
#include "knn_tree.h"
#include "ecg_blas.h"

#include <cblas.h>
#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

/* unit roundoff of float */
#define FLOAT_UNIT_ROUNDOFF (0.5 * (double) FLT_EPSILON)
/* Squared norms above this could overflow the float pass (|q|^2 + |x|^2). */
#define KNN_FLOAT_SAFE_NORM 1e36
/* Points each worker sweeps per round; the calling thread polls for
 * interrupts between rounds (~8 ms of GEMM per round and worker). */
#define KNN_POINTS_PER_ROUND (4 * KNN_POINT_BLOCK)

/* When to try the tree (see tree_worth_trying()): at least this many
 * points, this many columns and points x queries x dim products. */
#define KNN_TREE_MIN_POINTS 2048
#define KNN_TREE_MIN_DIM 4
#define KNN_TREE_MIN_WORK 5e8
/* Queries the tree answers before the check that it pays. */
#define KNN_TREE_BATCH 128
/* Cost model of tree_pays(), in CPU nanoseconds, fitted to single-thread
 * timings of both paths on the MIT-BIH training rows and on uniform noise
 * of 16, 40 and 187 columns (a full distance costs ~2 ns per column in the
 * tree: its row is fetched from anywhere in memory). */
#define KNN_TREE_NS_PER_NODE 20.0
#define KNN_TREE_NS_PER_BOUND 10.0
#define KNN_TREE_NS_PER_COORD 2.0
#define KNN_BRUTE_NS_PER_COORD 0.025
#define KNN_BRUTE_NS_PER_POINT 1.0

/* ---------------------------------------------------------------------- */
/* A bounded max-heap of (float distance, index): the root is the worst kept
 * candidate, so a new one only has to beat the root. */

typedef struct candidate_heap
{
	float	   *dist;
	int64_t    *index;
	int			size;
	int			capacity;
} candidate_heap;

static void
heap_sift_down(candidate_heap *h, int pos)
{
	float		d = h->dist[pos];
	int64_t		ix = h->index[pos];

	for (;;)
	{
		int			child = 2 * pos + 1;

		if (child >= h->size)
			break;
		/* pick the worse (larger) child */
		if (child + 1 < h->size &&
			knn_candidate_before(h->dist[child], h->index[child],
							 h->dist[child + 1], h->index[child + 1]))
			child++;
		if (!knn_candidate_before(d, ix, h->dist[child], h->index[child]))
			break;
		h->dist[pos] = h->dist[child];
		h->index[pos] = h->index[child];
		pos = child;
	}
	h->dist[pos] = d;
	h->index[pos] = ix;
}

static void
heap_offer(candidate_heap *h, float d, int64_t ix)
{
	if (h->size < h->capacity)
	{
		/* sift up */
		int			pos = h->size++;

		while (pos > 0)
		{
			int			parent = (pos - 1) / 2;

			if (!knn_candidate_before(h->dist[parent], h->index[parent], d, ix))
				break;
			h->dist[pos] = h->dist[parent];
			h->index[pos] = h->index[parent];
			pos = parent;
		}
		h->dist[pos] = d;
		h->index[pos] = ix;
	}
	else if (knn_candidate_before(d, ix, h->dist[0], h->index[0]))
	{
		h->dist[0] = d;
		h->index[0] = ix;
		heap_sift_down(h, 0);
	}
}

/* ---------------------------------------------------------------------- */

/*
 * The k nearest points of one query by an exact double scan over all points,
 * keeping the best k sorted in `best` (insertion into a sorted array; k is
 * small).  Used when the float filter cannot certify its candidates.
 */
static void
exact_scan(const float *points, int64_t n_points, const float *query, int dim,
		   int k, int64_t self, knn_candidate *best)
{
	int			n_best = 0;

	for (int64_t p = 0; p < n_points; p++)
	{
		double		d;
		int			pos;

		if (p == self)
			continue;
		d = knn_exact_sqdist(query, points + (size_t) p * dim, dim);
		if (n_best == k && !knn_candidate_before(d, p, best[k - 1].dist, best[k - 1].index))
			continue;
		pos = n_best < k ? n_best++ : k - 1;
		while (pos > 0 && knn_candidate_before(d, p, best[pos - 1].dist, best[pos - 1].index))
		{
			best[pos] = best[pos - 1];
			pos--;
		}
		best[pos].dist = d;
		best[pos].index = p;
	}
}

/* What all workers share, read-only while they run. */
typedef struct knn_shared
{
	int			dim;
	int			k;
	int			kc;				/* candidates kept per query */
	const float *points;		/* the caller's points */
	const float *queries;		/* the caller's queries */
	int64_t		n_points;
	const int64_t *self_index;	/* or NULL */
	float	   *mean;			/* the points' mean */
	double	   *mean_sum;		/* dim doubles of scratch for the mean */
	float	   *points_c;		/* centred points */
	float	   *pnorm;			/* their squared norms */
	double		max_pnorm;
	int64_t    *neighbours;		/* outputs: each worker writes its own queries */
	float	   *distances;
} knn_shared;

/* One worker's buffers and its current job: a block of up to Bq queries,
 * swept over the point blocks [p_begin, p_end), or finished. */
typedef struct knn_worker
{
	const knn_shared *sh;
	float	   *queries_c;		/* Bq x dim */
	float	   *qnorm;			/* Bq */
	float	   *block;			/* Bq x Bp products */
	float	   *heap_dist;		/* Bq x kc */
	int64_t    *heap_index;		/* Bq x kc */
	int		   *heap_size;		/* Bq */
	knn_candidate *rerank;		/* kc */
	knn_candidate *best;		/* k */
	int64_t		q0;				/* job */
	int			bq;
	int64_t		p_begin,
				p_end;
	bool		finish;
	int64_t		fallbacks;		/* result */
} knn_worker;

size_t
knn_brute_work_bytes(int64_t n_points, int dim, int k)
{
	size_t		kc = (size_t) k + (size_t) KNN_EXTRA_CANDIDATES(k);
	size_t		bq = KNN_QUERY_BLOCK,
				bp = KNN_POINT_BLOCK;
	size_t		per_point,
				points_bytes,
				per_worker,
				fixed;

	if (n_points < 0 || dim < 0 || k < 0)
		return SIZE_MAX;
	if (ecg_size_mul((size_t) dim + 1, 4, &per_point) != 0 ||
		ecg_size_mul(per_point, (size_t) n_points, &points_bytes) != 0)
		return SIZE_MAX;
	per_worker = 4 * bq * (size_t) dim + 4 * bq + 4 * bq * bp + 12 * bq * kc + 4 * bq +
		16 * kc + 16 * (size_t) k;
	fixed = 12 * (size_t) dim + (size_t) knn_worker_count() * per_worker;
	if (points_bytes > SIZE_MAX - fixed)
		return SIZE_MAX;
	return points_bytes + fixed;
}

static int
check_finite(const float *rows, int64_t n, int dim, const char *what, ecg_status *st)
{
	for (int64_t i = 0; i < n; i++)
	{
		const float *r = rows + (size_t) i * dim;

		for (int j = 0; j < dim; j++)
			if (!isfinite(r[j]))
			{
				ecg_fail(st, ECG_ERR_DATA, "k-NN %s row %lld has a non-finite value",
						 what, (long long) i);
				return ecg_fail_detail(st, "value %g at column %d", (double) r[j], j);
			}
		if ((i & 4095) == 4095)
			ecg_check_interrupts();
	}
	return 0;
}

static int
validate_arguments(const float *points, int64_t n_points, const float *queries,
				   int64_t n_queries, int dim, int k, const int64_t *self_index,
				   const int64_t *neighbours, ecg_status *st)
{
	if (n_points < 0 || n_queries < 0)
		return ecg_fail(st, ECG_ERR_ARGUMENT, "k-NN: negative row count (%lld points, %lld queries)",
						(long long) n_points, (long long) n_queries);
	if (dim < 1)
		return ecg_fail(st, ECG_ERR_ARGUMENT, "k-NN: dimension must be at least 1, got %d", dim);
	if (k < 1 || k > KNN_MAX_K)
		return ecg_fail(st, ECG_ERR_ARGUMENT, "k-NN: k must be between 1 and %d, got %d",
						KNN_MAX_K, k);
	if ((n_points > 0 && points == NULL) || (n_queries > 0 && (queries == NULL || neighbours == NULL)))
		return ecg_fail(st, ECG_ERR_ARGUMENT, "k-NN: missing input or output array");
	if ((uint64_t) n_points > (uint64_t) (SIZE_MAX / 4) / (uint64_t) dim ||
		(uint64_t) n_queries > (uint64_t) (SIZE_MAX / 8) / (uint64_t) (dim > k ? dim : k))
		return ecg_fail(st, ECG_ERR_NOMEM, "k-NN: arrays too large (%lld x %d)",
						(long long) (n_points > n_queries ? n_points : n_queries), dim);
	for (int64_t i = 0; i < n_queries; i++)
	{
		int64_t		self = self_index ? self_index[i] : -1;
		int64_t		eligible = n_points - (self >= 0 ? 1 : 0);

		if (self < -1 || self >= n_points)
		{
			ecg_fail(st, ECG_ERR_ARGUMENT, "k-NN: self index of query %lld is out of range",
					 (long long) i);
			return ecg_fail_detail(st, "got %lld, expected -1 or 0..%lld",
								   (long long) self, (long long) n_points - 1);
		}
		if (k > eligible)
		{
			ecg_fail(st, ECG_ERR_ARGUMENT,
					 "k-NN: k = %d neighbours asked but only %lld points are eligible",
					 k, (long long) eligible);
			return ecg_fail_detail(st, "query %lld, %lld points%s", (long long) i,
								   (long long) n_points,
								   self >= 0 ? ", the query itself excluded" : "");
		}
	}
	return 0;
}

static void
free_worker(knn_worker *w)
{
	ecg_free(w->queries_c);
	ecg_free(w->qnorm);
	ecg_free(w->block);
	ecg_free(w->heap_dist);
	ecg_free(w->heap_index);
	ecg_free(w->heap_size);
	ecg_free(w->rerank);
	ecg_free(w->best);
	memset(w, 0, sizeof(*w));
}

static int
alloc_worker(knn_worker *w, const knn_shared *sh)
{
	size_t		bq = KNN_QUERY_BLOCK,
				bp = KNN_POINT_BLOCK;

	memset(w, 0, sizeof(*w));
	w->sh = sh;
	w->queries_c = ecg_alloc_array(bq * (size_t) sh->dim, sizeof(float));
	w->qnorm = ecg_alloc_array(bq, sizeof(float));
	w->block = ecg_alloc_array(bq * bp, sizeof(float));
	w->heap_dist = ecg_alloc_array(bq * (size_t) sh->kc, sizeof(float));
	w->heap_index = ecg_alloc_array(bq * (size_t) sh->kc, sizeof(int64_t));
	w->heap_size = ecg_alloc_array(bq, sizeof(int));
	w->rerank = ecg_alloc_array((size_t) sh->kc, sizeof(knn_candidate));
	w->best = ecg_alloc_array((size_t) sh->k, sizeof(knn_candidate));
	return (w->queries_c && w->qnorm && w->block && w->heap_dist && w->heap_index &&
			w->heap_size && w->rerank && w->best) ? 0 : -1;
}

static void
free_shared(knn_shared *sh)
{
	ecg_free(sh->mean);
	ecg_free(sh->mean_sum);
	ecg_free(sh->points_c);
	ecg_free(sh->pnorm);
	sh->mean = NULL;
	sh->mean_sum = NULL;
	sh->points_c = NULL;
	sh->pnorm = NULL;
}

/* Centres `n` rows on mean into out, with their squared norms.  Called by
 * workers too: never polls for interrupts itself when `poll` is false. */
static void
centre_rows(const knn_shared *sh, const float *rows, int64_t n, float *out, float *norms,
			double *max_norm, bool poll)
{
	int			dim = sh->dim;

	for (int64_t i = 0; i < n; i++)
	{
		const float *r = rows + (size_t) i * dim;
		float	   *o = out + (size_t) i * dim;
		double		sq = 0.0;

		for (int j = 0; j < dim; j++)
		{
			o[j] = r[j] - sh->mean[j];
			sq += (double) o[j] * (double) o[j];
		}
		norms[i] = (float) sq;
		if (max_norm && sq > *max_norm)
			*max_norm = sq;
		if (poll && (i & 4095) == 4095)
			ecg_check_interrupts();
	}
}

/* The points' mean (accumulated in double), the centred copy and its norms. */
static void
prepare_points(knn_shared *sh)
{
	int			dim = sh->dim;
	double	   *sum = sh->mean_sum;

	for (int j = 0; j < dim; j++)
		sum[j] = 0.0;
	for (int64_t i = 0; i < sh->n_points; i++)
	{
		const float *r = sh->points + (size_t) i * dim;

		for (int j = 0; j < dim; j++)
			sum[j] += r[j];
		if ((i & 4095) == 4095)
			ecg_check_interrupts();
	}
	for (int j = 0; j < dim; j++)
		sh->mean[j] = sh->n_points > 0 ? (float) (sum[j] / (double) sh->n_points) : 0.0f;
	sh->max_pnorm = 0.0;
	centre_rows(sh, sh->points, sh->n_points, sh->points_c, sh->pnorm, &sh->max_pnorm, true);
}

/*
 * Scans one row of the q.x block against the query's heap.  `dots` holds
 * q.x for points p0 .. p0+bp-1; the approximate squared distance is
 * |q|^2 + |x|^2 - 2 q.x.
 */
static void
scan_block_row(candidate_heap *h, const float *dots, const float *pnorm, int64_t p0, int bp,
			   float qn, int64_t self)
{
	int			j = 0;

	/* fill the heap first */
	for (; j < bp && h->size < h->capacity; j++)
	{
		if (p0 + j == self)
			continue;
		heap_offer(h, qn + pnorm[j] - 2.0f * dots[j], p0 + j);
	}
	for (; j < bp; j++)
	{
		float		d = qn + pnorm[j] - 2.0f * dots[j];

		/* <= so that equal distances with a smaller index can enter */
		if (d <= h->dist[0] && p0 + j != self)
			heap_offer(h, d, p0 + j);
	}
}

/*
 * Turns one query's heap into its k exact nearest points (in w->best).  Every
 * point that is not in the heap has an approximate distance >= the root's (it
 * was rejected by, or evicted as, a root no smaller than the final one).  Its
 * true distance is then >= root - E, E bounding the float error; when the
 * k-th exact distance among the candidates is below that, nothing outside
 * can displace them.  Returns 0 when certified, 1 when an exact scan is
 * needed.
 */
static int
finish_query(knn_worker *w, const candidate_heap *h, const float *query, int64_t n_eligible,
			 double qn)
{
	const knn_shared *sh = w->sh;
	int			m = h->size;
	knn_candidate *c = w->rerank;

	for (int i = 0; i < m; i++)
	{
		c[i].index = h->index[i];
		c[i].dist = knn_exact_sqdist(query, sh->points + (size_t) h->index[i] * sh->dim, sh->dim);
	}
	knn_sort_candidates(c, m);
	memcpy(w->best, c, sizeof(knn_candidate) * (size_t) sh->k);
	if (m >= n_eligible)
		return 0;				/* every eligible point is a candidate */

	/*
	 * Error bound of the float distance: centring (4u), the norms (2u), the
	 * dot product (gamma_d) and the final additions (2u), each times
	 * |q|^2 + |x|^2, plus a margin.
	 */
	{
		double		u = FLOAT_UNIT_ROUNDOFF;
		double		e = 1.05 * ((double) sh->dim + 12.0) * u * (qn + sh->max_pnorm) + 1e-30;
		double		root = h->dist[0];

		/* the float pass may have overflowed: trust only the exact scan */
		if (!(qn < KNN_FLOAT_SAFE_NORM && sh->max_pnorm < KNN_FLOAT_SAFE_NORM))
			return 1;
		return c[sh->k - 1].dist < root - e ? 0 : 1;
	}
}

static candidate_heap
worker_heap(const knn_worker *w, int i)
{
	candidate_heap h;

	h.dist = w->heap_dist + (size_t) i * w->sh->kc;
	h.index = w->heap_index + (size_t) i * w->sh->kc;
	h.size = w->heap_size[i];
	h.capacity = w->sh->kc;
	return h;
}

/* Sweeps the worker's query block over its point blocks. */
static void
worker_scan(knn_worker *w)
{
	const knn_shared *sh = w->sh;
	int			dim = sh->dim;

	for (int64_t p0 = w->p_begin; p0 < w->p_end; p0 += KNN_POINT_BLOCK)
	{
		int			bp = (int) (w->p_end - p0 < KNN_POINT_BLOCK ? w->p_end - p0 : KNN_POINT_BLOCK);

		/* block[i][j] = q_i . x_j */
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, w->bq, bp, dim,
					1.0f, w->queries_c, dim, sh->points_c + (size_t) p0 * dim, dim,
					0.0f, w->block, bp);
		for (int i = 0; i < w->bq; i++)
		{
			candidate_heap h = worker_heap(w, i);

			scan_block_row(&h, w->block + (size_t) i * bp, sh->pnorm + p0, p0, bp, w->qnorm[i],
						   sh->self_index ? sh->self_index[w->q0 + i] : -1);
			w->heap_size[i] = h.size;
		}
	}
}

/* Re-ranks (or scans exactly) and writes the worker's queries' results. */
static void
worker_finish(knn_worker *w)
{
	const knn_shared *sh = w->sh;
	int			k = sh->k;

	for (int i = 0; i < w->bq; i++)
	{
		int64_t		q = w->q0 + i;
		int64_t		self = sh->self_index ? sh->self_index[q] : -1;
		const float *query = sh->queries + (size_t) q * sh->dim;
		candidate_heap h = worker_heap(w, i);

		if (finish_query(w, &h, query, sh->n_points - (self >= 0 ? 1 : 0),
						 (double) w->qnorm[i]) != 0)
		{
			exact_scan(sh->points, sh->n_points, query, sh->dim, k, self, w->best);
			w->fallbacks++;
		}
		for (int j = 0; j < k; j++)
		{
			sh->neighbours[(size_t) q * k + j] = w->best[j].index;
			if (sh->distances)
				sh->distances[(size_t) q * k + j] = (float) sqrt(w->best[j].dist);
		}
	}
}

static void *
worker_run(void *arg)
{
	knn_worker *w = arg;

	if (w->finish)
		worker_finish(w);
	else
		worker_scan(w);
	return NULL;
}

/*
 * Runs the current jobs of workers[0..n).  With several workers, each GEMM
 * runs single-threaded; OpenBLAS gets its thread count back before
 * returning, so an interrupt thrown between rounds leaves it as it was.
 */
static void
run_workers(knn_worker *workers, int n)
{
	void	   *args[KNN_MAX_THREADS];
	int			blas_threads = 0;

	for (int t = 0; t < n; t++)
		args[t] = &workers[t];
	if (n > 1)
		blas_threads = ecg_blas_set_threads(1);
	knn_run_parallel(worker_run, args, n);
	if (n > 1)
		ecg_blas_set_threads(blas_threads);
}

int
knn_brute_search(const float *points, int64_t n_points,
				 const float *queries, int64_t n_queries,
				 int dim, int k, const int64_t *query_self_index,
				 int64_t *neighbours, float *distances,
				 int64_t *exact_fallbacks, ecg_status *st)
{
	knn_shared	sh;
	knn_worker	workers[KNN_MAX_THREADS];
	int			n_workers = 0;
	int			n_threads;
	int64_t		group = 0;
	int			rc = -1;

	if (n_queries == 0)
		return 0;
	memset(&sh, 0, sizeof(sh));
	sh.dim = dim;
	sh.k = k;
	sh.kc = k + KNN_EXTRA_CANDIDATES(k);
	if ((int64_t) sh.kc > n_points)
		sh.kc = (int) n_points;
	sh.points = points;
	sh.queries = queries;
	sh.n_points = n_points;
	sh.self_index = query_self_index;
	sh.neighbours = neighbours;
	sh.distances = distances;
	sh.mean = ecg_alloc_array((size_t) dim, sizeof(float));
	sh.mean_sum = ecg_alloc_array((size_t) dim, sizeof(double));
	sh.points_c = ecg_alloc_array((size_t) n_points * (size_t) dim, sizeof(float));
	sh.pnorm = ecg_alloc_array((size_t) n_points, sizeof(float));

	/* one worker per thread of the pool, each running a single-threaded
	 * GEMM, but no more than there are query blocks */
	n_threads = knn_worker_count();
	{
		int64_t		blocks = (n_queries + KNN_QUERY_BLOCK - 1) / KNN_QUERY_BLOCK;
		int			wanted = n_threads < blocks ? n_threads : (int) blocks;

		for (; n_workers < wanted; n_workers++)
			if (alloc_worker(&workers[n_workers], &sh) != 0)
			{
				free_worker(&workers[n_workers]);
				break;
			}
	}
	if (!sh.mean || !sh.mean_sum || !sh.points_c || !sh.pnorm || n_workers == 0)
	{
		ecg_fail(st, ECG_ERR_NOMEM, "k-NN: out of memory");
		ecg_fail_detail(st, "%zu bytes for %lld points of dimension %d",
						knn_brute_work_bytes(n_points, dim, k), (long long) n_points, dim);
		goto done;
	}
	prepare_points(&sh);

	/* rounds: each worker takes a query block; they sweep the points a few
	 * blocks at a time, so the calling thread polls for interrupts between
	 * rounds every few milliseconds, then they finish their queries */
	for (int64_t q0 = 0; q0 < n_queries; q0 += (int64_t) n_workers * KNN_QUERY_BLOCK, group++)
	{
		int			active = 0;

		for (int t = 0; t < n_workers; t++)
		{
			knn_worker *w = &workers[t];
			int64_t		start = q0 + (int64_t) t * KNN_QUERY_BLOCK;

			if (start >= n_queries)
				break;
			w->q0 = start;
			w->bq = (int) (n_queries - start < KNN_QUERY_BLOCK ? n_queries - start : KNN_QUERY_BLOCK);
			centre_rows(&sh, queries + (size_t) start * dim, w->bq, w->queries_c, w->qnorm,
						NULL, false);
			for (int i = 0; i < w->bq; i++)
				w->heap_size[i] = 0;
			active++;
		}
		for (int64_t p0 = 0; p0 < n_points; p0 += KNN_POINTS_PER_ROUND)
		{
			for (int t = 0; t < active; t++)
			{
				workers[t].finish = false;
				workers[t].p_begin = p0;
				workers[t].p_end = n_points - p0 < KNN_POINTS_PER_ROUND ? n_points : p0 + KNN_POINTS_PER_ROUND;
			}
			run_workers(workers, active);
			ecg_check_interrupts();
		}
		for (int t = 0; t < active; t++)
			workers[t].finish = true;
		run_workers(workers, active);
		ecg_check_interrupts();
	}
	rc = 0;

done:
	for (int t = 0; t < n_workers; t++)
	{
		*exact_fallbacks += workers[t].fallbacks;
		free_worker(&workers[t]);
	}
	free_shared(&sh);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Choosing the path */

/*
 * Whether building the tree can pay at all: the brute-force work must be
 * large (the tree costs about as much to build as a few hundred
 * brute-force queries), and the rows not too short.
 */
static bool
tree_worth_trying(int64_t n_points, int64_t n_queries, int dim)
{
	return n_points >= KNN_TREE_MIN_POINTS && dim >= KNN_TREE_MIN_DIM && dim <= KNN_TREE_MAX_DIM &&
		(double) n_points * (double) n_queries * (double) dim >= KNN_TREE_MIN_WORK;
}

/*
 * Estimated CPU nanoseconds of the tree search per query so far, and of a
 * brute-force query, from the counters (constants measured on the 2-core
 * AVX-512 development machine; only their ratios matter).  On the MIT-BIH
 * rows: about 40 us against 350 us.
 */
static bool
tree_pays(const knn_tree_counters *c, int64_t n_points, int dim)
{
	double		tree_ns = (KNN_TREE_NS_PER_NODE * (double) c->nodes +
						   KNN_TREE_NS_PER_BOUND * (double) c->bounds +
						   KNN_TREE_NS_PER_COORD * (double) dim * (double) c->distances) /
		(double) (c->queries > 0 ? c->queries : 1);
	double		brute_ns = (KNN_BRUTE_NS_PER_COORD * (double) dim + KNN_BRUTE_NS_PER_POINT) *
		(double) n_points;

	return tree_ns < brute_ns;
}

size_t
knn_work_bytes(int64_t n_points, int dim, int k)
{
	size_t		brute = knn_brute_work_bytes(n_points, dim, k);
	size_t		tree = dim <= KNN_TREE_MAX_DIM ? knn_tree_work_bytes(n_points, dim, k) : 0;

	/* the two paths never hold their memory at the same time */
	return brute > tree ? brute : tree;
}

int
knn_search_using(knn_method method, const float *points, int64_t n_points,
				 const float *queries, int64_t n_queries,
				 int dim, int k, const int64_t *query_self_index,
				 int64_t *neighbours, float *distances,
				 knn_stats *stats, ecg_status *st)
{
	knn_stats	local;
	knn_tree   *tree = NULL;
	knn_tree_counters counters;
	int64_t		done = 0;
	int			rc = -1;

	if (stats == NULL)
		stats = &local;
	memset(stats, 0, sizeof(*stats));
	memset(&counters, 0, sizeof(counters));
	ecg_status_clear(st);
	if ((int) method < KNN_METHOD_AUTO || (int) method > KNN_METHOD_TREE)
		return ecg_fail(st, ECG_ERR_ARGUMENT, "k-NN: unknown search method %d", (int) method);
	if (validate_arguments(points, n_points, queries, n_queries, dim, k, query_self_index,
						   neighbours, st) != 0)
		return -1;
	if (n_queries == 0)
		return 0;
	if (check_finite(points, n_points, dim, "point", st) != 0 ||
		(queries != points && check_finite(queries, n_queries, dim, "query", st) != 0))
		return -1;
	if (ecg_check_memory(knn_work_bytes(n_points, dim, k), "k-NN search", st) != 0)
		return -1;

	if (method == KNN_METHOD_TREE ||
		(method == KNN_METHOD_AUTO && tree_worth_trying(n_points, n_queries, dim)))
	{
		int			built = knn_tree_build(points, n_points, dim, &tree, st);

		if (built < 0)
			return -1;
		/* the tree answers a trial batch, then, if it pays, all the others
		 * (in one call: it sorts them to follow the tree) */
		while (tree && done < n_queries)
		{
			int64_t		end = n_queries - done < KNN_TREE_BATCH || done > 0 ? n_queries : KNN_TREE_BATCH;

			if (knn_tree_search(tree, queries, done, end, k, query_self_index, neighbours,
								distances, &counters, st) != 0)
				goto finish;
			done = end;
			if (method == KNN_METHOD_AUTO && !tree_pays(&counters, n_points, dim))
			{
				knn_tree_free(tree);
				tree = NULL;
			}
		}
	}
	if (done < n_queries &&
		knn_brute_search(points, n_points, queries + (size_t) done * dim, n_queries - done,
						 dim, k, query_self_index ? query_self_index + done : NULL,
						 neighbours + (size_t) done * k,
						 distances ? distances + (size_t) done * k : NULL,
						 &stats->exact_fallbacks, st) != 0)
		goto finish;
	rc = 0;

finish:
	knn_tree_free(tree);
	stats->tree_queries = counters.queries;
	stats->brute_queries = n_queries - counters.queries;
	stats->exact_fallbacks += counters.exact_searches;
	stats->tree_nodes = counters.nodes;
	stats->tree_bounds = counters.bounds;
	stats->tree_distances = counters.distances;
	return rc;
}

int
knn_search_with_stats(const float *points, int64_t n_points,
					  const float *queries, int64_t n_queries,
					  int dim, int k, const int64_t *query_self_index,
					  int64_t *neighbours, float *distances,
					  knn_stats *stats, ecg_status *st)
{
	return knn_search_using(KNN_METHOD_AUTO, points, n_points, queries, n_queries, dim, k,
							query_self_index, neighbours, distances, stats, st);
}

int
knn_search(const float *points, int64_t n_points, const float *queries, int64_t n_queries,
		   int dim, int k, const int64_t *query_self_index,
		   int64_t *neighbours, float *distances, ecg_status *st)
{
	return knn_search_with_stats(points, n_points, queries, n_queries, dim, k,
								 query_self_index, neighbours, distances, NULL, st);
}
