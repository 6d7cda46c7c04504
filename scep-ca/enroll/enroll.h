/*
 * enroll.h - the PKIOperation pipeline: decode → authorize → issue →
 * encode (RFC 8894 §3.3).
 */
#ifndef SCEPCA_ENROLL_H
#define SCEPCA_ENROLL_H

#include <openssl/x509.h>

#include "base/buf.h"
#include "base/err.h"
#include "ca/ca.h"
#include "config.h"
#include "scep/msg.h"
#include "server.h"
#include "store/store.h"

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
