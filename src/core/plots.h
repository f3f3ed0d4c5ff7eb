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

/* The ECG paper (<g class="paper">): paper_w x paper_h mm from (0, top), a
 * line every mm and a heavier one every 5 mm. */
extern void plot_paper(svg_buf *b, double top, double paper_w, double paper_h);

/* A trace of n values as polylines in <g class="cls">: value i at x0 + i dx,
 * base - v[i] * PLOT_MM_PER_UNIT. */
extern void plot_trace(svg_buf *b, const char *cls, const double *v, size_t n, double x0,
					   double dx, double base, const svg_style *st);

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

/* The colour of each AAMI class N, S, V, F, Q in every chart (bars, beat
 * letters), and of a beat without a class. */
extern const char *const plot_class_colours[5];
#define PLOT_UNCLASSIFIED_COLOUR "#7f7f7f"

/* One group of a grouped bar chart: a value per series (NaN: no bar) and,
 * optionally, a reference value per series drawn as a pale bar beside it
 * (reference NULL, or NaN entries: none). */
typedef struct plot_bar_group
{
	const char *label;			/* under the group */
	const char *sublabel;		/* a second line under it (may be NULL) */
	const double *values;
	const double *reference;
} plot_bar_group;

/*
 * Grouped bars on a 0..1 axis: n_groups groups of n_series bars, each series
 * in its colour (solid), each reference value beside its bar (pale, outlined
 * in the series' colour).  The bars are in <g class="bars">, the reference
 * bars in <g class="reference">, one <rect> per finite value.  reference_name
 * (may be NULL) names the pale bars in the legend.
 */
extern void plot_grouped_bars_svg(svg_buf *b, const plot_bar_group *groups, int n_groups,
								  int n_series, const char *const *series_names,
								  const char *const *colours, const char *y_label,
								  const char *reference_name, const char *title);

/* A beat marked on a strip: its sample (from the strip's first sample) and
 * its class 0..4, or -1 for a beat without one. */
typedef struct plot_strip_mark
{
	double		sample;
	int			label;
} plot_strip_mark;

/*
 * A strip of n samples of one lead at fs Hz on ECG paper (25 mm/s, 10 mm per
 * mV), its first sample at t0 seconds of the recording: the seconds marked
 * under the paper, each beat as a tick with its class letter (N S V F Q, "?"
 * without one) above the trace in the class's colour (<g class="beats">, a
 * <text> per beat), and a legend.  title may be NULL.
 */
extern void plot_strip_svg(svg_buf *b, const double *x, size_t n, double fs, double t0,
						   const plot_strip_mark *marks, size_t n_marks, const char *title);

#endif
