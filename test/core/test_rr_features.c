/* Unit tests for the R-R features (src/core/rr_features.c), hand-computed. */
#include <string.h>

#include "unit.h"
#include "rr_features.h"

/* rows of expected values, NAN meaning NULL */
static void
check_row(const float *got, const double *want)
{
	for (int k = 0; k < RR_FEATURES; k++)
	{
		if (isnan(want[k]))
			CHECK_MSG(isnan(got[k]), "%s = %g, expected NULL", rr_feature_names[k], got[k]);
		else
			CHECK_CLOSE(got[k], want[k], 1e-6);
	}
}

static void
test_names(void)
{
	CHECK(strcmp(rr_feature_names[RR_PRE], "rr_pre") == 0);
	CHECK(strcmp(rr_feature_names[RR_LOCAL], "rr_local") == 0);
	CHECK(strcmp(rr_feature_names[RR_POST_RECORD], "rr_post_record") == 0);
	CHECK(strcmp(rr_feature_names[RR_WINDOW], "rr_window") == 0);
	CHECK(strcmp(rr_feature_names[RR_POST_WINDOW], "rr_post_window") == 0);
	CHECK(RR_POST_WINDOW == RR_FEATURES - 1 && RR_WINDOW == RR_BASIC_FEATURES);
}

/* Five beats at 100 Hz: intervals 1.0, 2.0, 0.5, 1.0 s; every window covers
 * all four intervals, so rr_local = rr_record = rr_window = 4.5 / 4 = 1.125. */
static void
test_short_record(void)
{
	const int64_t s[] = {0, 100, 300, 350, 450};
	float		out[5][RR_FEATURES];
	const double L = 1.125;

	rr_features_compute(s, 5, 100.0, out);
	check_row(out[0], (double[]) {NAN, 1.0, L, L, NAN, 1.0 / L, NAN, 1.0 / L, L, NAN, 1.0 / L});
	check_row(out[1], (double[]) {1.0, 2.0, L, L, 1.0 / L, 2.0 / L, 1.0 / L, 2.0 / L, L, 1.0 / L, 2.0 / L});
	check_row(out[2], (double[]) {2.0, 0.5, L, L, 2.0 / L, 0.5 / L, 2.0 / L, 0.5 / L, L, 2.0 / L, 0.5 / L});
	check_row(out[3], (double[]) {0.5, 1.0, L, L, 0.5 / L, 1.0 / L, 0.5 / L, 1.0 / L, L, 0.5 / L, 1.0 / L});
	check_row(out[4], (double[]) {1.0, NAN, L, L, 1.0 / L, NAN, 1.0 / L, NAN, L, 1.0 / L, NAN});
}

/* 20 beats at 1 Hz whose j-th interval (beat j's pre-R-R) is j seconds:
 * samples i(i+1)/2, rr_record = 190 / 19 = 10.  The local window is the
 * intervals of beats i-4 .. i+5 that exist (1 .. 19); rr_window those of the
 * beats j >= 1 with |j(j+1)/2 - i(i+1)/2| <= 150. */
static void
test_local_window_edges(void)
{
	int64_t		s[20];
	float		out[20][RR_FEATURES];

	for (int i = 0; i < 20; i++)
		s[i] = (int64_t) i * (i + 1) / 2;
	rr_features_compute(s, 20, 1.0, out);
	/* beat 0: intervals 1..5, mean 3; window: beats 1..16 (t <= 136), 8.5 */
	check_row(out[0], (double[]) {NAN, 1, 3, 10, NAN, 1.0 / 3, NAN, 0.1, 8.5, NAN, 1 / 8.5});
	/* beat 2: intervals 1..7 (i-4 < 1), mean 4; window 1..17 (t_17 = 153 = 3 + 150), 9 */
	check_row(out[2], (double[]) {2, 3, 4, 10, 0.5, 0.75, 0.2, 0.3, 9, 2.0 / 9, 3.0 / 9});
	/* beat 10: intervals 6..15, mean 10.5; window: all (t in 55 +- 150), 10 */
	check_row(out[10], (double[]) {10, 11, 10.5, 10, 10 / 10.5, 11 / 10.5, 1.0, 1.1, 10, 1.0, 1.1});
	/* beat 17: intervals 13..19 (i+5 > 19), mean 16; window 2..19 (t >= 3), 10.5 */
	check_row(out[17], (double[]) {17, 18, 16, 10, 17.0 / 16, 18.0 / 16, 1.7, 1.8, 10.5, 17 / 10.5, 18 / 10.5});
	/* last beat: intervals 15..19, mean 17; window 9..19 (t >= 40), 14 */
	check_row(out[19], (double[]) {19, NAN, 17, 10, 19.0 / 17, NAN, 1.9, NAN, 14, 19.0 / 14, NAN});
}

static void
test_lone_and_pair(void)
{
	const int64_t one[] = {1234};
	const int64_t two[] = {0, 90};
	const int64_t same[] = {7, 7};
	const int64_t far[] = {0, 200};
	float		out[2][RR_FEATURES];
	float		f[RR_FEATURES];

	rr_features_compute(one, 1, 360.0, out);
	check_row(out[0], (double[]) {NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN});
	memcpy(f, out[0], sizeof(f));
	/* nothing to impute from: the first column named is rr_pre */
	CHECK(rr_features_impute(f) == 1 + RR_PRE);

	/* two beats at 360 Hz, 0.25 s apart */
	rr_features_compute(two, 2, 360.0, out);
	check_row(out[0], (double[]) {NAN, 0.25, 0.25, 0.25, NAN, 1, NAN, 1, 0.25, NAN, 1});
	check_row(out[1], (double[]) {0.25, NAN, 0.25, 0.25, 1, NAN, 1, NAN, 0.25, 1, NAN});

	/* two beats 200 s apart (1 Hz): the second is outside the first's
	 * window, yet a beat's own intervals always count */
	rr_features_compute(far, 2, 1.0, out);
	check_row(out[0], (double[]) {NAN, 200, 200, 200, NAN, 1, NAN, 1, 200, NAN, 1});
	check_row(out[1], (double[]) {200, NAN, 200, 200, 1, NAN, 1, NAN, 200, 1, NAN});

	/* beats at the same sample: intervals of zero, ratios undefined */
	rr_features_compute(same, 2, 360.0, out);
	check_row(out[0], (double[]) {NAN, 0, 0, 0, NAN, NAN, NAN, NAN, 0, NAN, NAN});
	memcpy(f, out[0], sizeof(f));
	CHECK(rr_features_impute(f) == 1 + RR_PRE_LOCAL);

	/* n = 0 writes nothing */
	out[0][0] = 42.0f;
	rr_features_compute(two, 0, 360.0, out);
	CHECK(out[0][0] == 42.0f);
}

static void
test_impute(void)
{
	float		f[RR_FEATURES];
	float		keep[RR_FEATURES];

	/* first beat of test_local_window_edges: rr_pre <- rr_post = 1 */
	memcpy(f, (float[]) {NAN, 1, 3, 10, NAN, 1.0f / 3, NAN, 0.1f, 8.5f, NAN, 1 / 8.5f}, sizeof(f));
	CHECK(rr_features_impute(f) == 0);
	check_row(f, (double[]) {1, 1, 3, 10, 1.0 / 3, 1.0 / 3, 0.1, 0.1, 8.5, 1 / 8.5, 1 / 8.5});

	/* last beat: rr_post <- rr_pre = 19 */
	memcpy(f, (float[]) {19, NAN, 17, 10, 19.0f / 17, NAN, 1.9f, NAN, 14, 19.0f / 14, NAN}, sizeof(f));
	CHECK(rr_features_impute(f) == 0);
	check_row(f, (double[]) {19, 19, 17, 10, 19.0 / 17, 19.0 / 17, 1.9, 1.9, 14, 19.0 / 14, 19.0 / 14});

	/* a row of a table made before 0.4.0: no window columns (NULL); the
	 * eight are imputed as ever, the window is left for the caller */
	memcpy(f, (float[]) {19, NAN, 17, 10, 19.0f / 17, NAN, 1.9f, NAN, NAN, NAN, NAN}, sizeof(f));
	CHECK(rr_features_impute(f) == 0);
	check_row(f, (double[]) {19, 19, 17, 10, 19.0 / 17, 19.0 / 17, 1.9, 1.9, NAN, NAN, NAN});

	/* rr_local NULL (only a hand-made row): <- rr_record, ratios recomputed */
	memcpy(f, (float[]) {0.5f, 1, NAN, 0.8f, NAN, NAN, 0.625f, 1.25f, 1, 0.5f, 1}, sizeof(f));
	CHECK(rr_features_impute(f) == 0);
	check_row(f, (double[]) {0.5, 1, 0.8, 0.8, 0.625, 1.25, 0.625, 1.25, 1, 0.5, 1});

	/* a complete row is left as it is (stored ratios are not recomputed) */
	memcpy(keep, (float[]) {0.5f, 1, 0.7f, 0.8f, 0.7f, 1.4f, 0.6f, 1.2f, 0.9f, 0.5f, 1.1f}, sizeof(keep));
	memcpy(f, keep, sizeof(f));
	CHECK(rr_features_impute(f) == 0);
	CHECK(memcmp(f, keep, sizeof(f)) == 0);

	/* rr_record undefined and nothing to take it from */
	memcpy(f, (float[]) {0.5f, 1, 0.7f, NAN, 0.7f, 1.4f, NAN, NAN, 1, 0.5f, 1}, sizeof(f));
	CHECK(rr_features_impute(f) == 1 + RR_RECORD);
	/* an infinite value counts as undefined */
	memcpy(f, (float[]) {INFINITY, 1, 0.7f, 0.8f, NAN, 1.4f, NAN, 1.25f, 0.5f, NAN, 2}, sizeof(f));
	CHECK(rr_features_impute(f) == 0);
	CHECK_CLOSE(f[RR_PRE], 1.0, 0);
	CHECK_CLOSE(f[RR_PRE_RECORD], 1.25, 1e-6);
	CHECK_CLOSE(f[RR_PRE_WINDOW], 2.0, 1e-6);
}

int
main(void)
{
	RUN_TEST(test_names);
	RUN_TEST(test_short_record);
	RUN_TEST(test_local_window_edges);
	RUN_TEST(test_lone_and_pair);
	RUN_TEST(test_impute);
	UNIT_EXIT();
}
