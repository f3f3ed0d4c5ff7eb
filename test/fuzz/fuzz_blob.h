/*
 * fuzz_blob.h - shared by the model blob targets (fuzz_model_blob,
 * fuzz_model_run): nearly every mutation breaks a blob's CRC-32, so the
 * targets also rewrite the length field and the checksum of their input to
 * match, which lets mutations reach the checks behind the checksum (graph,
 * tensor table, weights, metadata).  Offsets: src/core/model_blob.h.
 */
#ifndef ECG_FUZZ_BLOB_H
#define ECG_FUZZ_BLOB_H

#include <stddef.h>
#include <stdint.h>

#include "crc32.h"

#define FUZZ_BLOB_LENGTH_OFFSET 12
/* magic, version and length field, and the trailing checksum */
#define FUZZ_BLOB_MIN_BYTES (16 + 4)

static inline void
fuzz_put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t) v;
	p[1] = (uint8_t) (v >> 8);
	p[2] = (uint8_t) (v >> 16);
	p[3] = (uint8_t) (v >> 24);
}

/* Sets the length field of blob[size] to size and its last 4 bytes to the
 * CRC-32 of the rest; size must be FUZZ_BLOB_MIN_BYTES .. UINT32_MAX. */
static inline void
fuzz_blob_fix_envelope(uint8_t *blob, size_t size)
{
	fuzz_put_le32(blob + FUZZ_BLOB_LENGTH_OFFSET, (uint32_t) size);
	fuzz_put_le32(blob + size - 4, crc32_compute(blob, size - 4));
}

#endif
