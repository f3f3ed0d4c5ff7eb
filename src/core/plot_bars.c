/*
 * plot_bars.c - grouped bars on a 0..1 axis (per-class figures of a study's
 * configurations, each beside a reference figure).  See plots.h.
 */
#include "plots.h"

#include <math.h>
#include <stdio.h>

#define GB_TOP 62.0				/* title and legend above the plot area */
#define GB_HEIGHT 260.0			/* the plot area */
#define GB_LEFT 62.0
#define GB_BOTTOM 52.0			/* group labels under it */
#define GB_SLOT_GAP 3.0			/* between the series of a group */
#define GB_GROUP_GAP 28.0		/* between groups */
#define GB_MIN_WIDTH 480.0		/* the legend's room */

static int
has_reference(const plot_bar_group *groups, int n_groups, int n_series)
{
	for (int g = 0; g < n_groups; g++)
		for (int s = 0; groups[g].reference && s < n_series; s++)
			if (isfinite(groups[g].reference[s]))
				return 1;
	return 0;
}

/* v clamped to the axis */
static double
unit_clamp(double v)
{
	return v < 0 ? 0 : v > 1 ? 1 : v;
}

void
plot_grouped_bars_svg(svg_buf *b, const plot_bar_group *groups, int n_groups,
					  int n_series, const char *const *series_names,
					  const char *const *colours, const char *y_label,
					  const char *reference_name, const char *title)
{
	const int	ref = has_reference(groups, n_groups, n_series);
	const double bar = ref ? 9.0 : 14.0;
	const double slot = ref ? 2 * bar : bar;
	const double group_w = n_series * slot + (n_series - 1) * GB_SLOT_GAP;
	double		plot_w = n_groups * (group_w + GB_GROUP_GAP);
	double		w,
				h = GB_TOP + GB_HEIGHT + GB_BOTTOM;
	const double base = GB_TOP + GB_HEIGHT;
	svg_style	axis = {"#333333", 1, NULL, 1, NULL};
	svg_style	grid = {"#dddddd", 0.6, NULL, 1, NULL};
	char		buf[32];
	double		lx;

	if (plot_w < GB_MIN_WIDTH)
		plot_w = GB_MIN_WIDTH;
	w = GB_LEFT + plot_w + 16;
	svg_begin(b, w, h, "px", title ? title : "grouped bars");
	svg_rect(b, 0, 0, w, h, &(svg_style) {NULL, 0, "#ffffff", 1, NULL});
	if (title)
		svg_text(b, 10, 20, 14, "start", NULL, 0, title);

	/* legend: a swatch per series, then the reference's pale swatch */
	svg_group_begin(b, "legend");
	lx = GB_LEFT;
	for (int s = 0; s < n_series; s++)
	{
		svg_rect(b, lx, 36, 11, 11, &(svg_style) {NULL, 0, colours[s], 1, NULL});
		svg_text(b, lx + 15, 45.5, 11, "start", NULL, 0, series_names[s]);
		lx += 50;
	}
	if (ref && reference_name)
	{
		lx += 10;
		svg_rect(b, lx, 36, 11, 11, &(svg_style) {"#555555", 0.8, "#bbbbbb", 0.45, NULL});
		svg_text(b, lx + 15, 45.5, 11, "start", "#333333", 0, reference_name);
	}
	svg_group_end(b);

	/* the 0..1 axis, a grid line every 0.2 */
	for (int t = 0; t <= 5; t++)
	{
		double		y = base - t * 0.2 * GB_HEIGHT;

		svg_line(b, GB_LEFT, y, GB_LEFT + plot_w, y, t ? &grid : &axis);
		snprintf(buf, sizeof(buf), t == 0 ? "0" : t == 5 ? "1" : "0.%d", 2 * t);
		svg_text(b, GB_LEFT - 6, y + 4, 10, "end", NULL, 0, buf);
	}
	svg_line(b, GB_LEFT, GB_TOP, GB_LEFT, base, &axis);
	if (y_label)
		svg_text(b, 18, GB_TOP + GB_HEIGHT / 2, 12, "middle", NULL, -90, y_label);

	for (int pass = 0; pass < 2; pass++)
	{
		svg_group_begin(b, pass ? "reference" : "bars");
		for (int g = 0; g < n_groups; g++)
		{
			double		gx = GB_LEFT + GB_GROUP_GAP / 2 + g * (group_w + GB_GROUP_GAP);

			for (int s = 0; s < n_series; s++)
			{
				const double *vals = pass ? groups[g].reference : groups[g].values;
				double		x = gx + s * (slot + GB_SLOT_GAP) + (pass ? bar : 0);
				double		v;

				if (vals == NULL || !isfinite(vals[s]))
					continue;
				v = unit_clamp(vals[s]);
				if (pass)
					svg_rect(b, x, base - v * GB_HEIGHT, bar, v * GB_HEIGHT,
							 &(svg_style) {colours[s], 0.8, colours[s], 0.4, NULL});
				else
					svg_rect(b, x, base - v * GB_HEIGHT, bar, v * GB_HEIGHT,
							 &(svg_style) {NULL, 0, colours[s], 1, NULL});
			}
		}
		svg_group_end(b);
	}

	svg_group_begin(b, "groups");
	for (int g = 0; g < n_groups; g++)
	{
		double		cx = GB_LEFT + GB_GROUP_GAP / 2 + g * (group_w + GB_GROUP_GAP) + group_w / 2;

		if (groups[g].label)
			svg_text(b, cx, base + 16, 11, "middle", NULL, 0, groups[g].label);
		if (groups[g].sublabel)
			svg_text(b, cx, base + 30, 10, "middle", "#555555", 0, groups[g].sublabel);
	}
	svg_group_end(b);
	svg_end(b);
}
