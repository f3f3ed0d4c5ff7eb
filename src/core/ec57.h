/*
 * ec57.h - beat classification figures as ANSI/AAMI EC57 and the
 * inter-patient literature (de Chazal et al. 2004) report them, from a 5 x 5
 * confusion matrix of the AAMI classes (rows: true class, columns: predicted,
 * order N S V F Q; aami.h).
 *
 * Q is left out, as EC57's gross statistics and the literature leave it:
 * beats whose true class is Q count nowhere; a beat of N, S, V or F predicted
 * Q is a miss of its true class (a false negative) and a false positive of
 * no class.  For a class c of N, S, V, F, over the beats of true class N, S,
 * V or F:
 *
 *   TP = beats of c predicted c        FN = beats of c predicted otherwise
 *   FP = beats of another class predicted c
 *   TN = the other beats (neither of c nor predicted c)
 *   Se = TP / (TP + FN)     +P = TP / (TP + FP)     FPR = FP / (FP + TN)
 *   F1 = 2 TP / (2 TP + FP + FN)
 *
 * A figure whose denominator is 0 is undefined (NAN; SQL NULL): Se of a record
 * without beats of the class, +P of a class never predicted.  Macro F1 is the
 * mean F1 of N, S, V and F over the classes whose F1 is defined (NAN when
 * none is).
 */
#ifndef ECG_EC57_H
#define ECG_EC57_H

#include <stdint.h>

#define EC57_CLASSES 4			/* N, S, V, F: the classes reported */
#define EC57_MATRIX 5			/* the confusion matrix is 5 x 5 (with Q) */

typedef struct ec57_stats
{
	int64_t		tp,
				fn,
				fp,
				tn;
	double		se,
				ppv,
				fpr,
				f1;
} ec57_stats;

/* The figures of class c (0..3 = N, S, V, F). */
void		ec57_class_stats(const int64_t *confusion, int c, ec57_stats *out);

/* Mean F1 over N, S, V, F where defined; NAN when none is. */
double		ec57_macro_f1(const int64_t *confusion);

/* Beats of true class N, S, V or F (the beats the figures count). */
int64_t		ec57_beats(const int64_t *confusion);

#endif
