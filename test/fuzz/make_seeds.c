/*
 * make_seeds.c - writes the seed corpora of the fuzz targets:
 * <dir>/<target>/seed_<name>, small valid (and a few borderline) inputs made
 * with the core's own encoders.  Everything is synthetic.
 *
 *   make fuzz-seeds        (= build/fuzz/make_seeds test/fuzz/corpus)
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_dat_header.h"
#include "model_blob.h"
#include "wfdb.h"

#define SEED_PI 3.14159265358979323846

static const char *out_dir;

static void
die(const char *what, const ecg_status *st)
{
	fprintf(stderr, "make_seeds: %s: %s (%s)\n", what, st ? st->message : strerror(errno),
			st ? st->detail : "");
	exit(1);
}

static void
make_dir(const char *target)
{
	char		path[1024];

	snprintf(path, sizeof(path), "%s/%s", out_dir, target);
	if (mkdir(out_dir, 0755) != 0 && errno != EEXIST)
		die(out_dir, NULL);
	if (mkdir(path, 0755) != 0 && errno != EEXIST)
		die(path, NULL);
}

/* Writes a seed made of up to two parts (b may be NULL). */
static void
write_seed(const char *target, const char *name, const void *a, size_t a_len, const void *b,
		   size_t b_len)
{
	char		path[1024];
	FILE	   *f;

	make_dir(target);
	snprintf(path, sizeof(path), "%s/%s/seed_%s", out_dir, target, name);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(a, 1, a_len, f) != a_len ||
		(b != NULL && fwrite(b, 1, b_len, f) != b_len) || fclose(f) != 0)
		die(path, NULL);
}

/* A sine wave plus a peak every 50 samples, in [-amplitude, amplitude]. */
static void
synthetic_samples(int32_t *v, size_t n, int32_t amplitude)
{
	for (size_t i = 0; i < n; i++)
		v[i] = (int32_t) (amplitude * (0.6 * sin(2 * SEED_PI * (double) i / 37.0) +
									   (i % 50 == 10 ? 0.4 : 0.0)));
}

/* model blobs ------------------------------------------------------------- */

/* Writes the blob of `arch` (weights from seed 42) as seed `name` of the
 * model_run target and, when also_decode_only, of the model_blob target. */
static void
seed_model(const char *name, const nn_arch *arch, const char *metadata, int also_decode_only)
{
	ecg_status	st;
	nn_model   *m = nn_model_create_from_arch(arch, &st);
	uint8_t    *blob;
	size_t		len;

	if (m == NULL)
		die(name, &st);
	nn_model_init(m, 42);
	if (m->n_features > 0)
	{
		/* a version 2 blob: standardisation and an operating point too */
		for (int k = 0; k < m->n_features; k++)
		{
			m->feature_mean[k] = 0.8f;
			m->feature_sd[k] = 0.2f;
		}
		m->decision = NN_DECISION_PRIOR;
		m->class_offset[1] = 1.5f;
	}
	if (model_blob_encode(m, metadata, &blob, &len, &st) != 0)
		die(name, &st);
	if (also_decode_only)
		write_seed("model_blob", name, blob, len, NULL, 0);
	write_seed("model_run", name, blob, len, NULL, 0);
	ecg_free(blob);
	nn_model_free(m);
}

/*
 * Model blobs of the shape ecgdl runs (200 samples x 1 channel in, 5 classes
 * out; other shapes are refused when decoded): small graphs using each
 * operation for both model targets, and every built-in architecture (50 to
 * 200 KB each) for model_run, which runs what it decodes.
 */
static void
seeds_model_blob(void)
{
	nn_arch		a;
	ecg_status	st;
	static const char *const builtins[] = {"baseline", "cnn", "cnn_wide", "baseline_rr", "cnn_rr"};

	for (size_t i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++)
	{
		if (nn_arch_builtin(builtins[i], &a, &st) != 0)
			die(builtins[i], &st);
		seed_model(builtins[i], &a, "{\"epochs\": 1}", 0);
	}

	/* conv, batch norm, relu, dropout, flatten, dense */
	memset(&a, 0, sizeof(a));
	strcpy(a.name, "small");
	a.nodes[0] = (nn_node) {NN_OP_INPUT, {-1, -1}, 1, 200, 0};
	a.nodes[1] = (nn_node) {NN_OP_CONV1D, {0, -1}, 2, 2, 0};
	a.nodes[2] = (nn_node) {NN_OP_BATCHNORM, {1, -1}, 0, 0, 0};
	a.nodes[3] = (nn_node) {NN_OP_RELU, {2, -1}, 0, 0, 0};
	a.nodes[4] = (nn_node) {NN_OP_DROPOUT, {3, -1}, 0, 0, 0.5f};
	a.nodes[5] = (nn_node) {NN_OP_FLATTEN, {4, -1}, 0, 0, 0};
	a.nodes[6] = (nn_node) {NN_OP_DENSE, {5, -1}, 5, 0, 0};
	a.n_nodes = 7;
	seed_model("conv_dense", &a, "epochs=1", 1);

	/* a residual block with max pooling */
	memset(&a, 0, sizeof(a));
	strcpy(a.name, "residual");
	a.nodes[0] = (nn_node) {NN_OP_INPUT, {-1, -1}, 1, 200, 0};
	a.nodes[1] = (nn_node) {NN_OP_CONV1D, {0, -1}, 2, 3, 0};
	a.nodes[2] = (nn_node) {NN_OP_RELU, {1, -1}, 0, 0, 0};
	a.nodes[3] = (nn_node) {NN_OP_CONV1D, {2, -1}, 2, 3, 0};
	a.nodes[4] = (nn_node) {NN_OP_ADD, {3, 1}, 0, 0, 0};
	a.nodes[5] = (nn_node) {NN_OP_MAXPOOL, {4, -1}, 0, 2, 0};
	a.nodes[6] = (nn_node) {NN_OP_FLATTEN, {5, -1}, 0, 0, 0};
	a.nodes[7] = (nn_node) {NN_OP_DENSE, {6, -1}, 5, 0, 0};
	a.n_nodes = 8;
	seed_model("residual", &a, NULL, 1);

	/* the smallest model: input straight into a dense layer */
	memset(&a, 0, sizeof(a));
	strcpy(a.name, "tiny");
	a.nodes[0] = (nn_node) {NN_OP_INPUT, {-1, -1}, 1, 200, 0};
	a.nodes[1] = (nn_node) {NN_OP_FLATTEN, {0, -1}, 0, 0, 0};
	a.nodes[2] = (nn_node) {NN_OP_DENSE, {1, -1}, 5, 0, 0};
	a.n_nodes = 3;
	seed_model("tiny", &a, "", 1);

	/* version 2: R-R features through a dense layer, joined to the beat */
	memset(&a, 0, sizeof(a));
	strcpy(a.name, "tiny_rr");
	a.nodes[0] = (nn_node) {NN_OP_INPUT, {-1, -1}, 1, 200, 0};
	a.nodes[1] = (nn_node) {NN_OP_FLATTEN, {0, -1}, 0, 0, 0};
	a.nodes[2] = (nn_node) {NN_OP_FEATURES, {-1, -1}, 3, 0, 0};
	a.nodes[3] = (nn_node) {NN_OP_DENSE, {2, -1}, 2, 0, 0};
	a.nodes[4] = (nn_node) {NN_OP_CONCAT, {1, 3}, 0, 0, 0};
	a.nodes[5] = (nn_node) {NN_OP_DENSE, {4, -1}, 5, 0, 0};
	a.n_nodes = 6;
	seed_model("tiny_rr", &a, "v2", 1);
}

/* WFDB header (+ NUL + signal file) --------------------------------------- */

static void
seeds_wfdb_header(void)
{
	static const char optional[] =
		"# comment first\r\n"
		"rec 1 250/1000(3) 0\r\n"
		"\r\n"
		"rec.dat 16x2:1+4 100.5(-3)/uV 16 0 0 0 512 lead I\r\n";
	static const char minimal[] = "r 1\nr.dat 80\n";
	char		text[512];
	int32_t		samples[80];
	int			checksum[2] = {0, 0};
	uint8_t    *dat;
	size_t		dat_len;
	ecg_status	st;

	/* two signals in one 212 file, 40 frames, with matching checksums */
	synthetic_samples(samples, 80, 900);
	for (int i = 0; i < 80; i++)
		checksum[i % 2] += samples[i];
	snprintf(text, sizeof(text),
			 "s100 2 360 40 0:00:00 01/01/2000\n"
			 "s100.dat 212 200 11 1024 %d %d 0 MLII\n"
			 "s100.dat 212 200 11 1024 %d %d 0 V5\n"
			 "# Age: 0  Sex: ?\n",
			 (int) samples[0], (int) (int16_t) checksum[0], (int) samples[1],
			 (int) (int16_t) checksum[1]);
	if (wfdb_samples_encode(212, samples, 80, &dat, &dat_len, &st) != 0)
		die("212 samples", &st);
	/* the text, its NUL terminator, then the signal file */
	write_seed("wfdb_header", "mitdb_like", text, strlen(text) + 1, dat, dat_len);
	ecg_free(dat);
	write_seed("wfdb_header", "optional_fields", optional, sizeof(optional) - 1, NULL, 0);
	write_seed("wfdb_header", "minimal", minimal, sizeof(minimal), "\x80\x81\x7f\x00", 4);
}

/* .dat decoding ----------------------------------------------------------- */

/* Format 8 stores first differences, which the encoder does not write. */
static uint8_t *
encode_differences(const int32_t *v, size_t n, int32_t initial, size_t *len)
{
	uint8_t    *b = malloc(n > 0 ? n : 1);
	int32_t		previous = initial;

	if (b == NULL)
		die("format 8", NULL);
	for (size_t i = 0; i < n; i++)
	{
		int32_t		d = v[i] - previous;

		d = d > 127 ? 127 : d < -128 ? -128 : d;
		b[i] = (uint8_t) (int8_t) d;
		previous += d;
	}
	*len = n;
	return b;
}

static void
seeds_wfdb_dat(void)
{
	int32_t		samples[60];
	ecg_status	st;

	for (int f = 0; f < FUZZ_DAT_N_FORMATS; f++)
	{
		int			format = fuzz_dat_formats[f];
		/* two signals, signal 0 decoded; the format's smallest range bounds the values */
		uint8_t		prefix[FUZZ_DAT_PREFIX] = {(uint8_t) f, 1, 128, 0};
		int32_t		amplitude = format == 80 || format == 8 ? 100 :
			format == 310 || format == 311 ? 400 : 1500;
		uint8_t    *dat;
		size_t		dat_len;
		char		name[32];

		synthetic_samples(samples, 60, amplitude);
		if (format == 8)
			dat = encode_differences(samples, 60, 0, &dat_len);
		else if (wfdb_samples_encode(format, samples, 60, &dat, &dat_len, &st) != 0)
			die("dat samples", &st);
		snprintf(name, sizeof(name), "format_%d", format);
		write_seed("wfdb_dat", name, prefix, sizeof(prefix), dat, dat_len);
		if (format == 8)
			free(dat);
		else
			ecg_free(dat);
	}
	{
		/* 212 with samples per frame 2, skew 1, a prolog and a sample count */
		uint8_t		prefix[FUZZ_DAT_PREFIX] = {0, 4 | 8 | 32 | 64, 20, 0};
		uint8_t    *dat;
		size_t		dat_len;
		uint8_t		file[200] = {0};

		synthetic_samples(samples, 60, 1500);
		if (wfdb_samples_encode(212, samples, 60, &dat, &dat_len, &st) != 0)
			die("dat samples", &st);
		memcpy(file + 3, dat, dat_len);
		write_seed("wfdb_dat", "212_options", prefix, sizeof(prefix), file, 3 + dat_len);
		ecg_free(dat);
	}
}

/* annotations ------------------------------------------------------------- */

static uint8_t *
encode_annotations(size_t *len)
{
	static const char *const symbols[] = {"N", "V", "+", "A", "N", "~", "L", "F", "N", "Q"};
	wfdb_annotation ann[10];
	int64_t		t = 0;
	uint8_t    *bytes;
	ecg_status	st;

	memset(ann, 0, sizeof(ann));
	for (int i = 0; i < 10; i++)
	{
		t += i == 5 ? 5000 : 280 + 7 * i;	/* one interval needs a SKIP */
		ann[i].sample = t;
		strcpy(ann[i].symbol, symbols[i]);
		ann[i].type = wfdb_annotation_code(symbols[i]);
		ann[i].subtype = i == 3 ? 2 : 0;
		ann[i].chan = i >= 6 ? 1 : 0;
		ann[i].num = i == 8 ? 3 : 0;
		ann[i].aux = i == 2 ? "(N" : i == 7 ? "(VT" : "";
	}
	if (wfdb_annotations_encode(ann, 10, &bytes, len, &st) != 0)
		die("annotations", &st);
	return bytes;
}

static void
seeds_wfdb_annotations(void)
{
	size_t		len;
	uint8_t    *bytes = encode_annotations(&len);

	write_seed("wfdb_annotations", "mixed", bytes, len, NULL, 0);
	ecg_free(bytes);
	write_seed("wfdb_annotations", "empty", "\0\0", 2, NULL, 0);
}

/* heartbeat CSV ----------------------------------------------------------- */

static size_t
csv_line(char *buf, size_t cap, int label, int crlf, unsigned shift)
{
	size_t		len = 0;

	for (int i = 0; i < 187; i++)
	{
		double		v = i < 120 ? 0.5 + 0.5 * sin((double) (i + shift) / 9.0) : 0.0;

		len += (size_t) snprintf(buf + len, cap - len, "%.18e,", v);
	}
	len += (size_t) snprintf(buf + len, cap - len, "%.18e%s", (double) label, crlf ? "\r\n" : "\n");
	return len;
}

static void
seeds_heartbeat_csv(void)
{
	static char buf[3 * 187 * 32];
	size_t		len;

	len = csv_line(buf, sizeof(buf), 0, 0, 0);
	write_seed("heartbeat_csv", "one_line", buf, len, NULL, 0);
	len = csv_line(buf, sizeof(buf), 3, 1, 5);
	len += csv_line(buf + len, sizeof(buf) - len, 4, 1, 9);
	write_seed("heartbeat_csv", "two_lines_crlf", buf, len, NULL, 0);
	write_seed("heartbeat_csv", "number_plain", "0.25", 4, NULL, 0);
	write_seed("heartbeat_csv", "number_exponent", " 7.006492321624085e-46\t", 24, NULL, 0);
	write_seed("heartbeat_csv", "number_max", "3.4028235677973366e+38", 22, NULL, 0);
}

/* beat extraction --------------------------------------------------------- */

static void
seeds_beats(void)
{
	size_t		len;
	uint8_t    *atr = encode_annotations(&len);
	/* mode 0 (MIT file), 360 Hz, ECG-like shape, gain 200; 4000 samples */
	uint8_t		prefix_atr[3] = {0, 4000 & 0xFF, 4000 >> 8};
	/* mode 1 (raw records), 250 Hz, ramp, gain 1; 3000 samples */
	uint8_t		prefix_raw[3] = {1 | 2 | 48 | 64, 3000 & 0xFF, 3000 >> 8};
	uint8_t		raw[8 * 5];

	write_seed("beats", "atr_360hz", prefix_atr, 3, atr, len);
	ecg_free(atr);
	for (int i = 0; i < 8; i++)
	{
		/* relative times of ~1 s, one absolute negative time, one far past the end */
		int32_t		v = i == 3 ? -40 : i == 6 ? 1000000 : 250 + 3 * i;
		uint32_t	u = (uint32_t) v;

		raw[i * 5] = (uint8_t) (i == 3 ? 0x80 | 1 : i % 2 ? 5 : 1);	/* N or V */
		raw[i * 5 + 1] = (uint8_t) u;
		raw[i * 5 + 2] = (uint8_t) (u >> 8);
		raw[i * 5 + 3] = (uint8_t) (u >> 16);
		raw[i * 5 + 4] = (uint8_t) (u >> 24);
	}
	write_seed("beats", "raw_250hz", prefix_raw, 3, raw, sizeof(raw));
}

/* A synthetic ECG (R every 0.8 s, a T wave, a slow baseline) in mV. */
static double
seed_ecg(double t)
{
	double		u = fmod(t, 0.8) - 0.3;

	return 1.1 * exp(-u * u / (2 * 0.01 * 0.01)) + 0.3 * exp(-(u - 0.28) * (u - 0.28) / (2 * 0.06 * 0.06)) +
		0.2 * sin(2 * SEED_PI * 0.3 * t);
}

static void
seeds_qrs(void)
{
	/* 360 Hz (100 + 260), chunks from 100 samples, 2-byte samples in uV */
	static const uint8_t prefix_360[4] = {0x04, 0x01, 99, 0};
	/* 1000 Hz (100 + 900), chunks from 1 sample, raw floats with a NaN */
	static const uint8_t prefix_1000[4] = {0x84, 0x03, 0, 1};
	/* an out-of-range rate */
	static const uint8_t bad_rate[4] = {0x01, 0x80, 0, 0};
	static int16_t uv[2880];
	static float mv[3000];

	for (size_t i = 0; i < sizeof(uv) / sizeof(uv[0]); i++)
		uv[i] = (int16_t) lrint(1000.0 * seed_ecg((double) i / 360.0));
	write_seed("qrs", "ecg_360hz", prefix_360, sizeof(prefix_360), uv, sizeof(uv));
	for (size_t i = 0; i < sizeof(mv) / sizeof(mv[0]); i++)
		mv[i] = (float) seed_ecg((double) i / 1000.0);
	mv[2000] = NAN;
	write_seed("qrs", "ecg_1000hz_nan", prefix_1000, sizeof(prefix_1000), mv, sizeof(mv));
	write_seed("qrs", "bad_rate", bad_rate, sizeof(bad_rate), NULL, 0);
}

int
main(int argc, char **argv)
{
	if (argc != 2)
	{
		fprintf(stderr, "usage: %s OUTPUT_DIR\n", argv[0]);
		return 2;
	}
	out_dir = argv[1];
	seeds_model_blob();
	seeds_wfdb_header();
	seeds_wfdb_dat();
	seeds_wfdb_annotations();
	seeds_heartbeat_csv();
	seeds_beats();
	seeds_qrs();
	return 0;
}
