/*
 * ecg_thread.c - worker threads that start with every signal blocked
 * (ecg_thread.h).
 */
#include "ecg_thread.h"

#include <signal.h>

int
ecg_thread_start(pthread_t *thread, void *(*fn) (void *), void *arg)
{
	sigset_t	all,
				saved;
	int			rc;

	/* a new thread inherits its creator's mask: block everything for the
	 * duration of the create, then restore the creator's own mask */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &saved);
	rc = pthread_create(thread, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	return rc;
}
