/*
 * aami.h - the five AAMI EC57 heartbeat classes and the MIT-BIH annotation
 * symbols that map to them.
 *
 *   0 N  normal and bundle-branch-block beats, escapes:  N L R e j
 *   1 S  supraventricular ectopic beats:                 A a J S
 *   2 V  ventricular ectopic beats:                      V E
 *   3 F  fusion of ventricular and normal:               F
 *   4 Q  paced, fusion of paced and normal, unclassified: / f Q
 *
 * Every other annotation (rhythm changes, noise, comments ...) is not a beat.
 */
#ifndef ECG_AAMI_H
#define ECG_AAMI_H

#define AAMI_N_CLASSES 5

enum
{
	AAMI_N = 0,
	AAMI_S = 1,
	AAMI_V = 2,
	AAMI_F = 3,
	AAMI_Q = 4
};

/* Class 0..4 of an annotation symbol such as "N" or "/", -1 when the symbol
 * is not a beat (or NULL). */
int			aami_class_of_symbol(const char *symbol);

/* "N", "S", "V", "F", "Q" for 0..4; "?" otherwise. */
const char *aami_class_name(int aami_class);

#endif
