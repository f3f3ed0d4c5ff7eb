/*
 * ecg_thread.h - starting the core's worker threads.
 *
 * Inside the server, signals (cancel, termination, latch wake-ups) must be
 * handled by the backend's own thread: a handler run on a worker thread would
 * touch the backend's state from the wrong thread.  Every thread the core
 * starts (the k-NN workers, the layer thread pool) therefore starts with all
 * signals blocked; the calling thread's mask is left as it was.
 */
#ifndef ECG_THREAD_H
#define ECG_THREAD_H

#include <pthread.h>

/*
 * pthread_create(thread, NULL, fn, arg) with every signal blocked in the new
 * thread.  Returns pthread_create's result (0 or an errno value).
 */
int			ecg_thread_start(pthread_t *thread, void *(*fn) (void *), void *arg);

#endif
