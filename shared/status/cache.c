/*
 * cache.c - the Entra status cache: lookups, live Graph lookups
 * with single-flight, the breaker.  The tables are in table.c, the
 * delta thread that keeps them fresh in delta.c.
 *
 * Freshness.  An entry records when its state was true (seen_ms: the
 * start of the live lookup or of the delta round that reported it).  Once
 * a delta chain is established (its first round completed), every change
 * after the chain's start reaches the cache in a later round; so an entry
 * seen at or after the chain's start is known to be current as of the
 * start of the last successful round, and its age is counted from there.
 * Other entries (older than a resync, or in a table no delta follows) age
 * from their own seen_ms.  An update never replaces newer news.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "msft/http.h"
#include "status/cache_int.h"

#define SC_BREAKER_DEFAULT_MS	2000

/* A live lookup in progress for one key; others wait for its answer. */
struct sc_flight {
	struct sc_flight	*next;
	char			 key[STATUS_KEY_MAX + 2];	/* "d:", "a:", "u:" */
	int			 refs;		/* leader + waiting followers */
	int			 done;
	struct status_answer	 answer;
	pthread_cond_t		 cond;		/* CLOCK_MONOTONIC */
};

const char *
status_state_name(enum status_state s)
{
	switch (s) {
	case STATUS_ENABLED:	return "enabled";
	case STATUS_DISABLED:	return "disabled";
	case STATUS_DELETED:	return "deleted";
	default:		return "unknown";
	}
}

int64_t
sc_now(const struct status_cache *c)
{
	return c->opts.clock != NULL ? c->opts.clock(c->opts.clock_arg) :
	    http_now_ms();
}

/* ---- answers and the breaker ------------------------------------------ */

static int64_t
sc_age(const struct status_cache *c, const struct sc_view *v)
{
	int64_t	age = sc_now(c) - v->seen_ms;

	return age > 0 ? age : 0;
}

/* Whether v may be used without asking Graph. */
static int
sc_fresh(const struct status_cache *c, const struct sc_view *v,
    const struct status_query *q)
{
	return !q->force_live && v->found && v->state != STATUS_UNKNOWN &&
	    sc_age(c, v) <= q->max_age_ms;
}

static void
sc_answer_cached(struct status_cache *c, const struct sc_view *v,
    struct status_answer *a)
{
	a->state = v->state;
	a->age_ms = sc_age(c, v);
	__atomic_fetch_add(&c->n_hits, 1, __ATOMIC_RELAXED);
}

/* Graph could not answer: the last known state (v may be NULL) and why. */
static void
sc_answer_failed(struct status_cache *c, const struct sc_view *v,
    const struct err *e, struct status_answer *a)
{
	a->graph_failed = 1;
	a->err = *e;
	if (v != NULL && v->found && v->state != STATUS_UNKNOWN) {
		a->state = v->state;
		a->age_ms = sc_age(c, v);
	} else {
		a->state = STATUS_UNKNOWN;
	}
}

static void
sc_answer_live(enum status_state st, struct status_answer *a)
{
	a->state = st;
	a->age_ms = 0;
	a->live = 1;
}

void
sc_breaker_clear(struct status_cache *c)
{
	backoff_hold_clear(&c->breaker);
}

/* Whether failures of this kind mean Graph itself is unreachable. */
static int
sc_breaker_code(enum err_code code)
{
	return code == ERR_TIMEOUT || code == ERR_REMOTE ||
	    code == ERR_THROTTLED || code == ERR_AUTH;
}

static void
sc_breaker_trip(struct status_cache *c, enum err_code code)
{
	int64_t	hold = c->opts.breaker_ms > 0 ? c->opts.breaker_ms :
		    SC_BREAKER_DEFAULT_MS;

	if (sc_breaker_code(code))
		backoff_hold_until(&c->breaker, sc_now(c) + hold);
}

/* Returns 1 (e set) while the breaker holds calls back. */
static int
sc_breaker_open(struct status_cache *c, struct err *e)
{
	int64_t	left = backoff_hold_left(&c->breaker, sc_now(c));

	if (left == 0)
		return 0;
	err_set(e, ERR_REMOTE, "status: Graph failed just before; not asked "
	    "again for %lld ms", (long long)left);
	return 1;
}

/* ---- single-flight ----------------------------------------------------- */

enum sc_role { SC_LEAD, SC_FOLLOWED, SC_GAVE_UP, SC_ALONE };

static void
sc_ms_to_timespec(int64_t ms, struct timespec *ts)
{
	ts->tv_sec = (time_t)(ms / 1000);
	ts->tv_nsec = (long)(ms % 1000) * 1000000L;
}

/* Drops one reference (flight_lock held); frees the flight at zero. */
static void
sc_flight_unref(struct sc_flight *f)
{
	if (--f->refs > 0)
		return;
	pthread_cond_destroy(&f->cond);
	free(f);
}

/*
 * Joins the flight for key, or starts it.  SC_LEAD: the caller makes the
 * call and ends with sc_flight_leave(*fp).  SC_FOLLOWED: another thread's
 * answer is in a.  SC_GAVE_UP: the deadline came first.  SC_ALONE: out of
 * memory, the caller asks Graph by itself.
 */
static enum sc_role
sc_flight_enter(struct status_cache *c, const char *key, int64_t deadline_ms,
    struct sc_flight **fp, struct status_answer *a)
{
	struct sc_flight	*f;
	pthread_condattr_t	 attr;
	struct timespec		 ts;
	enum sc_role		 role;

	pthread_mutex_lock(&c->flight_lock);
	for (f = c->flights; f != NULL; f = f->next)
		if (strcmp(f->key, key) == 0)
			break;
	if (f == NULL) {
		if ((f = calloc(1, sizeof(*f))) == NULL) {
			pthread_mutex_unlock(&c->flight_lock);
			return SC_ALONE;
		}
		snprintf(f->key, sizeof(f->key), "%s", key);
		f->refs = 1;
		pthread_condattr_init(&attr);
		pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
		pthread_cond_init(&f->cond, &attr);
		pthread_condattr_destroy(&attr);
		f->next = c->flights;
		c->flights = f;
		pthread_mutex_unlock(&c->flight_lock);
		*fp = f;
		return SC_LEAD;
	}
	f->refs++;
	__atomic_fetch_add(&c->n_coalesced, 1, __ATOMIC_RELAXED);
	sc_ms_to_timespec(deadline_ms, &ts);
	while (!f->done && pthread_cond_timedwait(&f->cond, &c->flight_lock,
	    &ts) != ETIMEDOUT)
		;
	role = f->done ? SC_FOLLOWED : SC_GAVE_UP;
	if (f->done)
		*a = f->answer;
	sc_flight_unref(f);
	pthread_mutex_unlock(&c->flight_lock);
	return role;
}

/* Publishes the leader's answer to the followers and ends the flight. */
static void
sc_flight_leave(struct status_cache *c, struct sc_flight *f,
    const struct status_answer *a)
{
	struct sc_flight	**p;

	pthread_mutex_lock(&c->flight_lock);
	f->answer = *a;
	f->done = 1;
	pthread_cond_broadcast(&f->cond);
	for (p = &c->flights; *p != NULL; p = &(*p)->next) {
		if (*p == f) {
			*p = f->next;
			break;
		}
	}
	sc_flight_unref(f);
	pthread_mutex_unlock(&c->flight_lock);
}

/* Asks Graph through a flight: lead (calling live) or follow. */
typedef void (*sc_live_fn)(struct status_cache *c, const char *norm,
    const struct status_query *q, const struct sc_view *last,
    struct status_answer *a);

static void
sc_flight_run(struct status_cache *c, char kind, const char *norm,
    const struct status_query *q, const struct sc_view *last, sc_live_fn live,
    struct status_answer *a)
{
	struct sc_flight	*f = NULL;
	struct err		 e;
	char			 key[STATUS_KEY_MAX + 2];

	snprintf(key, sizeof(key), "%c:%s", kind, norm);
	switch (sc_flight_enter(c, key, q->deadline_ms, &f, a)) {
	case SC_LEAD:
		live(c, norm, q, last, a);
		sc_flight_leave(c, f, a);
		break;
	case SC_ALONE:
		live(c, norm, q, last, a);
		break;
	case SC_FOLLOWED:
		break;
	case SC_GAVE_UP:
		err_set(&e, ERR_TIMEOUT, "status: another lookup of %s did "
		    "not end before the deadline", norm);
		sc_answer_failed(c, last, &e, a);
		break;
	}
}

/* ---- live lookups (the leader of a flight) ------------------------------ */

/* Starts a live call: 0 to go on, -1 when the breaker answered (a set). */
static int
sc_live_begin(struct status_cache *c, const struct sc_view *last,
    struct status_answer *a)
{
	struct err	e;

	if (sc_breaker_open(c, &e)) {
		sc_answer_failed(c, last, &e, a);
		return -1;
	}
	__atomic_fetch_add(&c->n_live, 1, __ATOMIC_RELAXED);
	return 0;
}

/* Graph failed: trip the breaker, answer with the last known state. */
static void
sc_live_failed(struct status_cache *c, const struct sc_view *last,
    const struct err *e, struct status_answer *a)
{
	sc_breaker_trip(c, e->code);
	sc_answer_failed(c, last, e, a);
}

/* Records what Graph said of a device, keyed by deviceId norm. */
static void
sc_device_store(struct status_cache *c, const char *norm,
    const struct graph_device *gd, int64_t t0, enum status_state st)
{
	char		 id[STATUS_KEY_MAX];
	struct sc_update u = { NULL, norm, NULL, (int)st, t0, 0 };

	if (gd->found && sc_norm(gd->id, id) == 0)
		u.id = id;
	if (sc_table_update(&c->devices, &u) == -1)
		log_warn("status", "out of memory caching device %s", norm);
}

static void
sc_live_device(struct status_cache *c, const char *norm,
    const struct status_query *q, const struct sc_view *last,
    struct status_answer *a)
{
	struct graph_device	gd;
	struct err		e;
	enum status_state	st;
	int64_t			t0 = sc_now(c);

	if (sc_live_begin(c, last, a) == -1)
		return;
	err_clear(&e);
	if (c->src.device_get(c->src.arg, norm, q->deadline_ms, &gd, &e) == -1) {
		sc_live_failed(c, last, &e, a);
		return;
	}
	sc_breaker_clear(c);
	st = !gd.found ? STATUS_DELETED : gd.account_enabled ? STATUS_ENABLED :
	    STATUS_DISABLED;
	sc_device_store(c, norm, &gd, t0, st);
	sc_answer_live(st, a);
}

int
status_cache_device(struct status_cache *c, const char *device_id,
    const struct status_query *q, struct status_answer *a)
{
	char		norm[STATUS_KEY_MAX];
	struct sc_view	v;

	memset(a, 0, sizeof(*a));
	/* Graph has no device whose deviceId is not a GUID. */
	if (sc_norm(device_id, norm) == -1 || !graph_guid_valid(norm)) {
		a->state = STATUS_DELETED;
		return 0;
	}
	snprintf(a->device_id, sizeof(a->device_id), "%.127s", norm);
	sc_table_read(&c->devices, 1, norm, &v);
	if (sc_fresh(c, &v, q)) {
		sc_answer_cached(c, &v, a);
		return 0;
	}
	sc_flight_run(c, 'd', norm, q, &v, sc_live_device, a);
	snprintf(a->device_id, sizeof(a->device_id), "%.127s", norm);
	return 0;
}

/* Records an Intune mapping: target (NULL: not an Intune device). */
static void
sc_managed_store(struct status_cache *c, const char *norm, const char *target,
    int64_t t0)
{
	struct sc_update u = { norm, NULL, target,
	    target != NULL ? STATUS_ENABLED : STATUS_DELETED, t0, 0 };

	if (sc_table_update(&c->managed, &u) == -1)
		log_warn("status", "out of memory caching Intune device %s",
		    norm);
}

/*
 * The id is neither a known deviceId nor a known Intune id: ask Graph
 * for a device with that deviceId, else for an Intune managed device.
 */
static void
sc_live_any(struct status_cache *c, const char *norm,
    const struct status_query *q, const struct sc_view *last,
    struct status_answer *a)
{
	struct graph_device		gd;
	struct graph_managed_device	md;
	struct err			e;
	char				target[STATUS_KEY_MAX];
	int64_t				t0 = sc_now(c);

	if (sc_live_begin(c, last, a) == -1)
		return;
	err_clear(&e);
	if (c->src.device_get(c->src.arg, norm, q->deadline_ms, &gd, &e) == -1)
		goto failed;
	sc_breaker_clear(c);
	sc_device_store(c, norm, &gd, t0, !gd.found ? STATUS_DELETED :
	    gd.account_enabled ? STATUS_ENABLED : STATUS_DISABLED);
	if (gd.found) {
		sc_answer_live(gd.account_enabled ? STATUS_ENABLED :
		    STATUS_DISABLED, a);
		return;
	}
	__atomic_fetch_add(&c->n_live, 1, __ATOMIC_RELAXED);
	if (c->src.managed_get(c->src.arg, norm, q->deadline_ms, &md, &e) == -1)
		goto failed;
	if (!md.found || sc_norm(md.azure_ad_device_id, target) == -1) {
		if (md.found)
			log_info("status", "Intune device %s has no Entra "
			    "device (azureADDeviceId empty)", norm);
		sc_managed_store(c, norm, NULL, t0);
		sc_answer_live(STATUS_DELETED, a);
		return;
	}
	sc_managed_store(c, norm, target, t0);
	status_cache_device(c, target, q, a);
	a->live = 1;
	return;
failed:
	/* What was known of this id is no answer: it may be either kind. */
	sc_live_failed(c, NULL, &e, a);
}

int
status_cache_device_any(struct status_cache *c, const char *id,
    const struct status_query *q, struct status_answer *a)
{
	char		norm[STATUS_KEY_MAX];
	struct sc_view	m, v;

	memset(a, 0, sizeof(*a));
	if (sc_norm(id, norm) == -1 || !graph_guid_valid(norm)) {
		a->state = STATUS_DELETED;
		return 0;
	}
	/* A known Intune id: the device it stands for. */
	sc_table_read(&c->managed, 0, norm, &m);
	if (m.found && m.state == STATUS_ENABLED && m.target[0] != '\0')
		return status_cache_device(c, m.target, q, a);
	/* A known device (it has an object id): this is its deviceId. */
	sc_table_read(&c->devices, 1, norm, &v);
	if (v.found && v.has_id)
		return status_cache_device(c, norm, q, a);
	/* Known to be neither, recently enough. */
	if (v.found && m.found && sc_fresh(c, &v, q) && sc_fresh(c, &m, q)) {
		sc_answer_cached(c, sc_age(c, &v) > sc_age(c, &m) ? &v : &m, a);
		snprintf(a->device_id, sizeof(a->device_id), "%.127s", norm);
		return 0;
	}
	sc_flight_run(c, 'a', norm, q, NULL, sc_live_any, a);
	if (a->device_id[0] == '\0')
		snprintf(a->device_id, sizeof(a->device_id), "%.127s", norm);
	return 0;
}

static void
sc_live_user(struct status_cache *c, const char *norm,
    const struct status_query *q, const struct sc_view *last,
    struct status_answer *a)
{
	struct graph_user	gu;
	struct err		e;
	char			id[STATUS_KEY_MAX], upn[STATUS_KEY_MAX];
	struct sc_update	u;
	int			by_id = graph_guid_valid(norm);
	int64_t			t0 = sc_now(c);

	if (sc_live_begin(c, last, a) == -1)
		return;
	err_clear(&e);
	if (c->src.user_get(c->src.arg, norm, q->deadline_ms, &gu, &e) == -1) {
		sc_live_failed(c, last, &e, a);
		return;
	}
	sc_breaker_clear(c);
	memset(&u, 0, sizeof(u));
	u.seen_ms = t0;
	if (!gu.found) {
		u.state = STATUS_DELETED;
		u.id = by_id ? norm : NULL;
		u.key = by_id ? NULL : norm;
	} else {
		u.state = gu.account_enabled ? STATUS_ENABLED : STATUS_DISABLED;
		u.id = sc_norm(gu.id, id) == 0 ? id : NULL;
		u.key = sc_norm(gu.upn, upn) == 0 ? upn : (by_id ? NULL : norm);
	}
	if (sc_table_update(&c->users, &u) == -1)
		log_warn("status", "out of memory caching user %s", norm);
	sc_answer_live((enum status_state)u.state, a);
}

int
status_cache_user(struct status_cache *c, const char *upn_or_id,
    const struct status_query *q, struct status_answer *a)
{
	char		norm[STATUS_KEY_MAX];
	struct sc_view	v;
	int		by_id;

	memset(a, 0, sizeof(*a));
	/* Neither an object id nor a UPN: Entra has no such user. */
	if (sc_norm(upn_or_id, norm) == -1 ||
	    (!(by_id = graph_guid_valid(norm)) && strchr(norm, '@') == NULL)) {
		a->state = STATUS_DELETED;
		return 0;
	}
	sc_table_read(&c->users, !by_id, norm, &v);
	if (sc_fresh(c, &v, q)) {
		sc_answer_cached(c, &v, a);
		return 0;
	}
	sc_flight_run(c, 'u', norm, q, &v, sc_live_user, a);
	return 0;
}

/* ---- life cycle -------------------------------------------------------- */

struct status_cache *
status_cache_new(const struct status_cache_opts *opts,
    const struct status_source *src, struct err *e)
{
	struct status_cache	*c;

	if (src->device_get == NULL || src->managed_get == NULL ||
	    src->user_get == NULL || src->delta_run == NULL ||
	    src->retry_after == NULL || opts->delta_interval_ms <= 0) {
		err_set(e, ERR_USAGE, "status: incomplete source or options");
		return NULL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		err_set(e, ERR_NOMEM, "status: out of memory");
		return NULL;
	}
	c->opts = *opts;
	c->src = *src;
	if (sc_table_init(&c->devices) == -1 || sc_table_init(&c->users) == -1 ||
	    sc_table_init(&c->managed) == -1) {
		sc_table_destroy(&c->devices);
		sc_table_destroy(&c->users);
		free(c);
		err_set(e, ERR_NOMEM, "status: out of memory");
		return NULL;
	}
	pthread_mutex_init(&c->flight_lock, NULL);
	pthread_mutex_init(&c->sync_lock, NULL);
	worker_init(&c->worker);
	c->sync[0].kind = GRAPH_DEVICES;
	c->sync[0].table = &c->devices;
	c->sync[1].kind = GRAPH_USERS;
	c->sync[1].table = &c->users;
	return c;
}

void
status_cache_free(struct status_cache *c)
{
	if (c == NULL)
		return;
	status_cache_stop(c);
	sc_sync_free(c);
	/* No flight can be left: every lookup has returned by now. */
	pthread_mutex_destroy(&c->flight_lock);
	pthread_mutex_destroy(&c->sync_lock);
	worker_destroy(&c->worker);
	sc_table_destroy(&c->devices);
	sc_table_destroy(&c->users);
	sc_table_destroy(&c->managed);
	free(c);
}

void
status_cache_stats(struct status_cache *c, struct status_cache_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->hits = __atomic_load_n(&c->n_hits, __ATOMIC_RELAXED);
	st->live_calls = __atomic_load_n(&c->n_live, __ATOMIC_RELAXED);
	st->coalesced = __atomic_load_n(&c->n_coalesced, __ATOMIC_RELAXED);
	st->delta_rounds = __atomic_load_n(&c->n_rounds, __ATOMIC_RELAXED);
	st->delta_failures = __atomic_load_n(&c->n_round_failures,
	    __ATOMIC_RELAXED);
	st->resyncs = __atomic_load_n(&c->n_resyncs, __ATOMIC_RELAXED);
	st->devices = sc_table_count(&c->devices);
	st->users = sc_table_count(&c->users);
	st->managed = sc_table_count(&c->managed);
}
