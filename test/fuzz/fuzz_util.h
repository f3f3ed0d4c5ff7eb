/*
 * fuzz_util.h - checks shared by the libFuzzer targets.
 *
 * A failed check prints what failed and aborts, which libFuzzer reports as a
 * crash and saves the input as a reproducer.
 */
#ifndef ECG_FUZZ_UTIL_H
#define ECG_FUZZ_UTIL_H

#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ecg_core.h"

#define FUZZ_ASSERT(cond) \
	do { \
		if (!(cond)) { \
			fprintf(stderr, "%s:%d: fuzz check failed: %s\n", __FILE__, __LINE__, #cond); \
			abort(); \
		} \
	} while (0)

/*
 * A parser that refused its input must say why: a failure kind and a
 * non-empty message (the detail is optional).
 */
#define FUZZ_EXPECT_FAILURE(st) \
	do { \
		FUZZ_ASSERT((st)->kind != ECG_OK); \
		FUZZ_ASSERT((st)->message[0] != '\0'); \
		FUZZ_ASSERT(memchr((st)->message, '\0', sizeof((st)->message)) != NULL); \
		FUZZ_ASSERT(memchr((st)->detail, '\0', sizeof((st)->detail)) != NULL); \
	} while (0)

/* Reads every value, so that ASan checks the whole array was allocated. */
static inline void
fuzz_touch_int32(const int32_t *v, int64_t n)
{
	volatile int32_t sink = 0;

	for (int64_t i = 0; i < n; i++)
		sink ^= v[i];
	(void) sink;
}

#endif
