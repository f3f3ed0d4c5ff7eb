/*
 * Unit tests for the model blob format (src/core/model_blob.c): round trips,
 * byte-identical encodings for the same seed, and clean ECG_ERR_FORMAT
 * errors for every flipped byte, every truncation, trailing bytes, foreign
 * data, and structurally wrong blobs with a valid checksum.
 */
#include <string.h>

#include "unit.h"
#include "crc32.h"
#include "model_blob.h"
#include "rr_features.h"
#include "rng.h"

/* A small model using conv, batch norm, relu, dropout, flatten and dense, of
 * the shape ecgdl runs (200 x 1 in, 5 classes out). */
static nn_model *
small_model(uint64_t seed)
{
	nn_arch		a;
	ecg_status	st;
	nn_model   *m;

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
	m = nn_model_create_from_arch(&a, &st);
	if (m != NULL)
	{
		nn_model_init(m, seed);
		/* non-trivial moving statistics, so they are seen to round-trip */
		for (size_t i = 0; i < m->n_state; i++)
			m->state[i] += 0.25f * (float) (i + 1);
	}
	return m;
}

static void
put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t) v;
	p[1] = (uint8_t) (v >> 8);
	p[2] = (uint8_t) (v >> 16);
	p[3] = (uint8_t) (v >> 24);
}

static void
fix_crc(uint8_t *blob, size_t len)
{
	put_le32(blob + len - 4, crc32_compute(blob, len - 4));
}

static int
models_equal(const nn_model *a, const nn_model *b)
{
	return a->n_params == b->n_params && a->n_state == b->n_state &&
		memcmp(a->params, b->params, a->n_params * sizeof(float)) == 0 &&
		memcmp(a->state, b->state, a->n_state * sizeof(float)) == 0 &&
		strcmp(a->arch.name, b->arch.name) == 0 && a->arch.n_nodes == b->arch.n_nodes &&
		memcmp(a->arch.nodes, b->arch.nodes, sizeof(nn_node) * (size_t) a->arch.n_nodes) == 0;
}

static void
test_crc32_known_values(void)
{
	CHECK(crc32_compute("123456789", 9) == 0xCBF43926u);
	CHECK(crc32_compute("", 0) == 0);
	CHECK(crc32_compute("a", 1) == 0xE8B7BE43u);
	CHECK(crc32_update(crc32_update(0, "1234", 4), "56789", 5) == 0xCBF43926u);
}

static void
test_round_trip_builtins(void)
{
	const char *archs[] = {"baseline", "cnn", "cnn_wide"};

	for (int k = 0; k < 3; k++)
	{
		ecg_status	st;
		nn_model   *m = nn_model_create(archs[k], &st);
		nn_model   *back;
		uint8_t    *blob,
				   *again;
		size_t		len,
					len2;
		char	   *meta = NULL;

		nn_model_init(m, 123);
		for (size_t i = 0; i < m->n_state; i++)
			m->state[i] = 0.5f + 0.001f * (float) i;
		CHECK(model_blob_encode(m, "epochs=3\nnote=ok", &blob, &len, &st) == 0);
		CHECK(len == model_blob_size(m, strlen("epochs=3\nnote=ok")));
		/* weights dominate: 4 bytes each */
		CHECK(len > 4 * (m->n_params + m->n_state) && len < 4 * (m->n_params + m->n_state) + 8192);
		back = model_blob_decode(blob, len, &meta, &st);
		CHECK_MSG(back != NULL, "%s: %s", st.message, st.detail);
		if (back != NULL)
		{
			CHECK(models_equal(m, back));
			CHECK(meta != NULL && strcmp(meta, "epochs=3\nnote=ok") == 0);
			CHECK(model_blob_encode(back, "epochs=3\nnote=ok", &again, &len2, &st) == 0);
			CHECK(len2 == len && memcmp(blob, again, len) == 0);
			ecg_free(again);
		}
		ecg_free(meta);
		nn_model_free(back);
		nn_model_free(m);
		ecg_free(blob);
	}
}

static void
test_same_seed_same_bytes(void)
{
	ecg_status	st;
	nn_model   *a = nn_model_create("cnn", &st),
			   *b = nn_model_create("cnn", &st);
	uint8_t    *ba,
			   *bb;
	size_t		la,
				lb;

	nn_model_init(a, 99);
	nn_model_init(b, 99);
	CHECK(model_blob_encode(a, NULL, &ba, &la, &st) == 0);
	CHECK(model_blob_encode(b, NULL, &bb, &lb, &st) == 0);
	CHECK(la == lb && memcmp(ba, bb, la) == 0);
	ecg_free(bb);
	nn_model_init(b, 100);
	CHECK(model_blob_encode(b, NULL, &bb, &lb, &st) == 0);
	CHECK(la == lb && memcmp(ba, bb, la) != 0);
	/* layout: magic, version, length, name */
	CHECK(memcmp(ba, "ECGDLMDL", 8) == 0);
	CHECK(ba[8] == 1 && ba[9] == 0 && ba[10] == 0 && ba[11] == 0);
	CHECK((ba[12] | ba[13] << 8 | ba[14] << 16 | (uint32_t) ba[15] << 24) == la);
	CHECK(strcmp((const char *) ba + 16, "cnn") == 0);
	ecg_free(ba);
	ecg_free(bb);
	nn_model_free(a);
	nn_model_free(b);
}

static void
test_every_flipped_byte_is_rejected(void)
{
	nn_model   *m = small_model(1);
	ecg_status	st;
	uint8_t    *blob;
	size_t		len;
	int			wrong_kind = 0,
				accepted = 0;

	CHECK(model_blob_encode(m, "meta", &blob, &len, &st) == 0);
	for (size_t i = 0; i < len; i++)
		for (int pattern = 0; pattern < 3; pattern++)
		{
			static const uint8_t flips[3] = {0x01, 0x80, 0xFF};
			nn_model   *back;

			blob[i] ^= flips[pattern];
			ecg_status_clear(&st);
			back = model_blob_decode(blob, len, NULL, &st);
			if (back != NULL)
			{
				accepted++;
				nn_model_free(back);
			}
			else if (st.kind != ECG_ERR_FORMAT || st.message[0] == '\0')
				wrong_kind++;
			blob[i] ^= flips[pattern];
		}
	CHECK_MSG(accepted == 0, "%d altered blobs accepted", accepted);
	CHECK_MSG(wrong_kind == 0, "%d altered blobs failed without a format error", wrong_kind);
	/* unaltered still fine */
	CHECK((m = (nn_model_free(m), model_blob_decode(blob, len, NULL, &st))) != NULL);
	nn_model_free(m);
	ecg_free(blob);
}

static void
test_every_truncation_is_rejected(void)
{
	nn_model   *m = small_model(2);
	ecg_status	st;
	uint8_t    *blob,
			   *copy;
	size_t		len;
	int			bad = 0;

	CHECK(model_blob_encode(m, NULL, &blob, &len, &st) == 0);
	for (size_t cut = 0; cut < len; cut++)
	{
		/* an exact-size heap copy, so a read past the end is caught by ASan */
		copy = malloc(cut ? cut : 1);
		memcpy(copy, blob, cut);
		ecg_status_clear(&st);
		if (model_blob_decode(cut ? copy : NULL, cut, NULL, &st) != NULL || st.kind != ECG_ERR_FORMAT)
			bad++;
		else if (cut >= 8 && strstr(st.message, "truncated") == NULL)
			bad++;
		free(copy);
	}
	CHECK_MSG(bad == 0, "%d truncations not reported as truncated", bad);
	/* one byte too many */
	copy = malloc(len + 1);
	memcpy(copy, blob, len);
	copy[len] = 0;
	CHECK(model_blob_decode(copy, len + 1, NULL, &st) == NULL && st.kind == ECG_ERR_FORMAT);
	CHECK(strstr(st.message, "length field") != NULL);
	free(copy);
	ecg_free(blob);
	nn_model_free(m);
}

static void
test_foreign_data_is_rejected(void)
{
	ecg_status	st;
	const char *png = "\x89PNG\r\n\x1a\n and more bytes than a header needs ......................";
	uint8_t		zeros[200] = {0};

	CHECK(model_blob_decode((const uint8_t *) png, strlen(png), NULL, &st) == NULL);
	CHECK(st.kind == ECG_ERR_FORMAT && strstr(st.message, "magic") != NULL);
	CHECK(model_blob_decode(zeros, sizeof(zeros), NULL, &st) == NULL && st.kind == ECG_ERR_FORMAT);
	CHECK(model_blob_decode(NULL, 0, NULL, &st) == NULL && st.kind == ECG_ERR_FORMAT);
}

/*
 * Structural damage with a recomputed checksum: the deeper checks must catch
 * it.  Offsets follow the format in model_blob.h.
 */
static void
expect_forged_error(const uint8_t *orig, size_t len, size_t at, uint32_t value,
					const char *fragment)
{
	uint8_t    *b = malloc(len);
	ecg_status	st;
	nn_model   *m;

	memcpy(b, orig, len);
	put_le32(b + at, value);
	fix_crc(b, len);
	ecg_status_clear(&st);
	m = model_blob_decode(b, len, NULL, &st);
	CHECK_MSG(m == NULL, "forged value %u at %zu accepted", value, at);
	CHECK_MSG(st.kind == ECG_ERR_FORMAT, "kind %d for forged value at %zu", st.kind, at);
	CHECK_MSG(strstr(st.message, fragment) != NULL, "message \"%s\" lacks \"%s\"", st.message, fragment);
	nn_model_free(m);
	free(b);
}

static void
test_forged_blobs_are_rejected(void)
{
	nn_model   *m = small_model(3);
	ecg_status	st;
	uint8_t    *blob;
	size_t		len;
	size_t		nodes = 64,
				table = 64 + 24 * 7;
	float		nan = NAN;
	uint32_t	nan_bits;

	CHECK(model_blob_encode(m, "x", &blob, &len, &st) == 0);
	expect_forged_error(blob, len, 8, 3, "version");
	expect_forged_error(blob, len, 8, 0, "version");
	expect_forged_error(blob, len, 48, 201, "disagrees with the graph");
	expect_forged_error(blob, len, 56, 4, "disagrees with the graph");
	expect_forged_error(blob, len, 60, 0, "nodes");
	expect_forged_error(blob, len, 60, 1000000, "nodes");
	expect_forged_error(blob, len, 60, 6, "");	/* fewer nodes: table misaligned */
	expect_forged_error(blob, len, nodes + 24 * 1, 77, "unknown operation");
	expect_forged_error(blob, len, nodes + 24 * 1 + 4, 1, "earlier node");
	expect_forged_error(blob, len, nodes + 24 * 1 + 12, 0, "filters");
	expect_forged_error(blob, len, nodes + 24 * 6 + 12, 1u << 30, "units");
	expect_forged_error(blob, len, table, 3, "tensors");
	expect_forged_error(blob, len, table + 4, 0xFFFFFFF0u, "name length");
	expect_forged_error(blob, len, table + 4 + 4, 0x41414141u, "is not");
	/* the first tensor (conv kernel [2][1][2]): rank at table + 4 + 4 + name */
	{
		size_t		rank_at = table + 8 + strlen(m->tensors[0].name);

		expect_forged_error(blob, len, rank_at, 2, "rank");
		expect_forged_error(blob, len, rank_at + 4, 3, "dimension");
	}
	/* a NaN weight: the first float of the data (after the table) */
	memcpy(&nan_bits, &nan, 4);
	{
		size_t		data_at = table + 4;

		for (int i = 0; i < m->n_tensors; i++)
			data_at += 4 + strlen(m->tensors[i].name) + 4 + 4 * (size_t) m->tensors[i].rank;
		expect_forged_error(blob, len, data_at, nan_bits, "offset");
		/* moving variance (third tensor after conv kernel, bias, gamma, beta, mean) < 0 */
		expect_forged_error(blob, len,
							data_at + 4 * (m->tensors[0].count + m->tensors[1].count +
										   m->tensors[2].count + m->tensors[3].count +
										   m->tensors[4].count),
							0xBF800000u, "moving_var");
		/* metadata length too long for the blob, then a NUL in it */
		expect_forged_error(blob, len, len - 4 - 1 - 4, 2, "truncated");
		expect_forged_error(blob, len, len - 4 - 1 - 4, 0, "unexpected bytes");
	}
	{
		/* NUL inside the metadata */
		uint8_t    *b = malloc(len);

		memcpy(b, blob, len);
		b[len - 5] = 0;
		fix_crc(b, len);
		CHECK(model_blob_decode(b, len, NULL, &st) == NULL && strstr(st.message, "NUL") != NULL);
		/* a name with garbage after its NUL */
		memcpy(b, blob, len);
		b[16 + 20] = 'x';
		fix_crc(b, len);
		CHECK(model_blob_decode(b, len, NULL, &st) == NULL && strstr(st.message, "name") != NULL);
		free(b);
	}
	ecg_free(blob);
	nn_model_free(m);
}

/* Random damage with a valid checksum: never a crash, only format errors or
 * (for damaged weights) a successful decode. */
static void
test_random_forgeries_fail_cleanly(void)
{
	nn_model   *m = small_model(4);
	ecg_status	st;
	uint8_t    *blob,
			   *b;
	size_t		len;
	rng_state	r;
	int			wrong = 0;

	CHECK(model_blob_encode(m, "meta data", &blob, &len, &st) == 0);
	b = malloc(len);
	rng_seed(&r, 2024);
	for (int trial = 0; trial < 20000; trial++)
	{
		nn_model   *back;
		int			changes = 1 + (int) rng_below(&r, 4);

		memcpy(b, blob, len);
		for (int c = 0; c < changes; c++)
			b[16 + rng_below(&r, len - 20)] = (uint8_t) rng_next(&r);
		fix_crc(b, len);
		ecg_status_clear(&st);
		back = model_blob_decode(b, len, NULL, &st);
		if (back == NULL && st.kind != ECG_ERR_FORMAT)
			wrong++;
		nn_model_free(back);
	}
	CHECK(wrong == 0);
	free(b);
	ecg_free(blob);
	nn_model_free(m);
}

static void
test_encode_refuses_non_finite_weights(void)
{
	nn_model   *m = small_model(5);
	ecg_status	st;
	uint8_t    *blob;
	size_t		len;

	m->params[3] = INFINITY;
	CHECK(model_blob_encode(m, NULL, &blob, &len, &st) != 0);
	CHECK(st.kind == ECG_ERR_DATA && strstr(st.message, "not finite") != NULL);
	CHECK(blob == NULL);
	nn_model_free(m);
}

/* A blob of the graph nodes[0..n) (a valid graph, any shape; every weight
 * 0.01, moving variances 1), with the given metadata. */
static uint8_t *
crafted_blob(const nn_node *nodes, int n, const char *metadata, size_t *len)
{
	nn_arch		a;
	ecg_status	st;
	nn_model   *m;
	uint8_t    *blob = NULL;

	memset(&a, 0, sizeof(a));
	strcpy(a.name, "crafted");
	memcpy(a.nodes, nodes, sizeof(nn_node) * (size_t) n);
	a.n_nodes = n;
	m = nn_model_create_from_arch(&a, &st);
	CHECK_MSG(m != NULL, "crafted graph invalid: %s", st.message);
	if (m == NULL)
		return NULL;
	for (size_t i = 0; i < m->n_params; i++)
		m->params[i] = 0.01f;
	for (size_t i = 0; i < m->n_state; i++)
		m->state[i] = 1.0f;
	CHECK(model_blob_encode(m, metadata, &blob, len, &st) == 0);
	nn_model_free(m);
	return blob;
}

/* Decoding the blob of nodes[0..n) fails with a format error containing
 * `fragment`; the blob itself (length field, checksum) is valid. */
static void
expect_graph_refused(const nn_node *nodes, int n, const char *fragment)
{
	size_t		len = 0;
	uint8_t    *blob = crafted_blob(nodes, n, "x", &len);
	ecg_status	st;
	nn_model   *m;

	if (blob == NULL)
		return;
	ecg_status_clear(&st);
	m = model_blob_decode(blob, len, NULL, &st);
	CHECK_MSG(m == NULL, "crafted blob (%zu bytes) accepted, expected \"%s\"", len, fragment);
	CHECK_MSG(st.kind == ECG_ERR_FORMAT && strstr(st.message, fragment) != NULL,
			  "kind %d, message \"%s\" lacks \"%s\"", st.kind, st.message, fragment);
	nn_model_free(m);
	ecg_free(blob);
}

/*
 * Issue 10, finding 1: a blob whose graph is valid but not of the shape the
 * classification code feeds (one channel of 187 or 200 samples) and reads (5
 * probabilities) decoded, and running it read past the caller's beats.  Every
 * such shape is now refused when the blob is decoded.
 */
static void
test_shapes_ecgdl_cannot_run_are_refused(void)
{
	/* input(200 x 16) -> dense(5): crashed ecg_classify_table */
	nn_node		channels16[] = {
		{NN_OP_INPUT, {-1, -1}, 16, 200, 0},
		{NN_OP_FLATTEN, {0, -1}, 0, 0, 0},
		{NN_OP_DENSE, {1, -1}, 5, 0, 0}};
	/* 200 x 4096 channels, reduced by a 1x1 conv: crashed ecg_predict_proba */
	nn_node		channels4096[] = {
		{NN_OP_INPUT, {-1, -1}, 4096, 200, 0},
		{NN_OP_CONV1D, {0, -1}, 1, 1, 0},
		{NN_OP_FLATTEN, {1, -1}, 0, 0, 0},
		{NN_OP_DENSE, {2, -1}, 5, 0, 0}};
	nn_node		long_input[] = {
		{NN_OP_INPUT, {-1, -1}, 1, 1000, 0},
		{NN_OP_MAXPOOL, {0, -1}, 0, 2, 0},
		{NN_OP_MAXPOOL, {1, -1}, 0, 2, 0},
		{NN_OP_FLATTEN, {2, -1}, 0, 0, 0},
		{NN_OP_DENSE, {3, -1}, 5, 0, 0}};
	nn_node		beat_input[] = {	/* 187: what the glue pads from, not to */
		{NN_OP_INPUT, {-1, -1}, 1, 187, 0},
		{NN_OP_FLATTEN, {0, -1}, 0, 0, 0},
		{NN_OP_DENSE, {1, -1}, 5, 0, 0}};
	nn_node		short_input[] = {
		{NN_OP_INPUT, {-1, -1}, 1, 1, 0},
		{NN_OP_DENSE, {0, -1}, 5, 0, 0}};
	nn_node		seven_classes[] = {
		{NN_OP_INPUT, {-1, -1}, 1, 200, 0},
		{NN_OP_FLATTEN, {0, -1}, 0, 0, 0},
		{NN_OP_DENSE, {1, -1}, 7, 0, 0}};
	nn_node		two_classes[] = {
		{NN_OP_INPUT, {-1, -1}, 1, 200, 0},
		{NN_OP_DENSE, {0, -1}, 2, 0, 0}};
	nn_node		fits[] = {
		{NN_OP_INPUT, {-1, -1}, 1, 200, 0},
		{NN_OP_DENSE, {0, -1}, 5, 0, 0}};
	size_t		len;
	uint8_t    *blob;
	ecg_status	st;
	nn_model   *m;

	expect_graph_refused(channels16, 3, "200 samples x 16 channels");
	expect_graph_refused(channels4096, 4, "200 samples x 4096 channels");
	expect_graph_refused(long_input, 5, "1000 samples x 1 channels");
	expect_graph_refused(beat_input, 3, "187 samples");
	expect_graph_refused(short_input, 2, "1 samples");
	expect_graph_refused(seven_classes, 3, "7 classes");
	expect_graph_refused(two_classes, 2, "2 classes");
	/* the same kind of graph with the right shape decodes */
	blob = crafted_blob(fits, 2, NULL, &len);
	m = blob ? model_blob_decode(blob, len, NULL, &st) : NULL;
	CHECK_MSG(m != NULL, "%s", blob ? st.message : "no blob");
	nn_model_free(m);
	ecg_free(blob);
}

/*
 * Issue 10, finding 7: a tiny blob could demand a huge workspace (weights are
 * bounded by the blob's size, activations were not).  A 1x1 conv to 4096
 * channels has 8192 weights (32 KB) but 200 x 4096 activations per row.
 */
static void
test_huge_workspace_is_refused(void)
{
	nn_node		wide[] = {
		{NN_OP_INPUT, {-1, -1}, 1, 200, 0},
		{NN_OP_CONV1D, {0, -1}, 4096, 1, 0},
		{NN_OP_CONV1D, {1, -1}, 1, 1, 0},
		{NN_OP_FLATTEN, {2, -1}, 0, 0, 0},
		{NN_OP_DENSE, {3, -1}, 5, 0, 0}};
	/* 128 filters: about 40 MB for 128 rows, under the bound */
	nn_node		medium[] = {
		{NN_OP_INPUT, {-1, -1}, 1, 200, 0},
		{NN_OP_CONV1D, {0, -1}, 128, 1, 0},
		{NN_OP_CONV1D, {1, -1}, 1, 1, 0},
		{NN_OP_FLATTEN, {2, -1}, 0, 0, 0},
		{NN_OP_DENSE, {3, -1}, 5, 0, 0}};
	size_t		len;
	uint8_t    *blob;
	ecg_status	st;
	nn_model   *m;

	blob = crafted_blob(wide, 5, NULL, &len);
	CHECK(blob != NULL && len < 64 * 1024);
	ecg_free(blob);
	expect_graph_refused(wide, 5, "bytes of activations");
	blob = crafted_blob(medium, 5, NULL, &len);
	m = blob ? model_blob_decode(blob, len, NULL, &st) : NULL;
	CHECK_MSG(m != NULL, "%s", blob ? st.message : "no blob");
	if (m != NULL)
	{
		size_t		need = nn_model_inference_bytes(m);

		CHECK_MSG(need > 16u << 20 && need < MODEL_BLOB_MAX_WORKSPACE + (4u << 20), "%zu", need);
		/* the memory limit refuses it with the figures */
		ecg_set_memory_limit(16u << 20);
		CHECK(nn_model_check_inference_memory(m, &st) == -1 && st.kind == ECG_ERR_LIMIT);
		CHECK_MSG(strstr(st.detail, "limit is 16777216 bytes") != NULL, "%s", st.detail);
		ecg_set_memory_limit(0);
		CHECK(nn_model_check_inference_memory(m, &st) == 0);
	}
	nn_model_free(m);
	ecg_free(blob);
	/* the built-in architectures fit the smallest limit the server allows */
	ecg_set_memory_limit(16u << 20);
	for (int k = 0; k < 3; k++)
	{
		const char *archs[] = {"baseline", "cnn", "cnn_wide"};

		m = nn_model_create(archs[k], &st);
		CHECK_MSG(m != NULL && nn_model_check_inference_memory(m, &st) == 0, "%s: %s", archs[k],
				  st.message);
		nn_model_free(m);
	}
	ecg_set_memory_limit(0);
}

/* Issue 10, finding 10: the metadata must be valid UTF-8 (it becomes jsonb). */
static void
test_metadata_must_be_utf8(void)
{
	static const char *const bad[] = {
		"\x80",					/* lone continuation byte */
		"ok \xC3",				/* truncated at the end */
		"\xC0\xAF",				/* overlong '/' */
		"\xE0\x80\xAF",			/* overlong, three bytes */
		"\xED\xA0\x80",			/* a surrogate */
		"\xF4\x90\x80\x80",		/* above U+10FFFF */
		"\xF8\x88\x80\x80\x80",	/* five-byte form */
		"a\xE2\x82z",			/* cut short by ASCII */
		"\xFF",
	};
	const char *good = "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF";
	nn_model   *m = small_model(6);
	ecg_status	st;
	uint8_t    *blob;
	size_t		len;
	char	   *meta = NULL;
	nn_model   *back;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		CHECK(model_blob_encode(m, bad[i], &blob, &len, &st) == 0);
		back = model_blob_decode(blob, len, &meta, &st);
		CHECK_MSG(back == NULL && st.kind == ECG_ERR_FORMAT && strstr(st.message, "UTF-8") != NULL,
				  "metadata %zu: %s", i, back ? "accepted" : st.message);
		CHECK(meta == NULL);
		nn_model_free(back);
		ecg_free(blob);
	}
	CHECK(model_blob_encode(m, good, &blob, &len, &st) == 0);
	back = model_blob_decode(blob, len, &meta, &st);
	CHECK_MSG(back != NULL, "%s", st.message);
	CHECK(meta != NULL && strcmp(meta, good) == 0);
	ecg_free(meta);
	nn_model_free(back);
	ecg_free(blob);
	nn_model_free(m);
}

/* A cnn_rr with a feature subset, fitted scaling and a tuned operating point. */
static nn_model *
features_model(void)
{
	ecg_status	st;
	nn_arch		a;
	nn_model   *m;
	int32_t		ids[3] = {RR_PRE_LOCAL, RR_POST_LOCAL, RR_LOCAL};

	CHECK(nn_arch_builtin("cnn_rr", &a, &st) == 0);
	CHECK(nn_arch_set_feature_count(&a, 3, &st) == 0);
	m = nn_model_create_from_arch(&a, &st);
	CHECK(m != NULL && m->n_features == 3);
	nn_model_init(m, 9);
	CHECK(nn_model_set_features(m, ids, 3, &st) == 0);
	for (int k = 0; k < 3; k++)
	{
		m->feature_mean[k] = 0.5f + (float) k;
		m->feature_sd[k] = 0.25f * (float) (k + 1);
	}
	m->decision = NN_DECISION_VALIDATION;
	m->class_offset[1] = 1.5f;
	m->class_offset[3] = -0.75f;
	return m;
}

static void
test_version_2_round_trip(void)
{
	nn_model   *m = features_model();
	nn_model   *back;
	ecg_status	st;
	uint8_t    *blob,
			   *again;
	size_t		len,
				len2;

	CHECK(model_blob_encode(m, "v2", &blob, &len, &st) == 0);
	CHECK(blob[8] == 2);
	back = model_blob_decode(blob, len, NULL, &st);
	CHECK_MSG(back != NULL, "%s: %s", st.message, st.detail);
	if (back != NULL)
	{
		CHECK(models_equal(m, back));
		CHECK(back->n_features == 3 && back->feature_ids[0] == RR_PRE_LOCAL &&
			  back->feature_ids[2] == RR_LOCAL);
		CHECK(back->feature_mean[1] == 1.5f && back->feature_sd[2] == 0.75f);
		CHECK(back->decision == NN_DECISION_VALIDATION && back->class_offset[1] == 1.5f &&
			  back->class_offset[3] == -0.75f && back->class_offset[0] == 0.0f);
		CHECK(model_blob_encode(back, "v2", &again, &len2, &st) == 0);
		CHECK(len2 == len && memcmp(blob, again, len) == 0);
		ecg_free(again);
	}
	/* a cnn with only an operating point is version 2 too; plain, version 1 */
	{
		nn_model   *cnn = nn_model_create("cnn", &st);
		uint8_t    *b;
		size_t		l;

		nn_model_init(cnn, 1);
		CHECK(model_blob_encode(cnn, NULL, &b, &l, &st) == 0 && b[8] == 1);
		ecg_free(b);
		cnn->decision = NN_DECISION_PRIOR;
		cnn->class_offset[0] = -0.1f;
		CHECK(model_blob_encode(cnn, NULL, &b, &l, &st) == 0 && b[8] == 2);
		nn_model_free(back);
		back = model_blob_decode(b, l, NULL, &st);
		CHECK(back != NULL && back->decision == NN_DECISION_PRIOR && back->n_features == 0);
		ecg_free(b);
		nn_model_free(cnn);
	}
	nn_model_free(back);
	nn_model_free(m);
	ecg_free(blob);
}

/* Offset of the version 2 section in blob (after the tensor data). */
static size_t
v2_section_at(const nn_model *m)
{
	size_t		at = 64 + 24 * (size_t) m->arch.n_nodes + 4;

	for (int i = 0; i < m->n_tensors; i++)
		at += 4 + strlen(m->tensors[i].name) + 4 + 4 * (size_t) m->tensors[i].rank +
			4 * m->tensors[i].count;
	return at;
}

static void
test_version_2_forgeries(void)
{
	nn_model   *m = features_model();
	ecg_status	st;
	uint8_t    *blob;
	size_t		len,
				at = v2_section_at(m);
	uint32_t	bits;
	float		neg = -1.0f,
				big = 25.0f;

	CHECK(model_blob_encode(m, NULL, &blob, &len, &st) == 0);
	/* the version 2 section as the header documents it */
	CHECK(blob[at] == 3 && blob[at + 4] == strlen("rr_pre_local"));
	CHECK(memcmp(blob + at + 8, "rr_pre_local", 12) == 0);
	/* a features node in a version 1 blob */
	expect_forged_error(blob, len, 8, 1, "version 1");
	/* feature count other than the node's width; more than eight */
	expect_forged_error(blob, len, at, 2, "features node takes 3");
	expect_forged_error(blob, len, at, 9, "features");
	/* a name that is not an R-R feature: "rr_pre_local" -> "rr_pre_locAl" */
	{
		uint8_t    *b = malloc(len);
		nn_model   *d;

		memcpy(b, blob, len);
		b[at + 8 + 9] = 'A';
		fix_crc(b, len);
		d = model_blob_decode(b, len, NULL, &st);
		CHECK(d == NULL && st.kind == ECG_ERR_FORMAT && strstr(st.message, "unknown feature name"));
		free(b);
	}
	/* a feature named twice (the encoder writes what the model holds) */
	{
		nn_model   *dup = features_model();
		uint8_t    *b;
		size_t		l;

		dup->feature_ids[2] = dup->feature_ids[0];
		CHECK(model_blob_encode(dup, NULL, &b, &l, &st) == 0);
		CHECK(model_blob_decode(b, l, NULL, &st) == NULL && strstr(st.message, "feature named twice"));
		ecg_free(b);
		nn_model_free(dup);
	}
	expect_forged_error(blob, len, at + 4, 0, "feature name length");
	expect_forged_error(blob, len, at + 4, 40, "feature name length");
	/* sd <= 0 */
	memcpy(&bits, &neg, 4);
	expect_forged_error(blob, len, at + 8 + 12 + 4, bits, "standardisation");
	/* operating point: after the three features (12 + 13 + 8 name bytes) */
	{
		size_t		op_at = at + 4 + 3 * 12 + strlen("rr_pre_local") + strlen("rr_post_local") +
			strlen("rr_local");

		CHECK(blob[op_at] == NN_DECISION_VALIDATION);
		expect_forged_error(blob, len, op_at, 3, "operating point");
		memcpy(&bits, &big, 4);
		expect_forged_error(blob, len, op_at + 4, bits, "class offset");
	}
	nn_model_free(m);
	ecg_free(blob);
}

int
main(void)
{
	RUN_TEST(test_crc32_known_values);
	RUN_TEST(test_round_trip_builtins);
	RUN_TEST(test_same_seed_same_bytes);
	RUN_TEST(test_every_flipped_byte_is_rejected);
	RUN_TEST(test_every_truncation_is_rejected);
	RUN_TEST(test_foreign_data_is_rejected);
	RUN_TEST(test_forged_blobs_are_rejected);
	RUN_TEST(test_random_forgeries_fail_cleanly);
	RUN_TEST(test_encode_refuses_non_finite_weights);
	RUN_TEST(test_shapes_ecgdl_cannot_run_are_refused);
	RUN_TEST(test_huge_workspace_is_refused);
	RUN_TEST(test_metadata_must_be_utf8);
	RUN_TEST(test_version_2_round_trip);
	RUN_TEST(test_version_2_forgeries);
	UNIT_EXIT();
}
