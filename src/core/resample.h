/*
 * resample.h - rational-rate resampling with an anti-aliasing filter.
 *
 * resample_poly changes the rate of a signal by up/down (reduced by their
 * gcd) the way scipy.signal.resample_poly does with its default window: the
 * signal is (conceptually) upsampled by `up` with zeros, low-pass filtered by
 * a Kaiser-windowed sinc (beta 5.0, 2*10*max(up,down)+1 taps, cutoff at the
 * lower of the two Nyquist frequencies, gain `up`) and decimated by `down`,
 * with the filter's delay compensated so that output sample j corresponds to
 * input time j*down/up.  Samples outside the input are taken as zero.  Only
 * the output samples are computed (polyphase): the cost is about
 * n_out * taps / up multiply-adds.
 */
#ifndef ECG_RESAMPLE_H
#define ECG_RESAMPLE_H

#include <stdint.h>

#include "ecg_core.h"

/* ceil(n * up / down) after reducing up/down by their gcd; -1 when an
 * argument is invalid (n < 0, up or down < 1) or the result overflows. */
int64_t		resample_output_length(int64_t n, int up, int down);

/*
 * Resamples in[0..n) by up/down into *out (ecg_alloc'ed, *n_out =
 * resample_output_length(n, up, down) samples; n == 0 gives an allocated
 * empty array).  up == down copies the input.  Internally accumulates in
 * double.  Errors: ECG_ERR_ARGUMENT (n < 0, up/down < 1 or, after reduction, > 100,000),
 * ECG_ERR_NOMEM.
 */
int			resample_poly(const float *in, int64_t n, int up, int down, float **out,
						  int64_t *n_out, ecg_status *st);

/* The same filter applied to a double input and output. */
int			resample_poly_double(const double *in, int64_t n, int up, int down, double **out,
								 int64_t *n_out, ecg_status *st);

#endif
