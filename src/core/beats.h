/*
 * beats.h - heartbeat extraction after Kachuee, Fazeli and Sarrafzadeh,
 * "ECG Heartbeat Classification: A Deep Transferable Representation" (2018).
 *
 * For one record and one lead:
 *  1. ADC values become physical units: (adc - baseline) / gain;
 *  2. the signal is resampled from fs to BEAT_RATE_HZ (125 Hz, resample_poly);
 *  3. the resampled signal is cut into consecutive 10 s windows of
 *     BEAT_WINDOW samples (the last one may be shorter);
 *  4. every annotation whose symbol maps to an AAMI class is a beat, with its
 *     R peak at r = round(sample * 125 / fs) in the resampled signal (halves
 *     round up, here and in step 6);
 *  5. T = median of the R-R intervals between consecutive beats whose R peaks
 *     lie in the same window; when the window holds fewer than 2 beats, the
 *     median R-R interval of the whole record; when the record holds fewer
 *     than 2 beats, BEAT_LENGTH / 1.2;
 *  6. the beat is the signal from r for round(1.2 * T) samples, at most
 *     BEAT_LENGTH, zero-padded to BEAT_LENGTH (also where the signal ends);
 *  7. its samples are min-max normalised to [0, 1] by the minimum and
 *     maximum over its window and its own samples (a flat range gives zeros).
 *
 * No beat is dropped except those whose R peak lies outside the signal;
 * they are counted by reason.
 *
 * Every beat also gets its R-R features (rr_features.h), computed over ALL
 * the marks given (dropped ones included: they are beats of the record too),
 * in the order given - time order for annotation files and for annotation
 * tables read by sample.
 */
#ifndef ECG_BEATS_H
#define ECG_BEATS_H

#include <stddef.h>
#include <stdint.h>

#include "aami.h"
#include "ecg_core.h"
#include "rr_features.h"
#include "wfdb.h"

#define BEAT_LENGTH		187
#define BEAT_RATE_HZ	125
#define BEAT_WINDOW		(10 * BEAT_RATE_HZ)		/* samples per 10 s window */

typedef enum beat_drop_reason
{
	BEAT_DROP_BEFORE_START = 0,	/* annotation sample < 0 */
	BEAT_DROP_AFTER_END,		/* annotation sample or R peak past the signal's end */
	BEAT_DROP_N_REASONS
} beat_drop_reason;

typedef struct beat
{
	int64_t		sample;			/* R peak at the original rate (annotation sample) */
	char		symbol[4];		/* annotation symbol, e.g. "N" */
	int			label;			/* AAMI class 0..4, -1 when unlabelled */
	float		signal[BEAT_LENGTH];	/* normalised samples in [0, 1] */
	float		rr[RR_FEATURES];	/* R-R features, NAN where undefined */
} beat;

typedef struct beat_set
{
	beat	   *beats;			/* n_beats entries in annotation order, ecg_alloc'ed */
	size_t		n_beats;
	int64_t		class_counts[AAMI_N_CLASSES];	/* kept beats per class */
	int64_t		drop_counts[BEAT_DROP_N_REASONS];	/* dropped beats per reason */
	int64_t		n_resampled;	/* length of the signal at 125 Hz */
	int64_t		n_unlabelled;	/* kept beats without a class (label -1) */
} beat_set;

/* A position to cut a beat at: the R peak at the signal's own rate, its
 * AAMI class (-1 for an unlabelled beat, e.g. one found by a detector) and
 * its annotation symbol ("" when none). */
typedef struct beat_mark
{
	int64_t		sample;
	int			label;
	char		symbol[4];
} beat_mark;

/*
 * Extracts the beats of one lead: adc[0..n) raw ADC values of the lead whose
 * header line is *spec (gain and baseline), sampled at fs Hz, and the
 * record's annotations (in time order, as in the file; non-beat annotations
 * are ignored).  On failure *out holds nothing to release.
 * Errors: ECG_ERR_ARGUMENT (fs <= 0 or not finite, gain 0, n < 0),
 * ECG_ERR_NOMEM.
 */
int			beats_extract(const int32_t *adc, int64_t n, const wfdb_signal_spec *spec, double fs,
						  const wfdb_annotation *ann, size_t n_ann, beat_set *out, ecg_status *st);

/*
 * The method on a lead already in physical units: phys[0..n) sampled at fs
 * Hz, a beat cut at every mark (in the order given; steps 4-7 above with
 * the mark's sample, label and symbol, label -1 allowed).  beats_extract is
 * beats_physical_units, beats_marks_from_annotations and this, so that both
 * paths give the same beats bit for bit.  Errors: ECG_ERR_ARGUMENT (fs <= 0
 * or not finite, n < 0), ECG_ERR_NOMEM, ECG_ERR_LIMIT.
 */
int			beats_extract_marks(const float *phys, int64_t n, double fs, const beat_mark *marks,
								size_t n_marks, beat_set *out, ecg_status *st);

/* Step 1: *out (ecg_alloc'ed, n floats) = (adc - baseline) / gain as float.
 * Errors: ECG_ERR_ARGUMENT (gain 0 or not finite, n < 0), ECG_ERR_NOMEM. */
int			beats_physical_units(const int32_t *adc, int64_t n, const wfdb_signal_spec *spec,
								 float **out, ecg_status *st);

/* The marks of the annotations whose symbol maps to an AAMI class, in file
 * order, into marks[] (room for n_ann); returns how many. */
size_t		beats_marks_from_annotations(const wfdb_annotation *ann, size_t n_ann, beat_mark *marks);

/*
 * The whole pipeline on the bytes of one record: decodes signal `signal` of
 * header `h` from `dat` (its signal file), parses `atr` (MIT annotations)
 * and extracts the beats at h->sampling_frequency.  Errors of either parser
 * are passed on with the record name prefixed to the message.
 */
int			beats_extract_record(const wfdb_header *h, int signal, const uint8_t *dat,
								 size_t dat_len, const uint8_t *atr, size_t atr_len,
								 beat_set *out, ecg_status *st);

void		beat_set_release(beat_set *set);

/* "before start" / "after end"; "?" for an unknown reason */
const char *beat_drop_reason_name(int reason);

#endif
