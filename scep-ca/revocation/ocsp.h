/*
 * ocsp.h - the OCSP responder (RFC 6960, RFC 5019 profile) at /ocsp.
 *
 * Every answer gives the certificate's status in the store at the time
 * of the query, so a revocation is visible on the very next query: the
 * status is read from the store, or known unchanged because nothing was
 * committed to the store since it was last read (the store's commit
 * token, store_watch_token()).  Responses are signed by
 * the delegated OCSP signer (DIR/ocsp.crt, made by `init`, created at
 * start when missing and renewed by the responder's thread when a third
 * of its validity is left) or by the CA key ([ocsp] signer = ca).
 *
 * Thread-safety: after ocsp_responder_start() the responder is
 * read-only; ocsp_answer() and ocsp_http() may run on any number of
 * threads at once.
 */
#ifndef SCEPCA_OCSP_H
#define SCEPCA_OCSP_H

#include <stddef.h>
#include <time.h>

#include <microhttpd.h>

#include "base/buf.h"
#include "base/err.h"
#include "revocation/ocsp_cache.h"
#include "server.h"

/* Largest OCSP request accepted (RFC 5019 requests are ~100 bytes). */
#define OCSP_MAX_REQUEST	8192
/* Most certificates asked about in one request. */
#define OCSP_MAX_CERTS		32

/* OCSPResponseStatus, RFC 6960 §4.2.1. */
enum ocsp_resp_status {
	OCSP_ST_SUCCESSFUL = 0,
	OCSP_ST_MALFORMED = 1,
	OCSP_ST_INTERNAL_ERROR = 2,
	OCSP_ST_TRY_LATER = 3,
	OCSP_ST_SIG_REQUIRED = 5,
	OCSP_ST_UNAUTHORIZED = 6,
};

/* What ocsp_answer() tells the HTTP layer about its response. */
struct ocsp_info {
	enum ocsp_resp_status	 status;
	int			 nonce;		/* the request had a nonce */
	time_t			 this_update, next_update;
	int			 ncerts;
	int			 cert_status;	/* of the first: V_OCSP_CERTSTATUS_* */
	char			 etag[OCSP_ETAG_SIZE];	/* "" when not known */
};

struct ocsp_responder;

/*
 * Makes the responder for ctx's CA and store with its [ocsp] settings:
 * precomputes the CA's name and key hashes, creates the delegated signer
 * when it is missing (falling back to the CA key, with a warning, when it
 * cannot be written) and starts the renewal thread.  NULL with e set.
 */
struct ocsp_responder *ocsp_responder_start(struct scep_ctx *ctx,
			    struct err *e);

/* Stops the thread and frees.  Accepts NULL. */
void		 ocsp_responder_stop(struct ocsp_responder *r);

/*
 * Answers one DER OCSPRequest at time now: out receives a DER
 * OCSPResponse, successful or with the error status RFC 6960 §2.3 gives
 * (malformedRequest for anything unparseable, internalError, tryLater).
 * Returns 0, or -1 only when not even an error response could be made.
 */
int		 ocsp_answer(struct ocsp_responder *r, const unsigned char *req,
		    size_t len, time_t now, struct buf *out,
		    struct ocsp_info *info);

/*
 * One pass of pre-production (RFC 5019 §2.2.4) in the caller's thread:
 * signs the SHA-1, nonce-less answer of every certificate that has not
 * expired unless the cache holds one that stays usable for a quarter of
 * [ocsp] cache_seconds yet, sleeping as long as it signs (half a CPU at
 * most).  With [ocsp] presign (the default) the responder's own thread
 * makes a pass at start and every eighth of cache_seconds.  Returns the
 * number of responses signed.
 */
size_t		 ocsp_presign(struct ocsp_responder *r);

/*
 * The HTTP route for "/ocsp": POST /ocsp with the DER request as body,
 * GET /ocsp/<url-encoded base64 of the DER request> (RFC 6960 A.1).
 * Successful GET answers carry RFC 5019 §6.2 caching headers.  arg is the
 * responder.
 */
enum MHD_Result	 ocsp_http(void *arg, struct MHD_Connection *conn,
		    const char *url, const char *method,
		    const unsigned char *body, size_t body_len);

#endif
