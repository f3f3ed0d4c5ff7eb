/*
 * oversample.c - random oversampling, SMOTE and ADASYN with imbalanced-learn's
 * semantics (see oversample.h for the contract).
 */
#include "oversample.h"

#include <math.h>
#include <string.h>

#include "knn.h"
#include "rng.h"

/* numpy reduces a contiguous float64 array in buffers of this many elements,
 * summing each buffer pairwise and the buffer sums one after another. */
#define NUMPY_REDUCE_BUFFER 8192
/* numpy's pairwise summation: blocks up to this size are summed with eight
 * interleaved accumulators. */
#define NUMPY_PAIRWISE_BLOCK 128

/* Rows between two interrupt checks in generation loops. */
#define ROWS_PER_INTERRUPT_CHECK 4096

static const char *const method_names[] = {"random", "SMOTE", "ADASYN"};

void
oversample_params_init(oversample_params *p, int n_classes)
{
	memset(p, 0, sizeof(*p));
	p->method = OVERSAMPLE_SMOTE;
	p->n_classes = n_classes;
	p->k_neighbors = OVERSAMPLE_DEFAULT_K;
	p->seed = 0;
	p->targets = NULL;
	p->want_vectors = true;
}

void
oversample_result_init(oversample_result *r)
{
	memset(r, 0, sizeof(*r));
}

void
oversample_result_free(oversample_result *r)
{
	ecg_free(r->label);
	ecg_free(r->base);
	ecg_free(r->partner);
	ecg_free(r->step);
	ecg_free(r->vectors);
	ecg_free(r->row_counts);
	oversample_result_init(r);
}

void
oversample_interpolate(const float *base, const float *partner, float step, int dim, float *out)
{
	for (int j = 0; j < dim; j++)
	{
		/* float difference, as numpy subtracts two float32 rows */
		float		diff = partner[j] - base[j];

		/* float x float is exact in double: no FMA can change the result */
		out[j] = (float) ((double) base[j] + (double) step * (double) diff);
	}
}

void
oversample_interpolate_nullable(const float *base, const float *partner, float step, int dim,
								float *out)
{
	for (int j = 0; j < dim; j++)
	{
		if (isnan(base[j]) || isnan(partner[j]))
			out[j] = base[j];
		else
			oversample_interpolate(base + j, partner + j, step, 1, out + j);
	}
}

/* A step uniform on [0, 1): 24 random bits, so it is exactly a float. */
static float
draw_step(rng_state *rng)
{
	return (float) ((double) (rng_next(rng) >> 40) * (1.0 / 16777216.0));
}

/* ---------------------------------------------------------------------- */
/* Counting and planning */

int
oversample_count_classes(const int *labels, int64_t n, int n_classes, int64_t *counts,
						 ecg_status *st)
{
	for (int c = 0; c < n_classes; c++)
		counts[c] = 0;
	for (int64_t i = 0; i < n; i++)
	{
		if (labels[i] < 0 || labels[i] >= n_classes)
		{
			ecg_fail(st, ECG_ERR_DATA, "oversampling: label %d of row %lld is out of range",
					 labels[i], (long long) i);
			return ecg_fail_detail(st, "labels must be 0..%d", n_classes - 1);
		}
		counts[labels[i]]++;
	}
	return 0;
}

int
oversample_plan(const int64_t *counts, int n_classes, const int64_t *targets,
				int64_t *to_generate, ecg_status *st)
{
	int			present = 0,
				majority = -1;

	for (int c = 0; c < n_classes; c++)
	{
		if (counts[c] > 0)
			present++;
		/* the first class with the largest count, like imbalanced-learn */
		if (counts[c] > 0 && (majority < 0 || counts[c] > counts[majority]))
			majority = c;
		to_generate[c] = 0;
	}
	if (present < 2)
	{
		ecg_fail(st, ECG_ERR_ARGUMENT, "oversampling needs at least two classes, the data has %d",
				 present);
		if (majority >= 0)
			ecg_fail_detail(st, "every row is of class %d", majority);
		return -1;
	}
	for (int c = 0; c < n_classes; c++)
	{
		if (targets == NULL)
		{
			if (counts[c] > 0 && c != majority)
				to_generate[c] = counts[majority] - counts[c];
			continue;
		}
		if (targets[c] == -1)
			continue;
		if (targets[c] < 0)
			return ecg_fail(st, ECG_ERR_ARGUMENT,
							"oversampling target of class %d is negative (%lld); use -1 to leave it alone",
							c, (long long) targets[c]);
		if (targets[c] < counts[c])
		{
			ecg_fail(st, ECG_ERR_ARGUMENT,
					 "oversampling target of class %d is below its current count", c);
			return ecg_fail_detail(st, "class %d has %lld rows, target %lld; oversampling only adds rows",
								   c, (long long) counts[c], (long long) targets[c]);
		}
		if (counts[c] == 0 && targets[c] > 0)
			return ecg_fail(st, ECG_ERR_ARGUMENT,
							"oversampling target %lld for class %d, which has no row",
							(long long) targets[c], c);
		to_generate[c] = targets[c] - counts[c];
	}
	return 0;
}

/* numpy's pairwise sum of n doubles (n >= 0). */
static double
pairwise_sum(const double *a, int64_t n)
{
	if (n < 8)
	{
		double		res = 0.0;

		for (int64_t i = 0; i < n; i++)
			res += a[i];
		return res;
	}
	if (n <= NUMPY_PAIRWISE_BLOCK)
	{
		double		r[8];
		int64_t		i;
		double		res;

		for (int j = 0; j < 8; j++)
			r[j] = a[j];
		for (i = 8; i < n - (n % 8); i += 8)
			for (int j = 0; j < 8; j++)
				r[j] += a[i + j];
		res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
		for (; i < n; i++)
			res += a[i];
		return res;
	}
	else
	{
		int64_t		half = n / 2;

		half -= half % 8;
		return pairwise_sum(a, half) + pairwise_sum(a + half, n - half);
	}
}

/* np.sum of a contiguous float64 array, to the last bit. */
static double
numpy_sum(const double *a, int64_t n)
{
	double		total = 0.0;

	for (int64_t i = 0; i < n; i += NUMPY_REDUCE_BUFFER)
		total += pairwise_sum(a + i, n - i < NUMPY_REDUCE_BUFFER ? n - i : NUMPY_REDUCE_BUFFER);
	return total;
}

int
oversample_adasyn_counts(const int *other_class_neighbours, int64_t n_class, int k,
						 int64_t deficit, int64_t *counts, ecg_status *st)
{
	double	   *ratio;
	double		total;

	if (n_class <= 0 || k < 1 || deficit < 0)
		return ecg_fail(st, ECG_ERR_ARGUMENT,
						"ADASYN counts: bad arguments (%lld rows, k = %d, deficit %lld)",
						(long long) n_class, k, (long long) deficit);
	ratio = ecg_alloc_array((size_t) n_class, sizeof(double));
	if (ratio == NULL)
		return ecg_fail(st, ECG_ERR_NOMEM, "ADASYN counts: out of memory for %lld rows",
						(long long) n_class);
	for (int64_t i = 0; i < n_class; i++)
		ratio[i] = (double) other_class_neighbours[i] / (double) k;
	total = numpy_sum(ratio, n_class);
	if (total == 0.0)
	{
		ecg_free(ratio);
		ecg_fail(st, ECG_ERR_DATA,
				 "ADASYN: no row of the class has a neighbour of another class");
		return ecg_fail_detail(st, "all %lld rows have only same-class rows among their %d nearest neighbours; use SMOTE instead",
							   (long long) n_class, k);
	}
	for (int64_t i = 0; i < n_class; i++)
	{
		/* rint rounds half to even in the default rounding mode, as numpy */
		counts[i] = (int64_t) rint((ratio[i] / total) * (double) deficit);
	}
	ecg_free(ratio);
	return 0;
}

/* ---------------------------------------------------------------------- */
/* The run */

typedef struct class_rows
{
	int64_t		n;				/* rows of the class */
	int64_t    *index;			/* their input row indices, ascending */
	float	   *x;				/* their vectors, gathered */
} class_rows;

static int
validate_params(const float *rows, const int *labels, int64_t n, int dim,
				const oversample_params *p, ecg_status *st)
{
	if (p == NULL)
		return ecg_fail(st, ECG_ERR_ARGUMENT, "oversampling: no parameters");
	if ((int) p->method < OVERSAMPLE_RANDOM || (int) p->method > OVERSAMPLE_ADASYN)
		return ecg_fail(st, ECG_ERR_ARGUMENT, "oversampling: unknown method %d", (int) p->method);
	if (p->n_classes < 1 || p->n_classes > OVERSAMPLE_MAX_CLASSES)
		return ecg_fail(st, ECG_ERR_ARGUMENT, "oversampling: number of classes must be 1..%d, got %d",
						OVERSAMPLE_MAX_CLASSES, p->n_classes);
	if (p->method != OVERSAMPLE_RANDOM && (p->k_neighbors < 1 || p->k_neighbors > KNN_MAX_K))
		return ecg_fail(st, ECG_ERR_ARGUMENT, "%s: k_neighbors must be 1..%d, got %d",
						method_names[p->method], KNN_MAX_K, p->k_neighbors);
	if (n < 0 || dim < 1)
		return ecg_fail(st, ECG_ERR_ARGUMENT, "oversampling: bad shape (%lld rows of dimension %d)",
						(long long) n, dim);
	if (n > 0 && (rows == NULL || labels == NULL))
		return ecg_fail(st, ECG_ERR_ARGUMENT, "oversampling: missing rows or labels");
	if ((uint64_t) n > (uint64_t) (SIZE_MAX / 8) / (uint64_t) dim)
		return ecg_fail(st, ECG_ERR_NOMEM, "oversampling: %lld rows of dimension %d are too many",
						(long long) n, dim);
	return 0;
}

/* Upper bound of the work memory, for ecg_check_memory(). */
static size_t
estimate_memory(const oversample_params *p, int64_t n, int dim, const int64_t *counts,
				const int64_t *to_generate, int64_t max_new)
{
	size_t		k = (size_t) (p->method == OVERSAMPLE_RANDOM ? 0 : p->k_neighbors);
	int64_t		largest = 0;
	size_t		total = 0;
	size_t		per_new = sizeof(int) + 2 * sizeof(int64_t) + sizeof(float) +
		(p->want_vectors ? (size_t) dim * sizeof(float) : 0);
	double		approx;
	int64_t		oversampled = 0;

	for (int c = 0; c < p->n_classes; c++)
		if (to_generate[c] > 0)
		{
			oversampled += counts[c];
			if (counts[c] > largest)
				largest = counts[c];
		}
	/* computed in double to stay clear of overflow, then saturated */
	approx = (double) largest * (double) (8 + 4 * (size_t) dim + 8 * k + 8) +
		(double) max_new * (double) per_new;
	/* ADASYN: one search for the rows of every oversampled class (their
	 * copy, self indices and neighbours) */
	if (p->method == OVERSAMPLE_ADASYN)
		approx += (double) knn_work_bytes(n, dim, (int) k) + 8.0 * (double) n +
			(double) oversampled * (double) (4 * (size_t) dim + 8 * k + 8);
	else if (p->method == OVERSAMPLE_SMOTE)
		approx += (double) knn_work_bytes(largest, dim, (int) k);
	total = approx >= (double) SIZE_MAX ? SIZE_MAX : (size_t) approx;
	return total;
}

/* Gathers the rows of class c (their indices ascending, their vectors). */
static void
gather_class(const float *rows, const int *labels, int64_t n, int dim, int c, class_rows *cr)
{
	int64_t		m = 0;

	for (int64_t i = 0; i < n; i++)
		if (labels[i] == c)
		{
			cr->index[m] = i;
			memcpy(cr->x + (size_t) m * dim, rows + (size_t) i * dim, sizeof(float) * (size_t) dim);
			m++;
		}
	cr->n = m;
}

/* Within-class k nearest neighbours of every row of the class, itself
 * excluded, as local (class) indices. */
static int
class_neighbours(const class_rows *cr, int dim, int k, int64_t *nn, int64_t *scratch_self,
				 ecg_status *st)
{
	for (int64_t i = 0; i < cr->n; i++)
		scratch_self[i] = i;
	return knn_search(cr->x, cr->n, cr->x, cr->n, dim, k, scratch_self, nn, NULL, st);
}

static int
class_too_small(const oversample_params *p, int c, int64_t size, ecg_status *st)
{
	ecg_fail(st, ECG_ERR_ARGUMENT, "%s: class %d has %lld rows, needs at least %d (k_neighbors + 1)",
			 method_names[p->method], c, (long long) size, p->k_neighbors + 1);
	return ecg_fail_detail(st, "k_neighbors = %d; lower it or use random oversampling",
						   p->k_neighbors);
}

/* The rows of every class with rows to generate, in row order, with their
 * k nearest neighbours among ALL rows (themselves excluded): one search,
 * so the k-NN index over all rows is built once. */
typedef struct adasyn_rows
{
	int64_t		n;				/* rows of the oversampled classes */
	int64_t    *index;			/* their input row indices, ascending */
	float	   *x;				/* their vectors */
	int64_t    *nn;				/* n x k neighbour row indices */
} adasyn_rows;

static void
adasyn_rows_free(adasyn_rows *ar)
{
	ecg_free(ar->index);
	ecg_free(ar->x);
	ecg_free(ar->nn);
	memset(ar, 0, sizeof(*ar));
}

static int
adasyn_neighbours(const float *rows, const int *labels, int64_t n, int dim, int k,
				  const int64_t *to_generate, int64_t n_oversampled, adasyn_rows *ar,
				  ecg_status *st)
{
	size_t		m = (size_t) (n_oversampled > 0 ? n_oversampled : 1);

	ar->index = ecg_alloc_array(m, sizeof(int64_t));
	ar->x = ecg_alloc_array(m * (size_t) dim, sizeof(float));
	ar->nn = ecg_alloc_array(m * (size_t) k, sizeof(int64_t));
	if (!ar->index || !ar->x || !ar->nn)
	{
		ecg_fail(st, ECG_ERR_NOMEM, "ADASYN: out of memory for the neighbour search");
		return ecg_fail_detail(st, "%lld rows of dimension %d, k = %d",
							   (long long) n_oversampled, dim, k);
	}
	ar->n = 0;
	for (int64_t i = 0; i < n; i++)
		if (to_generate[labels[i]] > 0)
		{
			ar->index[ar->n] = i;
			memcpy(ar->x + (size_t) ar->n * dim, rows + (size_t) i * dim,
				   sizeof(float) * (size_t) dim);
			ar->n++;
			if ((ar->n % ROWS_PER_INTERRUPT_CHECK) == 0)
				ecg_check_interrupts();
		}
	return knn_search(rows, n, ar->x, ar->n, dim, k, ar->index, ar->nn, NULL, st);
}

/*
 * ADASYN's per-row counts of class c: the share of other classes among the
 * k nearest neighbours of each of its rows (from ar), normalised and
 * rounded.  Writes counts into row_counts[input row].
 */
static int
adasyn_class_counts(const int *labels, int c, const class_rows *cr, const adasyn_rows *ar,
					int k, int64_t deficit, int *other, int64_t *local_counts,
					int64_t *row_counts, ecg_status *st)
{
	int64_t		local = 0;

	/* class c's rows appear in ar in the same (ascending) order as in cr */
	for (int64_t a = 0; a < ar->n; a++)
	{
		int			o = 0;

		if (labels[ar->index[a]] != c)
			continue;
		for (int j = 0; j < k; j++)
			o += labels[ar->nn[(size_t) a * k + j]] != c;
		other[local++] = o;
	}
	if (oversample_adasyn_counts(other, cr->n, k, deficit, local_counts, st) != 0)
	{
		ecg_fail_detail(st, "class %d (%lld rows, %lld to generate): all %lld rows have only class-%d rows among their %d nearest neighbours; use SMOTE instead",
						c, (long long) cr->n, (long long) deficit, (long long) cr->n, c, k);
		return -1;
	}
	for (int64_t i = 0; i < cr->n; i++)
		row_counts[cr->index[i]] = local_counts[i];
	return 0;
}

/* Appends one new row to the result. */
static inline void
emit(oversample_result *out, const float *rows, int dim, int label, int64_t base,
	 int64_t partner, float step)
{
	int64_t		r = out->n_new++;

	out->label[r] = label;
	out->base[r] = base;
	out->partner[r] = partner;
	out->step[r] = step;
	if (out->vectors)
		oversample_interpolate(rows + (size_t) base * dim, rows + (size_t) partner * dim, step,
							   dim, out->vectors + (size_t) r * dim);
	if ((out->n_new % ROWS_PER_INTERRUPT_CHECK) == 0)
		ecg_check_interrupts();
}

static int
alloc_output(oversample_result *out, int64_t n_new, int dim, bool want_vectors, ecg_status *st)
{
	size_t		m = (size_t) (n_new > 0 ? n_new : 1);

	out->label = ecg_alloc_array(m, sizeof(int));
	out->base = ecg_alloc_array(m, sizeof(int64_t));
	out->partner = ecg_alloc_array(m, sizeof(int64_t));
	out->step = ecg_alloc_array(m, sizeof(float));
	if (want_vectors)
		out->vectors = ecg_alloc_array(m * (size_t) dim, sizeof(float));
	if (!out->label || !out->base || !out->partner || !out->step ||
		(want_vectors && !out->vectors))
	{
		ecg_fail(st, ECG_ERR_NOMEM, "oversampling: out of memory for the new rows");
		return ecg_fail_detail(st, "%lld new rows of dimension %d", (long long) n_new, dim);
	}
	return 0;
}

/* Generates the new rows of class c. */
static int
generate_class(const float *rows, int dim, const oversample_params *p, int c,
			   const class_rows *cr, int64_t to_generate, const int64_t *nn,
			   const int64_t *row_counts, oversample_result *out, ecg_status *st)
{
	int			k = p->k_neighbors;
	rng_state	rng;

	(void) st;
	/* one stream per class: a class's rows do not depend on the others */
	rng_seed_stream(&rng, p->seed, (uint64_t) c);
	switch (p->method)
	{
		case OVERSAMPLE_RANDOM:
			for (int64_t g = 0; g < to_generate; g++)
			{
				int64_t		row = cr->index[rng_below(&rng, (uint64_t) cr->n)];

				emit(out, rows, dim, c, row, row, 0.0f);
			}
			break;
		case OVERSAMPLE_SMOTE:
			for (int64_t g = 0; g < to_generate; g++)
			{
				/* a (row, neighbour) pair uniformly among n_class * k */
				uint64_t	pair = rng_below(&rng, (uint64_t) cr->n * (uint64_t) k);
				int64_t		local = (int64_t) (pair / (uint64_t) k);
				int64_t		col = (int64_t) (pair % (uint64_t) k);
				float		step = draw_step(&rng);

				emit(out, rows, dim, c, cr->index[local],
					 cr->index[nn[(size_t) local * k + col]], step);
			}
			break;
		case OVERSAMPLE_ADASYN:
			for (int64_t i = 0; i < cr->n; i++)
			{
				int64_t		base = cr->index[i];

				for (int64_t g = 0; g < row_counts[base]; g++)
				{
					int64_t		col = (int64_t) rng_below(&rng, (uint64_t) k);
					float		step = draw_step(&rng);

					emit(out, rows, dim, c, base, cr->index[nn[(size_t) i * k + col]], step);
				}
			}
			break;
	}
	return 0;
}

int
oversample_run(const float *rows, const int *labels, int64_t n, int dim,
			   const oversample_params *p, oversample_result *out, ecg_status *st)
{
	int64_t		counts[OVERSAMPLE_MAX_CLASSES];
	int64_t		to_generate[OVERSAMPLE_MAX_CLASSES];
	int64_t		max_new = 0,
				largest = 0,
				oversampled = 0;
	int			k;
	class_rows	cr = {0, NULL, NULL};
	adasyn_rows ar = {0, NULL, NULL, NULL};
	int64_t    *nn = NULL,
			   *self = NULL,
			   *local_counts = NULL;
	int		   *other = NULL;
	int			rc = -1;

	ecg_status_clear(st);
	if (out == NULL)
		return ecg_fail(st, ECG_ERR_ARGUMENT, "oversampling: no result");
	oversample_result_init(out);
	if (validate_params(rows, labels, n, dim, p, st) != 0)
		return -1;
	k = p->method == OVERSAMPLE_RANDOM ? 1 : p->k_neighbors;
	if (oversample_count_classes(labels, n, p->n_classes, counts, st) != 0 ||
		oversample_plan(counts, p->n_classes, p->targets, to_generate, st) != 0)
		return -1;
	for (int c = 0; c < p->n_classes; c++)
	{
		if (to_generate[c] == 0)
			continue;
		if (p->method != OVERSAMPLE_RANDOM && counts[c] <= k)
			return class_too_small(p, c, counts[c], st);
		/* ADASYN may round up by half a row per row */
		max_new += to_generate[c] + (p->method == OVERSAMPLE_ADASYN ? (counts[c] + 1) / 2 : 0);
		oversampled += counts[c];
		if (counts[c] > largest)
			largest = counts[c];
	}
	if (ecg_check_memory(estimate_memory(p, n, dim, counts, to_generate, max_new),
						 "oversampling", st) != 0)
		return -1;

	out->n_classes = p->n_classes;
	out->dim = dim;
	for (int c = 0; c < p->n_classes; c++)
	{
		out->count_before[c] = counts[c];
		out->target[c] = counts[c] + to_generate[c];
		out->generated[c] = 0;
	}

	cr.index = ecg_alloc_array((size_t) (largest > 0 ? largest : 1), sizeof(int64_t));
	cr.x = ecg_alloc_array((size_t) (largest > 0 ? largest : 1) * (size_t) dim, sizeof(float));
	nn = ecg_alloc_array((size_t) (largest > 0 ? largest : 1) * (size_t) k, sizeof(int64_t));
	self = ecg_alloc_array((size_t) (largest > 0 ? largest : 1), sizeof(int64_t));
	if (!cr.index || !cr.x || !nn || !self)
	{
		ecg_fail(st, ECG_ERR_NOMEM, "oversampling: out of memory");
		ecg_fail_detail(st, "gathering a class of %lld rows of dimension %d",
						(long long) largest, dim);
		goto done;
	}

	/* ADASYN knows its exact total only after the per-row counts */
	if (p->method == OVERSAMPLE_ADASYN)
	{
		out->row_counts = ecg_calloc_array((size_t) (n > 0 ? n : 1), sizeof(int64_t));
		other = ecg_alloc_array((size_t) (largest > 0 ? largest : 1), sizeof(int));
		local_counts = ecg_alloc_array((size_t) (largest > 0 ? largest : 1), sizeof(int64_t));
		if (!out->row_counts || !other || !local_counts)
		{
			ecg_fail(st, ECG_ERR_NOMEM, "ADASYN: out of memory for the per-row counts");
			goto done;
		}
		if (adasyn_neighbours(rows, labels, n, dim, k, to_generate, oversampled, &ar, st) != 0)
			goto done;
		max_new = 0;
		for (int c = 0; c < p->n_classes; c++)
		{
			if (to_generate[c] == 0)
				continue;
			gather_class(rows, labels, n, dim, c, &cr);
			if (adasyn_class_counts(labels, c, &cr, &ar, k, to_generate[c], other, local_counts,
									out->row_counts, st) != 0)
				goto done;
			for (int64_t i = 0; i < cr.n; i++)
				out->generated[c] += local_counts[i];
			if (out->generated[c] == 0)
			{
				ecg_fail(st, ECG_ERR_DATA, "ADASYN: no row would be generated for class %d", c);
				ecg_fail_detail(st, "%lld to generate over %lld rows round to 0 everywhere",
								(long long) to_generate[c], (long long) cr.n);
				goto done;
			}
			max_new += out->generated[c];
		}
		adasyn_rows_free(&ar);
	}
	else
	{
		for (int c = 0; c < p->n_classes; c++)
			out->generated[c] = to_generate[c];
	}

	if (alloc_output(out, max_new, dim, p->want_vectors, st) != 0)
		goto done;
	for (int c = 0; c < p->n_classes; c++)
	{
		if (out->generated[c] == 0)
			continue;
		gather_class(rows, labels, n, dim, c, &cr);
		if (p->method != OVERSAMPLE_RANDOM &&
			class_neighbours(&cr, dim, k, nn, self, st) != 0)
			goto done;
		if (generate_class(rows, dim, p, c, &cr, out->generated[c], nn, out->row_counts,
						   out, st) != 0)
			goto done;
		ecg_check_interrupts();
	}
	for (int c = 0; c < p->n_classes; c++)
		out->count_after[c] = counts[c] + out->generated[c];
	rc = 0;

done:
	ecg_free(cr.index);
	ecg_free(cr.x);
	ecg_free(nn);
	ecg_free(self);
	ecg_free(other);
	ecg_free(local_counts);
	adasyn_rows_free(&ar);
	if (rc != 0)
		oversample_result_free(out);
	return rc;
}
