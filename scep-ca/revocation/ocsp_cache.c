/*
 * ocsp_cache.c - pre-produced OCSP responses in a fixed table of slots.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "pki/pki.h"
#include "revocation/der.h"
#include "revocation/ocsp_cache.h"

/* Sets share this many locks; a set holds WAYS responses. */
#define CACHE_LOCKS	64
#define WAYS		8

/*
 * The signer's certificates as a BasicOCSPResponse carries them (the
 * [0] certs field), shared by every response of that signer: a response
 * is kept without them, which halves the memory a pre-produced response
 * takes.  A list that only grows, by one per signer renewal.
 */
struct certs {
	struct certs	*next;
	size_t		 len;
	unsigned char	 der[];
};

/*
 * One response; its DER follows the struct: the whole OCSPResponse, or,
 * when certs is set, only the BasicOCSPResponse's tbsResponseData,
 * signatureAlgorithm and signature, the rest being rebuilt when sent.
 */
struct entry {
	struct ocsp_cache_key	 key;
	const struct certs	*certs;
	uint64_t		 mark;		/* store mark the status held at */
	char			 etag[OCSP_ETAG_SIZE];
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
	pthread_mutex_t	 certs_lock;
	struct certs	*certs;
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
	pthread_mutex_init(&c->certs_lock, NULL);
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
	struct certs	*k, *next;
	int		 i;

	if (c == NULL)
		return;
	ocsp_cache_clear(c);
	for (k = c->certs; k != NULL; k = next) {
		next = k->next;
		free(k);
	}
	pthread_mutex_destroy(&c->certs_lock);
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

void
ocsp_etag(const unsigned char *der, size_t len, char out[OCSP_ETAG_SIZE])
{
	if (pki_digest_hex(der, len, "SHA1", out, OCSP_ETAG_SIZE) == -1)
		out[0] = '\0';
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

/* id-pkix-ocsp-basic (RFC 6960 §4.2.1), as a whole OID element. */
static const unsigned char basic_oid[] = { DER_OID, 0x09, 0x2b, 0x06, 0x01,
    0x05, 0x05, 0x07, 0x30, 0x01, 0x01 };

/*
 * Finds, in a successful OCSPResponse carrying a BasicOCSPResponse
 * (RFC 6960 §4.2.1), the BasicOCSPResponse's fields before certs
 * (*signed_part) and its certs [0] element (*certs).  0, or -1 when the
 * response is another shape or has no certificates.
 */
static int
split(const unsigned char *der, size_t len, struct der *signed_part,
    struct der *certs)
{
	struct der	c = { der, der + len }, resp, bytes, rb, x, octets, basic;
	struct der	rest;

	if (der_only(&c, DER_SEQUENCE, &resp) == -1 ||
	    der_next(&resp, DER_ENUMERATED, &x) == -1 || x.end - x.p != 1 ||
	    x.p[0] != 0 || der_only(&resp, DER_CONTEXT0, &bytes) == -1 ||
	    der_only(&bytes, DER_SEQUENCE, &rb) == -1 ||
	    (size_t)(rb.end - rb.p) < sizeof(basic_oid) ||
	    memcmp(rb.p, basic_oid, sizeof(basic_oid)) != 0)
		return -1;
	rb.p += sizeof(basic_oid);
	if (der_only(&rb, DER_OCTETS, &octets) == -1 ||
	    der_only(&octets, DER_SEQUENCE, &basic) == -1)
		return -1;
	signed_part->p = basic.p;
	if (der_next(&basic, DER_SEQUENCE, &x) == -1 ||	/* tbsResponseData */
	    der_next(&basic, DER_SEQUENCE, &x) == -1 ||	/* signatureAlgorithm */
	    der_next(&basic, DER_BITS, &x) == -1)	/* signature */
		return -1;
	signed_part->end = basic.p;
	rest = basic;
	if (der_only(&rest, DER_CONTEXT0, &x) == -1)
		return -1;
	*certs = basic;
	return 0;
}

/* Builds the OCSPResponse from a BasicOCSPResponse's parts.  0, or -1. */
static int
join(struct buf *out, const unsigned char *signed_part, size_t len,
    const struct certs *certs)
{
	size_t	basic = len + certs->len;
	size_t	octets = der_header_size(basic) + basic;
	size_t	rb = sizeof(basic_oid) + der_header_size(octets) + octets;
	size_t	bytes = der_header_size(rb) + rb;
	size_t	resp = 3 + der_header_size(bytes) + bytes;

	buf_reset(out);
	return buf_reserve(out, der_header_size(resp) + resp) == -1 ||
	    der_put_header(out, DER_SEQUENCE, resp) == -1 ||
	    buf_append(out, "\x0a\x01\x00", 3) == -1 ||	/* successful */
	    der_put_header(out, DER_CONTEXT0, bytes) == -1 ||
	    der_put_header(out, DER_SEQUENCE, rb) == -1 ||
	    buf_append(out, basic_oid, sizeof(basic_oid)) == -1 ||
	    der_put_header(out, DER_OCTETS, octets) == -1 ||
	    der_put_header(out, DER_SEQUENCE, basic) == -1 ||
	    buf_append(out, signed_part, len) == -1 ||
	    buf_append(out, certs->der, certs->len) == -1 ? -1 : 0;
}

/* The shared copy of a certs element.  NULL when out of memory. */
static const struct certs *
intern(struct ocsp_cache *c, const unsigned char *p, size_t len)
{
	struct certs	*k;

	pthread_mutex_lock(&c->certs_lock);
	for (k = c->certs; k != NULL; k = k->next)
		if (k->len == len && memcmp(k->der, p, len) == 0)
			break;
	if (k == NULL && (k = malloc(sizeof(*k) + len)) != NULL) {
		k->len = len;
		memcpy(k->der, p, len);
		k->next = c->certs;
		c->certs = k;
	}
	pthread_mutex_unlock(&c->certs_lock);
	return k;
}

/* Copies e out.  Returns 1, or 0 when out of memory. */
static int
copy_out(const struct entry *e, struct buf *out, struct ocsp_cache_hit *hit)
{
	buf_reset(out);
	if (e->certs != NULL ? join(out, e->der, e->len, e->certs) == -1 :
	    buf_append(out, e->der, e->len) == -1)
		return 0;
	hit->this_update = e->this_update;
	hit->next_update = e->next_update;
	hit->status = e->key.status;
	memcpy(hit->etag, e->etag, sizeof(hit->etag));
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
	struct entry		*e, *old, **slot = NULL, **s;
	const struct certs	*certs = NULL;
	struct der		 part, cd;
	char			 etag[OCSP_ETAG_SIZE];
	size_t			 set, w;

	if (c == NULL)
		return;
	ocsp_etag(der, len, etag);
	/* Without the signer's certificates when they can be shared. */
	if (split(der, len, &part, &cd) == 0 &&
	    (certs = intern(c, cd.p, (size_t)(cd.end - cd.p))) != NULL) {
		der = part.p;
		len = (size_t)(part.end - part.p);
	}
	if ((e = malloc(sizeof(*e) + len)) == NULL)
		return;
	e->key = *k;
	e->certs = certs;
	memcpy(e->etag, etag, sizeof(e->etag));
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
