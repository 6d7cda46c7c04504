/*
 * crl.h - the CRL (RFC 5280 §5): built from the store, signed through
 * ca_sign_crl(), kept in memory for GET /crl/<name>.crl and SCEP GetCRL,
 * and written to [crl] dir for other web servers.
 *
 * The CRL service re-signs after every revocation change, at most once
 * per [crl] min_interval, and always before nextUpdate (at half of
 * [crl] next_update).  It learns of changes two ways:
 *   - crl_service_changed(), which code in the daemon (the sync jobs)
 *     calls after changing a status: the thread wakes at once;
 *   - the store's revocation token (store_watch_token(),
 *     STORE_WATCH_REVOCATION), which every status change moves in its
 *     own transaction and which the thread polls every second: changes
 *     made by another process (the `scep-ca revoke` command) are noticed
 *     too.
 *
 * Thread-safety: a struct crl_blob is immutable and reference-counted;
 * every crl_service_* function may be called from any thread.
 */
#ifndef SCEPCA_CRL_H
#define SCEPCA_CRL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <microhttpd.h>
#include <openssl/x509.h>

#include "base/err.h"
#include "ca/ca.h"
#include "config.h"
#include "server.h"
#include "store/store.h"

/* One signed CRL.  Immutable once made; freed by the last release. */
struct crl_blob {
	unsigned char	*der;		/* OPENSSL_malloc'd */
	size_t		 len;
	int64_t		 number;	/* cRLNumber */
	time_t		 this_update, next_update;
	size_t		 entries;
	double		 sign_seconds;	/* build + sign, for logs/benchmarks */
	char		 etag[32];	/* "crl-<number>" */
	atomic_int	 refs;
};

/* Drops one reference.  Accepts NULL. */
void		 crl_blob_release(struct crl_blob *b);

/* Decodes the blob into a new X509_CRL (the caller frees), or NULL. */
X509_CRL	*crl_blob_x509(const struct crl_blob *b, struct err *e);

/*
 * Builds and signs a CRL now: version 2, the CA's name, thisUpdate = now,
 * nextUpdate = now + validity seconds, every revoked and held certificate
 * of the store (holds with reason certificateHold; certificates expired
 * for longer than validity leave it), a new CRL number from the store and
 * the authority key identifier.  Returns a blob with one reference, or
 * NULL with e set.
 */
struct crl_blob	*crl_sign(struct ca *ca, struct store *st, int validity,
		    struct err *e);

/*
 * crl_sign() with conf's [crl] next_update, and writes the result to
 * <[crl] dir>/<[ca] name>.crl (atomic rename, 0644) unless dir is "".
 * Signing and writing hold a lock on the directory, so that two
 * processes cannot leave an older CRL on disk after a newer one.
 * Returns a blob with one reference, or NULL with e set.
 */
struct crl_blob	*crl_publish(struct ca *ca, struct store *st,
		    const struct scep_conf *conf, struct err *e);

/* The daemon's CRL publisher (see above). */
struct crl_service;

/*
 * Signs a first CRL (failure: NULL with e set) and starts the thread.
 * ctx's conf, ca and store must outlive the service.
 */
struct crl_service *crl_service_start(struct scep_ctx *ctx, struct err *e);

/* Stops and joins the thread, frees everything.  Accepts NULL. */
void		 crl_service_stop(struct crl_service *svc);

/* Tells the service a status changed: it re-signs as soon as allowed. */
void		 crl_service_changed(struct crl_service *svc);

/* The current CRL with one more reference (release it), never NULL. */
struct crl_blob	*crl_service_current(struct crl_service *svc);

/*
 * The HTTP route for "/crl/": GET /crl/<name>.crl answers the current CRL
 * (application/pkix-crl) with caching headers matching its nextUpdate
 * and 304 for a matching If-None-Match.  arg is the service.
 */
enum MHD_Result	 crl_http(void *arg, struct MHD_Connection *conn,
		    const char *url, const char *method,
		    const unsigned char *body, size_t body_len);

#endif
