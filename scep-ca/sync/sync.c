/*
 * sync.c - the sync thread: runs each job (Entra devices, Entra users,
 * Intune revocation requests) on its interval, records how each run went
 * in the store, logs a failure once per run of failures, and holds back
 * as long as the service's Retry-After says.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/backoff.h"
#include "base/log.h"
#include "base/worker.h"
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
	struct backoff	 wait;		/* the interval, or the Retry-After */
	enum graph_kind	 kind;		/* Entra jobs */
	int		 intune;	/* the Intune job */
	int64_t		 next_ms;	/* http_now_ms() clock */
	int		 failures;	/* in a row */
};

/*
 * The worker's stop is read by the jobs between lookups too.  Everything
 * else belongs to the thread.
 */
struct sync_service {
	struct scep_ctx		*ctx;		/* borrowed */
	struct entra_job	 entra;
	struct intune_job	 intune;
	struct sync_job		 jobs[SYNC_JOBS_MAX];
	int			 njobs;
	struct worker		 worker;
};

/* Seconds the job's service asked us to hold back. */
static long
job_retry_after(const struct sync_service *s, const struct sync_job *j)
{
	return j->intune ? intune_client_retry_after(s->ctx->msft.intune) :
	    graph_client_retry_after(s->ctx->msft.graph);
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
	int64_t		start = http_now_ms();
	int		rc, items = 0;

	rc = j->intune ? intune_job_run(&s->intune, &items, &e) :
	    entra_job_run(&s->entra, j->kind, &items, &e);
	if (rc == -1 && e.msg[0] == '\0')
		err_set(&e, ERR_INTERNAL, "failed");
	/* A run cut short by the stop is no result. */
	if (!worker_stopping(&s->worker)) {
		if (store_sync_result(s->ctx->store, j->name,
		    (int64_t)time(NULL), rc == 0 ? NULL : e.msg, &e2) == -1)
			log_err("sync", "%s", e2.msg);
		job_log(j, rc, items, &e);
	}
	j->next_ms = start + backoff_delay(&j->wait, j->failures,
	    (int64_t)job_retry_after(s, j) * 1000, 0);
}

static void *
sync_main(void *arg)
{
	struct sync_service	*s = arg;
	int64_t			 next;
	int			 i;

	do {
		next = INT64_MAX;
		for (i = 0; i < s->njobs && !worker_stopping(&s->worker); i++) {
			if (http_now_ms() >= s->jobs[i].next_ms)
				job_once(s, &s->jobs[i]);
			if (s->jobs[i].next_ms < next)
				next = s->jobs[i].next_ms;
		}
		/* next is on http_now_ms()'s clock, the worker's. */
	} while (worker_sleep_until(&s->worker, next) != WORKER_STOPPED);
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
	/* Every interval, or later when the service asks (Retry-After). */
	j->wait.min = j->wait.max = (int64_t)interval * 1000;
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
	status_source_graph(&s->entra.src, ctx->msft.graph);
	s->entra.policy = o->policy;
	s->entra.crl = ctx->crl;
	s->entra.stop = worker_stop_flag(&s->worker);
	s->intune.st = ctx->store;
	s->intune.ic = ctx->msft.intune;
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

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		err_set(e, ERR_NOMEM, "sync: out of memory");
		return NULL;
	}
	worker_init(&s->worker);
	sync_setup(s, ctx, o);
	if (worker_start(&s->worker, sync_main, s) == -1) {
		err_set(e, ERR_INTERNAL, "sync: cannot start the thread: %s",
		    strerror(errno));
		worker_destroy(&s->worker);
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
	worker_stop(&s->worker);
	worker_destroy(&s->worker);
	free(s);
}
