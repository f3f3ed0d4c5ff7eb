/*
 * aami.c - AAMI EC57 classes of MIT-BIH beat annotation symbols.
 */
#include "aami.h"

#include <string.h>

int
aami_class_of_symbol(const char *symbol)
{
	/* every beat symbol is a single character */
	if (symbol == NULL || symbol[0] == '\0' || symbol[1] != '\0')
		return -1;
	switch (symbol[0])
	{
		case 'N':
		case 'L':
		case 'R':
		case 'e':
		case 'j':
			return AAMI_N;
		case 'A':
		case 'a':
		case 'J':
		case 'S':
			return AAMI_S;
		case 'V':
		case 'E':
			return AAMI_V;
		case 'F':
			return AAMI_F;
		case '/':
		case 'f':
		case 'Q':
			return AAMI_Q;
		default:
			return -1;
	}
}

const char *
aami_class_name(int aami_class)
{
	static const char *const names[AAMI_N_CLASSES] = {"N", "S", "V", "F", "Q"};

	if (aami_class < 0 || aami_class >= AAMI_N_CLASSES)
		return "?";
	return names[aami_class];
}
