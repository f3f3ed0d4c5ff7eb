/*
 * fuzz_wfdb_dat.c - libFuzzer target for wfdb_signal_decode (wfdb.h) on its
 * own: a fixed small header (chosen by the first bytes, see
 * fuzz_dat_header.h) and the rest of the input as the signal file.
 *
 * A decoded signal must have the length the header implies and every value
 * must fit the storage format (or be the invalid-sample marker -32768).
 */
#include <string.h>

#include "fuzz_dat_header.h"
#include "fuzz_util.h"
#include "wfdb.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define INVALID_SAMPLE (-32768)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_dat_choice choice;
	char		text[FUZZ_DAT_HEADER_MAX];
	size_t		text_len;
	wfdb_header h;
	ecg_status	st;
	int32_t    *adc = NULL;
	int64_t		n = -1;
	int			spf,
				bits;

	if (size < FUZZ_DAT_PREFIX)
		return 0;
	choice = fuzz_dat_choose(data);
	text_len = fuzz_dat_header_text(&choice, text);
	ecg_status_clear(&st);
	if (wfdb_header_parse(text, text_len, &h, &st) != 0)
	{
		fprintf(stderr, "fixed header rejected: %s (%s)\n%.*s", st.message, st.detail,
				(int) text_len, text);
		FUZZ_ASSERT(!"the fuzzer's own header parses");
	}
	FUZZ_ASSERT(h.n_signals == choice.n_signals);
	spf = h.signals[choice.signal].samples_per_frame;

	if (wfdb_signal_decode(&h, choice.signal, data + FUZZ_DAT_PREFIX, size - FUZZ_DAT_PREFIX,
						   &adc, &n, &st) == 0)
	{
		FUZZ_ASSERT(n >= 0 && n % spf == 0);
		FUZZ_ASSERT(n == 0 || adc != NULL);
		if (choice.n_samples > 0)
			FUZZ_ASSERT(n == (int64_t) choice.n_samples * spf);
		/* no more samples than the file's bytes can hold (format 80: 1 byte each) */
		FUZZ_ASSERT(choice.n_samples > 0 || n <= (int64_t) (size - FUZZ_DAT_PREFIX));
		/* fixed-width formats below 32 bits bound every value (format 8 sums differences) */
		bits = wfdb_format_sample_bits(choice.format);
		if (bits > 0 && bits < 32)
			for (int64_t i = 0; i < n; i++)
				FUZZ_ASSERT(adc[i] == INVALID_SAMPLE ||
							(adc[i] >= -(1 << (bits - 1)) && adc[i] < (1 << (bits - 1))));
		fuzz_touch_int32(adc, n);
		ecg_free(adc);
	}
	else
		FUZZ_EXPECT_FAILURE(&st);
	wfdb_header_release(&h);
	return 0;
}
