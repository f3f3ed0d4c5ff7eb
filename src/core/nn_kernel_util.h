/*
 * nn_kernel_util.h - private helpers shared by the layer kernels (nn_*.c):
 * the fixed work partition, workspace carving, 16-float vectors and the
 * dropout mask function.  Not part of the public API.
 */
#ifndef ECG_NN_KERNEL_UTIL_H
#define ECG_NN_KERNEL_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "nn_layers.h"

/*
 * Let the compiler fuse a*b+c into one FMA instruction.  ISO C mode
 * (-std=c11) turns contraction off in GCC, which would halve the speed of the
 * multiply-accumulate loops.
 */
#if defined(__clang__)
#pragma clang fp contract(fast)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=fast")
#endif

/*
 * NN_KERNEL marks the kernels' task functions (those run by nn_pool_run).  A
 * portable build (no AVX2 at compile time: OPTFLAGS="", as the Debian package
 * is built) gives each three versions - x86-64-v4 (AVX-512), x86-64-v3 (AVX2
 * and FMA) and the x86-64 baseline - and the dynamic loader picks the best the
 * CPU has (an ifunc resolver reading CPUID).  `flatten` inlines every helper
 * into each version, so the whole task runs with the chosen instructions.
 * The 16-float vectors compute lane by lane whatever the register width, so
 * the v4 and v3 versions give the bits of a -march=native build on any CPU
 * with FMA (make portable-check); the baseline version, for CPUs without FMA,
 * rounds a*b+c twice and may differ in the last bits.
 * A build for a given CPU (-march=native, the default) needs no versions.
 */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__AVX2__)
#define NN_KERNEL __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default"), flatten))
#else
#define NN_KERNEL
#endif

/* Workspace sub-buffers start at this alignment. */
#define NN_WS_ALIGN 64

static inline size_t
nn_round_up(size_t n)
{
	return (n + NN_WS_ALIGN - 1) / NN_WS_ALIGN * NN_WS_ALIGN;
}

/* Hands out consecutive aligned pieces of a workspace. */
typedef struct nn_ws_cursor
{
	uintptr_t	next;
} nn_ws_cursor;

static inline nn_ws_cursor
nn_ws_start(void *workspace)
{
	nn_ws_cursor c;

	c.next = ((uintptr_t) workspace + NN_WS_ALIGN - 1) & ~(uintptr_t) (NN_WS_ALIGN - 1);
	return c;
}

static inline void *
nn_ws_take(nn_ws_cursor *c, size_t bytes)
{
	void	   *p = (void *) c->next;

	c->next += nn_round_up(bytes);
	return p;
}

/* [begin, end) of part `part` when n items are split into NN_PARTS parts */
static inline void
nn_part_range(size_t n, int part, size_t *begin, size_t *end)
{
	*begin = n / NN_PARTS * (size_t) part + (n % NN_PARTS < (size_t) part ? n % NN_PARTS : (size_t) part);
	*end = *begin + n / NN_PARTS + ((size_t) part < n % NN_PARTS ? 1 : 0);
}

/* 16 floats (one AVX-512 register); may point anywhere a float may. */
typedef float nn_v16 __attribute__((vector_size(64), aligned(4), may_alias));

/* macros, not functions: passing 64-byte vectors by value changes the ABI without AVX-512 */
#define nn_v16_load(p) (*(const nn_v16 *) (p))
#define nn_v16_store(p, v) (*(nn_v16 *) (p) = (v))
#define nn_v16_splat(x) ((nn_v16) {0} + (float) (x))

/*
 * Dropout randomness: element i keeps its value when 32 hashed bits are
 * >= threshold = rate * 2^32.  The bits are a counter-based hash of
 * (seed, i) - independent of how the elements are split among threads:
 * key = 32 bits of splitmix64(seed + (i >> 32)), bits = lowbias32(i ^ key)
 * (C. Wellons' 32-bit integer hash; cheap in 32-bit vector lanes).
 */
static inline uint64_t
nn_mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static inline uint32_t
nn_hash32(uint32_t x)
{
	x ^= x >> 16;
	x *= UINT32_C(0x7feb352d);
	x ^= x >> 15;
	x *= UINT32_C(0x846ca68b);
	x ^= x >> 16;
	return x;
}

static inline uint32_t
nn_dropout_key(uint64_t seed, size_t i)
{
	return (uint32_t) nn_mix64(seed + ((uint64_t) i >> 32));
}

static inline uint32_t
nn_dropout_bits(uint64_t seed, size_t i)
{
	return nn_hash32((uint32_t) i ^ nn_dropout_key(seed, i));
}

static inline uint64_t
nn_dropout_threshold(float rate)
{
	double		t = (double) rate * 4294967296.0;

	if (!(t > 0))
		return 0;
	if (t > 4294967295.0)
		return UINT64_C(4294967295);
	return (uint64_t) (t + 0.5);
}

/* Integer and byte vectors for selects and masks. */
typedef int32_t nn_v16i __attribute__((vector_size(64), aligned(4), may_alias));
typedef uint32_t nn_v16u __attribute__((vector_size(64), aligned(4), may_alias));
typedef uint8_t nn_v16b __attribute__((vector_size(16), aligned(1), may_alias));

/* lanes of v where keep (an integer vector of 0 / -1) is set, +0.0 elsewhere */
#define nn_v16_select(keep, v) ((nn_v16) ((nn_v16i) (v) & (keep)))
/*
 * 16 mask bytes (0/1) at p as select lanes (-1 / 0).  GCC lowers the generic
 * byte-to-int vector conversion to a slow unpack chain, so AVX-512 builds use
 * the one-instruction zero extension (vpmovzxbd).
 */
#ifdef __AVX512F__
#include <immintrin.h>
#define nn_v16_mask_lanes(p) \
	(-(nn_v16i) _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *) (p))))
#else
#define nn_v16_mask_lanes(p) (-__builtin_convertvector(*(const nn_v16b *) (p), nn_v16i))
#endif

/* mask[i - begin] for elements i in [begin, end); 16 at a time where aligned */
static inline void
nn_dropout_fill_mask(uint8_t *mask, uint64_t seed, uint64_t threshold, size_t begin, size_t end)
{
	size_t		i = begin;
	const nn_v16u step = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
	const nn_v16u thr = (nn_v16u) {0} + (uint32_t) threshold;

	for (; i < end && (i % 16) != 0; i++)
		mask[i - begin] = nn_dropout_bits(seed, i) >= threshold;
	while (i + 16 <= end)
	{
		/* a run of 16-groups that share the key (the same i >> 32) */
		uint32_t	key = nn_dropout_key(seed, i);
		size_t		run_end = ((i >> 32) + 1) << 32;

		if (run_end > end || run_end < i)
			run_end = end;
		for (; i + 16 <= run_end; i += 16)
		{
			nn_v16u		x = (((uint32_t) i + step) ^ key);

			x ^= x >> 16;
			x *= UINT32_C(0x7feb352d);
			x ^= x >> 15;
			x *= UINT32_C(0x846ca68b);
			x ^= x >> 16;
			/* x >= thr gives -1 / 0 lanes; negate to 1 / 0 bytes */
			*(nn_v16b *) (mask + (i - begin)) =
				__builtin_convertvector(-(nn_v16i) (x >= thr), nn_v16b);
		}
		if (run_end == end)
			break;
	}
	for (; i < end; i++)
		mask[i - begin] = nn_dropout_bits(seed, i) >= threshold;
}

#endif
