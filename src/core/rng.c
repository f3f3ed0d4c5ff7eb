/*
 * rng.c - xoshiro256** with splitmix64 seeding (public-domain algorithms by
 * Blackman and Vigna), written for ecgdl.
 */
#include "rng.h"

#include <math.h>

static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t	z = (*x += UINT64_C(0x9E3779B97F4A7C15));

	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

void
rng_seed(rng_state *rng, uint64_t seed)
{
	uint64_t	x = seed;

	for (int i = 0; i < 4; i++)
		rng->s[i] = splitmix64(&x);
}

void
rng_seed_stream(rng_state *rng, uint64_t seed, uint64_t stream)
{
	uint64_t	x = seed ^ (stream * UINT64_C(0xD1B54A32D192ED03));

	rng_seed(rng, splitmix64(&x));
}

static inline uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t
rng_next(rng_state *rng)
{
	uint64_t   *s = rng->s;
	uint64_t	result = rotl(s[1] * 5, 7) * 9;
	uint64_t	t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

double
rng_uniform(rng_state *rng)
{
	return (double) (rng_next(rng) >> 11) * 0x1.0p-53;
}

uint64_t
rng_below(rng_state *rng, uint64_t n)
{
	/* rejection sampling on the top of the range: unbiased */
	uint64_t	limit = UINT64_MAX - UINT64_MAX % n;
	uint64_t	x;

	do
		x = rng_next(rng);
	while (x >= limit);
	return x % n;
}

double
rng_normal(rng_state *rng)
{
	double		u,
				v,
				s;

	do
	{
		u = 2.0 * rng_uniform(rng) - 1.0;
		v = 2.0 * rng_uniform(rng) - 1.0;
		s = u * u + v * v;
	} while (s >= 1.0 || s == 0.0);
	return u * sqrt(-2.0 * log(s) / s);
}

void
rng_shuffle_u32(rng_state *rng, uint32_t *items, uint64_t n)
{
	for (uint64_t i = n; i > 1; i--)
	{
		uint64_t	j = rng_below(rng, i);
		uint32_t	t = items[i - 1];

		items[i - 1] = items[j];
		items[j] = t;
	}
}

void
rng_shuffle_i64(rng_state *rng, int64_t *items, uint64_t n)
{
	for (uint64_t i = n; i > 1; i--)
	{
		uint64_t	j = rng_below(rng, i);
		int64_t		t = items[i - 1];

		items[i - 1] = items[j];
		items[j] = t;
	}
}
