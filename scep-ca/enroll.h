/*
 * enroll.h - the PKIOperation pipeline: decode → authorize → issue →
 * encode (RFC 8894 §3.3), and the server context every request shares.
 */
#ifndef SCEPCA_ENROLL_H
#define SCEPCA_ENROLL_H

#include <openssl/x509.h>

#include "buf.h"
#include "ca.h"
#include "config.h"
#include "err.h"
#include "scep_msg.h"
#include "store.h"

struct crl_service;
struct entra_token_client;
struct graph_client;
struct http_client;
struct intune_client;
struct outbox;
struct sync_service;

/*
 * What every request shares.  Read-only once the server runs; each
 * member is thread-safe (see its header), so worker threads share it.
 */
struct scep_ctx {
	const struct scep_conf	*conf;
	struct ca		*ca;
	struct store		*store;
	struct scep_codec	*codec;
	const char		*public_url;	/* resolved, no trailing '/' */
	struct crl_service	*crl;		/* GetCRL; NULL: not served */
	/* With [entra] configured (cloud.c), else NULL. */
	struct http_client		*http;
	struct entra_token_client	*tokens;
	struct graph_client		*graph;
	struct intune_client		*intune;
	struct outbox			*outbox;	/* notifications */
	struct sync_service		*sync;		/* sync.h; may be NULL */
};

/*
 * Handles one PKIOperation message for profile p.  On 0, reply holds a
 * CertRep (SUCCESS, FAILURE or PENDING) to send with HTTP 200.  On -1 the
 * message could not be answered with a CertRep; e says why and its code
 * gives the HTTP status.
 */
int	enroll_pkioperation(struct scep_ctx *ctx, const struct profile_conf *p,
	    const unsigned char *msg, size_t len, struct buf *reply,
	    struct err *e);

/*
 * Checks the CSR's challengePassword for the profile's mode.  On success
 * *consume (a buffer of 65 bytes) receives the hash of a one-time
 * challenge to consume with the issuance, or "" when none.
 */
int	authorize_challenge(struct scep_ctx *ctx, const struct profile_conf *p,
	    X509_REQ *csr, char consume[65], struct err *e);

/*
 * Reads the challengePassword of a CSR as UTF-8 into out (wiped by the
 * caller).  Returns 1 when present, 0 when absent, -1 when malformed.
 */
int	csr_challenge(X509_REQ *csr, struct buf *out);

/*
 * The DER of csr with its challengePassword attribute removed, for the
 * copies of a request the store keeps (pending or denied): a secret never
 * stays readable there.  Returns 0, or -1 with e set.
 */
int	csr_der_without_challenge(X509_REQ *csr, struct buf *out,
	    struct err *e);

/* Hex SHA-256 of a challenge, as the store keeps one-time challenges. */
int	challenge_hash(const void *p, size_t n, char out[65]);

#endif
