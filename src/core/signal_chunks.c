/*
 * signal_chunks.c - continuity checks of a chunked signal (signal_chunks.h).
 */
#include "signal_chunks.h"

#include <math.h>
#include <string.h>

void
sigchunk_stream_init(sigchunk_stream *s)
{
	memset(s, 0, sizeof(*s));
}

/* Records the kind of a failure already described in the status. */
static int
refuse(sigchunk_stream *s, sigchunk_problem problem)
{
	s->problem = problem;
	return -1;
}

int
sigchunk_accept(sigchunk_stream *s, double fs, int64_t start, const float *x, int64_t n,
				ecg_status *st)
{
	s->problem = SIGCHUNK_OK;
	if (!isfinite(fs) || !(fs > 0))
	{
		ecg_fail(st, ECG_ERR_ARGUMENT, "invalid sampling rate %g Hz in the chunk at sample %lld",
				 fs, (long long) start);
		return refuse(s, SIGCHUNK_BAD_RATE);
	}
	if (start < 0)
	{
		ecg_fail(st, ECG_ERR_ARGUMENT, "chunk starts at negative sample %lld", (long long) start);
		return refuse(s, SIGCHUNK_BAD_START);
	}
	if (s->n_chunks > 0 && fs != s->fs)
	{
		ecg_fail(st, ECG_ERR_DATA, "mixed sampling rates: the chunk at sample %lld is at %g Hz, the first chunk at %g Hz",
				 (long long) start, fs, s->fs);
		return refuse(s, SIGCHUNK_MIXED_RATE);
	}
	if (s->n_chunks > 0 && start == s->last_start)
	{
		ecg_fail(st, ECG_ERR_DATA, "two chunks start at sample %lld", (long long) start);
		return refuse(s, SIGCHUNK_DUPLICATE);
	}
	if (start < s->next_sample)
	{
		ecg_fail(st, ECG_ERR_DATA, "overlapping chunks at sample %lld: the chunk there starts before sample %lld, where the previous chunk ended",
				 (long long) start, (long long) s->next_sample);
		return refuse(s, SIGCHUNK_OVERLAP);
	}
	if (start > s->next_sample)
	{
		if (s->n_chunks == 0)
			ecg_fail(st, ECG_ERR_DATA, "gap at sample 0: the first chunk starts at sample %lld",
					 (long long) start);
		else
			ecg_fail(st, ECG_ERR_DATA, "gap at sample %lld: the next chunk starts at sample %lld",
					 (long long) s->next_sample, (long long) start);
		return refuse(s, SIGCHUNK_GAP);
	}
	if (n <= 0 || x == NULL)
	{
		ecg_fail(st, ECG_ERR_DATA, "empty chunk at sample %lld", (long long) start);
		return refuse(s, SIGCHUNK_EMPTY);
	}
	if (n > INT64_MAX - start)
	{
		ecg_fail(st, ECG_ERR_ARGUMENT, "chunk at sample %lld is too long", (long long) start);
		return refuse(s, SIGCHUNK_BAD_START);
	}
	for (int64_t i = 0; i < n; i++)
		if (!isfinite(x[i]))
		{
			ecg_fail(st, ECG_ERR_DATA, "sample %lld is %s", (long long) (start + i),
					 isnan(x[i]) ? "NaN" : "infinite");
			return refuse(s, SIGCHUNK_NOT_FINITE);
		}
	if (s->n_chunks == 0)
		s->fs = fs;
	s->n_chunks++;
	s->last_start = start;
	s->next_sample = start + n;
	return 0;
}
