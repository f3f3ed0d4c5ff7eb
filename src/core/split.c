/*
 * split.c - stratified, random and inter-patient train/test assignment.
 */
#include "split.h"

#include <math.h>
#include <string.h>

#include "rng.h"

static int
check_fraction(double test_fraction, ecg_status *st)
{
	if (!(test_fraction > 0.0 && test_fraction < 1.0))
	{
		ecg_fail(st, ECG_ERR_ARGUMENT, "test fraction must be between 0 and 1 (exclusive)");
		return ecg_fail_detail(st, "The fraction given was %g.", test_fraction);
	}
	return 0;
}

/* Marks `take` of the n indices in `items` (shuffled with rng) as test rows. */
static void
mark_first_after_shuffle(rng_state *rng, int64_t *items, int64_t n, int64_t take, uint8_t *is_test)
{
	rng_shuffle_i64(rng, items, (uint64_t) n);
	for (int64_t i = 0; i < take; i++)
		is_test[items[i]] = 1;
}

int
split_stratified(const int *labels, int64_t n, int n_classes, double test_fraction,
				 uint64_t seed, uint8_t *is_test, ecg_status *st)
{
	int64_t    *members;

	if (check_fraction(test_fraction, st) != 0)
		return -1;
	if (n_classes < 1)
		return ecg_fail(st, ECG_ERR_ARGUMENT, "number of classes must be positive");
	for (int64_t i = 0; i < n; i++)
		if (labels[i] < 0 || labels[i] >= n_classes)
		{
			ecg_fail(st, ECG_ERR_ARGUMENT, "label %d is out of range", labels[i]);
			return ecg_fail_detail(st, "Labels must lie in 0..%d; row %lld has %d.",
								   n_classes - 1, (long long) i, labels[i]);
		}
	members = ecg_alloc_array(n > 0 ? (size_t) n : 1, sizeof(int64_t));
	if (members == NULL)
		return ecg_fail(st, ECG_ERR_NOMEM, "out of memory for a split of %lld rows", (long long) n);
	memset(is_test, 0, (size_t) n);
	for (int c = 0; c < n_classes; c++)
	{
		int64_t		count = 0;
		rng_state	rng;

		for (int64_t i = 0; i < n; i++)
			if (labels[i] == c)
				members[count++] = i;
		/* one stream per class: a class's draw does not depend on the others */
		rng_seed_stream(&rng, seed, (uint64_t) c);
		mark_first_after_shuffle(&rng, members, count,
								 (int64_t) llround((double) count * test_fraction), is_test);
	}
	ecg_free(members);
	return 0;
}

int
split_random(int64_t n, double test_fraction, uint64_t seed, uint8_t *is_test, ecg_status *st)
{
	int64_t    *members;
	rng_state	rng;

	if (check_fraction(test_fraction, st) != 0)
		return -1;
	members = ecg_alloc_array(n > 0 ? (size_t) n : 1, sizeof(int64_t));
	if (members == NULL)
		return ecg_fail(st, ECG_ERR_NOMEM, "out of memory for a split of %lld rows", (long long) n);
	memset(is_test, 0, (size_t) n);
	for (int64_t i = 0; i < n; i++)
		members[i] = i;
	rng_seed(&rng, seed);
	mark_first_after_shuffle(&rng, members, n, (int64_t) llround((double) n * test_fraction), is_test);
	ecg_free(members);
	return 0;
}

static const char *const inter_patient_ds1[] = {
	"101", "106", "108", "109", "112", "114", "115", "116", "118", "119", "122",
	"124", "201", "203", "205", "207", "208", "209", "215", "220", "223", "230"
};
static const char *const inter_patient_ds2[] = {
	"100", "103", "105", "111", "113", "117", "121", "123", "200", "202", "210",
	"212", "213", "214", "219", "221", "222", "228", "231", "232", "233", "234"
};

static int
in_list(const char *record, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(record, list[i]) == 0)
			return 1;
	return 0;
}

int
split_inter_patient_side(const char *record)
{
	if (record == NULL)
		return -1;
	if (in_list(record, inter_patient_ds1, sizeof(inter_patient_ds1) / sizeof(*inter_patient_ds1)))
		return 0;
	if (in_list(record, inter_patient_ds2, sizeof(inter_patient_ds2) / sizeof(*inter_patient_ds2)))
		return 1;
	return -1;
}
