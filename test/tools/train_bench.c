/*
 * train_bench - training throughput of the built-in models on synthetic data.
 *
 *   build/tools/train_bench [--arch cnn|cnn_wide|baseline] [--rows 254000] [--epochs 1]
 *                           [--batch 2048] [--threads 2] [--seed 1]
 *
 * Generates `rows` synthetic beats (5 classes, a class-dependent bump plus
 * noise), trains with the study's recipe (Adam 1e-3, batch 2048, no hold-out
 * so every row is a training row) for `epochs` epochs and prints training
 * samples per second (forward + backward + Adam, validation excluded),
 * seconds per epoch and the peak resident set size.  Compare with
 * test/ref/torch_train_bench.py.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "nn_model.h"
#include "nn_threads.h"
#include "nn_train.h"
#include "synthetic_beats.h"

static int
epoch_line(const nn_epoch_stats *e, void *arg)
{
	(void) arg;
	fprintf(stderr, "epoch %d: loss %.4f accuracy %.4f lr %g %.2f s\n", e->epoch, e->loss,
			e->accuracy, e->lr, e->seconds);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *arch = "cnn";
	long		rows = 254000,
				epochs = 1,
				batch = 2048,
				threads = 2,
				seed = 1;
	float	   *beats;
	int		   *labels;
	ecg_status	st;
	nn_model   *m;
	nn_pool    *pool = NULL;
	nn_train_config c;
	nn_train_result res;
	nn_dataset	train;
	struct rusage ru;
	double		total = 0;

	for (int i = 1; i + 1 < argc; i += 2)
	{
		if (strcmp(argv[i], "--arch") == 0)
			arch = argv[i + 1];
		else if (strcmp(argv[i], "--rows") == 0)
			rows = atol(argv[i + 1]);
		else if (strcmp(argv[i], "--epochs") == 0)
			epochs = atol(argv[i + 1]);
		else if (strcmp(argv[i], "--batch") == 0)
			batch = atol(argv[i + 1]);
		else if (strcmp(argv[i], "--threads") == 0)
			threads = atol(argv[i + 1]);
		else if (strcmp(argv[i], "--seed") == 0)
			seed = atol(argv[i + 1]);
		else
		{
			fprintf(stderr, "unknown option %s\n", argv[i]);
			return 2;
		}
	}
	if (rows < 1 || epochs < 1 || batch < 1 || threads < 1)
	{
		fprintf(stderr, "rows, epochs, batch and threads must be positive\n");
		return 2;
	}
	beats = malloc((size_t) rows * NN_BEAT_LENGTH * sizeof(float));
	labels = malloc((size_t) rows * sizeof(int));
	if (beats == NULL || labels == NULL)
	{
		fprintf(stderr, "out of memory\n");
		return 1;
	}
	synthetic_beats(beats, labels, (size_t) rows, (uint64_t) seed);

	m = nn_model_create(arch, &st);
	if (m == NULL)
	{
		fprintf(stderr, "%s: %s\n", st.message, st.detail);
		return 1;
	}
	nn_model_init(m, (uint64_t) seed);
	if (threads > 1 && (pool = nn_pool_create((int) threads, &st)) == NULL)
	{
		fprintf(stderr, "%s\n", st.message);
		return 1;
	}
	nn_train_config_default(&c);
	c.epochs = (int) epochs;
	c.batch_size = (int) batch;
	c.seed = (uint64_t) seed;
	c.threads = (int) threads;
	c.validation_fraction = 0;
	c.patience = 0;
	c.plateau_patience = 0;
	train.beats = beats;
	train.labels = labels;
	train.n = (size_t) rows;
	train.features = NULL;
	if (m->n_features > 0)
	{
		/* random stand-ins for the R-R features of the *_rr architectures */
		float	   *f = malloc((size_t) rows * (size_t) m->n_features * sizeof(float));
		rng_state	r;

		if (f == NULL)
		{
			fprintf(stderr, "out of memory\n");
			return 1;
		}
		rng_seed(&r, (uint64_t) seed + 1);
		for (size_t i = 0; i < (size_t) rows * (size_t) m->n_features; i++)
			f[i] = (float) (0.8 + 0.2 * rng_normal(&r));
		train.features = f;
	}
	if (nn_train_run(m, &train, NULL, &c, pool, epoch_line, NULL, &res, &st) != 0)
	{
		fprintf(stderr, "%s: %s\n", st.message, st.detail);
		return 1;
	}
	for (int i = 0; i < res.epochs_run; i++)
		total += res.history[i].seconds;
	getrusage(RUSAGE_SELF, &ru);
	printf("arch=%s rows=%ld epochs=%d batch=%ld threads=%ld samples_per_s=%.0f "
		   "s_per_epoch=%.2f workspace_mb=%.0f peak_rss_mb=%.0f\n",
		   arch, rows, res.epochs_run, batch, threads, res.samples_per_second,
		   total / res.epochs_run, nn_workspace_bytes(m, (size_t) batch, 1) / 1048576.0,
		   ru.ru_maxrss / 1024.0);
	nn_train_result_release(&res);
	nn_pool_destroy(pool);
	nn_model_free(m);
	free(beats);
	free(labels);
	return 0;
}
