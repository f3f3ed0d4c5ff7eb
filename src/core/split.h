/*
 * split.h - train/test assignment of labelled rows.
 *
 * Rows are given in a fixed order (the glue passes them sorted by id), so the
 * same seed gives the same assignment row for row.
 */
#ifndef ECG_SPLIT_H
#define ECG_SPLIT_H

#include "ecg_core.h"

/*
 * Stratified: within each class c (labels 0..n_classes-1) exactly
 * round(count_c * test_fraction) rows, drawn by a seeded shuffle of that class,
 * go to the test side.  Random: round(n * test_fraction) rows drawn from all.
 * is_test[i] receives 1 for test rows, 0 for the others.
 */
int			split_stratified(const int *labels, int64_t n, int n_classes, double test_fraction,
							 uint64_t seed, uint8_t *is_test, ecg_status *st);
int			split_random(int64_t n, double test_fraction, uint64_t seed, uint8_t *is_test,
						 ecg_status *st);

/*
 * de Chazal et al. (2004) inter-patient division of the MIT-BIH records:
 * returns 0 for DS1 (training), 1 for DS2 (test) and -1 for a record in
 * neither (the paced records 102, 104, 107 and 217, or a foreign name).
 */
int			split_inter_patient_side(const char *record);

#endif
