/*
 * fuzz_signal_chunks - the continuity checks of a chunked signal
 * (src/core/signal_chunks.c), which every reader of a signal table applies.
 *
 * The input is a sequence of chunks, each: one byte choosing the rate (a table
 * of good, odd and invalid values), two bytes of signed offset of its start
 * from where the previous chunk ended, one byte of length, then that many
 * floats taken raw from the input (NaN and infinities included).  Each chunk
 * goes to sigchunk_accept; the result must agree with an independent model of
 * the rules, a refused chunk must leave the stream as it was and say why.
 */
#include <math.h>

#include "fuzz_util.h"
#include "signal_chunks.h"

static const double rates[8] = {360.0, 250.0, 360.0001, 0.0, -360.0, NAN, INFINITY, 1e-300};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sigchunk_stream s;
	size_t		at = 0;

	sigchunk_stream_init(&s);
	while (at + 4 <= size)
	{
		double		fs = rates[data[at] % 8];
		int16_t		offset = (int16_t) (data[at + 1] | (data[at + 2] << 8));
		int64_t		n = data[at + 3];
		int64_t		start = s.next_sample + offset;
		float		x[255];
		int			finite = 1;
		int			expect_ok;
		sigchunk_stream before = s;
		ecg_status	st;
		int			rc;

		at += 4;
		if (n > (int64_t) ((size - at) / sizeof(float)))
			n = (int64_t) ((size - at) / sizeof(float));
		memcpy(x, data + at, (size_t) n * sizeof(float));
		at += (size_t) n * sizeof(float);
		for (int64_t i = 0; i < n; i++)
			finite &= isfinite(x[i]) != 0;

		expect_ok = isfinite(fs) && fs > 0 && start >= 0 &&
			(s.n_chunks == 0 || fs == s.fs) && start == s.next_sample && n > 0 && finite;
		rc = sigchunk_accept(&s, fs, start, n > 0 ? x : NULL, n, &st);
		FUZZ_ASSERT((rc == 0) == expect_ok);
		if (rc == 0)
		{
			FUZZ_ASSERT(s.problem == SIGCHUNK_OK);
			FUZZ_ASSERT(s.n_chunks == before.n_chunks + 1 && s.next_sample == start + n);
			FUZZ_ASSERT(s.last_start == start);
		}
		else
		{
			FUZZ_EXPECT_FAILURE(&st);
			FUZZ_ASSERT(s.problem != SIGCHUNK_OK);
			FUZZ_ASSERT(s.n_chunks == before.n_chunks && s.next_sample == before.next_sample &&
						s.last_start == before.last_start);
			FUZZ_ASSERT(s.n_chunks == 0 || s.fs == before.fs);
		}
	}
	return 0;
}
