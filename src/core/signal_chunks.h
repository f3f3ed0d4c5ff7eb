/*
 * signal_chunks.h - checks that the chunks of one lead of one record, as a
 * signal table stores them (rows of fs, start_sample, samples[]), form one
 * gap-free signal when read in start_sample order.
 *
 * The reader of a signal table hands every chunk of a (record, lead) stream
 * to sigchunk_accept in start_sample order; the first chunk must start at
 * sample 0 and each next one exactly where the previous one ended, all at
 * the same sampling rate, each with at least one finite sample.  The first
 * chunk that breaks a rule fails with a message naming the sample where it
 * happens (the caller prefixes record and lead) and sets `problem`, so that
 * the caller can pick an error code per kind of problem.
 */
#ifndef ECG_SIGNAL_CHUNKS_H
#define ECG_SIGNAL_CHUNKS_H

#include <stdint.h>

#include "ecg_core.h"

typedef enum sigchunk_problem
{
	SIGCHUNK_OK = 0,
	SIGCHUNK_BAD_RATE,			/* fs not finite or <= 0 */
	SIGCHUNK_MIXED_RATE,		/* fs differs from the stream's first chunk */
	SIGCHUNK_BAD_START,			/* start_sample < 0 */
	SIGCHUNK_DUPLICATE,			/* same start_sample as the previous chunk */
	SIGCHUNK_OVERLAP,			/* starts before the previous chunk ended */
	SIGCHUNK_GAP,				/* starts after the previous chunk ended (or after 0) */
	SIGCHUNK_EMPTY,				/* no samples */
	SIGCHUNK_NOT_FINITE			/* a NaN or infinite sample */
} sigchunk_problem;

typedef struct sigchunk_stream
{
	int64_t		n_chunks;		/* chunks accepted */
	double		fs;				/* rate of the first chunk */
	int64_t		last_start;		/* start of the last accepted chunk */
	int64_t		next_sample;	/* where the next chunk must start (= samples so far) */
	sigchunk_problem problem;	/* of the last failed call */
} sigchunk_stream;

void		sigchunk_stream_init(sigchunk_stream *s);

/*
 * Checks the next chunk: `n` samples x[0..n) at `fs` Hz from `start`.  On
 * success the stream has grown by n samples.  On failure (ECG_ERR_ARGUMENT for
 * a bad rate or start, ECG_ERR_DATA otherwise) *st names the problem and the
 * absolute sample, s->problem says which, and the stream is unchanged.
 */
int			sigchunk_accept(sigchunk_stream *s, double fs, int64_t start, const float *x,
							int64_t n, ecg_status *st);

#endif
