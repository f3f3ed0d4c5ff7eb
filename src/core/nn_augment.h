/*
 * nn_augment.h - lead-robust training: random transformations of the training
 * beats, as another lead, another electrode placement or a noisier recording
 * would have shown them (issue 12, "patients never seen": models trained on
 * MIT-BIH's MLII meet V4, CM5, D3 ... in the QT Database).
 *
 * ecgdl's beats are already normalised: the samples from the R peak on, min-max
 * scaled by the range of the beat's 10 s window and of its own samples
 * (beats.h), then zero-padded to the row length.  A transformation of the raw
 * lead therefore shows in the row only after that normalisation, and the
 * transformations here are written in the row's own units, the window's range
 * being [0, 1]:
 *
 *  - shift s (integer, uniform in -shift..shift): the beat cut s samples later
 *    (s > 0) or earlier (s < 0) - another fiducial point of the annotation;
 *    row[i] = v[clamp(i + s, 0, len - 1)] over the beat's own samples
 *    (samples outside it are not known: the nearest one stands for them);
 *  - polarity (a probability): the lead inverted.  The window's minimum and
 *    maximum swap roles, so the normalised beat becomes exactly 1 - v;
 *  - amplitude a: the beat's height relative to its window scaled by a factor
 *    drawn in [1 - a, 1], as when larger beats or artefacts elsewhere in the
 *    window set its range: the window's range grows by 1/factor - 1, split at
 *    random below and above;
 *  - wander w: a baseline wander A sin(2 pi f t + phi), A uniform in [0, w]
 *    window ranges, f uniform in 0.1 .. 0.5 Hz, phi uniform; a period of at
 *    most 10 s spans its whole +-A within the window, which widens the
 *    window's range by A on each side;
 *  - noise n: white Gaussian noise of standard deviation uniform in [0, n]
 *    window ranges (EMG-like), which widens the window's range by 3 sd on each
 *    side (the extremes of 1250 samples).
 *
 * After shift and polarity, y = u + wander + noise; the new window range
 * [L, H] is the widened one extended over y's own samples (as beats.h extends
 * it over the beat), and the row becomes (y - L) / (H - L): in [0, 1] again,
 * normalised the way inference sees a beat.  The beat's own samples are those
 * up to its last non-zero one; the zero padding after them stays zero (as
 * beats.h pads).  A row of zeros is left alone.
 *
 * Deterministic and stateless: the randomness of a row comes only from (seed,
 * epoch, position of the row in the epoch's shuffled order), never from an
 * RNG state carried from row to row or epoch to epoch.  All strengths 0 (and
 * shift 0) is "off": nn_train then never calls this code.
 */
#ifndef ECG_NN_AUGMENT_H
#define ECG_NN_AUGMENT_H

#include <stddef.h>
#include <stdint.h>

#include "ecg_core.h"

/* Limits of the strengths (checked by nn_augment_check). */
#define NN_AUGMENT_MAX_AMPLITUDE	0.9
#define NN_AUGMENT_MAX_WANDER		2.0
#define NN_AUGMENT_MAX_NOISE		0.5
#define NN_AUGMENT_MAX_SHIFT		20

typedef struct nn_augment_config
{
	double		polarity;		/* probability of inverting the lead, 0..1 */
	double		amplitude;		/* 0..NN_AUGMENT_MAX_AMPLITUDE */
	double		wander;			/* 0..NN_AUGMENT_MAX_WANDER window ranges */
	double		noise;			/* 0..NN_AUGMENT_MAX_NOISE window ranges */
	int			shift;			/* 0..NN_AUGMENT_MAX_SHIFT samples at 125 Hz */
} nn_augment_config;

/* The preset 'lead': what lead-robust training uses unless told otherwise. */
#define NN_AUGMENT_LEAD_POLARITY	0.5
#define NN_AUGMENT_LEAD_AMPLITUDE	0.3
#define NN_AUGMENT_LEAD_WANDER		0.3
#define NN_AUGMENT_LEAD_NOISE		0.02
#define NN_AUGMENT_LEAD_SHIFT		3

/* 1 when any transformation is on. */
int			nn_augment_enabled(const nn_augment_config *config);

/* ECG_ERR_ARGUMENT naming the first strength out of its range (or NaN). */
int			nn_augment_check(const nn_augment_config *config, ecg_status *st);

/*
 * Parses a comma-separated list of items, later items overriding earlier
 * ones: 'none' (everything off), 'lead' (the preset above), or name=value
 * with name polarity, amplitude, wander, noise (decimal numbers) or shift (an
 * integer), e.g. 'lead, noise=0.05' or 'polarity=0.5, wander=0.2'.  Names are
 * case-insensitive, blanks around items ignored.  An empty text, an empty
 * item, an unknown name, a malformed or out-of-range value: ECG_ERR_ARGUMENT
 * naming it (*config is then undefined).
 */
int			nn_augment_parse(const char *text, nn_augment_config *config, ecg_status *st);

/*
 * The canonical text of a configuration ("none" when off, otherwise
 * "polarity=..., amplitude=..., wander=..., noise=..., shift=...", numbers to
 * 15 significant digits: it parses back to the same values when they were
 * given with at most 15); NUL-terminated, truncated to cap.
 */
void		nn_augment_format(const nn_augment_config *config, char *text, size_t cap);

/*
 * Transforms one row of `length` samples in place with the randomness of
 * (seed, epoch, position).
 */
void		nn_augment_row(const nn_augment_config *config, uint64_t seed, uint64_t epoch,
						   uint64_t position, float *row, size_t length);

/*
 * Transforms n consecutive rows [n][length] in place: row r gets position
 * first_position + r.
 */
void		nn_augment_batch(const nn_augment_config *config, uint64_t seed, uint64_t epoch,
							 uint64_t first_position, float *rows, size_t n, size_t length);

#endif
