/*
 * plots.h - the charts of ecgdl as SVG text (pure C core, no postgres.h).
 *
 * The glue validates its inputs (finite numbers, matching lengths, fs > 0)
 * and reads the stored figures; these functions only draw.  Each writes a
 * whole SVG document into `b` (svg.h); b->failed tells of an allocation
 * failure.
 */
#ifndef ECG_PLOTS_H
#define ECG_PLOTS_H

#include <stddef.h>

#include "svg.h"

/* ECG paper: 25 mm/s, 10 mm per unit of the signal (drawn as 1 mV) */
#define PLOT_MM_PER_SECOND 25.0
#define PLOT_MM_PER_UNIT 10.0

/*
 * A beat of n samples at fs Hz on ECG paper (1 mm and 5 mm grid, sizes in
 * mm).  second (may be NULL) is drawn as a second, dashed trace; shading
 * (may be NULL) colours the column of each sample by its value, red for
 * positive and blue for negative, opacity proportional to |value| over the
 * largest |value|.  title may be NULL.
 */
extern void plot_beat_svg(svg_buf *b, const double *signal, const double *second,
						  const double *shading, size_t n, double fs, const char *title);

/*
 * A k x k confusion matrix (counts row-major, rows the true class, columns
 * the predicted one) as a heat map coloured by the row-normalised share,
 * each cell with its count and share.
 */
extern void plot_confusion_svg(svg_buf *b, const long long *counts, int k,
							   const char *const *names, const char *title);

/* One epoch of a training history; NaN for a figure that is missing. */
typedef struct plot_epoch
{
	int			epoch;
	double		loss;
	double		accuracy;
	double		val_loss;
	double		val_accuracy;
	double		lr;
} plot_epoch;

/*
 * Loss and accuracy per epoch (two panels), training solid and validation
 * dashed, a dotted line at each epoch whose learning rate is lower than the
 * one before, and the best epoch (1-based; 0 = none) marked.
 */
extern void plot_history_svg(svg_buf *b, const plot_epoch *epochs, size_t n,
							 int best_epoch, const char *title);

#endif
