/*
 * oversample.h - random oversampling, SMOTE and ADASYN with the semantics of
 * imbalanced-learn 0.10/0.11 (RandomOverSampler, SMOTE, ADASYN with their
 * defaults: sampling_strategy 'auto' or an explicit per-class target,
 * k_neighbors / n_neighbors = 5, no shrinkage).
 *
 * Input: n rows of dim floats (row-major), stored in id order, and a parallel
 * array of class labels 0..n_classes-1.  Output: only the NEW rows, each
 * described by (label, base row, partner row, step) plus, optionally, its
 * vector.  Every new vector is
 *
 *     new[j] = (float) ((double) base[j] + (double) step * (double) (partner[j] - base[j]))
 *
 * where partner[j] - base[j] is a float subtraction, as imbalanced-learn
 * computes it for float32 data; oversample_interpolate() evaluates exactly
 * that (the product of two floats is exact in double, so the result does not
 * depend on FMA contraction).  step is a float in [0, 1).
 *
 * Sampling strategy
 *   'auto' (targets == NULL): every class except the majority is raised to the
 *   majority's count (when several classes share the largest count, they all
 *   stay as they are).  Explicit: targets[c] is the wanted final count of
 *   class c, or -1 to leave it alone; a target below the current count, or
 *   above 0 for a class with no row, is ECG_ERR_ARGUMENT.  Data with fewer
 *   than two distinct classes is ECG_ERR_ARGUMENT, as in imbalanced-learn.
 *
 * Methods (classes processed in ascending order; classes with nothing to
 * generate are skipped entirely, so they need no minimum size)
 *   RANDOM: each new row copies a row of its class drawn uniformly with
 *     replacement: base = partner = that row, step = 0.
 *   SMOTE: the k nearest neighbours of every row of the class among the rows
 *     of the same class, itself excluded (needs > k rows, else
 *     ECG_ERR_ARGUMENT naming the class and its size).  Each new row draws a
 *     pair uniformly from the class's n_class * k (row, neighbour) pairs and
 *     a step u ~ U[0,1).  New rows come in drawing order.
 *   ADASYN: for each row of the class, the k nearest neighbours among ALL
 *     rows (itself excluded); ratio = fraction of them in another class;
 *     ratios normalised to sum 1 (numpy's pairwise summation, to round
 *     alike); the row's count of new rows = rint(ratio * deficit) with
 *     round-half-to-even, so a class may end a few rows off its target,
 *     exactly as in imbalanced-learn.  All ratios 0, or all counts 0, is
 *     ECG_ERR_DATA (imbalanced-learn raises too).  The class needs > k rows.
 *     New rows come grouped by base row in row order; each picks its partner
 *     uniformly among the base's k nearest same-class neighbours and a step
 *     u ~ U[0,1).
 *
 * Randomness: rng.h streams derived from the seed and the class, so results
 * are identical for a given seed and input (but not the same numbers as
 * numpy's generator: counts and neighbour sets match imbalanced-learn, the
 * individual draws do not).
 *
 * Memory: oversample_run() estimates its work memory (k-NN work, neighbour
 * tables, output arrays) and calls ecg_check_memory() before allocating.
 * It calls ecg_check_interrupts() in its long loops.
 */
#ifndef ECG_OVERSAMPLE_H
#define ECG_OVERSAMPLE_H

#include <stdbool.h>
#include <stdint.h>

#include "ecg_core.h"

#define OVERSAMPLE_MAX_CLASSES 64
#define OVERSAMPLE_DEFAULT_K 5

typedef enum oversample_method
{
	OVERSAMPLE_RANDOM = 0,
	OVERSAMPLE_SMOTE,
	OVERSAMPLE_ADASYN
} oversample_method;

typedef struct oversample_params
{
	oversample_method method;
	int			n_classes;		/* labels are 0..n_classes-1; 2..OVERSAMPLE_MAX_CLASSES */
	int			k_neighbors;	/* SMOTE and ADASYN: 1..KNN_MAX_K (default 5) */
	uint64_t	seed;
	/* NULL = 'auto'; else n_classes wanted final counts, -1 = leave as is */
	const int64_t *targets;
	bool		want_vectors;	/* fill result.vectors (else NULL) */
} oversample_params;

/* Fills *p with the defaults: SMOTE, 5 neighbours, seed 0, 'auto', vectors. */
void		oversample_params_init(oversample_params *p, int n_classes);

typedef struct oversample_result
{
	int			n_classes;
	int			dim;
	int64_t		count_before[OVERSAMPLE_MAX_CLASSES];	/* rows per class in the input */
	int64_t		target[OVERSAMPLE_MAX_CLASSES];	/* final count asked for */
	int64_t		generated[OVERSAMPLE_MAX_CLASSES];	/* new rows per class */
	int64_t		count_after[OVERSAMPLE_MAX_CLASSES];	/* count_before + generated */

	int64_t		n_new;			/* number of new rows */
	int		   *label;			/* n_new class labels */
	int64_t    *base;			/* n_new input row indices */
	int64_t    *partner;		/* n_new input row indices */
	float	   *step;			/* n_new steps in [0, 1) */
	float	   *vectors;		/* n_new x dim, or NULL */

	/* ADASYN only (else NULL): for each input row, the number of new rows
	 * based on it (0 for rows of classes that were not oversampled). */
	int64_t    *row_counts;
} oversample_result;

/* Zeroes *r (safe to free afterwards). */
void		oversample_result_init(oversample_result *r);
/* Frees the arrays of *r (ecg_free) and re-initialises it. */
void		oversample_result_free(oversample_result *r);

/*
 * Runs the method of *p on rows/labels.  *out must be initialised (or freed)
 * by the caller; on success it holds the new rows, on failure it is left
 * initialised (nothing to free).  Returns 0, or -1 with *st set.
 */
int			oversample_run(const float *rows, const int *labels, int64_t n, int dim,
						   const oversample_params *p, oversample_result *out,
						   ecg_status *st);

/* new = base + step * (partner - base), evaluated as described above. */
void		oversample_interpolate(const float *base, const float *partner, float step,
								   int dim, float *out);

/* The same for columns that may be NULL (NAN), such as the R-R features:
 * where base[j] or partner[j] is NAN, out[j] = base[j] (the new row takes its
 * base row's value, NULL included); elsewhere as oversample_interpolate. */
void		oversample_interpolate_nullable(const float *base, const float *partner, float step,
											int dim, float *out);

/*
 * Building blocks, exposed for the glue's diagnostics and for tests.
 *
 * Per-class counts of labels (0..n_classes-1; any other label is
 * ECG_ERR_DATA naming the row).
 */
int			oversample_count_classes(const int *labels, int64_t n, int n_classes,
									 int64_t *counts, ecg_status *st);

/* The number of new rows per class under the strategy (targets NULL = 'auto'),
 * with the validation described above. */
int			oversample_plan(const int64_t *counts, int n_classes, const int64_t *targets,
							int64_t *to_generate, ecg_status *st);

/* ADASYN's per-row counts from each row's number of other-class neighbours
 * (0..k) and the class deficit: rint(((c_i/k) / sum_j (c_j/k)) * deficit).
 * Returns 0, or -1 (ECG_ERR_DATA) when every c_i is 0. */
int			oversample_adasyn_counts(const int *other_class_neighbours, int64_t n_class,
									 int k, int64_t deficit, int64_t *counts,
									 ecg_status *st);

#endif
