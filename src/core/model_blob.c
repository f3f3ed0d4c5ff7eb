/*
 * model_blob.c - encoding and validating decoding of model blobs (format in
 * model_blob.h).
 */
#include "model_blob.h"

#include <math.h>
#include <string.h>

#include "crc32.h"
#include "rr_features.h"

#define FIXED_HEADER_BYTES 64	/* magic .. n_nodes */
#define NODE_RECORD_BYTES 24
#define CRC_BYTES 4

/* Little-endian writing ------------------------------------------------------ */

typedef struct blob_writer
{
	uint8_t    *buf;
	size_t		pos;
} blob_writer;

static void
put_u32(blob_writer *w, uint32_t v)
{
	w->buf[w->pos++] = (uint8_t) (v & 0xFF);
	w->buf[w->pos++] = (uint8_t) ((v >> 8) & 0xFF);
	w->buf[w->pos++] = (uint8_t) ((v >> 16) & 0xFF);
	w->buf[w->pos++] = (uint8_t) ((v >> 24) & 0xFF);
}

static void
put_f32(blob_writer *w, float f)
{
	uint32_t	bits;

	memcpy(&bits, &f, sizeof(bits));
	put_u32(w, bits);
}

static void
put_bytes(blob_writer *w, const void *p, size_t n)
{
	memcpy(w->buf + w->pos, p, n);
	w->pos += n;
}

/* Version 2 adds the feature list and the operating point; a model without
 * either is written as version 1, byte for byte as before. */
static int
blob_version(const nn_model *model)
{
	if (model->n_features > 0 || model->decision != NN_DECISION_ARGMAX)
		return 2;
	for (int c = 0; c < model->n_classes; c++)
		if (model->class_offset[c] != 0.0f)
			return 2;
	return 1;
}

/* Bytes of the version 2 section (features and operating point). */
static uint64_t
v2_section_bytes(const nn_model *model)
{
	uint64_t	bytes = 4 + 4 + 4 * (uint64_t) model->n_classes;

	for (int k = 0; k < model->n_features; k++)
		bytes += 4 + strlen(rr_feature_names[model->feature_ids[k]]) + 8;
	return bytes;
}

/* Size ----------------------------------------------------------------------- */

size_t
model_blob_size(const nn_model *model, size_t metadata_len)
{
	/* all terms are bounded by the model limits, so this cannot overflow a
	 * 64-bit size_t; the 4 GiB bound comes from the u32 length field */
	uint64_t	total = FIXED_HEADER_BYTES;

	if (metadata_len > MODEL_BLOB_MAX_METADATA)
		return 0;
	total += (uint64_t) NODE_RECORD_BYTES * (uint64_t) model->arch.n_nodes;
	total += 4;					/* n_tensors */
	for (int i = 0; i < model->n_tensors; i++)
	{
		const nn_tensor *t = &model->tensors[i];

		total += 4 + strlen(t->name) + 4 + 4 * (uint64_t) t->rank;
		total += 4 * (uint64_t) t->count;
	}
	if (blob_version(model) == 2)
		total += v2_section_bytes(model);
	total += 4 + metadata_len + CRC_BYTES;
	if (total > UINT32_MAX || total > SIZE_MAX)
		return 0;
	return (size_t) total;
}

/* Encoding ------------------------------------------------------------------- */

int
model_blob_encode_into(const nn_model *model, const char *metadata, uint8_t *buf, size_t buf_len,
					   ecg_status *st)
{
	size_t		metadata_len = metadata ? strlen(metadata) : 0;
	size_t		need = model_blob_size(model, metadata_len);
	blob_writer w = {buf, 0};
	uint8_t		name[NN_ARCH_NAME_MAX] = {0};

	if (need == 0)
		return ecg_fail(st, ECG_ERR_ARGUMENT,
						"model blob too large (metadata of %zu bytes, at most %d)",
						metadata_len, MODEL_BLOB_MAX_METADATA);
	if (buf_len != need)
		return ecg_fail(st, ECG_ERR_ARGUMENT, "model blob buffer has %zu bytes, needs %zu",
						buf_len, need);
	for (int i = 0; i < model->n_tensors; i++)
	{
		const nn_tensor *t = &model->tensors[i];

		for (size_t k = 0; k < t->count; k++)
			if (!isfinite(t->data[k]))
			{
				ecg_fail(st, ECG_ERR_DATA, "model weight %s[%zu] is not finite (%g)",
						 t->name, k, (double) t->data[k]);
				return ecg_fail_detail(st, "training probably diverged; a model with non-finite weights cannot be stored");
			}
	}

	put_bytes(&w, MODEL_BLOB_MAGIC, 8);
	put_u32(&w, (uint32_t) blob_version(model));
	put_u32(&w, (uint32_t) need);
	memcpy(name, model->arch.name, strnlen(model->arch.name, NN_ARCH_NAME_MAX - 1));
	put_bytes(&w, name, NN_ARCH_NAME_MAX);
	put_u32(&w, (uint32_t) model->input_length);
	put_u32(&w, (uint32_t) model->input_channels);
	put_u32(&w, (uint32_t) model->n_classes);
	put_u32(&w, (uint32_t) model->arch.n_nodes);
	for (int i = 0; i < model->arch.n_nodes; i++)
	{
		const nn_node *nd = &model->arch.nodes[i];

		put_u32(&w, (uint32_t) nd->op);
		put_u32(&w, (uint32_t) nd->input[0]);
		put_u32(&w, (uint32_t) nd->input[1]);
		put_u32(&w, (uint32_t) nd->units);
		put_u32(&w, (uint32_t) nd->size);
		put_f32(&w, nd->rate);
	}
	put_u32(&w, (uint32_t) model->n_tensors);
	for (int i = 0; i < model->n_tensors; i++)
	{
		const nn_tensor *t = &model->tensors[i];
		size_t		len = strlen(t->name);

		put_u32(&w, (uint32_t) len);
		put_bytes(&w, t->name, len);
		put_u32(&w, (uint32_t) t->rank);
		for (int d = 0; d < t->rank; d++)
			put_u32(&w, (uint32_t) t->dims[d]);
	}
	for (int i = 0; i < model->n_tensors; i++)
	{
		const nn_tensor *t = &model->tensors[i];

		for (size_t k = 0; k < t->count; k++)
			put_f32(&w, t->data[k]);
	}
	if (blob_version(model) == 2)
	{
		put_u32(&w, (uint32_t) model->n_features);
		for (int k = 0; k < model->n_features; k++)
		{
			const char *fname = rr_feature_names[model->feature_ids[k]];

			put_u32(&w, (uint32_t) strlen(fname));
			put_bytes(&w, fname, strlen(fname));
			put_f32(&w, model->feature_mean[k]);
			put_f32(&w, model->feature_sd[k]);
		}
		put_u32(&w, (uint32_t) model->decision);
		for (int c = 0; c < model->n_classes; c++)
			put_f32(&w, model->class_offset[c]);
	}
	put_u32(&w, (uint32_t) metadata_len);
	if (metadata_len > 0)
		put_bytes(&w, metadata, metadata_len);
	put_u32(&w, crc32_compute(buf, w.pos));
	return 0;
}

int
model_blob_encode(const nn_model *model, const char *metadata, uint8_t **blob, size_t *blob_len,
				  ecg_status *st)
{
	size_t		need = model_blob_size(model, metadata ? strlen(metadata) : 0);
	uint8_t    *buf;

	*blob = NULL;
	*blob_len = 0;
	if (need == 0)
		return ecg_fail(st, ECG_ERR_ARGUMENT, "model blob too large (metadata at most %d bytes)",
						MODEL_BLOB_MAX_METADATA);
	buf = ecg_alloc(need);
	if (buf == NULL)
		return ecg_fail(st, ECG_ERR_NOMEM, "out of memory for a model blob of %zu bytes", need);
	if (model_blob_encode_into(model, metadata, buf, need, st) != 0)
	{
		ecg_free(buf);
		return -1;
	}
	*blob = buf;
	*blob_len = need;
	return 0;
}

/* Bounds-checked reading ------------------------------------------------------ */

typedef struct blob_reader
{
	const uint8_t *buf;
	size_t		end;			/* readable bytes (the CRC excluded) */
	size_t		pos;
	ecg_status *st;
} blob_reader;

static int
need_bytes(blob_reader *r, size_t n, const char *what)
{
	if (n > r->end - r->pos)
	{
		ecg_fail(r->st, ECG_ERR_FORMAT, "model blob truncated: %s at offset %zu needs %zu bytes, %zu left",
				 what, r->pos, n, r->end - r->pos);
		return -1;
	}
	return 0;
}

static uint32_t
load_u32(const uint8_t *p)
{
	return (uint32_t) p[0] | ((uint32_t) p[1] << 8) | ((uint32_t) p[2] << 16) | ((uint32_t) p[3] << 24);
}

static int
get_u32(blob_reader *r, uint32_t *v, const char *what)
{
	if (need_bytes(r, 4, what) != 0)
		return -1;
	*v = load_u32(r->buf + r->pos);
	r->pos += 4;
	return 0;
}

static float
bits_to_float(uint32_t bits)
{
	float		f;

	memcpy(&f, &bits, sizeof(f));
	return f;
}

/* Fails *st with ECG_ERR_FORMAT: "invalid model blob: <what> at offset N"
 * plus a detail saying what was expected; returns -1. */
static int
bad_blob(ecg_status *st, size_t offset, const char *what, const char *expected)
{
	ecg_fail(st, ECG_ERR_FORMAT, "invalid model blob: %s at offset %zu", what, offset);
	return ecg_fail_detail(st, "%s", expected);
}

/* Magic, version, length field and checksum. */
static int
check_envelope(const uint8_t *blob, size_t len, ecg_status *st)
{
	uint32_t	version,
				declared,
				stored_crc,
				computed_crc;

	/* a short prefix of the magic is a truncated blob, anything else foreign */
	if (len > 0 && memcmp(blob, MODEL_BLOB_MAGIC, len < 8 ? len : 8) != 0)
		return bad_blob(st, 0, "not an ecgdl model (bad magic)",
						"an ecgdl model blob starts with the bytes \"ECGDLMDL\"");
	if (len < FIXED_HEADER_BYTES + 4 + 4 + CRC_BYTES)
	{
		ecg_fail(st, ECG_ERR_FORMAT, "model blob truncated: %zu bytes, the smallest blob has %d",
				 len, FIXED_HEADER_BYTES + 4 + 4 + CRC_BYTES);
		return -1;
	}
	version = load_u32(blob + 8);
	if (version < 1 || version > MODEL_BLOB_VERSION)
	{
		ecg_fail(st, ECG_ERR_FORMAT, "unsupported model blob format version %u at offset 8", version);
		return ecg_fail_detail(st, "this build reads versions 1 to %d", MODEL_BLOB_VERSION);
	}
	declared = load_u32(blob + 12);
	if (declared != len)
	{
		if (declared > len)
			ecg_fail(st, ECG_ERR_FORMAT, "model blob truncated: %zu bytes, the length field at offset 12 says %u",
					 len, declared);
		else
			ecg_fail(st, ECG_ERR_FORMAT, "model blob has %zu bytes, the length field at offset 12 says %u",
					 len, declared);
		return -1;
	}
	stored_crc = load_u32(blob + len - CRC_BYTES);
	computed_crc = crc32_compute(blob, len - CRC_BYTES);
	if (stored_crc != computed_crc)
	{
		ecg_fail(st, ECG_ERR_FORMAT, "model blob checksum mismatch at offset %zu: stored 0x%08x, computed 0x%08x",
				 len - CRC_BYTES, stored_crc, computed_crc);
		return ecg_fail_detail(st, "the blob was altered or damaged");
	}
	return 0;
}

/* Architecture name, shapes and graph into *arch. */
static int
read_arch(blob_reader *r, nn_arch *arch, uint32_t shape[3])
{
	const uint8_t *name = r->buf + 16;
	size_t		name_len = 0;
	uint32_t	n_nodes;

	memset(arch, 0, sizeof(*arch));
	while (name_len < NN_ARCH_NAME_MAX && name[name_len] != 0)
	{
		if (name[name_len] < 0x21 || name[name_len] > 0x7E)
			return bad_blob(r->st, 16 + name_len, "bad character in the architecture name",
							"the architecture name must be printable ASCII");
		name_len++;
	}
	if (name_len == 0 || name_len == NN_ARCH_NAME_MAX)
		return bad_blob(r->st, 16, "bad architecture name length",
						"the name field holds 1 to 31 characters and NUL padding");
	for (size_t i = name_len; i < NN_ARCH_NAME_MAX; i++)
		if (name[i] != 0)
			return bad_blob(r->st, 16 + i, "non-NUL byte after the architecture name",
							"the name field is NUL-padded");
	memcpy(arch->name, name, name_len);
	r->pos = 48;
	if (get_u32(r, &shape[0], "input length") || get_u32(r, &shape[1], "input channels") ||
		get_u32(r, &shape[2], "number of classes") || get_u32(r, &n_nodes, "node count"))
		return -1;
	if (n_nodes < 2 || n_nodes > NN_MAX_NODES)
	{
		ecg_fail(r->st, ECG_ERR_FORMAT, "invalid model blob: %u nodes at offset 60, expected 2 to %d",
				 n_nodes, NN_MAX_NODES);
		return -1;
	}
	if (need_bytes(r, (size_t) n_nodes * NODE_RECORD_BYTES, "the layer graph") != 0)
		return -1;
	arch->n_nodes = (int32_t) n_nodes;
	for (uint32_t i = 0; i < n_nodes; i++)
	{
		nn_node    *nd = &arch->nodes[i];
		uint32_t	v[6];

		for (int k = 0; k < 6; k++)
			(void) get_u32(r, &v[k], "node record");	/* bounds checked above */
		nd->op = (int32_t) v[0];
		nd->input[0] = (int32_t) v[1];
		nd->input[1] = (int32_t) v[2];
		nd->units = (int32_t) v[3];
		nd->size = (int32_t) v[4];
		nd->rate = bits_to_float(v[5]);
	}
	return 0;
}

/* The tensor table must repeat the model's tensors exactly. */
static int
read_tensor_table(blob_reader *r, const nn_model *model)
{
	uint32_t	n_tensors;
	size_t		at = r->pos;

	if (get_u32(r, &n_tensors, "tensor count") != 0)
		return -1;
	if (n_tensors != (uint32_t) model->n_tensors)
	{
		ecg_fail(r->st, ECG_ERR_FORMAT, "invalid model blob: %u tensors at offset %zu, the graph has %d",
				 n_tensors, at, model->n_tensors);
		return -1;
	}
	for (int i = 0; i < model->n_tensors; i++)
	{
		const nn_tensor *t = &model->tensors[i];
		uint32_t	name_len,
					rank;

		at = r->pos;
		if (get_u32(r, &name_len, "tensor name length") != 0)
			return -1;
		if (name_len == 0 || name_len >= NN_TENSOR_NAME_MAX)
		{
			ecg_fail(r->st, ECG_ERR_FORMAT, "invalid model blob: tensor %d name length %u at offset %zu (1 to %d)",
					 i, name_len, at, NN_TENSOR_NAME_MAX - 1);
			return -1;
		}
		if (need_bytes(r, name_len, "tensor name") != 0)
			return -1;
		if (name_len != strlen(t->name) || memcmp(r->buf + r->pos, t->name, name_len) != 0)
		{
			ecg_fail(r->st, ECG_ERR_FORMAT, "invalid model blob: tensor %d at offset %zu is not %s",
					 i, r->pos, t->name);
			return ecg_fail_detail(r->st, "the tensor table must list the graph's tensors in order");
		}
		r->pos += name_len;
		at = r->pos;
		if (get_u32(r, &rank, "tensor rank") != 0)
			return -1;
		if (rank != (uint32_t) t->rank)
		{
			ecg_fail(r->st, ECG_ERR_FORMAT, "invalid model blob: tensor %s has rank %u at offset %zu, the graph implies %d",
					 t->name, rank, at, t->rank);
			return -1;
		}
		for (int d = 0; d < t->rank; d++)
		{
			uint32_t	dim;

			at = r->pos;
			if (get_u32(r, &dim, "tensor dimension") != 0)
				return -1;
			if (dim != (uint32_t) t->dims[d])
			{
				ecg_fail(r->st, ECG_ERR_FORMAT, "invalid model blob: tensor %s dimension %d is %u at offset %zu, the graph implies %d",
						 t->name, d, dim, at, t->dims[d]);
				return -1;
			}
		}
	}
	return 0;
}

static int
read_tensor_data(blob_reader *r, nn_model *model)
{
	for (int i = 0; i < model->n_tensors; i++)
	{
		nn_tensor  *t = &model->tensors[i];
		int			is_variance = strstr(t->name, ".moving_var") != NULL;

		if (need_bytes(r, t->count * 4, "tensor data") != 0)
			return -1;
		for (size_t k = 0; k < t->count; k++)
		{
			float		f = bits_to_float(load_u32(r->buf + r->pos));

			if (!isfinite(f) || (is_variance && f < 0))
			{
				ecg_fail(r->st, ECG_ERR_FORMAT, "invalid model blob: %s[%zu] = %g at offset %zu",
						 t->name, k, (double) f, r->pos);
				return ecg_fail_detail(r->st, "weights must be finite and moving variances non-negative");
			}
			t->data[k] = f;
			r->pos += 4;
		}
	}
	return 0;
}

/*
 * The version 2 section: the features the graph's features node takes (each
 * one of the eight R-R feature names, none twice, with a finite mean and a
 * positive finite sd) and the operating point.
 */
static int
read_v2_section(blob_reader *r, nn_model *model)
{
	uint32_t	n_features,
				mode,
				v;
	size_t		at = r->pos;

	if (get_u32(r, &n_features, "feature count") != 0)
		return -1;
	if (n_features != (uint32_t) model->n_features)
	{
		ecg_fail(r->st, ECG_ERR_FORMAT, "invalid model blob: %u features at offset %zu, the graph's features node takes %d",
				 n_features, at, model->n_features);
		return ecg_fail_detail(r->st, "a model takes 0 to %d of the R-R features", NN_MAX_FEATURES);
	}
	for (uint32_t k = 0; k < n_features; k++)
	{
		uint32_t	len;
		int			id = -1;
		float		mean,
					sd;

		at = r->pos;
		if (get_u32(r, &len, "feature name length") != 0)
			return -1;
		if (len == 0 || len > 31 || need_bytes(r, len, "feature name") != 0)
		{
			if (len == 0 || len > 31)
				bad_blob(r->st, at, "bad feature name length", "a feature name has 1 to 31 characters");
			return -1;
		}
		for (int f = 0; f < RR_FEATURES; f++)
			if (strlen(rr_feature_names[f]) == len && memcmp(r->buf + r->pos, rr_feature_names[f], len) == 0)
				id = f;
		if (id < 0)
			return bad_blob(r->st, r->pos, "unknown feature name",
							"features are named rr_pre, rr_post, rr_local, rr_record, rr_pre_local, rr_post_local, rr_pre_record, rr_post_record, rr_window, rr_pre_window, rr_post_window");
		for (uint32_t j = 0; j < k; j++)
			if (model->feature_ids[j] == id)
				return bad_blob(r->st, r->pos, "feature named twice", "each feature appears once");
		r->pos += len;
		at = r->pos;
		if (get_u32(r, &v, "feature mean") != 0)
			return -1;
		mean = bits_to_float(v);
		if (get_u32(r, &v, "feature sd") != 0)
			return -1;
		sd = bits_to_float(v);
		if (!isfinite(mean) || !isfinite(sd) || !(sd > 0))
			return bad_blob(r->st, at, "bad feature standardisation",
							"a feature's mean is finite and its sd finite and positive");
		model->feature_ids[k] = id;
		model->feature_mean[k] = mean;
		model->feature_sd[k] = sd;
	}
	at = r->pos;
	if (get_u32(r, &mode, "operating point") != 0)
		return -1;
	if (mode > NN_DECISION_LAST)
		return bad_blob(r->st, at, "unknown operating point",
						"0 argmax, 1 prior, 2 validation");
	model->decision = (int32_t) mode;
	for (int c = 0; c < model->n_classes; c++)
	{
		float		off;

		at = r->pos;
		if (get_u32(r, &v, "class offset") != 0)
			return -1;
		off = bits_to_float(v);
		if (!isfinite(off) || fabsf(off) > NN_DECISION_MAX_OFFSET)
			return bad_blob(r->st, at, "bad class offset",
							"class offsets are finite and at most 20 in magnitude");
		model->class_offset[c] = off;
	}
	return 0;
}

/*
 * Length of the longest valid UTF-8 prefix of text[0..len): well-formed
 * sequences only (RFC 3629) - no overlong forms, no surrogates, nothing above
 * U+10FFFF.  len when all of it is valid.
 */
static size_t
valid_utf8_prefix(const uint8_t *text, size_t len)
{
	size_t		i = 0;

	while (i < len)
	{
		uint8_t		b = text[i];
		size_t		extra;
		uint8_t		lo = 0x80,
					hi = 0xBF;	/* allowed range of the second byte */

		if (b < 0x80)
		{
			i++;
			continue;
		}
		if (b >= 0xC2 && b <= 0xDF)
			extra = 1;
		else if (b >= 0xE0 && b <= 0xEF)
		{
			extra = 2;
			if (b == 0xE0)
				lo = 0xA0;		/* overlong below U+0800 */
			else if (b == 0xED)
				hi = 0x9F;		/* surrogates U+D800..U+DFFF */
		}
		else if (b >= 0xF0 && b <= 0xF4)
		{
			extra = 3;
			if (b == 0xF0)
				lo = 0x90;		/* overlong below U+10000 */
			else if (b == 0xF4)
				hi = 0x8F;		/* above U+10FFFF */
		}
		else
			return i;			/* continuation byte, C0, C1 or F5..FF */
		if (extra > len - i - 1 || text[i + 1] < lo || text[i + 1] > hi)
			return i;
		for (size_t k = 2; k <= extra; k++)
			if (text[i + k] < 0x80 || text[i + k] > 0xBF)
				return i;
		i += extra + 1;
	}
	return len;
}

static int
read_metadata(blob_reader *r, char **metadata)
{
	uint32_t	len;
	size_t		at = r->pos;

	if (get_u32(r, &len, "metadata length") != 0)
		return -1;
	if (len > MODEL_BLOB_MAX_METADATA)
	{
		ecg_fail(r->st, ECG_ERR_FORMAT, "invalid model blob: metadata length %u at offset %zu exceeds %d",
				 len, at, MODEL_BLOB_MAX_METADATA);
		return -1;
	}
	if (need_bytes(r, len, "metadata") != 0)
		return -1;
	if (memchr(r->buf + r->pos, 0, len) != NULL)
	{
		size_t		nul = (size_t) ((const uint8_t *) memchr(r->buf + r->pos, 0, len) - r->buf);

		return bad_blob(r->st, nul, "NUL byte in the metadata", "metadata is text without NUL bytes");
	}
	{
		size_t		valid = valid_utf8_prefix(r->buf + r->pos, len);

		if (valid < len)
			return bad_blob(r->st, r->pos + valid, "invalid UTF-8 in the metadata",
							"metadata is UTF-8 text");
	}
	if (metadata != NULL)
	{
		*metadata = ecg_alloc((size_t) len + 1);
		if (*metadata == NULL)
			return ecg_fail(r->st, ECG_ERR_NOMEM, "out of memory for %u bytes of model metadata", len);
		memcpy(*metadata, r->buf + r->pos, len);
		(*metadata)[len] = '\0';
	}
	r->pos += len;
	if (r->pos != r->end)
	{
		ecg_fail(r->st, ECG_ERR_FORMAT, "invalid model blob: %zu unexpected bytes at offset %zu before the checksum",
				 r->end - r->pos, r->pos);
		if (metadata != NULL)
		{
			ecg_free(*metadata);
			*metadata = NULL;
		}
		return -1;
	}
	return 0;
}

/*
 * A well-formed graph must also be one ecgdl can run: the shape the
 * classification code feeds and reads (nn_model.h), and a bounded workspace.
 */
static int
check_contract(const nn_model *model, ecg_status *st)
{
	size_t		workspace;

	if (model->input_length != NN_INPUT_LENGTH || model->input_channels != NN_INPUT_CHANNELS)
	{
		ecg_fail(st, ECG_ERR_FORMAT, "invalid model blob: input of %d samples x %d channels (offset 48)",
				 model->input_length, model->input_channels);
		return ecg_fail_detail(st, "ecgdl models take beats of %d samples x %d channel",
							   NN_INPUT_LENGTH, NN_INPUT_CHANNELS);
	}
	if (model->n_classes != NN_N_CLASSES)
	{
		ecg_fail(st, ECG_ERR_FORMAT, "invalid model blob: %d classes (offset 56)", model->n_classes);
		return ecg_fail_detail(st, "ecgdl models score the %d AAMI classes", NN_N_CLASSES);
	}
	workspace = nn_workspace_bytes(model, NN_INFERENCE_BATCH, 0);
	if (workspace == 0 || workspace > MODEL_BLOB_MAX_WORKSPACE)
	{
		ecg_fail(st, ECG_ERR_FORMAT, "invalid model blob: the layer graph needs %zu bytes of activations for %d rows (offset 64)",
				 workspace, NN_INFERENCE_BATCH);
		return ecg_fail_detail(st, "at most %d bytes are allowed (the built-in architectures need at most about 11 MB)",
							   MODEL_BLOB_MAX_WORKSPACE);
	}
	return 0;
}

nn_model *
model_blob_decode(const uint8_t *blob, size_t len, char **metadata, ecg_status *st)
{
	blob_reader r;
	nn_arch	   *arch;
	nn_model   *model = NULL;
	uint32_t	shape[3];

	if (metadata != NULL)
		*metadata = NULL;
	if (blob == NULL)
		len = 0;
	if (check_envelope(blob, len, st) != 0)
		return NULL;
	r.buf = blob;
	r.end = len - CRC_BYTES;
	r.pos = 16;
	r.st = st;
	arch = ecg_alloc(sizeof(nn_arch));
	if (arch == NULL)
	{
		ecg_fail(st, ECG_ERR_NOMEM, "out of memory decoding a model blob");
		return NULL;
	}
	if (read_arch(&r, arch, shape) != 0)
		goto fail;
	if (nn_arch_validate(arch, st) != 0)
	{
		/* keep the validator's message, say where the graph came from */
		ecg_fail_detail(st, "in the layer graph of a model blob (offset 64)");
		st->kind = ECG_ERR_FORMAT;
		goto fail;
	}
	/* every weight takes 4 bytes of what is left: refuse before allocating */
	if (nn_arch_param_floats(arch) > (r.end - r.pos) / 4)
	{
		ecg_fail(st, ECG_ERR_FORMAT, "model blob truncated: the layer graph needs %zu weight bytes, %zu bytes remain at offset %zu",
				 4 * nn_arch_param_floats(arch), r.end - r.pos, r.pos);
		goto fail;
	}
	model = nn_model_create_from_arch(arch, st);
	if (model == NULL)
		goto fail;
	if (shape[0] != (uint32_t) model->input_length || shape[1] != (uint32_t) model->input_channels ||
		shape[2] != (uint32_t) model->n_classes)
	{
		ecg_fail(st, ECG_ERR_FORMAT, "invalid model blob: header shape %u x %u -> %u classes (offset 48) disagrees with the graph (%d x %d -> %d)",
				 shape[0], shape[1], shape[2], model->input_length, model->input_channels,
				 model->n_classes);
		goto fail;
	}
	if (check_contract(model, st) != 0)
		goto fail;
	if (load_u32(blob + 8) == 1 && model->n_features > 0)
	{
		ecg_fail(st, ECG_ERR_FORMAT, "invalid model blob: a features node (node %d) in a version 1 blob",
				 model->features_node);
		ecg_fail_detail(st, "models that take features are stored in format version 2");
		goto fail;
	}
	if (read_tensor_table(&r, model) != 0 || read_tensor_data(&r, model) != 0 ||
		(load_u32(blob + 8) == 2 && read_v2_section(&r, model) != 0) ||
		read_metadata(&r, metadata) != 0)
		goto fail;
	ecg_free(arch);
	return model;

fail:
	nn_model_free(model);
	ecg_free(arch);
	return NULL;
}
