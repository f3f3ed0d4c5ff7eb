/*
 * knn_shared.c - helpers of both k-NN search paths (knn_shared.h).
 */
#include "knn_shared.h"

#include "nn_threads.h"

double
knn_exact_sqdist(const float *a, const float *b, int dim)
{
	double		sum = 0.0;

	for (int j = 0; j < dim; j++)
	{
		double		diff = (double) a[j] - (double) b[j];

		sum += diff * diff;
	}
	return sum;
}

void
knn_sort_candidates(knn_candidate *c, int n)
{
	for (int i = 1; i < n; i++)
	{
		knn_candidate x = c[i];
		int			j = i - 1;

		while (j >= 0 && knn_candidate_before(x.dist, x.index, c[j].dist, c[j].index))
		{
			c[j + 1] = c[j];
			j--;
		}
		c[j + 1] = x;
	}
}

int
knn_worker_count(void)
{
	int			t = nn_pool_threads(nn_pool_shared());

	return t > KNN_MAX_THREADS ? KNN_MAX_THREADS : t;
}

typedef struct knn_task_set
{
	void	   *(*fn) (void *);
	void	  **args;
} knn_task_set;

static void
run_one(void *p, int task)
{
	knn_task_set *set = p;

	set->fn(set->args[task]);
}

void
knn_run_parallel(void *(*fn) (void *), void **args, int n)
{
	knn_task_set set = {.fn = fn, .args = args};

	nn_pool_run(nn_pool_shared(), n, run_one, &set);
}
