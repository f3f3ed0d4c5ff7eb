/*
 * crc32.c - table-driven CRC-32 (reflected, polynomial 0xEDB88320).
 *
 * The 256-entry table is computed at first use; computing it twice from two
 * threads at once is harmless (both write the same values).
 */
#include "crc32.h"

static uint32_t crc_table[256];
static int	crc_table_ready = 0;

static void
crc32_build_table(void)
{
	for (uint32_t byte = 0; byte < 256; byte++)
	{
		uint32_t	c = byte;

		for (int bit = 0; bit < 8; bit++)
			c = (c & 1) ? (c >> 1) ^ UINT32_C(0xEDB88320) : c >> 1;
		crc_table[byte] = c;
	}
	crc_table_ready = 1;
}

uint32_t
crc32_update(uint32_t crc, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t	c = crc ^ UINT32_C(0xFFFFFFFF);

	if (!crc_table_ready)
		crc32_build_table();
	for (size_t i = 0; i < len; i++)
		c = crc_table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
	return c ^ UINT32_C(0xFFFFFFFF);
}

uint32_t
crc32_compute(const void *data, size_t len)
{
	return crc32_update(0, data, len);
}
