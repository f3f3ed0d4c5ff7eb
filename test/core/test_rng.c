/* Unit tests for the deterministic generator (src/core/rng.c). */
#include "unit.h"
#include "rng.h"

static void
test_same_seed_same_stream(void)
{
	rng_state	a, b;

	rng_seed(&a, 42);
	rng_seed(&b, 42);
	for (int i = 0; i < 1000; i++)
		CHECK(rng_next(&a) == rng_next(&b));
	rng_seed(&b, 43);
	rng_seed(&a, 42);
	CHECK(rng_next(&a) != rng_next(&b));
}

static void
test_uniform_range_and_mean(void)
{
	rng_state	r;
	double		sum = 0;
	int			n = 100000;

	rng_seed(&r, 1);
	for (int i = 0; i < n; i++)
	{
		double		u = rng_uniform(&r);

		CHECK(u >= 0.0 && u < 1.0);
		sum += u;
	}
	CHECK_CLOSE(sum / n, 0.5, 0.01);
}

static void
test_below_is_unbiased(void)
{
	rng_state	r;
	int			counts[7] = {0};
	int			n = 70000;

	rng_seed(&r, 7);
	for (int i = 0; i < n; i++)
	{
		uint64_t	x = rng_below(&r, 7);

		CHECK(x < 7);
		counts[x]++;
	}
	for (int i = 0; i < 7; i++)
		CHECK_MSG(counts[i] > 9500 && counts[i] < 10500, "bucket %d has %d", i, counts[i]);
}

static void
test_normal_moments(void)
{
	rng_state	r;
	double		sum = 0,
				sq = 0;
	int			n = 200000;

	rng_seed(&r, 3);
	for (int i = 0; i < n; i++)
	{
		double		z = rng_normal(&r);

		sum += z;
		sq += z * z;
	}
	CHECK_CLOSE(sum / n, 0.0, 0.01);
	CHECK_CLOSE(sq / n, 1.0, 0.02);
}

static void
test_shuffle_is_permutation(void)
{
	rng_state	r;
	uint32_t	items[100];
	int			seen[100] = {0};

	for (int i = 0; i < 100; i++)
		items[i] = (uint32_t) i;
	rng_seed(&r, 5);
	rng_shuffle_u32(&r, items, 100);
	for (int i = 0; i < 100; i++)
		seen[items[i]]++;
	for (int i = 0; i < 100; i++)
		CHECK(seen[i] == 1);
}

int
main(void)
{
	RUN_TEST(test_same_seed_same_stream);
	RUN_TEST(test_uniform_range_and_mean);
	RUN_TEST(test_below_is_unbiased);
	RUN_TEST(test_normal_moments);
	RUN_TEST(test_shuffle_is_permutation);
	UNIT_EXIT();
}
