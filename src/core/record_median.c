/*
 * record_median.c - every beat minus the median beat of its record
 * (record_median.h).
 */
#include "record_median.h"

#include <math.h>
#include <string.h>

static void
swap(float *a, float *b)
{
	float		t = *a;

	*a = *b;
	*b = t;
}

/*
 * The k-th smallest (0-based) of v[0..n-1], reordering v (Hoare's selection
 * with a median-of-three pivot: linear on average, no recursion).
 */
static float
select_kth(float *v, size_t n, size_t k)
{
	size_t		lo = 0,
				hi = n - 1;

	while (lo < hi)
	{
		size_t		mid = lo + (hi - lo) / 2;
		float		pivot;
		size_t		i,
					j;

		/* order v[lo], v[mid], v[hi]; the middle one is the pivot */
		if (v[mid] < v[lo])
			swap(&v[mid], &v[lo]);
		if (v[hi] < v[lo])
			swap(&v[hi], &v[lo]);
		if (v[hi] < v[mid])
			swap(&v[hi], &v[mid]);
		pivot = v[mid];
		i = lo;
		j = hi;
		while (i <= j)
		{
			while (v[i] < pivot)
				i++;
			while (pivot < v[j])
				j--;
			if (i <= j)
			{
				swap(&v[i], &v[j]);
				i++;
				if (j == 0)
					break;
				j--;
			}
		}
		/* now v[lo..j] <= pivot <= v[i..hi], and j < i */
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			return v[k];		/* between j and i: equal to the pivot */
	}
	return v[k];
}

void
beats_median(const float *beats, size_t n, size_t length, float *median, float *scratch)
{
	for (size_t k = 0; k < length; k++)
	{
		float		upper;

		for (size_t i = 0; i < n; i++)
			scratch[i] = beats[i * length + k];
		upper = select_kth(scratch, n, n / 2);
		if (n % 2 == 1)
			median[k] = upper;
		else
		{
			/* the lower middle is the largest of the n/2 values left of it */
			float		lower = scratch[0];

			for (size_t i = 1; i < n / 2; i++)
				if (scratch[i] > lower)
					lower = scratch[i];
			median[k] = (float) (((double) lower + (double) upper) / 2.0);
		}
	}
}

int
beats_subtract_group_median(float *signals, size_t n, size_t length,
							const int32_t *group, size_t n_groups,
							float *medians, ecg_status *st)
{
	size_t	   *start;
	size_t	   *order;
	float	   *rows;
	float	   *scratch;
	float	   *median;
	size_t		values;

	for (size_t i = 0; i < n; i++)
	{
		if (group[i] < 0 || (size_t) group[i] >= n_groups)
			return ecg_fail(st, ECG_ERR_ARGUMENT, "beat %zu: group %d out of range 0..%zu",
							i, (int) group[i], n_groups == 0 ? (size_t) 0 : n_groups - 1);
		for (size_t k = 0; k < length; k++)
			if (!isfinite(signals[i * length + k]))
				return ecg_fail(st, ECG_ERR_ARGUMENT, "beat %zu: sample %zu is not finite", i, k);
	}
	if (medians != NULL && n_groups > 0)
		memset(medians, 0, n_groups * length * sizeof(float));
	if (n == 0)
		return 0;
	if (ecg_size_mul(n, length, &values) != 0)
		return ecg_fail(st, ECG_ERR_NOMEM, "%zu beats of %zu samples overflow a size", n, length);

	/* rows of each group, in row order (a counting sort by group) */
	start = ecg_calloc_array(n_groups + 1, sizeof(size_t));
	order = ecg_alloc_array(n, sizeof(size_t));
	rows = ecg_alloc_array(values, sizeof(float));
	scratch = ecg_alloc_array(n, sizeof(float));
	median = ecg_alloc_array(length > 0 ? length : 1, sizeof(float));
	if (!start || !order || !rows || !scratch || !median)
	{
		ecg_free(start);
		ecg_free(order);
		ecg_free(rows);
		ecg_free(scratch);
		ecg_free(median);
		return ecg_fail(st, ECG_ERR_NOMEM, "no memory for the median beats of %zu beats", n);
	}
	for (size_t i = 0; i < n; i++)
		start[group[i] + 1]++;
	for (size_t g = 0; g < n_groups; g++)
		start[g + 1] += start[g];
	/* fill order[] group by group, start[g] counting up to the group's end */
	for (size_t i = 0; i < n; i++)
		order[start[group[i]]++] = i;
	for (size_t g = n_groups; g > 0; g--)
		start[g] = start[g - 1];
	start[0] = 0;

	for (size_t g = 0; g < n_groups; g++)
	{
		size_t		count = start[g + 1] - start[g];

		if (count == 0)
			continue;
		ecg_check_interrupts();
		for (size_t r = 0; r < count; r++)
			memcpy(rows + r * length, signals + order[start[g] + r] * length, length * sizeof(float));
		beats_median(rows, count, length, median, scratch);
		for (size_t r = 0; r < count; r++)
		{
			float	   *beat = signals + order[start[g] + r] * length;

			for (size_t k = 0; k < length; k++)
				beat[k] -= median[k];
		}
		if (medians != NULL)
			memcpy(medians + g * length, median, length * sizeof(float));
	}
	ecg_free(start);
	ecg_free(order);
	ecg_free(rows);
	ecg_free(scratch);
	ecg_free(median);
	return 0;
}
