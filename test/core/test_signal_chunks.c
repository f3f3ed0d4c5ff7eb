/* Unit tests for the chunk continuity checks (src/core/signal_chunks.c). */
#include <string.h>

#include "unit.h"
#include "signal_chunks.h"

static const float ones[8] = {1, 1, 1, 1, 1, 1, 1, 1};

static void
test_contiguous_chunks(void)
{
	sigchunk_stream s;
	ecg_status	st;

	sigchunk_stream_init(&s);
	CHECK(sigchunk_accept(&s, 360.0, 0, ones, 8, &st) == 0);
	CHECK(sigchunk_accept(&s, 360.0, 8, ones, 3, &st) == 0);
	CHECK(sigchunk_accept(&s, 360.0, 11, ones, 1, &st) == 0);
	CHECK(s.n_chunks == 3 && s.next_sample == 12 && s.fs == 360.0);
}

/* Each problem: its kind, a message naming the sample, the stream unchanged. */
static void
test_each_problem(void)
{
	sigchunk_stream s;
	ecg_status	st;
	float		bad[4] = {0, 1, NAN, 2};

	sigchunk_stream_init(&s);
	CHECK(sigchunk_accept(&s, 360.0, 5, ones, 8, &st) == -1 && s.problem == SIGCHUNK_GAP);
	CHECK_MSG(strstr(st.message, "first chunk starts at sample 5") != NULL, "%s", st.message);
	CHECK(sigchunk_accept(&s, 0.0, 0, ones, 8, &st) == -1 && s.problem == SIGCHUNK_BAD_RATE &&
		  st.kind == ECG_ERR_ARGUMENT);
	CHECK(sigchunk_accept(&s, INFINITY, 0, ones, 8, &st) == -1 && s.problem == SIGCHUNK_BAD_RATE);
	CHECK(sigchunk_accept(&s, 360.0, -1, ones, 8, &st) == -1 && s.problem == SIGCHUNK_BAD_START);
	CHECK(sigchunk_accept(&s, 360.0, 0, ones, 0, &st) == -1 && s.problem == SIGCHUNK_EMPTY);
	CHECK(sigchunk_accept(&s, 360.0, 0, ones, 8, &st) == 0);

	CHECK(sigchunk_accept(&s, 250.0, 8, ones, 8, &st) == -1 && s.problem == SIGCHUNK_MIXED_RATE &&
		  st.kind == ECG_ERR_DATA);
	CHECK(sigchunk_accept(&s, 360.0, 0, ones, 8, &st) == -1 && s.problem == SIGCHUNK_DUPLICATE);
	CHECK_MSG(strstr(st.message, "two chunks start at sample 0") != NULL, "%s", st.message);
	CHECK(sigchunk_accept(&s, 360.0, 7, ones, 8, &st) == -1 && s.problem == SIGCHUNK_OVERLAP);
	CHECK_MSG(strstr(st.message, "sample 7") != NULL, "%s", st.message);
	CHECK(sigchunk_accept(&s, 360.0, 9, ones, 8, &st) == -1 && s.problem == SIGCHUNK_GAP);
	CHECK_MSG(strstr(st.message, "gap at sample 8") != NULL, "%s", st.message);
	CHECK(sigchunk_accept(&s, 360.0, 8, bad, 4, &st) == -1 && s.problem == SIGCHUNK_NOT_FINITE);
	CHECK_MSG(strcmp(st.message, "sample 10 is NaN") == 0, "%s", st.message);
	bad[2] = -INFINITY;
	CHECK(sigchunk_accept(&s, 360.0, 8, bad, 4, &st) == -1);
	CHECK_MSG(strcmp(st.message, "sample 10 is infinite") == 0, "%s", st.message);
	CHECK(s.n_chunks == 1 && s.next_sample == 8);
	CHECK(sigchunk_accept(&s, 360.0, 8, ones, 8, &st) == 0 && s.problem == SIGCHUNK_OK);
	CHECK(sigchunk_accept(&s, 360.0, INT64_MAX - 2, ones, 8, &st) == -1);
}

int
main(void)
{
	RUN_TEST(test_contiguous_chunks);
	RUN_TEST(test_each_problem);
	UNIT_EXIT();
}
