/*
 * reply.c - encoding CertReps (RFC 8894 §3.3.2) and the GetCACert
 * answer (§4.2.1.2).
 */
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "scep/msg.h"
#include "scep/msg_int.h"

/* Encodes p7 into out.  Returns 0 or -1. */
static int
p7_to_buf(PKCS7 *p7, struct buf *out, struct err *e)
{
	unsigned char	*der = NULL;
	int		 n, rc = 0;

	if ((n = i2d_PKCS7(p7, &der)) <= 0)
		return err_set_ossl(e, ERR_INTERNAL, "scep: cannot encode PKCS#7");
	if (buf_append(out, der, (size_t)n) == -1)
		rc = err_set(e, ERR_NOMEM, "out of memory");
	OPENSSL_free(der);
	return rc;
}

/*
 * A degenerate certificates-only SignedData: no signers, no content.
 * Certificates and CRL are borrowed (PKCS7_add_* take references).
 */
static PKCS7 *
degenerate_new(X509 *const *certs, int ncerts, STACK_OF(X509) *more,
    X509_CRL *crl)
{
	PKCS7	*p7;
	int	 i;

	if ((p7 = PKCS7_new()) == NULL || !PKCS7_set_type(p7, NID_pkcs7_signed) ||
	    !PKCS7_content_new(p7, NID_pkcs7_data))
		goto fail;
	for (i = 0; i < ncerts; i++)
		if (certs[i] != NULL && !PKCS7_add_certificate(p7, certs[i]))
			goto fail;
	for (i = 0; i < sk_X509_num(more); i++)
		if (!PKCS7_add_certificate(p7, sk_X509_value(more, i)))
			goto fail;
	if (crl != NULL && !PKCS7_add_crl(p7, crl))
		goto fail;
	/* No eContent (RFC 8894 §3.4). */
	PKCS7_set_detached(p7, 1);
	return p7;
fail:
	PKCS7_free(p7);
	return NULL;
}

int
scep_ca_certs_encode(struct ca *ca, struct buf *out, struct err *e)
{
	X509	*certs[2] = { ca_ra_cert(ca), ca_cert(ca) };
	PKCS7	*p7;
	int	 rc;

	if (certs[0] == certs[1])
		certs[1] = NULL;
	if ((p7 = degenerate_new(certs, 2, ca_chain(ca), NULL)) == NULL)
		return err_set_ossl(e, ERR_INTERNAL, "scep: cannot build the CA"
		    " certificates message");
	rc = p7_to_buf(p7, out, e);
	PKCS7_free(p7);
	return rc;
}

/* RSA PKCS#1 v1.5 key transport of the content key (RFC 8894 §3.2.2). */
static int
wrap_key(EVP_PKEY *pub, const unsigned char *key, size_t keylen,
    ASN1_OCTET_STRING *out)
{
	EVP_PKEY_CTX	*pctx;
	unsigned char	*ek = NULL;
	size_t		 eklen = 0;
	int		 rc = -1;

	if ((pctx = EVP_PKEY_CTX_new(pub, NULL)) == NULL ||
	    EVP_PKEY_encrypt_init(pctx) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1 ||
	    EVP_PKEY_encrypt(pctx, NULL, &eklen, key, keylen) != 1 ||
	    (ek = OPENSSL_malloc(eklen)) == NULL ||
	    EVP_PKEY_encrypt(pctx, ek, &eklen, key, keylen) != 1)
		goto out;
	ASN1_STRING_set0(out, ek, (int)eklen);
	ek = NULL;
	rc = 0;
out:
	OPENSSL_free(ek);
	EVP_PKEY_CTX_free(pctx);
	return rc;
}

/* The recipientInfo for the requester's signer certificate. */
static PKCS7_RECIP_INFO *
recipient_new(const struct scep_req *req, const unsigned char *key,
    size_t keylen)
{
	PKCS7_RECIP_INFO	*ri;
	X509			*x = req->signer;

	if ((ri = PKCS7_RECIP_INFO_new()) == NULL ||
	    !ASN1_INTEGER_set(ri->version, 0) ||
	    !X509_NAME_set(&ri->issuer_and_serial->issuer,
	    X509_get_issuer_name(x)))
		goto fail;
	ASN1_INTEGER_free(ri->issuer_and_serial->serial);
	if ((ri->issuer_and_serial->serial =
	    ASN1_INTEGER_dup(X509_get0_serialNumber(x))) == NULL ||
	    !X509_ALGOR_set0(ri->key_enc_algor, OBJ_nid2obj(NID_rsaEncryption),
	    V_ASN1_NULL, NULL) ||
	    wrap_key(req->signer_key, key, keylen, ri->enc_key) == -1)
		goto fail;
	return ri;
fail:
	PKCS7_RECIP_INFO_free(ri);
	return NULL;
}

/* Encrypts in with a fresh key and IV; fills the EncryptedContentInfo. */
static int
encrypt_content(const EVP_CIPHER *cipher, const struct buf *in,
    PKCS7_ENC_CONTENT *ec, struct buf *key)
{
	EVP_CIPHER_CTX	*ctx = NULL;
	unsigned char	 iv[EVP_MAX_IV_LENGTH];
	unsigned char	*out = NULL;
	int		 ivlen = EVP_CIPHER_get_iv_length(cipher), n1, n2, rc = -1;

	key->len = (size_t)EVP_CIPHER_get_key_length(cipher);
	if (buf_reserve(key, key->len) == -1 ||
	    RAND_bytes(key->data, (int)key->len) != 1 ||
	    RAND_bytes(iv, ivlen) != 1 ||
	    (out = OPENSSL_malloc(in->len + EVP_MAX_BLOCK_LENGTH)) == NULL ||
	    (ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_EncryptInit_ex2(ctx, cipher, key->data, iv, NULL) != 1 ||
	    EVP_EncryptUpdate(ctx, out, &n1, in->data, (int)in->len) != 1 ||
	    EVP_EncryptFinal_ex(ctx, out + n1, &n2) != 1)
		goto out;
	/* The IV goes into the AlgorithmIdentifier (RFC 5652 §6.3). */
	ec->algorithm->algorithm = OBJ_nid2obj(EVP_CIPHER_get_nid(cipher));
	if ((ec->algorithm->parameter = ASN1_TYPE_new()) == NULL ||
	    EVP_CIPHER_param_to_asn1(ctx, ec->algorithm->parameter) <= 0)
		goto out;
	if ((ec->enc_data = ASN1_OCTET_STRING_new()) == NULL)
		goto out;
	ASN1_STRING_set0(ec->enc_data, out, n1 + n2);
	out = NULL;
	rc = 0;
out:
	OPENSSL_free(out);
	EVP_CIPHER_CTX_free(ctx);
	OPENSSL_cleanse(iv, sizeof(iv));
	return rc;
}

/*
 * The pkiEnvelope of a SUCCESS: the degenerate PKCS#7 with the issued
 * certificate (or CRL), encrypted to the requester's signer certificate
 * with the cipher the requester used.  Built by hand rather than with
 * PKCS7_encrypt(), which would decode the signer's key all over again.
 */
static int
build_envelope(const struct scep_req *req, const struct scep_rep *rep,
    struct buf *out, struct err *e)
{
	EVP_CIPHER		*cipher = NULL;
	PKCS7			*inner = NULL, *env = NULL;
	PKCS7_RECIP_INFO	*ri = NULL;
	struct buf		 der = {0}, key = {0};
	int			 rc = -1;

	if ((inner = degenerate_new(&rep->cert, rep->cert ? 1 : 0, NULL,
	    rep->crl)) == NULL || p7_to_buf(inner, &der, e) == -1)
		goto out;
	cipher = EVP_CIPHER_fetch(NULL, OBJ_nid2sn(req->cipher_nid ?
	    req->cipher_nid : NID_aes_128_cbc), NULL);
	if (cipher == NULL || req->signer_key == NULL ||
	    (env = PKCS7_new()) == NULL ||
	    !PKCS7_set_type(env, NID_pkcs7_enveloped) ||
	    encrypt_content(cipher, &der, env->d.enveloped->enc_data, &key) == -1 ||
	    (ri = recipient_new(req, key.data, key.len)) == NULL ||
	    !PKCS7_add_recipient_info(env, ri)) {
		err_set_ossl(e, ERR_BAD_ALG, "scep: cannot encrypt the reply to"
		    " the requester");
		goto out;
	}
	ri = NULL;	/* owned by env */
	rc = p7_to_buf(env, out, e);
out:
	PKCS7_RECIP_INFO_free(ri);
	EVP_CIPHER_free(cipher);
	PKCS7_free(inner);
	PKCS7_free(env);
	buf_free(&der);
	buf_wipe(&key);
	return rc;
}

/* Appends attribute oid = value (type) to the signerInfo's attributes. */
static int
add_attr(PKCS7_SIGNER_INFO *si, const ASN1_OBJECT *oid, int type,
    const void *data, int len)
{
	X509_ATTRIBUTE	*a;

	a = X509_ATTRIBUTE_create_by_OBJ(NULL, oid, type, data, len);
	if (a == NULL)
		return -1;
	if (si->auth_attr == NULL &&
	    (si->auth_attr = sk_X509_ATTRIBUTE_new_null()) == NULL)
		goto fail;
	if (!sk_X509_ATTRIBUTE_push(si->auth_attr, a))
		goto fail;
	return 0;
fail:
	X509_ATTRIBUTE_free(a);
	return -1;
}

/* Adds a PrintableString attribute holding a decimal number. */
static int
add_number_attr(PKCS7_SIGNER_INFO *si, const ASN1_OBJECT *oid, int v)
{
	char	s[16];

	snprintf(s, sizeof(s), "%d", v);
	return add_attr(si, oid, V_ASN1_PRINTABLESTRING, s, (int)strlen(s));
}

/* The SCEP attributes of a CertRep (RFC 8894 §3.3.2). */
static int
add_scep_attrs(const struct scep_codec *c, PKCS7_SIGNER_INFO *si,
    const struct scep_req *req, const struct scep_rep *rep)
{
	unsigned char	nonce[16];
	const char	*text = rep->fail_text;

	if (RAND_bytes(nonce, sizeof(nonce)) != 1 ||
	    add_number_attr(si, c->oid[SCEP_ATTR_MESSAGE_TYPE],
	    SCEP_MSG_CERTREP) == -1 ||
	    add_number_attr(si, c->oid[SCEP_ATTR_PKI_STATUS], rep->status) == -1 ||
	    add_attr(si, c->oid[SCEP_ATTR_SENDER_NONCE], V_ASN1_OCTET_STRING,
	    nonce, sizeof(nonce)) == -1)
		return -1;
	if (req->txid_raw != NULL && add_attr(si,
	    c->oid[SCEP_ATTR_TRANSACTION_ID], req->txid_raw->type,
	    req->txid_raw->value.asn1_string->data,
	    req->txid_raw->value.asn1_string->length) == -1)
		return -1;
	if (req->nonce_len > 0 && add_attr(si, c->oid[SCEP_ATTR_RECIPIENT_NONCE],
	    V_ASN1_OCTET_STRING, req->nonce, (int)req->nonce_len) == -1)
		return -1;
	if (rep->status != SCEP_STATUS_FAILURE)
		return 0;
	if (add_number_attr(si, c->oid[SCEP_ATTR_FAIL_INFO], rep->fail_info) == -1)
		return -1;
	if (text != NULL && *text != '\0' && add_attr(si,
	    c->oid[SCEP_ATTR_FAIL_INFO_TEXT], V_ASN1_UTF8STRING, text,
	    (int)strnlen(text, 255)) == -1)
		return -1;
	return 0;
}

/* contentType, signingTime and messageDigest over the content. */
static int
add_cms_attrs(PKCS7_SIGNER_INFO *si, const EVP_MD *md,
    const struct buf *content)
{
	ASN1_OCTET_STRING	*os = NULL;
	ASN1_TIME		*now = NULL;
	unsigned char		 d[EVP_MAX_MD_SIZE];
	unsigned int		 dlen;
	int			 rc = -1;

	if (!EVP_Digest(content->data ? content->data : (unsigned char *)"",
	    content->len, d, &dlen, md, NULL) ||
	    (os = ASN1_OCTET_STRING_new()) == NULL ||
	    !ASN1_OCTET_STRING_set(os, d, (int)dlen) ||
	    (now = X509_gmtime_adj(NULL, 0)) == NULL)
		goto out;
	if (!PKCS7_add_signed_attribute(si, NID_pkcs9_contentType, V_ASN1_OBJECT,
	    OBJ_nid2obj(NID_pkcs7_data)))
		goto out;
	if (!PKCS7_add_signed_attribute(si, NID_pkcs9_signingTime,
	    now->type, now))
		goto out;
	now = NULL;	/* owned by the attribute now */
	if (!PKCS7_add_signed_attribute(si, NID_pkcs9_messageDigest,
	    V_ASN1_OCTET_STRING, os))
		goto out;
	os = NULL;
	rc = 0;
out:
	ASN1_OCTET_STRING_free(os);
	ASN1_TIME_free(now);
	return rc;
}

/* Fills the signerInfo's identity and algorithms for the RA. */
static int
signer_info_init(PKCS7_SIGNER_INFO *si, X509 *ra, const EVP_MD *md)
{
	if (!ASN1_INTEGER_set(si->version, 1) ||
	    !X509_NAME_set(&si->issuer_and_serial->issuer,
	    X509_get_issuer_name(ra)))
		return -1;
	ASN1_INTEGER_free(si->issuer_and_serial->serial);
	if ((si->issuer_and_serial->serial =
	    ASN1_INTEGER_dup(X509_get0_serialNumber(ra))) == NULL)
		return -1;
	if (!X509_ALGOR_set0(si->digest_alg, OBJ_nid2obj(EVP_MD_get_type(md)),
	    V_ASN1_NULL, NULL) ||
	    !X509_ALGOR_set0(si->digest_enc_alg, OBJ_nid2obj(NID_rsaEncryption),
	    V_ASN1_NULL, NULL))
		return -1;
	return 0;
}

/* Signs the signerInfo's attributes with the RA key. */
static int
signer_info_sign(PKCS7_SIGNER_INFO *si, struct ca *ca, const EVP_MD *md,
    struct err *e)
{
	unsigned char	*abuf = NULL;
	struct buf	 sig = {0};
	int		 alen, rc = -1;

	alen = ASN1_item_i2d((ASN1_VALUE *)si->auth_attr, &abuf,
	    ASN1_ITEM_rptr(PKCS7_ATTR_SIGN));
	if (alen <= 0) {
		err_set_ossl(e, ERR_INTERNAL, "scep: cannot encode attributes");
		goto out;
	}
	if (ca_ra_sign(ca, md, abuf, (size_t)alen, &sig, e) == -1)
		goto out;
	if (!ASN1_STRING_set(si->enc_digest, sig.data, (int)sig.len)) {
		err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	rc = 0;
out:
	OPENSSL_free(abuf);
	buf_free(&sig);
	return rc;
}

int
scep_rep_encode(const struct scep_codec *c, struct ca *ca,
    const struct scep_req *req, const struct scep_rep *rep, struct buf *out,
    struct err *e)
{
	PKCS7			*p7 = NULL;
	PKCS7_SIGNER_INFO	*si = NULL;
	struct buf		 env = {0};
	const EVP_MD		*md = req->md ? req->md : EVP_sha256();
	X509			*ra = ca_ra_cert(ca);
	int			 rc = -1;

	if (rep->status == SCEP_STATUS_SUCCESS &&
	    build_envelope(req, rep, &env, e) == -1)
		goto out;
	if ((p7 = PKCS7_new()) == NULL || !PKCS7_set_type(p7, NID_pkcs7_signed) ||
	    !PKCS7_content_new(p7, NID_pkcs7_data) ||
	    (si = PKCS7_SIGNER_INFO_new()) == NULL ||
	    signer_info_init(si, ra, md) == -1 ||
	    add_cms_attrs(si, md, &env) == -1 ||
	    add_scep_attrs(c, si, req, rep) == -1)
		goto fail;
	if (signer_info_sign(si, ca, md, e) == -1)
		goto out;
	if (!PKCS7_add_signer(p7, si))
		goto fail;
	si = NULL;	/* owned by p7 */
	if (!PKCS7_add_certificate(p7, ra))
		goto fail;
	/*
	 * FAILURE and PENDING carry no pkiEnvelope (RFC 8894 §3.3.2).  The
	 * content stays present but empty: clients on OpenSSL's PKCS7_verify
	 * (certmonger) refuse a SignedData whose content is absent.
	 */
	if (!ASN1_OCTET_STRING_set(p7->d.sign->contents->d.data, env.data,
	    (int)env.len))
		goto fail;
	rc = p7_to_buf(p7, out, e);
	goto out;
fail:
	err_set_ossl(e, ERR_INTERNAL, "scep: cannot build the CertRep");
out:
	PKCS7_SIGNER_INFO_free(si);
	PKCS7_free(p7);
	buf_free(&env);
	return rc;
}
