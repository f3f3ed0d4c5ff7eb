/* Unit tests for classification metrics (src/core/metrics.c), checked
 * against values worked out by hand (and as scikit-learn reports them). */
#include <string.h>

#include "unit.h"
#include "metrics.h"

static void
test_report_by_hand(void)
{
	/* 3 classes; rows: true class, columns: predicted
	 *   5 1 0
	 *   2 3 1
	 *   0 0 0      (class 2 never occurs but is predicted once) */
	int			truth[] = {0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1};
	int			pred[] = {0, 0, 0, 0, 0, 1, 0, 0, 1, 1, 1, 2};
	int64_t		confusion[9] = {0};
	classification_report r;
	ecg_status	st;

	CHECK(metrics_confusion_add(confusion, 3, truth, pred, 12, &st) == 0);
	CHECK(confusion[0] == 5 && confusion[1] == 1 && confusion[3] == 2 && confusion[4] == 3 && confusion[5] == 1);
	metrics_report(confusion, 3, &r);
	CHECK(r.total == 12);
	CHECK_CLOSE(r.accuracy, 8.0 / 12.0, 1e-12);
	CHECK_CLOSE(r.per_class[0].precision, 5.0 / 7.0, 1e-12);
	CHECK_CLOSE(r.per_class[0].recall, 5.0 / 6.0, 1e-12);
	CHECK_CLOSE(r.per_class[0].f1, 2 * (5.0 / 7) * (5.0 / 6) / (5.0 / 7 + 5.0 / 6), 1e-12);
	CHECK_CLOSE(r.per_class[1].precision, 3.0 / 4.0, 1e-12);
	CHECK_CLOSE(r.per_class[1].recall, 0.5, 1e-12);
	CHECK_CLOSE(r.per_class[1].f1, 0.6, 1e-12);
	/* class 2: predicted once, never true: precision 0, recall 0 (0/0), F1 0 */
	CHECK(r.per_class[2].precision == 0 && r.per_class[2].recall == 0 && r.per_class[2].f1 == 0);
	CHECK(r.per_class[2].support == 0);
	CHECK_CLOSE(r.macro.f1, (r.per_class[0].f1 + 0.6 + 0) / 3, 1e-12);
	CHECK_CLOSE(r.weighted.f1, (6 * r.per_class[0].f1 + 6 * 0.6) / 12, 1e-12);
	CHECK(r.macro.support == 12 && r.weighted.support == 12);
}

static void
test_out_of_range_labels(void)
{
	int			truth[] = {0, 3};
	int			pred[] = {0, 0};
	int64_t		confusion[9] = {0};
	ecg_status	st;

	CHECK(metrics_confusion_add(confusion, 3, truth, pred, 2, &st) == -1);
	CHECK(st.kind == ECG_ERR_ARGUMENT);
	CHECK(strstr(st.message, "row 1") != NULL);
}

static void
test_argmax(void)
{
	float		v[] = {0.1f, 0.7f, 0.7f, 0.2f};

	CHECK(metrics_argmax(v, 4) == 1);
	CHECK(metrics_argmax(v, 1) == 0);
}

int
main(void)
{
	RUN_TEST(test_report_by_hand);
	RUN_TEST(test_out_of_range_labels);
	RUN_TEST(test_argmax);
	UNIT_EXIT();
}
