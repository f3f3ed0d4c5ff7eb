/*
 * unit.h - a small unit-test harness for the pure C core.
 *
 * Each test is a function; CHECK* macros record failures with file and line.
 * The program prints one TAP-like line per test ("ok - name" or
 * "not ok - name") and exits non-zero when any test failed; the test command
 * counts those lines.
 */
#ifndef ECG_UNIT_H
#define ECG_UNIT_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static int	unit_current_failures;
static int	unit_tests_failed;
static int	unit_tests_run;

#define CHECK(cond) \
	do { \
		if (!(cond)) { \
			unit_current_failures++; \
			fprintf(stderr, "  %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
		} \
	} while (0)

#define CHECK_MSG(cond, ...) \
	do { \
		if (!(cond)) { \
			unit_current_failures++; \
			fprintf(stderr, "  %s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__); \
			fputc('\n', stderr); \
		} \
	} while (0)

/* |a - b| <= tol * max(1, |b|): relative for large values, absolute near 0 */
#define CHECK_CLOSE(a, b, tol) \
	do { \
		double unit_a_ = (double) (a), unit_b_ = (double) (b); \
		double unit_scale_ = fabs(unit_b_) > 1.0 ? fabs(unit_b_) : 1.0; \
		if (!(fabs(unit_a_ - unit_b_) <= (tol) * unit_scale_)) { \
			unit_current_failures++; \
			fprintf(stderr, "  %s:%d: %s = %.9g, expected %s = %.9g (tol %g)\n", \
					__FILE__, __LINE__, #a, unit_a_, #b, unit_b_, (double) (tol)); \
		} \
	} while (0)

#define RUN_TEST(fn) \
	do { \
		unit_current_failures = 0; \
		fn(); \
		unit_tests_run++; \
		if (unit_current_failures) { \
			unit_tests_failed++; \
			printf("not ok - %s\n", #fn); \
		} else \
			printf("ok - %s\n", #fn); \
		fflush(stdout); \
	} while (0)

#define UNIT_EXIT() \
	do { \
		printf("# %d tests, %d failed\n", unit_tests_run, unit_tests_failed); \
		return unit_tests_failed ? 1 : 0; \
	} while (0)

/* The bytes of dir/file, malloc'd and NUL-terminated (for header text), or
 * NULL when the file cannot be read; *len receives their number. */
static inline uint8_t *
unit_read_file(const char *dir, const char *file, size_t *len)
{
	char		path[4096];
	FILE	   *f;
	uint8_t    *buf;
	long		size;

	*len = 0;
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
		(buf = malloc((size_t) size + 1)) == NULL)
	{
		fclose(f);
		return NULL;
	}
	*len = fread(buf, 1, (size_t) size, f);
	buf[*len] = 0;
	fclose(f);
	return buf;
}

#endif
