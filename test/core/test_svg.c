/* Unit tests for the SVG writer (src/core/svg.c) and the charts drawn with
 * it (src/core/plots.c, plot_bars.c, plot_strip.c): numbers, escaping, well-formed output (a small XML
 * checker below), and the same bytes for the same inputs. */
#include <math.h>
#include <string.h>

#include "unit.h"
#include "plots.h"
#include "svg.h"

/* the text svg_num writes for v */
static const char *
num_text(double v)
{
	static char out[64];
	svg_buf		b;

	svg_init(&b);
	svg_num(&b, v);
	snprintf(out, sizeof(out), "%s", b.failed ? "FAILED" : b.data);
	svg_free(&b);
	return out;
}

static int
name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		c == '-' || c == '_' || c == ':' || c == '.';
}

/*
 * 1 when s is a well-formed document of the subset the writer emits: an
 * XML declaration, elements with double-quoted attributes, text, the five
 * predefined entities; every element closed in order, one root element.
 * Counts the elements named `count_name` into *count (if not NULL).
 */
static int
well_formed(const char *s, const char *count_name, int *count)
{
	const char *stack[64];
	size_t		stack_len[64];
	int			depth = 0,
				roots = 0;

	if (count)
		*count = 0;
	if (strncmp(s, "<?xml ", 6) != 0 || (s = strstr(s, "?>")) == NULL)
		return 0;
	s += 2;
	while (*s)
	{
		if (*s == '<')
		{
			int			closing = s[1] == '/';
			const char *name = s + 1 + closing;
			size_t		len = 0;

			while (name_char(name[len]))
				len++;
			if (len == 0)
				return 0;
			s = name + len;
			if (closing)
			{
				if (depth == 0 || stack_len[depth - 1] != len || strncmp(stack[depth - 1], name, len) != 0)
					return 0;
				depth--;
				if (*s++ != '>')
					return 0;
				continue;
			}
			if (depth == 0 && ++roots > 1)
				return 0;
			if (count && count_name && strlen(count_name) == len && strncmp(name, count_name, len) == 0)
				(*count)++;
			/* attributes */
			for (;;)
			{
				while (*s == ' ' || *s == '\n')
					s++;
				if (*s == '/' && s[1] == '>')
				{
					s += 2;
					break;
				}
				if (*s == '>')
				{
					if (depth == 64)
						return 0;
					stack[depth] = name;
					stack_len[depth++] = len;
					s++;
					break;
				}
				if (!name_char(*s))
					return 0;
				while (name_char(*s))
					s++;
				if (s[0] != '=' || s[1] != '"')
					return 0;
				s += 2;
				while (*s && *s != '"')
				{
					if (*s == '<')
						return 0;
					if (*s == '&' && strncmp(s, "&amp;", 5) && strncmp(s, "&lt;", 4) && strncmp(s, "&gt;", 4) &&
						strncmp(s, "&quot;", 6) && strncmp(s, "&apos;", 6))
						return 0;
					s++;
				}
				if (*s++ != '"')
					return 0;
			}
		}
		else
		{
			if (*s == '>' && depth == 0 && roots == 0)
				return 0;
			if (*s == '&' && strncmp(s, "&amp;", 5) && strncmp(s, "&lt;", 4) && strncmp(s, "&gt;", 4) &&
				strncmp(s, "&quot;", 6) && strncmp(s, "&apos;", 6))
				return 0;
			if (depth == 0 && *s != '\n' && *s != ' ')
				return 0;		/* text outside the root */
			s++;
		}
	}
	return depth == 0 && roots == 1;
}

static void
test_numbers(void)
{
	CHECK(strcmp(num_text(0), "0") == 0);
	CHECK(strcmp(num_text(-0.0), "0") == 0);
	CHECK(strcmp(num_text(-0.001), "0") == 0);
	CHECK(strcmp(num_text(12.5), "12.5") == 0);
	CHECK(strcmp(num_text(3.14159), "3.14") == 0);
	CHECK(strcmp(num_text(0.005), "0.01") == 0 || strcmp(num_text(0.005), "0") == 0);
	CHECK(strcmp(num_text(0.05), "0.05") == 0);
	CHECK(strcmp(num_text(-7), "-7") == 0);
	CHECK(strcmp(num_text(-2.999), "-3") == 0);
	CHECK(strcmp(num_text(100.10), "100.1") == 0);
	CHECK(strcmp(num_text(NAN), "0") == 0);
	CHECK(strcmp(num_text(INFINITY), "0") == 0);
	CHECK(strcmp(num_text(1e300), "1000000000000000") == 0);
}

static void
test_escaping(void)
{
	svg_buf		b;
	int			texts;

	svg_init(&b);
	svg_escaped(&b, "a<b & \"c\" 'd'>\x01");
	CHECK(strcmp(b.data, "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;?") == 0);
	svg_free(&b);

	/* a hostile title and text: still one well-formed document */
	svg_init(&b);
	svg_begin(&b, 10, 10, "mm", "</title><script>&x;");
	svg_group_begin(&b, "a\"b");
	svg_text(&b, 1, 2, 3, "middle", "red\"", 45, "<&>");
	svg_group_end(&b);
	svg_end(&b);
	CHECK(!b.failed);
	CHECK(well_formed(b.data, "text", &texts));
	CHECK(texts == 1);
	CHECK(strstr(b.data, "<script>") == NULL);
	svg_free(&b);
}

static void
test_shapes(void)
{
	svg_buf		b;
	double		x[] = {0, 1.234, 2},
				y[] = {5, -1, 0.5};
	svg_style	st = {"#000000", 0.5, NULL, 1, "1 2"};
	int			n;

	svg_init(&b);
	svg_begin(&b, 100, 50, "px", NULL);
	svg_line(&b, 0, 0, 1, 1, &st);
	svg_rect(&b, 1, 2, 3, 4, &(svg_style) {NULL, 0, "#ff0000", 0.25, NULL});
	svg_circle(&b, 1, 1, 2, NULL);
	svg_polyline(&b, x, y, 3, &st);
	svg_polyline(&b, x, y, 0, &st);	/* nothing */
	svg_end(&b);
	CHECK(!b.failed);
	CHECK(well_formed(b.data, "polyline", &n));
	CHECK(n == 1);
	CHECK(strstr(b.data, "points=\"0,5 1.23,-1 2,0.5\"") != NULL);
	CHECK(strstr(b.data, "stroke-dasharray=\"1 2\"") != NULL);
	CHECK(strstr(b.data, "opacity=\"0.25\"") != NULL);
	CHECK(strstr(b.data, "viewBox=\"0 0 100 50\"") != NULL);
	svg_free(&b);
}

/* a made-up beat: a spike and a wave */
static void
fill_beat(double *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		v[i] = 0.2 + 0.8 * exp(-pow(((double) i - 40) / 3.0, 2)) + 0.2 * exp(-pow(((double) i - 90) / 12.0, 2));
}

static void
test_beat_chart(void)
{
	double		sig[187],
				sec[187],
				shade[187];
	svg_buf		a,
				b;
	int			n;

	fill_beat(sig, 187);
	for (int i = 0; i < 187; i++)
	{
		sec[i] = sig[i] * 0.9 - 0.1;
		shade[i] = (i >= 30 && i < 50) ? (i - 40) / 10.0 : 0;
	}
	svg_init(&a);
	plot_beat_svg(&a, sig, sec, shade, 187, 125, "beat <1> & co");
	CHECK(!a.failed);
	CHECK(well_formed(a.data, "polyline", &n));
	CHECK(n >= 2);				/* the two traces, in pieces */
	CHECK(well_formed(a.data, "rect", &n));
	CHECK(n == 2 + 19);			/* background, paper, 19 shaded samples (i = 40 is 0) */
	/* 187 samples at 125 Hz = 1.496 s = 37.4 mm, +10 mm margin -> 50 mm */
	CHECK(strstr(a.data, "width=\"50mm\"") != NULL);
	CHECK(strstr(a.data, "beat &lt;1&gt; &amp; co") != NULL);

	svg_init(&b);
	plot_beat_svg(&b, sig, sec, shade, 187, 125, "beat <1> & co");
	CHECK(!b.failed && a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
	svg_free(&b);

	/* without the optional parts; a single sample */
	svg_init(&b);
	plot_beat_svg(&b, sig, NULL, NULL, 1, 360, NULL);
	CHECK(!b.failed && well_formed(b.data, "polyline", &n));
	CHECK(n == 1);
	CHECK(strstr(b.data, "class=\"shading\"") == NULL && strstr(b.data, "class=\"second\"") == NULL);
	svg_free(&b);
	svg_free(&a);
}

static void
test_confusion_chart(void)
{
	const char *const names[] = {"N", "S", "V", "F", "Q"};
	long long	cm[25] = {0};
	svg_buf		a;
	int			n;

	cm[0] = 900;
	cm[1] = 100;
	cm[6] = 3;
	cm[8] = 1;
	svg_init(&a);
	plot_confusion_svg(&a, cm, 5, names, "m on t");
	CHECK(!a.failed && well_formed(a.data, "rect", &n));
	CHECK(n == 1 + 25);
	CHECK(strstr(a.data, ">90.0%<") != NULL);
	CHECK(strstr(a.data, ">75.0%<") != NULL);	/* 3 of 4 */
	CHECK(strstr(a.data, ">-<") != NULL);	/* a row with no beats */
	svg_free(&a);
}

static void
test_history_chart(void)
{
	plot_epoch	e[100];
	svg_buf		a,
				b;
	int			n;

	for (int i = 0; i < 100; i++)
	{
		e[i].epoch = i + 1;
		e[i].loss = 1.0 / (i + 1);
		e[i].accuracy = 1 - 0.5 / (i + 1);
		e[i].val_loss = i == 3 ? NAN : 1.2 / (i + 1) + 0.001 * i;
		e[i].val_accuracy = 1 - 0.6 / (i + 1);
		e[i].lr = i < 50 ? 1e-3 : 1e-4;
	}
	svg_init(&a);
	plot_history_svg(&a, e, 100, 42, "history");
	CHECK(!a.failed && well_formed(a.data, "line", &n));
	CHECK(strstr(a.data, ">best 42<") != NULL);
	CHECK(strstr(a.data, ">lr drop<") != NULL);
	CHECK(well_formed(a.data, "circle", &n));
	CHECK(n == 0);
	svg_init(&b);
	plot_history_svg(&b, e, 100, 42, "history");
	CHECK(!b.failed && a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
	svg_free(&b);
	svg_free(&a);

	/* epochs near INT_MAX (a history edited by hand): the axis loop ends */
	for (int i = 0; i < 3; i++)
		e[i].epoch = 2147483645 + i;
	svg_init(&a);
	plot_history_svg(&a, e, 3, 0, NULL);
	CHECK(!a.failed && well_formed(a.data, "polyline", &n));
	CHECK(strstr(a.data, ">2147483647<") != NULL);
	svg_free(&a);
	for (int i = 0; i < 3; i++)
		e[i].epoch = i + 1;

	/* one epoch: points, not lines */
	svg_init(&a);
	plot_history_svg(&a, e, 1, 1, NULL);
	CHECK(!a.failed && well_formed(a.data, "circle", &n));
	CHECK(n == 4);
	svg_free(&a);
}

static void
test_bars_chart(void)
{
	const char *const names[] = {"N", "S", "V", "F", "Q"};
	const char *const colours[] = {"#000001", "#000002", "#000003", "#000004", "#000005"};
	double		v[3][5] = {{0.5, 1.5, -0.2, NAN, 0.25}, {1, 1, 1, 1, 1}, {0, 0.1, 0.2, 0.3, 0.4}};
	double		ref[5] = {0.9, NAN, 0.8, 0.7, 0.6};
	plot_bar_group g[3] = {{"baseline", "none", v[0], NULL}, {"cnn", "random", v[1], ref},
						   {"cnn <wide>", NULL, v[2], NULL}};
	svg_buf		a,
				b;
	int			n;

	svg_init(&a);
	plot_grouped_bars_svg(&a, g, 3, 5, names, colours, "F1", "published", "bars & more");
	/* background, 5 + 1 legend swatches, 14 finite values, 4 finite references */
	CHECK(!a.failed && well_formed(a.data, "rect", &n));
	CHECK(n == 1 + 6 + 14 + 4);
	CHECK(strstr(a.data, "height=\"130\"") != NULL);	/* 0.5 of 260 px */
	CHECK(strstr(a.data, "height=\"260\"") != NULL);	/* 1.5 clamped to 1 */
	CHECK(strstr(a.data, "cnn &lt;wide&gt;") != NULL && strstr(a.data, "bars &amp; more") != NULL);
	CHECK(strstr(a.data, ">published<") != NULL);
	svg_init(&b);
	plot_grouped_bars_svg(&b, g, 3, 5, names, colours, "F1", "published", "bars & more");
	CHECK(!b.failed && a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
	svg_free(&b);
	svg_free(&a);

	/* no reference at all: wider bars, no reference swatch */
	g[1].reference = NULL;
	svg_init(&a);
	plot_grouped_bars_svg(&a, g, 3, 5, names, colours, NULL, "published", NULL);
	CHECK(!a.failed && well_formed(a.data, "rect", &n));
	CHECK(n == 1 + 5 + 14);
	CHECK(strstr(a.data, "width=\"14\"") != NULL && strstr(a.data, ">published<") == NULL);
	svg_free(&a);
}

static void
test_strip_chart(void)
{
	static double x[10800];
	plot_strip_mark marks[3] = {{100, 0}, {1000, 2}, {2000.5, -1}};
	svg_buf		a,
				b;
	int			n;

	for (int i = 0; i < 10800; i++)
		x[i] = 0.1 * sin(i / 57.0) + (i % 288 == 90 ? 1.3 : 0);
	svg_init(&a);
	plot_strip_svg(&a, x, 3600, 360, 20, marks, 3, "record <a>");
	/* title, 3 beat letters, seconds 20 ... 30, 5 x 2 legend texts and the scale */
	CHECK(!a.failed && well_formed(a.data, "text", &n));
	CHECK(n == 1 + 3 + 11 + 11);
	CHECK(strstr(a.data, "width=\"260mm\"") != NULL);	/* 10 s at 25 mm/s + 10 mm */
	CHECK(strstr(a.data, ">N<") && strstr(a.data, ">V<") && strstr(a.data, ">?<"));
	CHECK(strstr(a.data, ">20 s<") && strstr(a.data, ">30 s<") && !strstr(a.data, ">31 s<"));
	CHECK(strstr(a.data, "record &lt;a&gt;") != NULL);
	CHECK(well_formed(a.data, "polyline", &n));
	CHECK(n == 58);				/* 3600 points: 64, then 63 new per piece (ends shared) */
	svg_init(&b);
	plot_strip_svg(&b, x, 3600, 360, 20, marks, 3, "record <a>");
	CHECK(!b.failed && a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
	svg_free(&b);
	svg_free(&a);

	/* 30 s: a second mark every 5 s; no beats, no title */
	svg_init(&a);
	plot_strip_svg(&a, x, 10800, 360, 0, NULL, 0, NULL);
	CHECK(!a.failed && well_formed(a.data, "text", &n));
	CHECK(n == 7 + 11);
	CHECK(strstr(a.data, ">25 s<") != NULL && strstr(a.data, ">1 s<") == NULL);
	svg_free(&a);
}

int
main(void)
{
	RUN_TEST(test_numbers);
	RUN_TEST(test_escaping);
	RUN_TEST(test_shapes);
	RUN_TEST(test_beat_chart);
	RUN_TEST(test_confusion_chart);
	RUN_TEST(test_history_chart);
	RUN_TEST(test_bars_chart);
	RUN_TEST(test_strip_chart);
	UNIT_EXIT();
}
