/*
 * nn_decision.c - operating points (nn_decision.h).
 */
#include "nn_decision.h"

#include <math.h>
#include <string.h>

#define GRID_LO (-4.0f)
#define GRID_HI 6.0f
#define GRID_STEP 0.25f
#define SWEEPS 3

static const char *const mode_names[] = {"argmax", "prior", "validation"};

int
nn_decision_parse(const char *name)
{
	for (int k = 0; k <= NN_DECISION_LAST; k++)
		if (name != NULL && strcmp(name, mode_names[k]) == 0)
			return k;
	return -1;
}

const char *
nn_decision_name(int mode)
{
	return mode >= 0 && mode <= NN_DECISION_LAST ? mode_names[mode] : "?";
}

static int
decide(const float *p, int n_classes, const float *offsets)
{
	int			best = 0;
	double		best_score = -INFINITY;

	for (int c = 0; c < n_classes; c++)
	{
		double		score = log((double) p[c]) + offsets[c];

		if (score > best_score)
		{
			best_score = score;
			best = c;
		}
	}
	return best;
}

double
nn_decision_macro_f1(const float *probs, const int *labels, size_t n, int n_classes,
					 const float *offsets)
{
	size_t		tp[NN_MAX_CLASSES] = {0},
				called[NN_MAX_CLASSES] = {0},
				actual[NN_MAX_CLASSES] = {0};
	double		sum = 0;
	int			used = 0;

	for (size_t i = 0; i < n; i++)
	{
		int			c = decide(probs + i * (size_t) n_classes, n_classes, offsets);

		called[c]++;
		actual[labels[i]]++;
		tp[c] += c == labels[i];
	}
	for (int c = 0; c < NN_DECISION_F1_CLASSES && c < n_classes; c++)
		if (called[c] + actual[c] > 0)
		{
			sum += 2.0 * (double) tp[c] / (double) (called[c] + actual[c]);
			used++;
		}
	return used > 0 ? sum / used : 0.0;
}

int
nn_decision_choose(nn_model *model, int mode, const size_t *train_counts, const float *probs,
				   const int *labels, size_t n, ecg_status *st)
{
	int			classes = model->n_classes;
	float		off[NN_MAX_CLASSES] = {0};

	if (mode < 0 || mode > NN_DECISION_LAST)
		return ecg_fail(st, ECG_ERR_ARGUMENT, "unknown operating point %d", mode);
	if (mode == NN_DECISION_PRIOR)
	{
		size_t		most = 0;

		for (int c = 0; c < classes; c++)
			if (train_counts[c] > most)
				most = train_counts[c];
		for (int c = 0; c < classes; c++)
			if (train_counts[c] > 0)
			{
				double		o = log((double) most / (double) train_counts[c]);

				off[c] = (float) (o < NN_DECISION_MAX_OFFSET ? o : NN_DECISION_MAX_OFFSET);
			}
	}
	else if (mode == NN_DECISION_VALIDATION)
	{
		double		best;

		if (n == 0)
			return ecg_fail(st, ECG_ERR_ARGUMENT, "the validation operating point needs validation rows");
		best = nn_decision_macro_f1(probs, labels, n, classes, off);
		for (int sweep = 0; sweep < SWEEPS; sweep++)
			for (int c = 1; c < classes; c++)
			{
				float		keep = off[c];

				for (float v = GRID_LO; v <= GRID_HI + 1e-3f; v += GRID_STEP)
				{
					double		f1;

					off[c] = v;
					f1 = nn_decision_macro_f1(probs, labels, n, classes, off);
					if (f1 > best || (f1 == best && fabsf(v) < fabsf(keep)))
					{
						best = f1;
						keep = v;
					}
				}
				off[c] = keep;
				ecg_check_interrupts();
			}
	}
	model->decision = mode;
	memcpy(model->class_offset, off, sizeof(off));
	return 0;
}
