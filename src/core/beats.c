/*
 * beats.c - heartbeat extraction (see beats.h for the method).
 */
#include "beats.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resample.h"

/* Rational approximation up/down of BEAT_RATE_HZ / fs: exact for integer
 * rates, to 1/1000 Hz otherwise. */
static int
rate_ratio(double fs, int *up, int *down, ecg_status *st)
{
	double		milli = fs * 1000.0;
	double		rounded = floor(milli + 0.5);
	int64_t		u,
				d,
				a,
				b;

	if (rounded < 1 || rounded > 1e12)
		return ecg_fail(st, ECG_ERR_ARGUMENT, "sampling frequency %g Hz cannot be resampled", fs);
	if (fs == floor(fs))
	{
		u = BEAT_RATE_HZ;
		d = (int64_t) fs;
	}
	else
	{
		u = (int64_t) BEAT_RATE_HZ * 1000;
		d = (int64_t) rounded;
	}
	a = u;
	b = d;
	while (b != 0)
	{
		int64_t		t = a % b;

		a = b;
		b = t;
	}
	u /= a;
	d /= a;
	if (u > INT32_MAX || d > INT32_MAX)
		return ecg_fail(st, ECG_ERR_ARGUMENT, "sampling frequency %g Hz cannot be resampled", fs);
	*up = (int) u;
	*down = (int) d;
	return 0;
}

static int
compare_int64(const void *a, const void *b)
{
	int64_t		x = *(const int64_t *) a,
				y = *(const int64_t *) b;

	return (x > y) - (x < y);
}

/* Median of v[0..n) (n > 0; sorts v): the mean of the middle two when n is even. */
static double
median_int64(int64_t *v, size_t n)
{
	qsort(v, n, sizeof(int64_t), compare_int64);
	if (n % 2 == 1)
		return (double) v[n / 2];
	return ((double) v[n / 2 - 1] + (double) v[n / 2]) / 2.0;
}

/* One beat before segmentation. */
typedef struct beat_site
{
	size_t		mark_index;
	int64_t		r;				/* R peak at 125 Hz */
} beat_site;

/* Median R-R over beats first..last-1 (consecutive, non-negative
 * differences only) into *median; 0 when there are none. */
static int
median_rr(const beat_site *sites, size_t first, size_t last, int64_t *scratch, double *median)
{
	size_t		m = 0;

	for (size_t i = first; i + 1 < last; i++)
	{
		int64_t		d = sites[i + 1].r - sites[i].r;

		if (d >= 0)
			scratch[m++] = d;
	}
	if (m == 0)
		return 0;
	*median = median_int64(scratch, m);
	return 1;
}

/* Minimum and maximum of x[from..to). */
static void
range_of(const float *x, int64_t from, int64_t to, double *lo, double *hi)
{
	for (int64_t i = from; i < to; i++)
	{
		if (x[i] < *lo)
			*lo = x[i];
		if (x[i] > *hi)
			*hi = x[i];
	}
}

/* Cuts and normalises one beat: x[r .. r+len) (clipped to the signal) scaled
 * by the range of its window [w0, w1) and of its own samples, zero-padded. */
static void
cut_beat(const float *x, int64_t n_res, int64_t r, int64_t len, int64_t w0, int64_t w1,
		 float *out)
{
	int64_t		end = r + len < n_res ? r + len : n_res;
	double		lo = INFINITY,
				hi = -INFINITY;

	range_of(x, w0, w1, &lo, &hi);
	range_of(x, r, end, &lo, &hi);
	memset(out, 0, BEAT_LENGTH * sizeof(float));
	if (!(hi > lo))
		return;					/* flat: zeros */
	for (int64_t i = r; i < end; i++)
		out[i - r] = (float) (((double) x[i] - lo) / (hi - lo));
}

/* Drops the marks outside the signal; fills sites[]. */
static size_t
collect_sites(const beat_mark *marks, size_t n_marks, int64_t n, int64_t n_res, double fs,
			  beat_site *sites, beat_set *set)
{
	size_t		kept = 0;

	for (size_t i = 0; i < n_marks; i++)
	{
		double		r;

		if (marks[i].sample < 0)
		{
			set->drop_counts[BEAT_DROP_BEFORE_START]++;
			continue;
		}
		r = floor((double) marks[i].sample * BEAT_RATE_HZ / fs + 0.5);
		if (marks[i].sample >= n || r >= (double) n_res)
		{
			set->drop_counts[BEAT_DROP_AFTER_END]++;
			continue;
		}
		sites[kept].mark_index = i;
		sites[kept].r = (int64_t) r;
		kept++;
	}
	return kept;
}

/* Segments the resampled signal x[0..n_res) at the sites. */
static void
segment_beats(const float *x, int64_t n_res, const beat_site *sites, size_t n_sites,
			  const beat_mark *marks, int64_t *scratch, beat_set *set)
{
	double		record_t = BEAT_LENGTH / 1.2;
	double		median;
	size_t		run_start = 0;

	if (median_rr(sites, 0, n_sites, scratch, &median))
		record_t = median;

	/* runs of consecutive sites in the same 10 s window */
	while (run_start < n_sites)
	{
		int64_t		window = sites[run_start].r / BEAT_WINDOW;
		int64_t		w0 = window * BEAT_WINDOW;
		int64_t		w1 = w0 + BEAT_WINDOW < n_res ? w0 + BEAT_WINDOW : n_res;
		size_t		run_end = run_start + 1;
		double		t = record_t;
		int64_t		len;

		while (run_end < n_sites && sites[run_end].r / BEAT_WINDOW == window)
			run_end++;
		if (run_end - run_start >= 2 && median_rr(sites, run_start, run_end, scratch, &median))
			t = median;
		len = (int64_t) floor(1.2 * t + 0.5);
		if (len > BEAT_LENGTH)
			len = BEAT_LENGTH;

		ecg_check_interrupts();
		for (size_t i = run_start; i < run_end; i++)
		{
			beat	   *b = &set->beats[i];
			const beat_mark *m = &marks[sites[i].mark_index];

			b->sample = m->sample;
			memcpy(b->symbol, m->symbol, sizeof(b->symbol));
			b->symbol[sizeof(b->symbol) - 1] = '\0';
			b->label = m->label;
			cut_beat(x, n_res, sites[i].r, len, w0, w1, b->signal);
			if (b->label >= 0 && b->label < AAMI_N_CLASSES)
				set->class_counts[b->label]++;
			else
				set->n_unlabelled++;
		}
		run_start = run_end;
	}
	set->n_beats = n_sites;
}

/* The R-R features of every mark, copied to the beats cut at them. */
static int
beat_rr_features(const beat_mark *marks, size_t n_marks, double fs, const beat_site *sites,
				 size_t n_sites, beat_set *set, ecg_status *st)
{
	int64_t    *samples;
	float		(*rr)[RR_FEATURES];

	if (ecg_check_memory(n_marks * (sizeof(int64_t) + sizeof(*rr)), "R-R features", st) != 0)
		return -1;
	samples = ecg_alloc_array(n_marks > 0 ? n_marks : 1, sizeof(int64_t));
	rr = ecg_alloc_array(n_marks > 0 ? n_marks : 1, sizeof(*rr));
	if (samples == NULL || rr == NULL)
	{
		ecg_free(samples);
		ecg_free(rr);
		return ecg_fail(st, ECG_ERR_NOMEM, "out of memory for the R-R features of %zu beats",
						n_marks);
	}
	for (size_t i = 0; i < n_marks; i++)
		samples[i] = marks[i].sample;
	rr_features_compute(samples, n_marks, fs, rr);
	for (size_t i = 0; i < n_sites; i++)
		memcpy(set->beats[i].rr, rr[sites[i].mark_index], sizeof(set->beats[i].rr));
	ecg_free(samples);
	ecg_free(rr);
	return 0;
}

/* The lead resampled from fs to BEAT_RATE_HZ. */
static int
resampled_lead(const float *phys, int64_t n, double fs, float **x, int64_t *n_res,
			   ecg_status *st)
{
	int			up = 1,
				down = 1;

	if (rate_ratio(fs, &up, &down, st) != 0)
		return -1;
	return resample_poly(phys, n, up, down, x, n_res, st);
}

int
beats_extract_marks(const float *phys, int64_t n, double fs, const beat_mark *marks,
					size_t n_marks, beat_set *out, ecg_status *st)
{
	beat_set	set;
	float	   *x = NULL;
	int64_t		n_res;
	beat_site  *sites = NULL;
	int64_t    *scratch = NULL;
	size_t		n_sites;

	memset(out, 0, sizeof(*out));
	memset(&set, 0, sizeof(set));
	if (!(fs > 0) || !isfinite(fs))
		return ecg_fail(st, ECG_ERR_ARGUMENT, "invalid sampling frequency %g Hz", fs);
	if (n < 0)
		return ecg_fail(st, ECG_ERR_ARGUMENT, "negative signal length %lld", (long long) n);
	if (phys == NULL && n > 0)
		return ecg_fail(st, ECG_ERR_ARGUMENT, "no samples for a signal of length %lld", (long long) n);

	if (resampled_lead(phys, n, fs, &x, &n_res, st) != 0)
		return -1;
	set.n_resampled = n_res;

	sites = ecg_alloc_array(n_marks > 0 ? n_marks : 1, sizeof(beat_site));
	scratch = ecg_alloc_array(n_marks > 0 ? n_marks : 1, sizeof(int64_t));
	if (sites == NULL || scratch == NULL)
		goto nomem;
	n_sites = collect_sites(marks, n_marks, n, n_res, fs, sites, &set);
	if (ecg_check_memory(n_sites * sizeof(beat), "extracted beats", st) != 0)
		goto fail;
	set.beats = ecg_alloc_array(n_sites > 0 ? n_sites : 1, sizeof(beat));
	if (set.beats == NULL)
		goto nomem;
	segment_beats(x, n_res, sites, n_sites, marks, scratch, &set);
	if (beat_rr_features(marks, n_marks, fs, sites, n_sites, &set, st) != 0)
		goto fail;

	ecg_free(x);
	ecg_free(sites);
	ecg_free(scratch);
	*out = set;
	return 0;

nomem:
	ecg_fail(st, ECG_ERR_NOMEM, "out of memory extracting beats at %zu positions", n_marks);
fail:
	ecg_free(x);
	ecg_free(sites);
	ecg_free(scratch);
	ecg_free(set.beats);
	return -1;
}

int
beats_physical_units(const int32_t *adc, int64_t n, const wfdb_signal_spec *spec, float **out,
					 ecg_status *st)
{
	float	   *phys;

	*out = NULL;
	if (!(spec->gain != 0) || !isfinite(spec->gain))
		return ecg_fail(st, ECG_ERR_ARGUMENT, "invalid ADC gain %g", spec->gain);
	if (n < 0)
		return ecg_fail(st, ECG_ERR_ARGUMENT, "negative signal length %lld", (long long) n);
	phys = ecg_alloc_array(n > 0 ? (size_t) n : 1, sizeof(float));
	if (phys == NULL)
		return ecg_fail(st, ECG_ERR_NOMEM, "out of memory for %lld samples", (long long) n);
	for (int64_t i = 0; i < n; i++)
		phys[i] = (float) (((double) adc[i] - spec->baseline) / spec->gain);
	*out = phys;
	return 0;
}

size_t
beats_marks_from_annotations(const wfdb_annotation *ann, size_t n_ann, beat_mark *marks)
{
	size_t		n = 0;

	for (size_t i = 0; i < n_ann; i++)
	{
		int			label = aami_class_of_symbol(ann[i].symbol);

		if (label < 0)
			continue;
		marks[n].sample = ann[i].sample;
		marks[n].label = label;
		memcpy(marks[n].symbol, ann[i].symbol, sizeof(marks[n].symbol));
		marks[n].symbol[sizeof(marks[n].symbol) - 1] = '\0';
		n++;
	}
	return n;
}

int
beats_extract(const int32_t *adc, int64_t n, const wfdb_signal_spec *spec, double fs,
			  const wfdb_annotation *ann, size_t n_ann, beat_set *out, ecg_status *st)
{
	float	   *phys = NULL;
	beat_mark  *marks;
	size_t		n_marks;
	int			rc;

	memset(out, 0, sizeof(*out));
	if (!(fs > 0) || !isfinite(fs))
		return ecg_fail(st, ECG_ERR_ARGUMENT, "invalid sampling frequency %g Hz", fs);
	if (beats_physical_units(adc, n, spec, &phys, st) != 0)
		return -1;
	marks = ecg_alloc_array(n_ann > 0 ? n_ann : 1, sizeof(beat_mark));
	if (marks == NULL)
	{
		ecg_free(phys);
		return ecg_fail(st, ECG_ERR_NOMEM, "out of memory extracting beats from %zu annotations", n_ann);
	}
	n_marks = beats_marks_from_annotations(ann, n_ann, marks);
	rc = beats_extract_marks(phys, n, fs, marks, n_marks, out, st);
	ecg_free(phys);
	ecg_free(marks);
	return rc;
}

/* Prefixes the failed status's message with the record name. */
static int
prefix_record(ecg_status *st, const char *record)
{
	char		msg[sizeof(st->message) + WFDB_NAME_MAX + 16];

	snprintf(msg, sizeof(msg), "record \"%s\": %s", record, st->message);
	memcpy(st->message, msg, sizeof(st->message) - 1);
	st->message[sizeof(st->message) - 1] = '\0';
	return -1;
}

int
beats_extract_record(const wfdb_header *h, int signal, const uint8_t *dat, size_t dat_len,
					 const uint8_t *atr, size_t atr_len, beat_set *out, ecg_status *st)
{
	int32_t    *adc = NULL;
	int64_t		n;
	wfdb_annotation *ann = NULL;
	size_t		n_ann;
	int			rc;

	memset(out, 0, sizeof(*out));
	if (wfdb_signal_decode(h, signal, dat, dat_len, &adc, &n, st) != 0)
		return -1;				/* its messages already name the record */
	if (wfdb_annotations_parse(atr, atr_len, &ann, &n_ann, st) != 0)
	{
		ecg_free(adc);
		return prefix_record(st, h->record_name);
	}
	rc = beats_extract(adc, n, &h->signals[signal], h->sampling_frequency, ann, n_ann, out, st);
	ecg_free(adc);
	wfdb_annotations_release(ann);
	if (rc != 0)
		return prefix_record(st, h->record_name);
	return 0;
}

void
beat_set_release(beat_set *set)
{
	if (set == NULL)
		return;
	ecg_free(set->beats);
	set->beats = NULL;
	set->n_beats = 0;
}

const char *
beat_drop_reason_name(int reason)
{
	switch (reason)
	{
		case BEAT_DROP_BEFORE_START:
			return "before start";
		case BEAT_DROP_AFTER_END:
			return "after end";
		default:
			return "?";
	}
}
