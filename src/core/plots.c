/*
 * plots.c - ECG paper, confusion heat map and learning curves as SVG.
 * See plots.h.
 */
#include "plots.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* N blue, S orange, V red, F purple, Q brown */
const char *const plot_class_colours[5] = {"#3a6fb0", "#e08a2e", "#c9302c", "#7b5ea7", "#8c6d4f"};

/* ------------------------------------------------------------------------ */
/* ECG paper                                                                 */

void
plot_paper(svg_buf *b, double top, double paper_w, double paper_h)
{
	svg_style	minor = {"#f5b7b1", 0.1, NULL, 1, NULL};
	svg_style	major = {"#e06666", 0.25, NULL, 1, NULL};

	svg_group_begin(b, "paper");
	svg_rect(b, 0, top, paper_w, paper_h, &(svg_style) {NULL, 0, "#fff5f5", 1, NULL});
	for (int pass = 0; pass < 2; pass++)
	{
		/* minor lines first, the major ones over them */
		for (int i = 0; i <= (int) paper_w; i++)
			if ((i % 5 == 0) == (pass == 1))
				svg_line(b, i, top, i, top + paper_h, pass ? &major : &minor);
		for (int j = 0; j <= (int) paper_h; j++)
			if ((j % 5 == 0) == (pass == 1))
				svg_line(b, 0, top + j, paper_w, top + j, pass ? &major : &minor);
	}
	svg_group_end(b);
}

void
plot_trace(svg_buf *b, const char *cls, const double *v, size_t n, double x0, double dx,
		   double base, const svg_style *st)
{
	double		xs[64],
				ys[64];
	size_t		i = 0;

	svg_group_begin(b, cls);
	/* in pieces of 64 points that share their end points: no allocation */
	while (i < n)
	{
		size_t		m = 0,
					start = i ? i - 1 : 0;

		for (size_t j = start; j < n && m < 64; j++, m++)
		{
			xs[m] = x0 + (double) j * dx;
			ys[m] = base - v[j] * PLOT_MM_PER_UNIT;
		}
		svg_polyline(b, xs, ys, m, st);
		i = start + m;
		if (m < 2)
			break;
	}
	svg_group_end(b);
}

/* ------------------------------------------------------------------------ */
/* a beat on ECG paper                                                       */

#define PAPER_MARGIN 5.0		/* mm of paper on each side of the trace */
#define PAPER_TITLE 7.0			/* mm above the paper for the title */
#define PAPER_FOOT 6.0			/* mm below it for the scale note */

/* v rounded up / down to a multiple of 5 (whole large boxes) */
static double
up5(double v)
{
	return ceil(v / 5.0 - 1e-9) * 5.0;
}

void
plot_beat_svg(svg_buf *b, const double *signal, const double *second,
			  const double *shading, size_t n, double fs, const char *title)
{
	const double dx = PLOT_MM_PER_SECOND / fs;	/* mm per sample */
	double		lo = 0,
				hi = 1;			/* the paper always shows 0..1 */
	double		paper_w,
				paper_h,
				doc_w,
				top,
				x0,
				base,
				shade_max = 0;
	svg_style	trace = {"#000000", 0.35, NULL, 1, NULL};
	svg_style	trace2 = {"#1f4e9c", 0.3, NULL, 1, "1 0.6"};
	char		note[160];

	for (size_t i = 0; i < n; i++)
	{
		if (signal[i] < lo)
			lo = signal[i];
		if (signal[i] > hi)
			hi = signal[i];
		if (second && second[i] < lo)
			lo = second[i];
		if (second && second[i] > hi)
			hi = second[i];
		if (shading && fabs(shading[i]) > shade_max)
			shade_max = fabs(shading[i]);
	}
	paper_w = up5((double) n * dx + 2 * PAPER_MARGIN);
	paper_h = up5((hi - lo) * PLOT_MM_PER_UNIT + 2 * PAPER_MARGIN);
	top = PAPER_TITLE;
	x0 = (paper_w - (double) n * dx) / 2;
	/* the value 0 on a major line, the trace centred as near as that allows */
	base = top + floor(((paper_h - (hi - lo) * PLOT_MM_PER_UNIT) / 2 + hi * PLOT_MM_PER_UNIT) / 5.0) * 5.0;
	if (base - hi * PLOT_MM_PER_UNIT < top)
		base += 5;
	if (base - lo * PLOT_MM_PER_UNIT > top + paper_h)
		paper_h += 5;

	/* the document is wider than the paper when the title needs it (about
	 * 0.55 em per character) */
	doc_w = paper_w;
	if (title && 2 + 0.55 * 3.5 * (double) strlen(title) > doc_w)
		doc_w = ceil(2 + 0.55 * 3.5 * (double) strlen(title));
	svg_begin(b, doc_w, top + paper_h + PAPER_FOOT, "mm", title ? title : "ECG beat");
	svg_rect(b, 0, 0, doc_w, top + paper_h + PAPER_FOOT, &(svg_style) {NULL, 0, "#ffffff", 1, NULL});
	if (title)
		svg_text(b, 1, top - 2, 3.5, "start", NULL, 0, title);

	plot_paper(b, top, paper_w, paper_h);

	if (shading && shade_max > 0)
	{
		svg_group_begin(b, "shading");
		for (size_t i = 0; i < n; i++)
		{
			double		a = fabs(shading[i]) / shade_max;

			if (a == 0)
				continue;
			svg_rect(b, x0 + ((double) i - 0.5) * dx, top, dx, paper_h,
					 &(svg_style) {NULL, 0, shading[i] > 0 ? "#d62728" : "#1f77b4", 0.6 * a, NULL});
		}
		svg_group_end(b);
	}

	plot_trace(b, "signal", signal, n, x0, dx, base, &trace);
	if (second)
		plot_trace(b, "second", second, n, x0, dx, base, &trace2);

	snprintf(note, sizeof(note), "25 mm/s, 10 mm per unit; %zu samples", n);
	svg_text(b, 1, top + paper_h + 4, 2.5, "start", "#555555", 0, note);
	svg_end(b);
}

/* ------------------------------------------------------------------------ */
/* confusion matrix                                                          */

#define CM_CELL 64.0
#define CM_LEFT 90.0
#define CM_TOP 70.0

/* white to dark blue by share 0..1, as #rrggbb */
static void
share_colour(double share, char out[8])
{
	int			r = (int) lround(255 - share * (255 - 8));
	int			g = (int) lround(255 - share * (255 - 48));
	int			bl = (int) lround(255 - share * (255 - 107));

	snprintf(out, 8, "#%02x%02x%02x", r & 255, g & 255, bl & 255);
}

/* "12.3%" by integer arithmetic (per mille, rounded half up) */
static void
percent_text(long long part, long long total, char *out, size_t len)
{
	long long	pm;

	if (total <= 0)
	{
		snprintf(out, len, "-");
		return;
	}
	pm = (long long) floor((double) part * 1000.0 / (double) total + 0.5);
	snprintf(out, len, "%lld.%lld%%", pm / 10, pm % 10);
}

void
plot_confusion_svg(svg_buf *b, const long long *counts, int k,
				   const char *const *names, const char *title)
{
	double		w = CM_LEFT + k * CM_CELL + 20,
				h = CM_TOP + k * CM_CELL + 20;
	char		buf[64];

	svg_begin(b, w, h, "px", title ? title : "confusion matrix");
	svg_rect(b, 0, 0, w, h, &(svg_style) {NULL, 0, "#ffffff", 1, NULL});
	if (title)
		svg_text(b, 10, 20, 14, "start", NULL, 0, title);
	svg_text(b, CM_LEFT + k * CM_CELL / 2, CM_TOP - 28, 12, "middle", NULL, 0, "predicted");
	svg_text(b, 20, CM_TOP + k * CM_CELL / 2, 12, "middle", NULL, -90, "true");
	for (int c = 0; c < k; c++)
	{
		svg_text(b, CM_LEFT + (c + 0.5) * CM_CELL, CM_TOP - 8, 12, "middle", NULL, 0, names[c]);
		svg_text(b, CM_LEFT - 10, CM_TOP + (c + 0.5) * CM_CELL + 4, 12, "end", NULL, 0, names[c]);
	}
	svg_group_begin(b, "cells");
	for (int r = 0; r < k; r++)
	{
		long long	total = 0;

		for (int c = 0; c < k; c++)
			total += counts[r * k + c];
		for (int c = 0; c < k; c++)
		{
			long long	v = counts[r * k + c];
			double		share = total > 0 ? (double) v / (double) total : 0;
			double		x = CM_LEFT + c * CM_CELL,
						y = CM_TOP + r * CM_CELL;
			char		colour[8];
			const char *ink = share > 0.5 ? "#ffffff" : "#000000";

			share_colour(share, colour);
			svg_rect(b, x, y, CM_CELL, CM_CELL, &(svg_style) {"#999999", 0.5, colour, 1, NULL});
			snprintf(buf, sizeof(buf), "%lld", v);
			svg_text(b, x + CM_CELL / 2, y + CM_CELL / 2 - 2, 13, "middle", ink, 0, buf);
			percent_text(v, total, buf, sizeof(buf));
			svg_text(b, x + CM_CELL / 2, y + CM_CELL / 2 + 14, 10, "middle", ink, 0, buf);
		}
	}
	svg_group_end(b);
	svg_end(b);
}

/* ------------------------------------------------------------------------ */
/* training history                                                          */

#define HP_W 320.0				/* one panel's plot area */
#define HP_H 200.0
#define HP_LEFT 55.0
#define HP_TOP 50.0
#define HP_GAP 80.0

/* a "nice" tick step for the range span with about 5 ticks */
static double
tick_step(double span)
{
	double		raw = span / 5,
				mag,
				f;

	if (!(raw > 0))
		return 1;
	mag = pow(10, floor(log10(raw)));
	f = raw / mag;
	return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag;
}

/* a tick label with as many decimals as the step needs (at most 4), by
 * integer arithmetic; |v| is clamped to 1e14 (no loss is that large) */
static void
tick_label(double v, double step, char *out, size_t len)
{
	int			dec = 0;
	long long	scaled;
	long long	p10 = 1;
	char		frac[8];

	while (dec < 4 && step * (double) p10 < 0.999)
	{
		dec++;
		p10 *= 10;
	}
	if (!isfinite(v))
		v = 0;
	v = v > 1e14 ? 1e14 : v < -1e14 ? -1e14 : v;
	scaled = (long long) floor(fabs(v) * (double) p10 + 0.5);
	frac[0] = '\0';
	if (dec > 0)
	{
		long long	f = scaled % p10;

		frac[0] = '.';
		for (int d = dec; d >= 1; d--)
		{
			frac[d] = (char) ('0' + f % 10);
			f /= 10;
		}
		frac[dec + 1] = '\0';
	}
	snprintf(out, len, "%s%lld%s", v < 0 && scaled ? "-" : "", scaled / p10, frac);
}

/* one panel: training (field a) and validation (field b) of each epoch */
static void
history_panel(svg_buf *b, const plot_epoch *e, size_t n, int best, double px,
			  size_t off_a, size_t off_b, const char *label)
{
	double		lo = INFINITY,
				hi = -INFINITY,
				step;
	int			first = e[0].epoch,
				last = e[n - 1].epoch;
	double		xspan = last > first ? (double) last - first : 1;
	svg_style	axis = {"#333333", 1, NULL, 1, NULL};
	svg_style	grid = {"#dddddd", 0.5, NULL, 1, NULL};
	svg_style	lr_drop = {"#888888", 1, NULL, 1, "2 3"};
	svg_style	best_st = {"#2ca02c", 1.5, NULL, 1, NULL};
	svg_style	train = {"#1f77b4", 1.8, NULL, 1, NULL};
	svg_style	val = {"#ff7f0e", 1.8, NULL, 1, "6 3"};
	char		buf[64];

#define FIELD(ep, off) (*(const double *) ((const char *) (ep) + (off)))
	for (size_t i = 0; i < n; i++)
		for (int s = 0; s < 2; s++)
		{
			double		v = FIELD(&e[i], s ? off_b : off_a);

			if (isfinite(v))
			{
				lo = v < lo ? v : lo;
				hi = v > hi ? v : hi;
			}
		}
	if (!isfinite(lo))
	{
		lo = 0;
		hi = 1;
	}
	if (hi - lo < 1e-9)
	{
		lo -= 0.5;
		hi += 0.5;
	}
	step = tick_step(hi - lo);
	lo = floor(lo / step) * step;
	hi = ceil(hi / step) * step;

#define X(ep) (px + ((double) (ep) - first) / xspan * HP_W)
#define Y(v) (HP_TOP + HP_H - ((v) - lo) / (hi - lo) * HP_H)
	svg_group_begin(b, "panel");
	svg_text(b, px + HP_W / 2, HP_TOP - 12, 13, "middle", NULL, 0, label);
	for (int t = 0; lo + t * step <= hi + step * 1e-6; t++)
	{
		double		v = lo + t * step;

		svg_line(b, px, Y(v), px + HP_W, Y(v), &grid);
		tick_label(v, step, buf, sizeof(buf));
		svg_text(b, px - 6, Y(v) + 4, 10, "end", NULL, 0, buf);
	}
	svg_line(b, px, HP_TOP + HP_H, px + HP_W, HP_TOP + HP_H, &axis);
	svg_line(b, px, HP_TOP, px, HP_TOP + HP_H, &axis);
	{
		/* in long long: epochs near INT_MAX (a history edited by hand) must
		 * not overflow the loop */
		long long	estep = (long long) tick_step((double) last - first);

		if (estep < 1)
			estep = 1;
		for (long long ep = first; ep <= last; ep += estep)
		{
			snprintf(buf, sizeof(buf), "%lld", ep);
			svg_text(b, X(ep), HP_TOP + HP_H + 14, 10, "middle", NULL, 0, buf);
		}
		svg_text(b, px + HP_W / 2, HP_TOP + HP_H + 30, 11, "middle", NULL, 0, "epoch");
	}
	for (size_t i = 1; i < n; i++)
		if (isfinite(e[i].lr) && isfinite(e[i - 1].lr) && e[i].lr < e[i - 1].lr)
		{
			svg_line(b, X(e[i].epoch), HP_TOP, X(e[i].epoch), HP_TOP + HP_H, &lr_drop);
			svg_text(b, X(e[i].epoch) + 2, HP_TOP + HP_H - 18, 9, "start", "#555555", 0, "lr drop");
		}
	if (best >= first && best <= last)
	{
		svg_line(b, X(best), HP_TOP, X(best), HP_TOP + HP_H, &best_st);
		snprintf(buf, sizeof(buf), "best %d", best);
		svg_text(b, X(best) + 2, HP_TOP + HP_H - 4, 10, "start", "#2ca02c", 0, buf);
	}
	for (int s = 0; s < 2; s++)
	{
		/* a polyline per run of finite values */
		double		xs[64],
					ys[64];
		size_t		m = 0;

		svg_group_begin(b, s ? "validation" : "training");
		for (size_t i = 0; i <= n; i++)
		{
			double		v = i < n ? FIELD(&e[i], s ? off_b : off_a) : NAN;

			if (isfinite(v) && m < 64)
			{
				xs[m] = X(e[i].epoch);
				ys[m] = Y(v);
				m++;
				continue;
			}
			if (m == 1)
				svg_circle(b, xs[0], ys[0], 2, &(svg_style) {NULL, 0, s ? val.stroke : train.stroke, 1, NULL});
			else
				svg_polyline(b, xs, ys, m, s ? &val : &train);
			m = 0;
			if (isfinite(v))
			{
				/* a full piece: the next one starts at its last point */
				xs[0] = X(e[i - 1].epoch);
				ys[0] = Y(FIELD(&e[i - 1], s ? off_b : off_a));
				xs[1] = X(e[i].epoch);
				ys[1] = Y(v);
				m = 2;
			}
		}
		svg_group_end(b);
	}
	svg_group_end(b);
#undef X
#undef Y
#undef FIELD
}

void
plot_history_svg(svg_buf *b, const plot_epoch *epochs, size_t n,
				 int best_epoch, const char *title)
{
	double		w = HP_LEFT + 2 * HP_W + HP_GAP + 20,
				h = HP_TOP + HP_H + 70;
	svg_style	train = {"#1f77b4", 1.8, NULL, 1, NULL};
	svg_style	val = {"#ff7f0e", 1.8, NULL, 1, "6 3"};
	double		ly = h - 14;

	svg_begin(b, w, h, "px", title ? title : "training history");
	svg_rect(b, 0, 0, w, h, &(svg_style) {NULL, 0, "#ffffff", 1, NULL});
	if (title)
		svg_text(b, 10, 20, 14, "start", NULL, 0, title);
	if (n > 0)
	{
		history_panel(b, epochs, n, best_epoch, HP_LEFT, offsetof(plot_epoch, loss),
					  offsetof(plot_epoch, val_loss), "loss");
		history_panel(b, epochs, n, best_epoch, HP_LEFT + HP_W + HP_GAP,
					  offsetof(plot_epoch, accuracy), offsetof(plot_epoch, val_accuracy), "accuracy");
	}
	svg_group_begin(b, "legend");
	svg_line(b, HP_LEFT, ly, HP_LEFT + 30, ly, &train);
	svg_text(b, HP_LEFT + 35, ly + 4, 11, "start", NULL, 0, "training");
	svg_line(b, HP_LEFT + 110, ly, HP_LEFT + 140, ly, &val);
	svg_text(b, HP_LEFT + 145, ly + 4, 11, "start", NULL, 0, "validation");
	svg_text(b, HP_LEFT + 240, ly + 4, 11, "start", "#2ca02c", 0, "green: best epoch (weights restored)");
	svg_text(b, HP_LEFT + 470, ly + 4, 11, "start", "#555555", 0, "dotted: learning rate lowered");
	svg_group_end(b);
	svg_end(b);
}
