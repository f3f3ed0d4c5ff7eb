/* Unit tests for the polyphase resampler (src/core/resample.c). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "unit.h"
#include "resample.h"
#include "rng.h"

#define TEST_PI 3.14159265358979323846

static void
test_output_length(void)
{
	CHECK(resample_output_length(650000, 25, 72) == 225695);	/* ceil(650000*25/72) */
	CHECK(resample_output_length(72, 25, 72) == 25);
	CHECK(resample_output_length(73, 25, 72) == 26);
	CHECK(resample_output_length(0, 25, 72) == 0);
	CHECK(resample_output_length(10, 125, 360) == 4);	/* reduced to 25/72 */
	CHECK(resample_output_length(10, 3, 1) == 30);
	CHECK(resample_output_length(10, 2, 2) == 10);
	CHECK(resample_output_length(-1, 1, 2) == -1);
	CHECK(resample_output_length(10, 0, 2) == -1);
	CHECK(resample_output_length(INT64_MAX / 2, 3, 1) == -1);
}

/* A sine well below the lower Nyquist keeps its amplitude and its timing:
 * output j sits at input time j*down/up. */
static void
check_sine(int up, int down, double fs_in, double freq, double tol)
{
	int64_t		n = 20000,
				m;
	float	   *x = ecg_alloc_array((size_t) n, sizeof(float));
	float	   *y;
	ecg_status	st;
	double		worst = 0;

	for (int64_t i = 0; i < n; i++)
		x[i] = (float) sin(2 * TEST_PI * freq * (double) i / fs_in);
	CHECK(resample_poly(x, n, up, down, &y, &m, &st) == 0);
	CHECK(m == resample_output_length(n, up, down));
	/* away from the edges, where the zero padding is inside the filter */
	for (int64_t j = m / 10; j < m - m / 10; j++)
	{
		double		t = (double) j * down / up / fs_in;
		double		e = fabs(y[j] - sin(2 * TEST_PI * freq * t));

		if (e > worst)
			worst = e;
	}
	CHECK_MSG(worst < tol, "up %d down %d f %g: max error %g", up, down, freq, worst);
	ecg_free(x);
	ecg_free(y);
}

static void
test_sine_below_nyquist_preserved(void)
{
	check_sine(25, 72, 360, 10.0, 0.01);	/* 360 -> 125 Hz, 10 Hz: < 1 % */
	check_sine(25, 72, 360, 40.0, 0.01);
	check_sine(1, 2, 250, 20.0, 0.01);		/* 250 -> 125 Hz */
	check_sine(3, 1, 100, 30.0, 0.01);		/* upsampling */
	check_sine(125, 128, 128, 15.0, 0.01);
}

/* RMS of y over its middle 80 %. */
static double
middle_rms(const float *y, int64_t m)
{
	double		s = 0;
	int64_t		c = 0;

	for (int64_t j = m / 10; j < m - m / 10; j++, c++)
		s += (double) y[j] * y[j];
	return sqrt(s / (double) c);
}

static void
test_sine_above_nyquist_attenuated(void)
{
	int64_t		n = 36000,
				m;
	float	   *x = ecg_alloc_array((size_t) n, sizeof(float));
	float	   *y;
	ecg_status	st;
	/* the transition band of the beta-5 Kaiser filter ends near 72 Hz */
	const double freqs[] = {75.0, 90.0, 150.0};

	for (size_t k = 0; k < 3; k++)
	{
		double		rms;

		for (int64_t i = 0; i < n; i++)
			x[i] = (float) sin(2 * TEST_PI * freqs[k] * (double) i / 360.0);
		CHECK(resample_poly(x, n, 25, 72, &y, &m, &st) == 0);
		rms = middle_rms(y, m);
		/* input RMS is 1/sqrt(2); demand more than 40 dB below it */
		CHECK_MSG(20 * log10(rms * sqrt(2.0)) < -40, "%g Hz: %g dB", freqs[k],
				  20 * log10(rms * sqrt(2.0)));
		ecg_free(y);
	}
	ecg_free(x);
}

static void
test_dc_gain_and_identity(void)
{
	float		x[500];
	float	   *y;
	int64_t		m;
	ecg_status	st;

	for (int i = 0; i < 500; i++)
		x[i] = 2.5f;
	CHECK(resample_poly(x, 500, 25, 72, &y, &m, &st) == 0);
	for (int64_t j = 20; j < m - 20; j++)
		CHECK_CLOSE(y[j], 2.5, 1e-3);
	ecg_free(y);

	for (int i = 0; i < 500; i++)
		x[i] = (float) i;
	CHECK(resample_poly(x, 500, 7, 7, &y, &m, &st) == 0);
	CHECK(m == 500 && memcmp(x, y, sizeof(x)) == 0);
	ecg_free(y);

	/* down-by-2 of a slow ramp tracks the ramp at the even input samples */
	CHECK(resample_poly(x, 500, 1, 2, &y, &m, &st) == 0);
	CHECK(m == 250);
	for (int64_t j = 30; j < 220; j++)
		CHECK_CLOSE(y[j], 2.0 * j, 1e-3);
	ecg_free(y);

	CHECK(resample_poly(x, 0, 25, 72, &y, &m, &st) == 0 && m == 0);
	ecg_free(y);
}

static void
test_argument_errors(void)
{
	float		x[4] = {0};
	float	   *y = (float *) x;
	int64_t		m = 9;
	ecg_status	st;

	CHECK(resample_poly(x, -1, 1, 2, &y, &m, &st) == -1 && st.kind == ECG_ERR_ARGUMENT);
	CHECK(y == NULL && m == 0);
	CHECK(resample_poly(x, 4, 0, 2, &y, &m, &st) == -1 && st.kind == ECG_ERR_ARGUMENT);
	CHECK(resample_poly(x, 4, 2, -3, &y, &m, &st) == -1 && st.kind == ECG_ERR_ARGUMENT);
	CHECK(resample_poly(x, 4, 1000003, 2, &y, &m, &st) == -1 && st.kind == ECG_ERR_ARGUMENT);
	/* a large but reducible ratio is fine */
	CHECK(resample_poly(x, 4, 2000000, 4000000, &y, &m, &st) == 0 && m == 2);
	ecg_free(y);
}

/* Double and float versions agree. */
static void
test_double_matches_float(void)
{
	rng_state	rng;
	float		xf[3000];
	double		xd[3000];
	float	   *yf;
	double	   *yd;
	int64_t		mf,
				md;
	ecg_status	st;

	rng_seed(&rng, 3);
	for (int i = 0; i < 3000; i++)
		xd[i] = xf[i] = (float) rng_normal(&rng);
	CHECK(resample_poly(xf, 3000, 25, 72, &yf, &mf, &st) == 0);
	CHECK(resample_poly_double(xd, 3000, 25, 72, &yd, &md, &st) == 0);
	CHECK(mf == md);
	for (int64_t j = 0; j < mf; j++)
		CHECK_CLOSE(yf[j], yd[j], 1e-6);
	ecg_free(yf);
	ecg_free(yd);
}

/*
 * Against scipy.signal.resample_poly, when a Python with scipy is available
 * ($ECGDL_PYTHON, else python3, else /usr/bin/python3): a random signal
 * through several ratios, compared sample by sample (edges included).
 */
static const char *
find_python(void)
{
	static const char *const candidates[] = {NULL, "python3", "/usr/bin/python3"};
	static char chosen[512];
	const char *env = getenv("ECGDL_PYTHON");

	for (int i = 0; i < 3; i++)
	{
		const char *py = i == 0 ? env : candidates[i];
		char		cmd[700];

		if (py == NULL || *py == '\0' || strlen(py) > 400)
			continue;
		snprintf(cmd, sizeof(cmd), "%s -c 'import scipy.signal' >/dev/null 2>&1", py);
		if (system(cmd) == 0)
		{
			snprintf(chosen, sizeof(chosen), "%s", py);
			return chosen;
		}
	}
	return NULL;
}

static void
test_against_scipy(void)
{
	const char *py = find_python();
	const int	ratios[][2] = {{25, 72}, {125, 360}, {1, 2}, {3, 1}, {125, 128}, {7, 5}};
	char		in_path[] = "/tmp/ecgdl_resample_in_XXXXXX";
	int			fd;
	FILE	   *f;
	rng_state	rng;
	float		x[1001];
	ecg_status	st;

	if (py == NULL)
	{
		printf("# skipped test_against_scipy: no python3 with scipy (set ECGDL_PYTHON)\n");
		return;
	}
	rng_seed(&rng, 11);
	for (int i = 0; i < 1001; i++)
		x[i] = (float) (rng_normal(&rng) + sin(i * 0.05));
	fd = mkstemp(in_path);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	f = fdopen(fd, "w");
	for (int i = 0; i < 1001; i++)
		fprintf(f, "%.9g\n", x[i]);
	fclose(f);

	for (size_t r = 0; r < sizeof(ratios) / sizeof(ratios[0]); r++)
	{
		char		cmd[1024];
		FILE	   *p;
		float	   *y;
		int64_t		m,
					count = 0;
		double		v,
					worst = 0;

		CHECK(resample_poly(x, 1001, ratios[r][0], ratios[r][1], &y, &m, &st) == 0);
		snprintf(cmd, sizeof(cmd),
				 "%s -c 'import numpy as n, scipy.signal as s; x = n.loadtxt(\"%s\", dtype=n.float64); "
				 "[print(\"%%.9g\" %% v) for v in s.resample_poly(x, %d, %d)]'",
				 py, in_path, ratios[r][0], ratios[r][1]);
		p = popen(cmd, "r");
		CHECK(p != NULL);
		while (p && fscanf(p, "%lf", &v) == 1)
		{
			if (count < m && fabs(v - y[count]) > worst)
				worst = fabs(v - y[count]);
			count++;
		}
		if (p)
			pclose(p);
		CHECK_MSG(count == m, "ratio %d/%d: scipy gives %lld samples, we %lld", ratios[r][0],
				  ratios[r][1], (long long) count, (long long) m);
		CHECK_MSG(worst < 1e-5, "ratio %d/%d: max difference %g", ratios[r][0], ratios[r][1], worst);
		ecg_free(y);
	}
	remove(in_path);
}

/* 650,000 samples from 360 Hz to 125 Hz: the MIT-BIH record size. */
static void
test_speed_mitbih_record(void)
{
	int64_t		n = 650000,
				m;
	float	   *x = ecg_alloc_array((size_t) n, sizeof(float));
	float	   *y;
	ecg_status	st;
	struct timespec t0,
				t1;
	double		ms;

	for (int64_t i = 0; i < n; i++)
		x[i] = (float) sin(i * 0.01);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK(resample_poly(x, n, 25, 72, &y, &m, &st) == 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
	printf("# resample 650000 samples 360 -> 125 Hz: %.1f ms\n", ms);
	CHECK(m == 225695);
	CHECK_MSG(ms < 500, "took %.1f ms", ms);	/* target well under 100 ms; slack for loaded machines */
	ecg_free(x);
	ecg_free(y);
}

int
main(void)
{
	RUN_TEST(test_output_length);
	RUN_TEST(test_sine_below_nyquist_preserved);
	RUN_TEST(test_sine_above_nyquist_attenuated);
	RUN_TEST(test_dc_gain_and_identity);
	RUN_TEST(test_argument_errors);
	RUN_TEST(test_double_matches_float);
	RUN_TEST(test_against_scipy);
	RUN_TEST(test_speed_mitbih_record);
	UNIT_EXIT();
}
