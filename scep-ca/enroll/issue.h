/*
 * issue.h - issuance policy and certificate building.
 *
 * policy_check_csr() decides whether a CSR may be certified under a
 * profile; issue_build() turns it into an unsigned certificate that
 * ca_sign_cert() then signs.  Stateless and thread-safe.
 */
#ifndef SCEPCA_ISSUE_H
#define SCEPCA_ISSUE_H

#include <stdint.h>

#include <openssl/x509.h>

#include "base/err.h"
#include "config.h"

/* Microsoft's SID security extension: never copied, CSRs refused. */
#define OID_MS_SID_EXTENSION	"1.3.6.1.4.1.311.25.2"
/* SAN URI prefix carrying an on-premises SID (strong mapping). */
#define SAN_URI_SID_PREFIX	"tag:microsoft.com,2022-09-14:sid:"

/*
 * Checks the CSR (whose public key is key): self-signature, signature digest (MD5 only with
 * allow_legacy), key type and size, no SID extension or SID SAN URI, no
 * subject or SAN value holding a NUL byte.  Returns 0, or -1 with
 * ERR_POLICY / ERR_BAD_ALG / ERR_BAD_SIGNATURE / ERR_BAD_REQUEST.
 */
int	policy_check_csr(const struct profile_conf *p, X509_REQ *req,
	    EVP_PKEY *key, struct err *e);

/* What issue_build() needs besides the CSR. */
struct issue_params {
	const struct profile_conf	*profile;
	X509				*ca_cert;
	int				 validity_days;
	const char			*public_url;	/* no trailing '/' */
	const char			*ca_name;	/* CRL file stem */
	int64_t				 now;
	/*
	 * A renewal: the certificate renewed, whose subject and SAN the new
	 * one keeps (issue_renewal_check() has compared them with the CSR).
	 * NULL: subject and SAN come from the CSR, per policy.
	 */
	X509				*parent;
};

/*
 * Builds the certificate for req under the profile's policy: subject and
 * SAN parts it copies, key usage, EKU, validity (never past the CA),
 * CRL distribution point and OCSP URLs, a fresh random serial.  key is
 * the CSR's public key, already read.  The certificate is not signed yet.
 * NULL with e set on failure.
 */
X509	*issue_build(const struct issue_params *ip, X509_REQ *req, EVP_PKEY *key,
	    struct err *e);

/*
 * A renewal keeps the identity of the certificate that signs it: the
 * subject the profile makes of the CSR must be parent's, and each SAN
 * the profile would copy from the CSR must be one of parent's (a CSR
 * without SAN asks for nothing new).  Returns 0, or -1 with
 * ERR_BAD_REQUEST saying what differs.
 */
int	issue_renewal_check(const struct profile_conf *p, X509_REQ *req,
	    X509 *parent, struct err *e);

/* The subject the profile's copy_subject makes of the CSR's (new). */
X509_NAME *issue_subject(const struct profile_conf *p, X509_REQ *req);

/* Sets a random positive 16-byte serial (RFC 5280 §4.1.2.2). */
int	issue_random_serial(X509 *x, struct err *e);

/* Adds an extension given as OpenSSL config text ("critical,CA:FALSE"). */
int	issue_add_ext(X509 *x, X509 *issuer, int nid, const char *value,
	    struct err *e);

#endif
