/*
 * fuzz_dat_header.h - the small WFDB header the .dat fuzzer decodes with.
 *
 * The first FUZZ_DAT_PREFIX bytes of a fuzz input choose the header; the rest
 * is the signal file:
 *
 *   byte 0   format: fuzz_dat_formats[byte % FUZZ_DAT_N_FORMATS]
 *   byte 1   bits 0-1: signals in the file, 1 + (bits % 3)
 *            bit 2:    signal 0 has 2 samples per frame
 *            bits 3-4: skew of signal 0 (0..3 frames)
 *            bit 5:    3-byte prolog (byte offset 3) on every signal
 *            bit 6:    the record line gives the number of samples (byte 2)
 *            bit 7:    every signal line gives a checksum (bytes 2-3)
 *   byte 2   number of samples / checksum low byte / initial value - 128
 *   byte 3   checksum high byte; the decoded signal is byte % signals
 *
 * Shared by fuzz_wfdb_dat.c and make_seeds.c so that the seeds exercise
 * exactly the headers the fuzzer builds.
 */
#ifndef ECG_FUZZ_DAT_HEADER_H
#define ECG_FUZZ_DAT_HEADER_H

#include <stdint.h>
#include <stdio.h>

#define FUZZ_DAT_PREFIX 4
#define FUZZ_DAT_N_FORMATS 10
#define FUZZ_DAT_HEADER_MAX 512

static const int fuzz_dat_formats[FUZZ_DAT_N_FORMATS] = {212, 16, 310, 311, 80, 61, 8, 24, 32, 160};

typedef struct fuzz_dat_choice
{
	int			format;
	int			n_signals;
	int			signal;			/* the one to decode */
	int			spf0;
	int			skew0;
	int			byte_offset;
	int			n_samples;		/* 0: not given */
	int			checksum_given;
	int			checksum;
	int			initial_value;
} fuzz_dat_choice;

static inline fuzz_dat_choice
fuzz_dat_choose(const uint8_t prefix[FUZZ_DAT_PREFIX])
{
	fuzz_dat_choice c;
	uint8_t		v = prefix[1];

	c.format = fuzz_dat_formats[prefix[0] % FUZZ_DAT_N_FORMATS];
	c.n_signals = 1 + (v & 3) % 3;
	c.spf0 = (v & 4) ? 2 : 1;
	c.skew0 = (v >> 3) & 3;
	c.byte_offset = (v & 32) ? 3 : 0;
	c.n_samples = (v & 64) ? prefix[2] : 0;
	c.checksum_given = (v & 128) != 0;
	c.checksum = (int16_t) (uint16_t) (prefix[2] | (prefix[3] << 8));
	c.initial_value = (int) prefix[2] - 128;
	c.signal = prefix[3] % c.n_signals;
	return c;
}

/* Writes the header text of choice c into buf[FUZZ_DAT_HEADER_MAX]; returns
 * its length. */
static inline size_t
fuzz_dat_header_text(const fuzz_dat_choice *c, char *buf)
{
	size_t		len;

	if (c->n_samples > 0)
		len = (size_t) snprintf(buf, FUZZ_DAT_HEADER_MAX, "fz %d 360 %d\n", c->n_signals, c->n_samples);
	else
		len = (size_t) snprintf(buf, FUZZ_DAT_HEADER_MAX, "fz %d 360\n", c->n_signals);
	for (int i = 0; i < c->n_signals; i++)
	{
		char		format[64];
		int			spf = i == 0 ? c->spf0 : 1;
		int			skew = i == 0 ? c->skew0 : 0;

		snprintf(format, sizeof(format), "%d%s%s%s", c->format,
				 spf > 1 ? "x2" : "", skew == 1 ? ":1" : skew == 2 ? ":2" : skew == 3 ? ":3" : "",
				 c->byte_offset ? "+3" : "");
		if (c->checksum_given)
			len += (size_t) snprintf(buf + len, FUZZ_DAT_HEADER_MAX - len,
									 "fz.dat %s 200/mV 0 0 %d %d 0 lead%d\n",
									 format, c->initial_value, c->checksum, i);
		else
			len += (size_t) snprintf(buf + len, FUZZ_DAT_HEADER_MAX - len,
									 "fz.dat %s 200 0 0 %d\n", format, c->initial_value);
	}
	return len;
}

#endif
