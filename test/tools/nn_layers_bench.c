/*
 * nn_layers_bench - times every layer kernel with the cnn's shapes at batch
 * 2048 and estimates the whole cnn training step (forward + backward).
 *
 *   build/tools/nn_layers_bench [threads [batch [repeats]]]   (defaults 2 2048 5)
 *
 * Prints one row per kernel: wall-clock milliseconds per call (best of
 * `repeats`), for convolutions and dense layers GFLOP/s (2 flops per
 * multiply-add), and the process CPU time per call (all threads; with one
 * thread it is the kernel's cost even when other programs share the cores).  The
 * estimate counts how often each kernel occurs in the cnn (see the table at
 * the bottom) and excludes the optimiser and the graph's own overhead.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nn_layers.h"
#include "rng.h"

static double
now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* CPU time of the whole process (all threads, including spinning workers) */
static double
cpu_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void *
xalloc(size_t bytes)
{
	void	   *p = aligned_alloc(64, (bytes + 63) / 64 * 64);

	if (p == NULL)
	{
		fprintf(stderr, "out of memory (%zu bytes)\n", bytes);
		exit(2);
	}
	memset(p, 0, (bytes + 63) / 64 * 64);
	return p;
}

static float *
randf(size_t n, uint64_t seed, double scale)
{
	float	   *p = xalloc(sizeof(float) * n);
	rng_state	r;

	rng_seed(&r, seed);
	for (size_t i = 0; i < n; i++)
		p[i] = (float) ((rng_uniform(&r) * 2 - 1) * scale);
	return p;
}

/* Everything a kernel call may need, sized for the largest shape. */
typedef struct bench
{
	nn_pool    *pool;
	int			B;
	float	   *x,
			   *y,
			   *dy,
			   *dx,
			   *w,
			   *dw,
			   *b,
			   *db,
			   *st;
	uint8_t    *mask;
	int32_t    *labels;
	void	   *ws;
	rng_state	rng;
} bench;

enum op
{
	CONV1_F, CONV1_B, CONV200_F, CONV200_B, CONV100_F, CONV100_B,
	BNRD200_F, BNRD200_B, BNR200_F, BNR200_B, BNRD100_F, BNRD100_B, BNR100_F, BNR100_B,
	BN200_F, BN200_B, RELU200_F, RELU200_B, DROP200_F, DROP200_B,
	ADD200, ADD100, ACC200, ACC100, POOL_F, POOL_B,
	DENSE1600_F, DENSE1600_B, XENT_F, XENT_B,
	DENSE200_F, DENSE200_B, DENSE128_F, DENSE128_B,
	CONVRES200_F, CONVRES100_F,
	N_OPS
};

static const char *op_names[N_OPS] = {
	"conv 1->16 L200 fwd", "conv 1->16 L200 bwd (no dx)",
	"conv 16->16 L200 fwd", "conv 16->16 L200 bwd",
	"conv 16->16 L100 fwd", "conv 16->16 L100 bwd",
	"bn+relu+drop L200 fwd", "bn+relu+drop L200 bwd",
	"bn+relu L200 fwd", "bn+relu L200 bwd",
	"bn+relu+drop L100 fwd", "bn+relu+drop L100 bwd",
	"bn+relu L100 fwd", "bn+relu L100 bwd",
	"bn (alone) L200 fwd", "bn (alone) L200 bwd",
	"relu (alone) L200 fwd", "relu (alone) L200 bwd",
	"dropout (alone) L200 fwd", "dropout (alone) L200 bwd",
	"add L200", "add L100", "accumulate L200", "accumulate L100",
	"maxpool 200->100 fwd", "maxpool 200->100 bwd",
	"dense 1600->5 fwd", "dense 1600->5 bwd",
	"softmax+xent fwd", "softmax+xent bwd",
	"dense 200->128 fwd", "dense 200->128 bwd",
	"dense 128->5 fwd", "dense 128->5 bwd",
	"conv+residual L200 fwd", "conv+residual L100 fwd",
};

static double
op_flops(enum op o, int B)
{
	double		b = B;

	switch (o)
	{
		case CONV1_F:
			return 2 * b * 200 * 4 * 16;
		case CONV1_B:
			return 2 * b * 200 * 4 * 16;
		case CONV200_F:
		case CONVRES200_F:
			return 2 * b * 200 * 64 * 16;
		case CONV200_B:
			return 2 * 2 * b * 200 * 64 * 16;
		case CONV100_F:
		case CONVRES100_F:
			return 2 * b * 100 * 64 * 16;
		case CONV100_B:
			return 2 * 2 * b * 100 * 64 * 16;
		case DENSE1600_F:
			return 2 * b * 1600 * 5;
		case DENSE1600_B:
			return 2 * 2 * b * 1600 * 5;
		case DENSE200_F:
			return 2 * b * 200 * 128;
		case DENSE200_B:
			return 2 * 2 * b * 200 * 128;
		case DENSE128_F:
			return 2 * b * 128 * 5;
		case DENSE128_B:
			return 2 * 2 * b * 128 * 5;
		default:
			return 0;
	}
}

static void
run_op(bench *s, enum op o)
{
	int			B = s->B;
	size_t		rows200 = (size_t) B * 200,
				rows100 = (size_t) B * 100;
	float	   *g = s->st,
			   *be = s->st + 16,
			   *mean = s->st + 32,
			   *var = s->st + 48,
			   *inv = s->st + 64;

	switch (o)
	{
		case CONV1_F:
			nn_conv1d_forward(s->pool, s->y, s->x, s->w, s->b, B, 200, 1, 16, 4, s->ws);
			break;
		case CONV1_B:
			nn_conv1d_backward(s->pool, NULL, s->dw, s->db, s->dy, s->x, s->w, B, 200, 1, 16, 4, s->ws);
			break;
		case CONV200_F:
			nn_conv1d_forward(s->pool, s->y, s->x, s->w, s->b, B, 200, 16, 16, 4, s->ws);
			break;
		case CONV200_B:
			nn_conv1d_backward(s->pool, s->dx, s->dw, s->db, s->dy, s->x, s->w, B, 200, 16, 16, 4, s->ws);
			break;
		case CONV100_F:
			nn_conv1d_forward(s->pool, s->y, s->x, s->w, s->b, B, 100, 16, 16, 4, s->ws);
			break;
		case CONV100_B:
			nn_conv1d_backward(s->pool, s->dx, s->dw, s->db, s->dy, s->x, s->w, B, 100, 16, 16, 4, s->ws);
			break;
		case BNRD200_F:
		case BNR200_F:
			nn_bn_relu_dropout_forward_train(s->pool, s->y, s->x, g, be, rows200, 16, NN_BN_EPSILON,
											 mean, var, inv, s->mask, o == BNRD200_F ? 0.2f : 0.0f,
											 &s->rng, s->ws);
			break;
		case BNRD200_B:
		case BNR200_B:
			nn_bn_relu_dropout_backward(s->pool, s->dx, s->db, s->db, s->dy, s->x, g, be, mean, inv,
										s->mask, o == BNRD200_B ? 0.2f : 0.0f, rows200, 16, s->ws);
			break;
		case BNRD100_F:
		case BNR100_F:
			nn_bn_relu_dropout_forward_train(s->pool, s->y, s->x, g, be, rows100, 16, NN_BN_EPSILON,
											 mean, var, inv, s->mask, o == BNRD100_F ? 0.2f : 0.0f,
											 &s->rng, s->ws);
			break;
		case BNRD100_B:
		case BNR100_B:
			nn_bn_relu_dropout_backward(s->pool, s->dx, s->db, s->db, s->dy, s->x, g, be, mean, inv,
										s->mask, o == BNRD100_B ? 0.2f : 0.0f, rows100, 16, s->ws);
			break;
		case BN200_F:
			nn_batchnorm_forward_train(s->pool, s->y, s->x, g, be, rows200, 16, NN_BN_EPSILON,
									   mean, var, inv, s->ws);
			break;
		case BN200_B:
			nn_batchnorm_backward(s->pool, s->dx, s->db, s->db, s->dy, s->x, g, mean, inv,
								  rows200, 16, s->ws);
			break;
		case RELU200_F:
			nn_relu_forward(s->pool, s->y, s->x, rows200 * 16);
			break;
		case RELU200_B:
			nn_relu_backward(s->pool, s->dx, s->dy, s->x, rows200 * 16);
			break;
		case DROP200_F:
			nn_dropout_forward_train(s->pool, s->y, s->x, s->mask, rows200 * 16, 0.2f, &s->rng);
			break;
		case DROP200_B:
			nn_dropout_backward(s->pool, s->dx, s->dy, s->mask, rows200 * 16, 0.2f);
			break;
		case ADD200:
			nn_add_forward(s->pool, s->y, s->x, s->dy, rows200 * 16);
			break;
		case ADD100:
			nn_add_forward(s->pool, s->y, s->x, s->dy, rows100 * 16);
			break;
		case ACC200:
			nn_accumulate(s->pool, s->dx, s->dy, rows200 * 16);
			break;
		case ACC100:
			nn_accumulate(s->pool, s->dx, s->dy, rows100 * 16);
			break;
		case POOL_F:
			nn_maxpool1d_forward(s->pool, s->y, s->mask, s->x, B, 200, 16);
			break;
		case POOL_B:
			nn_maxpool1d_backward(s->pool, s->dx, s->dy, s->mask, B, 200, 16);
			break;
		case DENSE1600_F:
			nn_dense_forward(s->pool, s->y, s->x, s->w, s->b, B, 1600, 5);
			break;
		case DENSE1600_B:
			nn_dense_backward(s->pool, s->dx, s->dw, s->db, s->dy, s->x, s->w, B, 1600, 5, s->ws);
			break;
		case XENT_F:
			nn_softmax_xent_forward(s->pool, s->y, NULL, s->x, s->labels, NULL, B, 5);
			break;
		case XENT_B:
			nn_softmax_xent_backward(s->pool, s->dx, s->y, s->labels, NULL, B, 5);
			break;
		case DENSE200_F:
			nn_dense_forward(s->pool, s->y, s->x, s->w, s->b, B, 200, 128);
			break;
		case DENSE200_B:
			nn_dense_backward(s->pool, s->dx, s->dw, s->db, s->dy, s->x, s->w, B, 200, 128, s->ws);
			break;
		case DENSE128_F:
			nn_dense_forward(s->pool, s->y, s->x, s->w, s->b, B, 128, 5);
			break;
		case DENSE128_B:
			nn_dense_backward(s->pool, s->dx, s->dw, s->db, s->dy, s->x, s->w, B, 128, 5, s->ws);
			break;
		case CONVRES200_F:
			nn_conv1d_forward_residual(s->pool, s->y, s->x, s->w, s->b, s->dy, B, 200, 16, 16, 4,
									   s->ws);
			break;
		case CONVRES100_F:
			nn_conv1d_forward_residual(s->pool, s->y, s->x, s->w, s->b, s->dy, B, 100, 16, 16, 4,
									   s->ws);
			break;
		case N_OPS:
			break;
	}
}

/* Occurrences per cnn training step (forward + backward). */
static const struct
{
	enum op		op;
	int			count;
}			cnn_step[] = {
	{CONV1_F, 1}, {CONV1_B, 1},
	/* each block's second conv carries the residual add (nn_conv1d_forward_residual) */
	{CONV200_F, 2}, {CONVRES200_F, 2}, {CONV200_B, 4},
	{CONV100_F, 2}, {CONVRES100_F, 2}, {CONV100_B, 4},
	/* input BN-ReLU; block 1: one BRD; block 2: two BRD */
	{BNR200_F, 1}, {BNR200_B, 1}, {BNRD200_F, 3}, {BNRD200_B, 3},
	/* blocks 3 and 4: two BRD each; the final BN-ReLU */
	{BNRD100_F, 4}, {BNRD100_B, 4}, {BNR100_F, 1}, {BNR100_B, 1},
	/* backward: the shortcut gradient is summed into the block input's gradient */
	{ACC200, 2}, {ACC100, 2},
	{POOL_F, 1}, {POOL_B, 1},
	{DENSE1600_F, 1}, {DENSE1600_B, 1}, {XENT_F, 1}, {XENT_B, 1},
};

static const struct
{
	enum op		op;
	int			count;
}			baseline_step[] = {
	{DENSE200_F, 1}, {DENSE200_B, 1}, {RELU200_F, 0}, {DENSE128_F, 1}, {DENSE128_B, 1},
	{XENT_F, 1}, {XENT_B, 1},
};

int
main(int argc, char **argv)
{
	int			threads = argc > 1 ? atoi(argv[1]) : 2;
	int			B = argc > 2 ? atoi(argv[2]) : 2048;
	int			repeats = argc > 3 ? atoi(argv[3]) : 5;
	bench		s = {.B = B};
	ecg_status	st;
	double		best[N_OPS],
				best_cpu[N_OPS];
	size_t		big = (size_t) B * 200 * 16;
	size_t		wsb = nn_conv1d_workspace_bytes(200, 16, 16, 4);

	if (threads < 1 || B < 1 || repeats < 1)
	{
		fprintf(stderr, "usage: %s [threads [batch [repeats]]]\n", argv[0]);
		return 2;
	}
	s.pool = nn_pool_create(threads, &st);
	if (s.pool == NULL)
	{
		fprintf(stderr, "%s\n", st.message);
		return 1;
	}
	if (nn_dense_backward_workspace_bytes(B, 1600, 5) > wsb)
		wsb = nn_dense_backward_workspace_bytes(B, 1600, 5);
	if (nn_dense_backward_workspace_bytes(B, 200, 128) > wsb)
		wsb = nn_dense_backward_workspace_bytes(B, 200, 128);
	if (nn_batchnorm_workspace_bytes(16) > wsb)
		wsb = nn_batchnorm_workspace_bytes(16);
	s.x = randf(big, 1, 1.0);
	s.y = randf(big, 2, 1.0);
	s.dy = randf(big, 3, 1.0);
	s.dx = randf(big, 4, 1.0);
	s.w = randf(200 * 128, 5, 0.1);
	s.dw = randf(200 * 128, 6, 0.0);
	s.b = randf(128, 7, 0.1);
	s.db = randf(128, 8, 0.0);
	s.st = randf(80, 9, 0.5);
	for (int c = 0; c < 16; c++)
		s.st[c] += 1.0f;
	s.mask = xalloc(big);
	s.labels = xalloc(sizeof(int32_t) * B);
	for (int i = 0; i < B; i++)
		s.labels[i] = i % 5;
	s.ws = xalloc(wsb);
	rng_seed(&s.rng, 1);

	/* statistics for the backward calls */
	nn_batchnorm_forward_train(s.pool, s.y, s.x, s.st, s.st + 16, (size_t) B * 200, 16,
							   NN_BN_EPSILON, s.st + 32, s.st + 48, s.st + 64, s.ws);

	printf("nn_layers_bench: batch %d, %d thread(s), best of %d\n\n", B, threads, repeats);
	printf("%-30s %10s %10s %12s\n", "kernel", "ms/call", "GFLOP/s", "cpu ms/call");
	for (int o = 0; o < N_OPS; o++)
	{
		best[o] = best_cpu[o] = 1e30;
		run_op(&s, o);			/* warm up */
		for (int r = 0; r < repeats; r++)
		{
			double		t0 = now_sec(),
						c0 = cpu_sec();

			run_op(&s, o);
			t0 = now_sec() - t0;
			c0 = cpu_sec() - c0;
			if (t0 < best[o])
				best[o] = t0;
			if (c0 < best_cpu[o])
				best_cpu[o] = c0;
		}
		if (op_flops(o, B) > 0)
			printf("%-30s %10.3f %10.1f %12.3f\n", op_names[o], best[o] * 1e3,
				   op_flops(o, B) / best[o] * 1e-9, best_cpu[o] * 1e3);
		else
			printf("%-30s %10.3f %10s %12.3f\n", op_names[o], best[o] * 1e3, "",
				   best_cpu[o] * 1e3);
	}

	for (int use_cpu = 0; use_cpu < 2; use_cpu++)
	{
		const double *t = use_cpu ? best_cpu : best;
		double		total = 0,
					conv = 0;

		printf(use_cpu ? "\nfrom CPU time (all threads; with 1 thread: the cost on an idle core)\n"
			   : "\nfrom wall-clock time\n");
		for (size_t i = 0; i < sizeof(cnn_step) / sizeof(cnn_step[0]); i++)
		{
			total += cnn_step[i].count * t[cnn_step[i].op];
			if (cnn_step[i].op <= CONV100_B || cnn_step[i].op == CONVRES200_F ||
				cnn_step[i].op == CONVRES100_F)
				conv += cnn_step[i].count * t[cnn_step[i].op];
		}
		printf("  cnn step estimate (kernels only): %.1f ms per batch of %d (convs %.1f ms)"
			   " -> %.0f samples/s\n", total * 1e3, B, conv * 1e3, B / total);
		total = 0;
		for (size_t i = 0; i < sizeof(baseline_step) / sizeof(baseline_step[0]); i++)
			total += baseline_step[i].count * t[baseline_step[i].op];
		/* the baseline's ReLU and dropout act on [B][128] */
		total += 2 * t[RELU200_F] * 128.0 / (200 * 16) + 2 * t[DROP200_F] * 128.0 / (200 * 16);
		printf("  baseline step estimate (kernels only): %.1f ms per batch -> %.0f samples/s\n",
			   total * 1e3, B / total);
	}
	nn_pool_destroy(s.pool);
	return 0;
}
