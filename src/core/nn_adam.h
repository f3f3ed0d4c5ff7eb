/*
 * nn_adam.h - the Adam optimiser with Keras semantics.
 *
 * Keras (tf.keras Adam, amsgrad off) updates each parameter p with gradient g
 * at step t = 1, 2, ... as
 *
 *     m     = beta1 * m + (1 - beta1) * g
 *     v     = beta2 * v + (1 - beta2) * g^2
 *     alpha = lr * sqrt(1 - beta2^t) / (1 - beta1^t)
 *     p    -= alpha * m / (sqrt(v) + epsilon)
 *
 * i.e. epsilon is added to sqrt(v) BEFORE the bias correction of v (PyTorch
 * adds it after: the two agree only when epsilon is scaled by
 * sqrt(1 - beta2^t)).  Defaults: lr 1e-3, beta1 0.9, beta2 0.999, epsilon 1e-7.
 * The learning rate may be changed between steps (ReduceLROnPlateau).
 */
#ifndef ECG_NN_ADAM_H
#define ECG_NN_ADAM_H

#include <stddef.h>
#include <stdint.h>

#include "ecg_core.h"

typedef struct nn_adam
{
	size_t		n;				/* number of parameters */
	float	   *m;				/* first moments [n] */
	float	   *v;				/* second moments [n] */
	int64_t		t;				/* steps taken so far */
	double		lr;
	double		beta1;
	double		beta2;
	double		epsilon;
} nn_adam;

/* Allocates zeroed moments for n parameters; Keras defaults except lr. */
int			nn_adam_init(nn_adam *adam, size_t n, double lr, ecg_status *st);
void		nn_adam_release(nn_adam *adam);
/* Zeroes the moments and the step counter (keeps lr and betas). */
void		nn_adam_reset(nn_adam *adam);

/* One update of params[n] with grads[n] (the gradient of the loss). */
void		nn_adam_step(nn_adam *adam, float *params, const float *grads);

#endif
