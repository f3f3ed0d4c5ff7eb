/*
 * rr_features.c - rhythm (R-R interval) features of a record's beats
 * (rr_features.h).
 */
#include "rr_features.h"

#include <math.h>

#include "nn_model.h"

/* a model may take every R-R feature */
_Static_assert(NN_MAX_FEATURES == RR_FEATURES, "NN_MAX_FEATURES must equal RR_FEATURES");

const char *const rr_feature_names[RR_FEATURES] = {
	"rr_pre", "rr_post", "rr_local", "rr_record",
	"rr_pre_local", "rr_post_local", "rr_pre_record", "rr_post_record",
	"rr_window", "rr_pre_window", "rr_post_window"
};

/* a / b, or NAN when either is undefined or b is zero */
static double
ratio(double a, double b)
{
	if (!isfinite(a) || !isfinite(b) || b == 0.0)
		return NAN;
	return a / b;
}

/* the pre-R-R interval of beat j (1 <= j < n), seconds */
static double
interval(const int64_t *samples, size_t j, double fs)
{
	return (double) (samples[j] - samples[j - 1]) / fs;
}

void
rr_features_compute(const int64_t *samples, size_t n, double fs,
					float (*out)[RR_FEATURES])
{
	double		record = NAN;
	double		half = RR_WINDOW_SECONDS * fs;	/* in samples */
	size_t		w_lo = 1,
				w_hi = 1;		/* beats w_lo .. w_hi - 1 are in the window */
	double		w_sum = 0.0;

	if (n >= 2)
		record = (double) (samples[n - 1] - samples[0]) / (double) (n - 1) / fs;

	for (size_t i = 0; i < n; i++)
	{
		double		pre = i > 0 ? interval(samples, i, fs) : NAN;
		double		post = i + 1 < n ? interval(samples, i + 1, fs) : NAN;
		double		local = NAN;
		/* pre-R-R intervals of beats lo..hi (those that exist: 1..n-1) */
		size_t		lo = i > RR_LOCAL_BEFORE ? i - RR_LOCAL_BEFORE : 1;
		size_t		hi = i + RR_LOCAL_AFTER < n - 1 ? i + RR_LOCAL_AFTER : n - 1;

		if (lo <= hi)
		{
			double		sum = 0.0;

			for (size_t j = lo; j <= hi; j++)
				sum += interval(samples, j, fs);
			local = sum / (double) (hi - lo + 1);
		}
		/* the window: beats j >= 1 whose R peak is within half of beat i's,
		 * kept as a running sum (both ends only move forward) */
		double		window = NAN;

		while (w_hi < n && (double) (samples[w_hi] - samples[i]) <= half)
			w_sum += interval(samples, w_hi++, fs);
		while (w_lo < w_hi && (double) (samples[i] - samples[w_lo]) > half)
			w_sum -= interval(samples, w_lo++, fs);
		if (n >= 2)
		{
			/* this beat's own intervals count even beyond the window */
			double		sum = w_sum;
			size_t		count = w_hi - w_lo;

			if (i > 0 && (i < w_lo || i >= w_hi))
			{
				sum += pre;
				count++;
			}
			if (i + 1 < n && (i + 1 < w_lo || i + 1 >= w_hi))
			{
				sum += post;
				count++;
			}
			if (count > 0)
				window = sum / (double) count;
		}
		out[i][RR_PRE] = (float) pre;
		out[i][RR_POST] = (float) post;
		out[i][RR_LOCAL] = (float) local;
		out[i][RR_RECORD] = (float) record;
		out[i][RR_PRE_LOCAL] = (float) ratio(pre, local);
		out[i][RR_POST_LOCAL] = (float) ratio(post, local);
		out[i][RR_PRE_RECORD] = (float) ratio(pre, record);
		out[i][RR_POST_RECORD] = (float) ratio(post, record);
		out[i][RR_WINDOW] = (float) window;
		out[i][RR_PRE_WINDOW] = (float) ratio(pre, window);
		out[i][RR_POST_WINDOW] = (float) ratio(post, window);
	}
}

/* fills f[k] with num / den when f[k] is undefined */
static void
fill_ratio(float f[RR_FEATURES], int k, int num, int den)
{
	if (!isfinite(f[k]))
		f[k] = (float) ratio(f[num], f[den]);
}

int
rr_features_impute(float f[RR_FEATURES])
{
	if (!isfinite(f[RR_PRE]))
		f[RR_PRE] = f[RR_POST];
	if (!isfinite(f[RR_POST]))
		f[RR_POST] = f[RR_PRE];
	if (!isfinite(f[RR_LOCAL]))
		f[RR_LOCAL] = f[RR_RECORD];
	fill_ratio(f, RR_PRE_LOCAL, RR_PRE, RR_LOCAL);
	fill_ratio(f, RR_POST_LOCAL, RR_POST, RR_LOCAL);
	fill_ratio(f, RR_PRE_RECORD, RR_PRE, RR_RECORD);
	fill_ratio(f, RR_POST_RECORD, RR_POST, RR_RECORD);
	fill_ratio(f, RR_PRE_WINDOW, RR_PRE, RR_WINDOW);
	fill_ratio(f, RR_POST_WINDOW, RR_POST, RR_WINDOW);
	/* the window columns are not imputed: their absence is for the caller
	 * to refuse where a model reads them (rr_features.h) */
	for (int k = 0; k < RR_BASIC_FEATURES; k++)
		if (!isfinite(f[k]))
			return k + 1;
	return 0;
}

int
rr_features_read_window(const int32_t *ids, int n)
{
	for (int k = 0; k < n; k++)
		if (ids[k] >= RR_BASIC_FEATURES)
			return 1;
	return 0;
}
