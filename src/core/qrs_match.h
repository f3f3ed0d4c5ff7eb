/*
 * qrs_match.h - beat-by-beat comparison of detected QRS complexes with
 * reference beat annotations, by the rules of ANSI/AAMI EC57 as WFDB's `bxb`
 * applies them.
 *
 * Rules (times in samples):
 *  - a detection d and a reference beat r can match when |d - r| <= window
 *    (bxb's default window is 0.15 s: qrs_window_samples(150, fs));
 *  - matching is one-to-one; both lists are swept in time order and the
 *    earlier of the two current annotations is paired with the current one
 *    of the other list when that is within the window AND strictly closer
 *    than the other list's next annotation (bxb's pairing), otherwise it is
 *    left unmatched: an unmatched reference beat is a false negative (FN),
 *    an unmatched detection a false positive (FP), a pair a true positive;
 *  - learning period: reference beats before `start` are not counted; a
 *    detection before `start` counts only as the match of the first reference
 *    beat at or after `start` (when it is the better match); a detection in
 *    the first `window` samples after `start` that is a worse match for that
 *    beat than the next detection is skipped, not counted (bxb's rules at the
 *    start of the test period).  bxb's default start is 5 minutes;
 *  - `end` (>= 0): annotations after it are not counted; -1: no end;
 *  - excluded intervals [begin, end] (inclusive), such as ventricular flutter
 *    or fibrillation episodes (reference '[' to ']') and periods where the
 *    reference marks both signals unreadable: reference beats inside are
 *    ignored, and a detection inside that matches no reference beat is not a
 *    false positive.  qrs_excluded_intervals makes them from an annotation
 *    file as bxb reads it.
 *
 * Se = TP / (TP + FN), +P = TP / (TP + FP).
 */
#ifndef ECG_QRS_MATCH_H
#define ECG_QRS_MATCH_H

#include <stddef.h>
#include <stdint.h>

#include "ecg_core.h"
#include "wfdb.h"

typedef struct qrs_interval
{
	int64_t		begin;			/* first sample of the interval */
	int64_t		end;			/* last sample of the interval (inclusive) */
} qrs_interval;

typedef struct qrs_match_counts
{
	int64_t		tp;				/* reference beats matched by a detection */
	int64_t		fn;				/* reference beats with no detection */
	int64_t		fp;				/* detections matching no reference beat */
} qrs_match_counts;

/*
 * Compares detections det[0..n_det) with reference beats ref[0..n_ref), both
 * sorted in non-decreasing order, and ADDS the counts to *counts (zero it
 * first; adding lets one total several records).  excluded: n_excluded
 * intervals sorted by begin, not overlapping (NULL when n_excluded is 0).
 * Errors: ECG_ERR_ARGUMENT (window < 0, start < 0, end < -1, an unsorted
 * array - the message names which and the index -, bad intervals, NULL array
 * with a non-zero count).  Pure function: no allocation.
 */
int			qrs_match(const int64_t *ref, size_t n_ref, const int64_t *det, size_t n_det,
					  int64_t window, int64_t start, int64_t end,
					  const qrs_interval *excluded, size_t n_excluded,
					  qrs_match_counts *counts, ecg_status *st);

/* Window of `window_ms` milliseconds at `fs` Hz in samples, rounded to the
 * nearest (half up) as WFDB's strtim does: 150 ms at 360 Hz = 54.
 * -1 when the arguments are not finite and positive (window_ms >= 0). */
int64_t		qrs_window_samples(double window_ms, double fs);

/* Start of bxb's default test period: 5 minutes at `fs`, rounded. */
int64_t		qrs_learning_samples(double fs);

/* Se and +P in percent; NaN when the denominator is 0. */
double		qrs_sensitivity(const qrs_match_counts *c);
double		qrs_positive_predictivity(const qrs_match_counts *c);

/*
 * 1 when an annotation symbol is a beat for QRS detection (WFDB's isqrs):
 * N L R B A a J S V r F e j n E / f Q ?.  Flutter waves '!' and every
 * non-beat annotation: 0.
 */
int			qrs_is_beat_symbol(const char *symbol);

/*
 * The excluded intervals of a reference annotation file (sorted by sample),
 * read as bxb does: each '[' ... ']' ventricular flutter/fibrillation episode
 * (to the end of the record - INT64_MAX - when ']' is missing), and each
 * shutdown ('~' noise annotation with both bits 4 and 5 of its subtype set)
 * up to the next '~' that clears them, or, when another annotation comes
 * first, from `window` after the previous beat to `window` before that
 * annotation.  *out: ecg_alloc'ed (NULL when none).  Errors: ECG_ERR_NOMEM.
 */
int			qrs_excluded_intervals(const wfdb_annotation *ann, size_t n, int64_t window,
								   qrs_interval **out, size_t *n_out, ecg_status *st);

#endif
