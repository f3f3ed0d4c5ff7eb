/*
 * wfdb.c - WFDB header, signal file and MIT annotation decoding.
 *
 * Header format (PhysioNet "header(5)"):
 *   record line:  name[/segments] n_signals [fs[/counter_fs[(base_counter)]]
 *                 [n_samples [base_time [base_date]]]]
 *   signal lines: file_name format[xspf][:skew][+offset]
 *                 [gain[(baseline)][/units] [adc_res [adc_zero [init [checksum
 *                 [block_size [description...]]]]]]]
 * Fields are positional: a field can only be present when all fields before
 * it are.  The description is the rest of the line and may contain spaces.
 */
#include "wfdb.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define WFDB_INVALID_SAMPLE (-32768)
#define TOKEN_MAX 128				/* longest numeric token we accept */

/* Header text scanning ------------------------------------------------------ */

typedef struct text_span
{
	const char *p;
	size_t		len;
} text_span;

typedef struct header_lines
{
	const char *text;
	size_t		len;
	size_t		pos;
	size_t		line_no;		/* 1-based number of the line last returned */
} header_lines;

static int
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Next line that is neither blank nor a '#' comment; 0 at the end. */
static int
next_content_line(header_lines *hl, text_span *line)
{
	while (hl->pos < hl->len)
	{
		const char *start = hl->text + hl->pos;
		const char *nl = memchr(start, '\n', hl->len - hl->pos);
		size_t		n = nl ? (size_t) (nl - start) : hl->len - hl->pos;
		size_t		b = 0;

		hl->pos += n + (nl ? 1 : 0);
		hl->line_no++;
		while (n > 0 && is_blank(start[n - 1]))
			n--;
		while (b < n && is_blank(start[b]))
			b++;
		if (b == n || start[b] == '#')
			continue;
		line->p = start + b;
		line->len = n - b;
		return 1;
	}
	return 0;
}

/* Next whitespace-separated token of *rest; 0 when none is left. */
static int
next_token(text_span *rest, text_span *tok)
{
	size_t		i = 0,
				j;

	while (i < rest->len && is_blank(rest->p[i]))
		i++;
	if (i == rest->len)
		return 0;
	j = i;
	while (j < rest->len && !is_blank(rest->p[j]))
		j++;
	tok->p = rest->p + i;
	tok->len = j - i;
	rest->p += j;
	rest->len -= j;
	return 1;
}

static int
field_error(ecg_status *st, size_t line_no, const char *what, text_span tok)
{
	ecg_fail(st, ECG_ERR_FORMAT, "invalid %s \"%.*s\" in WFDB header", what,
			 (int) (tok.len > 64 ? 64 : tok.len), tok.p);
	return ecg_fail_detail(st, "line %zu", line_no);
}

/* Whole token as a decimal integer in [lo, hi]. */
static int
span_to_int64(text_span tok, int64_t lo, int64_t hi, int64_t *out)
{
	char		buf[TOKEN_MAX];
	char	   *end;
	long long	v;

	if (tok.len == 0 || tok.len >= sizeof(buf))
		return -1;
	memcpy(buf, tok.p, tok.len);
	buf[tok.len] = '\0';
	if (!(isdigit((unsigned char) buf[0]) || buf[0] == '-' || buf[0] == '+'))
		return -1;
	errno = 0;
	v = strtoll(buf, &end, 10);
	if (errno != 0 || *end != '\0' || end == buf || v < lo || v > hi)
		return -1;
	*out = (int64_t) v;
	return 0;
}

static int
span_to_int(text_span tok, int64_t lo, int64_t hi, int *out)
{
	int64_t		v;

	if (span_to_int64(tok, lo, hi, &v) != 0)
		return -1;
	*out = (int) v;
	return 0;
}

/* Whole token as a finite decimal number. */
static int
span_to_double(text_span tok, double *out)
{
	char		buf[TOKEN_MAX];
	char	   *end;
	double		v;

	if (tok.len == 0 || tok.len >= sizeof(buf))
		return -1;
	memcpy(buf, tok.p, tok.len);
	buf[tok.len] = '\0';
	/* strtod also takes "inf", "nan" and hex; WFDB numbers are plain decimals */
	for (size_t i = 0; i < tok.len; i++)
		if (!(isdigit((unsigned char) buf[i]) || strchr("+-.eE", buf[i]) != NULL))
			return -1;
	errno = 0;
	v = strtod(buf, &end);
	if (errno == ERANGE || *end != '\0' || end == buf || !isfinite(v))
		return -1;
	*out = v;
	return 0;
}

static int
span_to_text(text_span tok, char *dst, size_t cap)
{
	if (tok.len >= cap || memchr(tok.p, '\0', tok.len) != NULL)
		return -1;
	memcpy(dst, tok.p, tok.len);
	dst[tok.len] = '\0';
	return 0;
}

/* Splits *s at the first occurrence of c: *s keeps what precedes it, *after
 * what follows.  Returns 0 when c does not occur (*s unchanged). */
static int
split_at(text_span *s, char c, text_span *after)
{
	const char *hit = memchr(s->p, c, s->len);

	if (hit == NULL)
		return 0;
	after->p = hit + 1;
	after->len = s->len - (size_t) (hit - s->p) - 1;
	s->len = (size_t) (hit - s->p);
	return 1;
}

/* Header: record line ---------------------------------------------------- */

static int
parse_record_line(text_span line, size_t line_no, wfdb_header *h, ecg_status *st)
{
	text_span	rest = line,
				tok,
				seg;

	if (!next_token(&rest, &tok))
		return field_error(st, line_no, "record line", line);

	if (split_at(&tok, '/', &seg))
	{
		ecg_fail(st, ECG_ERR_UNSUPPORTED, "multi-segment WFDB record \"%.*s\" is not supported",
				 (int) (tok.len > 64 ? 64 : tok.len), tok.p);
		return ecg_fail_detail(st, "line %zu declares %.*s segments", line_no,
							   (int) (seg.len > 20 ? 20 : seg.len), seg.p);
	}
	if (span_to_text(tok, h->record_name, sizeof(h->record_name)) != 0)
		return field_error(st, line_no, "record name", tok);

	if (!next_token(&rest, &tok))
		return field_error(st, line_no, "record line (no number of signals)", line);
	if (span_to_int(tok, 0, INT_MAX, &h->n_signals) != 0)
		return field_error(st, line_no, "number of signals", tok);

	if (next_token(&rest, &tok))
	{
		text_span	fs = tok,
					counter,
					base;

		if (split_at(&fs, '/', &counter))
		{
			if (split_at(&counter, '(', &base))
			{
				if (base.len == 0 || base.p[base.len - 1] != ')')
					return field_error(st, line_no, "base counter value", tok);
				base.len--;
				if (span_to_double(base, &h->base_counter) != 0)
					return field_error(st, line_no, "base counter value", tok);
			}
			if (span_to_double(counter, &h->counter_frequency) != 0 ||
				h->counter_frequency < 0)
				return field_error(st, line_no, "counter frequency", tok);
		}
		if (span_to_double(fs, &h->sampling_frequency) != 0 || h->sampling_frequency < 0)
			return field_error(st, line_no, "sampling frequency", tok);
		if (h->sampling_frequency == 0)
			h->sampling_frequency = WFDB_DEFAULT_FREQ;

		if (next_token(&rest, &tok))
		{
			if (span_to_int64(tok, 0, INT64_MAX / 8, &h->n_samples) != 0)
				return field_error(st, line_no, "number of samples", tok);
			if (next_token(&rest, &tok))
			{
				if (span_to_text(tok, h->base_time, sizeof(h->base_time)) != 0)
					return field_error(st, line_no, "base time", tok);
				if (next_token(&rest, &tok) &&
					span_to_text(tok, h->base_date, sizeof(h->base_date)) != 0)
					return field_error(st, line_no, "base date", tok);
			}
		}
	}
	return 0;
}

/* Header: signal lines --------------------------------------------------- */

static int
natural_resolution(int format)
{
	switch (format)
	{
		case 8:
		case 80:
			return 8;
		case 212:
			return 12;
		case 310:
		case 311:
			return 10;
		case 24:
			return 24;
		case 32:
			return 32;
		default:
			return 16;
	}
}

/* "212", "212x2", "212:3", "16+512", "212x2:3+512" */
static int
parse_format_field(text_span tok, size_t line_no, wfdb_signal_spec *s, ecg_status *st)
{
	text_span	f = tok,
				offset,
				skew,
				spf;
	int64_t		v = 0;
	int			has_offset = split_at(&f, '+', &offset);
	int			has_skew = split_at(&f, ':', &skew);
	int			has_spf = split_at(&f, 'x', &spf);

	if (span_to_int(f, 0, 99999, &s->format) != 0 || f.p[0] == '-' || f.p[0] == '+')
		return field_error(st, line_no, "signal format", tok);
	s->samples_per_frame = 1;
	if (has_spf && (span_to_int(spf, 1, 1000000, &s->samples_per_frame) != 0 ||
					spf.p[0] == '+'))
		return field_error(st, line_no, "samples per frame", tok);
	if (has_skew && (span_to_int64(skew, 0, 1000000000, &v) != 0 || skew.p[0] == '+'))
		return field_error(st, line_no, "skew", tok);
	s->skew = has_skew ? (int) v : 0;
	if (has_offset && (span_to_int64(offset, 0, INT64_MAX / 2, &s->byte_offset) != 0 ||
					   offset.p[0] == '+' || offset.p[0] == '-'))
		return field_error(st, line_no, "byte offset", tok);
	return 0;
}

/* "200", "200(1024)", "200/mV", "200.5(-3)/uV" */
static int
parse_gain_field(text_span tok, size_t line_no, wfdb_signal_spec *s, int *has_baseline,
				 ecg_status *st)
{
	text_span	g = tok,
				units,
				base;
	int64_t		v;

	if (split_at(&g, '/', &units))
	{
		if (units.len == 0 || span_to_text(units, s->units, sizeof(s->units)) != 0)
			return field_error(st, line_no, "units", tok);
	}
	*has_baseline = 0;
	if (split_at(&g, '(', &base))
	{
		if (base.len == 0 || base.p[base.len - 1] != ')')
			return field_error(st, line_no, "baseline", tok);
		base.len--;
		if (span_to_int64(base, INT32_MIN, INT32_MAX, &v) != 0)
			return field_error(st, line_no, "baseline", tok);
		s->baseline = (int32_t) v;
		*has_baseline = 1;
	}
	if (span_to_double(g, &s->gain) != 0 || s->gain < 0)
		return field_error(st, line_no, "ADC gain", tok);
	s->gain_given = s->gain != 0;
	if (s->gain == 0)
		s->gain = WFDB_DEFAULT_GAIN;
	return 0;
}

static int
parse_signal_line(text_span line, size_t line_no, wfdb_signal_spec *s, ecg_status *st)
{
	text_span	rest = line,
				tok;
	int64_t		v;
	int			has_baseline = 0,
				has_initial = 0;

	memset(s, 0, sizeof(*s));
	strcpy(s->units, "mV");
	s->gain = WFDB_DEFAULT_GAIN;
	s->samples_per_frame = 1;

	if (!next_token(&rest, &tok) || span_to_text(tok, s->file_name, sizeof(s->file_name)) != 0)
		return field_error(st, line_no, "signal file name", tok);
	if (!next_token(&rest, &tok))
		return field_error(st, line_no, "signal line (no format)", line);
	if (parse_format_field(tok, line_no, s, st) != 0)
		return -1;

	/* the optional fields, each only when all before it are present */
	if (next_token(&rest, &tok))
	{
		if (parse_gain_field(tok, line_no, s, &has_baseline, st) != 0)
			return -1;
		if (next_token(&rest, &tok))
		{
			if (span_to_int(tok, 0, 32, &s->adc_resolution) != 0)
				return field_error(st, line_no, "ADC resolution", tok);
			if (next_token(&rest, &tok))
			{
				if (span_to_int64(tok, INT32_MIN, INT32_MAX, &v) != 0)
					return field_error(st, line_no, "ADC zero", tok);
				s->adc_zero = (int32_t) v;
				if (next_token(&rest, &tok))
				{
					if (span_to_int64(tok, INT32_MIN, INT32_MAX, &v) != 0)
						return field_error(st, line_no, "initial value", tok);
					s->initial_value = (int32_t) v;
					has_initial = 1;
					if (next_token(&rest, &tok))
					{
						if (span_to_int64(tok, INT32_MIN, INT32_MAX, &v) != 0)
							return field_error(st, line_no, "checksum", tok);
						s->checksum = (int) (int16_t) (uint16_t) ((uint64_t) v & 0xFFFF);
						s->has_checksum = 1;
						if (next_token(&rest, &tok))
						{
							if (span_to_int(tok, 0, INT_MAX, &s->block_size) != 0)
								return field_error(st, line_no, "block size", tok);
							/* the description is everything left, spaces included */
							while (rest.len > 0 && is_blank(rest.p[0]))
							{
								rest.p++;
								rest.len--;
							}
							if (span_to_text(rest, s->description, sizeof(s->description)) != 0)
								return field_error(st, line_no, "signal description", rest);
						}
					}
				}
			}
		}
	}
	if (!has_baseline)
		s->baseline = s->adc_zero;
	if (!has_initial)
		s->initial_value = s->adc_zero;
	if (s->adc_resolution == 0)
		s->adc_resolution = natural_resolution(s->format);
	return 0;
}

int
wfdb_header_parse(const char *text, size_t len, wfdb_header *out, ecg_status *st)
{
	header_lines hl = {text, len, 0, 0};
	header_lines count_pass;
	text_span	line;
	wfdb_header h;
	const char *nul = len > 0 ? memchr(text, '\0', len) : NULL;
	size_t		n_lines = 0;

	memset(out, 0, sizeof(*out));
	memset(&h, 0, sizeof(h));
	h.sampling_frequency = WFDB_DEFAULT_FREQ;

	if (nul != NULL)
	{
		ecg_fail(st, ECG_ERR_FORMAT, "WFDB header contains a NUL byte");
		return ecg_fail_detail(st, "byte offset %zu", (size_t) (nul - text));
	}
	if (!next_content_line(&hl, &line))
		return ecg_fail(st, ECG_ERR_FORMAT, "WFDB header has no record line");
	if (parse_record_line(line, hl.line_no, &h, st) != 0)
		return -1;

	/* count the signal lines before allocating anything */
	count_pass = hl;
	while (next_content_line(&count_pass, &line))
		n_lines++;
	if (n_lines != (size_t) h.n_signals)
	{
		ecg_fail(st, ECG_ERR_FORMAT, "WFDB header of record \"%s\" declares %d signals but has %zu signal lines",
				 h.record_name, h.n_signals, n_lines);
		return -1;
	}
	if (h.n_signals > 0)
	{
		h.signals = ecg_calloc_array((size_t) h.n_signals, sizeof(wfdb_signal_spec));
		if (h.signals == NULL)
			return ecg_fail(st, ECG_ERR_NOMEM, "out of memory for %d WFDB signal specs", h.n_signals);
	}
	for (int i = 0; i < h.n_signals; i++)
	{
		next_content_line(&hl, &line);
		if (parse_signal_line(line, hl.line_no, &h.signals[i], st) != 0)
		{
			ecg_free(h.signals);
			return -1;
		}
	}
	*out = h;
	return 0;
}

void
wfdb_header_release(wfdb_header *h)
{
	if (h == NULL)
		return;
	ecg_free(h->signals);
	h->signals = NULL;
	h->n_signals = 0;
}

int
wfdb_header_find_signal(const wfdb_header *h, const char *description)
{
	for (int i = 0; i < h->n_signals; i++)
		if (strcmp(h->signals[i].description, description) == 0)
			return i;
	return -1;
}

/* Signal files ------------------------------------------------------------ */

int
wfdb_file_name_is_plain(const char *name)
{
	if (name == NULL || name[0] == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
		strcmp(name, "-") == 0)
		return 0;
	for (const char *p = name; *p; p++)
		if (*p == '/' || *p == '\\' || (unsigned char) *p < 0x20 || *p == 0x7F)
			return 0;
	return 1;
}

int
wfdb_format_supported(int format)
{
	switch (format)
	{
		case 8:
		case 16:
		case 24:
		case 32:
		case 61:
		case 80:
		case 160:
		case 212:
		case 310:
		case 311:
			return 1;
		default:
			return 0;
	}
}

/* Samples of a format held completely by `bytes` bytes of sample stream. */
static uint64_t
samples_in_bytes(int format, uint64_t bytes)
{
	switch (format)
	{
		case 8:
		case 80:
			return bytes;
		case 16:
		case 61:
		case 160:
			return bytes / 2;
		case 24:
			return bytes / 3;
		case 32:
			return bytes / 4;
		case 212:				/* 2 samples per 3 bytes; a lone last sample in 2 */
			return bytes / 3 * 2 + (bytes % 3 >= 2 ? 1 : 0);
		case 310:				/* 3 per 4 bytes; sample 0 of a group in bytes 0-1 */
			return bytes / 4 * 3 + (bytes % 4 >= 2 ? 1 : 0);
		case 311:				/* 3 per 4 bytes; samples 0, 1 end in bytes 1, 2 */
			return bytes / 4 * 3 + (bytes % 4 >= 2 ? 1 : 0) + (bytes % 4 >= 3 ? 1 : 0);
		default:
			return 0;
	}
}

/* Bytes needed to hold `samples` samples (inverse of samples_in_bytes). */
static uint64_t
bytes_for_samples(int format, uint64_t samples)
{
	switch (format)
	{
		case 8:
		case 80:
			return samples;
		case 16:
		case 61:
		case 160:
			return samples * 2;
		case 24:
			return samples * 3;
		case 32:
			return samples * 4;
		case 212:
			return samples / 2 * 3 + (samples % 2 ? 2 : 0);
		case 310:
			return samples / 3 * 4 + (samples % 3 ? 4 - (samples % 3 == 1 ? 2 : 0) : 0);
		case 311:
			return samples / 3 * 4 + (samples % 3 ? 1 + samples % 3 : 0);
		default:
			return 0;
	}
}

static int32_t
sign_extend(uint32_t v, int bits)
{
	uint32_t	m = 1u << (bits - 1);

	v &= (1u << bits) - 1;
	return (int32_t) (v ^ m) - (int32_t) m;
}

/* Byte i of the stream, 0 past its end (only partial packed groups read
 * there, and only bits of samples that are not returned). */
static inline uint32_t
byte_at(const uint8_t *b, uint64_t n, uint64_t i)
{
	return i < n ? b[i] : 0;
}

/* Sample p of the stream b[0..n) in a non-difference format; p must be one
 * of samples_in_bytes(format, n). */
static int32_t
stream_sample(int format, const uint8_t *b, uint64_t n, uint64_t p)
{
	uint64_t	q;
	uint32_t	w0,
				w1;

	switch (format)
	{
		case 16:
			return (int16_t) (uint16_t) (b[2 * p] | (b[2 * p + 1] << 8));
		case 61:
			return (int16_t) (uint16_t) ((b[2 * p] << 8) | b[2 * p + 1]);
		case 160:
			return (int32_t) (b[2 * p] | (b[2 * p + 1] << 8)) - 32768;
		case 80:
			return (int32_t) b[p] - 128;
		case 24:
			return sign_extend(b[3 * p] | (b[3 * p + 1] << 8) | ((uint32_t) b[3 * p + 2] << 16), 24);
		case 32:
			return (int32_t) (b[4 * p] | (b[4 * p + 1] << 8) | ((uint32_t) b[4 * p + 2] << 16) |
							  ((uint32_t) b[4 * p + 3] << 24));
		case 212:
			/* byte 1 holds the high nibbles: low nibble for sample 0, high for 1 */
			q = p / 2 * 3;
			if (p % 2 == 0)
				return sign_extend(b[q] | ((b[q + 1] & 0x0Fu) << 8), 12);
			return sign_extend(byte_at(b, n, q + 2) | ((b[q + 1] & 0xF0u) << 4), 12);
		case 310:
			/* two 16-bit words: samples 0 and 1 in bits 1-10 of each, sample 2's
			 * low and high 5 bits in bits 11-15 of word 0 and word 1 */
			q = p / 3 * 4;
			w0 = b[q] | (b[q + 1] << 8);
			w1 = byte_at(b, n, q + 2) | (byte_at(b, n, q + 3) << 8);
			switch (p % 3)
			{
				case 0:
					return sign_extend(w0 >> 1, 10);
				case 1:
					return sign_extend(w1 >> 1, 10);
				default:
					return sign_extend((w0 >> 11) | ((w1 >> 11) << 5), 10);
			}
		case 311:
			/* one 32-bit little-endian word: bits 0-9, 10-19, 20-29 */
			q = p / 3 * 4;
			w0 = b[q] | (b[q + 1] << 8) | (byte_at(b, n, q + 2) << 16) |
				(byte_at(b, n, q + 3) << 24);
			return sign_extend(w0 >> (10 * (p % 3)), 10);
		default:
			return WFDB_INVALID_SAMPLE;
	}
}

/* Where signal `signal` lives in its file's frames. */
typedef struct signal_layout
{
	uint64_t	frame_samples;	/* samples per frame of all the file's signals */
	uint64_t	first;			/* index of the signal's first sample in a frame */
	uint64_t	spf;			/* the signal's samples per frame */
} signal_layout;

static int
locate_signal(const wfdb_header *h, int signal, signal_layout *lay, ecg_status *st)
{
	const wfdb_signal_spec *target = &h->signals[signal];

	memset(lay, 0, sizeof(*lay));
	for (int j = 0; j < h->n_signals; j++)
	{
		const wfdb_signal_spec *s = &h->signals[j];

		if (strcmp(s->file_name, target->file_name) != 0)
			continue;
		if (s->format != target->format)
		{
			ecg_fail(st, ECG_ERR_UNSUPPORTED, "signals %d and %d of record \"%s\" share file \"%s\" in different formats (%d, %d)",
					 j, signal, h->record_name, s->file_name, s->format, target->format);
			return -1;
		}
		if (j == signal)
			lay->first = lay->frame_samples;
		lay->frame_samples += (uint64_t) s->samples_per_frame;
	}
	lay->spf = (uint64_t) target->samples_per_frame;
	return 0;
}

/* Format 8 stores first differences: the signal is a running sum from the
 * initial value, over all its samples from the start of the file. */
static void
decode_differences(const uint8_t *b, const signal_layout *lay, uint64_t frames_avail,
				   uint64_t skew, int32_t initial, int32_t *out, uint64_t n_frames)
{
	int64_t		acc = initial;

	for (uint64_t f = 0; f < skew && f < frames_avail; f++)
		for (uint64_t k = 0; k < lay->spf; k++)
			acc += (int8_t) b[f * lay->frame_samples + lay->first + k];
	for (uint64_t f = 0; f < n_frames; f++)
	{
		uint64_t	src = f + skew;

		if ((f & 0xFFFF) == 0)
			ecg_check_interrupts();
		for (uint64_t k = 0; k < lay->spf; k++)
		{
			if (src < frames_avail)
			{
				acc += (int8_t) b[src * lay->frame_samples + lay->first + k];
				out[f * lay->spf + k] = (int32_t) acc;
			}
			else
				out[f * lay->spf + k] = WFDB_INVALID_SAMPLE;
		}
	}
}

static void
decode_packed(int format, const uint8_t *b, uint64_t nbytes, const signal_layout *lay,
			  uint64_t frames_avail, uint64_t skew, int32_t *out, uint64_t n_frames)
{
	for (uint64_t f = 0; f < n_frames; f++)
	{
		uint64_t	src = f + skew;

		if ((f & 0xFFFF) == 0)
			ecg_check_interrupts();
		for (uint64_t k = 0; k < lay->spf; k++)
			out[f * lay->spf + k] = src < frames_avail
				? stream_sample(format, b, nbytes, src * lay->frame_samples + lay->first + k)
				: WFDB_INVALID_SAMPLE;
	}
}

int
wfdb_signal_decode(const wfdb_header *h, int signal, const uint8_t *file, size_t len,
				   int32_t **adc_out, int64_t *n_out, ecg_status *st)
{
	const wfdb_signal_spec *s;
	signal_layout lay;
	uint64_t	nbytes,
				frames_avail,
				n_frames,
				n_values;
	const uint8_t *stream;
	int32_t    *adc;

	*adc_out = NULL;
	*n_out = 0;
	if (signal < 0 || signal >= h->n_signals)
		return ecg_fail(st, ECG_ERR_ARGUMENT, "record \"%s\" has no signal %d (it has %d)",
						h->record_name, signal, h->n_signals);
	s = &h->signals[signal];
	if (!wfdb_format_supported(s->format))
	{
		ecg_fail(st, ECG_ERR_UNSUPPORTED, "WFDB signal format %d is not supported", s->format);
		return ecg_fail_detail(st, "signal %d (\"%s\") of record \"%s\"; supported formats: 8, 16, 24, 32, 61, 80, 160, 212, 310, 311",
							   signal, s->description, h->record_name);
	}
	if (locate_signal(h, signal, &lay, st) != 0)
		return -1;
	if ((uint64_t) s->byte_offset > len)
	{
		ecg_fail(st, ECG_ERR_DATA, "signal file \"%s\" of record \"%s\" is shorter than its byte offset",
				 s->file_name, h->record_name);
		return ecg_fail_detail(st, "byte offset %lld, file size %zu bytes",
							   (long long) s->byte_offset, len);
	}
	stream = file + s->byte_offset;
	nbytes = len - (uint64_t) s->byte_offset;
	frames_avail = samples_in_bytes(s->format, nbytes) / lay.frame_samples;

	if (h->n_samples > 0)
	{
		n_frames = (uint64_t) h->n_samples;
		if (n_frames > frames_avail)
		{
			ecg_fail(st, ECG_ERR_DATA, "signal file \"%s\" of record \"%s\" is too short: it holds %llu of the %llu samples per signal the header declares",
					 s->file_name, h->record_name, (unsigned long long) frames_avail,
					 (unsigned long long) n_frames);
			return ecg_fail_detail(st, "expected %llu bytes of format %d samples after the %lld-byte offset, found %llu",
								   (unsigned long long) bytes_for_samples(s->format, n_frames * lay.frame_samples),
								   s->format, (long long) s->byte_offset,
								   (unsigned long long) nbytes);
		}
	}
	else
		n_frames = frames_avail > (uint64_t) s->skew ? frames_avail - (uint64_t) s->skew : 0;

	if (n_frames > (uint64_t) INT64_MAX / lay.spf)
		return ecg_fail(st, ECG_ERR_NOMEM, "signal of record \"%s\" is too long", h->record_name);
	n_values = n_frames * lay.spf;
	if (ecg_check_memory(n_values * sizeof(int32_t), "decoded WFDB signal", st) != 0)
		return -1;
	adc = ecg_alloc_array(n_values, sizeof(int32_t));
	if (adc == NULL)
		return ecg_fail(st, ECG_ERR_NOMEM, "out of memory for %llu samples of record \"%s\"",
						(unsigned long long) n_values, h->record_name);

	if (s->format == 8)
		decode_differences(stream, &lay, frames_avail, (uint64_t) s->skew, s->initial_value,
						   adc, n_frames);
	else
		decode_packed(s->format, stream, nbytes, &lay, frames_avail, (uint64_t) s->skew,
					  adc, n_frames);

	if (s->has_checksum)
	{
		uint32_t	sum = 0;

		for (uint64_t i = 0; i < n_values; i++)
			sum += (uint32_t) adc[i];
		if ((int16_t) (uint16_t) (sum & 0xFFFF) != (int16_t) s->checksum)
		{
			ecg_free(adc);
			ecg_fail(st, ECG_ERR_DATA, "checksum mismatch in signal %d (\"%s\") of record \"%s\"",
					 signal, s->description, h->record_name);
			return ecg_fail_detail(st, "header says %d, the %llu decoded samples sum to %d (mod 2^16)",
								   s->checksum, (unsigned long long) n_values,
								   (int) (int16_t) (uint16_t) (sum & 0xFFFF));
		}
	}
	*adc_out = adc;
	*n_out = (int64_t) n_values;
	return 0;
}

/* Annotations ------------------------------------------------------------- */

/* Mnemonics of codes 0..41 (ecgcodes.h); "" for unused codes. */
static const char *const annotation_symbols[WFDB_ANN_ACMAX + 1] = {
	"", "N", "L", "R", "a", "V", "F", "J", "A", "S",	/* 0-9 */
	"E", "j", "/", "Q", "~", "", "|", "", "s", "T",		/* 10-19 */
	"*", "D", "\"", "=", "p", "B", "^", "t", "+", "u",	/* 20-29 */
	"?", "!", "[", "]", "e", "n", "@", "x", "f", "(",	/* 30-39 */
	")", "r", "", "", "", "", "", "", "", ""			/* 40-49 */
};

const char *
wfdb_annotation_symbol(int type)
{
	if (type < 0 || type > WFDB_ANN_ACMAX)
		return "";
	return annotation_symbols[type];
}

int
wfdb_annotation_code(const char *symbol)
{
	if (symbol == NULL || symbol[0] == '\0')
		return -1;
	for (int i = 0; i <= WFDB_ANN_ACMAX; i++)
		if (strcmp(annotation_symbols[i], symbol) == 0)
			return i;
	return -1;
}

static int
annotation_error(ecg_status *st, size_t offset, const char *fmt, int value)
{
	ecg_fail(st, ECG_ERR_FORMAT, fmt, value);
	return ecg_fail_detail(st, "annotation file byte offset %zu", offset);
}

/*
 * One pass over the annotation words.  With dst == NULL it only validates and
 * counts (*n annotations, *aux_bytes bytes of aux text incl. terminators);
 * otherwise it also fills dst[] and the aux arena.
 *
 * SKIP carries a 32-bit interval to add before the next annotation; SUB and
 * AUX modify the annotation just read; CHN and NUM set the field of the
 * annotation just read and of all that follow.
 */
static int
scan_annotations(const uint8_t *buf, size_t len, wfdb_annotation *dst, char *arena,
				 size_t *n, size_t *aux_bytes, ecg_status *st)
{
	static const char empty[] = "";
	size_t		pos = 0,
				count = 0,
				used = 0;
	int64_t		time = 0;
	int			chan = 0,
				num = 0;

	while (pos < len)
	{
		unsigned	word,
					code,
					interval;

		if (len - pos < 2)
			return annotation_error(st, pos, "annotation file ends inside a word (%d odd byte)", 1);
		word = buf[pos] | (buf[pos + 1] << 8);
		code = word >> 10;
		interval = word & 0x3FF;
		if (word == 0)
			break;				/* end of file */
		if ((count & 0x3FFF) == 0 && dst == NULL)
			ecg_check_interrupts();

		if (code <= WFDB_ANN_ACMAX)
		{
			time += interval;
			if (time < 0)
				return annotation_error(st, pos, "annotation at a negative sample time (code %d)", (int) code);
			if (dst != NULL)
			{
				wfdb_annotation *a = &dst[count];

				a->sample = time;
				strcpy(a->symbol, annotation_symbols[code]);
				a->type = (int) code;
				a->subtype = 0;
				a->chan = chan;
				a->num = num;
				a->aux = empty;
			}
			count++;
			pos += 2;
			continue;
		}
		switch (code)
		{
			case WFDB_ANN_SKIP:
				{
					uint32_t	hi,
								lo;

					if (len - pos < 6)
						return annotation_error(st, pos, "truncated SKIP annotation (needs 6 bytes, %d left)",
												(int) (len - pos));
					/* PDP-11 long: high 16-bit word first, each word little-endian */
					hi = buf[pos + 2] | (buf[pos + 3] << 8);
					lo = buf[pos + 4] | (buf[pos + 5] << 8);
					time += (int32_t) ((hi << 16) | lo);
					pos += 6;
					break;
				}
			case WFDB_ANN_NUM:
			case WFDB_ANN_CHN:
				if (code == WFDB_ANN_NUM)
					num = (int) interval;
				else
					chan = (int) interval;
				if (dst != NULL && count > 0)
				{
					if (code == WFDB_ANN_NUM)
						dst[count - 1].num = num;
					else
						dst[count - 1].chan = chan;
				}
				pos += 2;
				break;
			case WFDB_ANN_SUB:
				if (count == 0)
					return annotation_error(st, pos, "SUB word (subtype %d) before any annotation", (int) interval);
				if (dst != NULL)
					dst[count - 1].subtype = (int) interval;
				pos += 2;
				break;
			case WFDB_ANN_AUX:
				{
					size_t		padded = interval + (interval & 1);

					if (count == 0)
						return annotation_error(st, pos, "AUX word (%d bytes) before any annotation", (int) interval);
					if (len - pos - 2 < padded)
						return annotation_error(st, pos, "truncated AUX annotation text (%d bytes declared)",
												(int) interval);
					if (dst != NULL)
					{
						const uint8_t *text = buf + pos + 2;
						const uint8_t *stop = memchr(text, '\0', interval);
						size_t		tlen = stop ? (size_t) (stop - text) : interval;

						memcpy(arena + used, text, tlen);
						arena[used + tlen] = '\0';
						dst[count - 1].aux = arena + used;
					}
					used += interval + 1;
					pos += 2 + padded;
					break;
				}
			default:
				return annotation_error(st, pos, "reserved annotation code %d", (int) code);
		}
	}
	*n = count;
	*aux_bytes = used;
	return 0;
}

int
wfdb_annotations_parse(const uint8_t *buf, size_t len, wfdb_annotation **out, size_t *n,
					   ecg_status *st)
{
	size_t		count,
				aux_bytes,
				head,
				total;
	wfdb_annotation *block;

	*out = NULL;
	*n = 0;
	if (scan_annotations(buf, len, NULL, NULL, &count, &aux_bytes, st) != 0)
		return -1;
	/* annotations at the front of the block, their aux text behind them */
	if (ecg_size_mul(count, sizeof(wfdb_annotation), &head) != 0 ||
		head > SIZE_MAX - aux_bytes - 1)
		return ecg_fail(st, ECG_ERR_NOMEM, "too many annotations (%zu)", count);
	total = head + aux_bytes + 1;
	if (ecg_check_memory(total, "WFDB annotations", st) != 0)
		return -1;
	block = ecg_alloc(total);
	if (block == NULL)
		return ecg_fail(st, ECG_ERR_NOMEM, "out of memory for %zu annotations", count);
	if (scan_annotations(buf, len, block, (char *) block + head, &count, &aux_bytes, st) != 0)
	{
		ecg_free(block);
		return -1;
	}
	*out = block;
	*n = count;
	return 0;
}

void
wfdb_annotations_release(wfdb_annotation *ann)
{
	ecg_free(ann);
}

/* Encoders ---------------------------------------------------------------- */

static void
put16le(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t) (v & 0xFF);
	p[1] = (uint8_t) ((v >> 8) & 0xFF);
}

int
wfdb_format_sample_bits(int format)
{
	switch (format)
	{
		case 80:
			return 8;
		case 212:
			return 12;
		case 310:
		case 311:
			return 10;
		case 16:
		case 61:
		case 160:
			return 16;
		case 24:
			return 24;
		case 32:
			return 32;
		default:
			return 0;			/* format 8 (differences) or unknown */
	}
}

/* The range of values format `format` can store (a fixed-width format). */
static void
format_range(int format, int64_t *lo, int64_t *hi)
{
	int			bits = wfdb_format_sample_bits(format);

	*lo = -((int64_t) 1 << (bits - 1));
	*hi = ((int64_t) 1 << (bits - 1)) - 1;
}

int
wfdb_samples_encode(int format, const int32_t *stream, size_t n, uint8_t **out,
					size_t *out_len, ecg_status *st)
{
	int64_t		lo,
				hi;
	uint64_t	nbytes;
	uint8_t    *b;

	*out = NULL;
	*out_len = 0;
	if (!wfdb_format_supported(format) || format == 8)
		return ecg_fail(st, ECG_ERR_UNSUPPORTED, "cannot encode WFDB format %d", format);
	format_range(format, &lo, &hi);
	for (size_t i = 0; i < n; i++)
		if (stream[i] < lo || stream[i] > hi)
		{
			ecg_fail(st, ECG_ERR_ARGUMENT, "sample value %d does not fit WFDB format %d",
					 (int) stream[i], format);
			return ecg_fail_detail(st, "sample %zu of the stream", i);
		}
	if (n > SIZE_MAX / 4)
		return ecg_fail(st, ECG_ERR_NOMEM, "too many samples to encode (%zu)", n);
	nbytes = bytes_for_samples(format, n);
	b = ecg_calloc_array(nbytes > 0 ? nbytes : 1, 1);
	if (b == NULL)
		return ecg_fail(st, ECG_ERR_NOMEM, "out of memory for %llu bytes of samples",
						(unsigned long long) nbytes);
	for (size_t i = 0; i < n; i++)
	{
		uint32_t	v = (uint32_t) stream[i];
		size_t		q;

		switch (format)
		{
			case 16:
				put16le(b + 2 * i, v);
				break;
			case 61:
				b[2 * i] = (uint8_t) ((v >> 8) & 0xFF);
				b[2 * i + 1] = (uint8_t) (v & 0xFF);
				break;
			case 160:
				put16le(b + 2 * i, v + 32768u);
				break;
			case 80:
				b[i] = (uint8_t) ((v + 128u) & 0xFF);
				break;
			case 24:
				put16le(b + 3 * i, v);
				b[3 * i + 2] = (uint8_t) ((v >> 16) & 0xFF);
				break;
			case 32:
				put16le(b + 4 * i, v);
				put16le(b + 4 * i + 2, v >> 16);
				break;
			case 212:
				q = i / 2 * 3;
				if (i % 2 == 0)
				{
					b[q] = (uint8_t) (v & 0xFF);
					b[q + 1] = (uint8_t) ((b[q + 1] & 0xF0) | ((v >> 8) & 0x0F));
				}
				else
				{
					b[q + 2] = (uint8_t) (v & 0xFF);
					b[q + 1] = (uint8_t) ((b[q + 1] & 0x0F) | ((v >> 4) & 0xF0));
				}
				break;
			case 310:
				{
					uint32_t	w0,
								w1;

					q = i / 3 * 4;
					w0 = b[q] | (b[q + 1] << 8);
					w1 = q + 3 < nbytes ? (b[q + 2] | (b[q + 3] << 8)) : 0;
					v &= 0x3FF;
					if (i % 3 == 0)
						w0 = (w0 & ~0x7FEu) | (v << 1);
					else if (i % 3 == 1)
						w1 = (w1 & ~0x7FEu) | (v << 1);
					else
					{
						w0 = (w0 & 0x7FFu) | ((v & 0x1F) << 11);
						w1 = (w1 & 0x7FFu) | ((v >> 5) << 11);
					}
					put16le(b + q, w0);
					if (q + 3 < nbytes)
						put16le(b + q + 2, w1);
					break;
				}
			case 311:
				{
					uint32_t	w = 0;
					unsigned	shift = 10 * (unsigned) (i % 3);

					q = i / 3 * 4;
					for (unsigned k = 0; k < 4 && q + k < nbytes; k++)
						w |= (uint32_t) b[q + k] << (8 * k);
					w |= (v & 0x3FF) << shift;
					for (unsigned k = 0; k < 4 && q + k < nbytes; k++)
						b[q + k] = (uint8_t) ((w >> (8 * k)) & 0xFF);
					break;
				}
		}
	}
	*out = b;
	*out_len = (size_t) nbytes;
	return 0;
}

static size_t
put_word(uint8_t *p, size_t at, unsigned code, unsigned value)
{
	put16le(p + at, (code << 10) | (value & 0x3FF));
	return at + 2;
}

int
wfdb_annotations_encode(const wfdb_annotation *ann, size_t n, uint8_t **out,
						size_t *out_len, ecg_status *st)
{
	size_t		cap = 2,
				at = 0;
	uint8_t    *b;
	int64_t		prev = 0;
	int			chan = 0,
				num = 0;

	*out = NULL;
	*out_len = 0;
	for (size_t i = 0; i < n; i++)
	{
		size_t		aux_len = ann[i].aux ? strlen(ann[i].aux) : 0;

		if (ann[i].type < 1 || ann[i].type > WFDB_ANN_ACMAX ||
			ann[i].subtype < 0 || ann[i].subtype > 1023 || ann[i].chan < 0 ||
			ann[i].chan > 1023 || ann[i].num < 0 || ann[i].num > 1023 || aux_len > 1023)
		{
			ecg_fail(st, ECG_ERR_ARGUMENT, "annotation cannot be written in MIT format");
			return ecg_fail_detail(st, "annotation %zu: type %d, subtype %d, chan %d, num %d, %zu aux bytes",
								   i, ann[i].type, ann[i].subtype, ann[i].chan, ann[i].num, aux_len);
		}
		if (ann[i].sample - prev > INT32_MAX || ann[i].sample - prev < INT32_MIN)
		{
			ecg_fail(st, ECG_ERR_ARGUMENT, "annotation interval does not fit 32 bits");
			return ecg_fail_detail(st, "annotation %zu at sample %lld", i, (long long) ann[i].sample);
		}
		prev = ann[i].sample;
		/* SKIP, word, SUB, CHN, NUM, AUX header and padded text */
		cap += 6 + 2 + 2 + 2 + 2 + 2 + aux_len + 1;
	}
	b = ecg_alloc(cap);
	if (b == NULL)
		return ecg_fail(st, ECG_ERR_NOMEM, "out of memory for %zu annotation bytes", cap);
	prev = 0;
	for (size_t i = 0; i < n; i++)
	{
		const wfdb_annotation *a = &ann[i];
		int64_t		delta = a->sample - prev;
		size_t		aux_len = a->aux ? strlen(a->aux) : 0;

		if (delta < 0 || delta > 1023)
		{
			uint32_t	d = (uint32_t) (int32_t) delta;

			at = put_word(b, at, WFDB_ANN_SKIP, 0);
			put16le(b + at, d >> 16);
			put16le(b + at + 2, d & 0xFFFF);
			at += 4;
			delta = 0;
		}
		at = put_word(b, at, (unsigned) a->type, (unsigned) delta);
		if (a->subtype != 0)
			at = put_word(b, at, WFDB_ANN_SUB, (unsigned) a->subtype);
		if (a->chan != chan)
			at = put_word(b, at, WFDB_ANN_CHN, (unsigned) a->chan);
		if (a->num != num)
			at = put_word(b, at, WFDB_ANN_NUM, (unsigned) a->num);
		if (aux_len > 0)
		{
			at = put_word(b, at, WFDB_ANN_AUX, (unsigned) aux_len);
			memcpy(b + at, a->aux, aux_len);
			at += aux_len;
			if (aux_len & 1)
				b[at++] = 0;
		}
		chan = a->chan;
		num = a->num;
		prev = a->sample;
	}
	at = put_word(b, at, 0, 0);
	*out = b;
	*out_len = at;
	return 0;
}
