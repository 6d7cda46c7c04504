/*
 * ocsp_cache.h - pre-produced OCSP responses (RFC 5019 §2.2.4: a responder
 * may answer with a response signed earlier; thisUpdate then says when
 * the status was known to be correct, producedAt when it was signed).
 *
 * A response is reused only for the same single CertID (hash algorithm
 * and serial, our CA) asked without a nonce, only while the store still
 * gives the status it states (the caller looks the status up, or learns
 * from the store's commit token, store_watch_token(), that nothing
 * changed since it last did), only while the same signer signs, and only
 * for max_age seconds after it was signed.  About `entries` responses
 * are kept (in sets of 8; a new one replaces the oldest of its set).
 *
 * Thread-safety: every function may be called from any thread; sets are
 * guarded by striped mutexes.
 */
#ifndef SCEPCA_OCSP_CACHE_H
#define SCEPCA_OCSP_CACHE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "base/buf.h"
#include "base/encode.h"

/* What a cached response answers, all of which must match to reuse it. */
struct ocsp_cache_key {
	int		 nid;			/* CertID hash algorithm */
	char		 serial[SERIAL_HEX_MAX];
	int		 status;		/* V_OCSP_CERTSTATUS_* */
	int		 reason;
	int64_t		 revoked_at;
	unsigned int	 signer;		/* ca_ocsp_signer_generation() */
};

struct ocsp_cache;

/* A cache of `entries` slots (rounded up to a power of two); NULL if 0. */
struct ocsp_cache *ocsp_cache_new(size_t entries);

/* Frees every response.  Accepts NULL. */
void		 ocsp_cache_free(struct ocsp_cache *c);

/* Hex SHA-1 of a response and its NUL: the ETag (RFC 5019 §6.2). */
#define OCSP_ETAG_SIZE	41

/* What a hit tells about the response copied out. */
struct ocsp_cache_hit {
	time_t		 this_update, next_update;
	int		 status;		/* V_OCSP_CERTSTATUS_* */
	char		 etag[OCSP_ETAG_SIZE];	/* computed once, at put */
};

/* Writes the ETag of a DER response into out ("" if it cannot). */
void		 ocsp_etag(const unsigned char *der, size_t len,
		    char out[OCSP_ETAG_SIZE]);

/*
 * Copies into out the response cached for k (the status just read from
 * the store) if it was signed less than max_age seconds before now and
 * fills *hit.  mark is the store's commit token (store_watch_token(),
 * STORE_WATCH_COMMIT) read before that status: it is remembered, so
 * ocsp_cache_get_unchanged() can later tell that the status is still
 * current.  Returns 1 on a hit, 0 otherwise (c may
 * be NULL).
 */
int		 ocsp_cache_get(struct ocsp_cache *c, const struct ocsp_cache_key *k,
		    uint64_t mark, time_t now, time_t max_age, struct buf *out,
		    struct ocsp_cache_hit *hit);

/*
 * The same without reading the status first: a hit only when the
 * response for k's CertID (nid and serial; k's status fields are not
 * looked at) was last confirmed at store mark `mark` (non-zero), i.e.
 * nothing was committed to the store since, and the same signer signed
 * it.  The caller must read mark before calling.
 */
int		 ocsp_cache_get_unchanged(struct ocsp_cache *c,
		    const struct ocsp_cache_key *k, uint64_t mark, time_t now,
		    time_t max_age, struct buf *out, struct ocsp_cache_hit *hit);

/* When the response for k (same answer) was signed; 0 if there is none. */
time_t		 ocsp_cache_signed_at(struct ocsp_cache *c,
		    const struct ocsp_cache_key *k);

/*
 * Stores a copy of the response for k, whose status was read after
 * store mark `mark` was.  Failures are silent (c may be NULL).
 */
void		 ocsp_cache_put(struct ocsp_cache *c, const struct ocsp_cache_key *k,
		    uint64_t mark, const unsigned char *der, size_t len,
		    time_t this_update, time_t next_update);

/* How many responses fit (0 for NULL). */
size_t		 ocsp_cache_capacity(const struct ocsp_cache *c);

/* Drops every response (after the signer changed).  c may be NULL. */
void		 ocsp_cache_clear(struct ocsp_cache *c);

#endif
