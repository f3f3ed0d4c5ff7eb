/*
 * rhythm_stats.h - a Holter-style summary of one recording from its beats
 * (R-peak positions in time order and their AAMI classes).
 *
 * Definitions (fs = the recording's sampling rate):
 *  - duration: from the first to the last beat, seconds;
 *  - mean heart rate: 60 * (beats - 1) / duration, beats per minute;
 *  - minimum and maximum heart rate: over every RHYTHM_HR_INTERVALS
 *    consecutive R-R intervals (a sliding window), 60 * intervals / their
 *    total time; with fewer intervals, the mean rate;
 *  - S and V beats: beats of class S (1) and V (2);
 *  - a run: a maximal sequence of consecutive beats of the same class S or V;
 *    two beats are a couplet, three or more a run (ventricular or
 *    supraventricular tachycardia when fast); any beat of another class,
 *    and an unlabelled beat (class -1), ends it;
 *  - the longest run per class, in beats (1 for isolated ectopic beats, 0
 *    when there are none);
 *  - a pause: an R-R interval longer than RHYTHM_PAUSE_SECONDS; the longest
 *    R-R interval is given too.
 */
#ifndef ECG_RHYTHM_STATS_H
#define ECG_RHYTHM_STATS_H

#include <stdint.h>

#include "ecg_core.h"

#define RHYTHM_HR_INTERVALS	8
#define RHYTHM_PAUSE_SECONDS 2.0

/* Index 0 = S, 1 = V in the per-class arrays. */
#define RHYTHM_S 0
#define RHYTHM_V 1

typedef struct rhythm_stats
{
	double		fs;
	int64_t		beats;
	int64_t		first_sample;
	int64_t		last_sample;
	int64_t		ectopic[2];		/* S and V beats */
	int64_t		couplets[2];	/* runs of exactly two */
	int64_t		runs[2];		/* runs of three or more */
	int64_t		longest_run[2]; /* beats */
	int64_t		pauses;			/* R-R > RHYTHM_PAUSE_SECONDS */
	int64_t		longest_rr;		/* samples; 0 with fewer than two beats */
	double		min_hr;			/* beats per minute; NaN with fewer than two beats */
	double		max_hr;
	/* running state */
	int			run_class;		/* RHYTHM_S, RHYTHM_V or -1 */
	int64_t		run_length;
	int64_t		recent[RHYTHM_HR_INTERVALS + 1];	/* last beats' samples, a ring */
} rhythm_stats;

/* Errors: ECG_ERR_ARGUMENT when fs is not finite and positive. */
int			rhythm_init(rhythm_stats *r, double fs, ecg_status *st);

/*
 * Adds the next beat: its R peak at `sample` and its class 0..4 (-1 when
 * unlabelled).  Errors: ECG_ERR_DATA when sample is not after the previous
 * beat's (the message names both), ECG_ERR_ARGUMENT for a class outside
 * -1..4; the summary is then unchanged.
 */
int			rhythm_add(rhythm_stats *r, int64_t sample, int label, ecg_status *st);

/* Closes the last run and settles the heart rates; call once at the end. */
void		rhythm_finish(rhythm_stats *r);

/* Seconds from the first to the last beat (0 with fewer than two). */
double		rhythm_duration_seconds(const rhythm_stats *r);
/* Mean heart rate in beats per minute; NaN with fewer than two beats. */
double		rhythm_mean_hr(const rhythm_stats *r);

#endif
