/*
 * table.c - the status cache's tables: entries of devices, users
 * and Intune mappings under two chained hash indexes (object id, and
 * deviceId / UPN), each table behind one reader-writer lock.  Reads copy
 * an entry out and allocate nothing; updates never replace newer news.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "status/cache_int.h"

#define SC_BUCKETS_INITIAL	1024

int
sc_norm(const char *s, char *out)
{
	size_t	i;

	for (i = 0; s[i] != '\0'; i++) {
		if (i + 1 >= STATUS_KEY_MAX)
			return -1;
		out[i] = (s[i] >= 'A' && s[i] <= 'Z') ? s[i] - 'A' + 'a' : s[i];
	}
	out[i] = '\0';
	return i > 0 ? 0 : -1;
}

/* FNV-1a, 32 bits. */
static uint32_t
sc_hash(const char *s)
{
	uint32_t	h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

int
sc_table_init(struct sc_table *t)
{
	pthread_rwlockattr_t	attr;

	memset(t, 0, sizeof(*t));
	t->nbuckets = SC_BUCKETS_INITIAL;
	t->by_id = calloc(t->nbuckets, sizeof(*t->by_id));
	t->by_key = calloc(t->nbuckets, sizeof(*t->by_key));
	if (t->by_id == NULL || t->by_key == NULL) {
		free(t->by_id);
		free(t->by_key);
		return -1;
	}
	/* The delta thread's updates must not starve behind logins. */
	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr,
	    PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&t->lock, &attr);
	pthread_rwlockattr_destroy(&attr);
	return 0;
}

static void
sc_entry_free(struct sc_entry *e)
{
	free(e->id);
	free(e->key);
	free(e->target);
	free(e);
}

void
sc_table_destroy(struct sc_table *t)
{
	struct sc_entry	*e, *next;

	if (t->by_id == NULL)
		return;
	for (e = t->all; e != NULL; e = next) {
		next = e->next_all;
		sc_entry_free(e);
	}
	free(t->by_id);
	free(t->by_key);
	pthread_rwlock_destroy(&t->lock);
	memset(t, 0, sizeof(*t));
}

static struct sc_entry *
sc_find_id(const struct sc_table *t, const char *id, uint32_t h)
{
	struct sc_entry	*e;

	for (e = t->by_id[h & (t->nbuckets - 1)]; e != NULL; e = e->next_id)
		if (e->hid == h && strcmp(e->id, id) == 0)
			return e;
	return NULL;
}

static struct sc_entry *
sc_find_key(const struct sc_table *t, const char *key, uint32_t h)
{
	struct sc_entry	*e;

	for (e = t->by_key[h & (t->nbuckets - 1)]; e != NULL; e = e->next_key)
		if (e->hkey == h && strcmp(e->key, key) == 0)
			return e;
	return NULL;
}

static void
sc_link_id(struct sc_table *t, struct sc_entry *e)
{
	struct sc_entry	**b = &t->by_id[e->hid & (t->nbuckets - 1)];

	e->next_id = *b;
	*b = e;
}

static void
sc_link_key(struct sc_table *t, struct sc_entry *e)
{
	struct sc_entry	**b = &t->by_key[e->hkey & (t->nbuckets - 1)];

	e->next_key = *b;
	*b = e;
}

/* Takes e out of the key index and drops its key. */
static void
sc_unlink_key(struct sc_table *t, struct sc_entry *e)
{
	struct sc_entry	**p = &t->by_key[e->hkey & (t->nbuckets - 1)];

	for (; *p != NULL; p = &(*p)->next_key) {
		if (*p == e) {
			*p = e->next_key;
			break;
		}
	}
	free(e->key);
	e->key = NULL;
	e->next_key = NULL;
}

/* Doubles the buckets once the table holds more entries than buckets. */
static void
sc_table_grow(struct sc_table *t)
{
	struct sc_entry	**by_id, **by_key, *e;
	size_t		 n = t->nbuckets * 2;

	if (t->count <= t->nbuckets)
		return;
	by_id = calloc(n, sizeof(*by_id));
	by_key = calloc(n, sizeof(*by_key));
	if (by_id == NULL || by_key == NULL) {	/* keep the longer chains */
		free(by_id);
		free(by_key);
		return;
	}
	free(t->by_id);
	free(t->by_key);
	t->by_id = by_id;
	t->by_key = by_key;
	t->nbuckets = n;
	for (e = t->all; e != NULL; e = e->next_all) {
		if (e->id != NULL)
			sc_link_id(t, e);
		if (e->key != NULL)
			sc_link_key(t, e);
	}
}

/* Replaces *field with a copy of v.  Returns 0, or -1 out of memory. */
static int
sc_set_str(char **field, const char *v)
{
	char	*dup;

	if ((dup = strdup(v)) == NULL)
		return -1;
	free(*field);
	*field = dup;
	return 0;
}

/* Makes a new, unindexed entry in t's list of all entries. */
static struct sc_entry *
sc_entry_add(struct sc_table *t)
{
	struct sc_entry	*e;

	if ((e = calloc(1, sizeof(*e))) == NULL)
		return NULL;
	e->state = STATUS_UNKNOWN;
	e->next_all = t->all;
	t->all = e;
	t->count++;
	return e;
}

/* Gives e the key u->key, taking it from whichever entry had it. */
static int
sc_entry_rekey(struct sc_table *t, struct sc_entry *e, struct sc_entry *holder,
    const char *key, uint32_t h)
{
	if (holder != NULL && holder != e)
		sc_unlink_key(t, holder);
	if (e->key != NULL)
		sc_unlink_key(t, e);
	if (sc_set_str(&e->key, key) == -1)
		return -1;
	e->hkey = h;
	sc_link_key(t, e);
	return 0;
}

int
sc_table_update(struct sc_table *t, const struct sc_update *u)
{
	struct sc_entry	*e = NULL, *k = NULL;
	uint32_t	 hid = u->id != NULL ? sc_hash(u->id) : 0;
	uint32_t	 hkey = u->key != NULL ? sc_hash(u->key) : 0;
	int		 rc = 0;

	pthread_rwlock_wrlock(&t->lock);
	if (u->id != NULL)
		e = sc_find_id(t, u->id, hid);
	if (u->key != NULL)
		k = sc_find_key(t, u->key, hkey);
	/* An entry known only by its key (a 404) takes the object's id. */
	if (e == NULL && k != NULL && (k->id == NULL || u->id == NULL))
		e = k;
	if (e != NULL && e->seen_ms > u->seen_ms)
		goto out;			/* older news than we hold */
	if (e == NULL && u->need_key && u->key == NULL)
		goto out;			/* nothing could find it */
	if (e == NULL && (e = sc_entry_add(t)) == NULL) {
		rc = -1;
		goto out;
	}
	if (u->id != NULL && e->id == NULL) {
		if (sc_set_str(&e->id, u->id) == -1) {
			rc = -1;
			goto out;
		}
		e->hid = hid;
		sc_link_id(t, e);
	}
	if (u->key != NULL && (e->key == NULL || strcmp(e->key, u->key) != 0) &&
	    sc_entry_rekey(t, e, k, u->key, hkey) == -1)
		rc = -1;
	if (u->target != NULL && sc_set_str(&e->target, u->target) == -1)
		rc = -1;
	if (u->state >= 0)
		e->state = (enum status_state)u->state;
	e->seen_ms = u->seen_ms;
	sc_table_grow(t);
out:
	pthread_rwlock_unlock(&t->lock);
	return rc;
}

/* When e's state was last known true (cache.c, "Freshness"). */
static int64_t
sc_effective_seen(const struct sc_table *t, const struct sc_entry *e)
{
	int64_t	chain = __atomic_load_n(&t->chain_ms, __ATOMIC_ACQUIRE);
	int64_t	synced = __atomic_load_n(&t->synced_ms, __ATOMIC_ACQUIRE);

	if (chain != 0 && e->seen_ms >= chain && synced > e->seen_ms)
		return synced;
	return e->seen_ms;
}

/* Reads the entry with id or key norm into v.  No allocation. */
void
sc_table_read(struct sc_table *t, int by_key, const char *norm,
    struct sc_view *v)
{
	uint32_t		 h = sc_hash(norm);
	const struct sc_entry	*e;

	memset(v, 0, sizeof(*v));
	pthread_rwlock_rdlock(&t->lock);
	e = by_key ? sc_find_key(t, norm, h) : sc_find_id(t, norm, h);
	if (e != NULL) {
		v->found = 1;
		v->has_id = e->id != NULL;
		v->state = e->state;
		v->seen_ms = sc_effective_seen(t, e);
		if (e->target != NULL)
			snprintf(v->target, sizeof(v->target), "%s", e->target);
	}
	pthread_rwlock_unlock(&t->lock);
}

size_t
sc_table_count(struct sc_table *t)
{
	size_t	n;

	pthread_rwlock_rdlock(&t->lock);
	n = t->count;
	pthread_rwlock_unlock(&t->lock);
	return n;
}

