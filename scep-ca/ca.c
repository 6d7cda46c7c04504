/*
 * ca.c - the only code that touches the CA and RA private keys: loading
 * them, signing certificates, CRLs and CertReps, unwrapping SCEP envelope
 * keys.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "ca.h"
#include "log.h"
#include "pki.h"

/* Ownership: every pointer is owned by the struct and freed in ca_free(). */
struct ca {
	X509		*ca_cert;
	EVP_PKEY	*ca_key;
	X509		*ra_cert;	/* NULL: the CA acts as its own RA */
	EVP_PKEY	*ra_key;
	STACK_OF(X509)	*chain;		/* above an imported CA */
	const EVP_MD	*md;		/* static OpenSSL object */
};

void
ca_free(struct ca *ca)
{
	if (ca == NULL)
		return;
	X509_free(ca->ca_cert);
	EVP_PKEY_free(ca->ca_key);
	X509_free(ca->ra_cert);
	EVP_PKEY_free(ca->ra_key);
	sk_X509_pop_free(ca->chain, X509_free);
	free(ca);
}

/* Reads DIR/name into a malloc'd path. */
static char *
ca_path(const char *dir, const char *name)
{
	char	*p;

	return asprintf(&p, "%s/%s", dir, name) == -1 ? NULL : p;
}

/* Loads a certificate and its key, checking they belong together. */
static int
load_pair(const char *dir, const char *crt, const char *key,
    const char *passphrase, X509 **x, EVP_PKEY **k, struct err *e)
{
	char	*cp = ca_path(dir, crt), *kp = ca_path(dir, key);
	int	 rc = -1;

	if (cp == NULL || kp == NULL) {
		err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((*x = pki_read_cert(cp, e)) == NULL ||
	    (*k = pki_read_key(kp, passphrase, 1, e)) == NULL)
		goto out;
	if (X509_check_private_key(*x, *k) != 1) {
		err_set_ossl(e, ERR_CONFIG, "%s does not belong to %s", kp, cp);
		goto out;
	}
	rc = 0;
out:
	free(cp);
	free(kp);
	return rc;
}

struct ca *
ca_load(const char *dir, const char *passphrase, struct err *e)
{
	struct ca	*ca;
	char		*chain = NULL;

	if ((ca = calloc(1, sizeof(*ca))) == NULL) {
		err_set(e, ERR_NOMEM, "out of memory");
		return NULL;
	}
	if (load_pair(dir, "ca.crt", "ca.key", passphrase, &ca->ca_cert,
	    &ca->ca_key, e) == -1 ||
	    load_pair(dir, "ra.crt", "ra.key", NULL, &ca->ra_cert, &ca->ra_key,
	    e) == -1)
		goto fail;
	if (!EVP_PKEY_is_a(ca->ra_key, "RSA")) {
		err_set(e, ERR_CONFIG, "ca: the RA key must be RSA (SCEP clients"
		    " encrypt to it)");
		goto fail;
	}
	if ((chain = ca_path(dir, "chain.pem")) == NULL)
		goto fail;
	if (access(chain, F_OK) == 0) {
		if ((ca->chain = pki_read_certs(chain, e)) == NULL)
			goto fail;
	} else if ((ca->chain = sk_X509_new_null()) == NULL)
		goto fail;
	ca->md = EVP_PKEY_is_a(ca->ca_key, "EC") &&
	    EVP_PKEY_get_bits(ca->ca_key) > 256 ? EVP_sha384() : EVP_sha256();
	if (X509_cmp_current_time(X509_get0_notAfter(ca->ca_cert)) < 0)
		log_warn("ca", "the CA certificate has expired: nothing it signs"
		    " will verify");
	free(chain);
	return ca;
fail:
	if (e != NULL && e->code == ERR_OK)
		err_set(e, ERR_NOMEM, "out of memory");
	free(chain);
	ca_free(ca);
	return NULL;
}

X509 *
ca_cert(const struct ca *ca)
{
	return ca->ca_cert;
}

X509 *
ca_ra_cert(const struct ca *ca)
{
	return ca->ra_cert != NULL ? ca->ra_cert : ca->ca_cert;
}

STACK_OF(X509) *
ca_chain(const struct ca *ca)
{
	return ca->chain;
}

const EVP_MD *
ca_digest(const struct ca *ca)
{
	return ca->md;
}

int
ca_sign_cert(struct ca *ca, X509 *x, struct err *e)
{
	if (X509_sign(x, ca->ca_key, ca->md) <= 0)
		return err_set_ossl(e, ERR_INTERNAL, "ca: signing a certificate"
		    " failed");
	return 0;
}

int
ca_sign_crl(struct ca *ca, X509_CRL *crl, struct err *e)
{
	if (X509_CRL_sign(crl, ca->ca_key, ca->md) <= 0)
		return err_set_ossl(e, ERR_INTERNAL, "ca: signing the CRL failed");
	return 0;
}

int
ca_ra_sign(struct ca *ca, const EVP_MD *md, const unsigned char *tbs,
    size_t len, struct buf *sig, struct err *e)
{
	EVP_MD_CTX	*ctx = NULL;
	EVP_PKEY	*key = ca->ra_key != NULL ? ca->ra_key : ca->ca_key;
	size_t		 n = 0;
	int		 rc = -1;

	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(ctx, NULL, md, NULL, key) != 1 ||
	    EVP_DigestSign(ctx, NULL, &n, tbs, len) != 1 ||
	    buf_reserve(sig, n) == -1 ||
	    EVP_DigestSign(ctx, sig->data + sig->len, &n, tbs, len) != 1) {
		err_set_ossl(e, ERR_INTERNAL, "ca: RA signature failed");
		goto out;
	}
	sig->len += n;
	rc = 0;
out:
	EVP_MD_CTX_free(ctx);
	return rc;
}

/* Does the recipient (issuer, serial) name certificate x? */
static int
names_cert(X509 *x, const X509_NAME *issuer, const ASN1_INTEGER *serial)
{
	return x != NULL && X509_NAME_cmp(X509_get_issuer_name(x), issuer) == 0 &&
	    ASN1_INTEGER_cmp(X509_get0_serialNumber(x), serial) == 0;
}

/* Sets RSAES-OAEP parameters (RFC 8017 A.2.1; SHA-1 defaults). */
static int
set_oaep(EVP_PKEY_CTX *pctx, const X509_ALGOR *alg)
{
	RSA_OAEP_PARAMS		*p = NULL;
	const EVP_MD		*md = EVP_sha1(), *mgf = EVP_sha1();
	X509_ALGOR		*mgfmd = NULL;
	int			 rc = -1;

	if (alg->parameter != NULL && alg->parameter->type == V_ASN1_SEQUENCE) {
		p = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(RSA_OAEP_PARAMS),
		    alg->parameter);
		if (p == NULL)
			goto out;
		if (p->hashFunc != NULL &&
		    (md = EVP_get_digestbyobj(p->hashFunc->algorithm)) == NULL)
			goto out;
		if (p->maskGenFunc != NULL) {
			mgfmd = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(X509_ALGOR),
			    p->maskGenFunc->parameter);
			if (mgfmd == NULL ||
			    (mgf = EVP_get_digestbyobj(mgfmd->algorithm)) == NULL)
				goto out;
		}
	}
	if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_OAEP_PADDING) == 1 &&
	    EVP_PKEY_CTX_set_rsa_oaep_md(pctx, md) == 1 &&
	    EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, mgf) == 1)
		rc = 0;
out:
	X509_ALGOR_free(mgfmd);
	RSA_OAEP_PARAMS_free(p);
	return rc;
}

/* Decrypts ek with key; 0 and out filled, or -1 (padding or other). */
static int
rsa_unwrap(EVP_PKEY *key, const X509_ALGOR *alg, const unsigned char *ek,
    size_t ek_len, struct buf *out)
{
	EVP_PKEY_CTX	*pctx;
	size_t		 n = 0;
	int		 nid = OBJ_obj2nid(alg->algorithm), rc = -1;

	if ((pctx = EVP_PKEY_CTX_new(key, NULL)) == NULL ||
	    EVP_PKEY_decrypt_init(pctx) != 1)
		goto out;
	if (nid == NID_rsaesOaep) {
		if (set_oaep(pctx, alg) == -1)
			goto out;
	} else if (nid != NID_rsaEncryption ||
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)
		goto out;
	if (EVP_PKEY_decrypt(pctx, NULL, &n, ek, ek_len) != 1 ||
	    buf_reserve(out, n) == -1 ||
	    EVP_PKEY_decrypt(pctx, out->data, &n, ek, ek_len) != 1)
		goto out;
	out->len = n;
	rc = 0;
out:
	EVP_PKEY_CTX_free(pctx);
	return rc;
}

int
ca_unwrap_key(struct ca *ca, const X509_NAME *issuer,
    const ASN1_INTEGER *serial, const X509_ALGOR *alg,
    const unsigned char *ek, size_t ek_len, size_t key_len, struct buf *key,
    struct err *e)
{
	EVP_PKEY	*k = NULL;
	int		 nid = OBJ_obj2nid(alg->algorithm);

	if (names_cert(ca->ra_cert, issuer, serial))
		k = ca->ra_key;
	else if (names_cert(ca->ca_cert, issuer, serial) &&
	    EVP_PKEY_is_a(ca->ca_key, "RSA"))
		k = ca->ca_key;
	if (k == NULL)
		return err_set(e, ERR_BAD_RECIPIENT, "the message is encrypted"
		    " to a certificate that is not ours");
	if (nid != NID_rsaEncryption && nid != NID_rsaesOaep)
		return err_set(e, ERR_BAD_ALG, "key transport %s is not"
		    " supported", OBJ_nid2sn(nid));
	buf_reset(key);
	if (rsa_unwrap(k, alg, ek, ek_len, key) == 0 && key->len == key_len)
		return 0;
	/* RFC 3218 §2.3.2: carry on with a random key, answer identically. */
	ERR_clear_error();
	buf_reset(key);
	if (buf_reserve(key, key_len) == -1 ||
	    RAND_bytes(key->data, (int)key_len) != 1)
		return err_set(e, ERR_NOMEM, "out of memory");
	key->len = key_len;
	return 0;
}

int
ca_issued(const struct ca *ca, X509 *x)
{
	EVP_PKEY	*pub = X509_get0_pubkey(ca->ca_cert);
	int		 ok;

	ok = X509_NAME_cmp(X509_get_issuer_name(x),
	    X509_get_subject_name(ca->ca_cert)) == 0 && pub != NULL &&
	    X509_verify(x, pub) == 1;
	ERR_clear_error();
	return ok;
}
