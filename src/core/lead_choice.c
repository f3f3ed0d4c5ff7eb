/*
 * lead_choice.c - choosing a record's lead by a preference list
 * (lead_choice.h).
 */
#include "lead_choice.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

/* [*start, *end) of the next name of list p (spaces trimmed); returns the
 * position after it (past its comma), or NULL at the end of the list. */
static const char *
next_name(const char *p, const char **start, const char **end)
{
	const char *comma;

	if (p == NULL)
		return NULL;
	comma = strchr(p, ',');
	*start = p;
	*end = comma ? comma : p + strlen(p);
	while (*start < *end && isspace((unsigned char) **start))
		(*start)++;
	while (*end > *start && isspace((unsigned char) (*end)[-1]))
		(*end)--;
	return comma ? comma + 1 : p + strlen(p);
}

int
lead_preference_is_auto(const char *preference)
{
	const char *s,
			   *e;

	if (preference == NULL || strchr(preference, ',') != NULL)
		return 0;
	next_name(preference, &s, &e);
	return e - s == 4 && strncasecmp(s, "auto", 4) == 0;
}

/* The list a preference stands for. */
static const char *
expand(const char *preference)
{
	return lead_preference_is_auto(preference) ? LEAD_AUTO_PREFERENCE : preference;
}

int
lead_preference_valid(const char *preference)
{
	const char *p = preference,
			   *s,
			   *e;

	if (preference == NULL)
		return 0;
	do
	{
		p = next_name(p, &s, &e);
		if (s == e)
			return 0;
	} while (*p != '\0' || p[-1] == ',');
	return 1;
}

int
lead_rank(const char *preference, const char *lead)
{
	const char *p = expand(preference),
			   *s,
			   *e;
	size_t		len = strlen(lead);
	int			rank = 0;

	if (p == NULL)
		return -1;
	while (*p != '\0')
	{
		p = next_name(p, &s, &e);
		if ((size_t) (e - s) == len && len > 0 && strncmp(s, lead, len) == 0)
			return rank;
		rank++;
	}
	return -1;
}

int
lead_choose(const char *preference, const char *const *names, int n)
{
	int			best = -1,
				best_rank = -1;

	for (int i = 0; i < n; i++)
	{
		int			r = lead_rank(preference, names[i]);

		if (r >= 0 && (best < 0 || r < best_rank))
		{
			best = i;
			best_rank = r;
		}
	}
	return best;
}
