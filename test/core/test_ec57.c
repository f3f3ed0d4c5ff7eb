/* Unit tests for the EC57 figures (src/core/ec57.c), hand-computed. */
#include "unit.h"
#include "ec57.h"

/*
 * true \ predicted   N   S   V   F   Q
 *   N               90   5   3   0   2
 *   S                4  10   0   0   1
 *   V                1   0  20   1   0
 *   F                0   0   2   3   0
 *   Q                7   1   1   0   4     (left out)
 * beats counted: 100 + 15 + 22 + 5 = 142
 */
static const int64_t M[25] = {
	90, 5, 3, 0, 2,
	4, 10, 0, 0, 1,
	1, 0, 20, 1, 0,
	0, 0, 2, 3, 0,
	7, 1, 1, 0, 4,
};

static void
test_gross(void)
{
	ec57_stats	s;

	CHECK(ec57_beats(M) == 142);
	/* N: TP 90, FN 10 (5 + 3 + 2), FP 5 (4 + 1; Q's 7 left out), TN 37 */
	ec57_class_stats(M, 0, &s);
	CHECK(s.tp == 90 && s.fn == 10 && s.fp == 5 && s.tn == 37);
	CHECK_CLOSE(s.se, 0.9, 1e-12);
	CHECK_CLOSE(s.ppv, 90.0 / 95, 1e-12);
	CHECK_CLOSE(s.fpr, 5.0 / 42, 1e-12);
	CHECK_CLOSE(s.f1, 180.0 / 195, 1e-12);
	/* S: TP 10, FN 5 (4 + 1 predicted Q), FP 5, TN 122 */
	ec57_class_stats(M, 1, &s);
	CHECK(s.tp == 10 && s.fn == 5 && s.fp == 5 && s.tn == 122);
	CHECK_CLOSE(s.se, 10.0 / 15, 1e-12);
	CHECK_CLOSE(s.ppv, 10.0 / 15, 1e-12);
	CHECK_CLOSE(s.fpr, 5.0 / 127, 1e-12);
	CHECK_CLOSE(s.f1, 20.0 / 30, 1e-12);
	/* V: TP 20, FN 2, FP 5 (3 + 2), TN 115 */
	ec57_class_stats(M, 2, &s);
	CHECK(s.tp == 20 && s.fn == 2 && s.fp == 5 && s.tn == 115);
	CHECK_CLOSE(s.f1, 40.0 / 47, 1e-12);
	/* F: TP 3, FN 2, FP 1, TN 136 */
	ec57_class_stats(M, 3, &s);
	CHECK(s.tp == 3 && s.fn == 2 && s.fp == 1 && s.tn == 136);
	CHECK_CLOSE(s.ppv, 0.75, 1e-12);
	CHECK_CLOSE(ec57_macro_f1(M),
				(180.0 / 195 + 20.0 / 30 + 40.0 / 47 + 6.0 / 9) / 4, 1e-12);
}

/* A record with only N beats, some called V: Se of S/V/F undefined, +P of V
 * 0, F1 of V 0, F1 of S and F undefined; the macro mean skips them. */
static void
test_undefined(void)
{
	int64_t		r[25] = {0};
	ec57_stats	s;

	r[0] = 8;
	r[2] = 2;
	ec57_class_stats(r, 1, &s);
	CHECK(s.tp == 0 && s.fn == 0 && s.fp == 0 && s.tn == 10);
	CHECK(isnan(s.se) && isnan(s.ppv) && isnan(s.f1));
	CHECK_CLOSE(s.fpr, 0.0, 0);
	ec57_class_stats(r, 2, &s);
	CHECK(isnan(s.se) && s.ppv == 0.0 && s.f1 == 0.0);
	CHECK_CLOSE(s.fpr, 0.2, 1e-12);
	CHECK_CLOSE(ec57_macro_f1(r), (16.0 / 18 + 0.0) / 2, 1e-12);
	/* nothing but Q: nothing counted */
	for (int i = 0; i < 25; i++)
		r[i] = 0;
	r[24] = 5;
	CHECK(ec57_beats(r) == 0 && isnan(ec57_macro_f1(r)));
}

int
main(void)
{
	RUN_TEST(test_gross);
	RUN_TEST(test_undefined);
	UNIT_EXIT();
}
