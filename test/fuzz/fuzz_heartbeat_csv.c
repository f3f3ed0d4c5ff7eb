/*
 * fuzz_heartbeat_csv.c - libFuzzer target for the heartbeat CSV reader
 * (heartbeat_csv.h).
 *
 * 1. The whole input goes through heartbeat_csv_read until the end, carrying
 *    on after bad lines: every accepted beat has finite samples and a label
 *    0..4, line numbers count up, and the reader always terminates.
 * 2. Differential check of the number parser: when the input has no comma,
 *    line end or NUL, it is used as every sample field of a synthetic line
 *    "x,x,...,x,2"; when that line is accepted, every sample must be bit for
 *    bit what strtof returns for the field (heartbeat_csv.h promises this).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "heartbeat_csv.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FIELD_MAX 4096

static void
read_whole_buffer(const char *buf, size_t len)
{
	heartbeat_csv_reader r;
	float		samples[HEARTBEAT_CSV_SAMPLES];
	int			label;
	ecg_status	st;
	int64_t		lines = 0;
	int64_t		previous_line = 0;
	int			rc;

	heartbeat_csv_reader_init(&r, buf, len);
	for (;;)
	{
		ecg_status_clear(&st);
		label = -1;
		rc = heartbeat_csv_read(&r, samples, &label, &st);
		if (rc == 0)
			break;
		lines++;
		/* a line has at least its '\n', except the last */
		FUZZ_ASSERT(lines <= (int64_t) len + 1);
		FUZZ_ASSERT(r.line_no == previous_line + 1);
		previous_line = r.line_no;
		if (rc < 0)
		{
			FUZZ_EXPECT_FAILURE(&st);
			FUZZ_ASSERT(strstr(st.detail, "line ") != NULL);
			continue;
		}
		FUZZ_ASSERT(rc == 1);
		FUZZ_ASSERT(label >= 0 && label <= HEARTBEAT_CSV_MAX_LABEL);
		for (int i = 0; i < HEARTBEAT_CSV_SAMPLES; i++)
			FUZZ_ASSERT(isfinite(samples[i]));
	}
}

/* Field f[0..n) without the spaces and tabs the parser ignores around it. */
static void
trim(const char **f, size_t *n)
{
	while (*n > 0 && (**f == ' ' || **f == '\t'))
	{
		(*f)++;
		(*n)--;
	}
	while (*n > 0 && ((*f)[*n - 1] == ' ' || (*f)[*n - 1] == '\t'))
		(*n)--;
}

static void
compare_with_strtof(const char *field, size_t n)
{
	size_t		line_len = (n + 1) * HEARTBEAT_CSV_SAMPLES + 1;
	char	   *line = malloc(line_len);
	char	   *copy = malloc(n + 1);
	float		samples[HEARTBEAT_CSV_SAMPLES];
	int			label = -1;
	ecg_status	st;
	const char *t = field;
	size_t		tn = n;
	float		expected;
	char	   *end;

	FUZZ_ASSERT(line != NULL && copy != NULL);
	for (int i = 0; i < HEARTBEAT_CSV_SAMPLES; i++)
	{
		memcpy(line + (size_t) i * (n + 1), field, n);
		line[(size_t) i * (n + 1) + n] = ',';
	}
	line[line_len - 1] = '2';
	ecg_status_clear(&st);
	if (heartbeat_csv_parse_line(line, line_len, samples, &label, &st) == 0)
	{
		FUZZ_ASSERT(label == 2);
		trim(&t, &tn);
		memcpy(copy, t, tn);
		copy[tn] = '\0';
		errno = 0;
		expected = strtof(copy, &end);
		FUZZ_ASSERT(end == copy + tn);	/* strtof reads the whole field */
		for (int i = 0; i < HEARTBEAT_CSV_SAMPLES; i++)
		{
			if (memcmp(&samples[i], &expected, sizeof(float)) != 0)
			{
				fprintf(stderr, "field \"%s\": parsed %.9g, strtof %.9g\n", copy,
						(double) samples[i], (double) expected);
				FUZZ_ASSERT(!"a sample equals strtof of its field");
			}
		}
	}
	else
		FUZZ_EXPECT_FAILURE(&st);
	free(line);
	free(copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *) data;

	read_whole_buffer(buf, size);
	if (size > 0 && size <= FIELD_MAX && memchr(buf, ',', size) == NULL &&
		memchr(buf, '\n', size) == NULL && memchr(buf, '\r', size) == NULL &&
		memchr(buf, '\0', size) == NULL)
		compare_with_strtof(buf, size);
	return 0;
}
