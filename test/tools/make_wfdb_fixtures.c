/*
 * make_wfdb_fixtures - writes the small synthetic WFDB records used by the SQL
 * regression suite.
 *
 *   make_wfdb_fixtures DIR
 *
 * Output is deterministic (fixed seed, no clock): running it twice gives the
 * same bytes.  Every signal is a synthetic ECG-like waveform (P, QRS and T
 * bumps per beat, slow baseline wander, a little Gaussian noise); ventricular
 * beats are wider and taller, premature beats come early and are followed by
 * a compensatory pause.  Files written (about 200 KB in all):
 *
 * Good records (listed in DIR/RECORDS):
 *   syn1   syn1.hea, syn1.dat, syn1.atr - format 212, 2 signals "MLII" and
 *          "V1", 360 Hz, 60 s (21600 samples), gain 200, baseline 1024.
 *          Annotations: 72 beats plus 10 non-beat annotations ("+" rhythm
 *          changes with AUX text "(N" / "(B", "~" noise with subtype 2, "|"
 *          artifact on channel 1, '"' note with AUX text, "x" non-conducted P,
 *          "!" flutter wave), one beat with NUM 3, one 3.3 s pause (coded with
 *          a SKIP word), and one "N" beat annotated after the end of the
 *          signal (sample 21700).
 *          Expected beats (lead MLII): N 57, S 6, V 4, F 1, Q 4 = 72 kept,
 *          1 dropped ("after end").
 *   syn16  syn16.hea, syn16.dat, syn16.atr - format 16, 2 signals "MLII"
 *          and "V5", 250 Hz, 30 s (7500 samples), gain written "100(0)/mV",
 *          base time and date in the record line.
 *          Expected beats (lead MLII): N 32, S 1, V 2, F 0, Q 0 = 35.
 *   synv5  synv5.hea, synv5.dat, synv5.atr - format 212, signals "V5" and
 *          "V2" (no MLII: the first signal is used), 360 Hz written "360/1",
 *          20 s (7200 samples).
 *          Expected beats (lead V5): N 21, S 0, V 2, F 0, Q 1 = 24.
 *   Total over RECORDS: N 110, S 7, V 8, F 1, Q 5 = 131 (1 dropped).
 *
 * Bad records (not in RECORDS), each holding the first 10 s of syn1 (3600
 * samples per signal, format 212, same leads) unless said otherwise:
 *   bad_trunc     .dat cut to 5001 bytes (header still says 3600 samples)
 *                 -> ECG_ERR_DATA "too short" (holds 1667 samples per signal).
 *   bad_count     header says 5000 samples, the .dat holds 3600
 *                 -> ECG_ERR_DATA "too short".
 *   bad_checksum  checksum field of signal 0 off by one -> ECG_ERR_DATA.
 *   bad_format    signal format 999 -> ECG_ERR_UNSUPPORTED.
 *   bad_atr       valid .hea/.dat, garbage .atr (a reserved code 55 word at
 *                 byte offset 4) -> ECG_ERR_FORMAT.
 *   bad_auxtrunc  valid .hea/.dat, .atr whose last AUX text is cut short
 *                 -> ECG_ERR_FORMAT.
 *   noatr         valid .hea/.dat, no .atr file at all.
 *   bad_multiseg  multi-segment header "bad_multiseg/2 ..." (no .dat)
 *                 -> ECG_ERR_UNSUPPORTED.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ecg_core.h"
#include "rng.h"
#include "wfdb.h"

#define FIXTURE_PI 3.14159265358979323846
#define MAX_ANN 256

typedef struct record_spec
{
	const char *name;
	double		fs;
	int64_t		n_samples;
	const char *beats;			/* beat symbols in order */
	double		rr_seconds;		/* normal R-R interval */
	int			pause_after;	/* index of the beat followed by a long pause, -1 none */
	double		pause_seconds;
} record_spec;

typedef struct fixture
{
	wfdb_annotation ann[MAX_ANN];
	size_t		n_ann;
	double		lead[2][200000];	/* physical values (mV) of two leads */
} fixture;

static fixture fx;

static int
is_premature(char c)
{
	return strchr("AaJSVEF", c) != NULL;
}

static int
is_ventricular(char c)
{
	return c == 'V' || c == 'E' || c == 'F';
}

static void
add_annotation(int64_t sample, const char *symbol, int subtype, int chan, int num,
			   const char *aux)
{
	wfdb_annotation *a = &fx.ann[fx.n_ann++];

	memset(a, 0, sizeof(*a));
	a->sample = sample;
	a->type = wfdb_annotation_code(symbol);
	snprintf(a->symbol, sizeof(a->symbol), "%s", symbol);
	a->subtype = subtype;
	a->chan = chan;
	a->num = num;
	a->aux = aux;
	if (a->type < 0)
	{
		fprintf(stderr, "unknown symbol %s\n", symbol);
		exit(1);
	}
}

static double
bump(double t, double centre, double width, double amp)
{
	double		z = (t - centre) / width;

	return amp * exp(-0.5 * z * z);
}

/* Adds one beat's P-QRS-T to both leads around sample r. */
static void
draw_beat(const record_spec *rs, int64_t r, char symbol)
{
	double		wide = is_ventricular(symbol) ? 3.0 : 1.0;
	double		r_amp = is_ventricular(symbol) ? 1.6 : (symbol == '/' ? 1.2 : 1.0);
	int64_t		from = r - (int64_t) (0.4 * rs->fs),
				to = r + (int64_t) (0.6 * rs->fs);

	for (int64_t i = from < 0 ? 0 : from; i < to && i < rs->n_samples; i++)
	{
		double		t = (double) (i - r) / rs->fs;
		double		v = 0;

		if (!is_ventricular(symbol))
			v += bump(t, -0.16, 0.025, 0.15);	/* P wave */
		if (symbol == '/')
			v += bump(t, -0.05, 0.003, 0.8);	/* pacemaker spike */
		v += bump(t, -0.025 * wide, 0.008 * wide, -0.12);	/* Q */
		v += bump(t, 0.0, 0.012 * wide, r_amp); /* R */
		v += bump(t, 0.03 * wide, 0.01 * wide, -0.25);	/* S */
		v += bump(t, 0.25 + 0.03 * wide, 0.05, is_ventricular(symbol) ? -0.4 : 0.3);	/* T */
		fx.lead[0][i] += v;
		fx.lead[1][i] += -0.6 * v + 0.2 * bump(t, 0.0, 0.02, 0.5);
	}
}

/* Lays out the beats and their annotations; returns the number of beats. */
static int
build_waveform(const record_spec *rs, rng_state *rng)
{
	int64_t		r = (int64_t) (0.3 * rs->fs);
	int			n_beats = (int) strlen(rs->beats);
	int64_t		rr = (int64_t) (rs->rr_seconds * rs->fs);

	memset(&fx, 0, sizeof(fx));
	for (int64_t i = 0; i < rs->n_samples; i++)
	{
		double		t = (double) i / rs->fs;
		double		wander = 0.08 * sin(2 * FIXTURE_PI * 0.3 * t);

		fx.lead[0][i] = wander + 0.01 * rng_normal(rng);
		fx.lead[1][i] = -0.5 * wander + 0.01 * rng_normal(rng);
	}
	for (int b = 0; b < n_beats; b++)
	{
		char		sym[2] = {rs->beats[b], '\0'};

		draw_beat(rs, r, rs->beats[b]);
		add_annotation(r, sym, 0, 0, 0, NULL);
		if (b + 1 < n_beats && is_premature(rs->beats[b + 1]))
			r += rr * 3 / 4;
		else if (is_premature(rs->beats[b]))
			r += rr * 5 / 4;
		else
			r += rr;
		if (b == rs->pause_after)
			r += (int64_t) (rs->pause_seconds * rs->fs) - rr;
	}
	return n_beats;
}

static int
compare_annotations(const void *a, const void *b)
{
	const wfdb_annotation *x = a,
			   *y = b;

	return (x->sample > y->sample) - (x->sample < y->sample);
}

static void
write_bytes(const char *dir, const char *file, const void *data, size_t len)
{
	char		path[4096];
	FILE	   *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "wb");
	if (f == NULL || (len > 0 && fwrite(data, 1, len, f) != len) || fclose(f) != 0)
	{
		fprintf(stderr, "cannot write %s\n", path);
		exit(1);
	}
}

static void
write_text(const char *dir, const char *file, const char *text)
{
	write_bytes(dir, file, text, strlen(text));
}

static void
die_status(const char *what, const ecg_status *st)
{
	fprintf(stderr, "%s: %s (%s)\n", what, st->message, st->detail);
	exit(1);
}

/* ADC values of both leads, frame-interleaved, and each lead's checksum. */
static int32_t *
quantise(const record_spec *rs, double gain, int32_t baseline, int checksum[2])
{
	int32_t    *stream = malloc(sizeof(int32_t) * 2 * (size_t) rs->n_samples);
	uint32_t	sums[2] = {0, 0};

	for (int64_t i = 0; i < rs->n_samples; i++)
		for (int s = 0; s < 2; s++)
		{
			int32_t		v = (int32_t) lround(fx.lead[s][i] * gain) + baseline;

			stream[2 * i + s] = v;
			sums[s] += (uint32_t) v;
		}
	for (int s = 0; s < 2; s++)
		checksum[s] = (int) (int16_t) (uint16_t) (sums[s] & 0xFFFF);
	return stream;
}

static void
write_annotations(const char *dir, const char *file)
{
	uint8_t    *bytes;
	size_t		len;
	ecg_status	st;

	qsort(fx.ann, fx.n_ann, sizeof(wfdb_annotation), compare_annotations);
	if (wfdb_annotations_encode(fx.ann, fx.n_ann, &bytes, &len, &st) != 0)
		die_status(file, &st);
	write_bytes(dir, file, bytes, len);
	ecg_free(bytes);
}

static void
write_signal_file(const char *dir, const char *file, int format, const int32_t *stream,
				  size_t n, size_t keep_bytes)
{
	uint8_t    *bytes;
	size_t		len;
	ecg_status	st;

	if (wfdb_samples_encode(format, stream, n, &bytes, &len, &st) != 0)
		die_status(file, &st);
	write_bytes(dir, file, bytes, keep_bytes && keep_bytes < len ? keep_bytes : len);
	ecg_free(bytes);
}

#define BAD_FRAMES 3600

/* A bad record: BAD_FRAMES frames of `stream` in format 212 (cut to
 * keep_bytes when non-zero), a header declaring `declared` samples in
 * `format` with the given checksums, and (except for the records whose .atr
 * is bad or missing) the current annotations up to BAD_FRAMES. */
static void
write_bad_record(const char *dir, const char *name, const int32_t *stream, size_t keep_bytes,
				 int declared, int format, int cks0, int cks1)
{
	char		file[64];
	char		hea[512];

	snprintf(file, sizeof(file), "%s.dat", name);
	write_signal_file(dir, file, 212, stream, 2 * BAD_FRAMES, keep_bytes);
	snprintf(hea, sizeof(hea),
			 "%s 2 360 %d\n"
			 "%s.dat %d 200 11 1024 %d %d 0 MLII\n"
			 "%s.dat %d 200 11 1024 %d %d 0 V1\n",
			 name, declared, name, format, stream[0], cks0, name, format, stream[1], cks1);
	snprintf(file, sizeof(file), "%s.hea", name);
	write_text(dir, file, hea);
	if (strcmp(name, "bad_atr") != 0 && strcmp(name, "bad_auxtrunc") != 0 &&
		strcmp(name, "noatr") != 0)
	{
		wfdb_annotation kept[MAX_ANN];
		size_t		n = 0;
		uint8_t    *bytes;
		size_t		len;
		ecg_status	st;

		for (size_t i = 0; i < fx.n_ann; i++)
			if (fx.ann[i].sample < BAD_FRAMES)
				kept[n++] = fx.ann[i];
		if (wfdb_annotations_encode(kept, n, &bytes, &len, &st) != 0)
			die_status(name, &st);
		snprintf(file, sizeof(file), "%s.atr", name);
		write_bytes(dir, file, bytes, len);
		ecg_free(bytes);
	}
}

/* syn1 and the bad records derived from it */
static void
make_syn1(const char *dir)
{
	static const record_spec rs = {
		"syn1", 360, 21600,
		"NNNNANNVNNNNFNNNN/NN/NNLLLLNNRRNNaNNJNNSNNeNNjNNENNQNNfNNNVVNNNNNNNAANNN",
		0.8, 40, 3.3
	};
	rng_state	rng;
	int			cks[2];
	int32_t    *stream;
	char		hea[1024];
	size_t		n_beats;

	rng_seed(&rng, 1);
	n_beats = (size_t) build_waveform(&rs, &rng);
	(void) n_beats;
	fx.ann[10].num = 3;			/* one beat carries a NUM */
	add_annotation(10, "+", 0, 0, 0, "(N");
	add_annotation(4000, "~", 2, 0, 0, NULL);
	add_annotation(6000, "|", 0, 1, 0, NULL);
	add_annotation(8000, "\"", 0, 0, 0, "synthetic note");
	add_annotation(9000, "x", 0, 0, 0, NULL);
	add_annotation(12000, "+", 0, 0, 0, "(B");
	add_annotation(12500, "!", 0, 0, 0, NULL);
	add_annotation(15000, "+", 0, 0, 0, "(N");
	add_annotation(18000, "~", 0, 0, 0, NULL);
	add_annotation(21000, "|", 0, 0, 0, NULL);
	add_annotation(21700, "N", 0, 0, 0, NULL);	/* after the end: dropped */
	stream = quantise(&rs, 200, 1024, cks);

	write_signal_file(dir, "syn1.dat", 212, stream, 2 * 21600, 0);
	write_annotations(dir, "syn1.atr");
	snprintf(hea, sizeof(hea),
			 "syn1 2 360 21600\n"
			 "syn1.dat 212 200 11 1024 %d %d 0 MLII\n"
			 "syn1.dat 212 200 11 1024 %d %d 0 V1\n"
			 "# synthetic record written by make_wfdb_fixtures\n",
			 stream[0], cks[0], stream[1], cks[1]);
	write_text(dir, "syn1.hea", hea);

	/* bad records: the first BAD_FRAMES frames of syn1 */
	{
		uint32_t	sums[2] = {0, 0};

		for (size_t i = 0; i < 2 * BAD_FRAMES; i++)
			sums[i % 2] += (uint32_t) stream[i];
		for (int s = 0; s < 2; s++)
			cks[s] = (int) (int16_t) (uint16_t) (sums[s] & 0xFFFF);
	}
	write_bad_record(dir, "bad_trunc", stream, 5001, BAD_FRAMES, 212, cks[0], cks[1]);
	write_bad_record(dir, "bad_count", stream, 0, 5000, 212, cks[0], cks[1]);
	write_bad_record(dir, "bad_checksum", stream, 0, BAD_FRAMES, 212,
					 (int) (int16_t) (uint16_t) ((cks[0] + 1) & 0xFFFF), cks[1]);
	write_bad_record(dir, "bad_format", stream, 0, BAD_FRAMES, 999, 0, 0);
	write_bad_record(dir, "bad_atr", stream, 0, BAD_FRAMES, 212, cks[0], cks[1]);
	write_bad_record(dir, "bad_auxtrunc", stream, 0, BAD_FRAMES, 212, cks[0], cks[1]);
	write_bad_record(dir, "noatr", stream, 0, BAD_FRAMES, 212, cks[0], cks[1]);
	{
		/* N at 100, N at 200, a word with reserved code 55 at offset 4 */
		static const uint8_t garbage[] = {
			100, 1 << 2, 100, 1 << 2, 0x05, 55 << 2, 100, 1 << 2, 0, 0
		};
		uint8_t		aux_cut[] = {
			100, 1 << 2,		/* N at 100 */
			7, 63 << 2,			/* AUX of 7 bytes (8 padded) ... */
			'(', 'N', 'O', 'D'	/* ... of which only 4 follow */
		};

		write_bytes(dir, "bad_atr.atr", garbage, sizeof(garbage));
		write_bytes(dir, "bad_auxtrunc.atr", aux_cut, sizeof(aux_cut));
	}
	write_text(dir, "bad_multiseg.hea",
			   "bad_multiseg/2 2 360 21600\n"
			   "seg1 10800\n"
			   "seg2 10800\n");
	free(stream);
}

static void
make_syn16(const char *dir)
{
	static const record_spec rs = {
		"syn16", 250, 7500, "NNNNVNNNNNANNNNNNNNNNNNVNNNNNNNNNNN", 0.85, -1, 0
	};
	rng_state	rng;
	int			cks[2];
	int32_t    *stream;
	char		hea[1024];

	rng_seed(&rng, 16);
	build_waveform(&rs, &rng);
	add_annotation(5, "+", 0, 0, 0, "(N");
	stream = quantise(&rs, 100, 0, cks);
	write_signal_file(dir, "syn16.dat", 16, stream, 2 * 7500, 0);
	write_annotations(dir, "syn16.atr");
	snprintf(hea, sizeof(hea),
			 "# synthetic record written by make_wfdb_fixtures\n"
			 "syn16 2 250 7500 12:30:00 01/02/2020\n"
			 "syn16.dat 16 100(0)/mV 16 0 %d %d 0 MLII\n"
			 "syn16.dat 16 100(0)/mV 16 0 %d %d 0 V5\n",
			 stream[0], cks[0], stream[1], cks[1]);
	write_text(dir, "syn16.hea", hea);
	free(stream);
}

static void
make_synv5(const char *dir)
{
	static const record_spec rs = {
		"synv5", 360, 7200, "NNNNNVNNNN/NNNNNNVNNNNNN", 0.8, -1, 0
	};
	rng_state	rng;
	int			cks[2];
	int32_t    *stream;
	char		hea[1024];

	rng_seed(&rng, 5);
	build_waveform(&rs, &rng);
	stream = quantise(&rs, 200, 1024, cks);
	write_signal_file(dir, "synv5.dat", 212, stream, 2 * 7200, 0);
	write_annotations(dir, "synv5.atr");
	snprintf(hea, sizeof(hea),
			 "synv5 2 360/1 7200\n"
			 "synv5.dat 212 200 11 1024 %d %d 0 V5\n"
			 "synv5.dat 212 200 11 1024 %d %d 0 V2\n",
			 stream[0], cks[0], stream[1], cks[1]);
	write_text(dir, "synv5.hea", hea);
	free(stream);
}

int
main(int argc, char **argv)
{
	if (argc != 2)
	{
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	make_syn1(argv[1]);
	make_syn16(argv[1]);
	make_synv5(argv[1]);
	write_text(argv[1], "RECORDS", "syn1\nsyn16\nsynv5\n");
	return 0;
}
