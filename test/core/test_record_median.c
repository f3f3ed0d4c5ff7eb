/* Unit tests for the per-record median beat (src/core/record_median.c):
 * hand-computed cases, then the selection checked against sorting. */
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "record_median.h"

/* Odd and even counts, duplicates, negative values. */
static void
test_median_by_hand(void)
{
	/* three beats of two samples: medians 2 and -1 */
	const float odd[] = {3, -1, 1, 5, 2, -7};
	/* four beats of one sample: (1 + 2) / 2 */
	const float even[] = {2, 9, 1, -4};
	/* ties: 5 5 5 1 -> (5 + 5) / 2 */
	const float ties[] = {5, 5, 1, 5};
	float		m[2],
				scratch[4];

	beats_median(odd, 3, 2, m, scratch);
	CHECK(m[0] == 2.0f && m[1] == -1.0f);
	beats_median(even, 4, 1, m, scratch);
	CHECK(m[0] == 1.5f);
	beats_median(ties, 4, 1, m, scratch);
	CHECK(m[0] == 5.0f);
	beats_median(even, 1, 1, m, scratch);
	CHECK(m[0] == 2.0f);
}

static int
cmp_float(const void *a, const void *b)
{
	float		x = *(const float *) a,
				y = *(const float *) b;

	return (x > y) - (x < y);
}

/* Quickselect against qsort on many random arrays, few distinct values
 * among them (the hard case for a partition). */
static void
test_median_matches_sorting(void)
{
	enum
	{
		MAX_N = 57
	};
	float		v[MAX_N],
				sorted[MAX_N],
				scratch[MAX_N],
				m;
	uint32_t	x = 12345;
	int			bad = 0;

	for (int trial = 0; trial < 2000; trial++)
	{
		int			n = 1 + trial % MAX_N;
		int			distinct = 1 + (trial / MAX_N) % 7;
		float		want;

		for (int i = 0; i < n; i++)
		{
			x = x * 1664525u + 1013904223u;
			v[i] = (float) ((x >> 16) % (uint32_t) distinct) - 2.5f;
		}
		memcpy(sorted, v, sizeof(float) * n);
		qsort(sorted, n, sizeof(float), cmp_float);
		want = n % 2 ? sorted[n / 2] : (float) (((double) sorted[n / 2 - 1] + sorted[n / 2]) / 2);
		beats_median(v, (size_t) n, 1, &m, scratch);
		bad += m != want;
	}
	CHECK_MSG(bad == 0, "%d of 2000 medians differ from sorting", bad);
}

/* Two records interleaved: each beat loses its own record's median beat. */
static void
test_subtract_by_group(void)
{
	/* beats of 2 samples; group 0: rows 0, 2, 4; group 1: rows 1, 3 */
	float		s[] = {1, 10, 100, 0, 2, 20, 300, 0, 3, 60};
	const int32_t group[] = {0, 1, 0, 1, 0};
	/* medians: group 0 (2, 20), group 1 (200, 0) */
	const float want[] = {-1, -10, -100, 0, 0, 0, 100, 0, 1, 40};
	float		med[3 * 2];
	ecg_status	st;

	CHECK(beats_subtract_group_median(s, 5, 2, group, 3, med, &st) == 0);
	for (int i = 0; i < 10; i++)
		CHECK_MSG(s[i] == want[i], "s[%d] = %g, want %g", i, s[i], want[i]);
	CHECK(med[0] == 2 && med[1] == 20 && med[2] == 200 && med[3] == 0);
	CHECK(med[4] == 0 && med[5] == 0);	/* group 2 has no beats */
	/* a record's beats all equal: every beat becomes zero */
	{
		float		same[] = {4, 5, 4, 5};
		const int32_t one[] = {0, 0};

		CHECK(beats_subtract_group_median(same, 2, 2, one, 1, NULL, &st) == 0);
		CHECK(same[0] == 0 && same[1] == 0 && same[2] == 0 && same[3] == 0);
	}
	/* no beats: nothing to do */
	CHECK(beats_subtract_group_median(s, 0, 2, group, 1, NULL, &st) == 0);
}

static void
test_bad_input(void)
{
	float		s[] = {1, 2, 3, 4};
	const float copy[] = {1, 2, 3, 4};
	int32_t		group[] = {0, 2};
	ecg_status	st;

	CHECK(beats_subtract_group_median(s, 2, 2, group, 2, NULL, &st) != 0);
	CHECK(st.kind == ECG_ERR_ARGUMENT && strstr(st.message, "group 2") != NULL);
	group[1] = -1;
	CHECK(beats_subtract_group_median(s, 2, 2, group, 2, NULL, &st) != 0);
	CHECK(st.kind == ECG_ERR_ARGUMENT);
	group[1] = 0;
	s[3] = NAN;
	CHECK(beats_subtract_group_median(s, 2, 2, group, 1, NULL, &st) != 0);
	CHECK(st.kind == ECG_ERR_ARGUMENT && strstr(st.message, "not finite") != NULL);
	CHECK(s[0] == 1 && s[1] == 2 && s[2] == 3);	/* untouched on failure */
	s[3] = 4;
	CHECK(memcmp(s, copy, sizeof(s)) == 0);
}

int
main(void)
{
	RUN_TEST(test_median_by_hand);
	RUN_TEST(test_median_matches_sorting);
	RUN_TEST(test_subtract_by_group);
	RUN_TEST(test_bad_input);
	UNIT_EXIT();
}
