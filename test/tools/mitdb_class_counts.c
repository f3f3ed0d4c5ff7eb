/*
 * mitdb_class_counts - runs the beat-extraction pipeline over a WFDB database.
 *
 *   mitdb_class_counts [--check] DIR
 *
 * For every record listed in DIR/RECORDS: parses DIR/<rec>.hea, decodes lead
 * MLII (the first signal when the record has none) from its signal file,
 * parses DIR/<rec>.atr and extracts the beats (src/core/beats.c).  Prints one
 * line per record with its AAMI class counts and dropped beats, then the
 * totals and the elapsed wall-clock time (file reading included).
 *
 * --check compares the totals with the MIT-BIH Arrhythmia Database reference
 * counts (N 90,631 / S 2,781 / V 7,236 / F 803 / Q 8,043) and exits 1 when
 * any class is off by more than 0.1 %.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aami.h"
#include "beats.h"
#include "ecg_core.h"
#include "wfdb.h"

static const int64_t reference_counts[AAMI_N_CLASSES] = {90631, 2781, 7236, 803, 8043};

/* Whole file into a malloc'ed buffer (NUL-terminated for convenience). */
static char *
read_file(const char *path, size_t *len)
{
	FILE	   *f = fopen(path, "rb");
	char	   *buf = NULL;
	size_t		cap = 0,
				n = 0;

	if (f == NULL)
		return NULL;
	for (;;)
	{
		size_t		got;

		if (cap - n < 65536)
		{
			char	   *grown = realloc(buf, cap * 2 + 65536 + 1);

			if (grown == NULL)
			{
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = grown;
			cap = cap * 2 + 65536;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

static double
seconds_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Extracts one record's beats; prints an error and returns -1 on failure. */
static int
process_record(const char *dir, const char *name, beat_set *set, const char **lead)
{
	char		path[4096];
	size_t		hea_len,
				dat_len,
				atr_len;
	char	   *hea,
			   *dat = NULL,
			   *atr = NULL;
	wfdb_header h;
	ecg_status	st;
	int			signal,
				rc = -1;
	static char lead_name[WFDB_DESC_MAX];

	ecg_status_clear(&st);
	snprintf(path, sizeof(path), "%s/%s.hea", dir, name);
	if ((hea = read_file(path, &hea_len)) == NULL)
	{
		fprintf(stderr, "%s: cannot read %s\n", name, path);
		return -1;
	}
	if (wfdb_header_parse(hea, hea_len, &h, &st) != 0)
	{
		fprintf(stderr, "%s: %s (%s)\n", name, st.message, st.detail);
		free(hea);
		return -1;
	}
	signal = wfdb_header_find_signal(&h, "MLII");
	if (signal < 0)
		signal = 0;
	if (h.n_signals == 0)
	{
		fprintf(stderr, "%s: record has no signals\n", name);
		goto done;
	}
	snprintf(lead_name, sizeof(lead_name), "%s", h.signals[signal].description);
	*lead = lead_name;
	snprintf(path, sizeof(path), "%s/%s", dir, h.signals[signal].file_name);
	if ((dat = read_file(path, &dat_len)) == NULL)
	{
		fprintf(stderr, "%s: cannot read %s\n", name, path);
		goto done;
	}
	snprintf(path, sizeof(path), "%s/%s.atr", dir, name);
	if ((atr = read_file(path, &atr_len)) == NULL)
	{
		fprintf(stderr, "%s: cannot read %s\n", name, path);
		goto done;
	}
	if (beats_extract_record(&h, signal, (const uint8_t *) dat, dat_len,
							 (const uint8_t *) atr, atr_len, set, &st) != 0)
	{
		fprintf(stderr, "%s: %s (%s)\n", name, st.message, st.detail);
		goto done;
	}
	rc = 0;
done:
	wfdb_header_release(&h);
	free(hea);
	free(dat);
	free(atr);
	return rc;
}

int
main(int argc, char **argv)
{
	int			check = 0;
	const char *dir;
	char		path[4096];
	char	   *records;
	size_t		records_len;
	int64_t		totals[AAMI_N_CLASSES] = {0};
	int64_t		drops[BEAT_DROP_N_REASONS] = {0};
	int			n_records = 0,
				failures = 0;
	double		start = seconds_now();
	char	   *save = NULL;

	if (argc == 3 && strcmp(argv[1], "--check") == 0)
		check = 1;
	else if (argc != 2)
	{
		fprintf(stderr, "usage: %s [--check] DIR\n", argv[0]);
		return 2;
	}
	dir = argv[argc - 1];
	snprintf(path, sizeof(path), "%s/RECORDS", dir);
	if ((records = read_file(path, &records_len)) == NULL)
	{
		fprintf(stderr, "cannot read %s\n", path);
		return 2;
	}

	printf("%-8s %-6s %7s %7s %7s %7s %7s %7s %7s\n", "record", "lead", "N", "S", "V", "F", "Q",
		   "total", "dropped");
	for (char *name = strtok_r(records, " \t\r\n", &save); name != NULL;
		 name = strtok_r(NULL, " \t\r\n", &save))
	{
		beat_set	set;
		const char *lead = "?";
		int64_t		dropped = 0;

		n_records++;
		if (process_record(dir, name, &set, &lead) != 0)
		{
			failures++;
			continue;
		}
		for (int r = 0; r < BEAT_DROP_N_REASONS; r++)
		{
			drops[r] += set.drop_counts[r];
			dropped += set.drop_counts[r];
		}
		printf("%-8s %-6s", name, lead);
		for (int c = 0; c < AAMI_N_CLASSES; c++)
		{
			printf(" %7lld", (long long) set.class_counts[c]);
			totals[c] += set.class_counts[c];
		}
		printf(" %7zu %7lld\n", set.n_beats, (long long) dropped);
		beat_set_release(&set);
	}
	free(records);

	{
		int64_t		all = 0;
		int			off = 0;

		printf("%-8s %-6s", "TOTAL", "");
		for (int c = 0; c < AAMI_N_CLASSES; c++)
		{
			printf(" %7lld", (long long) totals[c]);
			all += totals[c];
		}
		printf(" %7lld\n", (long long) all);
		for (int r = 0; r < BEAT_DROP_N_REASONS; r++)
			printf("dropped (%s): %lld\n", beat_drop_reason_name(r), (long long) drops[r]);
		printf("records: %d, failed: %d, elapsed: %.3f s\n", n_records, failures,
			   seconds_now() - start);
		if (check)
		{
			for (int c = 0; c < AAMI_N_CLASSES; c++)
			{
				double		rel = (double) (totals[c] - reference_counts[c]) / (double) reference_counts[c];

				printf("check %s: %lld vs reference %lld (%+.3f %%)\n", aami_class_name(c),
					   (long long) totals[c], (long long) reference_counts[c], 100.0 * rel);
				if (rel > 0.001 || rel < -0.001)
					off = 1;
			}
			printf(off || failures ? "check FAILED\n" : "check passed\n");
			return off || failures ? 1 : 0;
		}
	}
	return failures ? 1 : 0;
}
