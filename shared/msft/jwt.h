/*
 * jwt.h - the certificate client assertion of the OAuth 2.0 client
 * credentials grant (RFC 7523 §2.2, RFC 7515 compact form).
 *
 * A jwt_signer holds the application's certificate thumbprint and private
 * key, and nothing else touches the key.  It is immutable once made, so
 * any number of threads may sign with one signer at once.
 */
#ifndef BUNDLE_JWT_H
#define BUNDLE_JWT_H

#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "base/buf.h"
#include "base/err.h"
#include "msft/conf.h"

/* Lifetime of an assertion (exp - iat): Entra accepts 5-10 minutes. */
#define JWT_ASSERTION_LIFETIME	600

struct jwt_signer;

/*
 * Loads a PEM certificate and its PEM RSA private key (a file that group
 * and others cannot read; unencrypted).  Refuses a key that does not
 * match the certificate.  Returns NULL with e filled on failure.
 */
struct jwt_signer	*jwt_signer_load(const char *cert_file,
			    const char *key_file, enum entra_assertion_alg alg,
			    struct err *e);

/*
 * Makes a signer from a certificate and key already in memory (both
 * up-ref'd, the caller keeps its references).  Returns NULL with e filled.
 */
struct jwt_signer	*jwt_signer_new(X509 *cert, EVP_PKEY *key,
			    enum entra_assertion_alg alg, struct err *e);

/* Frees the signer.  Accepts NULL. */
void			 jwt_signer_free(struct jwt_signer *s);

/*
 * Appends to out a signed assertion "header.claims.signature" with
 * aud = audience (the token URL), iss = sub = client_id, a fresh jti,
 * iat = nbf = now, exp = now + JWT_ASSERTION_LIFETIME.  Returns 0, or -1
 * with e filled.
 */
int			 jwt_signer_assertion(const struct jwt_signer *s,
			    const char *audience, const char *client_id,
			    time_t now, struct buf *out, struct err *e);

#endif
