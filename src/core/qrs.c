/*
 * qrs.c - streaming single-lead QRS detector (see qrs.h).
 *
 * Per sample (no allocation, nothing that depends on the chunking):
 *   1. band-pass 8-20 Hz (second-order Butterworth high-pass, fourth-order
 *      Butterworth low-pass, biquads designed for fs by the bilinear
 *      transform with pre-warping): keeps the QRS, rejects baseline wander,
 *      most of the P and T waves, and much of the electrode-motion noise;
 *   2. a difference over 10 ms of the band-passed signal, squared, summed
 *      over a moving window of 100 ms: the QRS energy envelope (the sum is
 *      recomputed exactly once per window so that rounding cannot drift);
 *   3. candidate peaks: local maxima of the envelope with no larger value in
 *      the 200 ms after them (a larger maximum within 200 ms replaces the
 *      earlier one), so candidates are at least 200 ms apart (refractory
 *      period); a candidate is confirmed 200 ms after its peak;
 *   4. per candidate: its largest slope (the 10 ms difference) and its R
 *      peak, the largest deviation of a 20 Hz low-passed copy of the signal
 *      from the isoelectric level in a window around the QRS (low-passed so
 *      that narrow pacing spikes do not take the place of the R wave).
 *
 * Decisions on the candidates, in time order (after Pan-Tompkins 1985 and
 * Hamilton-Tompkins 1986, with different levels and rules):
 *   - learning: the candidates of the first 2 s are held; the signal level
 *     SPK starts at the largest of them, the noise level NPK at half the
 *     mean envelope; then the held candidates are decided;
 *   - absolute floor: a candidate whose envelope is below that of a 10 ms
 *     difference of 0.04 mV RMS over the 100 ms window is never a QRS
 *     (about 0.1 mV of QRS in the band; 0.1 mV of white noise at 360 Hz,
 *     a flat line with rounding noise or a constant offset stay under it);
 *     it still counts in NPK as noise;
 *   - a candidate above NPK + 0.2 (SPK - NPK) is a QRS, unless it comes
 *     within 360 ms of the previous QRS with less than half its slope (a T
 *     wave).  SPK and NPK follow the QRS and the noise peaks with weight 1/8
 *     (a QRS peak counts for at most 3 SPK, so that one artefact cannot
 *     raise the threshold over the next beats);
 *   - rhythm check: a QRS that comes before 0.8 times the mean RR interval
 *     and is weaker than 0.4 SPK is held until 1.25 mean RR after the
 *     previous QRS; it is dropped as noise when a candidate 1.5 times larger
 *     comes 0.8 to 1.25 mean RR after the previous QRS (the next beat where
 *     the rhythm expects it), else it is a QRS.  Candidates confirmed
 *     meanwhile wait in a queue.  This removes much of the noise taken for
 *     beats in electrode-motion noise; strong premature beats and premature
 *     beats followed by a pause are kept.  When the signal is noisy (NPK
 *     over 0.04 SPK) and the rhythm regular (the last 8 RR intervals within
 *     10 % of their mean on average), the check is stronger: held up to
 *     0.8 SPK, dropped when any larger candidate fits the rhythm (irregular
 *     rhythms - atrial fibrillation, multiform ectopy - keep the ordinary
 *     check, their early beats being real);
 *   - search-back: when no QRS came within 1.2 times the mean of the last 8
 *     RR intervals (intervals shorter than 0.6 times the mean left out, unless
 *     four come in a row, so that noise taken for beats cannot bring the
 *     search-back forward; when noisy, NPK over 0.04 SPK, within 1.2 times
 *     the RR interval before last if that is longer: the long intervals of
 *     a bigeminal rhythm), the largest candidate held since the last QRS
 *     that is above 0.3 times the threshold and above 1.5 times NPK (in
 *     noise the first bound alone falls below the noise peaks' level, and
 *     the search-back took noise for beats), and no T wave, becomes a QRS
 *     (SPK weight 1/4).  When there is none and the last QRS is more than 3 s
 *     back, SPK and NPK are halved: the detector recovers from a drop in
 *     amplitude without taking noise in ordinary pauses;
 *   - the R peak of each QRS is reported (strictly increasing).
 *
 * The constants were chosen on the MIT-BIH records of the DS1 half (101 106
 * 108 109 112 114 115 116 118 119 122 124 201 203 205 207 208 209 215 220
 * 223 230) and on the same records with electrode-motion and muscle noise
 * added (test/tools/qrs_eval.c --noise), never on the Noise Stress Test
 * Database's records; the absolute floor also on synthetic white noise.
 *
 * Everything is a function of the samples and their absolute positions only,
 * so that any chunking gives the same beats.  The memory is one block of
 * rings sized from fs (about 1 s of signal) plus the detector struct.
 */
#include "qrs.h"

#include <math.h>
#include <string.h>

#define QRS_PI		3.14159265358979323846
#define QRS_SQRT2	1.41421356237309504880

#define CAND_MAX	64			/* candidates held (>= 200 ms apart: 12.8 s) */
#define RR_COUNT	8

/* Tuning, in seconds or as ratios. */
#define HP_HZ			8.0
#define LP_HZ			20.0
#define SMOOTH_HZ		20.0	/* low-pass for the R-peak position */
#define DIFF_S			0.010	/* difference step */
#define MWI_S			0.100	/* moving-window integration */
#define PEAK_RADIUS_S	0.200	/* candidate suppression and refractory */
#define LEARN_S			2.0
#define TWAVE_S			0.360
#define TWAVE_SLOPE		0.5
#define TH_COEF			0.2
#define SEARCHBACK_RR	1.2
#define SEARCHBACK_TH	0.3
#define SEARCHBACK_NPK	1.5		/* ... and above this (x NPK) */
#define FLOOR_MV		0.04	/* least RMS of the 10 ms difference over the
								 * 100 ms window for a QRS, mV */
#define LEVEL_WEIGHT	0.125
#define LEVEL_WEIGHT_SB 0.25
#define RECOVER_S		3.0
#define RR_SHORT		0.6		/* RR intervals below this (x mean) are not averaged ... */
#define RR_SHORT_RUN	4		/* ... unless this many come in a row */
#define HOLD_PREM		0.8		/* a QRS this early (x mean RR) ... */
#define HOLD_STRONG		0.4		/* ... and weaker than this (x SPK) is held */
#define HOLD_RATIO		1.5		/* it is noise if a candidate this much larger ... */
#define HOLD_FIT_LO		0.8		/* ... comes between these times after the */
#define HOLD_FIT_HI		1.25	/* last QRS (x mean RR) */
#define NOISY_NPK		0.04	/* noisy: NPK above this (x SPK) */
#define REGULAR_DEV		0.1		/* regular rhythm: the last RR intervals
								 * deviate from their mean by less than this
								 * (x mean RR) on average */
#define HOLD_STRONG_NOISY 0.8	/* when noisy and regular: held up to this
								 * (x SPK) ... */
#define HOLD_RATIO_NOISY 1.0	/* ... and noise if a candidate this much larger
								 * fits the rhythm */
#define SEARCH_AGE_S	5.0		/* oldest candidate a search-back may take */
#define SPK_CAP			3.0		/* a QRS peak counts at most SPK_CAP * SPK */
#define RR_INIT_S		1.0
#define RR_MAX_S		3.0
#define REFINE_PRE_S	0.05	/* R-peak search window: before the energy window */
#define REFINE_POST_S	0.0		/* ... and after it */
#define BP_DELAY_S		0.030	/* approximate group delay of the band-pass */
#define SMOOTH_DELAY_S	0.011	/* group delay of the 20 Hz low-pass (DC) */
#define RING_S			1.0		/* history kept for slopes and R peaks */

typedef struct biquad
{
	double		b0,
				b1,
				b2,
				a1,
				a2;
	double		z1,
				z2;
} biquad;

typedef struct candidate
{
	int64_t		pos;			/* envelope peak */
	double		value;			/* envelope value */
	double		slope;			/* largest |difference| in the QRS window */
	int64_t		r;				/* R peak */
} candidate;

struct qrs_detector
{
	double		fs;
	/* parameters in samples */
	int64_t		diff;
	int64_t		mwi;
	int64_t		radius;
	int64_t		learn;
	int64_t		twave;
	int64_t		rr_init,
				rr_max;
	int64_t		recover;
	int64_t		search_age;
	int64_t		refine_pre,
				refine_post;
	int64_t		bp_delay;
	int64_t		smooth_delay;
	double		floor;			/* envelope value of FLOOR_MV */

	biquad		hp,
				lp1,
				lp2,
				smooth;
	size_t		ring_size;		/* power of two */
	size_t		ring_mask;
	float	   *bp_ring;		/* band-passed signal */
	float	   *sm_ring;		/* 20 Hz low-passed signal */
	double	   *sq_ring;		/* squared differences, mwi of them */
	size_t		sq_index;

	int64_t		n;				/* samples consumed */
	double		mwi_sum;
	double		prev_value;
	double		env_total;		/* sum of the envelope over the learning period */
	int			have_pending;
	candidate	pending;

	candidate	list[CAND_MAX]; /* held candidates (learning, or noise since
								 * the last QRS for search-back), time order */
	size_t		list_head;
	size_t		list_n;

	int			learning;
	double		spk,
				npk;
	int			have_last;
	int64_t		last_qrs;
	double		last_slope;
	int64_t		rr[RR_COUNT];
	int			rr_n,
				rr_i;
	int			short_run;		/* short RR intervals in a row, not averaged */
	double		rr_mean;
	int64_t		deadline;		/* search-back time; INT64_MAX = none */
	int			have_held;		/* a premature QRS waits for the next candidates */
	candidate	held;
	int			held_noisy;		/* it was held by the noisy rule */
	int64_t		hold_until;		/* decided once every candidate up to here is known */
	candidate	queue[CAND_MAX];	/* candidates confirmed while one is held */
	size_t		queue_n;
	int64_t		last_emitted;
	int			finished;
	void	   *block;			/* the one allocation holding the rings */
	size_t		block_size;
};

/* Biquad design by the bilinear transform with frequency pre-warping. */
static void
biquad_lowpass(biquad *q, double fc, double fs)
{
	double		k = tan(QRS_PI * fc / fs);
	double		norm = 1.0 / (1.0 + QRS_SQRT2 * k + k * k);

	q->b0 = k * k * norm;
	q->b1 = 2.0 * q->b0;
	q->b2 = q->b0;
	q->a1 = 2.0 * (k * k - 1.0) * norm;
	q->a2 = (1.0 - QRS_SQRT2 * k + k * k) * norm;
	q->z1 = q->z2 = 0.0;
}

static void
biquad_highpass(biquad *q, double fc, double fs)
{
	double		k = tan(QRS_PI * fc / fs);
	double		norm = 1.0 / (1.0 + QRS_SQRT2 * k + k * k);

	q->b0 = norm;
	q->b1 = -2.0 * norm;
	q->b2 = norm;
	q->a1 = 2.0 * (k * k - 1.0) * norm;
	q->a2 = (1.0 - QRS_SQRT2 * k + k * k) * norm;
	q->z1 = q->z2 = 0.0;
}

static inline double
biquad_step(biquad *q, double x)
{
	double		y = q->b0 * x + q->z1;

	q->z1 = q->b1 * x - q->a1 * y + q->z2;
	q->z2 = q->b2 * x - q->a2 * y;
	return y;
}

/* Puts a biquad in the steady state of a constant input x; returns its output. */
static double
biquad_settle(biquad *q, double x)
{
	double		gain = (q->b0 + q->b1 + q->b2) / (1.0 + q->a1 + q->a2);
	double		y = gain * x;

	q->z2 = q->b2 * x - q->a2 * y;
	q->z1 = q->b1 * x - q->a1 * y + q->z2;
	return y;
}

static int64_t
seconds_to_samples(double s, double fs, int64_t min)
{
	int64_t		v = (int64_t) floor(s * fs + 0.5);

	return v < min ? min : v;
}

qrs_detector *
qrs_detector_new(double fs, ecg_status *st)
{
	qrs_detector *d;
	size_t		ring = 1,
				mwi;
	size_t		bytes;
	char	   *p;

	if (!isfinite(fs) || fs < QRS_FS_MIN || fs > QRS_FS_MAX)
	{
		ecg_fail(st, ECG_ERR_ARGUMENT, "sampling rate %g Hz is outside the detector's range",
				 fs);
		ecg_fail_detail(st, "The QRS detector works at %g to %g Hz.", QRS_FS_MIN, QRS_FS_MAX);
		return NULL;
	}
	d = ecg_alloc(sizeof(*d));
	if (d == NULL)
	{
		ecg_fail(st, ECG_ERR_NOMEM, "out of memory for the QRS detector");
		return NULL;
	}
	memset(d, 0, sizeof(*d));
	d->fs = fs;
	d->diff = seconds_to_samples(DIFF_S, fs, 1);
	d->mwi = seconds_to_samples(MWI_S, fs, 2);
	d->radius = seconds_to_samples(PEAK_RADIUS_S, fs, 1);
	d->learn = seconds_to_samples(LEARN_S, fs, 1);
	d->twave = seconds_to_samples(TWAVE_S, fs, 1);
	d->rr_init = seconds_to_samples(RR_INIT_S, fs, 1);
	d->rr_max = seconds_to_samples(RR_MAX_S, fs, 1);
	d->recover = seconds_to_samples(RECOVER_S, fs, 1);
	d->search_age = seconds_to_samples(SEARCH_AGE_S, fs, 1);
	d->refine_pre = seconds_to_samples(REFINE_PRE_S, fs, 0);
	d->refine_post = seconds_to_samples(REFINE_POST_S, fs, 0);
	d->bp_delay = seconds_to_samples(BP_DELAY_S, fs, 0);
	d->smooth_delay = seconds_to_samples(SMOOTH_DELAY_S, fs, 0);
	d->floor = FLOOR_MV * FLOOR_MV * (double) d->mwi;
	while (ring < (size_t) (RING_S * fs) + 8)
		ring <<= 1;
	mwi = (size_t) d->mwi;
	d->ring_size = ring;
	d->ring_mask = ring - 1;
	bytes = 2 * ring * sizeof(float) + mwi * sizeof(double);
	d->block = ecg_alloc(bytes);
	if (d->block == NULL)
	{
		ecg_free(d);
		ecg_fail(st, ECG_ERR_NOMEM, "out of memory for the QRS detector");
		return NULL;
	}
	d->block_size = bytes;
	p = d->block;
	d->sq_ring = (double *) p;
	p += mwi * sizeof(double);
	d->bp_ring = (float *) p;
	p += ring * sizeof(float);
	d->sm_ring = (float *) p;
	qrs_detector_reset(d);
	return d;
}

void
qrs_detector_reset(qrs_detector *d)
{
	if (d == NULL)
		return;
	biquad_highpass(&d->hp, HP_HZ, d->fs);
	biquad_lowpass(&d->lp1, LP_HZ, d->fs);
	biquad_lowpass(&d->lp2, LP_HZ, d->fs);
	biquad_lowpass(&d->smooth, SMOOTH_HZ, d->fs);
	memset(d->block, 0, d->block_size);
	d->sq_index = 0;
	d->n = 0;
	d->mwi_sum = 0.0;
	d->prev_value = 0.0;
	d->env_total = 0.0;
	d->have_pending = 0;
	d->list_head = 0;
	d->list_n = 0;
	d->learning = 1;
	d->spk = d->npk = 0.0;
	d->have_last = 0;
	d->last_qrs = 0;
	d->last_slope = 0.0;
	d->rr_n = d->rr_i = 0;
	d->short_run = 0;
	d->rr_mean = (double) d->rr_init;
	d->deadline = INT64_MAX;
	d->have_held = 0;
	d->held_noisy = 0;
	d->queue_n = 0;
	d->last_emitted = -1;
	d->finished = 0;
}

void
qrs_detector_free(qrs_detector *d)
{
	if (d == NULL)
		return;
	ecg_free(d->block);
	ecg_free(d);
}

int64_t
qrs_detector_position(const qrs_detector *d)
{
	return d->n;
}

double
qrs_detector_fs(const qrs_detector *d)
{
	return d->fs;
}

size_t
qrs_detector_memory(const qrs_detector *d)
{
	return sizeof(*d) + d->block_size;
}

double
qrs_detector_noise_ratio(const qrs_detector *d)
{
	if (d->learning || !(d->spk > 0.0))
		return 1.0;
	return d->npk / d->spk;
}

/* Held candidates -------------------------------------------------------- */

static candidate *
list_at(qrs_detector *d, size_t i)
{
	return &d->list[(d->list_head + i) % CAND_MAX];
}

static void
list_drop_front(qrs_detector *d, size_t k)
{
	d->list_head = (d->list_head + k) % CAND_MAX;
	d->list_n -= k;
}

static void
list_push(qrs_detector *d, const candidate *c)
{
	if (d->list_n == CAND_MAX)
		list_drop_front(d, 1);	/* oldest one is forgotten (> 12 s ago) */
	*list_at(d, d->list_n) = *c;
	d->list_n++;
}

/* Decisions --------------------------------------------------------------- */

static double
threshold(const qrs_detector *d)
{
	return d->npk + TH_COEF * (d->spk - d->npk);
}

/* Below the absolute floor: never a QRS. */
static int
faint(const qrs_detector *d, const candidate *c)
{
	return c->value < d->floor;
}

static int
is_twave(const qrs_detector *d, const candidate *c)
{
	return d->have_last && c->pos - d->last_qrs < d->twave &&
		c->slope < TWAVE_SLOPE * d->last_slope;
}

/*
 * Adds an RR interval to the last RR_COUNT.  A short interval (a premature
 * beat, or noise taken for a beat) is left out so that it cannot shorten
 * the mean and bring the search-back forward, unless RR_SHORT_RUN of them
 * come in a row (the rate has gone up).
 */
static void
rr_update(qrs_detector *d, int64_t rr)
{
	int64_t		sum = 0;

	if (rr > d->rr_max)
		rr = d->rr_max;
	if (d->rr_n > 0 && rr < RR_SHORT * d->rr_mean && ++d->short_run < RR_SHORT_RUN)
		return;
	d->short_run = 0;
	d->rr[d->rr_i] = rr;
	d->rr_i = (d->rr_i + 1) % RR_COUNT;
	if (d->rr_n < RR_COUNT)
		d->rr_n++;
	for (int i = 0; i < d->rr_n; i++)
		sum += d->rr[i];
	d->rr_mean = (double) sum / d->rr_n;
}

/*
 * The RR interval the search-back waits for (times SEARCHBACK_RR): the mean,
 * or when the signal is noisy the interval before last if that is longer.
 * In a bigeminal rhythm (short and long intervals in turn) the mean falls
 * short of the long interval, and in noise the search-back took a noise
 * peak in it for the beat before the beat due at its end had come.
 */
static double
searchback_rr(const qrs_detector *d)
{
	double		rr = d->rr_mean;

	if (d->npk > NOISY_NPK * d->spk && d->rr_n >= 2)
	{
		double		before_last = (double) d->rr[(d->rr_i + RR_COUNT - 2) % RR_COUNT];

		if (before_last > rr)
			rr = before_last;
	}
	return rr;
}

static int
accept(qrs_detector *d, const candidate *c, double weight, qrs_beat_fn emit, void *arg,
	   ecg_status *st)
{
	double		v = c->value;

	if (d->spk > 0 && v > SPK_CAP * d->spk)
		v = SPK_CAP * d->spk;
	d->spk += weight * (v - d->spk);
	if (d->have_last)
		rr_update(d, c->pos - d->last_qrs);
	d->have_last = 1;
	d->last_qrs = c->pos;
	d->last_slope = c->slope;
	d->deadline = c->pos + (int64_t) floor(SEARCHBACK_RR * searchback_rr(d));
	if (c->r > d->last_emitted)
	{
		d->last_emitted = c->r;
		if (emit(arg, c->r, st) != 0)
			return -1;
	}
	return 0;
}

/*
 * Noisy and regular: the noise peaks are high (NPK over NOISY_NPK x SPK,
 * which clean records seldom reach) while the beats keep a steady rhythm
 * (the last RR intervals deviate from their mean by less than REGULAR_DEV
 * on average).  The rhythm check is then stronger: in a regular rhythm an
 * early candidate that the next beat outdoes is noise, while in atrial
 * fibrillation or multiform ectopy (irregular) early beats are real and
 * the ordinary check stays.
 */
static int
noisy_regular(const qrs_detector *d)
{
	double		dev = 0.0;

	if (d->npk <= NOISY_NPK * d->spk || d->rr_n == 0)
		return 0;
	for (int i = 0; i < d->rr_n; i++)
		dev += fabs((double) d->rr[i] - d->rr_mean);
	return dev <= REGULAR_DEV * d->rr_mean * d->rr_n;
}

/* Decides one candidate after the learning period. */
static int
decide(qrs_detector *d, const candidate *c, qrs_beat_fn emit, void *arg, ecg_status *st)
{
	if (c->value > threshold(d) && !is_twave(d, c) && !faint(d, c))
	{
		int			noisy = noisy_regular(d);

		/* early and weak: wait for the next candidates (resolve_held) */
		if (d->have_last && c->pos - d->last_qrs < HOLD_PREM * d->rr_mean &&
			c->value < (noisy ? HOLD_STRONG_NOISY : HOLD_STRONG) * d->spk)
		{
			d->have_held = 1;
			d->held_noisy = noisy;
			d->held = *c;
			d->hold_until = d->last_qrs + (int64_t) floor(HOLD_FIT_HI * d->rr_mean);
			return 0;
		}
		d->list_n = 0;
		return accept(d, c, LEVEL_WEIGHT, emit, arg, st);
	}
	d->npk += LEVEL_WEIGHT * (c->value - d->npk);
	list_push(d, c);
	/* a new candidate: the search-back may find something now */
	if (d->deadline == INT64_MAX && d->have_last)
		d->deadline = d->last_qrs + (int64_t) floor(SEARCHBACK_RR * searchback_rr(d));
	return 0;
}

/* Decides a candidate, or queues it while another is held. */
static int
decide_or_queue(qrs_detector *d, const candidate *c, qrs_beat_fn emit, void *arg, ecg_status *st)
{
	if (d->have_held)
	{
		if (d->queue_n < CAND_MAX)
			d->queue[d->queue_n++] = *c;
		return 0;
	}
	return decide(d, c, emit, arg, st);
}

/*
 * Decides the held premature QRS: noise when a later candidate above the
 * threshold falls where the rhythm expects the next beat, else a QRS; then
 * the queued candidates are decided in order.
 */
static int
resolve_held(qrs_detector *d, qrs_beat_fn emit, void *arg, ecg_status *st)
{
	candidate	c = d->held;
	candidate	later[CAND_MAX];
	size_t		n = d->queue_n;
	int			fits = 0;
	double		th = threshold(d);

	memcpy(later, d->queue, n * sizeof(candidate));
	d->queue_n = 0;
	d->have_held = 0;
	for (size_t i = 0; i < n; i++)
	{
		double		gap = (double) (later[i].pos - d->last_qrs);

		if (later[i].value > th &&
			later[i].value > (d->held_noisy ? HOLD_RATIO_NOISY : HOLD_RATIO) * c.value &&
			gap >= HOLD_FIT_LO * d->rr_mean && gap <= HOLD_FIT_HI * d->rr_mean)
			fits = 1;
	}
	if (fits)
	{
		d->npk += LEVEL_WEIGHT * (c.value - d->npk);
		list_push(d, &c);
	}
	else
	{
		d->list_n = 0;
		if (accept(d, &c, LEVEL_WEIGHT, emit, arg, st) != 0)
			return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (decide_or_queue(d, &later[i], emit, arg, st) != 0)
			return -1;
	return 0;
}

/*
 * Search-back when no QRS came by the deadline: the largest held candidate
 * above half the threshold becomes a QRS.
 */
static int
search_back(qrs_detector *d, int64_t horizon, qrs_beat_fn emit, void *arg, ecg_status *st)
{
	double		th = fmax(SEARCHBACK_TH * threshold(d), SEARCHBACK_NPK * d->npk);
	size_t		best = SIZE_MAX,
				stale = 0;

	/* candidates older than SEARCH_AGE_S are no longer reported */
	while (stale < d->list_n && list_at(d, stale)->pos < horizon - d->search_age)
		stale++;
	list_drop_front(d, stale);

	for (size_t i = 0; i < d->list_n; i++)
	{
		candidate  *c = list_at(d, i);

		if (c->value > th && !is_twave(d, c) && !faint(d, c) &&
			(best == SIZE_MAX || c->value > list_at(d, best)->value))
			best = i;
	}
	if (best == SIZE_MAX)
	{
		/* nothing for long: the levels may be too high (amplitude dropped) */
		if (horizon - d->last_qrs > d->recover)
		{
			d->spk *= 0.5;
			d->npk *= 0.5;
		}
		d->deadline = INT64_MAX;
		return 0;
	}
	{
		candidate	c = *list_at(d, best);

		list_drop_front(d, best + 1);
		return accept(d, &c, LEVEL_WEIGHT_SB, emit, arg, st);
	}
}

/* End of the learning period: start the levels, decide the held candidates. */
static int
end_learning(qrs_detector *d, int64_t samples, qrs_beat_fn emit, void *arg, ecg_status *st)
{
	candidate	held[CAND_MAX];
	size_t		n = d->list_n;
	double		top = 0.0;

	for (size_t i = 0; i < n; i++)
	{
		held[i] = *list_at(d, i);
		if (held[i].value > top)
			top = held[i].value;
	}
	d->list_n = 0;
	d->learning = 0;
	d->spk = top;
	d->npk = samples > 0 ? 0.5 * d->env_total / (double) samples : 0.0;
	for (size_t i = 0; i < n; i++)
		if (decide_or_queue(d, &held[i], emit, arg, st) != 0)
			return -1;
	return 0;
}

/* Slope and R peak of a candidate from the rings (n: samples consumed). */
static void
measure(const qrs_detector *d, candidate *c)
{
	int64_t		oldest = d->n - (int64_t) d->ring_size + 1;
	int64_t		lo,
				hi,
				center;
	double		slope = 0.0,
				base,
				best = -1.0;
	int64_t		r;

	if (oldest < 0)
		oldest = 0;
	/* slope: the differences that make up the envelope's window */
	lo = c->pos - d->mwi + 1;
	if (lo < oldest + d->diff)
		lo = oldest + d->diff;
	for (int64_t k = lo; k <= c->pos; k++)
	{
		double		df = (double) d->bp_ring[k & d->ring_mask] -
			(double) d->bp_ring[(k - d->diff) & d->ring_mask];

		if (fabs(df) > slope)
			slope = fabs(df);
	}
	c->slope = slope;

	/*
	 * R peak: where the smoothed signal is farthest from the level halfway
	 * between the ends of the window (the isoelectric line around the QRS).
	 * The window spans the differences that make up the envelope peak, plus
	 * REFINE_PRE_S before them (wide beats), moved by the filters' delays.
	 */
	center = c->pos - d->bp_delay + d->smooth_delay;
	lo = center - d->mwi - d->diff - d->refine_pre;
	hi = center + d->refine_post;
	if (lo < oldest)
		lo = oldest;
	if (hi > d->n - 1)
		hi = d->n - 1;
	if (hi < lo)
	{
		c->r = c->pos;
		return;
	}
	base = 0.5 * ((double) d->sm_ring[lo & d->ring_mask] + (double) d->sm_ring[hi & d->ring_mask]);
	r = lo;
	for (int64_t k = lo; k <= hi; k++)
	{
		double		dev = fabs((double) d->sm_ring[k & d->ring_mask] - base);

		if (dev > best)
		{
			best = dev;
			r = k;
		}
	}
	r -= d->smooth_delay;
	c->r = r < 0 ? 0 : r;
}

static int
confirmed(qrs_detector *d, candidate *c, qrs_beat_fn emit, void *arg, ecg_status *st)
{
	measure(d, c);
	if (d->learning)
	{
		list_push(d, c);
		return 0;
	}
	return decide_or_queue(d, c, emit, arg, st);
}

int
qrs_check_samples(const float *x, size_t n, int64_t first, int lead, ecg_status *st)
{
	for (size_t i = 0; i < n; i++)
		if (!isfinite(x[i]))
		{
			if (lead > 0)
				ecg_fail(st, ECG_ERR_DATA, "sample %lld of lead %d is not finite",
						 (long long) (first + (int64_t) i), lead);
			else
				ecg_fail(st, ECG_ERR_DATA, "sample %lld is not finite",
						 (long long) (first + (int64_t) i));
			return ecg_fail_detail(st, "The QRS detector needs finite samples (%s).",
								   isnan(x[i]) ? "NaN" : "infinity");
		}
	return 0;
}

int
qrs_detector_feed(qrs_detector *d, const float *x, size_t n, qrs_beat_fn emit, void *arg,
				  ecg_status *st)
{
	if (d->finished)
		return ecg_fail(st, ECG_ERR_ARGUMENT, "the QRS detector was already finished");
	if (n == 0)
		return 0;
	if (x == NULL)
		return ecg_fail(st, ECG_ERR_ARGUMENT, "no samples (NULL) for a chunk of %zu", n);
	if (qrs_check_samples(x, n, d->n, 0, st) != 0)
		return -1;

	if (d->n == 0)
	{
		/*
		 * The signal is taken to have been at its first value forever: no
		 * step at the start (an ECG with an offset would otherwise ring
		 * the filters into a false beat).
		 */
		double		s0 = biquad_settle(&d->smooth, x[0]);

		biquad_settle(&d->lp2, biquad_settle(&d->lp1, biquad_settle(&d->hp, x[0])));
		for (size_t k = 0; k < d->ring_size; k++)
			d->sm_ring[k] = (float) s0;
	}
	for (size_t i = 0; i < n; i++)
	{
		double		xi = x[i];
		double		s = biquad_step(&d->smooth, xi);
		double		b = biquad_step(&d->lp2, biquad_step(&d->lp1, biquad_step(&d->hp, xi)));
		int64_t		t = d->n;
		size_t		slot = (size_t) t & d->ring_mask;
		double		df,
					e,
					v;

		d->bp_ring[slot] = (float) b;
		d->sm_ring[slot] = (float) s;
		df = b - (double) d->bp_ring[(size_t) (t - d->diff) & d->ring_mask];
		e = df * df;
		d->mwi_sum += e - d->sq_ring[d->sq_index];
		d->sq_ring[d->sq_index] = e;
		if (++d->sq_index == (size_t) d->mwi)
		{
			/* exact sum once per window, so rounding cannot accumulate */
			double		sum = 0.0;

			for (size_t k = 0; k < (size_t) d->mwi; k++)
				sum += d->sq_ring[k];
			d->mwi_sum = sum;
			d->sq_index = 0;
		}
		v = d->mwi_sum;
		d->n = t + 1;
		if (d->learning)
			d->env_total += v;

		/* candidate peaks */
		if (d->have_pending)
		{
			if (v > d->pending.value)
			{
				d->pending.pos = t;
				d->pending.value = v;
			}
			else if (t - d->pending.pos > d->radius)
			{
				d->have_pending = 0;
				if (confirmed(d, &d->pending, emit, arg, st) != 0)
					return -1;
			}
		}
		if (!d->have_pending && v > d->prev_value)
		{
			d->have_pending = 1;
			d->pending.pos = t;
			d->pending.value = v;
		}
		d->prev_value = v;

		if (d->learning)
		{
			if (d->n == d->learn && end_learning(d, d->n, emit, arg, st) != 0)
				return -1;
		}
		else if (d->have_held)
		{
			if (t - d->radius > d->hold_until && resolve_held(d, emit, arg, st) != 0)
				return -1;
		}
		else if (t - d->radius > d->deadline)
		{
			if (search_back(d, t - d->radius - 1, emit, arg, st) != 0)
				return -1;
		}
	}
	return 0;
}

int
qrs_detector_finish(qrs_detector *d, qrs_beat_fn emit, void *arg, ecg_status *st)
{
	if (d->finished)
		return ecg_fail(st, ECG_ERR_ARGUMENT, "the QRS detector was already finished");
	d->finished = 1;
	if (d->have_pending)
	{
		d->have_pending = 0;
		if (confirmed(d, &d->pending, emit, arg, st) != 0)
			return -1;
	}
	if (d->learning && end_learning(d, d->n, emit, arg, st) != 0)
		return -1;
	while (d->have_held)
		if (resolve_held(d, emit, arg, st) != 0)
			return -1;
	/* search-back over the end of the signal */
	while (d->deadline != INT64_MAX && d->deadline < d->n && d->list_n > 0)
	{
		size_t		before = d->list_n;

		if (search_back(d, d->n, emit, arg, st) != 0)
			return -1;
		if (d->list_n == before)
			break;
	}
	return 0;
}

/* One-shot detection ---------------------------------------------------- */

typedef struct beat_array
{
	int64_t    *pos;
	size_t		n;
	size_t		cap;
} beat_array;

static int
append_beat(void *arg, int64_t sample, ecg_status *st)
{
	beat_array *a = arg;

	if (a->n == a->cap)
	{
		size_t		cap = a->cap ? 2 * a->cap : 256;
		int64_t    *grown = ecg_realloc_array(a->pos, cap, sizeof(int64_t));

		if (grown == NULL)
			return ecg_fail(st, ECG_ERR_NOMEM, "out of memory for %zu beats", cap);
		a->pos = grown;
		a->cap = cap;
	}
	a->pos[a->n++] = sample;
	return 0;
}

int
qrs_detect(const float *x, size_t n, double fs, int64_t **out, size_t *n_out, ecg_status *st)
{
	qrs_detector *d;
	beat_array	a = {NULL, 0, 0};

	*out = NULL;
	*n_out = 0;
	d = qrs_detector_new(fs, st);
	if (d == NULL)
		return -1;
	if (qrs_detector_feed(d, x, n, append_beat, &a, st) != 0 ||
		qrs_detector_finish(d, append_beat, &a, st) != 0)
	{
		qrs_detector_free(d);
		ecg_free(a.pos);
		return -1;
	}
	qrs_detector_free(d);
	*out = a.pos;
	*n_out = a.n;
	return 0;
}
