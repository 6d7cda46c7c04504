/*
 * worker.h - the one background-worker helper: a thread, and the sleep it
 * takes between rounds, that another thread can cut short (a wake-up) or
 * end (the stop).  Every loop of the daemon and the module runs on it:
 * the CRL publisher, the OCSP responder's maintenance and its paced
 * pre-production, the outbox sender, the sync jobs, the status cache's
 * delta rounds and the store's flusher.
 *
 * Deadlines are milliseconds of CLOCK_MONOTONIC (worker_now_ms(), the
 * clock of http_now_ms()), so a change of the wall clock never stretches
 * or cuts a sleep.
 *
 * A sleep ends for the first of: the stop, a wake-up, the deadline; a
 * spurious return of the condition variable goes back to sleep.  A
 * wake-up sent while the thread is not asleep is kept: the next sleep
 * returns WORKER_WOKEN at once.
 *
 * Thread-safety: worker_init() and worker_destroy() once, by the owner,
 * with no thread running.  worker_wake(), worker_stopping() and
 * worker_stop_flag() from any thread at any time between them;
 * worker_start() and worker_stop() from the owner's thread (the worker
 * may be started again after a stop); the sleeps from the worker's
 * thread only (or, with none started, from the owner's).
 */
#ifndef BUNDLE_WORKER_H
#define BUNDLE_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

/* Embedded in its owner; every field is private to worker.c. */
struct worker {
	pthread_mutex_t	 lock;		/* guards all but stop */
	pthread_cond_t	 cond;		/* CLOCK_MONOTONIC */
	pthread_t	 thread;
	int		 running;	/* thread is to be joined */
	int		 woken;		/* a wake-up not yet slept on */
	atomic_int	 stop;
};

/* How a sleep ended. */
enum worker_wait {
	WORKER_DEADLINE,	/* the deadline came */
	WORKER_WOKEN,		/* worker_wake() was called */
	WORKER_STOPPED		/* worker_stop() was called */
};

/* Milliseconds of CLOCK_MONOTONIC, the clock of every worker deadline. */
int64_t		 worker_now_ms(void);

/* Prepares w (not running, not stopping, no wake-up pending). */
void		 worker_init(struct worker *w);

/* Releases what worker_init() made.  The thread must have been stopped. */
void		 worker_destroy(struct worker *w);

/*
 * Starts fn(arg) on a new thread, with the stop flag and any pending
 * wake-up cleared.  Does nothing when the thread runs already.  Returns
 * 0, or -1 with errno set (pthread_create's error).
 */
int		 worker_start(struct worker *w, void *(*fn)(void *), void *arg);

/* Ends the current or the next sleep with WORKER_WOKEN. */
void		 worker_wake(struct worker *w);

/*
 * Sleeps until deadline_ms (worker_now_ms() clock), a wake-up or the
 * stop; a deadline already past still takes a pending wake-up.  Returns
 * how the sleep ended; the stop wins over the others.
 */
enum worker_wait worker_sleep_until(struct worker *w, int64_t deadline_ms);

/* worker_sleep_until(w, worker_now_ms() + ms). */
enum worker_wait worker_sleep(struct worker *w, int64_t ms);

/* 1 once worker_stop() has been called (until the next start), else 0. */
int		 worker_stopping(const struct worker *w);

/* The stop flag itself, for code that polls it without the worker. */
const atomic_int *worker_stop_flag(const struct worker *w);

/*
 * Tells the thread to stop, ends its sleep and joins it: the round in
 * progress finishes first.  Idempotent; without a thread it only sets
 * the stop flag.
 */
void		 worker_stop(struct worker *w);

#endif
