/*
 * record_median.h - beat shape relative to the patient's own beats: every
 * beat minus the median beat of its record (issue 12, "Patients never seen").
 *
 * A network trained on some patients' beats learns their shapes; a new
 * patient's normal beats may look like nothing it has seen (another lead
 * position, another QRS axis).  Subtracting the record's median beat (sample
 * by sample; most beats of a record are its normal beats, so the median beat
 * is its typical normal beat) leaves what sets a beat apart from the
 * patient's usual beat: about zero for a normal beat of any patient, the
 * difference in shape for an ectopic one.  It is a per-record normalisation,
 * computed from the beats alone (no labels).
 */
#ifndef ECG_RECORD_MEDIAN_H
#define ECG_RECORD_MEDIAN_H

#include <stddef.h>
#include <stdint.h>

#include "ecg_core.h"

/*
 * The median beat of n >= 1 beats of `length` samples (row-major
 * beats[n][length]): median[k] is the median of beats[0..n-1][k]; for even n
 * the mean of the two middle values (computed in double, rounded once).
 * scratch holds n floats.  Values must be finite (not checked here).
 */
void		beats_median(const float *beats, size_t n, size_t length, float *median,
						 float *scratch);

/*
 * Subtracts from each of the n beats (row-major signals[n][length], in place)
 * the median beat of its group: group[i] in 0 .. n_groups - 1 names the
 * record of beat i; rows of a group need not be adjacent.  If medians is not
 * NULL it receives the n_groups median beats (medians[n_groups][length]; a
 * group without beats gets zeros).  Fails (ECG_ERR_ARGUMENT) on a group id
 * out of range or a non-finite sample, leaving signals untouched;
 * ECG_ERR_NOMEM when the work areas cannot be allocated.
 */
int			beats_subtract_group_median(float *signals, size_t n, size_t length,
										const int32_t *group, size_t n_groups,
										float *medians, ecg_status *st);

#endif
