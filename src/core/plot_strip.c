/*
 * plot_strip.c - a strip of a recording on ECG paper with its beats and their
 * classes marked above the trace.  See plots.h.
 */
#include "plots.h"

#include <math.h>
#include <stdio.h>

#define STRIP_MARGIN 5.0		/* mm of paper left and right of the trace */
#define STRIP_TITLE 8.0			/* mm above the paper for the title */
#define STRIP_BAND 9.0			/* mm at the paper's top for the beat letters */
#define STRIP_PAD 3.0			/* mm between the letters / the paper's foot and the trace */
#define STRIP_FOOT 13.0			/* mm below the paper: seconds and legend */
#define STRIP_MIN_WIDTH 175.0	/* the legend's room */

/* v rounded up to whole large boxes (5 mm) */
static double
large_boxes(double v)
{
	return ceil(v / 5.0 - 1e-9) * 5.0;
}

void
plot_strip_svg(svg_buf *b, const double *x, size_t n, double fs, double t0,
			   const plot_strip_mark *marks, size_t n_marks, const char *title)
{
	static const char *const letters[5] = {"N", "S", "V", "F", "Q"};
	static const char *const names[5] = {"normal", "supraventricular", "ventricular", "fusion", "unknown"};
	const double dx = PLOT_MM_PER_SECOND / fs;
	const double seconds = (double) n / fs;
	double		lo = -0.5,
				hi = 1.0;		/* the paper always shows -0.5..1 mV */
	double		paper_w,
				paper_h,
				doc_w,
				base;
	const double top = STRIP_TITLE;
	svg_style	trace = {"#000000", 0.3, NULL, 1, NULL};
	char		buf[64];
	int			every;

	for (size_t i = 0; i < n; i++)
	{
		lo = x[i] < lo ? x[i] : lo;
		hi = x[i] > hi ? x[i] : hi;
	}
	paper_w = large_boxes(seconds * PLOT_MM_PER_SECOND + 2 * STRIP_MARGIN);
	/* 0 mV on a heavy line, the letters' band above the highest sample */
	base = top + large_boxes(STRIP_BAND + STRIP_PAD + hi * PLOT_MM_PER_UNIT);
	paper_h = large_boxes(base - top - lo * PLOT_MM_PER_UNIT + STRIP_PAD);
	doc_w = paper_w < STRIP_MIN_WIDTH ? STRIP_MIN_WIDTH : paper_w;

	svg_begin(b, doc_w, top + paper_h + STRIP_FOOT, "mm", title ? title : "ECG strip");
	svg_rect(b, 0, 0, doc_w, top + paper_h + STRIP_FOOT, &(svg_style) {NULL, 0, "#ffffff", 1, NULL});
	if (title)
		svg_text(b, 1, top - 2.5, 3.5, "start", NULL, 0, title);
	plot_paper(b, top, paper_w, paper_h);
	plot_trace(b, "signal", x, n, STRIP_MARGIN, dx, base, &trace);

	svg_group_begin(b, "beats");
	for (size_t k = 0; k < n_marks; k++)
	{
		double		bx = STRIP_MARGIN + marks[k].sample * dx;
		int			c = marks[k].label;
		const char *colour = c >= 0 && c < 5 ? plot_class_colours[c] : PLOT_UNCLASSIFIED_COLOUR;

		svg_line(b, bx, top + STRIP_BAND - 1.5, bx, top + STRIP_BAND + 0.5,
				 &(svg_style) {colour, 0.4, NULL, 1, NULL});
		svg_text(b, bx, top + 6, 4.2, "middle", colour, 0, c >= 0 && c < 5 ? letters[c] : "?");
	}
	svg_group_end(b);

	/* the seconds of the recording under the paper: every second up to 20 s,
	 * else every 5 s */
	svg_group_begin(b, "seconds");
	every = seconds > 20 ? 5 : 1;
	for (long long s = (long long) ceil(t0 - 1e-9); (double) s <= t0 + seconds + 1e-9; s++)
	{
		double		sx = STRIP_MARGIN + ((double) s - t0) * PLOT_MM_PER_SECOND;

		if (s % every != 0)
			continue;
		svg_line(b, sx, top + paper_h, sx, top + paper_h + 1.5, &(svg_style) {"#555555", 0.25, NULL, 1, NULL});
		snprintf(buf, sizeof(buf), "%lld s", s);
		svg_text(b, sx, top + paper_h + 4.5, 2.6, "middle", "#555555", 0, buf);
	}
	svg_group_end(b);

	svg_group_begin(b, "legend");
	for (int c = 0; c < 5; c++)
	{
		double		lx = 1 + c * 29;

		svg_text(b, lx, top + paper_h + 10, 3.2, "start", plot_class_colours[c], 0, letters[c]);
		svg_text(b, lx + 3.5, top + paper_h + 10, 2.6, "start", "#333333", 0, names[c]);
	}
	svg_text(b, 1 + 5 * 29, top + paper_h + 10, 2.6, "start", "#555555", 0, "25 mm/s, 10 mm/mV");
	svg_group_end(b);
	svg_end(b);
}
