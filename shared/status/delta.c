/*
 * delta.c - the status cache's background thread: every
 * delta_interval it runs one Graph delta round on devices (and users),
 * applying each change to the cache (reference/microsoft-apis.md §4).
 *
 * Initial sync.  By default a chain starts with a full read (no
 * $deltaToken=latest): every device (and user) of the tenant enters the
 * cache before any login asks for it, so that
 *   - steady state needs no live lookup at all, even for a device seen for
 *     the first time, so a morning burst of logins makes no Graph calls
 *     and waits for none;
 *   - fail = open has a last known state for every device, even one that
 *     has not logged in since FreeRADIUS started;
 *   - the whole directory is tracked by the one delta stream.
 * It costs one read of the directory at start-up and after a refused
 * deltaLink (in the background; logins meanwhile fall back to live
 * lookups) and memory for every object (about 200 bytes each).
 * STATUS_SYNC_LATEST starts from now instead and fills the cache by live
 * lookups.
 *
 * Delta changes carry only what changed: a missing accountEnabled means
 * "unchanged", never false.  "@removed" (reason changed = soft delete, or
 * deleted) makes the object deleted.  A refused deltaLink (400/410)
 * restarts the chain.  While Graph asks to hold back (Retry-After), rounds
 * are skipped.  Logins never wait for this thread: it holds a table's
 * lock only for the update of one object.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/backoff.h"
#include "base/log.h"
#include "status/cache_int.h"

/* What the apply callback needs for one round. */
struct sc_round {
	struct status_cache	*c;
	struct sc_table		*table;
	enum graph_kind		 kind;
	int64_t			 started_ms;
	size_t			 objects;
};

static const char *
sc_kind_name(enum graph_kind kind)
{
	return kind == GRAPH_DEVICES ? "devices" : "users";
}

/* Applies one delta object to the cache (graph_delta_fn). */
static int
sc_delta_apply(void *arg, const struct graph_delta_object *o)
{
	struct sc_round		*r = arg;
	char			 id[STATUS_KEY_MAX], key[STATUS_KEY_MAX];
	const char		*k = r->kind == GRAPH_DEVICES ? o->device_id :
				    o->upn;
	struct sc_update	 u;

	if (o->id == NULL || sc_norm(o->id, id) == -1)
		return 0;			/* nothing to key it by */
	memset(&u, 0, sizeof(u));
	u.id = id;
	u.key = k != NULL && !o->removed && sc_norm(k, key) == 0 ? key : NULL;
	u.seen_ms = r->started_ms;
	u.need_key = 1;		/* an object unknown by key is never asked for */
	if (o->removed)
		u.state = STATUS_DELETED;
	else if (o->account_enabled >= 0)
		u.state = o->account_enabled ? STATUS_ENABLED : STATUS_DISABLED;
	else
		u.state = -1;			/* unchanged */
	if (sc_table_update(r->table, &u) == -1)
		log_warn("status", "out of memory applying a %s change",
		    sc_kind_name(r->kind));
	r->objects++;
	return 0;
}

/* Records a failed round; a refused link restarts the chain. */
static void
sc_round_failed(struct status_cache *c, struct sc_sync *s, int resync,
    const struct err *e)
{
	__atomic_fetch_add(&c->n_round_failures, 1, __ATOMIC_RELAXED);
	if (resync) {
		__atomic_fetch_add(&c->n_resyncs, 1, __ATOMIC_RELAXED);
		free(s->link);
		s->link = NULL;
		/* Changes since the last round are lost: cover nothing. */
		__atomic_store_n(&s->table->chain_ms, 0, __ATOMIC_RELEASE);
		__atomic_store_n(&s->table->synced_ms, 0, __ATOMIC_RELEASE);
		log_warn("status", "%s delta link refused: reading all %s "
		    "again (%s)", sc_kind_name(s->kind), sc_kind_name(s->kind),
		    e->msg);
	} else if (s->failures == 0) {
		log_warn("status", "%s delta failed, cache ageing until Graph "
		    "answers: %s", sc_kind_name(s->kind), e->msg);
	}
	s->failures++;
}

/* Runs one round for s (sync_lock held).  Returns 0 or -1 (e set). */
static int
sc_round(struct status_cache *c, struct sc_sync *s, struct err *e)
{
	struct sc_round	 r = { c, s->table, s->kind, sc_now(c), 0 };
	char		*next = NULL;
	int		 resync = 0, first = s->link == NULL;
	long		 wait;

	if ((wait = c->src.retry_after(c->src.arg)) > 0)
		return err_set(e, ERR_THROTTLED, "status: %s delta held back "
		    "%ld s more (Retry-After)", sc_kind_name(s->kind), wait);
	if (c->src.delta_run(c->src.arg, s->kind, s->link, first &&
	    c->opts.initial_sync == STATUS_SYNC_LATEST, sc_delta_apply, &r,
	    &next, &resync, e) == -1) {
		sc_round_failed(c, s, resync, e);
		return -1;
	}
	free(s->link);
	s->link = next;
	if (first)
		__atomic_store_n(&s->table->chain_ms, r.started_ms,
		    __ATOMIC_RELEASE);
	__atomic_store_n(&s->table->synced_ms, r.started_ms, __ATOMIC_RELEASE);
	__atomic_fetch_add(&c->n_rounds, 1, __ATOMIC_RELAXED);
	sc_breaker_clear(c);
	if (first || s->failures > 0)
		log_info("status", "%s in sync%s: %zu object%s read",
		    sc_kind_name(s->kind), s->failures > 0 ? " again" : "",
		    r.objects, r.objects == 1 ? "" : "s");
	else if (r.objects > 0)
		log_debug("status", "%s delta: %zu change%s",
		    sc_kind_name(s->kind), r.objects, r.objects == 1 ? "" : "s");
	s->failures = 0;
	return 0;
}

int
status_cache_sync_once(struct status_cache *c, struct err *e)
{
	int	i, rc = 0;

	pthread_mutex_lock(&c->sync_lock);
	for (i = 0; i < (c->opts.track_users ? 2 : 1); i++)
		if (sc_round(c, &c->sync[i], e) == -1)
			rc = -1;
	pthread_mutex_unlock(&c->sync_lock);
	return rc;
}

/*
 * The pause before the next round: the interval, doubled for each round
 * failed in a row up to 8 times it, so that an outage is not met with a
 * steady stream of calls (the Retry-After gate handles explicit
 * throttling; live lookups meanwhile have the breaker).
 */
static int64_t
sc_thread_pause(struct status_cache *c)
{
	struct backoff	b = { .min = c->opts.delta_interval_ms,
			    .max = c->opts.delta_interval_ms * 8 };
	int		i, failures = 0;

	pthread_mutex_lock(&c->sync_lock);
	for (i = 0; i < 2; i++)
		if (c->sync[i].failures > failures)
			failures = c->sync[i].failures;
	pthread_mutex_unlock(&c->sync_lock);
	return backoff_delay(&b, failures, -1, 0);
}

static void *
sc_thread_main(void *arg)
{
	struct status_cache	*c = arg;
	struct err		 e;
	int64_t			 start;

	do {
		start = worker_now_ms();
		err_clear(&e);
		status_cache_sync_once(c, &e);
	} while (worker_sleep_until(&c->worker, start + sc_thread_pause(c)) !=
	    WORKER_STOPPED);
	return NULL;
}

int
status_cache_start(struct status_cache *c, struct err *e)
{
	if (worker_start(&c->worker, sc_thread_main, c) == -1)
		return err_set(e, ERR_INTERNAL, "status: cannot start the delta "
		    "thread: %s", strerror(errno));
	return 0;
}

void
status_cache_stop(struct status_cache *c)
{
	worker_stop(&c->worker);
}

void
sc_sync_free(struct status_cache *c)
{
	int	i;

	for (i = 0; i < 2; i++) {
		free(c->sync[i].link);
		c->sync[i].link = NULL;
	}
}
