/*
 * ca.c - the only code that touches the CA, RA and OCSP signer private
 * keys: loading them, signing certificates, CRLs, CertReps and OCSP
 * responses, unwrapping SCEP envelope keys, renewing the OCSP signer.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "base/log.h"
#include "ca/ca.h"
#include "ca/ca_int.h"
#include "pki/dn.h"
#include "pki/pki.h"

/* Ownership: every pointer is owned by the struct and freed in ca_free(). */
struct ca {
	X509		*ca_cert;
	EVP_PKEY	*ca_key;
	X509		*ra_cert;	/* NULL: the CA acts as its own RA */
	EVP_PKEY	*ra_key;
	STACK_OF(X509)	*chain;		/* above an imported CA */
	const EVP_MD	*md;		/* static OpenSSL object */
	/*
	 * The delegated OCSP signer (NULL: none), replaced under ocsp_lock.
	 * The *_proto contexts are initialised once for signing and copied
	 * for each response: cheaper than a new initialisation every time.
	 */
	pthread_rwlock_t ocsp_lock;
	X509		*ocsp_cert;
	EVP_PKEY	*ocsp_key;
	EVP_MD_CTX	*ocsp_proto;
	EVP_MD_CTX	*ca_proto;	/* [ocsp] signer = ca */
	atomic_uint	 ocsp_generation; /* bumped by every renewal */
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
	X509_free(ca->ocsp_cert);
	EVP_PKEY_free(ca->ocsp_key);
	EVP_MD_CTX_free(ca->ocsp_proto);
	EVP_MD_CTX_free(ca->ca_proto);
	pthread_rwlock_destroy(&ca->ocsp_lock);
	free(ca);
}

/* The digest a key signs with: SHA-384 for EC above 256 bits. */
static const EVP_MD *
key_digest(EVP_PKEY *key)
{
	return EVP_PKEY_is_a(key, "EC") && EVP_PKEY_get_bits(key) > 256 ?
	    EVP_sha384() : EVP_sha256();
}

/* A signing context for key, to copy for each OCSP response; or NULL. */
static EVP_MD_CTX *
sign_proto(EVP_PKEY *key)
{
	EVP_MD_CTX	*ctx;

	if ((ctx = EVP_MD_CTX_new()) != NULL &&
	    EVP_DigestSignInit(ctx, NULL, key_digest(key), NULL, key) == 1)
		return ctx;
	EVP_MD_CTX_free(ctx);
	return NULL;
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

/*
 * Loads DIR/ocsp.crt and ocsp.key when present (a CA directory made
 * before they existed has none; the daemon then makes them).  A key file
 * others may read is refused; a signer this CA did not issue, or a pair
 * that does not match (a crash during renewal), is left out so that the
 * daemon renews it.
 */
static int
load_ocsp_signer(struct ca *ca, const char *dir, struct err *e)
{
	char	*cp = ca_path(dir, "ocsp.crt"), *kp = ca_path(dir, "ocsp.key");
	int	 rc = -1;

	if (cp == NULL || kp == NULL) {
		err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	if (access(cp, F_OK) != 0 || access(kp, F_OK) != 0) {
		rc = 0;
		goto out;
	}
	if ((ca->ocsp_cert = pki_read_cert(cp, e)) == NULL ||
	    (ca->ocsp_key = pki_read_key(kp, NULL, 1, e)) == NULL)
		goto out;
	if (X509_check_private_key(ca->ocsp_cert, ca->ocsp_key) != 1 ||
	    X509_verify(ca->ocsp_cert, X509_get0_pubkey(ca->ca_cert)) != 1) {
		ERR_clear_error();
		log_warn("ca", "%s is not a signer of this CA with %s: ignored",
		    cp, kp);
		X509_free(ca->ocsp_cert);
		EVP_PKEY_free(ca->ocsp_key);
		ca->ocsp_cert = NULL;
		ca->ocsp_key = NULL;
		rc = 0;
	} else if ((ca->ocsp_proto = sign_proto(ca->ocsp_key)) == NULL)
		err_set_ossl(e, ERR_INTERNAL, "ca: cannot use %s", kp);
	else
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
	pthread_rwlock_init(&ca->ocsp_lock, NULL);
	atomic_init(&ca->ocsp_generation, 0);
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
	ca->md = key_digest(ca->ca_key);
	if ((ca->ca_proto = sign_proto(ca->ca_key)) == NULL) {
		err_set_ossl(e, ERR_INTERNAL, "ca: cannot sign with the CA key");
		goto fail;
	}
	if (load_ocsp_signer(ca, dir, e) == -1)
		goto fail;
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
ca_sign_ocsp(struct ca *ca, OCSP_BASICRESP *bs, int use_ca, struct err *e)
{
	X509		*cert;
	EVP_MD_CTX	*proto, *ctx;
	unsigned long	 flags = OCSP_RESPID_KEY;
	int		 ok;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	pthread_rwlock_rdlock(&ca->ocsp_lock);
	if (use_ca || ca->ocsp_cert == NULL) {
		/* Relying parties know the CA: no certificate needed. */
		cert = ca->ca_cert;
		proto = ca->ca_proto;
		flags |= OCSP_NOCERTS;
	} else {
		cert = ca->ocsp_cert;
		proto = ca->ocsp_proto;
	}
	/* The certificate gets a reference of the response's own. */
	ok = EVP_MD_CTX_copy_ex(ctx, proto) == 1 &&
	    OCSP_basic_sign_ctx(bs, cert, ctx, NULL, flags) == 1;
	pthread_rwlock_unlock(&ca->ocsp_lock);
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return err_set_ossl(e, ERR_INTERNAL, "ca: signing an OCSP"
		    " response failed");
	return 0;
}

unsigned int
ca_ocsp_signer_generation(struct ca *ca)
{
	return atomic_load(&ca->ocsp_generation);
}

int64_t
ca_ocsp_signer_expiry(struct ca *ca)
{
	struct tm	tm;
	int64_t		t = 0;

	pthread_rwlock_rdlock(&ca->ocsp_lock);
	if (ca->ocsp_cert != NULL &&
	    ASN1_TIME_to_tm(X509_get0_notAfter(ca->ocsp_cert), &tm))
		t = (int64_t)timegm(&tm);
	pthread_rwlock_unlock(&ca->ocsp_lock);
	return t;
}

int
ca_ocsp_signer_renew(struct ca *ca, const char *dir, const char *key_spec,
    int days, struct err *e)
{
	EVP_PKEY	*key = NULL;
	EVP_MD_CTX	*proto = NULL;
	X509		*x = NULL;
	char		*kp = NULL, *cp = NULL;
	int		 rc = -1;

	if ((kp = ca_path(dir, "ocsp.key")) == NULL ||
	    (cp = ca_path(dir, "ocsp.crt")) == NULL) {
		err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((key = pki_keygen(key_spec, e)) == NULL ||
	    (x = ca_ocsp_signer_build(ca->ca_cert, ca->ca_key, ca->md, key,
	    days, e)) == NULL)
		goto out;
	if ((proto = sign_proto(key)) == NULL) {
		err_set_ossl(e, ERR_INTERNAL, "ca: cannot sign with the new key");
		goto out;
	}
	/*
	 * Key first: a crash between the two renames leaves a pair that
	 * does not match, which ca_load() leaves out and the daemon renews.
	 */
	if (pki_write_key(kp, key, NULL, e) == -1 ||
	    pki_write_cert(cp, x, e) == -1)
		goto out;
	pthread_rwlock_wrlock(&ca->ocsp_lock);
	X509_free(ca->ocsp_cert);
	EVP_PKEY_free(ca->ocsp_key);
	EVP_MD_CTX_free(ca->ocsp_proto);
	ca->ocsp_cert = x;
	ca->ocsp_key = key;
	ca->ocsp_proto = proto;
	atomic_fetch_add(&ca->ocsp_generation, 1);
	pthread_rwlock_unlock(&ca->ocsp_lock);
	x = NULL;
	key = NULL;
	proto = NULL;
	rc = 0;
out:
	EVP_MD_CTX_free(proto);
	EVP_PKEY_free(key);
	X509_free(x);
	free(kp);
	free(cp);
	return rc;
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
	return x != NULL && pki_name_equal(X509_get_issuer_name(x), issuer) &&
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

	ok = pki_name_equal(X509_get_issuer_name(x),
	    X509_get_subject_name(ca->ca_cert)) && pub != NULL &&
	    X509_verify(x, pub) == 1;
	ERR_clear_error();
	return ok;
}
