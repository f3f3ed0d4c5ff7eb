/*
 * ec57.c - EC57 beat classification figures (ec57.h).
 */
#include "ec57.h"

#include <math.h>

static double
fraction(int64_t num, int64_t den)
{
	return den > 0 ? (double) num / (double) den : NAN;
}

int64_t
ec57_beats(const int64_t *confusion)
{
	int64_t		n = 0;

	for (int t = 0; t < EC57_CLASSES; t++)
		for (int p = 0; p < EC57_MATRIX; p++)
			n += confusion[t * EC57_MATRIX + p];
	return n;
}

void
ec57_class_stats(const int64_t *confusion, int c, ec57_stats *out)
{
	int64_t		row = 0,
				column = 0;

	for (int p = 0; p < EC57_MATRIX; p++)
		row += confusion[c * EC57_MATRIX + p];
	for (int t = 0; t < EC57_CLASSES; t++)
		column += confusion[t * EC57_MATRIX + c];
	out->tp = confusion[c * EC57_MATRIX + c];
	out->fn = row - out->tp;
	out->fp = column - out->tp;
	out->tn = ec57_beats(confusion) - out->tp - out->fn - out->fp;
	out->se = fraction(out->tp, out->tp + out->fn);
	out->ppv = fraction(out->tp, out->tp + out->fp);
	out->fpr = fraction(out->fp, out->fp + out->tn);
	out->f1 = fraction(2 * out->tp, 2 * out->tp + out->fp + out->fn);
}

double
ec57_macro_f1(const int64_t *confusion)
{
	double		sum = 0.0;
	int			n = 0;

	for (int c = 0; c < EC57_CLASSES; c++)
	{
		ec57_stats	s;

		ec57_class_stats(confusion, c, &s);
		if (!isnan(s.f1))
		{
			sum += s.f1;
			n++;
		}
	}
	return n > 0 ? sum / n : NAN;
}
