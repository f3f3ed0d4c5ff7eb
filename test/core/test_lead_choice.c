/* Unit tests for the lead preference (src/core/lead_choice.c). */
#include "unit.h"
#include "lead_choice.h"

static void
test_rank_and_auto(void)
{
	CHECK(lead_rank("MLII", "MLII") == 0);
	CHECK(lead_rank("MLII", "MLI") == -1 && lead_rank("MLII", "MLIII") == -1);
	CHECK(lead_rank(" MLII ,V5,  V1 ", "V5") == 1);
	CHECK(lead_rank(" MLII ,V5,  V1 ", "V1") == 2);
	CHECK(lead_rank("MLII", "mlii") == -1);		/* names compare exactly */
	CHECK(lead_preference_is_auto("auto") && lead_preference_is_auto(" AUTO "));
	CHECK(!lead_preference_is_auto("auto, V5") && !lead_preference_is_auto("MLII"));
	CHECK(lead_rank("auto", "MLII") == 0);
	CHECK(lead_rank("Auto", "ML2") == 1);
	CHECK(lead_rank("auto", "V4") == 7);
	CHECK(lead_rank("auto", "V1") == -1 && lead_rank("auto", "ECG1") == -1);
	CHECK(lead_rank("auto", "") == -1);
}

static void
test_valid(void)
{
	CHECK(lead_preference_valid("MLII"));
	CHECK(lead_preference_valid("auto"));
	CHECK(lead_preference_valid("MLII, V5"));
	CHECK(!lead_preference_valid(""));
	CHECK(!lead_preference_valid("  "));
	CHECK(!lead_preference_valid("MLII,"));
	CHECK(!lead_preference_valid("MLII,,V5"));
	CHECK(!lead_preference_valid(", V5"));
	CHECK(!lead_preference_valid(NULL));
}

static void
test_choose(void)
{
	const char *const qt[] = {"D3", "V4"};
	const char *const mit[] = {"V5", "V2"};
	const char *const ecg[] = {"ECG1", "ECG2"};
	const char *const both[] = {"V1", "MLII", "MLII"};

	CHECK(lead_choose("auto", qt, 2) == 1);		/* D3 is not in the list, V4 is */
	CHECK(lead_choose("auto", mit, 2) == 0);
	CHECK(lead_choose("auto", ecg, 2) == -1);	/* the caller falls back */
	CHECK(lead_choose("V2, V5", mit, 2) == 1);	/* the list's order, not the record's */
	CHECK(lead_choose("auto", both, 3) == 1);	/* the first of equals */
	CHECK(lead_choose("MLII", qt, 0) == -1);
}

int
main(void)
{
	RUN_TEST(test_rank_and_auto);
	RUN_TEST(test_valid);
	RUN_TEST(test_choose);
	UNIT_EXIT();
}
