/* Unit tests for the heartbeat CSV parser (src/core/heartbeat_csv.c). */
#include <float.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "unit.h"
#include "heartbeat_csv.h"
#include "rng.h"

static int
contains(const char *haystack, const char *needle)
{
	return strstr(haystack, needle) != NULL;
}

/* A line in the Kaggle style: "%.18e" fields, label as a float. */
static size_t
format_line(char *buf, size_t cap, const double *values, double label, const char *sep,
			const char *end)
{
	size_t		at = 0;

	for (int i = 0; i < HEARTBEAT_CSV_SAMPLES; i++)
		at += (size_t) snprintf(buf + at, cap - at, "%.18e%s", values[i], sep);
	at += (size_t) snprintf(buf + at, cap - at, "%.18e%s", label, end);
	return at;
}

static void
test_kaggle_line_equals_strtof(void)
{
	static char line[16384];
	double		values[HEARTBEAT_CSV_SAMPLES];
	float		samples[HEARTBEAT_CSV_SAMPLES];
	int			label;
	rng_state	rng;
	ecg_status	st;
	int			mismatches = 0;

	rng_seed(&rng, 8);
	for (int round = 0; round < 3000; round++)
	{
		size_t		len;
		double		want_label = (double) (round % 5);

		for (int i = 0; i < HEARTBEAT_CSV_SAMPLES; i++)
		{
			switch (rng_below(&rng, 6))
			{
				case 0:
					values[i] = 0.0;	/* zero padding */
					break;
				case 1:			/* a float value printed exactly */
					values[i] = (float) rng_uniform(&rng);
					break;
				case 2:			/* a float midpoint: ties to even */
					{
						float		f = (float) rng_uniform(&rng);

						values[i] = ((double) f + (double) nextafterf(f, 2.0f)) / 2.0;
						break;
					}
				case 3:
					values[i] = rng_uniform(&rng) * pow(10.0, (double) rng_below(&rng, 60) - 40);
					break;
				default:
					values[i] = rng_uniform(&rng);
					break;
			}
		}
		len = format_line(line, sizeof(line), values, want_label, ",", round % 2 ? "\r\n" : "\n");
		CHECK(heartbeat_csv_parse_line(line, len, samples, &label, &st) == 0);
		CHECK(label == (int) want_label);
		/* every field as strtof reads it */
		{
			char	   *p = line;

			for (int i = 0; i < HEARTBEAT_CSV_SAMPLES; i++)
			{
				char	   *end;
				float		ref = strtof(p, &end);

				if (memcmp(&ref, &samples[i], sizeof(float)) != 0)
					mismatches++;
				p = end + 1;
			}
		}
	}
	CHECK_MSG(mismatches == 0, "%d fields differ from strtof", mismatches);
}

static void
test_spaces_and_other_spellings(void)
{
	char		line[8192];
	size_t		at = 0;
	float		s[HEARTBEAT_CSV_SAMPLES];
	int			label;
	ecg_status	st;

	/* spaces around fields, short spellings, signs, exponents */
	for (int i = 0; i < HEARTBEAT_CSV_SAMPLES; i++)
		at += (size_t) snprintf(line + at, sizeof(line) - at, i % 3 == 0 ? " %d.5e-1 ," :
								i % 3 == 1 ? "\t+.%d," : "-%d.,", i % 10);
	at += (size_t) snprintf(line + at, sizeof(line) - at, " 4.0 \t\r\n");
	CHECK_MSG(heartbeat_csv_parse_line(line, at, s, &label, &st) == 0, "%s", st.message);
	CHECK(label == 4);
	CHECK(s[0] == 0.05f);		/* "0.5e-1" */
	CHECK(s[1] == 0.1f);		/* "+.1" */
	CHECK(s[2] == -2.0f);		/* "-2." */
	CHECK(s[3] == strtof("3.5e-1", NULL));
	/* labels written as plain integers, and "-0" */
	memcpy(line + at - 8, "2      \n", 8);
	CHECK(heartbeat_csv_parse_line(line, at, s, &label, &st) == 0 && label == 2);
	memcpy(line + at - 8, "-0     \n", 8);
	CHECK(heartbeat_csv_parse_line(line, at, s, &label, &st) == 0 && label == 0);
}

/* Replaces field `field` (1-based) of a good line with `text`. */
static size_t
line_with_field(char *buf, size_t cap, int field, const char *text)
{
	size_t		at = 0;

	for (int i = 1; i <= HEARTBEAT_CSV_FIELDS; i++)
		at += (size_t) snprintf(buf + at, cap - at, "%s%s", i == field ? text :
								i == HEARTBEAT_CSV_FIELDS ? "1.000000000000000000e+00" : "5.0e-01",
								i < HEARTBEAT_CSV_FIELDS ? "," : "\n");
	return at;
}

static void
check_line_error(const char *line, size_t len, const char *in_message)
{
	float		s[HEARTBEAT_CSV_SAMPLES];
	int			label = -7;
	ecg_status	st;

	ecg_status_clear(&st);
	CHECK(heartbeat_csv_parse_line(line, len, s, &label, &st) == -1);
	CHECK(st.kind == ECG_ERR_FORMAT);
	CHECK_MSG(contains(st.message, in_message), "message \"%s\" lacks \"%s\"", st.message, in_message);
}

static void
test_line_errors(void)
{
	char		line[8192];
	size_t		len;

	len = line_with_field(line, sizeof(line), 0, "");
	/* drop the last field: 187 fields */
	{
		char	   *last = strrchr(line, ',');

		len = (size_t) (last - line);
		check_line_error(line, len, "has 187 fields, expected 188");
	}
	len = line_with_field(line, sizeof(line), 0, "");
	memcpy(line + len - 1, ",0\n", 4);
	check_line_error(line, len + 2, "has 189 fields, expected 188");
	memcpy(line + len - 1, ",0,x\n", 6);
	check_line_error(line, len + 4, "has 190 fields");

	len = line_with_field(line, sizeof(line), 5, "abc");
	check_line_error(line, len, "field 5 is not a number: \"abc\"");
	len = line_with_field(line, sizeof(line), 17, "1.5.3");
	check_line_error(line, len, "field 17 is not a number");
	len = line_with_field(line, sizeof(line), 3, "1e");
	check_line_error(line, len, "field 3 is not a number");
	len = line_with_field(line, sizeof(line), 9, "  ");
	check_line_error(line, len, "field 9 is empty");
	len = line_with_field(line, sizeof(line), 2, "nan");
	check_line_error(line, len, "field 2 is NaN or infinite");
	len = line_with_field(line, sizeof(line), 2, "-inf");
	check_line_error(line, len, "field 2 is NaN or infinite");
	len = line_with_field(line, sizeof(line), 100, "1e39");	/* overflows float */
	check_line_error(line, len, "field 100 is NaN or infinite");
	len = line_with_field(line, sizeof(line), 188, "5.000000000000000000e+00");
	check_line_error(line, len, "label (field 188) is 5.0");
	len = line_with_field(line, sizeof(line), 188, "1.5");
	check_line_error(line, len, "expected an integer 0..4");
	len = line_with_field(line, sizeof(line), 188, "-1");
	check_line_error(line, len, "label");
	len = line_with_field(line, sizeof(line), 188, "nan");
	check_line_error(line, len, "field 188 is NaN");
	check_line_error("", 0, "empty");
	check_line_error("\r\n", 2, "empty");
	check_line_error("1,2,3", 5, "has 3 fields");
}

static void
test_reader_lines(void)
{
	const char *text = "a\r\nb\n\nc\nlast";
	heartbeat_csv_reader r;
	const char *line;
	size_t		n;
	int64_t		no;

	heartbeat_csv_reader_init(&r, text, strlen(text));
	CHECK(heartbeat_csv_next_line(&r, &line, &n, &no) == 1 && n == 1 && line[0] == 'a' && no == 1);
	CHECK(heartbeat_csv_next_line(&r, &line, &n, &no) == 1 && n == 1 && line[0] == 'b' && no == 2);
	CHECK(heartbeat_csv_next_line(&r, &line, &n, &no) == 1 && n == 0 && no == 3);	/* inner empty line */
	CHECK(heartbeat_csv_next_line(&r, &line, &n, &no) == 1 && line[0] == 'c' && no == 4);
	CHECK(heartbeat_csv_next_line(&r, &line, &n, &no) == 1 && n == 4 && no == 5);	/* no final newline */
	CHECK(heartbeat_csv_next_line(&r, &line, &n, &no) == 0);

	/* a final newline, a final blank line */
	heartbeat_csv_reader_init(&r, "x\n", 2);
	CHECK(heartbeat_csv_next_line(&r, &line, &n, &no) == 1);
	CHECK(heartbeat_csv_next_line(&r, &line, &n, &no) == 0);
	heartbeat_csv_reader_init(&r, "x\n\r\n", 4);
	CHECK(heartbeat_csv_next_line(&r, &line, &n, &no) == 1);
	CHECK(heartbeat_csv_next_line(&r, &line, &n, &no) == 0);
	heartbeat_csv_reader_init(&r, "x\n  ", 4);
	CHECK(heartbeat_csv_next_line(&r, &line, &n, &no) == 1);
	CHECK(heartbeat_csv_next_line(&r, &line, &n, &no) == 0);
	heartbeat_csv_reader_init(&r, "", 0);
	CHECK(heartbeat_csv_next_line(&r, &line, &n, &no) == 0);
}

static void
test_read_whole_file(void)
{
	static char buf[3 * 8192];
	double		values[HEARTBEAT_CSV_SAMPLES];
	float		s[HEARTBEAT_CSV_SAMPLES];
	int			label;
	heartbeat_csv_reader r;
	ecg_status	st;
	size_t		len = 0;

	for (int i = 0; i < HEARTBEAT_CSV_SAMPLES; i++)
		values[i] = i / 186.0;
	len += format_line(buf + len, sizeof(buf) - len, values, 3, ",", "\n");
	len += format_line(buf + len, sizeof(buf) - len, values, 0, ",", "\n");
	/* line 3 is bad: its field 188 is not an integer */
	len += format_line(buf + len, sizeof(buf) - len, values, 0.5, ",", "\n");

	heartbeat_csv_reader_init(&r, buf, len);
	CHECK(heartbeat_csv_read(&r, s, &label, &st) == 1 && label == 3);
	CHECK(s[186] == strtof("1.0", NULL));
	CHECK(heartbeat_csv_read(&r, s, &label, &st) == 1 && label == 0);
	CHECK(heartbeat_csv_read(&r, s, &label, &st) == -1);
	CHECK(st.kind == ECG_ERR_FORMAT && strcmp(st.detail, "line 3") == 0);
	CHECK(heartbeat_csv_read(&r, s, &label, &st) == 0);
}

/* About 20 MB in the Kaggle style (mitbih_train.csv is 392 MB / 87554 lines). */
static void
test_speed_20mb(void)
{
	size_t		cap = 21u << 20;
	char	   *buf = malloc(cap);
	size_t		len = 0;
	int			lines = 0;
	double		values[HEARTBEAT_CSV_SAMPLES];
	float		s[HEARTBEAT_CSV_SAMPLES];
	int			label,
				rc;
	rng_state	rng;
	heartbeat_csv_reader r;
	ecg_status	st;
	struct timespec t0,
				t1;
	double		ms;
	int			parsed = 0;

	rng_seed(&rng, 20);
	while (len + 8192 < cap && len < (20u << 20))
	{
		for (int i = 0; i < HEARTBEAT_CSV_SAMPLES; i++)
			values[i] = i > 120 ? 0.0 : rng_uniform(&rng);
		len += format_line(buf + len, cap - len, values, lines % 5, ",", "\n");
		lines++;
	}
	heartbeat_csv_reader_init(&r, buf, len);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while ((rc = heartbeat_csv_read(&r, s, &label, &st)) == 1)
		parsed++;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
	printf("# parsed %d lines, %.1f MB in %.1f ms\n", parsed, len / 1048576.0, ms);
	CHECK(rc == 0 && parsed == lines);
	CHECK_MSG(ms < 2000, "took %.1f ms", ms);	/* target well under 1 s */
	free(buf);
}

int
main(void)
{
	RUN_TEST(test_kaggle_line_equals_strtof);
	RUN_TEST(test_spaces_and_other_spellings);
	RUN_TEST(test_line_errors);
	RUN_TEST(test_reader_lines);
	RUN_TEST(test_read_whole_file);
	RUN_TEST(test_speed_20mb);
	UNIT_EXIT();
}
