/*
 * qrs_leads.c - two-lead QRS detection by the quality of each lead (see
 * qrs_leads.h).
 *
 * Each lead has its own single-lead detector (qrs.c), fed the same samples
 * as if it ran alone.  Its beats go to a queue of that lead, each with the
 * lead's noise level at the time it was decided (NPK / SPK of its detector).
 * The queues are merged in time order: the earliest beat of either queue is
 * decided once the other lead can no longer report a beat within MATCH_S of
 * it (the other lead has a later beat queued, or its detector has gone more
 * than QRS_MAX_DELAY_SECONDS past it), so that the decision is the same
 * whatever the chunking.
 *   - a beat found on both leads within MATCH_S: a beat (at the primary
 *     lead's R peak);
 *   - a beat on one lead only: the lead to trust decides.  The primary lead
 *     is trusted unless it is noisy (NPK over TRUST_NOISY x SPK) and the
 *     second lead's noise ratio is under TRUST_RATIO times the primary's;
 *     then the second lead is trusted: its lone beats are beats (unless
 *     within REFRACTORY_S of the last beat reported) and the primary's lone
 *     beats are noise.  The noise ratio of the lead that did not find the
 *     beat is the one of its latest beat before it.
 * On a clean primary lead every primary beat is kept and no second-lead beat
 * is added: the beats are the single-lead detector's.
 *
 * The leads are fed in blocks of at most BLOCK_S seconds, both leads block
 * by block, so that the queues hold at most the beats of
 * QRS_MAX_DELAY_SECONDS + MATCH_S + BLOCK_S of signal (QUEUE_MAX bounds them).
 */
#include "qrs_leads.h"

#include <math.h>
#include <string.h>

#define MATCH_S			0.150	/* a beat on both leads: R peaks this close */
#define REFRACTORY_S	0.200	/* a second-lead beat this close to the last
								 * beat reported is the same beat */
#define TRUST_NOISY		0.04	/* the primary lead is noisy above this NPK/SPK */
#define TRUST_RATIO		0.5		/* ... and the second lead much cleaner below
								 * this times the primary's NPK/SPK */
#define RECENT_S		1.5		/* a lead's noise ratio is that of its latest
								 * beat if no older than this */
#define BLOCK_S			0.5		/* samples fed per lead at a time */
#define QUEUE_MAX		64		/* beats >= 200 ms apart over < 8 s: < 40 */

typedef struct lead_beat
{
	int64_t		pos;
	double		noise;			/* NPK / SPK of its lead when it was decided */
} lead_beat;

typedef struct lead_queue
{
	lead_beat	beat[QUEUE_MAX];
	size_t		head,
				n;
	double		last_noise;		/* of the lead's latest beat taken off */
	int64_t		last_pos;		/* ... and its position */
	int			have_last;
} lead_queue;

struct qrs_leads
{
	int			n_leads;
	double		fs;
	int64_t		match,
				refractory,
				recent,
				max_delay,
				block;
	qrs_detector *det[QRS_LEADS_MAX];
	lead_queue	queue[QRS_LEADS_MAX];
	int64_t		last_out;
	int			finished;
	int			feeding;		/* the lead whose detector is calling back */
};

static void
queues_clear(qrs_leads *d)
{
	memset(d->queue, 0, sizeof(d->queue));
	d->last_out = -1;
	d->finished = 0;
}

qrs_leads *
qrs_leads_new(double fs, int n_leads, ecg_status *st)
{
	qrs_leads  *d;

	if (n_leads < 1 || n_leads > QRS_LEADS_MAX)
	{
		ecg_fail(st, ECG_ERR_ARGUMENT, "%d leads for the QRS detector", n_leads);
		ecg_fail_detail(st, "The QRS detector works on 1 to %d leads.", QRS_LEADS_MAX);
		return NULL;
	}
	d = ecg_alloc(sizeof(*d));
	if (d == NULL)
	{
		ecg_fail(st, ECG_ERR_NOMEM, "out of memory for the QRS detector");
		return NULL;
	}
	memset(d, 0, sizeof(*d));
	d->n_leads = n_leads;
	d->fs = fs;
	for (int l = 0; l < n_leads; l++)
		if ((d->det[l] = qrs_detector_new(fs, st)) == NULL)
		{
			qrs_leads_free(d);
			return NULL;
		}
	d->match = (int64_t) floor(MATCH_S * fs + 0.5);
	d->refractory = (int64_t) floor(REFRACTORY_S * fs + 0.5);
	d->recent = (int64_t) floor(RECENT_S * fs + 0.5);
	d->max_delay = (int64_t) ceil(QRS_MAX_DELAY_SECONDS * fs);
	d->block = (int64_t) floor(BLOCK_S * fs + 0.5);
	queues_clear(d);
	return d;
}

void
qrs_leads_reset(qrs_leads *d)
{
	for (int l = 0; l < d->n_leads; l++)
		qrs_detector_reset(d->det[l]);
	queues_clear(d);
}

void
qrs_leads_free(qrs_leads *d)
{
	if (d == NULL)
		return;
	for (int l = 0; l < QRS_LEADS_MAX; l++)
		qrs_detector_free(d->det[l]);
	ecg_free(d);
}

int
qrs_leads_count(const qrs_leads *d)
{
	return d->n_leads;
}

size_t
qrs_leads_memory(const qrs_leads *d)
{
	size_t		bytes = sizeof(*d);

	for (int l = 0; l < d->n_leads; l++)
		bytes += qrs_detector_memory(d->det[l]);
	return bytes;
}

/* Queues --------------------------------------------------------------- */

static lead_beat *
queue_at(lead_queue *q, size_t i)
{
	return &q->beat[(q->head + i) % QUEUE_MAX];
}

static lead_beat
queue_pop(lead_queue *q)
{
	lead_beat	b = *queue_at(q, 0);

	q->head = (q->head + 1) % QUEUE_MAX;
	q->n--;
	q->last_noise = b.noise;
	q->last_pos = b.pos;
	q->have_last = 1;
	return b;
}

/* The callback of lead d->feeding's detector. */
static int
queue_beat(void *arg, int64_t sample, ecg_status *st)
{
	qrs_leads  *d = arg;
	lead_queue *q = &d->queue[d->feeding];

	if (q->n == QUEUE_MAX)
		return ecg_fail(st, ECG_ERR_LIMIT, "too many beats held for the two-lead QRS detector");
	queue_at(q, q->n)->pos = sample;
	queue_at(q, q->n)->noise = qrs_detector_noise_ratio(d->det[d->feeding]);
	q->n++;
	return 0;
}

/* Decisions ------------------------------------------------------------ */

/*
 * NPK/SPK of lead l at a beat of the other lead at p: that of l's latest
 * beat, when it is at most RECENT_S old; else 1 (a lead that has stopped
 * finding beats is not to be trusted).
 */
static double
noise_before(const qrs_leads *d, int l, int64_t p)
{
	const lead_queue *q = &d->queue[l];

	return q->have_last && p - q->last_pos <= d->recent ? q->last_noise : 1.0;
}

/* The second lead is trusted over the primary one. */
static int
trust_second(double primary, double second)
{
	return primary > TRUST_NOISY && second < TRUST_RATIO * primary;
}

static int
report(qrs_leads *d, int64_t pos, int64_t gap, qrs_beat_fn emit, void *arg, ecg_status *st)
{
	if (pos <= d->last_out + gap)
		return 0;
	d->last_out = pos;
	return emit(arg, pos, st);
}

/*
 * Decides the beats whose fate is known: the earliest queued beat, while the
 * other lead cannot report anything within the match window of it.
 */
static int
drain(qrs_leads *d, qrs_beat_fn emit, void *arg, ecg_status *st)
{
	for (;;)
	{
		lead_queue *qa = &d->queue[0],
				   *qb = &d->queue[1];
		int			l,
					o;
		int64_t		p;

		if (d->n_leads == 1)
		{
			while (qa->n > 0)
				if (report(d, queue_pop(qa).pos, 0, emit, arg, st) != 0)
					return -1;
			return 0;
		}
		if (qa->n == 0 && qb->n == 0)
			return 0;
		if (qb->n == 0 || (qa->n > 0 && queue_at(qa, 0)->pos <= queue_at(qb, 0)->pos))
			l = 0;
		else
			l = 1;
		o = 1 - l;
		p = queue_at(&d->queue[l], 0)->pos;
		if (d->queue[o].n > 0 && queue_at(&d->queue[o], 0)->pos <= p + d->match)
		{
			/* found on both leads */
			lead_beat	a = queue_pop(qa);

			queue_pop(qb);
			if (report(d, a.pos, 0, emit, arg, st) != 0)
				return -1;
			continue;
		}
		if (d->queue[o].n == 0 && !d->finished &&
			qrs_detector_position(d->det[o]) - d->max_delay <= p + d->match)
			return 0;			/* the other lead may still report it */
		{
			lead_beat	b = queue_pop(&d->queue[l]);
			double		primary = l == 0 ? b.noise : noise_before(d, 0, b.pos);
			double		second = l == 1 ? b.noise : noise_before(d, 1, b.pos);
			int			second_trusted = trust_second(primary, second);

			if (l == 0 && !second_trusted &&
				report(d, b.pos, 0, emit, arg, st) != 0)
				return -1;
			if (l == 1 && second_trusted &&
				report(d, b.pos, d->refractory, emit, arg, st) != 0)
				return -1;
		}
	}
}

int
qrs_leads_feed(qrs_leads *d, const float *const *x, size_t n, qrs_beat_fn emit, void *arg,
			   ecg_status *st)
{
	if (d->finished)
		return ecg_fail(st, ECG_ERR_ARGUMENT, "the QRS detector was already finished");
	if (n == 0)
		return 0;
	if (x == NULL)
		return ecg_fail(st, ECG_ERR_ARGUMENT, "no leads (NULL) for a chunk of %zu", n);
	for (int l = 0; l < d->n_leads; l++)
	{
		if (x[l] == NULL)
			return ecg_fail(st, ECG_ERR_ARGUMENT, "no samples (NULL) for lead %d", l + 1);
		if (qrs_check_samples(x[l], n, qrs_detector_position(d->det[l]), l + 1, st) != 0)
			return -1;
	}
	for (size_t off = 0; off < n; off += (size_t) d->block)
	{
		size_t		m = n - off < (size_t) d->block ? n - off : (size_t) d->block;

		for (int l = 0; l < d->n_leads; l++)
		{
			d->feeding = l;
			if (qrs_detector_feed(d->det[l], x[l] + off, m, queue_beat, d, st) != 0)
				return -1;
		}
		if (drain(d, emit, arg, st) != 0)
			return -1;
	}
	return 0;
}

int
qrs_leads_finish(qrs_leads *d, qrs_beat_fn emit, void *arg, ecg_status *st)
{
	if (d->finished)
		return ecg_fail(st, ECG_ERR_ARGUMENT, "the QRS detector was already finished");
	for (int l = 0; l < d->n_leads; l++)
	{
		d->feeding = l;
		if (qrs_detector_finish(d->det[l], queue_beat, d, st) != 0)
			return -1;
	}
	d->finished = 1;
	return drain(d, emit, arg, st);
}
