/*
 * synthetic_beats.h - the synthetic training beats of the training tools
 * (train_bench, kernel_fingerprint): 5 classes drawn uniformly, each beat a
 * Gaussian bump at a class-dependent place (jittered by +-5 samples) plus
 * noise of standard deviation 0.2.  Deterministic for a seed.
 */
#ifndef ECG_SYNTHETIC_BEATS_H
#define ECG_SYNTHETIC_BEATS_H

#include <math.h>
#include <stddef.h>

#include "nn_model.h"
#include "rng.h"

/* beats[rows][NN_BEAT_LENGTH] and labels[rows] */
static inline void
synthetic_beats(float *beats, int *labels, size_t rows, uint64_t seed)
{
	rng_state	r;

	rng_seed(&r, seed);
	for (size_t i = 0; i < rows; i++)
	{
		int			cls = (int) rng_below(&r, 5);
		double		centre = 25 + 35 * cls + 10 * (rng_uniform(&r) - 0.5);

		labels[i] = cls;
		for (int t = 0; t < NN_BEAT_LENGTH; t++)
			beats[i * NN_BEAT_LENGTH + t] =
				(float) (exp(-(t - centre) * (t - centre) / 50.0) + 0.2 * rng_normal(&r));
	}
}

#endif
