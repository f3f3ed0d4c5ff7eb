/*
 * rng.h - the core's deterministic pseudo-random generator.
 *
 * xoshiro256** seeded through splitmix64: the same seed gives the same stream
 * on every platform.  Every random choice in ecgdl (splits, oversampling,
 * shuffling, initialisation, dropout) draws from an rng_state seeded from the
 * user's seed, so results repeat exactly.
 */
#ifndef ECG_RNG_H
#define ECG_RNG_H

#include <stdint.h>

typedef struct rng_state
{
	uint64_t	s[4];
} rng_state;

void		rng_seed(rng_state *rng, uint64_t seed);
/* An independent stream derived from a parent seed and a stream number. */
void		rng_seed_stream(rng_state *rng, uint64_t seed, uint64_t stream);
uint64_t	rng_next(rng_state *rng);
/* uniform in [0, 1), 53 random bits */
double		rng_uniform(rng_state *rng);
/* uniform in [0, n), unbiased; n > 0 */
uint64_t	rng_below(rng_state *rng, uint64_t n);
/* standard normal (polar Box-Muller, no cached second value) */
double		rng_normal(rng_state *rng);
/* Fisher-Yates shuffle of an index array */
void		rng_shuffle_u32(rng_state *rng, uint32_t *items, uint64_t n);
void		rng_shuffle_i64(rng_state *rng, int64_t *items, uint64_t n);

#endif
