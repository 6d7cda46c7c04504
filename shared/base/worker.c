/*
 * worker.c - a background thread with a sleep that can be cut short
 * (wake-up) or ended (stop), on CLOCK_MONOTONIC.
 */
#include <errno.h>
#include <time.h>

#include "base/worker.h"

int64_t
worker_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
worker_init(struct worker *w)
{
	pthread_condattr_t	ca;

	pthread_mutex_init(&w->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cond, &ca);
	pthread_condattr_destroy(&ca);
	w->running = 0;
	w->woken = 0;
	atomic_init(&w->stop, 0);
}

void
worker_destroy(struct worker *w)
{
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
}

int
worker_start(struct worker *w, void *(*fn)(void *), void *arg)
{
	int	rc = 0;

	pthread_mutex_lock(&w->lock);
	if (!w->running) {
		atomic_store(&w->stop, 0);
		w->woken = 0;
		if ((rc = pthread_create(&w->thread, NULL, fn, arg)) == 0)
			w->running = 1;
	}
	pthread_mutex_unlock(&w->lock);
	if (rc != 0) {
		errno = rc;
		return -1;
	}
	return 0;
}

void
worker_wake(struct worker *w)
{
	pthread_mutex_lock(&w->lock);
	w->woken = 1;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

enum worker_wait
worker_sleep_until(struct worker *w, int64_t deadline_ms)
{
	struct timespec		ts;
	enum worker_wait	why = WORKER_DEADLINE;

	ts.tv_sec = (time_t)(deadline_ms / 1000);
	ts.tv_nsec = (long)(deadline_ms % 1000) * 1000000L;
	pthread_mutex_lock(&w->lock);
	/* The stop first, then a wake-up, then the deadline. */
	for (;;) {
		if (atomic_load(&w->stop)) {
			why = WORKER_STOPPED;
			break;
		}
		if (w->woken) {
			w->woken = 0;
			why = WORKER_WOKEN;
			break;
		}
		if (worker_now_ms() >= deadline_ms ||
		    pthread_cond_timedwait(&w->cond, &w->lock, &ts) ==
		    ETIMEDOUT) {
			/* A stop or a wake-up that raced the timeout wins. */
			if (atomic_load(&w->stop) || w->woken)
				continue;
			break;
		}
	}
	pthread_mutex_unlock(&w->lock);
	return why;
}

enum worker_wait
worker_sleep(struct worker *w, int64_t ms)
{
	int64_t	now = worker_now_ms();

	if (ms < 0)
		ms = 0;
	return worker_sleep_until(w, ms > INT64_MAX - now ? INT64_MAX :
	    now + ms);
}

int
worker_stopping(const struct worker *w)
{
	return atomic_load(&w->stop) != 0;
}

const atomic_int *
worker_stop_flag(const struct worker *w)
{
	return &w->stop;
}

void
worker_stop(struct worker *w)
{
	int	running;

	pthread_mutex_lock(&w->lock);
	atomic_store(&w->stop, 1);
	pthread_cond_broadcast(&w->cond);
	running = w->running;
	pthread_mutex_unlock(&w->lock);
	if (!running)
		return;
	pthread_join(w->thread, NULL);
	pthread_mutex_lock(&w->lock);
	w->running = 0;
	pthread_mutex_unlock(&w->lock);
}
