/*
 * nn_adam.c - Adam with Keras' epsilon placement (see nn_adam.h).
 */
#include "nn_adam.h"

#include <math.h>
#include <string.h>

int
nn_adam_init(nn_adam *adam, size_t n, double lr, ecg_status *st)
{
	memset(adam, 0, sizeof(*adam));
	adam->m = ecg_calloc_array(n > 0 ? n : 1, sizeof(float));
	adam->v = ecg_calloc_array(n > 0 ? n : 1, sizeof(float));
	if (adam->m == NULL || adam->v == NULL)
	{
		nn_adam_release(adam);
		return ecg_fail(st, ECG_ERR_NOMEM, "out of memory for the Adam moments of %zu parameters", n);
	}
	adam->n = n;
	adam->lr = lr;
	adam->beta1 = 0.9;
	adam->beta2 = 0.999;
	adam->epsilon = 1e-7;
	return 0;
}

void
nn_adam_release(nn_adam *adam)
{
	ecg_free(adam->m);
	ecg_free(adam->v);
	adam->m = adam->v = NULL;
	adam->n = 0;
}

void
nn_adam_reset(nn_adam *adam)
{
	memset(adam->m, 0, adam->n * sizeof(float));
	memset(adam->v, 0, adam->n * sizeof(float));
	adam->t = 0;
}

void
nn_adam_step(nn_adam *adam, float *params, const float *grads)
{
	double		t;
	float		alpha,
				b1,
				b2,
				one_minus_b1,
				one_minus_b2,
				eps;

	adam->t++;
	t = (double) adam->t;
	/* step size with both bias corrections folded in (computed in double) */
	alpha = (float) (adam->lr * sqrt(1.0 - pow(adam->beta2, t)) / (1.0 - pow(adam->beta1, t)));
	b1 = (float) adam->beta1;
	b2 = (float) adam->beta2;
	one_minus_b1 = (float) (1.0 - adam->beta1);
	one_minus_b2 = (float) (1.0 - adam->beta2);
	eps = (float) adam->epsilon;
	for (size_t i = 0; i < adam->n; i++)
	{
		float		g = grads[i];
		float		m = b1 * adam->m[i] + one_minus_b1 * g;
		float		v = b2 * adam->v[i] + one_minus_b2 * g * g;

		adam->m[i] = m;
		adam->v[i] = v;
		params[i] -= alpha * m / (sqrtf(v) + eps);
	}
}
