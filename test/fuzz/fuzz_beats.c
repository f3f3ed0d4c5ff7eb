/*
 * fuzz_beats.c - libFuzzer target for beats_extract (beats.h): fuzzed
 * annotations over a synthetic signal.
 *
 * Input layout:
 *   byte 0     bit 0:    annotations as raw records (1) or as an MIT
 *                        annotation file for wfdb_annotations_parse (0)
 *              bits 1-3: sampling frequency, beats_fs[]
 *              bits 4-5: signal shape (see synthetic_signal)
 *              bits 6-7: ADC gain, beats_gain[]
 *   bytes 1-2  signal length in samples (little-endian, mod max_samples(fs) + 1)
 *   rest       the annotations.  Raw records are 5 bytes: a code byte (code
 *              % 50 gives the symbol; with bit 7 set the time is absolute)
 *              and a signed 32-bit little-endian time (a difference from the
 *              previous annotation's time, or the absolute time), so times
 *              may be negative, unsorted or far past the signal.
 *
 * Every beat annotation must be either kept or counted as dropped, kept
 * beats must carry their annotation's class and time, and every sample of
 * a kept beat must be in [0, 1].
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "beats.h"
#include "fuzz_util.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PREFIX 3
#define MAX_SAMPLES 4096
#define MAX_RESAMPLED 20000		/* keeps an input to a few milliseconds */
#define RAW_RECORD 5

/* integer and fractional rates; 99999.5 Hz cannot be resampled (too fine a ratio) */
static const double beats_fs[8] = {360, 250, 128, 1000, 125, 128.5, 1, 99999.5};
static const double beats_gain[4] = {200, 1, 0.001, -25};

/* Longest signal at fs: MAX_SAMPLES, and at most MAX_RESAMPLED at 125 Hz. */
static int64_t
max_samples(double fs)
{
	double		n = MAX_RESAMPLED * fs / BEAT_RATE_HZ;

	return n < MAX_SAMPLES ? (int64_t) n : MAX_SAMPLES;
}

static void
synthetic_signal(int shape, int32_t *adc, int64_t n, double fs)
{
	for (int64_t i = 0; i < n; i++)
	{
		double		t = (double) i / fs;

		switch (shape)
		{
			case 0:				/* ~75 beats a minute: a sharp peak on a slow wave */
				adc[i] = 1024 + (int32_t) (80 * sin(2 * 3.14159265358979 * 0.3 * t) +
										   400 * exp(-pow(fmod(t, 0.8) - 0.2, 2) / 0.0004));
				break;
			case 1:				/* flat: beats normalise to zeros */
				adc[i] = 7;
				break;
			case 2:				/* full-scale square wave */
				adc[i] = (i / 3) % 2 ? INT32_MAX : INT32_MIN;
				break;
			default:			/* ramp */
				adc[i] = (int32_t) (i * 1000 - 2000000);
				break;
		}
	}
}

/* Raw records -> annotations (malloc'ed; *n_ann of them). */
static wfdb_annotation *
raw_annotations(const uint8_t *p, size_t len, size_t *n_ann)
{
	size_t		n = len / RAW_RECORD;
	wfdb_annotation *ann = calloc(n > 0 ? n : 1, sizeof(wfdb_annotation));
	int64_t		time = 0;

	FUZZ_ASSERT(ann != NULL);
	for (size_t i = 0; i < n; i++, p += RAW_RECORD)
	{
		int32_t		v = (int32_t) ((uint32_t) p[1] | (uint32_t) p[2] << 8 |
								   (uint32_t) p[3] << 16 | (uint32_t) p[4] << 24);

		time = (p[0] & 0x80) ? v : time + v;
		ann[i].sample = time;
		ann[i].type = (p[0] & 0x7F) % (WFDB_ANN_ACMAX + 1);
		strcpy(ann[i].symbol, wfdb_annotation_symbol(ann[i].type));
		ann[i].aux = "";
	}
	*n_ann = n;
	return ann;
}

static void
check_beats(const beat_set *set, const wfdb_annotation *ann, size_t n_ann, int64_t n)
{
	int64_t		beats_in = 0,
				counted = 0,
				per_class = 0;
	size_t		next = 0;

	for (size_t i = 0; i < n_ann; i++)
		beats_in += aami_class_of_symbol(ann[i].symbol) >= 0;
	for (int r = 0; r < BEAT_DROP_N_REASONS; r++)
		counted += set->drop_counts[r];
	for (int c = 0; c < AAMI_N_CLASSES; c++)
		per_class += set->class_counts[c];
	FUZZ_ASSERT(counted + (int64_t) set->n_beats == beats_in);
	FUZZ_ASSERT(per_class == (int64_t) set->n_beats);
	FUZZ_ASSERT(set->n_beats == 0 || set->beats != NULL);
	for (size_t b = 0; b < set->n_beats; b++)
	{
		const beat *bt = &set->beats[b];

		/* kept beats come in annotation order: find the next matching one */
		while (next < n_ann && !(ann[next].sample == bt->sample &&
								 strcmp(ann[next].symbol, bt->symbol) == 0))
			next++;
		FUZZ_ASSERT(next < n_ann);
		next++;
		FUZZ_ASSERT(bt->sample >= 0 && bt->sample < n);
		FUZZ_ASSERT(bt->label == aami_class_of_symbol(bt->symbol));
		for (int i = 0; i < BEAT_LENGTH; i++)
			FUZZ_ASSERT(bt->signal[i] >= 0.0f && bt->signal[i] <= 1.0f);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	wfdb_signal_spec spec;
	double		fs;
	int64_t		n;
	int32_t    *adc;
	wfdb_annotation *ann = NULL;
	size_t		n_ann = 0;
	int			raw;
	beat_set	set;
	ecg_status	st;

	if (size < PREFIX)
		return 0;
	raw = data[0] & 1;
	fs = beats_fs[(data[0] >> 1) & 7];
	memset(&spec, 0, sizeof(spec));
	spec.gain = beats_gain[data[0] >> 6];
	spec.baseline = 1024;
	n = (int64_t) (data[1] | data[2] << 8) % (max_samples(fs) + 1);
	adc = malloc((size_t) (n > 0 ? n : 1) * sizeof(int32_t));
	FUZZ_ASSERT(adc != NULL);
	synthetic_signal((data[0] >> 4) & 3, adc, n, fs);

	ecg_status_clear(&st);
	if (raw)
		ann = raw_annotations(data + PREFIX, size - PREFIX, &n_ann);
	else if (wfdb_annotations_parse(data + PREFIX, size - PREFIX, &ann, &n_ann, &st) != 0)
	{
		free(adc);
		return 0;				/* fuzz_wfdb_annotations covers the parser */
	}

	if (beats_extract(adc, n, &spec, fs, ann, n_ann, &set, &st) == 0)
	{
		check_beats(&set, ann, n_ann, n);
		beat_set_release(&set);
	}
	else
	{
		FUZZ_EXPECT_FAILURE(&st);
		FUZZ_ASSERT(set.beats == NULL && set.n_beats == 0);
	}
	if (raw)
		free(ann);
	else
		wfdb_annotations_release(ann);
	free(adc);
	return 0;
}
