/*
 * fuzz_wfdb_annotations.c - libFuzzer target for wfdb_annotations_parse
 * (wfdb.h): the input is an MIT-format annotation file.
 *
 * Parsed annotations must be well-formed (codes 0..49, non-negative times,
 * NUL-terminated symbols and aux strings inside the returned block); those
 * the encoder accepts must survive an encode / parse round trip.
 */
#include <string.h>

#include "fuzz_util.h"
#include "wfdb.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_round_trip(const wfdb_annotation *ann, size_t n)
{
	uint8_t    *bytes = NULL;
	size_t		len = 0;
	wfdb_annotation *again = NULL;
	size_t		n_again = 0;
	ecg_status	st;

	ecg_status_clear(&st);
	/* the encoder wants codes 1..49 in time order; anything else is refused */
	if (wfdb_annotations_encode(ann, n, &bytes, &len, &st) != 0)
	{
		FUZZ_EXPECT_FAILURE(&st);
		return;
	}
	if (wfdb_annotations_parse(bytes, len, &again, &n_again, &st) != 0)
	{
		fprintf(stderr, "re-parse failed: %s (%s)\n", st.message, st.detail);
		FUZZ_ASSERT(!"an encoded annotation file parses");
	}
	FUZZ_ASSERT(n_again == n);
	for (size_t i = 0; i < n; i++)
	{
		FUZZ_ASSERT(again[i].sample == ann[i].sample);
		FUZZ_ASSERT(again[i].type == ann[i].type);
		FUZZ_ASSERT(again[i].subtype == ann[i].subtype);
		FUZZ_ASSERT(again[i].chan == ann[i].chan);
		FUZZ_ASSERT(again[i].num == ann[i].num);
		FUZZ_ASSERT(strcmp(again[i].aux, ann[i].aux) == 0);
	}
	ecg_free(bytes);
	wfdb_annotations_release(again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	wfdb_annotation *ann = NULL;
	size_t		n = 0;
	ecg_status	st;
	int			sorted = 1;

	ecg_status_clear(&st);
	if (wfdb_annotations_parse(data, size, &ann, &n, &st) != 0)
	{
		FUZZ_EXPECT_FAILURE(&st);
		FUZZ_ASSERT(ann == NULL && n == 0);
		return 0;
	}
	FUZZ_ASSERT(n == 0 || ann != NULL);
	FUZZ_ASSERT(n <= size / 2);
	for (size_t i = 0; i < n; i++)
	{
		const wfdb_annotation *a = &ann[i];

		FUZZ_ASSERT(a->sample >= 0);
		FUZZ_ASSERT(a->type >= 0 && a->type <= WFDB_ANN_ACMAX);
		FUZZ_ASSERT(memchr(a->symbol, '\0', sizeof(a->symbol)) != NULL);
		FUZZ_ASSERT(strcmp(a->symbol, wfdb_annotation_symbol(a->type)) == 0);
		FUZZ_ASSERT(a->subtype >= 0 && a->subtype <= 1023);
		FUZZ_ASSERT(a->chan >= 0 && a->chan <= 1023);
		FUZZ_ASSERT(a->num >= 0 && a->num <= 1023);
		FUZZ_ASSERT(a->aux != NULL && strlen(a->aux) <= 1023);
		if (i > 0 && a->sample < ann[i - 1].sample)
			sorted = 0;
	}
	if (sorted)
		check_round_trip(ann, n);
	wfdb_annotations_release(ann);
	return 0;
}
