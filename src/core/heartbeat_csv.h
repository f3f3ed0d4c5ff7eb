/*
 * heartbeat_csv.h - the Kaggle "heartbeat" CSV files (mitbih_train.csv,
 * mitbih_test.csv, ptbdb_normal.csv, ptbdb_abnormal.csv).
 *
 * No header line; each line holds HEARTBEAT_CSV_SAMPLES comma-separated
 * floats (one beat, normalised to [0, 1] and zero-padded) followed by the
 * label written as a float ("0.000000000000000000e+00").  The label must be
 * an integer 0..4.  Lines end in "\n" or "\r\n"; spaces and tabs around
 * fields are ignored.
 */
#ifndef ECG_HEARTBEAT_CSV_H
#define ECG_HEARTBEAT_CSV_H

#include <stddef.h>
#include <stdint.h>

#include "ecg_core.h"

#define HEARTBEAT_CSV_SAMPLES	187
#define HEARTBEAT_CSV_FIELDS	(HEARTBEAT_CSV_SAMPLES + 1)
#define HEARTBEAT_CSV_MAX_LABEL 4

/*
 * Parses one line (need not be NUL-terminated; a trailing "\r\n", "\n" or
 * "\r" is ignored) into samples[HEARTBEAT_CSV_SAMPLES] and *label.  Numbers
 * are read exactly as strtof would (in the C locale).  Errors (all
 * ECG_ERR_FORMAT): wrong number of fields (the message says how many),
 * a field that is not a number (names the 1-based field and quotes it),
 * NaN or infinity, a label that is not an integer in 0..4.
 */
int			heartbeat_csv_parse_line(const char *line, size_t len, float *samples, int *label,
									 ecg_status *st);

/* Iterates over the lines of a whole file held in memory. */
typedef struct heartbeat_csv_reader
{
	const char *buf;
	size_t		len;
	size_t		pos;			/* offset of the next line */
	int64_t		line_no;		/* 1-based number of the line last returned */
} heartbeat_csv_reader;

void		heartbeat_csv_reader_init(heartbeat_csv_reader *r, const char *buf, size_t len);

/*
 * Returns 1 and the next line (*line, *line_len without its line end, and its
 * 1-based *line_no), or 0 at the end.  A last line that is empty or blank
 * (only spaces, tabs, '\r') is not returned; an empty line elsewhere is.
 */
int			heartbeat_csv_next_line(heartbeat_csv_reader *r, const char **line, size_t *line_len,
									int64_t *line_no);

/*
 * heartbeat_csv_next_line + heartbeat_csv_parse_line: returns 1 with a beat,
 * 0 at the end, -1 on a bad line (the detail then says "line N").
 */
int			heartbeat_csv_read(heartbeat_csv_reader *r, float *samples, int *label,
							   ecg_status *st);

#endif
