/*
 * ocsp_int.h - what the responder's files (ocsp.c, ocsp_presign.c) share.
 */
#ifndef SCEPCA_OCSP_INT_H
#define SCEPCA_OCSP_INT_H

#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/ocsp.h>

#include "base/worker.h"
#include "ca/ca.h"
#include "config.h"
#include "revocation/ocsp.h"
#include "revocation/ocsp_cache.h"
#include "store/store.h"

/* The CA as a CertID names it with one hash algorithm (RFC 6960 §4.1.1). */
struct issuer_id {
	int		 nid;		/* of the hash algorithm */
	unsigned char	 name[EVP_MAX_MD_SIZE];	/* issuerNameHash */
	unsigned char	 key[EVP_MAX_MD_SIZE];	/* issuerKeyHash */
	unsigned int	 len;
};

/*
 * The responder.  Everything above lock is read-only after start, but
 * presigned and presign_full, which only the caller of ocsp_presign()
 * (the responder's thread) writes; the worker runs that thread, its
 * sleeps and its stop.
 */
struct ocsp_responder {
	struct ca		*ca;
	struct store		*st;
	const struct scep_conf	*conf;
	int			 use_ca;	/* [ocsp] signer = ca */
	int			 validity;	/* seconds */
	int64_t			 ca_not_after;
	struct ocsp_cache	*cache;		/* NULL: every answer signed */
	time_t			 cache_seconds;
	int			 presign;	/* [ocsp] presign */
	time_t			 presign_age;	/* renewed when this old */
	time_t			 presign_every;	/* seconds between passes */
	int			 presigned;	/* a first pass was made */
	int			 presign_full;	/* the cache was too small */
	struct issuer_id	 ids[4];
	int			 nids;
	struct worker		 worker;
};

/* The answer for one CertID, and what identifies it for the cache. */
struct cert_answer {
	OCSP_CERTID		*cid;		/* borrowed from the request */
	int			 ours;		/* names our CA */
	struct ocsp_cache_key	 key;		/* nid, serial, status... */
};

/* Sets k's status fields from a store status (RFC 6960 §2.2). */
void	ocsp_key_set_status(struct ocsp_cache_key *k, enum cert_status st,
	    int64_t revoked_at, int reason);

/*
 * Builds and signs the BasicOCSPResponse for info->ncerts answers (with
 * the nonce of req when info->nonce), encodes the OCSPResponse into out
 * and sets info's times.  OCSP_ST_SUCCESSFUL or OCSP_ST_INTERNAL_ERROR.
 */
enum ocsp_resp_status ocsp_respond(struct ocsp_responder *r, OCSP_REQUEST *req,
	    const struct cert_answer *a, time_t now, struct buf *out,
	    struct ocsp_info *info);

#endif
