/*
 * ecg_blas.h - the one owner of OpenBLAS's thread count.
 *
 * Only the k-NN search calls BLAS (sgemm over blocks of points, and the
 * projection tree's dsyrk / dgemm); the layer kernels have their own code.
 * Inside the server OpenBLAS stays single-threaded (its idle threads would
 * spin beside the core's pool); the k-NN workers each run a single-threaded
 * GEMM.  Every change of the count goes through here and is undone with the
 * value it returned, so that nobody's setting is lost: a change is scoped to
 * one round of work, with no interrupt check (which may not return) in between.
 */
#ifndef ECG_BLAS_H
#define ECG_BLAS_H

/* Sets OpenBLAS to n threads (n >= 1) and returns the count it had before. */
int			ecg_blas_set_threads(int n);

#endif
