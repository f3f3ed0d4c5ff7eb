/*
 * rr_features.h - rhythm (R-R interval) features of the beats of one record.
 *
 * Beat tables made from records (ecg_import_wfdb, ecg_beats_from_signals)
 * carry eight nullable real columns, in this order (RR_* below):
 *
 *   rr_pre          seconds from the previous beat's R peak to this one's
 *   rr_post         seconds from this R peak to the next beat's
 *   rr_local        mean R-R (s) of the pre-R-R intervals of beats i-4 .. i+5
 *                   that exist (up to 10 intervals; includes this beat's pre-
 *                   and post-R-R)
 *   rr_record       mean R-R (s) of the whole record:
 *                   (last sample - first sample) / (n - 1) / fs
 *   rr_pre_local    rr_pre / rr_local
 *   rr_post_local   rr_post / rr_local
 *   rr_pre_record   rr_pre / rr_record
 *   rr_post_record  rr_post / rr_record
 *
 * and since 0.4.0 three more (tables made before have only the eight; see
 * RR_BASIC_FEATURES):
 *
 *   rr_window       mean R-R (s) of the pre-R-R intervals of the beats whose
 *                   R peaks lie within RR_WINDOW_SECONDS before or after this
 *                   beat's, always including this beat's pre- and post-R-R:
 *                   the rate of the surrounding minutes, between rr_local's
 *                   ten beats and rr_record's whole record
 *   rr_pre_window   rr_pre / rr_window
 *   rr_post_window  rr_post / rr_window
 *
 * They are computed over ALL beats of the record (every beat annotation, not
 * only the classes kept; for detected beats every detected beat), in sample
 * order, before any class filter.  Undefined values are NAN (stored as SQL
 * NULL): rr_pre of the first beat, rr_post of the last, the ratios that use
 * them, and everything for a record of one beat.  A ratio whose denominator
 * is zero (beats annotated at the same sample) is NAN too.
 *
 * Imputation (rr_features_impute) is applied by whoever feeds a model, never
 * stored: rr_pre NAN -> rr_post; rr_post NAN -> rr_pre; rr_local NAN ->
 * rr_record; then every ratio still NAN is recomputed from the (imputed)
 * values; a value that stays undefined (a lone beat) is an error naming it.
 * rr_window is not imputed: it is defined wherever rr_pre or rr_post is, so
 * a NULL there means a row made before 0.4.0 (or from such a table), and a
 * model that reads it must refuse the row rather than guess.
 */
#ifndef ECG_RR_FEATURES_H
#define ECG_RR_FEATURES_H

#include <stddef.h>
#include <stdint.h>

#define RR_FEATURES 11
/* The features of tables made before 0.4.0 (the first eight), and the
 * width of a model's features node when none are named. */
#define RR_BASIC_FEATURES 8
/* Half-width of rr_window's neighbourhood, seconds. */
#define RR_WINDOW_SECONDS 150.0

/* Column indices in a float[RR_FEATURES] row. */
enum
{
	RR_PRE = 0,
	RR_POST,
	RR_LOCAL,
	RR_RECORD,
	RR_PRE_LOCAL,
	RR_POST_LOCAL,
	RR_PRE_RECORD,
	RR_POST_RECORD,
	RR_WINDOW,
	RR_PRE_WINDOW,
	RR_POST_WINDOW
};

/* Beats before and after beat i whose pre-R-R intervals make rr_local:
 * intervals of beats i - RR_LOCAL_BEFORE .. i + RR_LOCAL_AFTER. */
#define RR_LOCAL_BEFORE 4
#define RR_LOCAL_AFTER 5

/* The column names, in order: "rr_pre", "rr_post", ..., "rr_post_window". */
extern const char *const rr_feature_names[RR_FEATURES];

/*
 * Computes the features of each of the n beats whose R peaks are at
 * samples[0..n-1] (non-decreasing; sampling rate fs > 0), into out[0..n-1]
 * (NAN where undefined).  n == 0 writes nothing.  Values are computed in
 * double and rounded to float once.
 */
void		rr_features_compute(const int64_t *samples, size_t n, double fs,
								float (*out)[RR_FEATURES]);

/*
 * Imputes one row in place as described above (a non-finite value counts as
 * undefined).  Returns 0 when the eight basic values are defined afterwards
 * (the window ratios are recomputed where rr_window is defined), else
 * 1 + the index of the first one that is still undefined, so
 * rr_feature_names[rc - 1] names the column for the error message.
 */
int			rr_features_impute(float f[RR_FEATURES]);

/* Whether any of the n feature indices (into rr_feature_names) is a window
 * column (0.4.0), which tables made before do not have. */
int			rr_features_read_window(const int32_t *ids, int n);

#endif
