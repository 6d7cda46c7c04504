/*
 * sync.c - the sync thread: runs each job (Entra devices, Entra users,
 * Intune revocation requests) on its interval, records how each run went
 * in the store, logs a failure once per run of failures, and holds back
 * as long as the service's Retry-After says.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "msft/http.h"
#include "revocation/crl.h"
#include "sync/sync.h"

#define SYNC_JOBS_MAX	3

struct sync_service;

/* One job on the thread's schedule. */
struct sync_job {
	const char	*name;		/* sync_state name */
	const char	*what;		/* for logs */
	int		 interval;	/* s */
	enum graph_kind	 kind;		/* Entra jobs */
	int		 intune;	/* the Intune job */
	int64_t		 next_ms;	/* http_now_ms() clock */
	int		 failures;	/* in a row */
};

/*
 * lock and cond serve the sleep; stop is atomic, read by the jobs
 * between lookups too.  Everything else belongs to the thread.
 */
struct sync_service {
	struct scep_ctx		*ctx;		/* borrowed */
	struct entra_job	 entra;
	struct intune_job	 intune;
	struct sync_job		 jobs[SYNC_JOBS_MAX];
	int			 njobs;
	pthread_t		 thread;
	pthread_mutex_t		 lock;
	pthread_cond_t		 cond;		/* CLOCK_MONOTONIC */
	atomic_int		 stop;
};

/* Seconds the job's service asked us to hold back. */
static long
job_retry_after(const struct sync_service *s, const struct sync_job *j)
{
	return j->intune ? intune_client_retry_after(s->ctx->intune) :
	    graph_client_retry_after(s->ctx->graph);
}

/* Logs a run's end: the first failure of a series, and the recovery. */
static void
job_log(struct sync_job *j, int rc, int items, const struct err *e)
{
	if (rc == -1 && j->failures++ == 0)
		log_warn("sync", "%s failed: %s (logged once until it"
		    " recovers; `scep-ca status` shows the last error)",
		    j->what, e->msg);
	else if (rc == -1)
		log_debug("sync", "%s failed again (%d in a row): %s", j->what,
		    j->failures, e->msg);
	else if (j->failures > 0) {
		log_info("sync", "%s works again after %d failed run(s)",
		    j->what, j->failures);
		j->failures = 0;
	} else if (items > 0)
		log_debug("sync", "%s: %d change(s)", j->what, items);
}

/* Runs one job once and schedules the next run. */
static void
job_once(struct sync_service *s, struct sync_job *j)
{
	struct err	e = {0}, e2 = {0};
	int64_t		start = http_now_ms(), delay;
	int		rc, items = 0;
	long		ra;

	rc = j->intune ? intune_job_run(&s->intune, &items, &e) :
	    entra_job_run(&s->entra, j->kind, &items, &e);
	if (rc == -1 && e.msg[0] == '\0')
		err_set(&e, ERR_INTERNAL, "failed");
	/* A run cut short by the stop is no result. */
	if (!atomic_load(&s->stop)) {
		if (store_sync_result(s->ctx->store, j->name,
		    (int64_t)time(NULL), rc == 0 ? NULL : e.msg, &e2) == -1)
			log_err("sync", "%s", e2.msg);
		job_log(j, rc, items, &e);
	}
	delay = (int64_t)j->interval * 1000;
	if ((ra = job_retry_after(s, j)) * 1000 > delay)
		delay = (int64_t)ra * 1000;
	j->next_ms = start + delay;
}

/* Sleeps until `until` (http_now_ms() clock) or the stop.  1: stopping. */
static int
sync_sleep(struct sync_service *s, int64_t until)
{
	struct timespec	ts;
	int64_t		left;

	pthread_mutex_lock(&s->lock);
	while (!atomic_load(&s->stop) && (left = until - http_now_ms()) > 0) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += left / 1000;
		ts.tv_nsec += (left % 1000) * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&s->cond, &s->lock, &ts);
	}
	pthread_mutex_unlock(&s->lock);
	return atomic_load(&s->stop);
}

static void *
sync_main(void *arg)
{
	struct sync_service	*s = arg;
	int64_t			 next;
	int			 i;

	do {
		next = INT64_MAX;
		for (i = 0; i < s->njobs && !atomic_load(&s->stop); i++) {
			if (http_now_ms() >= s->jobs[i].next_ms)
				job_once(s, &s->jobs[i]);
			if (s->jobs[i].next_ms < next)
				next = s->jobs[i].next_ms;
		}
	} while (!sync_sleep(s, next));
	return NULL;
}

static void
job_add(struct sync_service *s, const char *name, const char *what,
    int interval, enum graph_kind kind, int intune)
{
	struct sync_job	*j = &s->jobs[s->njobs++];

	memset(j, 0, sizeof(*j));
	j->name = name;
	j->what = what;
	j->interval = interval;
	j->kind = kind;
	j->intune = intune;
}

/* The jobs and their clients, from o and ctx. */
static void
sync_setup(struct sync_service *s, struct scep_ctx *ctx,
    const struct sync_opts *o)
{
	s->ctx = ctx;
	s->entra.st = ctx->store;
	status_source_graph(&s->entra.src, ctx->graph);
	s->entra.policy = o->policy;
	s->entra.crl = ctx->crl;
	s->entra.stop = &s->stop;
	s->intune.st = ctx->store;
	s->intune.ic = ctx->intune;
	s->intune.ca_name = X509_get_subject_name(ca_cert(ctx->ca));
	s->intune.crl = ctx->crl;
	if (o->entra_interval > 0) {
		job_add(s, SYNC_ENTRA_DEVICES, "Entra device sync",
		    o->entra_interval, GRAPH_DEVICES, 0);
		job_add(s, SYNC_ENTRA_USERS, "Entra user sync",
		    o->entra_interval, GRAPH_USERS, 0);
	}
	if (o->intune_interval > 0)
		job_add(s, SYNC_INTUNE_REVOCATIONS,
		    "Intune revocation requests", o->intune_interval,
		    GRAPH_DEVICES, 1);
}

struct sync_service *
sync_start(struct scep_ctx *ctx, const struct sync_opts *o, struct err *e)
{
	struct sync_service	*s;
	pthread_condattr_t	 ca;
	int			 rc;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		err_set(e, ERR_NOMEM, "sync: out of memory");
		return NULL;
	}
	sync_setup(s, ctx, o);
	atomic_init(&s->stop, 0);
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cond, &ca);
	pthread_condattr_destroy(&ca);
	if ((rc = pthread_create(&s->thread, NULL, sync_main, s)) != 0) {
		err_set(e, ERR_INTERNAL, "sync: cannot start the thread: %s",
		    strerror(rc));
		pthread_cond_destroy(&s->cond);
		pthread_mutex_destroy(&s->lock);
		free(s);
		return NULL;
	}
	return s;
}

void
sync_stop(struct sync_service *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->lock);
	atomic_store(&s->stop, 1);
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->thread, NULL);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
