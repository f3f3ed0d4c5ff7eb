/*
 * ecg_core.c - status, allocation and interrupt plumbing of the core.
 */
#include "ecg_core.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
ecg_status_clear(ecg_status *st)
{
	st->kind = ECG_OK;
	st->message[0] = '\0';
	st->detail[0] = '\0';
}

int
ecg_fail(ecg_status *st, ecg_error_kind kind, const char *fmt,...)
{
	va_list		ap;

	st->kind = kind;
	va_start(ap, fmt);
	vsnprintf(st->message, sizeof(st->message), fmt, ap);
	va_end(ap);
	st->detail[0] = '\0';
	return -1;
}

int
ecg_fail_detail(ecg_status *st, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(st->detail, sizeof(st->detail), fmt, ap);
	va_end(ap);
	return -1;
}

static void *
default_alloc(size_t size, void *ctx)
{
	(void) ctx;
	return malloc(size == 0 ? 1 : size);
}

static void *
default_resize(void *ptr, size_t size, void *ctx)
{
	(void) ctx;
	return realloc(ptr, size == 0 ? 1 : size);
}

static void
default_release(void *ptr, void *ctx)
{
	(void) ctx;
	free(ptr);
}

static ecg_allocator current_allocator = {default_alloc, default_resize, default_release, NULL};
static size_t memory_limit_bytes = 0;
static void (*interrupt_hook) (void) = NULL;

void
ecg_set_allocator(const ecg_allocator *allocator)
{
	if (allocator == NULL)
	{
		current_allocator.alloc = default_alloc;
		current_allocator.resize = default_resize;
		current_allocator.release = default_release;
		current_allocator.ctx = NULL;
	}
	else
		current_allocator = *allocator;
}

int
ecg_size_mul(size_t a, size_t b, size_t *out)
{
	if (a != 0 && b > SIZE_MAX / a)
		return -1;
	*out = a * b;
	return 0;
}

void *
ecg_alloc(size_t size)
{
	return current_allocator.alloc(size, current_allocator.ctx);
}

void *
ecg_alloc_array(size_t count, size_t size)
{
	size_t		total;

	if (ecg_size_mul(count, size, &total) != 0)
		return NULL;
	return ecg_alloc(total);
}

void *
ecg_calloc_array(size_t count, size_t size)
{
	size_t		total;
	void	   *p;

	if (ecg_size_mul(count, size, &total) != 0)
		return NULL;
	p = ecg_alloc(total);
	if (p != NULL)
		memset(p, 0, total);
	return p;
}

void *
ecg_realloc_array(void *ptr, size_t count, size_t size)
{
	size_t		total;

	if (ecg_size_mul(count, size, &total) != 0)
		return NULL;
	if (ptr == NULL)
		return ecg_alloc(total);
	return current_allocator.resize(ptr, total, current_allocator.ctx);
}

void
ecg_free(void *ptr)
{
	if (ptr != NULL)
		current_allocator.release(ptr, current_allocator.ctx);
}

void
ecg_set_memory_limit(size_t bytes)
{
	memory_limit_bytes = bytes;
}

size_t
ecg_memory_limit(void)
{
	return memory_limit_bytes;
}

int
ecg_check_memory(size_t bytes, const char *what, ecg_status *st)
{
	if (memory_limit_bytes != 0 && bytes > memory_limit_bytes)
	{
		ecg_fail(st, ECG_ERR_LIMIT, "%s needs %zu MB, more than the memory limit of %zu MB",
				 what, bytes >> 20, memory_limit_bytes >> 20);
		return -1;
	}
	return 0;
}

void
ecg_set_interrupt_hook(void (*hook) (void))
{
	interrupt_hook = hook;
}

void
ecg_check_interrupts(void)
{
	if (interrupt_hook != NULL)
		interrupt_hook();
}

