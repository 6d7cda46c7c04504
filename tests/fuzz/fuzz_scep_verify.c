/*
 * libFuzzer target: scep_req_verify() (scep-ca/scep/request.c: the signer's
 * key read by pki_pubkey_decode() and bounded, messageDigest, the
 * signature over the signed attributes as sent, with the fallback for
 * DigestInfos without NULL parameters) against OpenSSL's own
 * PKCS7_signatureVerify() on the same message parsed in the default
 * context.  Any disagreement aborts:
 *  - a message we accept, OpenSSL accepts, or OpenSSL's RSA verification
 *    accepts its signature as PKCS#1 v1.5 over the DER DigestInfo of the
 *    attributes' digest without parameters (the one leniency we allow);
 *  - a message OpenSSL accepts, we accept too, unless we refused an
 *    algorithm or key (ERR_BAD_ALG), its messageDigest attribute is
 *    ambiguous (repeated, multi-valued, not an OCTET STRING: OpenSSL
 *    takes the first value of whatever type) or its content is not
 *    id-data (OpenSSL digests the OCTET STRING of any type).
 * Seeds: tests/fuzz/seeds/scep (validly signed by large and odd keys).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <openssl/err.h>
#include <openssl/pkcs7.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "base/log.h"
#include "scep/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct scep_codec *codec;

/* 1 when p7's digestAlgorithms list the signerInfo's digest. */
static int
digest_listed(PKCS7 *p7, PKCS7_SIGNER_INFO *si)
{
	STACK_OF(X509_ALGOR)	*algs = p7->d.sign->md_algs;
	int			 i, nid = OBJ_obj2nid(si->digest_alg->algorithm);

	for (i = 0; i < sk_X509_ALGOR_num(algs); i++)
		if (OBJ_obj2nid(sk_X509_ALGOR_value(algs, i)->algorithm) == nid)
			return 1;
	return 0;
}

/* 1 when the signerInfo has exactly one single-valued OCTET STRING digest. */
static int
digest_attr_plain(PKCS7_SIGNER_INFO *si)
{
	STACK_OF(X509_ATTRIBUTE)	*attrs = si->auth_attr;
	X509_ATTRIBUTE			*a;
	int				 i;

	i = X509at_get_attr_by_NID(attrs, NID_pkcs9_messageDigest, -1);
	if (i < 0 || X509at_get_attr_by_NID(attrs, NID_pkcs9_messageDigest,
	    i) >= 0)
		return 0;
	a = X509at_get_attr(attrs, i);
	return X509_ATTRIBUTE_count(a) == 1 &&
	    X509_ATTRIBUTE_get0_type(a, 0)->type == V_ASN1_OCTET_STRING;
}

/*
 * 1 when the signed content is id-data (RFC 8894 §3.2; OpenSSL also
 * digests the OCTET STRING of another content type).
 */
static int
content_is_data(PKCS7 *p7)
{
	PKCS7	*inner = p7->d.sign->contents;

	return inner != NULL && PKCS7_type_is_data(inner) &&
	    inner->d.data != NULL;
}

/* OpenSSL's verdict on the signerInfo: PKCS7_signatureVerify(). */
static int
openssl_verifies(PKCS7 *p7, PKCS7_SIGNER_INFO *si, X509 *signer)
{
	BIO	*bio;
	char	 chunk[4096];
	int	 ok = 0;

	if ((bio = PKCS7_dataInit(p7, NULL)) == NULL)
		return 0;
	while (BIO_read(bio, chunk, sizeof(chunk)) > 0)
		continue;
	ok = PKCS7_signatureVerify(bio, p7, si, signer) == 1;
	BIO_free_all(bio);
	return ok;
}

/*
 * 1 when OpenSSL's RSA verification (no digest: the whole payload is
 * compared) accepts the signature over the DER DigestInfo of md(attrs)
 * whose AlgorithmIdentifier has no parameters.
 */
static int
openssl_verifies_no_null(PKCS7_SIGNER_INFO *si, X509 *signer, const EVP_MD *md)
{
	EVP_PKEY_CTX	*ctx = NULL;
	X509_SIG	*di = NULL;
	X509_ALGOR	*alg;
	ASN1_OCTET_STRING *dig;
	unsigned char	*attrs = NULL, *der = NULL, d[EVP_MAX_MD_SIZE];
	unsigned int	 dlen;
	int		 alen, len, ok = 0;

	alen = ASN1_item_i2d((ASN1_VALUE *)si->auth_attr, &attrs,
	    ASN1_ITEM_rptr(PKCS7_ATTR_VERIFY));
	if (alen <= 0 || !EVP_Digest(attrs, (size_t)alen, d, &dlen, md, NULL) ||
	    (di = X509_SIG_new()) == NULL)
		goto out;
	X509_SIG_getm(di, &alg, &dig);
	if (!X509_ALGOR_set0(alg, OBJ_nid2obj(EVP_MD_get_type(md)),
	    V_ASN1_UNDEF, NULL) || !ASN1_OCTET_STRING_set(dig, d, (int)dlen) ||
	    (len = i2d_X509_SIG(di, &der)) <= 0)
		goto out;
	if ((ctx = EVP_PKEY_CTX_new(X509_get0_pubkey(signer), NULL)) != NULL &&
	    EVP_PKEY_verify_init(ctx) == 1 &&
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1)
		ok = EVP_PKEY_verify(ctx, si->enc_digest->data,
		    (size_t)si->enc_digest->length, der, (size_t)len) == 1;
out:
	EVP_PKEY_CTX_free(ctx);
	OPENSSL_free(der);
	OPENSSL_free(attrs);
	X509_SIG_free(di);
	return ok;
}

/* Checks OpenSSL against our verdict (ours_ok, e) on data. */
static void
compare(const uint8_t *data, size_t size, const struct scep_req *req,
    int ours_ok, const struct err *e)
{
	const unsigned char	*p = data;
	PKCS7			*p7;
	PKCS7_SIGNER_INFO	*si;
	PKCS7_ISSUER_AND_SERIAL	*ias;
	X509			*signer;
	int			 theirs_ok;

	if ((p7 = d2i_PKCS7(NULL, &p, (long)size)) == NULL ||
	    !PKCS7_type_is_signed(p7) ||
	    (si = sk_PKCS7_SIGNER_INFO_value(PKCS7_get_signer_info(p7), 0)) ==
	    NULL)
		abort();	/* we parsed it */
	ias = si->issuer_and_serial;
	signer = X509_find_by_issuer_and_serial(p7->d.sign->cert, ias->issuer,
	    ias->serial);
	if (signer == NULL)
		abort();	/* we found it */
	if (X509_get0_pubkey(signer) == NULL) {
		if (ours_ok)
			abort();	/* we read a key OpenSSL cannot */
		goto out;
	}
	if (!digest_listed(p7, si))
		goto out;	/* OpenSSL finds no digest to check */
	theirs_ok = openssl_verifies(p7, si, signer);
	if (ours_ok && !theirs_ok &&
	    !openssl_verifies_no_null(si, signer, req->md))
		abort();
	if (!ours_ok && theirs_ok && e->code == ERR_BAD_SIGNATURE &&
	    digest_attr_plain(si) && content_is_data(p7))
		abort();
out:
	PKCS7_free(p7);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct scep_req	req;
	struct err	e = {0};
	int		ours_ok;

	if (codec == NULL) {
		log_set_level(LOGL_ERR);
		if ((codec = scep_codec_new(NULL)) == NULL)
			abort();
	}
	if (scep_req_parse(codec, data, size, &req, &e) == 0 &&
	    req.signer != NULL) {
		ours_ok = scep_req_verify(codec, &req, 1, SCEP_MAX_RSA_BITS,
		    &e) == 0;
		/* OpenSSL only where we used the key: it would also use
		 * the keys we refuse, at their cost. */
		if (ours_ok || e.code == ERR_BAD_SIGNATURE)
			compare(data, size, &req, ours_ok, &e);
	}
	scep_req_free(&req);
	ERR_clear_error();
	return 0;
}
