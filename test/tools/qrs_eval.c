/*
 * qrs_eval - runs the QRS detector (src/core/qrs.c) over WFDB records and
 * compares its beats with the reference annotations by the bxb rules
 * (src/core/qrs_match.c).
 *
 *   qrs_eval [options] DIR [RECORD...]
 *
 * Without RECORD arguments, the records listed in DIR/RECORDS that have a
 * .atr file.  Each record is detected on lead MLII, or on its first signal
 * when it has none (the table says which lead), or on the signal chosen by
 * --signal.  Options:
 *   --signal N     detect on signal N (0-based) of every record
 *   --two-leads    detect on that lead and the record's other signal (signal
 *                  1, or 0 when the lead is signal 1) together
 *                  (src/core/qrs_leads.c)
 *   --noise DIR/RECORD, --snr DB   add a noise record (see add_noise); with
 *                  --two-leads its signal 0 to the first lead and signal 1
 *                  to the second
 *   --chunk S      feed the detector S seconds at a time (default 60;
 *                  0 = the whole record at once)
 *   --invariance   also detect feeding 1 sample and 7 samples at a time and
 *                  report any difference from the chunked run
 *   --list         print every false negative and false positive
 *                  (reference time, nearest detection)
 *   --window MS    match window (default 150 ms)
 *
 * Prints per record: lead, reference beats, TP, FN, FP, Se, +P with the
 * first 5 minutes left out (bxb's learning period) and over the whole
 * record; then the gross figures of both, and the time the detector took
 * (decoding and matching not included) with the samples per second and the
 * speed over real time.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ecg_core.h"
#include "qrs.h"
#include "qrs_leads.h"
#include "qrs_match.h"
#include "wfdb.h"

typedef struct options
{
	int			signal;			/* -1 = MLII else first */
	double		chunk_seconds;
	int			invariance;
	int			list;
	double		window_ms;
	const char *noise;			/* DIR/RECORD of a noise record, or NULL */
	double		snr_db;
	int			signal_only;	/* load no annotations (noise records) */
	int			two_leads;		/* --two-leads: qrs_leads on the lead and one other */
} options;

/* Beats collected by the detector's callback. */
typedef struct beat_list
{
	int64_t    *pos;
	size_t		n;
	size_t		cap;
} beat_list;

static int
collect_beat(void *arg, int64_t sample, ecg_status *st)
{
	beat_list  *b = arg;

	if (b->n == b->cap)
	{
		size_t		cap = b->cap ? 2 * b->cap : 4096;
		int64_t    *grown = realloc(b->pos, cap * sizeof(int64_t));

		if (grown == NULL)
			return ecg_fail(st, ECG_ERR_NOMEM, "out of memory for beats");
		b->pos = grown;
		b->cap = cap;
	}
	b->pos[b->n++] = sample;
	return 0;
}

/* The bytes of a file (malloc'ed), or NULL when it cannot be read. */
static uint8_t *
slurp(const char *path, size_t *len)
{
	FILE	   *f = fopen(path, "rb");
	uint8_t    *buf;
	long		size;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
	{
		fclose(f);
		return NULL;
	}
	buf = malloc((size_t) size + 1);
	if (buf != NULL && fread(buf, 1, (size_t) size, f) != (size_t) size)
	{
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf != NULL)
	{
		buf[size] = 0;
		*len = (size_t) size;
	}
	return buf;
}

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + 1e-9 * (double) ts.tv_nsec;
}

/* One decoded record: the chosen lead in mV, the reference beats, the
 * excluded intervals. */
typedef struct record_data
{
	char		lead[WFDB_DESC_MAX];
	int			sig;			/* its signal number */
	int			n_signals;
	double		fs;
	float	   *x;
	size_t		n;
	int64_t    *ref;
	char	   *ref_symbol;		/* symbol of each reference beat */
	size_t		n_ref;
	qrs_interval *excluded;
	size_t		n_excluded;
} record_data;

static void
record_release(record_data *r)
{
	free(r->x);
	free(r->ref);
	free(r->ref_symbol);
	ecg_free(r->excluded);
	memset(r, 0, sizeof(*r));
}

static int
load_record(const char *dir, const char *name, const options *opt, record_data *r)
{
	char		path[4096];
	size_t		len;
	uint8_t    *hea = NULL,
			   *dat = NULL,
			   *atr = NULL;
	wfdb_header h;
	int			have_header = 0,
				sig,
				rc = -1;
	int32_t    *adc = NULL;
	int64_t		n_adc = 0;
	wfdb_annotation *ann = NULL;
	size_t		n_ann = 0;
	ecg_status	st;

	memset(r, 0, sizeof(*r));
	ecg_status_clear(&st);
	snprintf(path, sizeof(path), "%s/%s.hea", dir, name);
	if ((hea = slurp(path, &len)) == NULL)
	{
		fprintf(stderr, "%s: cannot read %s\n", name, path);
		goto out;
	}
	if (wfdb_header_parse((const char *) hea, len, &h, &st) != 0)
		goto fail;
	have_header = 1;
	if (h.n_signals < 1)
	{
		fprintf(stderr, "%s: no signals\n", name);
		goto out;
	}
	sig = opt->signal >= 0 ? opt->signal : wfdb_header_find_signal(&h, "MLII");
	if (sig < 0)
		sig = 0;
	if (sig >= h.n_signals)
	{
		fprintf(stderr, "%s: no signal %d\n", name, sig);
		goto out;
	}
	snprintf(r->lead, sizeof(r->lead), "%s", h.signals[sig].description);
	r->sig = sig;
	r->n_signals = h.n_signals;
	r->fs = h.sampling_frequency;
	if (!wfdb_file_name_is_plain(h.signals[sig].file_name))
	{
		fprintf(stderr, "%s: signal file name is not plain\n", name);
		goto out;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, h.signals[sig].file_name);
	if ((dat = slurp(path, &len)) == NULL)
	{
		fprintf(stderr, "%s: cannot read %s\n", name, path);
		goto out;
	}
	if (wfdb_signal_decode(&h, sig, dat, len, &adc, &n_adc, &st) != 0)
		goto fail;
	r->n = (size_t) n_adc;
	r->x = malloc((r->n ? r->n : 1) * sizeof(float));
	if (r->x == NULL)
		goto out;
	{
		double		gain = h.signals[sig].gain;
		double		base = h.signals[sig].baseline;
		float		prev = 0.0f;

		for (size_t i = 0; i < r->n; i++)
		{
			if (adc[i] != -32768)
				prev = (float) (((double) adc[i] - base) / gain);
			r->x[i] = prev;
		}
	}

	if (opt->signal_only)
	{
		rc = 0;
		goto out;
	}
	snprintf(path, sizeof(path), "%s/%s.atr", dir, name);
	if ((atr = slurp(path, &len)) == NULL)
	{
		fprintf(stderr, "%s: cannot read %s\n", name, path);
		goto out;
	}
	if (wfdb_annotations_parse(atr, len, &ann, &n_ann, &st) != 0)
		goto fail;
	r->ref = malloc((n_ann ? n_ann : 1) * sizeof(int64_t));
	r->ref_symbol = malloc(n_ann + 1);
	if (r->ref == NULL || r->ref_symbol == NULL)
		goto out;
	for (size_t i = 0; i < n_ann; i++)
		if (qrs_is_beat_symbol(ann[i].symbol))
		{
			r->ref_symbol[r->n_ref] = ann[i].symbol[0];
			r->ref[r->n_ref++] = ann[i].sample;
		}
	if (qrs_excluded_intervals(ann, n_ann, qrs_window_samples(opt->window_ms, r->fs),
							   &r->excluded, &r->n_excluded, &st) != 0)
		goto fail;
	rc = 0;
	goto out;
fail:
	fprintf(stderr, "%s: %s%s%s\n", name, st.message, st.detail[0] ? ": " : "", st.detail);
out:
	if (have_header)
		wfdb_header_release(&h);
	ecg_free(adc);
	if (ann != NULL)
		wfdb_annotations_release(ann);
	free(hea);
	free(dat);
	free(atr);
	if (rc != 0)
		record_release(r);
	return rc;
}

/*
 * --noise: adds signal `sig` (or its first signal) of a noise record, such
 * as the Noise Stress Test Database's "em" (electrode motion), the way nst
 * lays it out: from 5 minutes on, 2 minutes of noise then 2 minutes clean,
 * and so on.  The noise is scaled for the SNR: signal power = (mean
 * peak-to-peak QRS amplitude)^2 / 8, the amplitude taken within 50 ms of
 * each reference beat; noise power = the variance of the noise signal.
 */
static int
add_noise(record_data *r, const options *opt, int sig)
{
	char		dir[4096];
	const char *slash = strrchr(opt->noise, '/');
	record_data nr;
	options		nopt = *opt;
	double		pp = 0.0,
				mean = 0.0,
				var = 0.0,
				scale;
	int64_t		half = (int64_t) (0.05 * r->fs),
				count = 0;
	int64_t		learn = qrs_learning_samples(r->fs),
				period = (int64_t) (120.0 * r->fs);

	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int) (slash - opt->noise), opt->noise);
	nopt.noise = NULL;
	nopt.signal = sig;
	nopt.signal_only = 1;
	if (load_record(dir, slash ? slash + 1 : opt->noise, &nopt, &nr) != 0)
	{
		nopt.signal = 0;
		if (load_record(dir, slash ? slash + 1 : opt->noise, &nopt, &nr) != 0)
			return -1;
	}
	for (size_t i = 0; i < r->n_ref; i++)
	{
		int64_t		lo = r->ref[i] - half,
					hi = r->ref[i] + half;
		float		mn,
					mx;

		if (lo < 0 || hi >= (int64_t) r->n)
			continue;
		mn = mx = r->x[lo];
		for (int64_t k = lo; k <= hi; k++)
		{
			mn = r->x[k] < mn ? r->x[k] : mn;
			mx = r->x[k] > mx ? r->x[k] : mx;
		}
		pp += mx - mn;
		count++;
	}
	for (size_t k = 0; k < nr.n; k++)
		mean += nr.x[k];
	mean /= (double) (nr.n ? nr.n : 1);
	for (size_t k = 0; k < nr.n; k++)
		var += (nr.x[k] - mean) * (nr.x[k] - mean);
	var /= (double) (nr.n ? nr.n : 1);
	if (count == 0 || var <= 0)
	{
		record_release(&nr);
		return -1;
	}
	pp /= (double) count;
	scale = sqrt(pp * pp / 8.0 / pow(10.0, opt->snr_db / 10.0) / var);
	for (int64_t k = learn; k < (int64_t) r->n && k < (int64_t) nr.n; k++)
		if (((k - learn) / period) % 2 == 0)
			r->x[k] += (float) (scale * (nr.x[k] - mean));
	record_release(&nr);
	return 0;
}

/*
 * Detects feeding `chunk` samples at a time (0 = all at once): the lead of r
 * alone (r2 NULL; qrs_leads with one lead is the single-lead detector), or
 * with the lead of r2 through the two-lead detector.
 */
static int
detect(const record_data *r, const record_data *r2, size_t chunk, beat_list *beats)
{
	ecg_status	st;
	qrs_leads  *det;
	int			rc = 0;
	size_t		n = r2 == NULL || r->n < r2->n ? r->n : r2->n;

	ecg_status_clear(&st);
	beats->n = 0;
	det = qrs_leads_new(r->fs, r2 ? 2 : 1, &st);
	if (det == NULL)
		goto fail;
	if (chunk == 0)
		chunk = n ? n : 1;
	for (size_t off = 0; off < n && rc == 0; off += chunk)
	{
		size_t		m = n - off < chunk ? n - off : chunk;
		const float *x[2] = {r->x + off, r2 ? r2->x + off : NULL};

		rc = qrs_leads_feed(det, x, m, collect_beat, beats, &st);
	}
	if (rc == 0)
		rc = qrs_leads_finish(det, collect_beat, beats, &st);
	qrs_leads_free(det);
	if (rc == 0)
		return 0;
fail:
	fprintf(stderr, "detector: %s%s%s\n", st.message, st.detail[0] ? ": " : "", st.detail);
	return -1;
}

/* The second lead for --two-leads: the record's other signal, noise added
 * from the noise record's signal of the same number. */
static int
load_second(const char *dir, const char *name, const options *opt, const record_data *r,
			record_data *r2)
{
	options		o = *opt;

	o.signal = r->sig == 0 ? 1 : 0;
	if (r->n_signals < 2 || load_record(dir, name, &o, r2) != 0)
	{
		fprintf(stderr, "%s: no second signal\n", name);
		return -1;
	}
	if (opt->noise != NULL && add_noise(r2, opt, o.signal) != 0)
	{
		fprintf(stderr, "%s: cannot add noise from %s\n", name, opt->noise);
		record_release(r2);
		return -1;
	}
	return 0;
}

static int
same_beats(const beat_list *a, const beat_list *b)
{
	return a->n == b->n && (a->n == 0 || memcmp(a->pos, b->pos, a->n * sizeof(int64_t)) == 0);
}

/* Errors for --list: reference beats with no detection within the window
 * and detections with no reference beat within it (nearest-neighbour view,
 * close to but not exactly bxb's pairing). */
static void
list_errors(const char *name, const record_data *r, const beat_list *b, int64_t w, int64_t start)
{
	size_t		j = 0;

	for (size_t i = 0; i < r->n_ref; i++)
	{
		while (j + 1 < b->n && b->pos[j + 1] <= r->ref[i])
			j++;
		int64_t		best = INT64_MAX;

		for (size_t k = j; k < b->n && k <= j + 1; k++)
		{
			int64_t		dd = llabs(b->pos[k] - r->ref[i]);

			if (dd < best)
				best = dd;
		}
		if (best > w && r->ref[i] >= start)
			printf("  %s FN at %lld (%.3f s) %c\n", name, (long long) r->ref[i], r->ref[i] / r->fs,
				   r->ref_symbol[i]);
	}
	j = 0;
	for (size_t k = 0; k < b->n; k++)
	{
		while (j + 1 < r->n_ref && r->ref[j + 1] <= b->pos[k])
			j++;
		int64_t		best = INT64_MAX;

		for (size_t i = j; i < r->n_ref && i <= j + 1; i++)
		{
			int64_t		dd = llabs(b->pos[k] - r->ref[i]);

			if (dd < best)
				best = dd;
		}
		int			ex = 0;

		for (size_t e = 0; e < r->n_excluded; e++)
			if (r->excluded[e].begin <= b->pos[k] && b->pos[k] <= r->excluded[e].end)
				ex = 1;
		if (best > w && !ex && b->pos[k] >= start)
			printf("  %s FP at %lld (%.3f s)\n", name, (long long) b->pos[k], b->pos[k] / r->fs);
	}
}

/* Offsets (detection - reference) of the detections nearest to each
 * reference beat when within the window: sum, sum of squares, count. */
static void
offset_stats(const record_data *r, const beat_list *b, int64_t w, double *sum, double *sum2,
			 int64_t *count)
{
	size_t		j = 0;

	for (size_t i = 0; i < r->n_ref; i++)
	{
		int64_t		best = INT64_MAX;

		while (j + 1 < b->n && b->pos[j + 1] <= r->ref[i])
			j++;
		for (size_t k = j; k < b->n && k <= j + 1; k++)
			if (llabs(b->pos[k] - r->ref[i]) < llabs(best))
				best = b->pos[k] - r->ref[i];
		if (best != INT64_MAX && llabs(best) <= w)
		{
			double		ms = 1000.0 * (double) best / r->fs;

			*sum += ms;
			*sum2 += ms * ms;
			(*count)++;
		}
	}
}

static void
print_counts(const qrs_match_counts *c, int64_t n_ref)
{
	printf(" %7lld %7lld %5lld %5lld %7.2f %7.2f", (long long) n_ref, (long long) c->tp,
		   (long long) c->fn, (long long) c->fp, qrs_sensitivity(c), qrs_positive_predictivity(c));
}

static int
usage(const char *prog)
{
	fprintf(stderr,
			"usage: %s [--signal N] [--two-leads] [--chunk SECONDS] [--invariance] [--list] "
			"[--window MS] [--noise DIR/RECORD [--snr DB]] DIR [RECORD...]\n", prog);
	return 2;
}

int
main(int argc, char **argv)
{
	options		opt = {-1, 60.0, 0, 0, 150.0, NULL, 12.0, 0, 0};
	int			a = 1;
	const char *dir;
	char	  **names = NULL;
	int			n_names = 0,
				failures = 0,
				records = 0;
	qrs_match_counts gross_bxb = {0, 0, 0},
				gross_all = {0, 0, 0};
	int64_t		gross_ref_bxb = 0,
				gross_ref_all = 0,
				total_samples = 0;
	double		total_seconds = 0.0,
				total_signal_seconds = 0.0;
	beat_list	beats = {NULL, 0, 0},
				other = {NULL, 0, 0};
	char	   *list_text = NULL;
	double		off_sum = 0.0,
				off_sum2 = 0.0;
	int64_t		off_n = 0;

	for (; a < argc && strncmp(argv[a], "--", 2) == 0; a++)
	{
		if (strcmp(argv[a], "--signal") == 0 && a + 1 < argc)
			opt.signal = atoi(argv[++a]);
		else if (strcmp(argv[a], "--chunk") == 0 && a + 1 < argc)
			opt.chunk_seconds = atof(argv[++a]);
		else if (strcmp(argv[a], "--window") == 0 && a + 1 < argc)
			opt.window_ms = atof(argv[++a]);
		else if (strcmp(argv[a], "--noise") == 0 && a + 1 < argc)
			opt.noise = argv[++a];
		else if (strcmp(argv[a], "--snr") == 0 && a + 1 < argc)
			opt.snr_db = atof(argv[++a]);
		else if (strcmp(argv[a], "--invariance") == 0)
			opt.invariance = 1;
		else if (strcmp(argv[a], "--list") == 0)
			opt.list = 1;
		else if (strcmp(argv[a], "--two-leads") == 0)
			opt.two_leads = 1;
		else
			return usage(argv[0]);
	}
	if (a >= argc || !(opt.chunk_seconds >= 0) || !(opt.window_ms >= 0))
		return usage(argv[0]);
	dir = argv[a++];
	if (a < argc)
	{
		names = argv + a;
		n_names = argc - a;
	}
	else
	{
		char		path[4096];
		size_t		len;
		char	   *save = NULL;

		snprintf(path, sizeof(path), "%s/RECORDS", dir);
		list_text = (char *) slurp(path, &len);
		if (list_text == NULL)
		{
			fprintf(stderr, "cannot read %s\n", path);
			return 2;
		}
		names = calloc(len / 2 + 2, sizeof(char *));
		for (char *s = strtok_r(list_text, " \t\r\n", &save); s != NULL;
			 s = strtok_r(NULL, " \t\r\n", &save))
		{
			char		atr[4096];
			FILE	   *f;

			snprintf(atr, sizeof(atr), "%s/%s.atr", dir, s);
			if ((f = fopen(atr, "rb")) == NULL)
			{
				printf("# %s: no reference annotations, skipped\n", s);
				continue;
			}
			fclose(f);
			names[n_names++] = s;
		}
	}

	printf("# bxb rules: match window %.0f ms; 'learning excluded' leaves out the first 5 minutes\n",
		   opt.window_ms);
	printf("%-8s %-6s | %-45s | %s\n", "", "", "learning period (5 min) excluded", "whole record");
	printf("%-8s %-6s | %7s %7s %5s %5s %7s %7s | %7s %7s %5s %5s %7s %7s\n", "record", "lead",
		   "ref", "TP", "FN", "FP", "Se%", "+P%", "ref", "TP", "FN", "FP", "Se%", "+P%");
	for (int i = 0; i < n_names; i++)
	{
		record_data r,
					r2;
		ecg_status	st;
		qrs_match_counts bxb = {0, 0, 0},
					all = {0, 0, 0};
		int64_t		w,
					start;
		int64_t		ref_bxb = 0;
		double		t0;
		size_t		chunk;

		ecg_status_clear(&st);
		if (load_record(dir, names[i], &opt, &r) != 0)
		{
			failures++;
			continue;
		}
		if (opt.noise != NULL && add_noise(&r, &opt, opt.two_leads ? r.sig : opt.signal >= 0 ? opt.signal : 0) != 0)
		{
			fprintf(stderr, "%s: cannot add noise from %s\n", names[i], opt.noise);
			failures++;
			record_release(&r);
			continue;
		}
		memset(&r2, 0, sizeof(r2));
		if (opt.two_leads && load_second(dir, names[i], &opt, &r, &r2) != 0)
		{
			failures++;
			record_release(&r);
			continue;
		}
		records++;
		chunk = (size_t) floor(opt.chunk_seconds * r.fs + 0.5);
		t0 = now_seconds();
		if (detect(&r, opt.two_leads ? &r2 : NULL, chunk, &beats) != 0)
		{
			failures++;
			record_release(&r);
			record_release(&r2);
			continue;
		}
		total_seconds += now_seconds() - t0;
		total_samples += (int64_t) r.n;
		total_signal_seconds += (double) r.n / r.fs;

		w = qrs_window_samples(opt.window_ms, r.fs);
		start = qrs_learning_samples(r.fs);
		if (qrs_match(r.ref, r.n_ref, beats.pos, beats.n, w, start, (int64_t) r.n,
					  r.excluded, r.n_excluded, &bxb, &st) != 0 ||
			qrs_match(r.ref, r.n_ref, beats.pos, beats.n, w, 0, (int64_t) r.n,
					  r.excluded, r.n_excluded, &all, &st) != 0)
		{
			fprintf(stderr, "%s: %s\n", names[i], st.message);
			failures++;
			record_release(&r);
			record_release(&r2);
			continue;
		}
		ref_bxb = bxb.tp + bxb.fn;
		if (opt.two_leads)
		{
			char		both[2 * WFDB_DESC_MAX + 2];

			snprintf(both, sizeof(both), "%s+%s", r.lead, r2.lead);
			printf("%-8s %-6s |", names[i], both);
		}
		else
			printf("%-8s %-6s |", names[i], r.lead);
		print_counts(&bxb, ref_bxb);
		printf(" |");
		print_counts(&all, all.tp + all.fn);
		printf("\n");
		gross_bxb.tp += bxb.tp;
		gross_bxb.fn += bxb.fn;
		gross_bxb.fp += bxb.fp;
		gross_all.tp += all.tp;
		gross_all.fn += all.fn;
		gross_all.fp += all.fp;
		gross_ref_bxb += ref_bxb;
		gross_ref_all += all.tp + all.fn;
		offset_stats(&r, &beats, w, &off_sum, &off_sum2, &off_n);
		if (opt.list)
			list_errors(names[i], &r, &beats, w, start);
		if (opt.invariance)
		{
			static const size_t chunks[] = {1, 7, 0};

			for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++)
			{
				if (detect(&r, opt.two_leads ? &r2 : NULL, chunks[c], &other) != 0)
					failures++;
				else if (!same_beats(&beats, &other))
				{
					printf("  %s: feeding %zu samples at a time gives %zu beats, not the same as "
						   "%zu beats in %zu-sample chunks\n", names[i], chunks[c], other.n,
						   beats.n, chunk);
					failures++;
				}
			}
		}
		record_release(&r);
		record_release(&r2);
	}
	printf("%-8s %-6s |", "gross", "");
	print_counts(&gross_bxb, gross_ref_bxb);
	printf(" |");
	print_counts(&gross_all, gross_ref_all);
	printf("\n");
	printf("# %d records; detection %.3f s for %lld samples (%.1f h of signal): %.0f samples/s, "
		   "%.0fx real time%s\n", records, total_seconds, (long long) total_samples,
		   total_signal_seconds / 3600.0,
		   total_seconds > 0 ? (double) total_samples / total_seconds : 0.0,
		   total_seconds > 0 ? total_signal_seconds / total_seconds : 0.0,
		   opt.invariance ? "; chunk-size invariance checked (1, 7, whole)" : "");
	if (off_n > 0)
	{
		double		mean = off_sum / (double) off_n;

		printf("# R-peak position: detection - reference over %lld matched beats: mean %.1f ms, "
			   "SD %.1f ms\n", (long long) off_n, mean,
			   sqrt(fmax(0.0, off_sum2 / (double) off_n - mean * mean)));
	}
	free(beats.pos);
	free(other.pos);
	if (list_text != NULL)
	{
		free(names);
		free(list_text);
	}
	return failures ? 1 : 0;
}
