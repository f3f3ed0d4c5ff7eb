/*
 * qrs.h - streaming QRS (R-peak) detector for one ECG lead.
 *
 * The detector works at the signal's own sampling rate (100 to 1000 Hz) on
 * samples in physical units (mV).  The signal may be fed in chunks of any
 * size, one sample at a time or the whole record at once: the beats found
 * are identical whatever the chunking (the state carries every filter and
 * decision across chunk boundaries).  Memory is fixed when the detector is
 * made (a few seconds of signal in ring buffers, see qrs_detector_memory)
 * and does not grow with the record; nothing is allocated while feeding.
 * No global state: one detector per thread/record, any number at once.
 *
 * Beats are reported through a callback as absolute sample positions of the
 * R peaks (0 = the first sample ever fed), in strictly increasing order.  A
 * beat is reported some time after its R peak (at most QRS_MAX_DELAY_SECONDS
 * of signal later), so the last beats come out of qrs_detector_finish.
 *
 *	qrs_detector *d = qrs_detector_new(360.0, &st);
 *	for each chunk: qrs_detector_feed(d, chunk, n, emit, arg, &st);
 *	qrs_detector_finish(d, emit, arg, &st);
 *	qrs_detector_free(d);
 *
 * Functions that can fail return 0 on success and -1 on failure, with the
 * reason in *st (ecg_core.h).
 */
#ifndef ECG_QRS_H
#define ECG_QRS_H

#include <stddef.h>
#include <stdint.h>

#include "ecg_core.h"

#define QRS_FS_MIN	100.0		/* lowest sampling rate accepted, Hz */
#define QRS_FS_MAX	1000.0		/* highest sampling rate accepted, Hz */

/* Upper bound on the signal time between an R peak and the feed/finish call
 * that reports it, seconds. */
#define QRS_MAX_DELAY_SECONDS 6.0

typedef struct qrs_detector qrs_detector;

/*
 * Called once per beat, in increasing order of `sample`.  Returns 0 to go on,
 * or -1 after filling *st (ecg_fail) to stop: the feed/finish call that made
 * the call then returns -1 with that status, and the detector may only be
 * freed (or reset).
 */
typedef int (*qrs_beat_fn) (void *arg, int64_t sample, ecg_status *st);

/*
 * A detector for a signal sampled at `fs` Hz.  NULL on failure:
 * ECG_ERR_ARGUMENT when fs is not finite or outside [QRS_FS_MIN, QRS_FS_MAX],
 * ECG_ERR_NOMEM.
 */
qrs_detector *qrs_detector_new(double fs, ecg_status *st);

/*
 * Feeds the next n samples (mV) of the signal; beats found so far are passed
 * to emit(arg, sample, st).  n == 0 is allowed (x may then be NULL).
 * Errors:
 *  - ECG_ERR_DATA when a sample is NaN or infinite: the message names its
 *    absolute position; the whole chunk is refused before any of it is used,
 *    so the detector is unchanged and may go on with a corrected chunk;
 *  - ECG_ERR_ARGUMENT when the detector was already finished, or x is NULL
 *    with n > 0;
 *  - the callback's own failure.
 */
int			qrs_detector_feed(qrs_detector *det, const float *x, size_t n,
							  qrs_beat_fn emit, void *arg, ecg_status *st);

/*
 * Ends the signal: reports the beats still held back.  After it, feed fails
 * until qrs_detector_reset.  Errors: ECG_ERR_ARGUMENT when already finished;
 * the callback's failure.
 */
int			qrs_detector_finish(qrs_detector *det, qrs_beat_fn emit, void *arg,
								ecg_status *st);

/* Forgets the signal: the detector is as new (same fs), for the next record. */
void		qrs_detector_reset(qrs_detector *det);

/* Samples fed so far (since new/reset). */
int64_t		qrs_detector_position(const qrs_detector *det);

/* Sampling rate the detector was made for. */
double		qrs_detector_fs(const qrs_detector *det);

/* Bytes the detector holds (fixed for its lifetime). */
size_t		qrs_detector_memory(const qrs_detector *det);

/*
 * The detector's current noise level against its signal level (NPK / SPK,
 * the envelope's noise peaks against its QRS peaks): about 0.01-0.03 on a
 * clean lead, higher in noise; 1 while learning.  Read from inside the beat
 * callback it is the level with which that beat was decided.
 */
double		qrs_detector_noise_ratio(const qrs_detector *det);

void		qrs_detector_free(qrs_detector *det);

/*
 * 0 when the n samples are all finite, else -1 with ECG_ERR_DATA naming the
 * first bad one by its absolute position (first + index) and, when lead > 0,
 * its lead ("sample 700 of lead 2 is not finite").
 */
int			qrs_check_samples(const float *x, size_t n, int64_t first, int lead,
							  ecg_status *st);

/*
 * One-shot convenience: the R peaks of the whole signal x[0..n) in *out (an
 * ecg_alloc'ed array of *n_out positions, NULL when none; release with
 * ecg_free).  Same errors as qrs_detector_new and qrs_detector_feed, and
 * ECG_ERR_NOMEM.
 */
int			qrs_detect(const float *x, size_t n, double fs, int64_t **out, size_t *n_out,
					   ecg_status *st);

#endif
