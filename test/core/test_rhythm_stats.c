/* Unit tests for the rhythm summary (src/core/rhythm_stats.c). */
#include "unit.h"
#include "rhythm_stats.h"

/* Beats every 100 samples at 100 Hz (60 bpm) with the given classes. */
static void
feed(rhythm_stats *r, const char *classes)
{
	ecg_status	st;
	int64_t		t = 50;

	for (const char *c = classes; *c; c++, t += 100)
	{
		int			label = *c == 'N' ? 0 : *c == 'S' ? 1 : *c == 'V' ? 2 : *c == 'F' ? 3 :
			*c == 'Q' ? 4 : -1;

		CHECK(rhythm_add(r, t, label, &st) == 0);
	}
	rhythm_finish(r);
}

static void
test_runs_and_couplets(void)
{
	rhythm_stats r;
	ecg_status	st;

	CHECK(rhythm_init(&r, 100.0, &st) == 0);
	/* V: isolated, couplet, run of 3, run of 5 broken by F, run of 4 at the end;
	 * S: couplet, run of 3, isolated; '?' (unlabelled) splits SS?S */
	feed(&r, "NVNVVNVVVNVVVVVFVNSSNSSSNSS?SNVVVV");
	CHECK(r.beats == 34);
	CHECK(r.ectopic[RHYTHM_V] == 1 + 2 + 3 + 5 + 1 + 4);
	CHECK(r.ectopic[RHYTHM_S] == 2 + 3 + 2 + 1);
	CHECK(r.couplets[RHYTHM_V] == 1 && r.runs[RHYTHM_V] == 3 && r.longest_run[RHYTHM_V] == 5);
	CHECK(r.couplets[RHYTHM_S] == 2 && r.runs[RHYTHM_S] == 1 && r.longest_run[RHYTHM_S] == 3);
	CHECK(r.pauses == 0 && r.longest_rr == 100);
	CHECK_CLOSE(rhythm_mean_hr(&r), 60.0, 1e-12);
	CHECK_CLOSE(r.min_hr, 60.0, 1e-12);
	CHECK_CLOSE(r.max_hr, 60.0, 1e-12);
	CHECK_CLOSE(rhythm_duration_seconds(&r), 33.0, 1e-12);
}

static void
test_rates_and_pauses(void)
{
	rhythm_stats r;
	ecg_status	st;
	int64_t		t = 0;

	CHECK(rhythm_init(&r, 250.0, &st) == 0);
	/* 20 beats at 0.5 s (120 bpm), a 2.5 s pause, 20 beats at 1 s (60 bpm) */
	for (int i = 0; i < 20; i++, t += 125)
		CHECK(rhythm_add(&r, t, 0, &st) == 0);
	t += 625 - 125;
	for (int i = 0; i < 20; i++, t += 250)
		CHECK(rhythm_add(&r, t, 0, &st) == 0);
	rhythm_finish(&r);
	CHECK(r.pauses == 1 && r.longest_rr == 625);
	CHECK_CLOSE(r.max_hr, 120.0, 1e-12);
	/* the slowest window holds the pause and seven 1 s intervals */
	CHECK_CLOSE(r.min_hr, 60.0 * 8 / 9.5, 1e-12);
	/* exactly 2 s is not a pause */
	CHECK(rhythm_init(&r, 250.0, &st) == 0);
	CHECK(rhythm_add(&r, 0, 0, &st) == 0 && rhythm_add(&r, 500, 0, &st) == 0);
	rhythm_finish(&r);
	CHECK(r.pauses == 0);
	CHECK_CLOSE(r.min_hr, 30.0, 1e-12);	/* fewer than 8 intervals: the mean rate */
}

static void
test_errors_and_edges(void)
{
	rhythm_stats r;
	ecg_status	st;

	CHECK(rhythm_init(&r, 0.0, &st) == -1 && st.kind == ECG_ERR_ARGUMENT);
	CHECK(rhythm_init(&r, NAN, &st) == -1);
	CHECK(rhythm_init(&r, 360.0, &st) == 0);
	rhythm_finish(&r);
	CHECK(r.beats == 0 && isnan(rhythm_mean_hr(&r)) && isnan(r.min_hr));
	CHECK(rhythm_init(&r, 360.0, &st) == 0);
	CHECK(rhythm_add(&r, 10, 2, &st) == 0);
	CHECK(rhythm_add(&r, 10, 0, &st) == -1 && st.kind == ECG_ERR_DATA);
	CHECK(rhythm_add(&r, 5, 0, &st) == -1);
	CHECK(rhythm_add(&r, 20, 5, &st) == -1 && st.kind == ECG_ERR_ARGUMENT);
	CHECK(r.beats == 1);
	rhythm_finish(&r);
	CHECK(r.longest_run[RHYTHM_V] == 1 && r.couplets[RHYTHM_V] == 0 && isnan(r.max_hr));
}

int
main(void)
{
	RUN_TEST(test_runs_and_couplets);
	RUN_TEST(test_rates_and_pauses);
	RUN_TEST(test_errors_and_edges);
	UNIT_EXIT();
}
