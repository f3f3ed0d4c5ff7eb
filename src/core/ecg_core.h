/*
 * ecg_core.h - shared foundations of the pure C core of ecgdl.
 *
 * Nothing under src/core includes postgres.h.  The core reports failures
 * through an ecg_status (a kind plus a message and a detail), allocates through
 * a replaceable allocator and polls a replaceable interrupt hook.  The
 * PostgreSQL glue installs palloc-based allocation (so an error or a cancel
 * thrown from the interrupt hook frees everything) and CHECK_FOR_INTERRUPTS();
 * standalone programs (unit tests, fuzzers, benchmarks) use the defaults:
 * malloc/free and no polling.
 *
 * Rules for core code:
 *  - every allocation goes through ecg_alloc, ecg_alloc_array and ecg_free, sizes checked for
 *    overflow (ecg_alloc_array does it);
 *  - long loops call ecg_check_interrupts() at least every few milliseconds of
 *    work, and only from the calling thread while no worker thread runs, and
 *    while holding nothing but ecg_alloc memory (the hook may not return);
 *  - functions that can fail return 0 on success and -1 on failure, with the
 *    reason in *st.
 */
#ifndef ECG_CORE_H
#define ECG_CORE_H

#include <stddef.h>
#include <stdint.h>

typedef enum ecg_error_kind
{
	ECG_OK = 0,
	ECG_ERR_NOMEM,			/* allocation failed, or a size overflows */
	ECG_ERR_ARGUMENT,		/* a caller-supplied value is out of range */
	ECG_ERR_FORMAT,			/* bytes or text do not follow their format */
	ECG_ERR_UNSUPPORTED,	/* well-formed, but not supported */
	ECG_ERR_DATA,			/* data disagree with themselves (header vs. file) */
	ECG_ERR_LIMIT			/* work would exceed the configured memory limit */
} ecg_error_kind;

typedef struct ecg_status
{
	ecg_error_kind kind;
	char		message[256];
	char		detail[512];
} ecg_status;

void		ecg_status_clear(ecg_status *st);

/* Sets kind and message (printf-style); clears detail.  Returns -1. */
int			ecg_fail(ecg_status *st, ecg_error_kind kind, const char *fmt,...)
			__attribute__((format(printf, 3, 4)));

/* Sets the detail of an already failed status (printf-style).  Returns -1. */
int			ecg_fail_detail(ecg_status *st, const char *fmt,...)
			__attribute__((format(printf, 2, 3)));

/* Allocation ------------------------------------------------------------- */

typedef struct ecg_allocator
{
	void	   *(*alloc) (size_t size, void *ctx);	/* NULL on failure */
	void	   *(*resize) (void *ptr, size_t size, void *ctx);	/* NULL on failure */
	void		(*release) (void *ptr, void *ctx);
	void	   *ctx;
} ecg_allocator;

/* Installs an allocator (NULL restores malloc/realloc/free). */
void		ecg_set_allocator(const ecg_allocator *allocator);

void	   *ecg_alloc(size_t size);
/* count * size bytes, NULL on failure or overflow */
void	   *ecg_alloc_array(size_t count, size_t size);
/* the same, zero-filled */
void	   *ecg_calloc_array(size_t count, size_t size);
/* resizes to count * size bytes, NULL on failure or overflow (ptr untouched) */
void	   *ecg_realloc_array(void *ptr, size_t count, size_t size);
void		ecg_free(void *ptr);

/* a * b into *out; returns 0, or -1 on overflow */
int			ecg_size_mul(size_t a, size_t b, size_t *out);

/* Memory limit: 0 = none.  Functions that size big work areas compare their
 * estimate with it before allocating and fail with ECG_ERR_LIMIT. */
void		ecg_set_memory_limit(size_t bytes);
size_t		ecg_memory_limit(void);
/* Returns 0 when `bytes` fits the limit, else fails *st with ECG_ERR_LIMIT
 * naming `what`. */
int			ecg_check_memory(size_t bytes, const char *what, ecg_status *st);

/* Interrupts ------------------------------------------------------------- */

void		ecg_set_interrupt_hook(void (*hook) (void));
/* Calls the hook, if any.  May not return (the glue's hook throws). */
void		ecg_check_interrupts(void);

#endif
