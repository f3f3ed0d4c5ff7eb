/*
 * oversample_dump - runs the core's k-NN and oversamplers on a data file and
 * prints the results as text, for test/ref/imblearn_compare.py.
 *
 * Data file (little-endian, as written by numpy's tofile):
 *   int64 n, int32 dim, int32 n_classes, int32 labels[n], float32 rows[n][dim]
 *
 * Usage:
 *   oversample_dump knn-class FILE K      same-class k-NN of every row of every
 *                                         class, itself excluded:
 *                                         "nn ROW N1 .. NK" (input row indices)
 *   oversample_dump knn-all FILE K CLASS  k-NN among all rows of every row of
 *                                         CLASS, itself excluded: "nn ROW N1 .. NK"
 *   oversample_dump run FILE METHOD K SEED [TARGETS]
 *                                         METHOD = random | smote | adasyn,
 *                                         TARGETS = comma-separated final counts
 *                                         per class, -1 = as is (default 'auto'):
 *                                         "before C N", "generated C N",
 *                                         "after C N", for ADASYN "rowcount ROW N"
 *                                         for every row of an oversampled class,
 *                                         and "check recompute OK|FAIL"
 *   oversample_dump adasyn-counts - K DEFICIT   reads per-row other-class
 *                                         neighbour counts from stdin, prints
 *                                         oversample_adasyn_counts() one a line
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ecg_core.h"
#include "knn.h"
#include "oversample.h"

typedef struct dataset
{
	int64_t		n;
	int32_t		dim;
	int32_t		n_classes;
	int		   *labels;
	float	   *rows;
} dataset;

static int
read_dataset(const char *path, dataset *d)
{
	FILE	   *f = fopen(path, "rb");
	int32_t    *lab;

	if (f == NULL)
	{
		perror(path);
		return -1;
	}
	if (fread(&d->n, sizeof(int64_t), 1, f) != 1 || fread(&d->dim, sizeof(int32_t), 1, f) != 1 ||
		fread(&d->n_classes, sizeof(int32_t), 1, f) != 1 || d->n < 0 || d->n > (1LL << 32) ||
		d->dim < 1 || d->dim > 100000)
	{
		fprintf(stderr, "%s: bad header\n", path);
		fclose(f);
		return -1;
	}
	lab = malloc(sizeof(int32_t) * (size_t) (d->n + 1));
	d->labels = malloc(sizeof(int) * (size_t) (d->n + 1));
	d->rows = malloc(sizeof(float) * (size_t) (d->n * d->dim + 1));
	if (!lab || !d->labels || !d->rows ||
		fread(lab, sizeof(int32_t), (size_t) d->n, f) != (size_t) d->n ||
		fread(d->rows, sizeof(float), (size_t) (d->n * d->dim), f) != (size_t) (d->n * d->dim))
	{
		fprintf(stderr, "%s: truncated\n", path);
		fclose(f);
		free(lab);
		return -1;
	}
	for (int64_t i = 0; i < d->n; i++)
		d->labels[i] = lab[i];
	free(lab);
	fclose(f);
	return 0;
}

static void
print_status(const char *what, const ecg_status *st)
{
	fprintf(stderr, "%s failed: %s%s%s\n", what, st->message, st->detail[0] ? " - " : "",
			st->detail);
}

/* k-NN of the rows of class `c` among `among_all` ? all rows : its class. */
static int
dump_knn(const dataset *d, int k, int c, int among_all)
{
	int64_t		m = 0;
	int64_t    *index = malloc(sizeof(int64_t) * (size_t) (d->n + 1));
	int64_t    *self = malloc(sizeof(int64_t) * (size_t) (d->n + 1));
	float	   *x = malloc(sizeof(float) * (size_t) (d->n * d->dim + 1));
	int64_t    *nn;
	ecg_status	st;
	int			rc;

	for (int64_t i = 0; i < d->n; i++)
		if (d->labels[i] == c)
		{
			index[m] = i;
			memcpy(x + m * d->dim, d->rows + i * d->dim, sizeof(float) * d->dim);
			m++;
		}
	nn = malloc(sizeof(int64_t) * (size_t) (m * k + 1));
	for (int64_t i = 0; i < m; i++)
		self[i] = among_all ? index[i] : i;
	if (among_all)
		rc = knn_search(d->rows, d->n, x, m, d->dim, k, self, nn, NULL, &st);
	else
		rc = knn_search(x, m, x, m, d->dim, k, self, nn, NULL, &st);
	if (rc != 0)
		print_status("knn_search", &st);
	for (int64_t i = 0; rc == 0 && i < m; i++)
	{
		printf("nn %lld", (long long) index[i]);
		for (int j = 0; j < k; j++)
			printf(" %lld", (long long) (among_all ? nn[i * k + j] : index[nn[i * k + j]]));
		putchar('\n');
	}
	free(index);
	free(self);
	free(x);
	free(nn);
	return rc;
}

static int
dump_run(const dataset *d, const char *method, int k, unsigned long long seed,
		 const char *targets_text)
{
	int64_t		targets[OVERSAMPLE_MAX_CLASSES];
	oversample_params p;
	oversample_result r;
	ecg_status	st;
	int			ok = 1;
	float	   *v = malloc(sizeof(float) * d->dim);

	oversample_params_init(&p, d->n_classes);
	if (strcmp(method, "random") == 0)
		p.method = OVERSAMPLE_RANDOM;
	else if (strcmp(method, "smote") == 0)
		p.method = OVERSAMPLE_SMOTE;
	else if (strcmp(method, "adasyn") == 0)
		p.method = OVERSAMPLE_ADASYN;
	else
	{
		fprintf(stderr, "unknown method %s\n", method);
		free(v);
		return -1;
	}
	p.k_neighbors = k;
	p.seed = seed;
	if (targets_text != NULL)
	{
		const char *t = targets_text;

		for (int c = 0; c < d->n_classes && c < OVERSAMPLE_MAX_CLASSES; c++)
		{
			char	   *end;

			targets[c] = strtoll(t, &end, 10);
			t = *end == ',' ? end + 1 : end;
		}
		p.targets = targets;
	}
	oversample_result_init(&r);
	if (oversample_run(d->rows, d->labels, d->n, d->dim, &p, &r, &st) != 0)
	{
		print_status("oversample_run", &st);
		free(v);
		return -1;
	}
	for (int c = 0; c < r.n_classes; c++)
		printf("before %d %lld\ngenerated %d %lld\nafter %d %lld\n", c,
			   (long long) r.count_before[c], c, (long long) r.generated[c], c,
			   (long long) r.count_after[c]);
	if (r.row_counts)
		for (int64_t i = 0; i < d->n; i++)
			if (r.generated[d->labels[i]] > 0)
				printf("rowcount %lld %lld\n", (long long) i, (long long) r.row_counts[i]);
	for (int64_t i = 0; i < r.n_new; i++)
	{
		oversample_interpolate(d->rows + r.base[i] * d->dim, d->rows + r.partner[i] * d->dim,
							   r.step[i], d->dim, v);
		if (memcmp(v, r.vectors + i * d->dim, sizeof(float) * d->dim) != 0 ||
			d->labels[r.base[i]] != r.label[i] || d->labels[r.partner[i]] != r.label[i])
			ok = 0;
	}
	printf("check recompute %s\n", ok ? "OK" : "FAIL");
	oversample_result_free(&r);
	free(v);
	return 0;
}

static int
dump_adasyn_counts(int k, long long deficit)
{
	int64_t		cap = 1024,
				n = 0;
	int		   *other = malloc(sizeof(int) * cap);
	int64_t    *counts;
	ecg_status	st;
	int			v;

	while (scanf("%d", &v) == 1)
	{
		if (n == cap)
		{
			cap *= 2;
			other = realloc(other, sizeof(int) * cap);
		}
		other[n++] = v;
	}
	counts = malloc(sizeof(int64_t) * (size_t) (n + 1));
	if (oversample_adasyn_counts(other, n, k, deficit, counts, &st) != 0)
	{
		print_status("oversample_adasyn_counts", &st);
		return 1;
	}
	for (int64_t i = 0; i < n; i++)
		printf("%lld\n", (long long) counts[i]);
	free(other);
	free(counts);
	return 0;
}

int
main(int argc, char **argv)
{
	dataset		d;

	if (argc == 5 && strcmp(argv[1], "adasyn-counts") == 0)
		return dump_adasyn_counts(atoi(argv[3]), atoll(argv[4]));
	if (argc < 4 || read_dataset(argv[2], &d) != 0)
	{
		fprintf(stderr, "usage: %s knn-class|knn-all|run FILE ...\n", argv[0]);
		return 2;
	}
	if (strcmp(argv[1], "knn-class") == 0)
	{
		for (int c = 0; c < d.n_classes; c++)
			if (dump_knn(&d, atoi(argv[3]), c, 0) != 0)
				return 1;
		return 0;
	}
	if (strcmp(argv[1], "knn-all") == 0 && argc == 5)
		return dump_knn(&d, atoi(argv[3]), atoi(argv[4]), 1) != 0;
	if (strcmp(argv[1], "run") == 0 && (argc == 6 || argc == 7))
		return dump_run(&d, argv[3], atoi(argv[4]), strtoull(argv[5], NULL, 10),
						argc == 7 ? argv[6] : NULL) != 0;
	fprintf(stderr, "bad arguments\n");
	return 2;
}
