/*
 * lead_choice.h - which lead of a record to use, by a preference list.
 *
 * A preference is a comma-separated list of lead names (signal descriptions
 * in WFDB headers, lead names in signal tables), tried in order, e.g.
 * 'MLII' or 'MLII, V5'; spaces around a name are ignored and names compare
 * exactly.  'auto' (any case) stands for LEAD_AUTO_PREFERENCE: the modified
 * limb lead II under its names in the PhysioNet databases, then lead III,
 * then the chest leads whose normal QRS is upright like lead II's (CM5, V5,
 * V4).  A record with none of the leads falls back to a lead the caller
 * chooses (its first signal).
 */
#ifndef ECG_LEAD_CHOICE_H
#define ECG_LEAD_CHOICE_H

#define LEAD_AUTO_PREFERENCE "MLII, ML2, II, MLIII, III, CM5, V5, V4"

/* Whether the preference is 'auto' (any case, spaces around ignored). */
int			lead_preference_is_auto(const char *preference);

/* Whether the preference is well formed: at least one name, none empty. */
int			lead_preference_valid(const char *preference);

/* The position (0 = first) of `lead` in the preference ('auto' expanded),
 * or -1 when it is not in it. */
int			lead_rank(const char *preference, const char *lead);

/* The index of the best-ranked of names[0..n) (the first of equals), or -1
 * when none is in the preference. */
int			lead_choose(const char *preference, const char *const *names, int n);

#endif
