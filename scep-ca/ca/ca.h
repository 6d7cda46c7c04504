/*
 * ca.h - the CA's and RA's certificates and private keys, behind a narrow
 * interface: callers hand over what is to be signed or unwrapped and never
 * see a private key, so the keys can move to another process or an HSM
 * without touching the HTTP or SCEP code.
 *
 * Thread-safety: after ca_load() a struct ca is read-only, except the
 * delegated OCSP signer, which ca_ocsp_signer_renew() replaces under a
 * lock; every function may be called from any number of threads at once.
 */
#ifndef SCEPCA_CA_H
#define SCEPCA_CA_H

#include <stdint.h>

#include <openssl/ocsp.h>
#include <openssl/x509.h>

#include "base/buf.h"
#include "base/err.h"

struct ca;

/*
 * Loads DIR/ca.crt, ca.key, ra.crt, ra.key and the optional chain.pem.
 * Key files must be mode 0600.  passphrase (may be NULL) unlocks an
 * encrypted CA key.  Returns NULL with e set on failure.
 */
struct ca	*ca_load(const char *dir, const char *passphrase, struct err *e);

/* Frees the CA (keys are freed, memory cleansed by OpenSSL).  NULL ok. */
void		 ca_free(struct ca *ca);

/* The CA certificate (borrowed). */
X509		*ca_cert(const struct ca *ca);

/* The RA certificate SCEP clients encrypt to (borrowed). */
X509		*ca_ra_cert(const struct ca *ca);

/* Certificates above an imported CA (borrowed; may be empty). */
STACK_OF(X509)	*ca_chain(const struct ca *ca);

/* Digest the CA signs with (SHA-256, or SHA-384 for a P-384 key). */
const EVP_MD	*ca_digest(const struct ca *ca);

/* Signs a certificate with the CA key.  Returns 0 or -1. */
int		 ca_sign_cert(struct ca *ca, X509 *x, struct err *e);

/* Signs a CRL with the CA key.  Returns 0 or -1. */
int		 ca_sign_crl(struct ca *ca, X509_CRL *crl, struct err *e);

/*
 * Signs an OCSP BasicOCSPResponse (RFC 6960 §4.2.1) with the delegated
 * OCSP signer (DIR/ocsp.crt, included in the response, §4.2.2.2), or with
 * the CA key when use_ca is set or no delegated signer is loaded.  Sets
 * producedAt and the responderID byKey.  Returns 0 or -1.
 */
int		 ca_sign_ocsp(struct ca *ca, OCSP_BASICRESP *bs, int use_ca,
		    struct err *e);

/* A number that changes whenever ca_ocsp_signer_renew() succeeds. */
unsigned int	 ca_ocsp_signer_generation(struct ca *ca);

/* notAfter of the delegated OCSP signer (Unix time), 0 when none. */
int64_t		 ca_ocsp_signer_expiry(struct ca *ca);

/*
 * Makes a new delegated OCSP signer: a key of key_spec ("ec:p256",
 * "rsa:2048"...) and a certificate from the CA valid for days, written
 * atomically to DIR/ocsp.key (0600) and DIR/ocsp.crt, then used for every
 * later ca_sign_ocsp().  Returns 0 or -1 (the old signer stays).
 */
int		 ca_ocsp_signer_renew(struct ca *ca, const char *dir,
		    const char *key_spec, int days, struct err *e);

/*
 * Signs tbs with the RA key (RSA PKCS#1 v1.5 with md), for a CertRep's
 * signerInfo.  The signature is appended to sig.  Returns 0 or -1.
 */
int		 ca_ra_sign(struct ca *ca, const EVP_MD *md,
		    const unsigned char *tbs, size_t len, struct buf *sig,
		    struct err *e);

/*
 * Unwraps a content-encryption key sent to one of our certificates
 * (named by issuer and serial: the RA, or an RSA CA).  alg is the
 * keyEncryptionAlgorithm (rsaEncryption or RSAES-OAEP).  When the unwrap
 * fails or yields a key of the wrong length, a random key of key_len bytes
 * is returned instead (RFC 3218 §2.3.2), so that a padding oracle cannot
 * tell the two apart: the content decryption then fails.  Returns 0, or
 * -1 with ERR_BAD_RECIPIENT when the message is not for us.
 */
int		 ca_unwrap_key(struct ca *ca, const X509_NAME *issuer,
		    const ASN1_INTEGER *serial, const X509_ALGOR *alg,
		    const unsigned char *ek, size_t ek_len, size_t key_len,
		    struct buf *key, struct err *e);

/* 1 when x was issued (and signed) by our CA key, else 0. */
int		 ca_issued(const struct ca *ca, X509 *x);

/* Options of ca_create(). */
struct ca_create_opts {
	const char	*subject;	/* "CN=..."; default "CN=scep-ca" */
	const char	*key_spec;	/* "rsa:3072" default, "ec:p256"... */
	const char	*ra_key_spec;	/* "rsa:2048" default */
	int		 days;		/* CA validity, default 3650 */
	const char	*import_cert;	/* existing issuing CA (+ chain) */
	const char	*import_key;
	const char	*import_passphrase; /* may be NULL */
	const char	*ocsp_key_spec;	/* delegated OCSP signer, "ec:p256" */
	int		 ocsp_days;	/* its validity, default 30 */
};

/*
 * Creates DIR/ca.crt, ca.key, ra.crt, ra.key, ocsp.crt, ocsp.key (keys
 * 0600) and, for an imported CA with a chain, chain.pem.  Refuses to
 * overwrite.  On failure removes what it created.
 */
int		 ca_create(const char *dir, const struct ca_create_opts *o,
		    struct err *e);

#endif
