/*
 * model_blob.h - the binary serialisation of a model (stored as bytea).
 *
 * FORMAT (versions 1 and 2).  All integers are unsigned 32-bit little-endian unless
 * said otherwise; floats are IEEE-754 binary32, little-endian.
 *
 *   offset  size    field
 *   0       8       magic, the ASCII bytes "ECGDLMDL"
 *   8       4       format version (1 or 2; a model without features and with
 *                   the argmax operating point is written as version 1)
 *   12      4       total length of the blob in bytes, CRC included
 *   16      32      architecture name: printable ASCII, NUL-padded (at least
 *                   one NUL; every byte after the first NUL is NUL)
 *   48      4       input length (must be 200, NN_INPUT_LENGTH)
 *   52      4       input channels (must be 1)
 *   56      4       number of classes (must be 5)
 *   60      4       n_nodes (1..64)
 *   64      24 * n_nodes  the layer graph, one record per node, in order:
 *                     op (u32: 1 input, 2 conv1d, 3 dense, 4 batchnorm,
 *                     5 relu, 6 dropout, 7 maxpool, 8 add, 9 flatten),
 *                     input0 (i32), input1 (i32; -1 = unused),
 *                     units (i32), size (i32), rate (f32)
 *                   (field meanings: nn_model.h, struct nn_node)
 *   .       4       n_tensors
 *   .       .       tensor table, per tensor: name length (u32, 1..47), the
 *                   name (ASCII, no NUL), rank (u32, 1..3), dims (u32 * rank)
 *   .       .       tensor data: for every tensor in table order, its values
 *                   (float32 * product of dims) in the layouts of nn_model.h
 *                   (conv kernel [kernel][in][out], dense kernel [in][out]);
 *                   batch-norm moving mean and variance included
 *   -- version 2 only:
 *   .       4       n_features, the width of the graph's features node (0
 *                   without one; at most 8)
 *   .       .       per feature: name length (u32, 1..31), the name (one of
 *                   rr_feature_names, rr_features.h; none twice), mean (f32,
 *                   finite), sd (f32, finite, > 0): the standardisation
 *                   (x - mean) / sd applied to the raw feature
 *   .       4       operating point (0 argmax, 1 prior, 2 validation; nn_model.h)
 *   .       4 * c   class offsets (f32, finite, |x| <= 20), c = classes
 *   --
 *   .       4       metadata length m (0..1 MiB)
 *   .       m       metadata: free text (valid UTF-8, no NUL), e.g.
 *                   training history; written by the caller, otherwise
 *                   opaque to the format
 *   len-4   4       CRC-32 (IEEE, as zlib's crc32) of every byte before it
 *
 * The tensor table must list exactly the tensors the graph implies, in the
 * model's order (nn_model.h), with the same names and shapes: the graph is
 * authoritative, the table is a cross-check that makes the blob
 * self-describing.
 *
 * Decoding validates everything before use - length, magic, version, length
 * field, checksum, every count and size (overflow-checked), the graph
 * (nn_arch_validate; a features node only in version 2), the tensor table
 * against the graph, the version 2 section, finite weights and
 * non-negative moving variances, metadata of valid UTF-8 without NUL, no
 * trailing bytes - and never reads outside the buffer.  A well-formed graph
 * must also be runnable by ecgdl: input 200 samples x 1 channel and 5 classes
 * (what the classification code feeds and reads, nn_model.h), and an
 * inference workspace for NN_INFERENCE_BATCH rows of at most
 * MODEL_BLOB_MAX_WORKSPACE bytes (a tiny blob must not demand huge
 * activations).  Any defect is ECG_ERR_FORMAT with the byte offset (or node
 * / tensor) in the message.
 */
#ifndef ECG_MODEL_BLOB_H
#define ECG_MODEL_BLOB_H

#include <stddef.h>
#include <stdint.h>

#include "ecg_core.h"
#include "nn_model.h"

#define MODEL_BLOB_MAGIC "ECGDLMDL"
#define MODEL_BLOB_VERSION 2	/* the newest version read and written */
#define MODEL_BLOB_MAX_METADATA (1024 * 1024)
/* Largest inference workspace a decoded model may need for a batch of
 * NN_INFERENCE_BATCH rows (activations and kernel scratch): about 6 times what
 * the widest built-in architecture, cnn_wide, needs. */
#define MODEL_BLOB_MAX_WORKSPACE (64 * 1024 * 1024)

/*
 * Bytes the blob of `model` with metadata_len bytes of metadata needs; 0 when
 * it would not fit the format (over 4 GiB or metadata too long).
 */
size_t		model_blob_size(const nn_model *model, size_t metadata_len);

/*
 * Encodes into buf[buf_len] (buf_len must be model_blob_size(); the glue
 * encodes straight into a bytea).  metadata may be NULL (none).  Fails with
 * ECG_ERR_DATA when a weight is not finite.
 */
int			model_blob_encode_into(const nn_model *model, const char *metadata, uint8_t *buf,
								   size_t buf_len, ecg_status *st);

/* The same into a new ecg_alloc'd buffer (*blob, *blob_len). */
int			model_blob_encode(const nn_model *model, const char *metadata, uint8_t **blob,
							  size_t *blob_len, ecg_status *st);

/*
 * Rebuilds the model stored in blob[len].  When metadata is not NULL,
 * *metadata receives the metadata as an ecg_alloc'd NUL-terminated string
 * (empty when there is none).  NULL with *st set on failure.
 */
nn_model   *model_blob_decode(const uint8_t *blob, size_t len, char **metadata, ecg_status *st);

#endif
