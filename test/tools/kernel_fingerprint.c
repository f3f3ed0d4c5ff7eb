/*
 * kernel_fingerprint - CRC-32 fingerprints of what the layer kernels compute,
 * to compare builds of the core bit for bit (make portable-check: the
 * -march=native build against the portable one, whose kernels pick their
 * AVX2 / AVX-512 version at run time, and against an x86-64-v3 build; and
 * the native build under each of several OPENBLAS_CORETYPE settings).
 *
 *   build/tools/kernel_fingerprint [--threads 2]
 *
 * For each built-in architecture: a model initialised from a fixed seed is
 * trained for 2 epochs on 512 synthetic beats (batch 64: forward, backward and
 * Adam over every layer kind, dropout included), then predicts 300 further
 * beats.  Prints one line per architecture:
 *   <arch> params=<crc> state=<crc> probs=<crc>
 * Equal lines mean equal bits (the kernels' results do not depend on the
 * thread count, so any --threads gives the same lines).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crc32.h"
#include "nn_model.h"
#include "nn_threads.h"
#include "nn_train.h"
#include "synthetic_beats.h"

#define TRAIN_ROWS 512
#define TEST_ROWS 300

static int
fingerprint(const char *arch, nn_pool *pool, int threads)
{
	static float train_beats[TRAIN_ROWS * NN_BEAT_LENGTH];
	static float test_beats[TEST_ROWS * NN_BEAT_LENGTH];
	static int	train_labels[TRAIN_ROWS];
	static int	test_labels[TEST_ROWS];
	float	   *probs;
	ecg_status	st;
	nn_model   *m;
	nn_train_config c;
	nn_train_result res;
	nn_dataset	train = {0};

	synthetic_beats(train_beats, train_labels, TRAIN_ROWS, 7);
	synthetic_beats(test_beats, test_labels, TEST_ROWS, 8);
	m = nn_model_create(arch, &st);
	if (m == NULL)
	{
		fprintf(stderr, "%s: %s\n", arch, st.message);
		return 1;
	}
	nn_model_init(m, 11);
	nn_train_config_default(&c);
	c.epochs = 2;
	c.batch_size = 64;
	c.seed = 5;
	c.threads = threads;
	c.validation_fraction = 0;
	c.patience = 0;
	c.plateau_patience = 0;
	train.beats = train_beats;
	train.labels = train_labels;
	train.n = TRAIN_ROWS;
	if (nn_train_run(m, &train, NULL, &c, pool, NULL, NULL, &res, &st) != 0)
	{
		fprintf(stderr, "%s: %s: %s\n", arch, st.message, st.detail);
		nn_model_free(m);
		return 1;
	}
	nn_train_result_release(&res);
	probs = malloc(sizeof(float) * TEST_ROWS * (size_t) m->n_classes);
	if (probs == NULL ||
		nn_model_predict(m, NULL, test_beats, NN_BEAT_LENGTH, TEST_ROWS, probs, pool, &st) != 0)
	{
		fprintf(stderr, "%s: prediction failed\n", arch);
		free(probs);
		nn_model_free(m);
		return 1;
	}
	printf("%s params=%08x state=%08x probs=%08x\n", arch,
		   crc32_compute(m->params, sizeof(float) * m->n_params),
		   crc32_compute(m->state, sizeof(float) * m->n_state),
		   crc32_compute(probs, sizeof(float) * TEST_ROWS * (size_t) m->n_classes));
	free(probs);
	nn_model_free(m);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *archs[] = {"baseline", "cnn", "cnn_wide"};
	int			threads = 2,
				status = 0;
	nn_pool    *pool = NULL;
	ecg_status	st;

	if (argc == 3 && strcmp(argv[1], "--threads") == 0)
		threads = atoi(argv[2]);
	else if (argc != 1)
	{
		fprintf(stderr, "usage: kernel_fingerprint [--threads N]\n");
		return 2;
	}
	if (threads > 1 && (pool = nn_pool_create(threads, &st)) == NULL)
	{
		fprintf(stderr, "%s\n", st.message);
		return 1;
	}
	for (size_t i = 0; i < sizeof(archs) / sizeof(archs[0]); i++)
		status |= fingerprint(archs[i], pool, threads);
	nn_pool_destroy(pool);
	return status;
}
