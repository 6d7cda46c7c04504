/*
 * fake_directory.h - an in-process Entra directory behind the status
 * cache's source interface (status/cache.h), for unit tests of the cache
 * and of the decision: devices, Intune managed devices and users in
 * arrays, change tracking from a queue of changes, injectable failures,
 * delays and a fake clock, and call counters.  Header-only: each unit test
 * program includes it once.
 *
 * The integration tests never use this: they run the real Graph client
 * against tests/fake-entra.
 */
#ifndef TEST_FAKE_DIRECTORY_H
#define TEST_FAKE_DIRECTORY_H

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "status/cache.h"

#define FD_MAX		16
#define FD_CHANGES_MAX	16

struct fd_device {
	char	id[64], device_id[64];
	int	enabled, exists;
};

struct fd_managed {
	char	id[64], azure[64];
	int	exists;
};

struct fd_user {
	char	id[64], upn[128];
	int	enabled, exists;
};

/* One queued change, handed out by the next delta round of its kind. */
struct fd_change {
	enum graph_kind	kind;
	char		id[64], key[128], reason[16];
	int		has_key, account_enabled, removed;
};

struct fake_dir {
	pthread_mutex_t		lock;
	struct fd_device	dev[FD_MAX];
	struct fd_managed	man[FD_MAX];
	struct fd_user		usr[FD_MAX];
	int			ndev, nman, nusr;
	struct fd_change	changes[FD_CHANGES_MAX];
	int			nchanges;

	enum err_code		fail;		/* every call fails with it */
	int			refuse_link;	/* next round with a link: 400 */
	long			retry_after;
	int			delay_ms;	/* each lookup takes this long */
	int64_t			clock_ms;	/* the cache's clock */

	int			n_device, n_managed, n_user, n_delta;
	int			last_latest, last_had_link, links;
	/* Called inside delta_run before any object (race tests). */
	void			(*delta_hook)(struct fake_dir *d);
	void			*hook_arg;
};

static void
fd_init(struct fake_dir *d)
{
	memset(d, 0, sizeof(*d));
	pthread_mutex_init(&d->lock, NULL);
	d->clock_ms = 1000000;
}

static void
fd_add_device(struct fake_dir *d, const char *id, const char *device_id,
    int enabled)
{
	struct fd_device	*x = &d->dev[d->ndev++];

	snprintf(x->id, sizeof(x->id), "%s", id);
	snprintf(x->device_id, sizeof(x->device_id), "%s", device_id);
	x->enabled = enabled;
	x->exists = 1;
}

static void
fd_add_managed(struct fake_dir *d, const char *id, const char *azure)
{
	struct fd_managed	*x = &d->man[d->nman++];

	snprintf(x->id, sizeof(x->id), "%s", id);
	snprintf(x->azure, sizeof(x->azure), "%s", azure);
	x->exists = 1;
}

static void
fd_add_user(struct fake_dir *d, const char *id, const char *upn, int enabled)
{
	struct fd_user	*x = &d->usr[d->nusr++];

	snprintf(x->id, sizeof(x->id), "%s", id);
	snprintf(x->upn, sizeof(x->upn), "%s", upn);
	x->enabled = enabled;
	x->exists = 1;
}

static struct fd_device *
fd_device_by(struct fake_dir *d, const char *device_id)
{
	int	i;

	for (i = 0; i < d->ndev; i++)
		if (strcasecmp(d->dev[i].device_id, device_id) == 0)
			return &d->dev[i];
	return NULL;
}

static struct fd_user *
fd_user_by(struct fake_dir *d, const char *id_or_upn)
{
	int	i;

	for (i = 0; i < d->nusr; i++)
		if (strcasecmp(d->usr[i].id, id_or_upn) == 0 ||
		    strcasecmp(d->usr[i].upn, id_or_upn) == 0)
			return &d->usr[i];
	return NULL;
}

/* Queues a change for the next delta round (key NULL: not in it). */
static void
fd_change(struct fake_dir *d, enum graph_kind kind, const char *id,
    const char *key, int account_enabled, const char *removed_reason)
{
	struct fd_change	*c = &d->changes[d->nchanges++];

	memset(c, 0, sizeof(*c));
	c->kind = kind;
	snprintf(c->id, sizeof(c->id), "%s", id);
	if (key != NULL) {
		c->has_key = 1;
		snprintf(c->key, sizeof(c->key), "%s", key);
	}
	c->account_enabled = account_enabled;
	if (removed_reason != NULL) {
		c->removed = 1;
		snprintf(c->reason, sizeof(c->reason), "%s", removed_reason);
	}
}

static void
fd_sleep_ms(int ms)
{
	struct timespec	ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (ms > 0 && nanosleep(&ts, &ts) == -1)
		;
}

/* Counts a call and applies the injected failure.  0 or -1. */
static int
fd_call(struct fake_dir *d, int *counter, struct err *e)
{
	enum err_code	fail;
	int		delay;

	pthread_mutex_lock(&d->lock);
	(*counter)++;
	fail = d->fail;
	delay = d->delay_ms;
	pthread_mutex_unlock(&d->lock);
	fd_sleep_ms(delay);
	if (fail != ERR_OK)
		return err_set(e, fail, "fake: injected %s", err_text(fail));
	return 0;
}

static int
fd_device_get(void *arg, const char *device_id, int64_t deadline_ms,
    struct graph_device *out, struct err *e)
{
	struct fake_dir		*d = arg;
	struct fd_device	*x;

	(void)deadline_ms;
	memset(out, 0, sizeof(*out));
	if (fd_call(d, &d->n_device, e) == -1)
		return -1;
	pthread_mutex_lock(&d->lock);
	if ((x = fd_device_by(d, device_id)) != NULL && x->exists) {
		out->found = 1;
		snprintf(out->id, sizeof(out->id), "%s", x->id);
		snprintf(out->device_id, sizeof(out->device_id), "%s",
		    x->device_id);
		out->account_enabled = x->enabled;
	}
	pthread_mutex_unlock(&d->lock);
	return 0;
}

static int
fd_managed_get(void *arg, const char *id, int64_t deadline_ms,
    struct graph_managed_device *out, struct err *e)
{
	struct fake_dir	*d = arg;
	int		 i;

	(void)deadline_ms;
	memset(out, 0, sizeof(*out));
	if (fd_call(d, &d->n_managed, e) == -1)
		return -1;
	pthread_mutex_lock(&d->lock);
	for (i = 0; i < d->nman; i++) {
		if (strcasecmp(d->man[i].id, id) == 0 && d->man[i].exists) {
			out->found = 1;
			snprintf(out->id, sizeof(out->id), "%s", d->man[i].id);
			snprintf(out->azure_ad_device_id,
			    sizeof(out->azure_ad_device_id), "%s",
			    d->man[i].azure);
		}
	}
	pthread_mutex_unlock(&d->lock);
	return 0;
}

static int
fd_user_get(void *arg, const char *id_or_upn, int64_t deadline_ms,
    struct graph_user *out, struct err *e)
{
	struct fake_dir	*d = arg;
	struct fd_user	*x;

	(void)deadline_ms;
	memset(out, 0, sizeof(*out));
	if (fd_call(d, &d->n_user, e) == -1)
		return -1;
	pthread_mutex_lock(&d->lock);
	if ((x = fd_user_by(d, id_or_upn)) != NULL && x->exists) {
		out->found = 1;
		snprintf(out->id, sizeof(out->id), "%s", x->id);
		snprintf(out->upn, sizeof(out->upn), "%s", x->upn);
		out->account_enabled = x->enabled;
	}
	pthread_mutex_unlock(&d->lock);
	return 0;
}

/* A full read: every live object of kind, with all its properties. */
static void
fd_delta_full(struct fake_dir *d, enum graph_kind kind, graph_delta_fn fn,
    void *fn_arg)
{
	struct graph_delta_object	o;
	int				i;

	for (i = 0; kind == GRAPH_DEVICES && i < d->ndev; i++) {
		if (!d->dev[i].exists)
			continue;
		memset(&o, 0, sizeof(o));
		o.kind = kind;
		o.id = d->dev[i].id;
		o.device_id = d->dev[i].device_id;
		o.account_enabled = d->dev[i].enabled;
		fn(fn_arg, &o);
	}
	for (i = 0; kind == GRAPH_USERS && i < d->nusr; i++) {
		if (!d->usr[i].exists)
			continue;
		memset(&o, 0, sizeof(o));
		o.kind = kind;
		o.id = d->usr[i].id;
		o.upn = d->usr[i].upn;
		o.account_enabled = d->usr[i].enabled;
		fn(fn_arg, &o);
	}
}

/* The queued changes of kind, then forgotten. */
static void
fd_delta_changes(struct fake_dir *d, enum graph_kind kind, graph_delta_fn fn,
    void *fn_arg)
{
	struct graph_delta_object	o;
	int				i, keep = 0;

	for (i = 0; i < d->nchanges; i++) {
		struct fd_change	*c = &d->changes[i];

		if (c->kind != kind) {
			d->changes[keep++] = *c;
			continue;
		}
		memset(&o, 0, sizeof(o));
		o.kind = kind;
		o.id = c->id;
		if (c->has_key && kind == GRAPH_DEVICES)
			o.device_id = c->key;
		if (c->has_key && kind == GRAPH_USERS)
			o.upn = c->key;
		o.account_enabled = c->account_enabled;
		o.removed = c->removed;
		o.removed_reason = c->removed ? c->reason : NULL;
		fn(fn_arg, &o);
	}
	d->nchanges = keep;
}

static int
fd_delta_run(void *arg, enum graph_kind kind, const char *link, int latest,
    graph_delta_fn fn, void *fn_arg, char **delta_link, int *resync,
    struct err *e)
{
	struct fake_dir	*d = arg;
	char		 buf[32];

	*delta_link = NULL;
	*resync = 0;
	if (fd_call(d, &d->n_delta, e) == -1)
		return -1;
	d->last_latest = latest;
	d->last_had_link = link != NULL;
	if (link != NULL && d->refuse_link) {
		d->refuse_link = 0;
		*resync = 1;
		return err_set(e, ERR_REMOTE, "fake: syncStateNotFound");
	}
	if (d->delta_hook != NULL)
		d->delta_hook(d);
	if (link == NULL && !latest)
		fd_delta_full(d, kind, fn, fn_arg);
	else if (link != NULL)
		fd_delta_changes(d, kind, fn, fn_arg);
	snprintf(buf, sizeof(buf), "link-%d", ++d->links);
	*delta_link = strdup(buf);
	return 0;
}

static long
fd_retry_after(void *arg)
{
	return ((struct fake_dir *)arg)->retry_after;
}

static int64_t
fd_clock(void *arg)
{
	return __atomic_load_n(&((struct fake_dir *)arg)->clock_ms,
	    __ATOMIC_ACQUIRE);
}

static void
fd_advance(struct fake_dir *d, int64_t ms)
{
	__atomic_add_fetch(&d->clock_ms, ms, __ATOMIC_ACQ_REL);
}

static void
fd_source(struct fake_dir *d, struct status_source *src)
{
	memset(src, 0, sizeof(*src));
	src->arg = d;
	src->device_get = fd_device_get;
	src->managed_get = fd_managed_get;
	src->user_get = fd_user_get;
	src->delta_run = fd_delta_run;
	src->retry_after = fd_retry_after;
}

/* A cache over d with its fake clock. */
static struct status_cache *
fd_cache(struct fake_dir *d, int track_users, enum status_initial_sync sync)
{
	struct status_cache_opts	o;
	struct status_source		src;
	struct err			e;

	memset(&o, 0, sizeof(o));
	o.delta_interval_ms = 20;
	o.track_users = track_users;
	o.initial_sync = sync;
	o.breaker_ms = 2000;
	o.clock = fd_clock;
	o.clock_arg = d;
	fd_source(d, &src);
	return status_cache_new(&o, &src, &e);
}

#endif
