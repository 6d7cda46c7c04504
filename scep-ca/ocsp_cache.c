/*
 * ocsp_cache.c - pre-produced OCSP responses in a fixed table of slots.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ocsp_cache.h"

/* Sets share this many locks; a set holds WAYS responses. */
#define CACHE_LOCKS	64
#define WAYS		8

/* One response; its DER follows the struct. */
struct entry {
	struct ocsp_cache_key	 key;
	uint64_t		 mark;		/* store mark the status held at */
	time_t			 this_update, next_update;
	size_t			 len;
	unsigned char		 der[];
};

/*
 * Set-associative: a key goes to one set of WAYS slots, and a new
 * response replaces an empty slot or the oldest one of its set.  slots[i]
 * is guarded by locks[(i / WAYS) % CACHE_LOCKS].
 */
struct ocsp_cache {
	size_t		 nsets;		/* a power of two */
	struct entry	**slots;	/* nsets * WAYS */
	pthread_mutex_t	 locks[CACHE_LOCKS];
};

struct ocsp_cache *
ocsp_cache_new(size_t entries)
{
	struct ocsp_cache	*c;
	size_t			 n = 1;
	int			 i;

	if (entries == 0)
		return NULL;
	while (n * WAYS < entries)
		n <<= 1;
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->slots = calloc(n * WAYS, sizeof(*c->slots))) == NULL) {
		free(c);
		return NULL;
	}
	c->nsets = n;
	for (i = 0; i < CACHE_LOCKS; i++)
		pthread_mutex_init(&c->locks[i], NULL);
	return c;
}

static pthread_mutex_t *
set_lock(struct ocsp_cache *c, size_t set)
{
	return &c->locks[set % CACHE_LOCKS];
}

void
ocsp_cache_clear(struct ocsp_cache *c)
{
	size_t	set, w;

	if (c == NULL)
		return;
	for (set = 0; set < c->nsets; set++) {
		pthread_mutex_lock(set_lock(c, set));
		for (w = 0; w < WAYS; w++) {
			free(c->slots[set * WAYS + w]);
			c->slots[set * WAYS + w] = NULL;
		}
		pthread_mutex_unlock(set_lock(c, set));
	}
}

void
ocsp_cache_free(struct ocsp_cache *c)
{
	int	i;

	if (c == NULL)
		return;
	ocsp_cache_clear(c);
	for (i = 0; i < CACHE_LOCKS; i++)
		pthread_mutex_destroy(&c->locks[i]);
	free(c->slots);
	free(c);
}

/* FNV-1a over the serial text and the algorithm: the key's set. */
static size_t
set_of(const struct ocsp_cache *c, const struct ocsp_cache_key *k)
{
	const char	*p;
	uint64_t	 h = 14695981039346656037ULL;

	for (p = k->serial; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	h = (h ^ (uint64_t)k->nid) * 1099511628211ULL;
	return (size_t)(h ^ (h >> 29)) & (c->nsets - 1);
}

/* The same certificate (the status may differ). */
static int
same_cert(const struct ocsp_cache_key *a, const struct ocsp_cache_key *b)
{
	return a->nid == b->nid && strcmp(a->serial, b->serial) == 0;
}

/* The same certificate with the same status, signer included. */
static int
same_answer(const struct ocsp_cache_key *a, const struct ocsp_cache_key *b)
{
	return same_cert(a, b) && a->status == b->status &&
	    a->reason == b->reason && a->revoked_at == b->revoked_at &&
	    a->signer == b->signer;
}

size_t
ocsp_cache_capacity(const struct ocsp_cache *c)
{
	return c == NULL ? 0 : c->nsets * WAYS;
}

/* The slot holding k's certificate, or NULL.  The set's lock is held. */
static struct entry *
find(struct ocsp_cache *c, size_t set, const struct ocsp_cache_key *k)
{
	struct entry	*e;
	size_t		 w;

	for (w = 0; w < WAYS; w++) {
		e = c->slots[set * WAYS + w];
		if (e != NULL && same_cert(&e->key, k))
			return e;
	}
	return NULL;
}

/* Can e still be sent at now? */
static int
usable(const struct entry *e, time_t now, time_t max_age)
{
	return now >= e->this_update && now - e->this_update < max_age &&
	    now < e->next_update;
}

/* Copies e out.  Returns 1, or 0 when out of memory. */
static int
copy_out(const struct entry *e, struct buf *out, struct ocsp_cache_hit *hit)
{
	buf_reset(out);
	if (buf_append(out, e->der, e->len) == -1)
		return 0;
	hit->this_update = e->this_update;
	hit->next_update = e->next_update;
	hit->status = e->key.status;
	return 1;
}

int
ocsp_cache_get(struct ocsp_cache *c, const struct ocsp_cache_key *k,
    uint64_t mark, time_t now, time_t max_age, struct buf *out,
    struct ocsp_cache_hit *hit)
{
	struct entry	*e;
	size_t		 set;
	int		 found = 0;

	if (c == NULL)
		return 0;
	set = set_of(c, k);
	pthread_mutex_lock(set_lock(c, set));
	if ((e = find(c, set, k)) != NULL && same_answer(&e->key, k) &&
	    usable(e, now, max_age) && (found = copy_out(e, out, hit)))
		e->mark = mark;		/* the status is current as of mark */
	pthread_mutex_unlock(set_lock(c, set));
	return found;
}

int
ocsp_cache_get_unchanged(struct ocsp_cache *c, const struct ocsp_cache_key *k,
    uint64_t mark, time_t now, time_t max_age, struct buf *out,
    struct ocsp_cache_hit *hit)
{
	struct entry	*e;
	size_t		 set;
	int		 found = 0;

	if (c == NULL || mark == 0)
		return 0;
	set = set_of(c, k);
	pthread_mutex_lock(set_lock(c, set));
	if ((e = find(c, set, k)) != NULL && e->mark == mark &&
	    e->key.signer == k->signer && usable(e, now, max_age))
		found = copy_out(e, out, hit);
	pthread_mutex_unlock(set_lock(c, set));
	return found;
}

time_t
ocsp_cache_signed_at(struct ocsp_cache *c, const struct ocsp_cache_key *k)
{
	struct entry	*e;
	size_t		 set;
	time_t		 t = 0;

	if (c == NULL)
		return 0;
	set = set_of(c, k);
	pthread_mutex_lock(set_lock(c, set));
	if ((e = find(c, set, k)) != NULL && same_answer(&e->key, k))
		t = e->this_update;
	pthread_mutex_unlock(set_lock(c, set));
	return t;
}

void
ocsp_cache_put(struct ocsp_cache *c, const struct ocsp_cache_key *k,
    uint64_t mark, const unsigned char *der, size_t len, time_t this_update,
    time_t next_update)
{
	struct entry	*e, *old, **slot = NULL, **s;
	size_t		 set, w;

	if (c == NULL || (e = malloc(sizeof(*e) + len)) == NULL)
		return;
	e->key = *k;
	e->mark = mark;
	e->this_update = this_update;
	e->next_update = next_update;
	e->len = len;
	memcpy(e->der, der, len);
	set = set_of(c, k);
	pthread_mutex_lock(set_lock(c, set));
	/* The same certificate's slot, else an empty one, else the oldest. */
	for (w = 0; w < WAYS; w++) {
		s = &c->slots[set * WAYS + w];
		if (*s != NULL && same_cert(&(*s)->key, k)) {
			slot = s;
			break;
		}
		if (slot == NULL || (*slot != NULL && (*s == NULL ||
		    (*s)->this_update < (*slot)->this_update)))
			slot = s;
	}
	old = *slot;
	*slot = e;
	pthread_mutex_unlock(set_lock(c, set));
	free(old);
}
