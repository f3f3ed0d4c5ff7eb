/*
 * crc32.h - CRC-32 (IEEE 802.3 / zlib / PNG: reflected polynomial 0xEDB88320,
 * initial value and final xor 0xFFFFFFFF).  crc32_compute("123456789") is
 * 0xCBF43926.
 */
#ifndef ECG_CRC32_H
#define ECG_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* CRC-32 of len bytes. */
uint32_t	crc32_compute(const void *data, size_t len);

/*
 * Incremental form: crc = crc32_update(0, a, na); crc = crc32_update(crc, b, nb)
 * gives the same value as crc32_compute over a followed by b.
 */
uint32_t	crc32_update(uint32_t crc, const void *data, size_t len);

#endif
