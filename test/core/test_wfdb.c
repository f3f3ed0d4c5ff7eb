/* Unit tests for WFDB header, signal and annotation decoding (src/core/wfdb.c). */
#include <stdint.h>
#include <string.h>

#include "unit.h"
#include "rng.h"
#include "wfdb.h"

#define MITDB_DEFAULT "/work/shared/data/mitdb"

static int
contains(const char *haystack, const char *needle)
{
	return strstr(haystack, needle) != NULL;
}

static int
parse_text(const char *text, wfdb_header *h, ecg_status *st)
{
	ecg_status_clear(st);
	return wfdb_header_parse(text, strlen(text), h, st);
}

/* Headers ----------------------------------------------------------------- */

static void
test_header_mitbih_style(void)
{
	const char *text =
		"100 2 360 650000\n"
		"100.dat 212 200 11 1024 995 -22131 0 MLII\r\n"
		"100.dat 212 200 11 1024 1011 20052 0 V5\n"
		"# 69 M 1085 1629 x1\n"
		"# Aldomet, Inderal\n";
	wfdb_header h;
	ecg_status	st;

	CHECK(parse_text(text, &h, &st) == 0);
	CHECK(strcmp(h.record_name, "100") == 0);
	CHECK(h.n_signals == 2);
	CHECK(h.sampling_frequency == 360.0);
	CHECK(h.n_samples == 650000);
	CHECK(strcmp(h.signals[0].file_name, "100.dat") == 0);
	CHECK(h.signals[0].format == 212);
	CHECK(h.signals[0].samples_per_frame == 1 && h.signals[0].skew == 0);
	CHECK(h.signals[0].byte_offset == 0);
	CHECK(h.signals[0].gain == 200.0 && h.signals[0].gain_given);
	CHECK(h.signals[0].baseline == 1024);	/* absent: adc_zero */
	CHECK(h.signals[0].adc_resolution == 11);
	CHECK(h.signals[0].adc_zero == 1024);
	CHECK(h.signals[0].initial_value == 995);
	CHECK(h.signals[0].has_checksum && h.signals[0].checksum == -22131);
	CHECK(h.signals[0].block_size == 0);
	CHECK(strcmp(h.signals[0].units, "mV") == 0);
	CHECK(strcmp(h.signals[0].description, "MLII") == 0);
	CHECK(strcmp(h.signals[1].description, "V5") == 0);
	CHECK(h.signals[1].checksum == 20052);
	CHECK(wfdb_header_find_signal(&h, "V5") == 1);
	CHECK(wfdb_header_find_signal(&h, "MLII") == 0);
	CHECK(wfdb_header_find_signal(&h, "V1") == -1);
	CHECK(wfdb_header_find_signal(&h, "mlii") == -1);
	wfdb_header_release(&h);
}

static void
test_file_name_is_plain(void)
{
	CHECK(wfdb_file_name_is_plain("100.dat"));
	CHECK(wfdb_file_name_is_plain("a..b.dat"));
	CHECK(!wfdb_file_name_is_plain("../etc/passwd"));
	CHECK(!wfdb_file_name_is_plain("/etc/passwd"));
	CHECK(!wfdb_file_name_is_plain("sub/100.dat"));
	CHECK(!wfdb_file_name_is_plain("sub\\100.dat"));
	CHECK(!wfdb_file_name_is_plain(".."));
	CHECK(!wfdb_file_name_is_plain("."));
	CHECK(!wfdb_file_name_is_plain("-"));
	CHECK(!wfdb_file_name_is_plain(""));
	CHECK(!wfdb_file_name_is_plain("a\tb"));
}

static void
test_header_optional_fields(void)
{
	const char *text =
		"  # leading comment\n"
		"\n"
		"rec 4 250.5/1000(5) 100 10:00:00 01/01/2000\n"
		"f.dat 212x2:3+512 200.5(-3)/uV 12 7 9 1234 16 chest lead one\n"
		"g.dat 16\n"
		"g.dat 16 0 0 -5\n"
		"h.dat 61 50(10) 0 0 0 70000\n";
	wfdb_header h;
	ecg_status	st;
	const wfdb_signal_spec *s;

	CHECK_MSG(parse_text(text, &h, &st) == 0, "%s %s", st.message, st.detail);
	if (st.kind != ECG_OK)
		return;
	CHECK(h.sampling_frequency == 250.5);
	CHECK(h.counter_frequency == 1000.0);
	CHECK(h.base_counter == 5.0);
	CHECK(h.n_samples == 100);
	CHECK(strcmp(h.base_time, "10:00:00") == 0);
	CHECK(strcmp(h.base_date, "01/01/2000") == 0);

	s = &h.signals[0];
	CHECK(s->format == 212 && s->samples_per_frame == 2 && s->skew == 3);
	CHECK(s->byte_offset == 512);
	CHECK(s->gain == 200.5 && s->baseline == -3);
	CHECK(strcmp(s->units, "uV") == 0);
	CHECK(s->adc_resolution == 12 && s->adc_zero == 7 && s->initial_value == 9);
	CHECK(s->checksum == 1234 && s->block_size == 16);
	CHECK(strcmp(s->description, "chest lead one") == 0);

	s = &h.signals[1];			/* only file and format: all defaults */
	CHECK(s->format == 16 && s->gain == WFDB_DEFAULT_GAIN && !s->gain_given);
	CHECK(s->adc_resolution == 16 && s->adc_zero == 0 && s->baseline == 0);
	CHECK(!s->has_checksum && strcmp(s->units, "mV") == 0);
	CHECK(s->description[0] == '\0');

	s = &h.signals[2];			/* gain 0 means the default; baseline follows adc_zero */
	CHECK(s->gain == WFDB_DEFAULT_GAIN && !s->gain_given);
	CHECK(s->adc_resolution == 16);
	CHECK(s->adc_zero == -5 && s->baseline == -5 && s->initial_value == -5);

	s = &h.signals[3];			/* baseline without units; checksum kept to 16 bits */
	CHECK(s->gain == 50.0 && s->baseline == 10 && strcmp(s->units, "mV") == 0);
	CHECK(s->checksum == (int) (int16_t) (70000 & 0xFFFF));
	wfdb_header_release(&h);
}

static void
test_header_minimal_record_line(void)
{
	wfdb_header h;
	ecg_status	st;

	CHECK(parse_text("solo 0\n", &h, &st) == 0);
	CHECK(h.n_signals == 0 && h.signals == NULL);
	CHECK(h.sampling_frequency == WFDB_DEFAULT_FREQ && h.n_samples == 0);
	wfdb_header_release(&h);
}

static void
check_header_error(const char *text, size_t len, ecg_error_kind kind, const char *in_message,
				   const char *in_detail)
{
	wfdb_header h;
	ecg_status	st;

	if (len == 0)
		len = strlen(text);
	ecg_status_clear(&st);
	CHECK_MSG(wfdb_header_parse(text, len, &h, &st) == -1, "accepted: %.40s", text);
	CHECK_MSG(st.kind == kind, "kind %d for %.40s", (int) st.kind, text);
	CHECK_MSG(in_message == NULL || contains(st.message, in_message), "message \"%s\"", st.message);
	CHECK_MSG(in_detail == NULL || contains(st.detail, in_detail), "detail \"%s\"", st.detail);
	CHECK(h.signals == NULL);
}

static void
test_header_errors(void)
{
	const char *nul = "r 1\nr.dat 16\0x\n";

	check_header_error("multi/3 2 360 1000\nseg1 500\n", 26, ECG_ERR_UNSUPPORTED, "multi-segment", "3 segments");
	check_header_error("", 0, ECG_ERR_FORMAT, "no record line", NULL);
	check_header_error("# only a comment\n", 17, ECG_ERR_FORMAT, "no record line", NULL);
	check_header_error("r 2 360 10\nr.dat 16\n", 20, ECG_ERR_FORMAT, "declares 2 signals but has 1", NULL);
	check_header_error("r 1 360 10\nr.dat 16\nextra 16\n", 29, ECG_ERR_FORMAT, "has 2 signal lines", NULL);
	check_header_error("r x\n", 4, ECG_ERR_FORMAT, "number of signals", "line 1");
	check_header_error("r 1 fast\nr.dat 16\n", 18, ECG_ERR_FORMAT, "sampling frequency", "line 1");
	check_header_error("r 1 360 -5\nr.dat 16\n", 20, ECG_ERR_FORMAT, "number of samples", "line 1");
	check_header_error("# c\nr 1 360\nr.dat 2y12\n", 23, ECG_ERR_FORMAT, "signal format", "line 3");
	check_header_error("r 1 360\nr.dat 212x0\n", 20, ECG_ERR_FORMAT, "samples per frame", "line 2");
	check_header_error("r 1 360\nr.dat 212:-1\n", 21, ECG_ERR_FORMAT, "skew", "line 2");
	check_header_error("r 1 360\nr.dat 212+x\n", 20, ECG_ERR_FORMAT, "byte offset", "line 2");
	check_header_error("r 1 360\nr.dat 212 abc\n", 22, ECG_ERR_FORMAT, "ADC gain", "line 2");
	check_header_error("r 1 360\nr.dat 212 200(5\n", 24, ECG_ERR_FORMAT, "baseline", "line 2");
	check_header_error("r 1 360\nr.dat 212 200/\n", 23, ECG_ERR_FORMAT, "units", "line 2");
	check_header_error("r 1 360\nr.dat 212 200 40\n", 25, ECG_ERR_FORMAT, "ADC resolution", "line 2");
	check_header_error("r 1 360\nr.dat 212 200 12 0 0 cks\n", 33, ECG_ERR_FORMAT, "checksum", "line 2");
	check_header_error("r 1 360\nr.dat 212 200 nan\n", 26, ECG_ERR_FORMAT, "ADC resolution", NULL);
	check_header_error("r 1 inf\nr.dat 16\n", 17, ECG_ERR_FORMAT, "sampling frequency", NULL);
	check_header_error(nul, 15, ECG_ERR_FORMAT, "NUL", "byte offset 12");
}

/* Signals ------------------------------------------------------------------- */

static void
test_decode_212_by_hand(void)
{
	/* samples 0x123 and -2: byte 1 holds the high nibbles (low: sample 0) */
	const uint8_t bytes[] = {0x23, 0xF1, 0xFE, 0xFF, 0x07, 0x00};
	wfdb_header h;
	ecg_status	st;
	int32_t    *adc;
	int64_t		n;

	CHECK(parse_text("r 1 360\nr.dat 212\n", &h, &st) == 0);
	CHECK(wfdb_signal_decode(&h, 0, bytes, sizeof(bytes), &adc, &n, &st) == 0);
	CHECK(n == 4);
	if (n == 4)
	{
		CHECK(adc[0] == 0x123);
		CHECK(adc[1] == -2);
		CHECK(adc[2] == 2047);	/* 0x7FF */
		CHECK(adc[3] == 0);
	}
	ecg_free(adc);
	/* a lone last sample stored in 2 bytes */
	CHECK(wfdb_signal_decode(&h, 0, bytes, 5, &adc, &n, &st) == 0);
	CHECK(n == 3 && adc[2] == 2047);
	ecg_free(adc);
	wfdb_header_release(&h);
}

static void
test_decode_other_formats_by_hand(void)
{
	struct
	{
		const char *header;
		uint8_t		bytes[8];
		size_t		len;
		int			n;
		int32_t		expected[3];
	}			cases[] = {
		{"r 1\nr.dat 16\n", {0x34, 0x12, 0xFE, 0xFF}, 4, 2, {0x1234, -2}},
		{"r 1\nr.dat 61\n", {0x12, 0x34, 0xFF, 0xFE}, 4, 2, {0x1234, -2}},
		{"r 1\nr.dat 80\n", {0x80, 0x00, 0xFF}, 3, 3, {0, -128, 127}},
		{"r 1\nr.dat 160\n", {0x00, 0x80, 0x00, 0x00}, 4, 2, {0, -32768}},
		{"r 1\nr.dat 24\n", {0x01, 0x02, 0x03, 0xFF, 0xFF, 0xFF}, 6, 2, {0x030201, -1}},
		{"r 1\nr.dat 32\n", {0x01, 0x02, 0x03, 0x04, 0xFE, 0xFF, 0xFF, 0xFF}, 8, 2, {0x04030201, -2}},
		/* 311: 1, -1 (0x3FF), 5 in bits 0-9, 10-19, 20-29 */
		{"r 1\nr.dat 311\n", {0x01, 0xFC, 0x5F, 0x00}, 4, 3, {1, -1, 5}},
		/* 310: word0 = (3 << 1) | (low5(-3) << 11), word1 = (-4 << 1) | (high5(-3) << 11) */
		{"r 1\nr.dat 310\n", {0x06, 0xE8, 0xF8, 0xFF}, 4, 3, {3, -4, -3}},
		/* 8: differences from the initial value 100 */
		{"r 1\nr.dat 8 200 8 0 100\n", {0x05, 0xFE, 0x80}, 3, 3, {105, 103, -25}},
	};

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++)
	{
		wfdb_header h;
		ecg_status	st;
		int32_t    *adc = NULL;
		int64_t		n = 0;

		CHECK(parse_text(cases[c].header, &h, &st) == 0);
		CHECK_MSG(wfdb_signal_decode(&h, 0, cases[c].bytes, cases[c].len, &adc, &n, &st) == 0,
				  "%s: %s", cases[c].header, st.message);
		CHECK_MSG(n == cases[c].n, "case %zu: n = %lld", c, (long long) n);
		for (int i = 0; i < cases[c].n && i < n; i++)
			CHECK_MSG(adc[i] == cases[c].expected[i], "case %zu sample %d: %d, expected %d",
					  c, i, adc[i], cases[c].expected[i]);
		ecg_free(adc);
		wfdb_header_release(&h);
	}
}

/* Random values that fit a format. */
static void
random_samples(rng_state *rng, int format, int32_t *v, size_t n)
{
	int			bits = format == 212 ? 12 : format == 80 ? 8 : (format == 310 || format == 311) ? 10 :
		format == 24 ? 24 : format == 32 ? 31 : 16;

	for (size_t i = 0; i < n; i++)
		v[i] = (int32_t) rng_below(rng, (uint64_t) 1 << bits) - (int32_t) ((uint64_t) 1 << (bits - 1));
	if (n > 1)
	{
		v[0] = -(int32_t) ((uint64_t) 1 << (bits - 1));	/* the extremes */
		v[1] = (int32_t) (((uint64_t) 1 << (bits - 1)) - 1);
	}
}

/* Sample widths, and the encoder's bounds that follow from them. */
static void
test_format_sample_bits(void)
{
	ecg_status	st;
	uint8_t    *out = NULL;
	size_t		len = 0;
	int32_t		top212[1] = {2047},
				over212[1] = {2048};

	CHECK(wfdb_format_sample_bits(212) == 12 && wfdb_format_sample_bits(80) == 8);
	CHECK(wfdb_format_sample_bits(310) == 10 && wfdb_format_sample_bits(311) == 10);
	CHECK(wfdb_format_sample_bits(16) == 16 && wfdb_format_sample_bits(61) == 16);
	CHECK(wfdb_format_sample_bits(160) == 16 && wfdb_format_sample_bits(24) == 24);
	CHECK(wfdb_format_sample_bits(32) == 32);
	CHECK(wfdb_format_sample_bits(8) == 0 && wfdb_format_sample_bits(999) == 0);
	CHECK(wfdb_samples_encode(212, top212, 1, &out, &len, &st) == 0);
	ecg_free(out);
	out = NULL;
	CHECK(wfdb_samples_encode(212, over212, 1, &out, &len, &st) != 0);
	CHECK(st.kind == ECG_ERR_ARGUMENT && out == NULL);
}

/* Round trip: two or three interleaved signals (with samples per frame and a
 * prolog), every supported encodable format, odd lengths. */
static void
test_encode_decode_round_trip(void)
{
	const int	formats[] = {16, 24, 32, 61, 80, 160, 212, 310, 311};
	rng_state	rng;

	rng_seed(&rng, 2024);
	for (size_t f = 0; f < sizeof(formats) / sizeof(formats[0]); f++)
		for (int frames = 0; frames < 8; frames++)
		{
			int			fmt = formats[f];
			/* signal A 1 sample/frame, B 2 samples/frame, C 1 */
			size_t		n_stream = (size_t) frames * 4;
			int32_t		stream[64];
			uint8_t    *bytes,
					   *file;
			size_t		len;
			char		text[512];
			wfdb_header h;
			ecg_status	st;

			random_samples(&rng, fmt, stream, n_stream);
			CHECK(wfdb_samples_encode(fmt, stream, n_stream, &bytes, &len, &st) == 0);
			/* a 6-byte prolog before the samples */
			file = ecg_alloc(len + 6);
			memset(file, 0xAB, 6);
			memcpy(file + 6, bytes, len);
			snprintf(text, sizeof(text),
					 "rt 3 100 %d\n"
					 "rt.dat %d+6 100 0 0 0 0 0 A\n"
					 "rt.dat %dx2+6 100 0 0 0 0 0 B\n"
					 "rt.dat %d+6 100 0 0 0 0 0 C\n", frames, fmt, fmt, fmt);
			CHECK(parse_text(text, &h, &st) == 0);
			if (frames == 0)
				h.n_samples = 0;	/* 0 means "not given": decode what is there */
			/* the checksums in the header are 0: make them right */
			for (int s = 0; s < 3; s++)
			{
				uint32_t	sum = 0;

				for (int fr = 0; fr < frames; fr++)
					for (int k = 0; k < (s == 1 ? 2 : 1); k++)
						sum += (uint32_t) stream[fr * 4 + (s == 0 ? 0 : s == 1 ? 1 + k : 3)];
				h.signals[s].checksum = (int) (int16_t) (uint16_t) (sum & 0xFFFF);
			}
			for (int s = 0; s < 3; s++)
			{
				int32_t    *adc = NULL;
				int64_t		n = -1;
				int			spf = s == 1 ? 2 : 1;
				int			ok = 1;

				CHECK_MSG(wfdb_signal_decode(&h, s, file, len + 6, &adc, &n, &st) == 0,
						  "format %d frames %d signal %d: %s (%s)", fmt, frames, s,
						  st.message, st.detail);
				CHECK_MSG(n == (int64_t) frames * spf, "format %d: n %lld", fmt, (long long) n);
				for (int fr = 0; fr < frames && n == (int64_t) frames * spf; fr++)
					for (int k = 0; k < spf; k++)
					{
						int32_t		want = stream[fr * 4 + (s == 0 ? 0 : s == 1 ? 1 + k : 3)];

						if (adc[fr * spf + k] != want)
							ok = 0;
					}
				CHECK_MSG(ok, "format %d frames %d signal %d differs", fmt, frames, s);
				ecg_free(adc);
			}
			wfdb_header_release(&h);
			ecg_free(file);
			ecg_free(bytes);
		}
}

static void
test_decode_errors(void)
{
	int32_t		stream[20];
	uint8_t    *bytes;
	size_t		len;
	wfdb_header h;
	ecg_status	st;
	int32_t    *adc;
	int64_t		n;

	for (int i = 0; i < 20; i++)
		stream[i] = i * 10 - 100;
	CHECK(wfdb_samples_encode(212, stream, 20, &bytes, &len, &st) == 0);
	CHECK(len == 30);

	/* header declares more samples than the file holds */
	CHECK(parse_text("short 2 360 11\nshort.dat 212\nshort.dat 212\n", &h, &st) == 0);
	CHECK(wfdb_signal_decode(&h, 0, bytes, len, &adc, &n, &st) == -1);
	CHECK(st.kind == ECG_ERR_DATA);
	CHECK_MSG(contains(st.message, "10 of the 11"), "%s", st.message);
	CHECK_MSG(contains(st.detail, "expected 33 bytes") && contains(st.detail, "found 30"), "%s", st.detail);
	CHECK(adc == NULL && n == 0);
	/* a truncated file (cut inside a frame) */
	h.n_samples = 10;
	CHECK(wfdb_signal_decode(&h, 1, bytes, 29, &adc, &n, &st) == -1 && st.kind == ECG_ERR_DATA);
	CHECK(wfdb_signal_decode(&h, 1, bytes, 30, &adc, &n, &st) == 0 && n == 10);
	CHECK(n == 10 && adc[9] == stream[19]);
	ecg_free(adc);
	/* without a sample count: whole frames only */
	h.n_samples = 0;
	CHECK(wfdb_signal_decode(&h, 0, bytes, 29, &adc, &n, &st) == 0 && n == 9);
	ecg_free(adc);
	/* bad index */
	CHECK(wfdb_signal_decode(&h, 2, bytes, len, &adc, &n, &st) == -1 && st.kind == ECG_ERR_ARGUMENT);
	CHECK(wfdb_signal_decode(&h, -1, bytes, len, &adc, &n, &st) == -1 && st.kind == ECG_ERR_ARGUMENT);
	/* unknown format */
	h.signals[0].format = 999;
	CHECK(wfdb_signal_decode(&h, 0, bytes, len, &adc, &n, &st) == -1);
	CHECK(st.kind == ECG_ERR_UNSUPPORTED && contains(st.message, "999"));
	/* mixed formats in one file */
	h.signals[0].format = 16;
	CHECK(wfdb_signal_decode(&h, 1, bytes, len, &adc, &n, &st) == -1 && st.kind == ECG_ERR_UNSUPPORTED);
	h.signals[0].format = 212;
	/* byte offset past the end */
	h.signals[0].byte_offset = h.signals[1].byte_offset = 31;
	CHECK(wfdb_signal_decode(&h, 0, bytes, len, &adc, &n, &st) == -1 && st.kind == ECG_ERR_DATA);
	CHECK(contains(st.detail, "byte offset 31"));
	wfdb_header_release(&h);

	/* checksum mismatch */
	CHECK(parse_text("c 2 360 10\nc.dat 212 200 12 0 0 1 0 X\nc.dat 212 200 12 0 0 0 0 Y\n", &h, &st) == 0);
	CHECK(wfdb_signal_decode(&h, 0, bytes, len, &adc, &n, &st) == -1);
	CHECK(st.kind == ECG_ERR_DATA && contains(st.message, "checksum"));
	CHECK(contains(st.detail, "header says 1"));
	wfdb_header_release(&h);
	ecg_free(bytes);

	/* encoder rejects values that do not fit */
	stream[3] = 2048;
	CHECK(wfdb_samples_encode(212, stream, 20, &bytes, &len, &st) == -1);
	CHECK(st.kind == ECG_ERR_ARGUMENT && contains(st.detail, "sample 3"));
	CHECK(wfdb_samples_encode(8, stream, 20, &bytes, &len, &st) == -1 && st.kind == ECG_ERR_UNSUPPORTED);
}

static void
test_decode_skew(void)
{
	/* two 16-bit signals; signal 1 skewed by 2 frames */
	int32_t		stream[12] = {0, 100, 1, 101, 2, 102, 3, 103, 4, 104, 5, 105};
	uint8_t    *bytes;
	size_t		len;
	wfdb_header h;
	ecg_status	st;
	int32_t    *adc;
	int64_t		n;

	CHECK(wfdb_samples_encode(16, stream, 12, &bytes, &len, &st) == 0);
	CHECK(parse_text("s 2 10 6\ns.dat 16\ns.dat 16:2\n", &h, &st) == 0);
	CHECK(wfdb_signal_decode(&h, 1, bytes, len, &adc, &n, &st) == 0);
	CHECK(n == 6);
	CHECK(adc[0] == 102 && adc[3] == 105);
	CHECK(adc[4] == -32768 && adc[5] == -32768);	/* past the stored frames */
	ecg_free(adc);
	h.n_samples = 0;
	CHECK(wfdb_signal_decode(&h, 1, bytes, len, &adc, &n, &st) == 0 && n == 4);
	ecg_free(adc);
	wfdb_header_release(&h);
	ecg_free(bytes);
}

/* Annotations ------------------------------------------------------------ */

static size_t
put_word(uint8_t *b, size_t at, int code, int value)
{
	unsigned	w = ((unsigned) code << 10) | ((unsigned) value & 0x3FF);

	b[at] = (uint8_t) (w & 0xFF);
	b[at + 1] = (uint8_t) (w >> 8);
	return at + 2;
}

static void
test_annotations_by_hand(void)
{
	uint8_t		b[64];
	size_t		at = 0,
				n;
	wfdb_annotation *ann;
	ecg_status	st;

	at = put_word(b, at, 28, 18);	/* "+" at 18 ... */
	at = put_word(b, at, 63, 3);	/* ... with AUX "(N" + NUL, padded */
	memcpy(b + at, "(N\0\0", 4);
	at += 4;
	at = put_word(b, at, 1, 1000);	/* N at 1018 */
	at = put_word(b, at, 59, 0);	/* SKIP 100000 = 0x000186A0: high word first */
	b[at++] = 0x01;
	b[at++] = 0x00;
	b[at++] = 0xA0;
	b[at++] = 0x86;
	at = put_word(b, at, 5, 2);		/* V at 1018 + 100000 + 2 */
	at = put_word(b, at, 61, 7);	/* SUB 7 */
	at = put_word(b, at, 62, 2);	/* CHN 2 */
	at = put_word(b, at, 60, 9);	/* NUM 9 */
	at = put_word(b, at, 63, 5);	/* AUX "(AFIB" padded to 6 */
	memcpy(b + at, "(AFIB\0", 6);
	at += 6;
	at = put_word(b, at, 12, 300);	/* "/": inherits chan 2, num 9 */
	at = put_word(b, at, 0, 0);		/* end */
	at = put_word(b, at, 5, 1);		/* ignored after the end */

	CHECK(wfdb_annotations_parse(b, at, &ann, &n, &st) == 0);
	CHECK(n == 4);
	if (n != 4)
		return;
	CHECK(ann[0].sample == 18 && ann[0].type == 28 && strcmp(ann[0].symbol, "+") == 0);
	CHECK(strcmp(ann[0].aux, "(N") == 0);
	CHECK(ann[1].sample == 1018 && strcmp(ann[1].symbol, "N") == 0 && ann[1].aux[0] == '\0');
	CHECK(ann[2].sample == 1018 + 100000 + 2 && strcmp(ann[2].symbol, "V") == 0);
	CHECK(ann[2].subtype == 7 && ann[2].chan == 2 && ann[2].num == 9);
	CHECK(strcmp(ann[2].aux, "(AFIB") == 0);
	CHECK(ann[3].sample == 1018 + 100000 + 2 + 300 && strcmp(ann[3].symbol, "/") == 0);
	CHECK(ann[3].subtype == 0 && ann[3].chan == 2 && ann[3].num == 9 && ann[3].aux[0] == '\0');
	CHECK(ann[1].chan == 0 && ann[1].num == 0);
	wfdb_annotations_release(ann);

	/* without the end word the buffer's end ends the list */
	CHECK(wfdb_annotations_parse(b, 8, &ann, &n, &st) == 0 && n == 1);
	wfdb_annotations_release(ann);
	/* an empty file and a lone end word hold no annotations */
	CHECK(wfdb_annotations_parse(b, 0, &ann, &n, &st) == 0 && n == 0);
	wfdb_annotations_release(ann);
}

static void
check_annotation_error(const uint8_t *b, size_t len, const char *in_message, const char *offset)
{
	wfdb_annotation *ann = (wfdb_annotation *) 1;
	size_t		n = 99;
	ecg_status	st;

	ecg_status_clear(&st);
	CHECK(wfdb_annotations_parse(b, len, &ann, &n, &st) == -1);
	CHECK(st.kind == ECG_ERR_FORMAT);
	CHECK_MSG(contains(st.message, in_message), "message \"%s\"", st.message);
	CHECK_MSG(contains(st.detail, offset), "detail \"%s\" lacks \"%s\"", st.detail, offset);
	CHECK(ann == NULL && n == 0);
}

static void
test_annotation_errors(void)
{
	uint8_t		b[32];
	size_t		at;

	at = put_word(b, 0, 1, 5);
	b[at++] = 0x01;				/* odd trailing byte */
	check_annotation_error(b, at, "inside a word", "offset 2");

	at = put_word(b, 0, 1, 5);
	at = put_word(b, at, 59, 0);
	b[at++] = 0;
	b[at++] = 0;
	b[at++] = 1;				/* SKIP cut short */
	check_annotation_error(b, at, "truncated SKIP", "offset 2");

	at = put_word(b, 0, 1, 5);
	at = put_word(b, at, 63, 6);
	memcpy(b + at, "abc", 3);
	check_annotation_error(b, at + 3, "truncated AUX", "offset 2");

	at = put_word(b, 0, 1, 5);
	at = put_word(b, at, 63, 3);	/* 3 bytes but the pad byte is missing */
	memcpy(b + at, "abc", 3);
	check_annotation_error(b, at + 3, "truncated AUX", "offset 2");

	at = put_word(b, 0, 1, 5);
	at = put_word(b, at, 1, 5);
	at = put_word(b, at, 52, 1);
	check_annotation_error(b, at, "reserved annotation code 52", "offset 4");

	at = put_word(b, 0, 61, 1);
	check_annotation_error(b, at, "SUB", "offset 0");
	at = put_word(b, 0, 63, 0);
	check_annotation_error(b, at, "AUX", "offset 0");

	/* SKIP of -100 leads to a negative time */
	at = put_word(b, 0, 59, 0);
	b[at++] = 0xFF;
	b[at++] = 0xFF;
	b[at++] = 0x9C;
	b[at++] = 0xFF;
	at = put_word(b, at, 1, 5);
	check_annotation_error(b, at, "negative", "offset 6");
}

static void
test_annotation_symbols(void)
{
	const char *symbols = "NLRaVFJASEj/Q~|sT*D\"=pB^t+u?![]en@xf()r";

	for (const char *p = symbols; *p; p++)
	{
		char		s[2] = {*p, '\0'};
		int			code = wfdb_annotation_code(s);

		CHECK_MSG(code >= 1 && code <= 41, "symbol %s has code %d", s, code);
		CHECK(strcmp(wfdb_annotation_symbol(code), s) == 0);
	}
	/* a few codes from ecgcodes.h */
	CHECK(wfdb_annotation_code("N") == 1 && wfdb_annotation_code("V") == 5);
	CHECK(wfdb_annotation_code("/") == 12 && wfdb_annotation_code("~") == 14);
	CHECK(wfdb_annotation_code("|") == 16 && wfdb_annotation_code("+") == 28);
	CHECK(wfdb_annotation_code("f") == 38 && wfdb_annotation_code("r") == 41);
	CHECK(wfdb_annotation_code("") == -1 && wfdb_annotation_code("NN") == -1);
	CHECK(wfdb_annotation_symbol(15)[0] == '\0' && wfdb_annotation_symbol(50)[0] == '\0');
	CHECK(wfdb_annotation_symbol(-1)[0] == '\0');
}

static void
test_annotation_round_trip(void)
{
	rng_state	rng;
	wfdb_annotation in[500];
	char		aux_text[500][8];
	uint8_t    *bytes;
	size_t		len,
				n;
	wfdb_annotation *out;
	ecg_status	st;
	int64_t		t = 0;

	rng_seed(&rng, 99);
	for (int i = 0; i < 500; i++)
	{
		memset(&in[i], 0, sizeof(in[i]));
		/* mostly short intervals, some needing SKIP, some equal times */
		t += rng_below(&rng, 10) == 0 ? (int64_t) rng_below(&rng, 5000000) : (int64_t) rng_below(&rng, 1024);
		in[i].sample = t;
		in[i].type = 1 + (int) rng_below(&rng, 41);
		in[i].subtype = rng_below(&rng, 5) == 0 ? (int) rng_below(&rng, 1024) : 0;
		in[i].chan = rng_below(&rng, 7) == 0 ? (int) rng_below(&rng, 3) : (i > 0 ? in[i - 1].chan : 0);
		in[i].num = rng_below(&rng, 9) == 0 ? (int) rng_below(&rng, 100) : (i > 0 ? in[i - 1].num : 0);
		snprintf(aux_text[i], sizeof(aux_text[i]), "%.*s", (int) rng_below(&rng, 8), "(AFLUT#");
		in[i].aux = aux_text[i];
	}
	CHECK(wfdb_annotations_encode(in, 500, &bytes, &len, &st) == 0);
	CHECK(wfdb_annotations_parse(bytes, len, &out, &n, &st) == 0);
	CHECK(n == 500);
	for (size_t i = 0; i < n && i < 500; i++)
	{
		CHECK_MSG(out[i].sample == in[i].sample && out[i].type == in[i].type &&
				  out[i].subtype == in[i].subtype && out[i].chan == in[i].chan &&
				  out[i].num == in[i].num && strcmp(out[i].aux, in[i].aux) == 0,
				  "annotation %zu differs", i);
		CHECK(strcmp(out[i].symbol, wfdb_annotation_symbol(in[i].type)) == 0);
	}
	wfdb_annotations_release(out);
	ecg_free(bytes);
	/* type 0 cannot be written (it would read as the end) */
	in[0].type = 0;
	CHECK(wfdb_annotations_encode(in, 1, &bytes, &len, &st) == -1 && st.kind == ECG_ERR_ARGUMENT);
}

/* Robustness: parsers never crash or read out of bounds on any input (run
 * under -fsanitize=address to see it); every failure is a kind + message. */
static void
test_parsers_on_garbage(void)
{
	rng_state	rng;
	uint8_t		buf[512];
	const char *good_header = "g 2 360 40\ng.dat 212x2:1+4 200(3)/mV 12 0 0 0 0 MLII\ng.dat 212 0\n";
	size_t		hl = strlen(good_header);

	rng_seed(&rng, 7);
	for (int round = 0; round < 4000; round++)
	{
		size_t		len = (size_t) rng_below(&rng, sizeof(buf) + 1);
		wfdb_annotation *ann;
		size_t		n;
		wfdb_header h;
		ecg_status	st;
		int32_t    *adc;
		int64_t		na;

		for (size_t i = 0; i < len; i++)
			buf[i] = (uint8_t) rng_next(&rng);
		if (wfdb_annotations_parse(buf, len, &ann, &n, &st) == 0)
			wfdb_annotations_release(ann);
		else
			CHECK(st.kind == ECG_ERR_FORMAT && st.message[0] != '\0');

		/* the header with random bytes flipped, then truncated */
		memcpy(buf, good_header, hl);
		for (int k = 0; k < 3; k++)
			buf[rng_below(&rng, hl)] = (uint8_t) " 0123456789x:+()/#\n\0a-."[rng_below(&rng, 24)];
		if (wfdb_header_parse((const char *) buf, (size_t) rng_below(&rng, hl + 1), &h, &st) == 0)
		{
			uint8_t		dat[200];

			for (size_t i = 0; i < sizeof(dat); i++)
				dat[i] = (uint8_t) rng_next(&rng);
			for (int s = 0; s < h.n_signals; s++)
				if (wfdb_signal_decode(&h, s, dat, (size_t) rng_below(&rng, sizeof(dat) + 1),
									   &adc, &na, &st) == 0)
					ecg_free(adc);
			wfdb_header_release(&h);
		}
		else
			CHECK(st.kind != ECG_OK && st.message[0] != '\0');
	}
}

/* Real MIT-BIH data -------------------------------------------------------- */

static const char *
mitdb_dir(void)
{
	const char *env = getenv("ECGDL_MITDB");
	const char *dir = env && *env ? env : MITDB_DEFAULT;
	char		probe[4096];
	FILE	   *f;

	snprintf(probe, sizeof(probe), "%s/100.hea", dir);
	f = fopen(probe, "rb");
	if (f == NULL)
		return NULL;
	fclose(f);
	return dir;
}

static void
test_mitdb_record_100(void)
{
	const char *dir = mitdb_dir();
	size_t		hl,
				dl,
				al,
				n_ann;
	uint8_t    *hea,
			   *dat,
			   *atr;
	wfdb_header h;
	ecg_status	st;
	wfdb_annotation *ann;

	if (dir == NULL)
	{
		printf("# skipped test_mitdb_record_100: MIT-BIH not found (set ECGDL_MITDB)\n");
		return;
	}
	hea = unit_read_file(dir, "100.hea", &hl);
	dat = unit_read_file(dir, "100.dat", &dl);
	atr = unit_read_file(dir, "100.atr", &al);
	CHECK(hea && dat && atr);
	if (!(hea && dat && atr))
		return;
	CHECK(wfdb_header_parse((const char *) hea, hl, &h, &st) == 0);
	CHECK(h.n_signals == 2 && h.n_samples == 650000 && h.sampling_frequency == 360);
	for (int s = 0; s < 2; s++)
	{
		int32_t    *adc;
		int64_t		n;

		/* decoding verifies the header's checksum */
		CHECK_MSG(wfdb_signal_decode(&h, s, dat, dl, &adc, &n, &st) == 0, "%s", st.message);
		CHECK(n == 650000);
		CHECK(adc[0] == h.signals[s].initial_value);
		ecg_free(adc);
	}
	wfdb_header_release(&h);

	CHECK(wfdb_annotations_parse(atr, al, &ann, &n_ann, &st) == 0);
	CHECK(n_ann > 2000);
	if (n_ann > 2)
	{
		/* record 100 opens with a rhythm annotation "(N" before its first beat */
		CHECK(strcmp(ann[0].symbol, "+") == 0 && strcmp(ann[0].aux, "(N") == 0);
		CHECK(ann[0].sample == 18);
		CHECK(strcmp(ann[1].symbol, "N") == 0 && ann[1].aux[0] == '\0');
		for (size_t i = 1; i < n_ann; i++)
			CHECK(ann[i].sample >= ann[i - 1].sample);
	}
	wfdb_annotations_release(ann);
	free(hea);
	free(dat);
	free(atr);
}

int
main(void)
{
	RUN_TEST(test_header_mitbih_style);
	RUN_TEST(test_header_optional_fields);
	RUN_TEST(test_file_name_is_plain);
	RUN_TEST(test_header_minimal_record_line);
	RUN_TEST(test_header_errors);
	RUN_TEST(test_decode_212_by_hand);
	RUN_TEST(test_decode_other_formats_by_hand);
	RUN_TEST(test_format_sample_bits);
	RUN_TEST(test_encode_decode_round_trip);
	RUN_TEST(test_decode_errors);
	RUN_TEST(test_decode_skew);
	RUN_TEST(test_annotations_by_hand);
	RUN_TEST(test_annotation_errors);
	RUN_TEST(test_annotation_symbols);
	RUN_TEST(test_annotation_round_trip);
	RUN_TEST(test_parsers_on_garbage);
	RUN_TEST(test_mitdb_record_100);
	UNIT_EXIT();
}
