/*
 * fuzz_qrs.c - libFuzzer target for the streaming QRS detector (qrs.h), its
 * two-lead form (qrs_leads.h) and the beat matching (qrs_match.h).
 *
 * Input layout:
 *   bytes 0-1  sampling rate: 100 + (little-endian value % 901) Hz; when
 *              bit 15 is set, a rate outside 100..1000 Hz instead (must be
 *              refused)
 *   byte 2     chunking: the signal is fed in chunks of 1 + byte 2 samples,
 *              each next chunk 1 + (previous * 7 + byte 2) % 4096 long
 *   byte 3     bit 0: samples are raw 4-byte floats (NaN, infinities and
 *              huge values included) (1) or 2-byte integers in uV (0)
 *   rest       the samples
 *
 * Checks: the detector refuses bad rates; a non-finite sample fails its
 * chunk with ECG_ERR_DATA and consumes nothing of it; beats are strictly
 * increasing and inside the signal; the chunked run gives exactly the beats
 * of qrs_detect over the whole signal (when every sample is finite); the
 * detector's memory never changes; the beats match themselves one to one
 * (qrs_match: TP = all, no FN, no FP).  Two leads (qrs_leads): the samples
 * and the same samples half a signal later as the second lead, fed in the
 * same chunks: a non-finite sample on either lead fails its chunk with
 * ECG_ERR_DATA; beats strictly increasing and inside the signal, reported
 * at most QRS_LEADS_MAX_DELAY_SECONDS after the end of the chunk that holds
 * them; the same beats as fed whole;
 * memory fixed; one lead through qrs_leads gives the single-lead beats.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "qrs.h"
#include "qrs_leads.h"
#include "qrs_match.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PREFIX 4
#define MAX_SAMPLES 60000

typedef struct beat_buf
{
	int64_t    *pos;
	size_t		n;
	size_t		cap;
	int64_t		limit;			/* samples fed so far: beats must be below */
	int64_t		max_delay;		/* and at most this far behind it (0: no bound;
								 * the feed's chunk included) */
} beat_buf;

static int
take_beat(void *arg, int64_t sample, ecg_status *st)
{
	beat_buf   *b = arg;

	(void) st;
	FUZZ_ASSERT(sample >= 0 && sample < b->limit);
	FUZZ_ASSERT(b->max_delay == 0 || b->limit - sample <= b->max_delay);
	FUZZ_ASSERT(b->n == 0 || sample > b->pos[b->n - 1]);
	if (b->n == b->cap)
	{
		size_t		cap = b->cap ? 2 * b->cap : 64;

		b->pos = realloc(b->pos, cap * sizeof(int64_t));
		FUZZ_ASSERT(b->pos != NULL);
		b->cap = cap;
	}
	b->pos[b->n++] = sample;
	return 0;
}

/* qrs_leads over x and x half a signal later, chunked as the one-lead run
 * (fed whole as well when every sample is finite); one lead gives `one`. */
static void
fuzz_two_leads(const float *x, size_t n, double fs, uint8_t step, int all_finite,
			   const beat_buf *one)
{
	ecg_status	st;
	float	   *y = malloc((n ? n : 1) * sizeof(float));
	beat_buf	b = {NULL, 0, 0, 0, 0},
				whole = {NULL, 0, 0, 0, 0};
	qrs_leads  *d = qrs_leads_new(fs, 2, &st);
	size_t		chunk = 1 + (size_t) step,
				memory;

	FUZZ_ASSERT(y != NULL && d != NULL);
	for (size_t i = 0; i < n; i++)
		y[i] = x[(i + n / 2) % n];
	memory = qrs_leads_memory(d);
	for (size_t off = 0; off < n;)
	{
		size_t		m = n - off < chunk ? n - off : chunk;
		const float *xs[2] = {x + off, y + off};
		int			finite = 1;

		for (size_t i = 0; i < m; i++)
			finite &= isfinite(x[off + i]) && isfinite(y[off + i]);
		if (finite)
			b.limit += (int64_t) m;
		b.max_delay = (int64_t) ceil(QRS_LEADS_MAX_DELAY_SECONDS * fs) + (int64_t) m;
		if (qrs_leads_feed(d, xs, m, take_beat, &b, &st) != 0)
		{
			FUZZ_ASSERT(!finite);
			FUZZ_EXPECT_FAILURE(&st);
			FUZZ_ASSERT(st.kind == ECG_ERR_DATA);
		}
		else
			FUZZ_ASSERT(finite);
		off += m;
		chunk = 1 + (chunk * 7 + step) % 4096;
	}
	b.max_delay = 0;
	FUZZ_ASSERT(qrs_leads_finish(d, take_beat, &b, &st) == 0);
	FUZZ_ASSERT(qrs_leads_memory(d) == memory);
	qrs_leads_free(d);

	if (all_finite && n > 0)
	{
		const float *xs[2] = {x, y};

		d = qrs_leads_new(fs, 2, &st);
		FUZZ_ASSERT(d != NULL);
		whole.limit = (int64_t) n;
		FUZZ_ASSERT(qrs_leads_feed(d, xs, n, take_beat, &whole, &st) == 0);
		FUZZ_ASSERT(qrs_leads_finish(d, take_beat, &whole, &st) == 0);
		FUZZ_ASSERT(whole.n == b.n);
		FUZZ_ASSERT(b.n == 0 || memcmp(whole.pos, b.pos, b.n * sizeof(int64_t)) == 0);
		qrs_leads_free(d);

		/* one lead through qrs_leads: the single-lead beats */
		d = qrs_leads_new(fs, 1, &st);
		FUZZ_ASSERT(d != NULL);
		whole.n = 0;
		FUZZ_ASSERT(qrs_leads_feed(d, xs, n, take_beat, &whole, &st) == 0);
		FUZZ_ASSERT(qrs_leads_finish(d, take_beat, &whole, &st) == 0);
		FUZZ_ASSERT(whole.n == one->n);
		FUZZ_ASSERT(one->n == 0 || memcmp(whole.pos, one->pos, one->n * sizeof(int64_t)) == 0);
		qrs_leads_free(d);
	}
	free(whole.pos);
	free(b.pos);
	free(y);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ecg_status	st;
	qrs_detector *d;
	unsigned	rate_word;
	double		fs;
	int			raw;
	size_t		n,
				chunk,
				memory;
	float	   *x;
	int			all_finite = 1;
	beat_buf	b = {NULL, 0, 0, 0, 0};

	if (size < PREFIX)
		return 0;
	rate_word = (unsigned) data[0] | ((unsigned) data[1] << 8);
	raw = data[3] & 1;
	if (rate_word & 0x8000)
	{
		static const double bad[] = {99.999, 1000.001, 0.0, -360.0, 1e9, NAN, INFINITY, 50.0};

		fs = bad[rate_word % 8];
		FUZZ_ASSERT(qrs_detector_new(fs, &st) == NULL);
		FUZZ_EXPECT_FAILURE(&st);
		FUZZ_ASSERT(st.kind == ECG_ERR_ARGUMENT);
		return 0;
	}
	fs = 100.0 + (double) (rate_word % 901);

	n = (size - PREFIX) / (raw ? 4 : 2);
	if (n > MAX_SAMPLES)
		n = MAX_SAMPLES;
	x = malloc((n ? n : 1) * sizeof(float));
	FUZZ_ASSERT(x != NULL);
	for (size_t i = 0; i < n; i++)
	{
		if (raw)
			memcpy(&x[i], data + PREFIX + 4 * i, 4);
		else
		{
			int16_t		v;

			memcpy(&v, data + PREFIX + 2 * i, 2);
			x[i] = (float) v / 1000.0f;
		}
		if (!isfinite(x[i]))
			all_finite = 0;
	}

	d = qrs_detector_new(fs, &st);
	FUZZ_ASSERT(d != NULL);
	memory = qrs_detector_memory(d);
	chunk = 1 + (size_t) data[2];
	for (size_t off = 0; off < n;)
	{
		size_t		m = n - off < chunk ? n - off : chunk;
		int64_t		before = qrs_detector_position(d);
		int			finite = 1;

		for (size_t i = 0; i < m; i++)
			finite &= isfinite(x[off + i]) != 0;
		b.limit = before + (int64_t) m;
		if (qrs_detector_feed(d, x + off, m, take_beat, &b, &st) != 0)
		{
			FUZZ_ASSERT(!finite);
			FUZZ_EXPECT_FAILURE(&st);
			FUZZ_ASSERT(st.kind == ECG_ERR_DATA);
			FUZZ_ASSERT(qrs_detector_position(d) == before);
		}
		else
		{
			FUZZ_ASSERT(finite);
			FUZZ_ASSERT(qrs_detector_position(d) == before + (int64_t) m);
		}
		off += m;
		chunk = 1 + (chunk * 7 + data[2]) % 4096;
	}
	b.limit = qrs_detector_position(d);
	FUZZ_ASSERT(qrs_detector_finish(d, take_beat, &b, &st) == 0);
	FUZZ_ASSERT(qrs_detector_memory(d) == memory);
	FUZZ_ASSERT(qrs_detector_feed(d, x, n ? 1 : 0, take_beat, &b, &st) == -1);
	FUZZ_ASSERT(st.kind == ECG_ERR_ARGUMENT);
	qrs_detector_free(d);

	if (all_finite)
	{
		int64_t    *whole = NULL;
		size_t		n_whole = 0;
		qrs_match_counts c = {0, 0, 0};

		FUZZ_ASSERT(qrs_detect(x, n, fs, &whole, &n_whole, &st) == 0);
		FUZZ_ASSERT(n_whole == b.n);
		FUZZ_ASSERT(n_whole == 0 || memcmp(whole, b.pos, n_whole * sizeof(int64_t)) == 0);
		ecg_free(whole);

		FUZZ_ASSERT(qrs_match(b.pos, b.n, b.pos, b.n, qrs_window_samples(150, fs), 0, -1,
							  NULL, 0, &c, &st) == 0);
		FUZZ_ASSERT(c.tp == (int64_t) b.n && c.fn == 0 && c.fp == 0);
	}
	fuzz_two_leads(x, n, fs, data[2], all_finite, &b);
	free(b.pos);
	free(x);
	return 0;
}
