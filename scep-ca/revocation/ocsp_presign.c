/*
 * ocsp_presign.c - pre-produced OCSP responses (RFC 5019 §2.2.4): the
 * passes over the store that sign every current certificate's answer
 * ahead of the queries and renew it before its reuse ends.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/ocsp.h>

#include "base/log.h"
#include "revocation/ocsp_int.h"

/* ---- pre-produced responses -------------------------------------------- */

/* Certificates read from the store per page (one short read each). */
#define PRESIGN_PAGE	512

/* One pass over the store. */
struct presign_pass {
	struct ocsp_responder	*r;
	uint64_t		 mark;		/* read before the page */
	time_t			 now;
	size_t			 seen, made, limit;
	char			 last[SERIAL_HEX_MAX];	/* last serial walked */
	struct buf		 out;
};

/*
 * Sleeps as long as the thread worked since *cpu0 (a CPU time), or until
 * the responder stops: pre-production takes at most half of one CPU, on
 * top of its lower priority, however slow the signer (an RSA CA key with
 * [ocsp] signer = ca takes ~30 times an EC P-256 signer's time).
 */
static void
pace(struct ocsp_responder *r, const struct timespec *cpu0)
{
	struct timespec	now;
	long long	ns;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
	ns = (long long)(now.tv_sec - cpu0->tv_sec) * 1000000000LL +
	    (now.tv_nsec - cpu0->tv_nsec);
	if (ns < 1000000)
		return;		/* under a millisecond: nothing was signed */
	worker_sleep(&r->worker, ns / 1000000);
}

/* The SHA-1 CertID of our certificate with this hex serial (RFC 5019). */
static OCSP_CERTID *
certid_sha1(struct ocsp_responder *r, const char *serial)
{
	X509		*ca = ca_cert(r->ca);
	BIGNUM		*bn = NULL;
	ASN1_INTEGER	*ai = NULL;
	OCSP_CERTID	*cid = NULL;

	if (BN_hex2bn(&bn, serial) > 0 &&
	    (ai = BN_to_ASN1_INTEGER(bn, NULL)) != NULL)
		cid = OCSP_cert_id_new(EVP_sha1(), X509_get_subject_name(ca),
		    X509_get0_pubkey_bitstr(ca), ai);
	ASN1_INTEGER_free(ai);
	BN_free(bn);
	return cid;
}

/*
 * Signs the answer an RFC 5019 client (SHA-1 CertID, no nonce) gets for
 * one certificate, unless the cache holds one with the same status that
 * stays usable for a while yet.  Non-zero stops the walk.
 */
static int
presign_one(void *arg, const struct crl_entry *ent)
{
	struct presign_pass	*p = arg;
	struct ocsp_responder	*r = p->r;
	struct cert_answer	 a;
	struct ocsp_info	 info;
	time_t			 at;

	snprintf(p->last, sizeof(p->last), "%s", ent->serial);
	if (++p->seen > p->limit)
		return 1;
	memset(&a, 0, sizeof(a));
	a.key.nid = NID_sha1;
	snprintf(a.key.serial, sizeof(a.key.serial), "%s", ent->serial);
	a.key.signer = ca_ocsp_signer_generation(r->ca);
	ocsp_key_set_status(&a.key, ent->status, ent->revoked_at, ent->reason);
	at = ocsp_cache_signed_at(r->cache, &a.key);
	if (at != 0 && p->now - at < r->presign_age)
		return 0;
	if ((a.cid = certid_sha1(r, ent->serial)) == NULL)
		return 0;
	memset(&info, 0, sizeof(info));
	info.ncerts = 1;
	if (ocsp_respond(r, NULL, &a, time(NULL), &p->out, &info) ==
	    OCSP_ST_SUCCESSFUL) {
		ocsp_cache_put(r->cache, &a.key, p->mark, p->out.data,
		    p->out.len, info.this_update, info.next_update);
		p->made++;
	}
	OCSP_CERTID_free(a.cid);
	return 0;
}

/*
 * Pre-produces (RFC 5019 §2.2.4) the answer of every certificate that
 * has not expired, so an OCSP query finds it signed already, and renews
 * those near the end of their reuse: relying parties then never wait for
 * a signature, and a status change only costs one.  Up to three quarters
 * of the cache, so answers signed on demand keep room.
 */
size_t
ocsp_presign(struct ocsp_responder *r)
{
	struct presign_pass	p = { .r = r };
	struct timespec		t0, t1, cpu;
	struct err		e = {0};
	char			after[SERIAL_HEX_MAX];
	int			n;

	if (r->cache == NULL)
		return 0;
	p.limit = ocsp_cache_capacity(r->cache) * 3 / 4;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		if (worker_stopping(&r->worker))
			goto out;
		memcpy(after, p.last, sizeof(after));
		p.now = time(NULL);
		p.mark = store_watch_token(r->st, STORE_WATCH_COMMIT);
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu);
		n = store_status_page(r->st, after, p.now, PRESIGN_PAGE,
		    presign_one, &p, &e);
		pace(r, &cpu);
	} while (n == PRESIGN_PAGE);
	if (n < 0 && p.seen <= p.limit) {
		log_warn("ocsp", "pre-producing responses: %s", e.msg);
		goto out;
	}
	if (p.seen > p.limit && !r->presign_full) {
		log_warn("ocsp", "more certificates than [ocsp] cache_entries"
		    " allows pre-producing (%zu): the others are signed when"
		    " asked", p.limit);
		r->presign_full = 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (!r->presigned)
		log_info("ocsp", "pre-produced %zu responses for %zu"
		    " certificates in %ld ms", p.made, p.seen > p.limit ?
		    p.limit : p.seen, (long)((t1.tv_sec - t0.tv_sec) * 1000 +
		    (t1.tv_nsec - t0.tv_nsec) / 1000000));
	else if (p.made > 0)
		log_debug("ocsp", "renewed %zu pre-produced responses", p.made);
	r->presigned = 1;
out:
	buf_free(&p.out);
	return p.made;
}

