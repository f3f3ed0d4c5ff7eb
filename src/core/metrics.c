/*
 * metrics.c - confusion matrices and classification reports.
 */
#include "metrics.h"

#include <string.h>

int
metrics_confusion_add(int64_t *confusion, int n_classes, const int *truth, const int *predicted,
					  int64_t n, ecg_status *st)
{
	for (int64_t i = 0; i < n; i++)
	{
		if (truth[i] < 0 || truth[i] >= n_classes || predicted[i] < 0 || predicted[i] >= n_classes)
		{
			ecg_fail(st, ECG_ERR_ARGUMENT, "label out of range in row %lld", (long long) i);
			return ecg_fail_detail(st, "true %d, predicted %d; classes are 0..%d",
								   truth[i], predicted[i], n_classes - 1);
		}
		confusion[truth[i] * n_classes + predicted[i]]++;
	}
	return 0;
}

static double
ratio(int64_t num, int64_t den)
{
	return den > 0 ? (double) num / (double) den : 0.0;
}

void
metrics_report(const int64_t *confusion, int n_classes, classification_report *out)
{
	int64_t		correct = 0;

	memset(out, 0, sizeof(*out));
	out->n_classes = n_classes;
	for (int t = 0; t < n_classes; t++)
		for (int p = 0; p < n_classes; p++)
		{
			out->total += confusion[t * n_classes + p];
			if (t == p)
				correct += confusion[t * n_classes + p];
		}
	out->accuracy = ratio(correct, out->total);
	for (int c = 0; c < n_classes; c++)
	{
		int64_t		tp = confusion[c * n_classes + c];
		int64_t		predicted = 0,
					actual = 0;
		class_metrics *m = &out->per_class[c];

		for (int k = 0; k < n_classes; k++)
		{
			predicted += confusion[k * n_classes + c];
			actual += confusion[c * n_classes + k];
		}
		m->precision = ratio(tp, predicted);
		m->recall = ratio(tp, actual);
		m->f1 = (m->precision + m->recall) > 0 ?
			2.0 * m->precision * m->recall / (m->precision + m->recall) : 0.0;
		m->support = actual;
		out->macro.precision += m->precision / n_classes;
		out->macro.recall += m->recall / n_classes;
		out->macro.f1 += m->f1 / n_classes;
		if (out->total > 0)
		{
			double		w = (double) actual / (double) out->total;

			out->weighted.precision += w * m->precision;
			out->weighted.recall += w * m->recall;
			out->weighted.f1 += w * m->f1;
		}
	}
	out->macro.support = out->total;
	out->weighted.support = out->total;
}

int
metrics_argmax(const float *values, int n)
{
	int			best = 0;

	for (int i = 1; i < n; i++)
		if (values[i] > values[best])
			best = i;
	return best;
}
