/*
 * qrs_leads.h - streaming QRS detection on two leads of one recording.
 *
 * Runs the single-lead detector (qrs.h) on each lead and combines their
 * beats by the quality of each lead: a beat both leads find is a beat; a beat
 * only one lead finds is a beat when that lead is the one to trust at the
 * time - the first (primary) lead unless it is noisy and the second lead is
 * much cleaner (by each detector's NPK/SPK, qrs_detector_noise_ratio).  On
 * a clean primary lead the beats are the primary lead's own.
 *
 * Both leads are sampled at the same rate and arrive in the same chunks
 * (the same number of samples of each per feed).  As with qrs.h the beats
 * do not depend on the chunking, memory is fixed when the detector is made,
 * and a beat is reported at most QRS_LEADS_MAX_DELAY_SECONDS of signal after
 * its R peak.  Beats are sample positions of the primary lead's R peak, or
 * of the second lead's when only it found the beat.
 *
 *	qrs_leads *d = qrs_leads_new(360.0, 2, &st);
 *	for each chunk: qrs_leads_feed(d, (const float *[]) {mlii, v1}, n, emit, arg, &st);
 *	qrs_leads_finish(d, emit, arg, &st);
 *	qrs_leads_free(d);
 */
#ifndef ECG_QRS_LEADS_H
#define ECG_QRS_LEADS_H

#include "qrs.h"

#define QRS_LEADS_MAX	2

/* Upper bound on the signal time between an R peak and its report. */
#define QRS_LEADS_MAX_DELAY_SECONDS (QRS_MAX_DELAY_SECONDS + 1.5)

typedef struct qrs_leads qrs_leads;

/*
 * A detector for n_leads (1 or QRS_LEADS_MAX) leads sampled at fs Hz.  With
 * one lead it gives the single-lead detector's beats.  NULL on failure:
 * ECG_ERR_ARGUMENT (fs as qrs_detector_new, n_leads), ECG_ERR_NOMEM.
 */
qrs_leads  *qrs_leads_new(double fs, int n_leads, ecg_status *st);

/*
 * Feeds the next n samples (mV) of every lead: x[l] points to lead l's n
 * samples.  Errors as qrs_detector_feed (a NaN or infinite sample names its
 * lead and position, and no lead's chunk is used).
 */
int			qrs_leads_feed(qrs_leads *det, const float *const *x, size_t n,
						   qrs_beat_fn emit, void *arg, ecg_status *st);

/* Ends the signal, reports the beats still held back (as qrs_detector_finish). */
int			qrs_leads_finish(qrs_leads *det, qrs_beat_fn emit, void *arg, ecg_status *st);

/* Forgets the signal: as new, for the next record. */
void		qrs_leads_reset(qrs_leads *det);

int			qrs_leads_count(const qrs_leads *det);

/* Bytes the detector holds (fixed for its lifetime). */
size_t		qrs_leads_memory(const qrs_leads *det);

void		qrs_leads_free(qrs_leads *det);

#endif
