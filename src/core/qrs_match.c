/*
 * qrs_match.c - beat-by-beat comparison of QRS detections with reference
 * beats by the rules of ANSI/AAMI EC57 / WFDB bxb (see qrs_match.h).
 */
#include "qrs_match.h"

#include <math.h>
#include <string.h>

#define QRS_NO_TIME INT64_MAX	/* "no more annotations" */

static int64_t
abs64(int64_t v)
{
	return v < 0 ? -v : v;
}

/* A sorted array of annotation times read one at a time. */
typedef struct time_cursor
{
	const int64_t *t;
	size_t		n;
	size_t		i;				/* index of the current element */
} time_cursor;

/* Reference beats with the ones inside excluded intervals skipped. */
typedef struct ref_cursor
{
	time_cursor c;
	const qrs_interval *ex;
	size_t		n_ex;
	size_t		k;				/* first interval that may still hold c.t[c.i] */
} ref_cursor;

static int
inside_excluded(const qrs_interval *ex, size_t n_ex, size_t *k, int64_t t)
{
	while (*k < n_ex && ex[*k].end < t)
		(*k)++;
	return *k < n_ex && ex[*k].begin <= t;
}

/* Moves to the first non-excluded reference beat at index >= i. */
static void
ref_settle(ref_cursor *r)
{
	while (r->c.i < r->c.n && inside_excluded(r->ex, r->n_ex, &r->k, r->c.t[r->c.i]))
		r->c.i++;
}

static int64_t
ref_time(const ref_cursor *r)
{
	return r->c.i < r->c.n ? r->c.t[r->c.i] : QRS_NO_TIME;
}

/* The time of the non-excluded reference beat after the current one. */
static int64_t
ref_next_time(const ref_cursor *r)
{
	ref_cursor	probe = *r;

	if (probe.c.i < probe.c.n)
	{
		probe.c.i++;
		ref_settle(&probe);
	}
	return ref_time(&probe);
}

static void
ref_advance(ref_cursor *r)
{
	if (r->c.i < r->c.n)
	{
		r->c.i++;
		ref_settle(r);
	}
}

static int64_t
cur_time(const time_cursor *c, size_t offset)
{
	return c->i + offset < c->n ? c->t[c->i + offset] : QRS_NO_TIME;
}

static int
check_sorted(const int64_t *a, size_t n, const char *what, ecg_status *st)
{
	if (n > 0 && a == NULL)
		return ecg_fail(st, ECG_ERR_ARGUMENT, "%s: NULL array with %zu elements", what, n);
	for (size_t i = 0; i < n; i++)
	{
		if (a[i] < 0 || a[i] == QRS_NO_TIME)
			return ecg_fail(st, ECG_ERR_ARGUMENT, "%s[%zu] = %lld is not a sample position",
							what, i, (long long) a[i]);
		if (i > 0 && a[i] < a[i - 1])
			return ecg_fail(st, ECG_ERR_ARGUMENT,
							"%s are not sorted: element %zu (%lld) comes before element %zu (%lld)",
							what, i - 1, (long long) a[i - 1], i, (long long) a[i]);
	}
	return 0;
}

int
qrs_match(const int64_t *ref, size_t n_ref, const int64_t *det, size_t n_det,
		  int64_t window, int64_t start, int64_t end,
		  const qrs_interval *excluded, size_t n_excluded,
		  qrs_match_counts *counts, ecg_status *st)
{
	ref_cursor	r;
	time_cursor d;
	size_t		kd = 0;			/* excluded-interval cursor for detections */
	int64_t		last;			/* last time counted */
	int64_t		tp = 0,
				fn = 0,
				fp = 0;

	if (counts == NULL)
		return ecg_fail(st, ECG_ERR_ARGUMENT, "qrs_match: counts is NULL");
	if (window < 0 || start < 0 || end < -1)
		return ecg_fail(st, ECG_ERR_ARGUMENT,
						"qrs_match: window (%lld), start (%lld) or end (%lld) out of range",
						(long long) window, (long long) start, (long long) end);
	if (check_sorted(ref, n_ref, "reference beats", st) < 0 ||
		check_sorted(det, n_det, "detections", st) < 0)
		return -1;
	if (n_excluded > 0 && excluded == NULL)
		return ecg_fail(st, ECG_ERR_ARGUMENT, "qrs_match: NULL excluded intervals");
	for (size_t i = 0; i < n_excluded; i++)
		if (excluded[i].begin > excluded[i].end ||
			(i > 0 && excluded[i].begin <= excluded[i - 1].end))
			return ecg_fail(st, ECG_ERR_ARGUMENT,
							"excluded interval %zu [%lld, %lld] is empty, unsorted or overlaps the one before",
							i, (long long) excluded[i].begin, (long long) excluded[i].end);
	last = end < 0 ? QRS_NO_TIME - 1 : end;

	r.c.t = ref;
	r.c.n = n_ref;
	r.c.i = 0;
	r.ex = excluded;
	r.n_ex = n_excluded;
	r.k = 0;
	ref_settle(&r);
	while (ref_time(&r) < start)
		ref_advance(&r);

	d.t = det;
	d.n = n_det;
	d.i = 0;
	while (d.i < d.n && det[d.i] < start)
		d.i++;

	/*
	 * The start of the test period.  A detection just before it may match the
	 * first reference beat; otherwise a detection in the first window after
	 * it that is a worse match for that beat than the next one is dropped.
	 */
	{
		int64_t		T = ref_time(&r);
		int64_t		tnext = cur_time(&d, 0);

		if (d.i > 0 && T != QRS_NO_TIME &&
			T - det[d.i - 1] < abs64(T - tnext) && T - det[d.i - 1] <= window)
		{
			tp++;
			ref_advance(&r);
		}
		else if (tnext != QRS_NO_TIME && tnext - start <= window &&
				 abs64(T - cur_time(&d, 1)) < abs64(T - tnext))
			d.i++;
	}

	for (;;)
	{
		int64_t		T = ref_time(&r);
		int64_t		t = cur_time(&d, 0);

		if (T > last && t > last)
			break;
		if (t < T)
		{
			if (T - t <= window && T - t < abs64(T - cur_time(&d, 1)))
			{
				tp++;
				ref_advance(&r);
			}
			else if (!inside_excluded(excluded, n_excluded, &kd, t))
				fp++;
			d.i++;
		}
		else
		{
			if (t - T <= window && t - T < abs64(t - ref_next_time(&r)))
			{
				tp++;
				d.i++;
			}
			else
				fn++;
			ref_advance(&r);
		}
	}
	counts->tp += tp;
	counts->fn += fn;
	counts->fp += fp;
	return 0;
}

int64_t
qrs_window_samples(double window_ms, double fs)
{
	double		w;

	if (!isfinite(window_ms) || !isfinite(fs) || window_ms < 0 || fs <= 0)
		return -1;
	w = floor(window_ms * fs / 1000.0 + 0.5);
	if (w > 1e15)
		return -1;
	return (int64_t) w;
}

int64_t
qrs_learning_samples(double fs)
{
	return qrs_window_samples(300000.0, fs);
}

double
qrs_sensitivity(const qrs_match_counts *c)
{
	int64_t		den = c->tp + c->fn;

	return den > 0 ? 100.0 * (double) c->tp / (double) den : NAN;
}

double
qrs_positive_predictivity(const qrs_match_counts *c)
{
	int64_t		den = c->tp + c->fp;

	return den > 0 ? 100.0 * (double) c->tp / (double) den : NAN;
}

int
qrs_is_beat_symbol(const char *symbol)
{
	if (symbol == NULL || symbol[0] == '\0' || symbol[1] != '\0')
		return 0;
	return strchr("NLRBAaJSVrFejnE/fQ?", symbol[0]) != NULL;
}

static int
sym_is(const wfdb_annotation *a, const char *s)
{
	return strcmp(a->symbol, s) == 0;
}

static int
is_shutdown(const wfdb_annotation *a)
{
	return sym_is(a, "~") && (a->subtype & 0x30) == 0x30;
}

int
qrs_excluded_intervals(const wfdb_annotation *ann, size_t n, int64_t window,
					   qrs_interval **out, size_t *n_out, ecg_status *st)
{
	qrs_interval *iv = NULL;
	size_t		count = 0,
				cap = 0;
	int64_t		last_beat = 0,
				last_vf_end = -1;

	*out = NULL;
	*n_out = 0;
	for (size_t i = 0; i < n; i++)
	{
		qrs_interval next;

		if (qrs_is_beat_symbol(ann[i].symbol))
		{
			last_beat = ann[i].sample;
			continue;
		}
		if (sym_is(&ann[i], "["))
		{
			next.begin = ann[i].sample;
			next.end = INT64_MAX;
			while (++i < n && !sym_is(&ann[i], "]"))
				;
			if (i < n)
				next.end = ann[i].sample;
			last_vf_end = next.end;
		}
		else if (is_shutdown(&ann[i]))
		{
			next.begin = ann[i].sample;
			if (i + 1 >= n)
				next.end = INT64_MAX;
			else if (sym_is(&ann[i + 1], "~") && !is_shutdown(&ann[i + 1]))
				next.end = ann[++i].sample;
			else
			{
				/* a lone shutdown mark in the middle of the interval */
				next.begin = (last_vf_end > last_beat ? last_vf_end : last_beat) + window;
				next.end = ann[i + 1].sample - window;
				if (next.begin > next.end)
					next.begin = next.end;
			}
		}
		else
			continue;
		if (count == cap)
		{
			size_t		ncap = cap ? 2 * cap : 8;
			qrs_interval *grown = ecg_realloc_array(iv, ncap, sizeof(*iv));

			if (grown == NULL)
			{
				ecg_free(iv);
				return ecg_fail(st, ECG_ERR_NOMEM, "out of memory for excluded intervals");
			}
			iv = grown;
			cap = ncap;
		}
		iv[count++] = next;
	}

	/* sort by begin (few intervals: insertion sort), then merge overlaps */
	for (size_t i = 1; i < count; i++)
	{
		qrs_interval v = iv[i];
		size_t		j = i;

		for (; j > 0 && iv[j - 1].begin > v.begin; j--)
			iv[j] = iv[j - 1];
		iv[j] = v;
	}
	if (count > 0)
	{
		size_t		m = 0;

		for (size_t i = 1; i < count; i++)
		{
			if (iv[i].begin <= iv[m].end)
			{
				if (iv[i].end > iv[m].end)
					iv[m].end = iv[i].end;
			}
			else
				iv[++m] = iv[i];
		}
		count = m + 1;
	}
	*out = iv;
	*n_out = count;
	return 0;
}
