/*
 * oversample_bench - times the core's k-NN and the three oversamplers on
 * synthetic beat-like rows.
 *
 * Usage: oversample_bench [N [DIM]] [--write FILE] [--seed S] [--threads T]
 *        oversample_bench --read FILE [--threads T]
 *   N (default 61000) rows of DIM (default 187) floats in 5 classes mixed like
 *   MIT-BIH: 82.8% N, 2.5% S, 6.6% V, 0.7% F, 7.3% Q.  Each row is a shared
 *   beat shape plus a class-specific bump of random size, baseline wander
 *   and noise, so classes overlap as real beats do.
 *   --write FILE also writes the data (format of oversample_dump) for
 *   test/ref/imblearn_bench.py, which times imbalanced-learn on it.
 *   --read FILE times the core on rows read from FILE instead (the format
 *   of --write and of test/bench/to_bench_bin.py: int64 n, int32 dim,
 *   int32 unused, int32 labels[n] in 0..4, float32 rows[n][dim]), e.g. the
 *   MIT-BIH training part.
 *   --verify also checks, for k = 1, 2, 5, 10 and 25, that the pruned tree
 *   search and brute force (knn_search_using) return byte-identical
 *   neighbours and distances for 2,000 rows (every n/2000-th, themselves
 *   excluded) against all rows; exits 1 on any difference.
 *
 *   --threads T (default 2): the k-NN runs on a shared pool of T threads
 *   (nn_threads.h), as in the server with ecgdl.threads = T.
 *
 * Prints one line per timed step: wall-clock seconds and CPU seconds of the
 * process (all threads; when the machine is otherwise idle, wall ~ CPU / 2
 * for the threaded k-NN), and a 64-bit FNV-1a checksum of the step's result
 * (neighbour indices; label, base, partner and step of every new row), so
 * two builds can be checked to give bit-identical results.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ecg_core.h"
#include "knn.h"
#include "nn_threads.h"
#include "oversample.h"
#include "rng.h"

#define N_CLASSES 5
static const double class_share[N_CLASSES] = {0.828, 0.025, 0.066, 0.007, 0.073};
static const double BENCH_PI = 3.14159265358979323846;

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + 1e-9 * (double) ts.tv_nsec;
}

/* CPU seconds of the whole process (all threads): less disturbed than
 * wall time when other programs share the cores. */
static double
cpu_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double) ts.tv_sec + 1e-9 * (double) ts.tv_nsec;
}

static double
bump(double t, double centre, double width)
{
	double		z = (t - centre) / width;

	return exp(-0.5 * z * z);
}

/* Synthetic beats; labels interleaved at random, as ids would be. */
static void
make_beats(int64_t n, int dim, uint64_t seed, float *x, int *y)
{
	static const double centre[N_CLASSES] = {0.5, 0.25, 0.55, 0.65, 0.4};
	static const double width[N_CLASSES] = {0.06, 0.04, 0.03, 0.05, 0.08};
	static const double sign[N_CLASSES] = {1, 1, -1, 1, 1};
	rng_state	r;
	int64_t		pos = 0;

	rng_seed(&r, seed);
	for (int c = 0; c < N_CLASSES; c++)
	{
		int64_t		m = c == N_CLASSES - 1 ? n - pos : (int64_t) llround(class_share[c] * n);

		for (int64_t i = 0; i < m && pos < n; i++, pos++)
			y[pos] = c;
	}
	for (int64_t i = n - 1; i > 0; i--)
	{
		int64_t		j = (int64_t) rng_below(&r, (uint64_t) i + 1);
		int			t = y[i];

		y[i] = y[j];
		y[j] = t;
	}
	for (int64_t i = 0; i < n; i++)
	{
		double		amp = 0.25 + 0.12 * rng_normal(&r);
		double		wander = 0.05 * rng_normal(&r);
		double		phase = 2 * BENCH_PI * rng_uniform(&r);
		int			c = y[i];

		for (int j = 0; j < dim; j++)
		{
			double		t = (double) j / (dim - 1);
			double		v = 0.8 * bump(t, 0.5, 0.02) + 0.2 * bump(t, 0.3, 0.05) +
				0.3 * bump(t, 0.75, 0.06) + amp * sign[c] * bump(t, centre[c], width[c]) +
				wander * t + 0.01 * sin(6 * BENCH_PI * t + phase) + 0.03 * rng_normal(&r);

			x[i * dim + j] = (float) v;
		}
	}
}

static int
write_data(const char *path, int64_t n, int dim, const float *x, const int *y)
{
	FILE	   *f = fopen(path, "wb");
	int32_t		hdr[2] = {dim, N_CLASSES};
	int32_t    *lab = malloc(sizeof(int32_t) * (size_t) n);
	int			ok;

	if (f == NULL || lab == NULL)
	{
		perror(path);
		free(lab);
		return -1;
	}
	for (int64_t i = 0; i < n; i++)
		lab[i] = y[i];
	ok = fwrite(&n, sizeof(n), 1, f) == 1 && fwrite(hdr, sizeof(hdr), 1, f) == 1 &&
		fwrite(lab, sizeof(int32_t), (size_t) n, f) == (size_t) n &&
		fwrite(x, sizeof(float), (size_t) n * dim, f) == (size_t) n * dim;
	ok = (fclose(f) == 0) && ok;
	free(lab);
	return ok ? 0 : -1;
}

/* Reads a file written by write_data() (or to_bench_bin.py); exits on error. */
static void
read_data(const char *path, int64_t *n_out, int *dim_out, float **x_out, int **y_out)
{
	FILE	   *f = fopen(path, "rb");
	int64_t		n;
	int32_t		hdr[2];
	int32_t    *lab;
	float	   *x;
	int		   *y;

	if (f == NULL || fread(&n, sizeof(n), 1, f) != 1 || fread(hdr, sizeof(hdr), 1, f) != 1 ||
		n < 1 || n > ((int64_t) 1 << 32) || hdr[0] < 1 || hdr[0] > 100000)
	{
		fprintf(stderr, "%s: cannot read a header (int64 n, int32 dim, int32)\n", path);
		exit(1);
	}
	lab = malloc(sizeof(int32_t) * (size_t) n);
	x = malloc(sizeof(float) * (size_t) n * (size_t) hdr[0]);
	y = malloc(sizeof(int) * (size_t) n);
	if (lab == NULL || x == NULL || y == NULL ||
		fread(lab, sizeof(int32_t), (size_t) n, f) != (size_t) n ||
		fread(x, sizeof(float), (size_t) n * (size_t) hdr[0], f) != (size_t) n * (size_t) hdr[0])
	{
		fprintf(stderr, "%s: truncated or out of memory (%lld rows x %d)\n", path,
				(long long) n, hdr[0]);
		exit(1);
	}
	fclose(f);
	for (int64_t i = 0; i < n; i++)
	{
		if (lab[i] < 0 || lab[i] >= N_CLASSES)
		{
			fprintf(stderr, "%s: label %d of row %lld is not 0..%d\n", path, lab[i],
					(long long) i, N_CLASSES - 1);
			exit(1);
		}
		y[i] = lab[i];
	}
	free(lab);
	*n_out = n;
	*dim_out = hdr[0];
	*x_out = x;
	*y_out = y;
}

/* 64-bit FNV-1a over bytes, chained through h. */
static uint64_t
fnv1a(uint64_t h, const void *data, size_t len)
{
	const unsigned char *b = data;

	for (size_t i = 0; i < len; i++)
	{
		h ^= b[i];
		h *= 1099511628211ULL;
	}
	return h;
}

#define FNV_OFFSET 14695981039346656037ULL

static uint64_t
result_checksum(const oversample_result *r)
{
	uint64_t	h = FNV_OFFSET;

	h = fnv1a(h, &r->n_new, sizeof(r->n_new));
	h = fnv1a(h, r->label, sizeof(int) * (size_t) r->n_new);
	h = fnv1a(h, r->base, sizeof(int64_t) * (size_t) r->n_new);
	h = fnv1a(h, r->partner, sizeof(int64_t) * (size_t) r->n_new);
	h = fnv1a(h, r->step, sizeof(float) * (size_t) r->n_new);
	if (r->vectors)
		h = fnv1a(h, r->vectors, sizeof(float) * (size_t) r->n_new * (size_t) r->dim);
	return h;
}

static void fail(const char *what, const ecg_status *st);

/* --verify: tree and brute force give the same bytes (see the usage). */
static int
verify_tree_against_brute(const float *x, int64_t n, int dim)
{
	static const int ks[] = {1, 2, 5, 10, 25};
	int64_t		m = n < 2000 ? n : 2000;
	float	   *q = malloc(sizeof(float) * (size_t) m * dim);
	int64_t    *self = malloc(sizeof(int64_t) * (size_t) m);
	int64_t    *nb[2];
	float	   *d[2];
	int			bad = 0;

	nb[0] = malloc(sizeof(int64_t) * (size_t) m * 25);
	nb[1] = malloc(sizeof(int64_t) * (size_t) m * 25);
	d[0] = malloc(sizeof(float) * (size_t) m * 25);
	d[1] = malloc(sizeof(float) * (size_t) m * 25);
	for (int64_t i = 0; i < m; i++)
	{
		self[i] = i * (n / m);
		memcpy(q + i * dim, x + self[i] * dim, sizeof(float) * dim);
	}
	for (size_t t = 0; t < sizeof(ks) / sizeof(ks[0]); t++)
	{
		int			k = ks[t];
		knn_stats	ks_tree,
					ks_brute;
		ecg_status	st;
		int			same;

		if (knn_search_using(KNN_METHOD_TREE, x, n, q, m, dim, k, self, nb[0], d[0], &ks_tree,
							 &st) != 0 ||
			knn_search_using(KNN_METHOD_BRUTE, x, n, q, m, dim, k, self, nb[1], d[1], &ks_brute,
							 &st) != 0)
			fail("knn_search_using", &st);
		same = memcmp(nb[0], nb[1], sizeof(int64_t) * (size_t) m * k) == 0 &&
			memcmp(d[0], d[1], sizeof(float) * (size_t) m * k) == 0;
		printf("%s - tree = brute force, k = %d, %lld queries (%lld tree queries, %lld exact searches)\n",
			   same ? "ok" : "not ok", k, (long long) m, (long long) ks_tree.tree_queries,
			   (long long) ks_tree.exact_fallbacks);
		bad += !same;
	}
	free(q);
	free(self);
	free(nb[0]);
	free(nb[1]);
	free(d[0]);
	free(d[1]);
	return bad ? -1 : 0;
}

static void
fail(const char *what, const ecg_status *st)
{
	fprintf(stderr, "%s failed: %s %s\n", what, st->message, st->detail);
	exit(1);
}

int
main(int argc, char **argv)
{
	int64_t		n = 61000;
	int			dim = 187;
	const char *write_path = NULL;
	const char *read_path = NULL;
	int			verify = 0;
	int			threads = 2;
	nn_pool    *pool;
	uint64_t	seed = 1;
	int			positional = 0;
	float	   *x;
	int		   *y;
	ecg_status	st;
	double		t0,
				c0;

	for (int a = 1; a < argc; a++)
	{
		if (strcmp(argv[a], "--write") == 0 && a + 1 < argc)
			write_path = argv[++a];
		else if (strcmp(argv[a], "--read") == 0 && a + 1 < argc)
			read_path = argv[++a];
		else if (strcmp(argv[a], "--verify") == 0)
			verify = 1;
		else if (strcmp(argv[a], "--threads") == 0 && a + 1 < argc)
			threads = atoi(argv[++a]);
		else if (strcmp(argv[a], "--seed") == 0 && a + 1 < argc)
			seed = strtoull(argv[++a], NULL, 10);
		else if (positional == 0 && (positional = 1))
			n = atoll(argv[a]);
		else
			dim = atoi(argv[a]);
	}
	if (n < 100 || dim < 1 || threads < 1 || threads > NN_POOL_MAX_THREADS)
	{
		fprintf(stderr, "usage: %s [N [DIM]] [--write FILE] [--seed S] [--threads T] | --read FILE\n",
				argv[0]);
		return 2;
	}
	pool = nn_pool_create(threads, &st);
	if (pool == NULL)
	{
		fprintf(stderr, "%s\n", st.message);
		return 1;
	}
	nn_pool_set_shared(pool);
	if (read_path)
		read_data(read_path, &n, &dim, &x, &y);
	else
	{
		x = malloc(sizeof(float) * (size_t) n * dim);
		y = malloc(sizeof(int) * (size_t) n);
		make_beats(n, dim, seed, x, y);
	}
	if (write_path && write_data(write_path, n, dim, x, y) != 0)
		return 1;
	printf("# %lld rows x %d, classes:", (long long) n, dim);
	{
		int64_t		counts[N_CLASSES];

		oversample_count_classes(y, n, N_CLASSES, counts, &st);
		for (int c = 0; c < N_CLASSES; c++)
			printf(" %lld", (long long) counts[c]);
		printf("\n");
	}

	if (verify && verify_tree_against_brute(x, n, dim) != 0)
		return 1;

	/* k-NN alone: every minority row against all rows (ADASYN's search) */
	{
		int64_t		m = 0;
		int64_t    *self = malloc(sizeof(int64_t) * (size_t) n);
		float	   *q = malloc(sizeof(float) * (size_t) n * dim);
		int64_t    *nb = malloc(sizeof(int64_t) * (size_t) n * 5);
		knn_stats	ks;

		for (int64_t i = 0; i < n; i++)
			if (y[i] != 0)
			{
				self[m] = i;
				memcpy(q + m * dim, x + i * dim, sizeof(float) * dim);
				m++;
			}
		t0 = now_seconds();
		c0 = cpu_seconds();
		if (knn_search_with_stats(x, n, q, m, dim, 5, self, nb, NULL, &ks, &st) != 0)
			fail("knn_search", &st);
		printf("knn_minority_vs_all  %8.3f s wall %8.3f s cpu  (%lld queries x %lld points, k=5, %lld exact fallbacks) checksum %016llx\n",
			   now_seconds() - t0, cpu_seconds() - c0, (long long) m, (long long) n,
			   (long long) ks.exact_fallbacks,
			   (unsigned long long) fnv1a(FNV_OFFSET, nb, sizeof(int64_t) * (size_t) m * 5));
		printf("#   %lld tree queries, %lld brute-force; per tree query: %.1f nodes, %.1f bounds, %.1f full distances\n",
			   (long long) ks.tree_queries, (long long) ks.brute_queries,
			   (double) ks.tree_nodes / (double) (ks.tree_queries > 0 ? ks.tree_queries : 1),
			   (double) ks.tree_bounds / (double) (ks.tree_queries > 0 ? ks.tree_queries : 1),
			   (double) ks.tree_distances / (double) (ks.tree_queries > 0 ? ks.tree_queries : 1));
		free(self);
		free(q);
		free(nb);
	}

	for (int m = OVERSAMPLE_RANDOM; m <= OVERSAMPLE_ADASYN; m++)
	{
		static const char *const names[] = {"random", "smote", "adasyn"};
		oversample_params p;
		oversample_result r;

		oversample_params_init(&p, N_CLASSES);
		p.method = (oversample_method) m;
		p.seed = 42;
		oversample_result_init(&r);
		t0 = now_seconds();
		c0 = cpu_seconds();
		if (oversample_run(x, y, n, dim, &p, &r, &st) != 0)
			fail(names[m], &st);
		printf("oversample_%-9s %8.3f s wall %8.3f s cpu  (%lld new rows, with vectors) checksum %016llx\n",
			   names[m], now_seconds() - t0, cpu_seconds() - c0, (long long) r.n_new,
			   (unsigned long long) result_checksum(&r));
		oversample_result_free(&r);
	}
	free(x);
	free(y);
	nn_pool_set_shared(NULL);
	nn_pool_destroy(pool);
	return 0;
}
