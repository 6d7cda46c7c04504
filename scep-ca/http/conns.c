/*
 * conns.c - open connection counts, in total and per client address
 * (see conns.h).  A chained hash table under one mutex: an entry
 * lives while its address holds a connection, so the table never holds
 * more entries than there are connections.
 */
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "http/conns.h"

#define CONNS_BUCKETS	4096	/* a power of two */

/* One client address (IPv4, or the /64 of an IPv6 address). */
struct http_conn_slot {
	struct http_conn_slot	*next;
	unsigned char		 key[8];
	size_t			 keylen;
	int			 count;
};

struct http_conns {
	pthread_mutex_t		 lock;
	int			 max_total;
	int			 max_per_addr;
	int			 total;		/* under lock */
	uint64_t		 seed;		/* against chosen collisions */
	struct http_conn_slot	*buckets[CONNS_BUCKETS];
};

struct http_conns *
http_conns_new(int max_total, int max_per_addr)
{
	struct http_conns	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if (pthread_mutex_init(&c->lock, NULL) != 0) {
		free(c);
		return NULL;
	}
	if (RAND_bytes((unsigned char *)&c->seed, sizeof(c->seed)) != 1)
		c->seed = (uint64_t)(uintptr_t)c;
	c->max_total = max_total;
	c->max_per_addr = max_per_addr;
	return c;
}

void
http_conns_free(struct http_conns *c)
{
	struct http_conn_slot	*e, *next;
	size_t			 i;

	if (c == NULL)
		return;
	for (i = 0; i < CONNS_BUCKETS; i++)
		for (e = c->buckets[i]; e != NULL; e = next) {
			next = e->next;
			free(e);
		}
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/*
 * The key of sa: 4 bytes for IPv4 (IPv4-mapped IPv6 included), the
 * first 8 for other IPv6 addresses; 0 for other families.
 */
static size_t
addr_key(const struct sockaddr *sa, unsigned char key[8])
{
	static const unsigned char	 mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0,
					    0, 0, 0xff, 0xff };
	const struct sockaddr_in6	*s6;

	if (sa->sa_family == AF_INET) {
		memcpy(key, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		return 4;
	}
	if (sa->sa_family != AF_INET6)
		return 0;
	s6 = (const struct sockaddr_in6 *)sa;
	if (memcmp(s6->sin6_addr.s6_addr, mapped, sizeof(mapped)) == 0) {
		memcpy(key, s6->sin6_addr.s6_addr + 12, 4);
		return 4;
	}
	memcpy(key, s6->sin6_addr.s6_addr, 8);
	return 8;
}

/* FNV-1a over the key, started from the table's random seed. */
static size_t
bucket_of(const struct http_conns *c, const unsigned char *key, size_t len)
{
	uint64_t	h = 0xcbf29ce484222325ULL ^ c->seed;
	size_t		i;

	for (i = 0; i < len; i++)
		h = (h ^ key[i]) * 0x100000001b3ULL;
	return (size_t)(h ^ (h >> 32)) & (CONNS_BUCKETS - 1);
}

/* The entry of key in its bucket, or NULL.  Call with the lock held. */
static struct http_conn_slot *
find(struct http_conns *c, size_t b, const unsigned char *key, size_t len)
{
	struct http_conn_slot	*e;

	for (e = c->buckets[b]; e != NULL; e = e->next)
		if (e->keylen == len && memcmp(e->key, key, len) == 0)
			return e;
	return NULL;
}

int
http_conns_admits(struct http_conns *c, const struct sockaddr *sa)
{
	struct http_conn_slot	*e;
	unsigned char		 key[8];
	size_t			 len = addr_key(sa, key);
	int			 ok;

	pthread_mutex_lock(&c->lock);
	e = find(c, bucket_of(c, key, len), key, len);
	ok = c->total < c->max_total &&
	    (e == NULL || e->count < c->max_per_addr);
	pthread_mutex_unlock(&c->lock);
	return ok;
}

struct http_conn_slot *
http_conns_take(struct http_conns *c, const struct sockaddr *sa)
{
	struct http_conn_slot	*e;
	unsigned char		 key[8];
	size_t			 len = addr_key(sa, key), b;

	b = bucket_of(c, key, len);
	pthread_mutex_lock(&c->lock);
	e = find(c, b, key, len);
	if (c->total >= c->max_total ||
	    (e != NULL && e->count >= c->max_per_addr)) {
		e = NULL;
		goto out;
	}
	if (e == NULL) {
		if ((e = calloc(1, sizeof(*e))) == NULL)
			goto out;
		memcpy(e->key, key, len);
		e->keylen = len;
		e->next = c->buckets[b];
		c->buckets[b] = e;
	}
	e->count++;
	c->total++;
out:
	pthread_mutex_unlock(&c->lock);
	return e;
}

void
http_conns_release(struct http_conns *c, struct http_conn_slot *slot)
{
	struct http_conn_slot	**pp;

	if (slot == NULL)
		return;
	pthread_mutex_lock(&c->lock);
	c->total--;
	if (--slot->count == 0) {
		pp = &c->buckets[bucket_of(c, slot->key, slot->keylen)];
		while (*pp != slot)
			pp = &(*pp)->next;
		*pp = slot->next;
		free(slot);
	}
	pthread_mutex_unlock(&c->lock);
}

int
http_conns_open(struct http_conns *c)
{
	int	n;

	pthread_mutex_lock(&c->lock);
	n = c->total;
	pthread_mutex_unlock(&c->lock);
	return n;
}
