/*
 * metrics.h - classification metrics from a confusion matrix, with
 * scikit-learn's classification_report semantics (a class without predicted
 * rows has precision 0, one without true rows recall 0; F1 of 0/0 is 0).
 */
#ifndef ECG_METRICS_H
#define ECG_METRICS_H

#include "ecg_core.h"

#define METRICS_MAX_CLASSES 64

typedef struct class_metrics
{
	double		precision;
	double		recall;
	double		f1;
	int64_t		support;		/* true rows of the class */
} class_metrics;

typedef struct classification_report
{
	int			n_classes;
	int64_t		total;
	double		accuracy;
	class_metrics per_class[METRICS_MAX_CLASSES];
	class_metrics macro;		/* unweighted mean over classes; support = total */
	class_metrics weighted;		/* mean weighted by support; support = total */
} classification_report;

/*
 * Adds n (true, predicted) pairs to confusion[true * n_classes + predicted].
 * Labels outside 0..n_classes-1 fail with ECG_ERR_ARGUMENT naming the row.
 */
int			metrics_confusion_add(int64_t *confusion, int n_classes, const int *truth,
								  const int *predicted, int64_t n, ecg_status *st);

/* The report of a confusion matrix. */
void		metrics_report(const int64_t *confusion, int n_classes, classification_report *out);

/* Index of the largest of n values (the first on ties). */
int			metrics_argmax(const float *values, int n);

#endif
