/*
 * fuzz_wfdb_header.c - libFuzzer target for wfdb_header_parse (wfdb.h).
 *
 * The input is header text, optionally followed by a NUL byte and the bytes
 * of a signal file.  The text before the first NUL is parsed as a header;
 * when it parses and declares a signal, signal 0 is decoded from the bytes
 * after the NUL (none when there is no NUL).
 */
#include <string.h>

#include "fuzz_util.h"
#include "wfdb.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Limits on what a successful parse may claim. */
static void
check_header(const wfdb_header *h)
{
	FUZZ_ASSERT(h->n_signals >= 0);
	FUZZ_ASSERT(h->n_signals == 0 || h->signals != NULL);
	FUZZ_ASSERT(h->sampling_frequency > 0);
	FUZZ_ASSERT(h->n_samples >= 0);
	FUZZ_ASSERT(memchr(h->record_name, '\0', sizeof(h->record_name)) != NULL);
	for (int i = 0; i < h->n_signals; i++)
	{
		const wfdb_signal_spec *s = &h->signals[i];

		FUZZ_ASSERT(memchr(s->file_name, '\0', sizeof(s->file_name)) != NULL);
		FUZZ_ASSERT(memchr(s->units, '\0', sizeof(s->units)) != NULL);
		FUZZ_ASSERT(memchr(s->description, '\0', sizeof(s->description)) != NULL);
		FUZZ_ASSERT(s->samples_per_frame >= 1);
		FUZZ_ASSERT(s->skew >= 0);
		FUZZ_ASSERT(s->byte_offset >= 0);
		FUZZ_ASSERT(s->gain > 0);
		(void) wfdb_file_name_is_plain(s->file_name);
	}
	(void) wfdb_header_find_signal(h, "MLII");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = size > 0 ? memchr(data, '\0', size) : NULL;
	size_t		text_len = nul != NULL ? (size_t) (nul - data) : size;
	const uint8_t *dat = nul != NULL ? nul + 1 : data + size;
	size_t		dat_len = size - text_len - (nul != NULL ? 1 : 0);
	wfdb_header h;
	ecg_status	st;
	int32_t    *adc = NULL;
	int64_t		n = -1;

	ecg_status_clear(&st);
	if (wfdb_header_parse((const char *) data, text_len, &h, &st) != 0)
	{
		FUZZ_EXPECT_FAILURE(&st);
		return 0;
	}
	check_header(&h);
	if (h.n_signals > 0)
	{
		if (wfdb_signal_decode(&h, 0, dat, dat_len, &adc, &n, &st) == 0)
		{
			FUZZ_ASSERT(n >= 0);
			FUZZ_ASSERT(n == 0 || adc != NULL);
			fuzz_touch_int32(adc, n);
			ecg_free(adc);
		}
		else
			FUZZ_EXPECT_FAILURE(&st);
	}
	wfdb_header_release(&h);
	return 0;
}
