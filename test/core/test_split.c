/* Unit tests for train/test assignment (src/core/split.c). */
#include <string.h>

#include "unit.h"
#include "split.h"

#define N 1000

static void
make_labels(int *labels)
{
	/* 700 / 200 / 63 / 30 / 7 rows of classes 0..4, interleaved */
	static const int counts[5] = {700, 200, 63, 30, 7};
	int			k = 0;

	for (int c = 0; c < 5; c++)
		for (int i = 0; i < counts[c]; i++)
			labels[k++] = c;
	for (int i = 0; i < N; i++)
	{
		int			j = (i * 7919) % N;
		int			t = labels[i];

		labels[i] = labels[j];
		labels[j] = t;
	}
}

static void
test_stratified_proportions(void)
{
	int			labels[N];
	uint8_t		is_test[N];
	ecg_status	st;
	int			total[5] = {0}, test[5] = {0};

	make_labels(labels);
	CHECK(split_stratified(labels, N, 5, 0.2, 42, is_test, &st) == 0);
	for (int i = 0; i < N; i++)
	{
		total[labels[i]]++;
		test[labels[i]] += is_test[i];
	}
	CHECK(test[0] == 140);
	CHECK(test[1] == 40);
	CHECK(test[2] == 13);			/* round(12.6) */
	CHECK(test[3] == 6);
	CHECK(test[4] == 1);			/* round(1.4) */
}

static void
test_same_seed_same_split(void)
{
	int			labels[N];
	uint8_t		a[N], b[N];
	ecg_status	st;

	make_labels(labels);
	CHECK(split_stratified(labels, N, 5, 0.3, 7, a, &st) == 0);
	CHECK(split_stratified(labels, N, 5, 0.3, 7, b, &st) == 0);
	CHECK(memcmp(a, b, N) == 0);
	CHECK(split_stratified(labels, N, 5, 0.3, 8, b, &st) == 0);
	CHECK(memcmp(a, b, N) != 0);
	CHECK(split_random(N, 0.3, 7, a, &st) == 0);
	CHECK(split_random(N, 0.3, 7, b, &st) == 0);
	CHECK(memcmp(a, b, N) == 0);
}

static void
test_random_count(void)
{
	uint8_t		is_test[N];
	ecg_status	st;
	int			count = 0;

	CHECK(split_random(N, 0.25, 1, is_test, &st) == 0);
	for (int i = 0; i < N; i++)
		count += is_test[i];
	CHECK(count == 250);
}

static void
test_bad_arguments(void)
{
	int			labels[3] = {0, 1, 5};
	uint8_t		is_test[3];
	ecg_status	st;

	CHECK(split_random(3, 0.0, 1, is_test, &st) == -1 && st.kind == ECG_ERR_ARGUMENT);
	CHECK(split_random(3, 1.0, 1, is_test, &st) == -1);
	CHECK(split_stratified(labels, 3, 5, 0.5, 1, is_test, &st) == -1 && st.kind == ECG_ERR_ARGUMENT);
	CHECK(strstr(st.message, "out of range") != NULL);
}

static void
test_inter_patient_lists(void)
{
	CHECK(split_inter_patient_side("101") == 0);
	CHECK(split_inter_patient_side("230") == 0);
	CHECK(split_inter_patient_side("100") == 1);
	CHECK(split_inter_patient_side("234") == 1);
	CHECK(split_inter_patient_side("102") == -1);
	CHECK(split_inter_patient_side("104") == -1);
	CHECK(split_inter_patient_side("107") == -1);
	CHECK(split_inter_patient_side("217") == -1);
	CHECK(split_inter_patient_side(NULL) == -1);
}

int
main(void)
{
	RUN_TEST(test_stratified_proportions);
	RUN_TEST(test_same_seed_same_split);
	RUN_TEST(test_random_count);
	RUN_TEST(test_bad_arguments);
	RUN_TEST(test_inter_patient_lists);
	UNIT_EXIT();
}
