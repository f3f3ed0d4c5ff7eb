/*
 * qrs_bench - speed and memory of the streaming QRS detector (src/core/qrs.c)
 * on a long synthetic recording, fed in 60-second chunks as the database
 * glue feeds a signal table.
 *
 *   qrs_bench [FS [HOURS [LEADS]]]    (default 360 Hz, 24 hours, 1 lead)
 *
 * LEADS 2 runs the two-lead detector (src/core/qrs_leads.c) on the signal
 * and a second lead made from it (upside down, 0.6 times as large).
 *
 * The signal is a periodic synthetic ECG (72 beats a minute, P, QRS and T
 * waves as Gaussians, a little deterministic noise), so that the expected
 * number of beats is known.  Prints the beats found and expected, the time
 * spent in qrs_detector_feed/finish (signal generation excluded), samples
 * per second, the speed over real time and the detector's memory.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ecg_core.h"
#include "qrs.h"
#include "qrs_leads.h"

#define BENCH_PI 3.14159265358979323846

static int
count_beat(void *arg, int64_t sample, ecg_status *st)
{
	(void) sample;
	(void) st;
	(*(int64_t *) arg)++;
	return 0;
}

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + 1e-9 * (double) ts.tv_nsec;
}

static double
gauss(double t, double center, double sigma)
{
	return exp(-0.5 * (t - center) * (t - center) / (sigma * sigma));
}

int
main(int argc, char **argv)
{
	double		fs = argc > 1 ? atof(argv[1]) : 360.0;
	double		hours = argc > 2 ? atof(argv[2]) : 24.0;
	int			leads = argc > 3 ? atoi(argv[3]) : 1;
	size_t		chunk = (size_t) llround(60.0 * fs);
	int64_t		period = llround(60.0 / 72.0 * fs);	/* samples per beat */
	int64_t		total = (int64_t) llround(hours * 3600.0 * fs);
	int64_t		beats = 0;
	float	   *x,
			   *y;
	ecg_status	st;
	qrs_detector *d = NULL;
	qrs_leads  *d2 = NULL;
	size_t		memory;
	double		spent = 0.0,
				t0;

	if (!(hours > 0) || chunk == 0 || leads < 1 || leads > 2)
	{
		fprintf(stderr, "usage: %s [FS [HOURS [LEADS]]]\n", argv[0]);
		return 2;
	}
	/* one minute of a signal that repeats every `period` samples, padded to
	 * a whole number of periods so that consecutive chunks join smoothly */
	chunk = (chunk / (size_t) period) * (size_t) period;
	x = malloc(chunk * sizeof(float));
	y = malloc(chunk * sizeof(float));
	if (x == NULL || y == NULL)
		return 1;
	for (size_t k = 0; k < chunk; k++)
	{
		double		t = (double) ((int64_t) k % period) / fs;

		x[k] = (float) (0.15 * gauss(t, 0.25, 0.025) - 0.1 * gauss(t, 0.385, 0.008) +
						1.2 * gauss(t, 0.41, 0.010) - 0.25 * gauss(t, 0.435, 0.010) +
						0.3 * gauss(t, 0.68, 0.06) +
						0.01 * sin(2 * BENCH_PI * 50.0 * (double) k / fs));
		y[k] = -0.6f * x[k];
	}
	if (leads == 2)
		d2 = qrs_leads_new(fs, 2, &st);
	else
		d = qrs_detector_new(fs, &st);
	if (d == NULL && d2 == NULL)
	{
		fprintf(stderr, "qrs_bench: %s\n", st.message);
		return 1;
	}
	for (int64_t done = 0; done < total;)
	{
		size_t		m = total - done < (int64_t) chunk ? (size_t) (total - done) : chunk;
		const float *xs[2] = {x, y};

		t0 = now_seconds();
		if ((d2 ? qrs_leads_feed(d2, xs, m, count_beat, &beats, &st) :
			 qrs_detector_feed(d, x, m, count_beat, &beats, &st)) != 0)
		{
			fprintf(stderr, "qrs_bench: %s\n", st.message);
			return 1;
		}
		spent += now_seconds() - t0;
		done += (int64_t) m;
	}
	t0 = now_seconds();
	if ((d2 ? qrs_leads_finish(d2, count_beat, &beats, &st) :
		 qrs_detector_finish(d, count_beat, &beats, &st)) != 0)
		return 1;
	spent += now_seconds() - t0;
	memory = d2 ? qrs_leads_memory(d2) : qrs_detector_memory(d);
	printf("qrs_bench: %.0f Hz, %.1f h (%lld samples) x %d lead%s in 60 s chunks: %lld beats "
		   "(expected %lld), %.3f s, %.0f samples/s, %.0fx real time, detector memory %zu bytes\n",
		   fs, hours, (long long) total, leads, leads > 1 ? "s" : "", (long long) beats,
		   (long long) (total / period), spent, (double) total / spent, hours * 3600.0 / spent,
		   memory);
	qrs_detector_free(d);
	qrs_leads_free(d2);
	free(x);
	free(y);
	return beats >= total / period - 1 && beats <= total / period ? 0 : 1;
}
