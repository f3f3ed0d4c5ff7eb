/*
 * svg.h - a small SVG writer for the pure C core (no postgres.h).
 *
 * Output is built in a growing malloc'd buffer.  Every number is written with
 * a fixed precision (two decimals, trailing zeros dropped, "-0" written as
 * "0") by integer arithmetic, so the text depends on neither the C locale nor
 * the platform's printf: the same inputs give the same bytes.  Text content
 * and attribute values are XML-escaped.  An allocation failure sets `failed`
 * and makes every later call a no-op; the caller checks it once at the end.
 */
#ifndef ECG_SVG_H
#define ECG_SVG_H

#include <stddef.h>

typedef struct svg_buf
{
	char	   *data;			/* NUL-terminated text so far (NULL before any) */
	size_t		len;
	size_t		cap;
	int			failed;			/* an allocation failed: data is incomplete */
} svg_buf;

/* The style of a stroke or fill: colour (an SVG colour name or #rrggbb),
 * width in user units, opacity 0..1, dash pattern ("" or NULL for solid). */
typedef struct svg_style
{
	const char *stroke;			/* NULL: no stroke */
	double		stroke_width;
	const char *fill;			/* NULL: fill "none" */
	double		opacity;		/* of the fill and the stroke */
	const char *dash;			/* e.g. "2 1" */
} svg_style;

extern void svg_init(svg_buf *b);
extern void svg_free(svg_buf *b);

/* The raw bytes s (no escaping) / s escaped for XML text and attributes. */
extern void svg_raw(svg_buf *b, const char *s);
extern void svg_escaped(svg_buf *b, const char *s);
/* v with two decimals, trailing zeros dropped; non-finite values as 0 (the
 * callers validate their inputs before drawing). */
extern void svg_num(svg_buf *b, double v);

/* <svg> of width x height `unit`s ("mm", "px", ...) with a viewBox of the
 * same numbers, so that user units are `unit`s; `title` (may be NULL) is
 * written as the document's <title>. */
extern void svg_begin(svg_buf *b, double width, double height, const char *unit, const char *title);
extern void svg_end(svg_buf *b);

/* <g class="cls"> ... </g>: a named group (tests and style sheets find the
 * parts of a chart by it). */
extern void svg_group_begin(svg_buf *b, const char *cls);
extern void svg_group_end(svg_buf *b);

extern void svg_line(svg_buf *b, double x1, double y1, double x2, double y2, const svg_style *st);
extern void svg_rect(svg_buf *b, double x, double y, double w, double h, const svg_style *st);
extern void svg_circle(svg_buf *b, double cx, double cy, double r, const svg_style *st);
/* a polyline through n points (x[i], y[i]); nothing for n == 0 */
extern void svg_polyline(svg_buf *b, const double *x, const double *y, size_t n, const svg_style *st);
/* text at (x, y) of font size `size`; anchor "start", "middle" or "end";
 * `fill` NULL is black; rotate (degrees about (x, y)) 0 for none */
extern void svg_text(svg_buf *b, double x, double y, double size, const char *anchor,
					 const char *fill, double rotate, const char *text);

#endif
