/*
 * pki.h - small X.509 helpers both binaries use: digests, serials, key
 * generation, PEM files; names are pki/dn.h's, included here.  All
 * functions are thread-safe.
 */
#ifndef BUNDLE_PKI_H
#define BUNDLE_PKI_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "base/buf.h"
#include "base/encode.h"
#include "base/err.h"
#include "pki/dn.h"	/* names: parsed, compared, printed */

/* No RSA key is read with a longer modulus (OpenSSL's own limit, too). */
#define PKI_RSA_MAX_BITS	16384

/*
 * Makes an EVP_PKEY from a SubjectPublicKeyInfo.  Only RSA (modulus up to
 * PKI_RSA_MAX_BITS) and EC on a named curve are read, straight from their
 * parameters (OpenSSL 3.0's generic decoder costs ~80 µs a key, too much
 * per SCEP request); explicit curve parameters and every other key type
 * are refused, so a key from the network cannot bring in an algorithm
 * nobody bounded.  Works on X509_PUBKEYs parsed in any library context.
 * NULL with e set: ERR_PARSE when malformed, ERR_BAD_ALG when refused.
 */
EVP_PKEY	*pki_pubkey_decode(const X509_PUBKEY *pub, struct err *e);

/*
 * Copies algorithm and key bits of from into to, without decoding or
 * encoding the key (X509_set_pubkey() does both).  Returns 0 or -1.
 */
int		 pki_pubkey_copy(X509_PUBKEY *to, const X509_PUBKEY *from);

/*
 * Lower-case hex digest (mdname "SHA1", "SHA256"...) of bytes, or of a
 * certificate's DER whatever library context it was parsed in.  0 or -1.
 */
int		 pki_digest_hex(const void *p, size_t n, const char *mdname,
		    char *out, size_t outlen);
int		 pki_cert_thumbprint(X509 *x, const char *mdname, char *out,
		    size_t outlen);

/* Lower-case hex SHA-256 of the SubjectPublicKeyInfo. */
int		 pki_key_hash(const X509_PUBKEY *spki, char out[65]);

/* Canonical upper-case hex of an ASN1_INTEGER serial. */
int		 pki_serial_text(const ASN1_INTEGER *serial, char out[SERIAL_HEX_MAX]);

/* Subject alternative names as text ("DNS:a, URI:b, othername: UPN::c"). */
char		*pki_san_text(X509 *x);

/* Generates a key from "rsa:BITS", "ec:p256" or "ec:p384". */
EVP_PKEY	*pki_keygen(const char *spec, struct err *e);

/* "RSA-3072", "EC-P-256"... for logs; writes into out. */
void		 pki_key_describe(const EVP_PKEY *key, char *out, size_t len);

/*
 * Write PEM files atomically (temp file + rename): a certificate (0644),
 * or a PKCS#8 private key (0600), encrypted with AES-256-CBC when
 * passphrase is not NULL.
 */
int		 pki_write_cert(const char *path, X509 *x, struct err *e);
int		 pki_write_key(const char *path, EVP_PKEY *key,
		    const char *passphrase, struct err *e);

/*
 * Reads a PEM (or DER) certificate; text before the PEM block is skipped.
 */
X509		*pki_read_cert(const char *path, struct err *e);

/* Reads every certificate in a PEM file (at least one). */
STACK_OF(X509)	*pki_read_certs(const char *path, struct err *e);

/*
 * Reads a private key.  When the file is encrypted, passphrase (may be
 * NULL) unlocks it.  With require_private_mode, refuses a file that group
 * or others may read.
 */
EVP_PKEY	*pki_read_key(const char *path, const char *passphrase,
		    int require_private_mode, struct err *e);

/* Returns 0 when path's mode gives nothing to group or others. */
int		 pki_check_private_mode(const char *path, struct err *e);

/* Writes a whole file atomically with the given mode. */
int		 file_write_atomic(const char *path, const void *p, size_t n,
		    int mode, struct err *e);

#endif
