/*
 * resample.c - polyphase rational resampling (see resample.h).
 *
 * The prototype filter h[0..2L] (L = 10 * max(up, down)) is the windowed-sinc
 * low-pass of scipy.signal.firwin(2L+1, 1/max(up, down), window=("kaiser", 5))
 * scaled to a DC gain of `up`.  Conceptually the input is upsampled with
 * zeros, convolved with h and decimated; output sample j is then
 *
 *     y[j] = sum_k x[k] * h[j*down + L - k*up]       (0 <= index <= 2L)
 *
 * (the +L compensates the filter's delay).  All terms share the phase
 * r = (j*down + L) mod up, so each output sample is a short dot product of
 * the input with the r-th polyphase branch h[r], h[r+up], h[r+2up], ...
 */
#include "resample.h"

#include <math.h>
#include <string.h>

#define RESAMPLE_MAX_RATE	100000
#define KAISER_BETA			5.0
#define HALF_LEN_PER_RATE	10			/* zero crossings of the sinc on each side */
#define RESAMPLE_PI			3.14159265358979323846

static int64_t
gcd64(int64_t a, int64_t b)
{
	while (b != 0)
	{
		int64_t		t = a % b;

		a = b;
		b = t;
	}
	return a;
}

int64_t
resample_output_length(int64_t n, int up, int down)
{
	int64_t		g,
				u,
				d;

	if (n < 0 || up < 1 || down < 1)
		return -1;
	g = gcd64(up, down);
	u = up / g;
	d = down / g;
	if (n > INT64_MAX / u)
		return -1;
	return (n * u) / d + ((n * u) % d != 0);
}

/* Modified Bessel function of the first kind, order 0 (power series; the
 * arguments here are at most KAISER_BETA, where it converges quickly). */
static double
bessel_i0(double x)
{
	double		term = 1.0,
				sum = 1.0,
				q = x * x / 4.0;

	for (int k = 1; k < 60; k++)
	{
		term *= q / ((double) k * (double) k);
		sum += term;
		if (term < sum * 1e-17)
			break;
	}
	return sum;
}

static double
sinc(double x)
{
	if (x == 0.0)
		return 1.0;
	return sin(RESAMPLE_PI * x) / (RESAMPLE_PI * x);
}

/* The prototype low-pass: ntaps = 2*half_len + 1 taps, cutoff 1/max_rate of
 * the upsampled Nyquist frequency, DC gain `up`. */
static void
design_lowpass(double *h, int64_t half_len, int64_t max_rate, int64_t up)
{
	int64_t		ntaps = 2 * half_len + 1;
	double		cutoff = 1.0 / (double) max_rate;
	double		i0_beta = bessel_i0(KAISER_BETA);
	double		sum = 0.0;

	for (int64_t m = 0; m < ntaps; m++)
	{
		double		t = (double) (m - half_len);
		double		r = 2.0 * (double) m / (double) (ntaps - 1) - 1.0;
		double		window = bessel_i0(KAISER_BETA * sqrt(fmax(0.0, 1.0 - r * r))) / i0_beta;

		h[m] = cutoff * sinc(cutoff * t) * window;
		sum += h[m];
	}
	for (int64_t m = 0; m < ntaps; m++)
		h[m] *= (double) up / sum;
}

/* Polyphase layout: branch r holds h[r + i*up] for i = 0..len[r]-1, stored
 * from offset start[r] of one array. */
typedef struct polyphase
{
	int64_t		up,
				down,
				half_len;
	double	   *taps;
	int64_t    *start;
	int64_t    *len;
} polyphase;

static void
polyphase_release(polyphase *pp)
{
	ecg_free(pp->taps);
	ecg_free(pp->start);
	ecg_free(pp->len);
}

static int
polyphase_build(polyphase *pp, int up, int down, ecg_status *st)
{
	int64_t		g = gcd64(up, down);
	int64_t		max_rate,
				ntaps,
				at = 0;
	double	   *h;

	memset(pp, 0, sizeof(*pp));
	pp->up = up / g;
	pp->down = down / g;
	max_rate = pp->up > pp->down ? pp->up : pp->down;
	pp->half_len = HALF_LEN_PER_RATE * max_rate;
	ntaps = 2 * pp->half_len + 1;

	if (ecg_check_memory((size_t) ntaps * 2 * sizeof(double), "resampling filter", st) != 0)
		return -1;
	h = ecg_alloc_array((size_t) ntaps, sizeof(double));
	pp->taps = ecg_alloc_array((size_t) ntaps, sizeof(double));
	pp->start = ecg_alloc_array((size_t) pp->up, sizeof(int64_t));
	pp->len = ecg_alloc_array((size_t) pp->up, sizeof(int64_t));
	if (h == NULL || pp->taps == NULL || pp->start == NULL || pp->len == NULL)
	{
		ecg_free(h);
		polyphase_release(pp);
		return ecg_fail(st, ECG_ERR_NOMEM, "out of memory for a %lld-tap resampling filter",
						(long long) ntaps);
	}
	design_lowpass(h, pp->half_len, max_rate, pp->up);
	for (int64_t r = 0; r < pp->up; r++)
	{
		pp->start[r] = at;
		for (int64_t i = r; i < ntaps; i += pp->up)
			pp->taps[at++] = h[i];
		pp->len[r] = at - pp->start[r];
	}
	ecg_free(h);
	return 0;
}

/*
 * y[j] = sum_i branch_r[i] * x[kmax - i] with t = j*down + L, r = t mod up,
 * kmax = t / up; terms with x outside [0, n) are zero.  Defined once per
 * sample type.
 */
#define DEFINE_POLYPHASE_APPLY(NAME, T) \
static void \
NAME(const polyphase *pp, const T *x, int64_t n, T *y, int64_t n_out) \
{ \
	for (int64_t j = 0; j < n_out; j++) \
	{ \
		int64_t		t = j * pp->down + pp->half_len; \
		int64_t		r = t % pp->up; \
		int64_t		kmax = t / pp->up; \
		const double *b = pp->taps + pp->start[r]; \
		int64_t		i0 = kmax >= n ? kmax - (n - 1) : 0; \
		int64_t		i1 = kmax + 1 < pp->len[r] ? kmax + 1 : pp->len[r]; \
		double		acc = 0.0; \
 \
		if ((j & 0xFFFF) == 0) \
			ecg_check_interrupts(); \
		for (int64_t i = i0; i < i1; i++) \
			acc += b[i] * (double) x[kmax - i]; \
		y[j] = (T) acc; \
	} \
}

DEFINE_POLYPHASE_APPLY(apply_float, float)
DEFINE_POLYPHASE_APPLY(apply_double, double)

static int
check_arguments(int64_t n, int up, int down, int64_t *n_out, ecg_status *st)
{
	int64_t		g;

	if (n < 0)
		return ecg_fail(st, ECG_ERR_ARGUMENT, "cannot resample a signal of negative length %lld",
						(long long) n);
	if (up < 1 || down < 1)
		return ecg_fail(st, ECG_ERR_ARGUMENT, "resampling factors must be positive (up %d, down %d)",
						up, down);
	g = gcd64(up, down);
	if (up / g > RESAMPLE_MAX_RATE || down / g > RESAMPLE_MAX_RATE)
		return ecg_fail(st, ECG_ERR_ARGUMENT, "resampling ratio %d/%d is too fine (reduced terms above %d)",
						up, down, RESAMPLE_MAX_RATE);
	*n_out = resample_output_length(n, up, down);
	if (*n_out < 0)
		return ecg_fail(st, ECG_ERR_ARGUMENT, "resampled length of %lld samples by %d/%d overflows",
						(long long) n, up, down);
	return 0;
}

#define DEFINE_RESAMPLE(NAME, T, APPLY) \
int \
NAME(const T *in, int64_t n, int up, int down, T **out, int64_t *n_out, ecg_status *st) \
{ \
	polyphase	pp; \
	int64_t		m; \
	T		   *y; \
 \
	*out = NULL; \
	*n_out = 0; \
	if (check_arguments(n, up, down, &m, st) != 0) \
		return -1; \
	if (ecg_check_memory((size_t) m * sizeof(T), "resampled signal", st) != 0) \
		return -1; \
	y = ecg_alloc_array((size_t) m, sizeof(T)); \
	if (y == NULL) \
		return ecg_fail(st, ECG_ERR_NOMEM, "out of memory for %lld resampled samples", \
						(long long) m); \
	if (up == down) \
	{ \
		if (n > 0) \
			memcpy(y, in, (size_t) n * sizeof(T)); \
	} \
	else \
	{ \
		if (polyphase_build(&pp, up, down, st) != 0) \
		{ \
			ecg_free(y); \
			return -1; \
		} \
		APPLY(&pp, in, n, y, m); \
		polyphase_release(&pp); \
	} \
	*out = y; \
	*n_out = m; \
	return 0; \
}

DEFINE_RESAMPLE(resample_poly, float, apply_float)
DEFINE_RESAMPLE(resample_poly_double, double, apply_double)
