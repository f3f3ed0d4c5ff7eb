/*
 * svg.c - a small SVG writer: escaping, fixed-precision numbers, shapes.
 * See svg.h.
 */
#include "svg.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void
svg_init(svg_buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->failed = 0;
}

void
svg_free(svg_buf *b)
{
	free(b->data);
	svg_init(b);
}

/* room for `more` bytes and the NUL; sets failed when it cannot grow */
static int
svg_reserve(svg_buf *b, size_t more)
{
	size_t		need,
				cap;
	char	   *p;

	if (b->failed)
		return 0;
	if (more > SIZE_MAX / 2 - b->len)
	{
		b->failed = 1;
		return 0;
	}
	need = b->len + more + 1;
	if (need <= b->cap)
		return 1;
	cap = b->cap ? b->cap : 1024;
	while (cap < need)
		cap *= 2;
	p = realloc(b->data, cap);
	if (p == NULL)
	{
		b->failed = 1;
		return 0;
	}
	b->data = p;
	b->cap = cap;
	return 1;
}

static void
svg_bytes(svg_buf *b, const char *s, size_t n)
{
	if (!svg_reserve(b, n))
		return;
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
svg_raw(svg_buf *b, const char *s)
{
	svg_bytes(b, s, strlen(s));
}

/*
 * The five XML special characters as entities; control characters other
 * than tab, newline and carriage return are not allowed in XML 1.0 at all
 * (not even as references) and are written as '?'.
 */
void
svg_escaped(svg_buf *b, const char *s)
{
	for (; *s; s++)
	{
		unsigned char c = (unsigned char) *s;

		switch (c)
		{
			case '&':
				svg_raw(b, "&amp;");
				break;
			case '<':
				svg_raw(b, "&lt;");
				break;
			case '>':
				svg_raw(b, "&gt;");
				break;
			case '"':
				svg_raw(b, "&quot;");
				break;
			case '\'':
				svg_raw(b, "&apos;");
				break;
			default:
				if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
					svg_bytes(b, "?", 1);
				else
					svg_bytes(b, s, 1);
		}
	}
}

/*
 * v rounded to hundredths (half away from zero) by integer arithmetic:
 * "12.5", "-3", "0.05".  |v| beyond 1e15 is clamped (no chart needs it).
 */
void
svg_num(svg_buf *b, double v)
{
	char		out[40];
	char	   *p = out + sizeof(out);
	long long	h;
	int			neg;
	int			frac;

	if (!isfinite(v))
		v = 0;
	if (v > 1e15)
		v = 1e15;
	if (v < -1e15)
		v = -1e15;
	neg = v < 0;
	h = (long long) floor(fabs(v) * 100.0 + 0.5);
	if (h == 0)
		neg = 0;				/* no "-0" */
	frac = (int) (h % 100);
	h /= 100;
	*--p = '\0';
	if (frac)
	{
		if (frac % 10)
			*--p = (char) ('0' + frac % 10);
		*--p = (char) ('0' + frac / 10);
		*--p = '.';
	}
	do
	{
		*--p = (char) ('0' + h % 10);
		h /= 10;
	} while (h);
	if (neg)
		*--p = '-';
	svg_raw(b, p);
}

/* name="value" with a leading space, the value escaped */
static void
svg_attr(svg_buf *b, const char *name, const char *value)
{
	svg_raw(b, " ");
	svg_raw(b, name);
	svg_raw(b, "=\"");
	svg_escaped(b, value);
	svg_raw(b, "\"");
}

static void
svg_attr_num(svg_buf *b, const char *name, double v)
{
	svg_raw(b, " ");
	svg_raw(b, name);
	svg_raw(b, "=\"");
	svg_num(b, v);
	svg_raw(b, "\"");
}

static void
svg_style_attrs(svg_buf *b, const svg_style *st)
{
	svg_attr(b, "fill", st && st->fill ? st->fill : "none");
	if (st && st->stroke)
	{
		svg_attr(b, "stroke", st->stroke);
		svg_attr_num(b, "stroke-width", st->stroke_width);
		if (st->dash && st->dash[0])
			svg_attr(b, "stroke-dasharray", st->dash);
	}
	if (st && st->opacity < 1)
		svg_attr_num(b, "opacity", st->opacity < 0 ? 0 : st->opacity);
}

void
svg_begin(svg_buf *b, double width, double height, const char *unit, const char *title)
{
	svg_raw(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
			"<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"");
	svg_num(b, width);
	svg_escaped(b, unit);
	svg_raw(b, "\" height=\"");
	svg_num(b, height);
	svg_escaped(b, unit);
	svg_raw(b, "\" viewBox=\"0 0 ");
	svg_num(b, width);
	svg_raw(b, " ");
	svg_num(b, height);
	svg_raw(b, "\" font-family=\"sans-serif\">\n");
	if (title)
	{
		svg_raw(b, "<title>");
		svg_escaped(b, title);
		svg_raw(b, "</title>\n");
	}
}

void
svg_end(svg_buf *b)
{
	svg_raw(b, "</svg>\n");
}

void
svg_group_begin(svg_buf *b, const char *cls)
{
	svg_raw(b, "<g");
	svg_attr(b, "class", cls);
	svg_raw(b, ">\n");
}

void
svg_group_end(svg_buf *b)
{
	svg_raw(b, "</g>\n");
}

void
svg_line(svg_buf *b, double x1, double y1, double x2, double y2, const svg_style *st)
{
	svg_raw(b, "<line");
	svg_attr_num(b, "x1", x1);
	svg_attr_num(b, "y1", y1);
	svg_attr_num(b, "x2", x2);
	svg_attr_num(b, "y2", y2);
	svg_style_attrs(b, st);
	svg_raw(b, "/>\n");
}

void
svg_rect(svg_buf *b, double x, double y, double w, double h, const svg_style *st)
{
	svg_raw(b, "<rect");
	svg_attr_num(b, "x", x);
	svg_attr_num(b, "y", y);
	svg_attr_num(b, "width", w < 0 ? 0 : w);
	svg_attr_num(b, "height", h < 0 ? 0 : h);
	svg_style_attrs(b, st);
	svg_raw(b, "/>\n");
}

void
svg_circle(svg_buf *b, double cx, double cy, double r, const svg_style *st)
{
	svg_raw(b, "<circle");
	svg_attr_num(b, "cx", cx);
	svg_attr_num(b, "cy", cy);
	svg_attr_num(b, "r", r < 0 ? 0 : r);
	svg_style_attrs(b, st);
	svg_raw(b, "/>\n");
}

void
svg_polyline(svg_buf *b, const double *x, const double *y, size_t n, const svg_style *st)
{
	if (n == 0)
		return;
	svg_raw(b, "<polyline points=\"");
	for (size_t i = 0; i < n; i++)
	{
		if (i)
			svg_raw(b, " ");
		svg_num(b, x[i]);
		svg_raw(b, ",");
		svg_num(b, y[i]);
	}
	svg_raw(b, "\"");
	svg_style_attrs(b, st);
	svg_raw(b, "/>\n");
}

void
svg_text(svg_buf *b, double x, double y, double size, const char *anchor,
		 const char *fill, double rotate, const char *text)
{
	svg_raw(b, "<text");
	svg_attr_num(b, "x", x);
	svg_attr_num(b, "y", y);
	svg_attr_num(b, "font-size", size);
	if (anchor && strcmp(anchor, "start") != 0)
		svg_attr(b, "text-anchor", anchor);
	if (fill)
		svg_attr(b, "fill", fill);
	if (rotate != 0)
	{
		svg_raw(b, " transform=\"rotate(");
		svg_num(b, rotate);
		svg_raw(b, " ");
		svg_num(b, x);
		svg_raw(b, " ");
		svg_num(b, y);
		svg_raw(b, ")\"");
	}
	svg_raw(b, ">");
	svg_escaped(b, text);
	svg_raw(b, "</text>\n");
}
