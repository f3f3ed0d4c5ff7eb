/* Unit tests for heartbeat extraction (src/core/beats.c) and the AAMI map. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "unit.h"
#include "aami.h"
#include "beats.h"
#include "resample.h"
#include "rng.h"
#include "wfdb.h"

#define MITDB_DEFAULT "/work/shared/data/mitdb"

static void
test_aami_map(void)
{
	const char *n = "NLRej",
			   *s = "AaJS",
			   *v = "VE",
			   *q = "/fQ";
	const char *not_beats[] = {"+", "~", "|", "\"", "x", "!", "[", "]", "p", "t", "u", "?", "B",
	"n", "r", "", "NN", NULL};

	for (const char *p = n; *p; p++)
		CHECK(aami_class_of_symbol((char[]) {*p, 0}) == AAMI_N);
	for (const char *p = s; *p; p++)
		CHECK(aami_class_of_symbol((char[]) {*p, 0}) == AAMI_S);
	for (const char *p = v; *p; p++)
		CHECK(aami_class_of_symbol((char[]) {*p, 0}) == AAMI_V);
	for (const char *p = q; *p; p++)
		CHECK(aami_class_of_symbol((char[]) {*p, 0}) == AAMI_Q);
	CHECK(aami_class_of_symbol("F") == AAMI_F);
	for (int i = 0; not_beats[i] != NULL; i++)
		CHECK_MSG(aami_class_of_symbol(not_beats[i]) == -1, "%s", not_beats[i]);
	CHECK(aami_class_of_symbol(NULL) == -1);
	CHECK(strcmp(aami_class_name(0), "N") == 0 && strcmp(aami_class_name(4), "Q") == 0);
	CHECK(strcmp(aami_class_name(2), "V") == 0 && strcmp(aami_class_name(5), "?") == 0);
}

static wfdb_annotation
ann_at(int64_t sample, const char *symbol)
{
	wfdb_annotation a;

	memset(&a, 0, sizeof(a));
	a.sample = sample;
	snprintf(a.symbol, sizeof(a.symbol), "%s", symbol);
	a.type = wfdb_annotation_code(symbol);
	a.aux = "";
	return a;
}

static wfdb_signal_spec
spec_with(double gain, int32_t baseline)
{
	wfdb_signal_spec s;

	memset(&s, 0, sizeof(s));
	s.format = 212;
	s.gain = gain;
	s.baseline = baseline;
	return s;
}

/* Checks beat b against the rule: len samples from r, normalised by the
 * range of window [w0, w1) and of the beat's own samples, then zeros. */
static void
check_beat_values(const beat *b, const float *x, int64_t n, int64_t r, int64_t len,
				  int64_t w0, int64_t w1)
{
	int64_t		end = r + len < n ? r + len : n;
	double		lo = 1e300,
				hi = -1e300;

	for (int64_t i = w0; i < w1; i++)
	{
		lo = x[i] < lo ? x[i] : lo;
		hi = x[i] > hi ? x[i] : hi;
	}
	for (int64_t i = r; i < end; i++)
	{
		lo = x[i] < lo ? x[i] : lo;
		hi = x[i] > hi ? x[i] : hi;
	}
	for (int64_t k = 0; k < BEAT_LENGTH; k++)
	{
		double		want = r + k < end ? (x[r + k] - lo) / (hi - lo) : 0.0;

		CHECK_MSG(fabs(b->signal[k] - want) < 1e-6, "beat at %lld sample %lld: %g, expected %g",
				  (long long) r, (long long) k, b->signal[k], want);
	}
}

/*
 * At 125 Hz the resampling is the identity, so windows, R-R intervals,
 * lengths and normalisation can be checked exactly.
 */
static void
test_segmentation_rules_at_125hz(void)
{
	int64_t		n = 3000;
	int32_t    *adc = ecg_alloc_array((size_t) n, sizeof(int32_t));
	float	   *x = ecg_alloc_array((size_t) n, sizeof(float));
	wfdb_signal_spec spec = spec_with(100, 7);
	rng_state	rng;
	beat_set	set;
	ecg_status	st;
	wfdb_annotation ann[] = {
		ann_at(-5, "N"),		/* dropped: before start */
		/* window 0: R-R 100, 120, 100, 100, 100 -> T = 100, 120 samples */
		ann_at(100, "N"), ann_at(200, "L"), ann_at(320, "R"), ann_at(420, "N"),
		ann_at(520, "e"), ann_at(620, "N"),
		/* window 1: one beat -> T = record median */
		ann_at(1300, "V"), ann_at(1400, "+"),
		/* window 2: R-R 350 -> 420 samples, capped at 187; the last runs off the end */
		ann_at(2600, "N"), ann_at(2950, "A"),
		ann_at(3000, "N"),		/* dropped: after end */
	};
	/* record R-R: 100 120 100 100 100 680 1300 350 -> median (100 + 120) / 2 */
	const int64_t record_len = 132;		/* round(1.2 * 110) */
	const int64_t expected_len[9] = {120, 120, 120, 120, 120, 120, record_len, 187, 187};
	const int64_t expected_r[9] = {100, 200, 320, 420, 520, 620, 1300, 2600, 2950};

	rng_seed(&rng, 4);
	for (int64_t i = 0; i < n; i++)
	{
		adc[i] = (int32_t) rng_below(&rng, 2000) - 1000;
		x[i] = (float) ((adc[i] - 7.0) / 100.0);
	}
	CHECK(beats_extract(adc, n, &spec, 125.0, ann, sizeof(ann) / sizeof(ann[0]), &set, &st) == 0);
	CHECK(set.n_resampled == n);
	CHECK(set.n_beats == 9);
	CHECK(set.class_counts[AAMI_N] == 7 && set.class_counts[AAMI_V] == 1);
	CHECK(set.class_counts[AAMI_S] == 1 && set.class_counts[AAMI_F] == 0 && set.class_counts[AAMI_Q] == 0);
	CHECK(set.drop_counts[BEAT_DROP_BEFORE_START] == 1);
	CHECK(set.drop_counts[BEAT_DROP_AFTER_END] == 1);
	for (size_t i = 0; i < set.n_beats && i < 9; i++)
	{
		int64_t		w0 = expected_r[i] / BEAT_WINDOW * BEAT_WINDOW;
		int64_t		w1 = w0 + BEAT_WINDOW < n ? w0 + BEAT_WINDOW : n;

		CHECK(set.beats[i].sample == expected_r[i]);
		CHECK(set.beats[i].label == aami_class_of_symbol(set.beats[i].symbol));
		check_beat_values(&set.beats[i], x, n, expected_r[i], expected_len[i], w0, w1);
	}
	CHECK(strcmp(set.beats[1].symbol, "L") == 0 && strcmp(set.beats[8].symbol, "A") == 0);
	beat_set_release(&set);
	CHECK(set.beats == NULL);
	ecg_free(adc);
	ecg_free(x);
}

/* A beat reaching into the next window is scaled by its own samples too, so
 * a spike there maps to exactly 1 and nothing exceeds [0, 1]. */
static void
test_normalisation_covers_the_beat(void)
{
	int64_t		n = 2500;
	int32_t    *adc = ecg_calloc_array((size_t) n, sizeof(int32_t));
	wfdb_signal_spec spec = spec_with(200, 0);
	wfdb_annotation ann[] = {ann_at(1240, "N")};
	beat_set	set;
	ecg_status	st;
	float		hi = 0;

	for (int64_t i = 0; i < n; i++)
		adc[i] = (int32_t) (i % 50);	/* small sawtooth */
	adc[1300] = 5000;			/* spike in window 1, inside the beat */
	CHECK(beats_extract(adc, n, &spec, 125.0, ann, 1, &set, &st) == 0);
	CHECK(set.n_beats == 1);
	for (int k = 0; k < BEAT_LENGTH; k++)
	{
		CHECK(set.beats[0].signal[k] >= 0.0f && set.beats[0].signal[k] <= 1.0f);
		hi = set.beats[0].signal[k] > hi ? set.beats[0].signal[k] : hi;
	}
	CHECK(set.beats[0].signal[60] == 1.0f);	/* 1300 - 1240 */
	CHECK(hi == 1.0f);
	/* a single beat: T = 187 / 1.2, so all 187 samples are signal */
	CHECK(set.beats[0].signal[186] > 0.0f);
	beat_set_release(&set);

	/* a flat signal gives zeros */
	for (int64_t i = 0; i < n; i++)
		adc[i] = 33;
	CHECK(beats_extract(adc, n, &spec, 125.0, ann, 1, &set, &st) == 0);
	for (int k = 0; k < BEAT_LENGTH; k++)
		CHECK(set.beats[0].signal[k] == 0.0f);
	beat_set_release(&set);
	ecg_free(adc);
}

/* At 360 Hz the beat is cut from the resampled signal at round(s*125/360). */
static void
test_resampled_positions_at_360hz(void)
{
	int64_t		n = 7200,
				m;
	int32_t    *adc = ecg_alloc_array((size_t) n, sizeof(int32_t));
	float	   *phys = ecg_alloc_array((size_t) n, sizeof(float));
	float	   *x;
	wfdb_signal_spec spec = spec_with(200, 1024);
	wfdb_annotation ann[6];
	beat_set	set;
	ecg_status	st;
	const int64_t samples[6] = {400, 700, 1000, 1290, 1600, 7199};

	for (int64_t i = 0; i < n; i++)
	{
		adc[i] = 1024 + (int32_t) (300 * sin(i * 0.02) + 100 * sin(i * 0.3));
		phys[i] = (float) ((adc[i] - 1024) / 200.0);
	}
	for (int i = 0; i < 6; i++)
		ann[i] = ann_at(samples[i], i == 3 ? "F" : "N");
	CHECK(resample_poly(phys, n, 125, 360, &x, &m, &st) == 0);
	CHECK(beats_extract(adc, n, &spec, 360.0, ann, 6, &set, &st) == 0);
	CHECK(set.n_resampled == m && m == 2500);
	/* 7199 -> round(2499.65) = 2500: past the 2500 resampled samples */
	CHECK(set.n_beats == 5 && set.drop_counts[BEAT_DROP_AFTER_END] == 1);
	CHECK(set.class_counts[AAMI_F] == 1 && set.class_counts[AAMI_N] == 4);
	{
		/* R at 125 Hz: 139 (138.9), 243 (243.06), 347 (347.2), 448 (447.9), 556 (555.6);
		 * window 0 R-R 104 104 101 108 -> median 104 -> round(124.8) = 125 */
		const int64_t r[5] = {139, 243, 347, 448, 556};

		for (int i = 0; i < 5 && (size_t) i < set.n_beats; i++)
		{
			CHECK(set.beats[i].sample == samples[i]);
			check_beat_values(&set.beats[i], x, m, r[i], 125, 0, 1250);
		}
	}
	beat_set_release(&set);
	ecg_free(x);
	ecg_free(adc);
	ecg_free(phys);
}

/* The marks path on physical units gives the ADC path's beats bit for bit,
 * and cuts unlabelled marks (label -1) too. */
static void
test_marks_match_annotations(void)
{
	int64_t		n = 7200;
	int32_t    *adc = ecg_alloc_array((size_t) n, sizeof(int32_t));
	float	   *phys;
	wfdb_signal_spec spec = spec_with(200, 1024);
	wfdb_annotation ann[7];
	beat_mark	marks[7];
	beat_set	a,
				b;
	ecg_status	st;
	const int64_t samples[7] = {400, 550, 700, 1000, 1290, 1600, 7199};
	size_t		n_marks;

	for (int64_t i = 0; i < n; i++)
		adc[i] = 1024 + (int32_t) (300 * sin(i * 0.02) + 100 * sin(i * 0.3));
	for (int i = 0; i < 7; i++)
		ann[i] = ann_at(samples[i], i == 1 ? "+" : i == 3 ? "V" : "N");
	CHECK(beats_extract(adc, n, &spec, 360.0, ann, 7, &a, &st) == 0);
	CHECK(beats_physical_units(adc, n, &spec, &phys, &st) == 0);
	n_marks = beats_marks_from_annotations(ann, 7, marks);
	CHECK(n_marks == 6);		/* "+" is not a beat */
	CHECK(beats_extract_marks(phys, n, 360.0, marks, n_marks, &b, &st) == 0);
	CHECK(a.n_beats == b.n_beats && a.n_beats == 5);
	for (size_t i = 0; i < a.n_beats && i < b.n_beats; i++)
	{
		CHECK(a.beats[i].sample == b.beats[i].sample && a.beats[i].label == b.beats[i].label);
		CHECK(strcmp(a.beats[i].symbol, b.beats[i].symbol) == 0);
		CHECK(memcmp(a.beats[i].signal, b.beats[i].signal, sizeof(a.beats[i].signal)) == 0);
		CHECK(memcmp(a.beats[i].rr, b.beats[i].rr, sizeof(a.beats[i].rr)) == 0);
	}
	/* R-R features over all six beat marks, the dropped one at 7199 included
	 * ("+" is not a beat): intervals 300, 300, 290, 310, 5599 samples */
	CHECK(isnan(a.beats[0].rr[RR_PRE]) && isnan(a.beats[0].rr[RR_PRE_LOCAL]));
	CHECK_CLOSE(a.beats[0].rr[RR_POST], 300.0 / 360, 1e-6);
	CHECK_CLOSE(a.beats[3].rr[RR_PRE], 290.0 / 360, 1e-6);
	CHECK_CLOSE(a.beats[4].rr[RR_POST], 5599.0 / 360, 1e-6);
	CHECK_CLOSE(a.beats[2].rr[RR_RECORD], 6799.0 / 5 / 360, 1e-6);
	CHECK_CLOSE(a.beats[2].rr[RR_LOCAL], 6799.0 / 5 / 360, 1e-6);
	CHECK_CLOSE(a.beats[2].rr[RR_PRE_RECORD], 300.0 / (6799.0 / 5), 1e-6);
	beat_set_release(&b);

	/* the same positions unlabelled: same signals, label -1, counted apart */
	for (size_t i = 0; i < n_marks; i++)
	{
		marks[i].label = -1;
		marks[i].symbol[0] = '\0';
	}
	CHECK(beats_extract_marks(phys, n, 360.0, marks, n_marks, &b, &st) == 0);
	CHECK(b.n_beats == 5 && b.n_unlabelled == 5 && b.class_counts[AAMI_N] == 0);
	for (size_t i = 0; i < a.n_beats && i < b.n_beats; i++)
	{
		CHECK(b.beats[i].label == -1 && b.beats[i].sample == a.beats[i].sample);
		CHECK(memcmp(b.beats[i].signal, a.beats[i].signal, sizeof(a.beats[i].signal)) == 0);
	}
	CHECK(beats_extract_marks(phys, n, 0.0, marks, n_marks, &b, &st) == -1 && st.kind == ECG_ERR_ARGUMENT);
	CHECK(beats_extract_marks(NULL, 10, 360.0, marks, n_marks, &b, &st) == -1 && st.kind == ECG_ERR_ARGUMENT);
	beat_set_release(&a);
	ecg_free(phys);
	ecg_free(adc);
}

static void
test_argument_errors_and_fractional_rate(void)
{
	int32_t		adc[1000] = {0};
	wfdb_signal_spec spec = spec_with(200, 0);
	wfdb_annotation ann[] = {ann_at(10, "N"), ann_at(300, "N")};
	beat_set	set;
	ecg_status	st;

	CHECK(beats_extract(adc, 1000, &spec, 0.0, ann, 2, &set, &st) == -1 && st.kind == ECG_ERR_ARGUMENT);
	CHECK(beats_extract(adc, 1000, &spec, NAN, ann, 2, &set, &st) == -1 && st.kind == ECG_ERR_ARGUMENT);
	CHECK(beats_extract(adc, -1, &spec, 360, ann, 2, &set, &st) == -1 && st.kind == ECG_ERR_ARGUMENT);
	spec.gain = 0;
	CHECK(beats_extract(adc, 1000, &spec, 360, ann, 2, &set, &st) == -1 && st.kind == ECG_ERR_ARGUMENT);
	spec.gain = 200;
	/* 128.5 Hz: ratio 250/257 */
	CHECK(beats_extract(adc, 1000, &spec, 128.5, ann, 2, &set, &st) == 0);
	CHECK(set.n_resampled == resample_output_length(1000, 250, 257) && set.n_beats == 2);
	beat_set_release(&set);
	/* no annotations, no signal */
	CHECK(beats_extract(adc, 0, &spec, 360, NULL, 0, &set, &st) == 0 && set.n_beats == 0);
	beat_set_release(&set);
}

/* The record pipeline on an in-memory record encoded in format 212 gives the
 * same beats as extraction from the original ADC values. */
static void
test_record_round_trip(void)
{
	int64_t		n = 5400;
	int32_t    *stream = ecg_alloc_array((size_t) (2 * n), sizeof(int32_t));
	int32_t    *lead1 = ecg_alloc_array((size_t) n, sizeof(int32_t));
	wfdb_annotation ann[40];
	size_t		n_ann = 0;
	uint8_t    *dat,
			   *atr;
	size_t		dat_len,
				atr_len;
	wfdb_header h;
	ecg_status	st;
	beat_set	a,
				b;
	rng_state	rng;
	const char *text = "rt 2 360 5400\nrt.dat 212 200 11 1024 0 0 0 V1\nrt.dat 212 150(1000)/mV 11 1024 0 0 0 MLII\n";

	rng_seed(&rng, 21);
	for (int64_t i = 0; i < n; i++)
	{
		stream[2 * i] = 1024 + (int32_t) rng_below(&rng, 100);
		stream[2 * i + 1] = lead1[i] = 1000 + (int32_t) (400 * sin(i * 0.05)) + (int32_t) rng_below(&rng, 30);
	}
	for (int64_t s = 150; s < n && n_ann < 39; s += 290 + (int64_t) rng_below(&rng, 40))
		ann[n_ann++] = ann_at(s, "NVAF/+"[rng_below(&rng, 6)] == '+' ? "+" :
							  (char[]) {"NVAF/"[rng_below(&rng, 5)], 0});
	ann[n_ann++] = ann_at(n + 10, "N");	/* after the end */
	CHECK(wfdb_samples_encode(212, stream, (size_t) (2 * n), &dat, &dat_len, &st) == 0);
	CHECK(wfdb_annotations_encode(ann, n_ann, &atr, &atr_len, &st) == 0);
	CHECK(wfdb_header_parse(text, strlen(text), &h, &st) == 0);
	/* make the header's checksums right */
	for (int s = 0; s < 2; s++)
	{
		uint32_t	sum = 0;

		for (int64_t i = 0; i < n; i++)
			sum += (uint32_t) stream[2 * i + s];
		h.signals[s].checksum = (int) (int16_t) (uint16_t) (sum & 0xFFFF);
	}
	CHECK(wfdb_header_find_signal(&h, "MLII") == 1);
	CHECK(beats_extract_record(&h, 1, dat, dat_len, atr, atr_len, &a, &st) == 0);
	CHECK(beats_extract(lead1, n, &h.signals[1], 360.0, ann, n_ann, &b, &st) == 0);
	CHECK(a.n_beats == b.n_beats && a.n_beats > 10);
	CHECK(a.drop_counts[BEAT_DROP_AFTER_END] == b.drop_counts[BEAT_DROP_AFTER_END]);
	CHECK(a.drop_counts[BEAT_DROP_AFTER_END] >= 1);
	for (size_t i = 0; i < a.n_beats && i < b.n_beats; i++)
	{
		CHECK(a.beats[i].sample == b.beats[i].sample && a.beats[i].label == b.beats[i].label);
		CHECK(memcmp(a.beats[i].signal, b.beats[i].signal, sizeof(a.beats[i].signal)) == 0);
	}
	beat_set_release(&a);
	beat_set_release(&b);

	/* errors carry the record name */
	atr[0] = 0x05;
	atr[1] = 55 << 2;
	CHECK(beats_extract_record(&h, 1, dat, dat_len, atr, atr_len, &a, &st) == -1);
	CHECK(st.kind == ECG_ERR_FORMAT && strncmp(st.message, "record \"rt\": ", 13) == 0);
	CHECK(strstr(st.detail, "byte offset 0") != NULL);
	CHECK(beats_extract_record(&h, 1, dat, dat_len - 3, atr, atr_len, &a, &st) == -1);
	CHECK(st.kind == ECG_ERR_DATA && strstr(st.message, "\"rt\"") != NULL);

	wfdb_header_release(&h);
	ecg_free(dat);
	ecg_free(atr);
	ecg_free(stream);
	ecg_free(lead1);
}

/* Real MIT-BIH records, when present ------------------------------------- */

static void
test_mitdb_records(void)
{
	const char *env = getenv("ECGDL_MITDB");
	const char *dir = env && *env ? env : MITDB_DEFAULT;
	/* per-record AAMI counts of the database's reference annotations */
	const struct
	{
		const char *name;
		int64_t		counts[AAMI_N_CLASSES];
	}			records[] = {
		{"100", {2239, 33, 1, 0, 0}},
		{"208", {1586, 2, 992, 373, 2}},
	};
	size_t		probe_len;
	uint8_t    *probe = unit_read_file(dir, "100.hea", &probe_len);

	if (probe == NULL)
	{
		printf("# skipped test_mitdb_records: MIT-BIH not found at %s (set ECGDL_MITDB)\n", dir);
		return;
	}
	free(probe);
	for (size_t r = 0; r < 2; r++)
	{
		char		file[64];
		size_t		hl = 0,
					dl = 0,
					al = 0;
		uint8_t    *hea,
				   *dat,
				   *atr;
		wfdb_header h;
		ecg_status	st;
		beat_set	set;
		int			sig;

		snprintf(file, sizeof(file), "%s.hea", records[r].name);
		hea = unit_read_file(dir, file, &hl);
		snprintf(file, sizeof(file), "%s.dat", records[r].name);
		dat = unit_read_file(dir, file, &dl);
		snprintf(file, sizeof(file), "%s.atr", records[r].name);
		atr = unit_read_file(dir, file, &al);
		CHECK(hea && dat && atr);
		if (!(hea && dat && atr))
			continue;
		CHECK(wfdb_header_parse((const char *) hea, hl, &h, &st) == 0);
		sig = wfdb_header_find_signal(&h, "MLII");
		CHECK(sig == 0);
		CHECK_MSG(beats_extract_record(&h, sig, dat, dl, atr, al, &set, &st) == 0, "%s", st.message);
		for (int c = 0; c < AAMI_N_CLASSES; c++)
			CHECK_MSG(set.class_counts[c] == records[r].counts[c], "record %s class %s: %lld",
					  records[r].name, aami_class_name(c), (long long) set.class_counts[c]);
		CHECK(set.n_resampled == 225695);
		for (size_t i = 0; i < set.n_beats; i++)
			for (int k = 0; k < BEAT_LENGTH; k++)
				if (!(set.beats[i].signal[k] >= 0.0f && set.beats[i].signal[k] <= 1.0f))
				{
					CHECK_MSG(0, "beat %zu sample %d = %g", i, k, set.beats[i].signal[k]);
					i = set.n_beats - 1;
					break;
				}
		beat_set_release(&set);
		wfdb_header_release(&h);
		free(hea);
		free(dat);
		free(atr);
	}
}

int
main(void)
{
	RUN_TEST(test_aami_map);
	RUN_TEST(test_segmentation_rules_at_125hz);
	RUN_TEST(test_normalisation_covers_the_beat);
	RUN_TEST(test_resampled_positions_at_360hz);
	RUN_TEST(test_marks_match_annotations);
	RUN_TEST(test_argument_errors_and_fractional_rate);
	RUN_TEST(test_record_round_trip);
	RUN_TEST(test_mitdb_records);
	UNIT_EXIT();
}
