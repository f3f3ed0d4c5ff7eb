/*
 * rhythm_stats.c - Holter-style rhythm summary (rhythm_stats.h).
 */
#include "rhythm_stats.h"

#include <math.h>
#include <string.h>

int
rhythm_init(rhythm_stats *r, double fs, ecg_status *st)
{
	memset(r, 0, sizeof(*r));
	if (!isfinite(fs) || !(fs > 0))
		return ecg_fail(st, ECG_ERR_ARGUMENT, "invalid sampling rate %g Hz", fs);
	r->fs = fs;
	r->run_class = -1;
	r->min_hr = NAN;
	r->max_hr = NAN;
	return 0;
}

/* Ends the current run of S or V beats, if any. */
static void
close_run(rhythm_stats *r)
{
	int			c = r->run_class;

	if (c < 0)
		return;
	if (r->run_length == 2)
		r->couplets[c]++;
	else if (r->run_length >= 3)
		r->runs[c]++;
	if (r->run_length > r->longest_run[c])
		r->longest_run[c] = r->run_length;
	r->run_class = -1;
	r->run_length = 0;
}

static void
note_rate(rhythm_stats *r, double hr)
{
	if (isnan(r->min_hr) || hr < r->min_hr)
		r->min_hr = hr;
	if (isnan(r->max_hr) || hr > r->max_hr)
		r->max_hr = hr;
}

int
rhythm_add(rhythm_stats *r, int64_t sample, int label, ecg_status *st)
{
	int			c;

	if (label < -1 || label > 4)
		return ecg_fail(st, ECG_ERR_ARGUMENT, "class %d of the beat at sample %lld is not -1..4",
						label, (long long) sample);
	if (r->beats > 0 && sample <= r->last_sample)
		return ecg_fail(st, ECG_ERR_DATA, "the beat at sample %lld does not follow the previous beat at sample %lld",
						(long long) sample, (long long) r->last_sample);

	if (r->beats == 0)
		r->first_sample = sample;
	else
	{
		int64_t		rr = sample - r->last_sample;

		if ((double) rr > RHYTHM_PAUSE_SECONDS * r->fs)
			r->pauses++;
		if (rr > r->longest_rr)
			r->longest_rr = rr;
	}
	if (r->beats >= RHYTHM_HR_INTERVALS)
	{
		int64_t		oldest = r->recent[(r->beats - RHYTHM_HR_INTERVALS) % (RHYTHM_HR_INTERVALS + 1)];

		note_rate(r, 60.0 * RHYTHM_HR_INTERVALS * r->fs / (double) (sample - oldest));
	}
	r->recent[r->beats % (RHYTHM_HR_INTERVALS + 1)] = sample;
	r->last_sample = sample;
	r->beats++;

	c = label == 1 ? RHYTHM_S : label == 2 ? RHYTHM_V : -1;
	if (c >= 0)
		r->ectopic[c]++;
	if (c != r->run_class)
		close_run(r);
	if (c >= 0)
	{
		r->run_class = c;
		r->run_length++;
	}
	return 0;
}

void
rhythm_finish(rhythm_stats *r)
{
	close_run(r);
	/* fewer intervals than one heart-rate window: the mean rate */
	if (r->beats >= 2 && r->beats <= RHYTHM_HR_INTERVALS)
		note_rate(r, rhythm_mean_hr(r));
}

double
rhythm_duration_seconds(const rhythm_stats *r)
{
	if (r->beats < 2)
		return 0.0;
	return (double) (r->last_sample - r->first_sample) / r->fs;
}

double
rhythm_mean_hr(const rhythm_stats *r)
{
	if (r->beats < 2)
		return NAN;
	return 60.0 * (double) (r->beats - 1) / rhythm_duration_seconds(r);
}
