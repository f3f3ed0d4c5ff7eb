/*
 * heartbeat_csv.c - parser of the Kaggle heartbeat CSV lines.
 *
 * Numbers are parsed by hand (the line is not NUL-terminated and strtof would
 * need a copy per field): up to 19 significant digits go into an integer
 * mantissa, scaled by a power of ten in double.  The float nearest to that
 * double is the float nearest to the decimal number unless the double lies
 * very close to the midpoint between two floats; then, and for the rare
 * extreme exponents, the field is handed to strtof, so every value equals
 * what strtof returns.
 */
#include "heartbeat_csv.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DIGITS 19			/* significant digits that fit a uint64 */
#define FALLBACK_TOKEN_MAX 128

static const double powers_of_ten[] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
};

static int
is_space(char c)
{
	return c == ' ' || c == '\t';
}

typedef enum number_status
{
	NUMBER_OK,
	NUMBER_SYNTAX,			/* not a decimal number */
	NUMBER_NOT_FINITE,		/* "nan", "inf" or out of float range */
	NUMBER_NOMEM			/* no memory for the copy of a long field */
} number_status;

/* A decimal number s[0..n) (no surrounding spaces) as written: sign,
 * digits, optional fraction, optional exponent. */
typedef struct decimal
{
	int			negative;
	uint64_t	mantissa;		/* first MAX_DIGITS significant digits */
	int64_t		exponent;		/* value = mantissa * 10^exponent (approximately) */
} decimal;

static number_status
scan_decimal(const char *s, size_t n, decimal *d)
{
	size_t		i = 0;
	int			digits = 0,
				significant = 0;
	int64_t		dropped = 0;	/* integer digits past MAX_DIGITS */
	int64_t		fraction = 0;	/* fraction digits kept in the mantissa */

	memset(d, 0, sizeof(*d));
	if (i < n && (s[i] == '+' || s[i] == '-'))
		d->negative = s[i++] == '-';
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, digits++)
	{
		if (significant < MAX_DIGITS)
		{
			d->mantissa = d->mantissa * 10 + (uint64_t) (s[i] - '0');
			if (d->mantissa != 0)
				significant++;
		}
		else
			dropped++;
	}
	if (i < n && s[i] == '.')
	{
		for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, digits++)
		{
			if (significant < MAX_DIGITS)
			{
				d->mantissa = d->mantissa * 10 + (uint64_t) (s[i] - '0');
				fraction++;
				if (d->mantissa != 0)
					significant++;
			}
		}
	}
	if (digits == 0)
	{
		/* spelled-out special values are "not finite", anything else syntax */
		size_t		rest = n - i;
		const char *p = s + i;

		if ((rest == 3 && (strncmp(p, "nan", 3) == 0 || strncmp(p, "NaN", 3) == 0 ||
						   strncmp(p, "NAN", 3) == 0 || strncmp(p, "inf", 3) == 0 ||
						   strncmp(p, "Inf", 3) == 0 || strncmp(p, "INF", 3) == 0)) ||
			(rest == 8 && (strncmp(p, "infinity", 8) == 0 || strncmp(p, "Infinity", 8) == 0)))
			return NUMBER_NOT_FINITE;
		return NUMBER_SYNTAX;
	}
	d->exponent = dropped - fraction;
	if (i < n && (s[i] == 'e' || s[i] == 'E'))
	{
		int			negative_exp = 0;
		int64_t		e = 0;
		int			exp_digits = 0;

		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			negative_exp = s[i++] == '-';
		for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, exp_digits++)
			if (e < 100000)
				e = e * 10 + (s[i] - '0');
		if (exp_digits == 0)
			return NUMBER_SYNTAX;
		d->exponent += negative_exp ? -e : e;
	}
	return i == n ? NUMBER_OK : NUMBER_SYNTAX;
}

/* mantissa * 10^exponent in double; *exact is cleared when the result may be
 * off by more than rounding (extreme exponents). */
static double
decimal_to_double(const decimal *d, int *exact)
{
	double		v = (double) d->mantissa;
	int64_t		e = d->exponent;

	*exact = 1;
	if (d->mantissa == 0)
		v = 0.0;
	else if (e >= 0)
	{
		if (e > 22)
		{
			*exact = 0;
			v *= pow(10.0, (double) e);
		}
		else
			v *= powers_of_ten[e];
	}
	else
	{
		if (e < -22)
		{
			*exact = 0;
			v /= pow(10.0, (double) -e);
		}
		else
			v /= powers_of_ten[-e];
	}
	return d->negative ? -v : v;
}

/* 1 when rounding double v to float could differ from rounding the exact
 * decimal: v within a few double ulps of a midpoint between two floats. */
static int
near_float_midpoint(double v)
{
	uint64_t	bits;
	uint64_t	low;
	const uint64_t half = (uint64_t) 1 << 28;	/* 52 - 23 = 29 bits dropped */

	memcpy(&bits, &v, sizeof(bits));
	low = bits & (((uint64_t) 1 << 29) - 1);
	return (low > half ? low - half : half - low) <= 64;
}

/* strtof of s[0..n) through a NUL-terminated copy: on the stack when short,
 * else allocated (a field cut short would lose digits and its exponent). */
static number_status
strtof_copy(const char *s, size_t n, float *out)
{
	char		stack_buf[FALLBACK_TOKEN_MAX];
	char	   *buf = stack_buf;

	if (n >= sizeof(stack_buf))
	{
		buf = ecg_alloc(n + 1);
		if (buf == NULL)
			return NUMBER_NOMEM;
	}
	memcpy(buf, s, n);
	buf[n] = '\0';
	*out = strtof(buf, NULL);
	if (buf != stack_buf)
		ecg_free(buf);
	return NUMBER_OK;
}

/* Field s[0..n) as a float, exactly as strtof would round it. */
static number_status
parse_float(const char *s, size_t n, float *out)
{
	decimal		d;
	number_status ns = scan_decimal(s, n, &d);
	double		v;
	int			exact;
	float		f;

	if (ns != NUMBER_OK)
		return ns;
	v = decimal_to_double(&d, &exact);
	if (!exact || near_float_midpoint(v) || fabs(v) < FLT_MIN * 2 || fabs(v) > FLT_MAX / 2)
	{
		ns = strtof_copy(s, n, &f);
		if (ns != NUMBER_OK)
			return ns;
	}
	else
		f = (float) v;
	if (!isfinite(f))
		return NUMBER_NOT_FINITE;
	*out = f;
	return NUMBER_OK;
}

/* Field s[0..n) as a double (for the label). */
static number_status
parse_double(const char *s, size_t n, double *out)
{
	decimal		d;
	number_status ns = scan_decimal(s, n, &d);
	int			exact;

	if (ns != NUMBER_OK)
		return ns;
	*out = decimal_to_double(&d, &exact);
	if (!isfinite(*out))
		return NUMBER_NOT_FINITE;
	return NUMBER_OK;
}

static int
field_failure(ecg_status *st, number_status ns, int field, const char *s, size_t n)
{
	int			shown = n > 40 ? 40 : (int) n;

	if (ns == NUMBER_NOMEM)
		return ecg_fail(st, ECG_ERR_NOMEM, "out of memory for field %d (%zu bytes)", field, n);
	if (ns == NUMBER_NOT_FINITE)
		return ecg_fail(st, ECG_ERR_FORMAT, "field %d is NaN or infinite (\"%.*s\"); heartbeat values must be finite",
						field, shown, s);
	if (n == 0)
		return ecg_fail(st, ECG_ERR_FORMAT, "field %d is empty, expected a number", field);
	return ecg_fail(st, ECG_ERR_FORMAT, "field %d is not a number: \"%.*s%s\"", field, shown, s,
					n > 40 ? "..." : "");
}

int
heartbeat_csv_parse_line(const char *line, size_t len, float *samples, int *label,
						 ecg_status *st)
{
	size_t		pos = 0;
	int			field = 0;

	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r' || is_space(line[len - 1])))
		len--;

	for (;;)
	{
		const char *comma = memchr(line + pos, ',', len - pos);
		size_t		end = comma ? (size_t) (comma - line) : len;
		size_t		a = pos,
					b = end;
		number_status ns;

		while (a < b && is_space(line[a]))
			a++;
		while (b > a && is_space(line[b - 1]))
			b--;
		field++;
		if (comma == NULL && field < HEARTBEAT_CSV_FIELDS)
		{
			if (len == 0)
				return ecg_fail(st, ECG_ERR_FORMAT, "heartbeat line is empty, expected %d fields",
								HEARTBEAT_CSV_FIELDS);
			return ecg_fail(st, ECG_ERR_FORMAT, "heartbeat line has %d fields, expected %d (%d samples and a label)",
							field, HEARTBEAT_CSV_FIELDS, HEARTBEAT_CSV_SAMPLES);
		}
		if (field <= HEARTBEAT_CSV_SAMPLES)
		{
			ns = parse_float(line + a, b - a, &samples[field - 1]);
			if (ns != NUMBER_OK)
				return field_failure(st, ns, field, line + a, b - a);
		}
		else
		{
			double		v;

			if (comma != NULL)
			{
				int			total = field + 1;

				for (size_t i = end + 1; i < len; i++)
					total += line[i] == ',';
				return ecg_fail(st, ECG_ERR_FORMAT, "heartbeat line has %d fields, expected %d (%d samples and a label)",
								total, HEARTBEAT_CSV_FIELDS, HEARTBEAT_CSV_SAMPLES);
			}
			ns = parse_double(line + a, b - a, &v);
			if (ns != NUMBER_OK)
				return field_failure(st, ns, field, line + a, b - a);
			if (v != floor(v) || v < 0 || v > HEARTBEAT_CSV_MAX_LABEL)
				return ecg_fail(st, ECG_ERR_FORMAT, "label (field %d) is %.*s, expected an integer 0..%d",
								field, (int) (b - a > 40 ? 40 : b - a), line + a,
								HEARTBEAT_CSV_MAX_LABEL);
			*label = (int) v;
			return 0;
		}
		pos = end + 1;
	}
}

void
heartbeat_csv_reader_init(heartbeat_csv_reader *r, const char *buf, size_t len)
{
	r->buf = buf;
	r->len = len;
	r->pos = 0;
	r->line_no = 0;
}

static int
is_blank_line(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!(is_space(s[i]) || s[i] == '\r'))
			return 0;
	return 1;
}

int
heartbeat_csv_next_line(heartbeat_csv_reader *r, const char **line, size_t *line_len,
						int64_t *line_no)
{
	const char *start;
	const char *nl;
	size_t		n;

	if (r->pos >= r->len)
		return 0;
	start = r->buf + r->pos;
	nl = memchr(start, '\n', r->len - r->pos);
	n = nl ? (size_t) (nl - start) : r->len - r->pos;
	r->pos += n + (nl ? 1 : 0);
	if (r->pos >= r->len && is_blank_line(start, n))
		return 0;				/* a blank last line */
	r->line_no++;
	if (n > 0 && start[n - 1] == '\r')
		n--;
	*line = start;
	*line_len = n;
	*line_no = r->line_no;
	return 1;
}

int
heartbeat_csv_read(heartbeat_csv_reader *r, float *samples, int *label, ecg_status *st)
{
	const char *line;
	size_t		n;
	int64_t		line_no;

	if (!heartbeat_csv_next_line(r, &line, &n, &line_no))
		return 0;
	if ((line_no & 1023) == 0)
		ecg_check_interrupts();	/* the reader holds no memory */
	if (heartbeat_csv_parse_line(line, n, samples, label, st) != 0)
	{
		ecg_fail_detail(st, "line %lld", (long long) line_no);
		return -1;
	}
	return 1;
}
