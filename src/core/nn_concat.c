/*
 * nn_concat.c - concatenation of two row vectors (nn_layers.h): the join of
 * a network's flattened beat features with its auxiliary (R-R) features.
 * Pure data movement, so the result is exact for any thread count.
 */
#include "nn_layers.h"

#include <string.h>

void
nn_concat_forward(float *y, const float *a, int na, const float *b, int nb, int batch)
{
	size_t		width = (size_t) na + (size_t) nb;

	for (size_t r = 0; r < (size_t) batch; r++)
	{
		memcpy(y + r * width, a + r * (size_t) na, (size_t) na * sizeof(float));
		memcpy(y + r * width + na, b + r * (size_t) nb, (size_t) nb * sizeof(float));
	}
}

void
nn_concat_backward(float *da, float *db, const float *dy, int na, int nb, int batch)
{
	size_t		width = (size_t) na + (size_t) nb;

	for (size_t r = 0; r < (size_t) batch; r++)
	{
		if (da != NULL)
			memcpy(da + r * (size_t) na, dy + r * width, (size_t) na * sizeof(float));
		if (db != NULL)
			memcpy(db + r * (size_t) nb, dy + r * width + na, (size_t) nb * sizeof(float));
	}
}
