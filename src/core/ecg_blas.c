/*
 * ecg_blas.c - OpenBLAS's thread count, set and restored in one place
 * (ecg_blas.h).
 */
#include "ecg_blas.h"

#include <cblas.h>

int
ecg_blas_set_threads(int n)
{
	int			previous = openblas_get_num_threads();

	if (n < 1)
		n = 1;
	if (n != previous)
		openblas_set_num_threads(n);
	return previous;
}
