/*
 * request.c - decoding SCEP requests (RFC 8894 §3.2, §3.3): the outer
 * SignedData, its signature, the pkiEnvelope and what it carries.
 *
 * Written for what real clients send (../shared/vectors): BER with
 * indefinite lengths, unsorted signed attributes, AlgorithmIdentifiers
 * without NULL parameters, 8-byte nonces, transactionIDs of any form,
 * MD5 and single DES from old clients (only with allow_legacy).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1t.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "pki/pki.h"
#include "scep/msg.h"
#include "scep/msg_int.h"

/* IssuerAndSubject, RFC 8894 §3.3.3. */
typedef struct {
	X509_NAME	*issuer;
	X509_NAME	*subject;
} SCEP_ISSUER_AND_SUBJECT;

ASN1_SEQUENCE(SCEP_ISSUER_AND_SUBJECT) = {
	ASN1_SIMPLE(SCEP_ISSUER_AND_SUBJECT, issuer, X509_NAME),
	ASN1_SIMPLE(SCEP_ISSUER_AND_SUBJECT, subject, X509_NAME),
} static_ASN1_SEQUENCE_END(SCEP_ISSUER_AND_SUBJECT)

static const char *const attr_oids[SCEP_ATTR__COUNT] = {
	[SCEP_ATTR_MESSAGE_TYPE] = "2.16.840.1.113733.1.9.2",
	[SCEP_ATTR_PKI_STATUS] = "2.16.840.1.113733.1.9.3",
	[SCEP_ATTR_FAIL_INFO] = "2.16.840.1.113733.1.9.4",
	[SCEP_ATTR_SENDER_NONCE] = "2.16.840.1.113733.1.9.5",
	[SCEP_ATTR_RECIPIENT_NONCE] = "2.16.840.1.113733.1.9.6",
	[SCEP_ATTR_TRANSACTION_ID] = "2.16.840.1.113733.1.9.7",
	[SCEP_ATTR_FAIL_INFO_TEXT] = "1.3.6.1.5.5.7.24.1",
};

struct scep_codec *
scep_codec_new(struct err *e)
{
	struct scep_codec	*c;
	int			 i;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		err_set(e, ERR_NOMEM, "out of memory");
		return NULL;
	}
	for (i = 0; i < SCEP_ATTR__COUNT; i++) {
		if ((c->oid[i] = OBJ_txt2obj(attr_oids[i], 1)) == NULL) {
			err_set_ossl(e, ERR_INTERNAL, "scep: bad OID %s",
			    attr_oids[i]);
			scep_codec_free(c);
			return NULL;
		}
	}
	if ((c->parse_ctx = OSSL_LIB_CTX_new()) == NULL ||
	    (c->null_provider = OSSL_PROVIDER_load(c->parse_ctx, "null")) == NULL) {
		err_set_ossl(e, ERR_INTERNAL, "scep: no parsing context");
		scep_codec_free(c);
		return NULL;
	}
	return c;
}

void
scep_codec_free(struct scep_codec *c)
{
	int	i;

	if (c == NULL)
		return;
	for (i = 0; i < SCEP_ATTR__COUNT; i++)
		ASN1_OBJECT_free(c->oid[i]);
	if (c->null_provider != NULL)
		OSSL_PROVIDER_unload(c->null_provider);
	OSSL_LIB_CTX_free(c->parse_ctx);
	free(c);
}

const char *
scep_msg_type_name(int type)
{
	switch (type) {
	case SCEP_MSG_CERTREP:		return "CertRep";
	case SCEP_MSG_RENEWALREQ:	return "RenewalReq";
	case SCEP_MSG_PKCSREQ:		return "PKCSReq";
	case SCEP_MSG_CERTPOLL:		return "CertPoll";
	case SCEP_MSG_GETCERT:		return "GetCert";
	case SCEP_MSG_GETCRL:		return "GetCRL";
	default:			return "unknown";
	}
}

ASN1_VALUE *
scep_parse_only(const struct scep_codec *c, const ASN1_ITEM *it,
    const unsigned char **pp, long len)
{
	return ASN1_item_d2i_ex(NULL, pp, len, it, c->parse_ctx, NULL);
}

X509 *
scep_req_signer_copy(const struct scep_req *req)
{
	unsigned char		*der = NULL;
	const unsigned char	*p;
	X509			*full = NULL;
	int			 len;

	if (req->signer == NULL || (len = i2d_X509(req->signer, &der)) <= 0)
		return NULL;
	p = der;
	full = d2i_X509(NULL, &p, len);		/* the default context */
	OPENSSL_free(der);
	return full;
}

void
scep_req_free(struct scep_req *req)
{
	if (req == NULL)
		return;
	PKCS7_free(req->p7);
	ASN1_TYPE_free(req->txid_raw);
	X509_free(req->signer);
	EVP_PKEY_free(req->signer_key);
	buf_wipe(&req->content);
	X509_REQ_free(req->csr);
	EVP_PKEY_free(req->csr_key);
	X509_NAME_free(req->issuer);
	X509_NAME_free(req->subject);
	ASN1_INTEGER_free(req->serial);
	memset(req, 0, sizeof(*req));
}

/*
 * Finds the one value of attribute oid among attrs.  NULL when absent;
 * *dup set when it appears more than once (ambiguous, refused).
 */
static ASN1_TYPE *
attr_value(STACK_OF(X509_ATTRIBUTE) *attrs, const ASN1_OBJECT *oid, int *dup)
{
	X509_ATTRIBUTE	*a;
	ASN1_TYPE	*found = NULL;
	int		 i;

	for (i = 0; i < sk_X509_ATTRIBUTE_num(attrs); i++) {
		a = sk_X509_ATTRIBUTE_value(attrs, i);
		if (OBJ_cmp(X509_ATTRIBUTE_get0_object(a), oid) != 0)
			continue;
		if (found != NULL || X509_ATTRIBUTE_count(a) != 1)
			*dup = 1;
		found = X509_ATTRIBUTE_get0_type(a, 0);
	}
	return found;
}

/* Is t one of the ASN.1 string types a client may use for text? */
static int
is_text(const ASN1_TYPE *t)
{
	switch (t->type) {
	case V_ASN1_PRINTABLESTRING:
	case V_ASN1_UTF8STRING:
	case V_ASN1_IA5STRING:
	case V_ASN1_T61STRING:
	case V_ASN1_VISIBLESTRING:
		return 1;
	default:
		return 0;
	}
}

/* Reads messageType (a decimal number in a string). */
static int
read_type(const ASN1_TYPE *t, int *type)
{
	const ASN1_STRING	*s;
	int			 i, v = 0;

	if (t == NULL || !is_text(t))
		return -1;
	s = t->value.asn1_string;
	if (s->length < 1 || s->length > 4)
		return -1;
	for (i = 0; i < s->length; i++) {
		if (s->data[i] < '0' || s->data[i] > '9')
			return -1;
		v = v * 10 + (s->data[i] - '0');
	}
	*type = v;
	return 0;
}

/* Reads the transactionID as text and keeps its encoding to echo. */
static int
read_txid(const ASN1_TYPE *t, struct scep_req *req)
{
	const ASN1_STRING	*s;

	if (t == NULL || !is_text(t))
		return -1;
	s = t->value.asn1_string;
	if (s->length < 1 || s->length > SCEP_TXID_MAX ||
	    memchr(s->data, '\0', (size_t)s->length) != NULL)
		return -1;
	memcpy(req->txid, s->data, (size_t)s->length);
	req->txid[s->length] = '\0';
	req->txid_raw = ASN1_TYPE_new();
	if (req->txid_raw == NULL ||
	    !ASN1_TYPE_set1(req->txid_raw, t->type, t->value.ptr))
		return -1;
	return 0;
}

/*
 * Reads the senderNonce: RFC 8894 §3.2.1.5 says 16 bytes, Apple sends 8;
 * anything shorter protects nothing and is refused.
 */
static int
read_nonce(const ASN1_TYPE *t, struct scep_req *req)
{
	const ASN1_STRING	*s;

	if (t == NULL)
		return 0;	/* the caller decides whether that is fatal */
	if (t->type != V_ASN1_OCTET_STRING)
		return -1;
	s = t->value.octet_string;
	if (s->length < SCEP_NONCE_MIN || s->length > SCEP_NONCE_MAX)
		return -1;
	memcpy(req->nonce, s->data, (size_t)s->length);
	req->nonce_len = (size_t)s->length;
	return 0;
}

PKCS7_SIGNER_INFO *
scep_signer_info(PKCS7 *p7)
{
	STACK_OF(PKCS7_SIGNER_INFO)	*sis = PKCS7_get_signer_info(p7);

	return sk_PKCS7_SIGNER_INFO_num(sis) > 0 ?
	    sk_PKCS7_SIGNER_INFO_value(sis, 0) : NULL;
}

/* Reads the SCEP attributes of the signerInfo into req. */
static int
read_attrs(const struct scep_codec *c, PKCS7_SIGNER_INFO *si,
    struct scep_req *req, struct err *e)
{
	STACK_OF(X509_ATTRIBUTE)	*attrs = si->auth_attr;
	int				 dup = 0;

	if (sk_X509_ATTRIBUTE_num(attrs) == 0)
		return err_set(e, ERR_PARSE, "scep: the message has no signed"
		    " attributes");
	if (read_type(attr_value(attrs, c->oid[SCEP_ATTR_MESSAGE_TYPE], &dup),
	    &req->type) == -1)
		return err_set(e, ERR_PARSE, "scep: messageType missing or"
		    " malformed");
	if (read_txid(attr_value(attrs, c->oid[SCEP_ATTR_TRANSACTION_ID], &dup),
	    req) == -1)
		return err_set(e, ERR_PARSE, "scep: transactionID missing or"
		    " malformed");
	if (read_nonce(attr_value(attrs, c->oid[SCEP_ATTR_SENDER_NONCE], &dup),
	    req) == -1)
		return err_set(e, ERR_PARSE, "scep: senderNonce malformed");
	if (dup)
		return err_set(e, ERR_PARSE, "scep: a SCEP attribute appears"
		    " more than once");
	return 0;
}

int
scep_req_parse(const struct scep_codec *c, const unsigned char *der,
    size_t len, struct scep_req *req, struct err *e)
{
	const unsigned char	*p = der;
	PKCS7_SIGNER_INFO	*si;
	PKCS7_ISSUER_AND_SERIAL	*ias;

	memset(req, 0, sizeof(*req));
	req->codec = c;
	if (len == 0 || len > 0x7fffffff)
		return err_set(e, ERR_PARSE, "scep: empty pkiMessage");
	if ((req->p7 = (PKCS7 *)scep_parse_only(c, ASN1_ITEM_rptr(PKCS7), &p,
	    (long)len)) == NULL)
		return err_set_ossl(e, ERR_PARSE, "scep: the pkiMessage is not"
		    " a PKCS#7 structure");
	if (p != der + len)
		return err_set(e, ERR_PARSE, "scep: %zu bytes of junk after the"
		    " pkiMessage", (size_t)(der + len - p));
	if (!PKCS7_type_is_signed(req->p7) || req->p7->d.sign == NULL ||
	    (si = scep_signer_info(req->p7)) == NULL)
		return err_set(e, ERR_PARSE, "scep: the pkiMessage is not a"
		    " signed message");
	if (read_attrs(c, si, req, e) == -1)
		return -1;
	ias = si->issuer_and_serial;
	req->signer = X509_find_by_issuer_and_serial(req->p7->d.sign->cert,
	    ias->issuer, ias->serial);
	/* Its key is read by scep_req_verify(), which bounds it first. */
	if (req->signer != NULL)
		X509_up_ref(req->signer);	/* owned by req from here */
	return 0;
}

/* Digests a signer may use; MD5 only for legacy clients. */
static const EVP_MD *
allowed_digest(const ASN1_OBJECT *alg, int allow_legacy)
{
	switch (OBJ_obj2nid(alg)) {
	case NID_sha1:		return EVP_sha1();
	case NID_sha224:	return EVP_sha224();
	case NID_sha256:	return EVP_sha256();
	case NID_sha384:	return EVP_sha384();
	case NID_sha512:	return EVP_sha512();
	case NID_md5:		return allow_legacy ? EVP_md5() : NULL;
	default:		return NULL;
	}
}

/* The signature algorithm must fit the digest and the signer's key. */
static int
sig_alg_ok(const X509_ALGOR *alg, const EVP_MD *md)
{
	int	nid = OBJ_obj2nid(alg->algorithm), md_nid, pk_nid;

	if (nid == NID_rsaEncryption)		/* legacy clients, RFC 8894 */
		return 1;
	if (!OBJ_find_sigid_algs(nid, &md_nid, &pk_nid))
		return 0;
	return md_nid == EVP_MD_get_type(md) &&
	    (pk_nid == NID_rsaEncryption || pk_nid == NID_X9_62_id_ecPublicKey);
}

/* The eContent of the SignedData (the pkiEnvelope), or NULL. */
const ASN1_OCTET_STRING *
scep_content(PKCS7 *p7)
{
	PKCS7	*inner = p7->d.sign->contents;

	if (inner == NULL || !PKCS7_type_is_data(inner))
		return NULL;
	return inner->d.data;
}

/* messageDigest must equal the digest of the content. */
static int
check_message_digest(const struct scep_req *req, PKCS7_SIGNER_INFO *si,
    const EVP_MD *md, struct err *e)
{
	const ASN1_OCTET_STRING	*content = scep_content(req->p7);
	ASN1_TYPE		*t;
	unsigned char		 d[EVP_MAX_MD_SIZE];
	unsigned int		 dlen;
	int			 dup = 0;

	t = attr_value(si->auth_attr, OBJ_nid2obj(NID_pkcs9_messageDigest), &dup);
	if (t == NULL || dup || t->type != V_ASN1_OCTET_STRING)
		return err_set(e, ERR_BAD_SIGNATURE, "scep: messageDigest"
		    " missing or malformed");
	if (content == NULL)
		return err_set(e, ERR_BAD_SIGNATURE, "scep: the message has no"
		    " content");
	if (!EVP_Digest(content->data, (size_t)content->length, d, &dlen, md,
	    NULL))
		return err_set_ossl(e, ERR_INTERNAL, "scep: digest failed");
	if ((unsigned)t->value.octet_string->length != dlen ||
	    memcmp(t->value.octet_string->data, d, dlen) != 0)
		return err_set(e, ERR_BAD_SIGNATURE, "scep: messageDigest does"
		    " not match the content");
	return 0;
}

/*
 * The DER DigestInfo (RFC 8017 §9.2) of tbs with md whose AlgorithmIdentifier
 * has no parameters, into *der (OPENSSL_free).  Its length, or -1.
 */
static int
digestinfo_no_null(const EVP_MD *md, const unsigned char *tbs, size_t tbs_len,
    unsigned char **der)
{
	X509_SIG		*di = NULL;
	X509_ALGOR		*alg;
	ASN1_OCTET_STRING	*dig;
	unsigned char		 d[EVP_MAX_MD_SIZE];
	unsigned int		 dlen;
	int			 len = -1;

	if ((di = X509_SIG_new()) == NULL)
		return -1;
	X509_SIG_getm(di, &alg, &dig);
	if (X509_ALGOR_set0(alg, OBJ_nid2obj(EVP_MD_get_type(md)), V_ASN1_UNDEF,
	    NULL) && EVP_Digest(tbs, tbs_len, d, &dlen, md, NULL) &&
	    ASN1_OCTET_STRING_set(dig, d, (int)dlen))
		len = i2d_X509_SIG(di, der);
	X509_SIG_free(di);
	return len > 0 ? len : -1;
}

/*
 * RSA signatures whose DigestInfo omits the NULL parameters (old Java
 * clients do) fail OpenSSL's byte-wise comparison: recover the DigestInfo
 * and compare it with that other DER encoding, byte for byte (RFC 8017
 * §8.2.2 compares encodings; parsing what was recovered would accept BER
 * variants too).  Returns 1 when it matches.
 */
static int
rsa_digestinfo_matches(EVP_PKEY *key, const EVP_MD *md,
    const ASN1_OCTET_STRING *sig, const unsigned char *tbs, size_t tbs_len)
{
	EVP_PKEY_CTX	*pctx = NULL;
	unsigned char	*rec = NULL, *want = NULL;
	size_t		 rlen = 0;
	int		 wlen, ok = 0;

	if (!EVP_PKEY_is_a(key, "RSA") ||
	    (wlen = digestinfo_no_null(md, tbs, tbs_len, &want)) == -1 ||
	    (pctx = EVP_PKEY_CTX_new(key, NULL)) == NULL ||
	    EVP_PKEY_verify_recover_init(pctx) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)
		goto out;
	/*
	 * The buffer is sized by the provider from the key (the modulus
	 * size): what a signature recovers to is the signer's choice, up to
	 * that size.
	 */
	if (EVP_PKEY_verify_recover(pctx, NULL, &rlen, sig->data,
	    (size_t)sig->length) != 1 || rlen == 0 ||
	    (rec = OPENSSL_malloc(rlen)) == NULL ||
	    EVP_PKEY_verify_recover(pctx, rec, &rlen, sig->data,
	    (size_t)sig->length) != 1)
		goto out;
	ok = rlen == (size_t)wlen && memcmp(rec, want, rlen) == 0;
out:
	OPENSSL_free(rec);
	OPENSSL_free(want);
	EVP_PKEY_CTX_free(pctx);
	ERR_clear_error();
	return ok;
}

/*
 * Verifies the signature over the signed attributes.  They are encoded
 * in the order received (PKCS7_ATTR_VERIFY keeps it): some clients sign
 * an unsorted SET and the signature covers the bytes they sent.
 */
static int
check_signature(const struct scep_req *req, PKCS7_SIGNER_INFO *si,
    const EVP_MD *md, struct err *e)
{
	EVP_MD_CTX	*ctx = NULL;
	unsigned char	*abuf = NULL;
	EVP_PKEY	*key = req->signer_key;
	int		 alen, rc = -1;

	alen = ASN1_item_i2d((ASN1_VALUE *)si->auth_attr, &abuf,
	    ASN1_ITEM_rptr(PKCS7_ATTR_VERIFY));
	if (alen <= 0 || key == NULL) {
		err_set_ossl(e, ERR_BAD_SIGNATURE, "scep: cannot read the"
		    " signer's key or attributes");
		goto out;
	}
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestVerifyInit(ctx, NULL, md, NULL, key) != 1)
		goto bad;
	if (EVP_DigestVerify(ctx, si->enc_digest->data,
	    (size_t)si->enc_digest->length, abuf, (size_t)alen) != 1 &&
	    !rsa_digestinfo_matches(key, md, si->enc_digest, abuf, (size_t)alen))
		goto bad;
	ERR_clear_error();
	rc = 0;
	goto out;
bad:
	err_set_ossl(e, ERR_BAD_SIGNATURE, "scep: the signature does not"
	    " verify");
out:
	OPENSSL_free(abuf);
	EVP_MD_CTX_free(ctx);
	return rc;
}

int
scep_req_verify(const struct scep_codec *c, struct scep_req *req,
    int allow_legacy, int max_rsa_bits, struct err *e)
{
	PKCS7_SIGNER_INFO	*si = scep_signer_info(req->p7);
	const EVP_MD		*md;

	(void)c;
	if (req->signer == NULL)
		return err_set(e, ERR_BAD_SIGNATURE, "scep: the signer's"
		    " certificate is not in the message");
	/* The sender chose this key: bounded before any use of it. */
	if (req->signer_key == NULL && (req->signer_key = pki_pubkey_decode(
	    X509_get_X509_PUBKEY(req->signer), e)) == NULL) {
		if (e != NULL && e->code == ERR_PARSE)
			e->code = ERR_BAD_SIGNATURE;	/* as before: unreadable */
		return -1;
	}
	if (scep_key_check(req->signer_key, "the signer's", max_rsa_bits,
	    e) == -1)
		return -1;
	if ((md = allowed_digest(si->digest_alg->algorithm, allow_legacy)) == NULL)
		return err_set(e, ERR_BAD_ALG, "scep: digest %s refused%s",
		    OBJ_nid2sn(OBJ_obj2nid(si->digest_alg->algorithm)),
		    allow_legacy ? "" : " (legacy algorithms are off)");
	if (!sig_alg_ok(si->digest_enc_alg, md))
		return err_set(e, ERR_BAD_ALG, "scep: signature algorithm %s"
		    " refused", OBJ_nid2sn(OBJ_obj2nid(si->digest_enc_alg->algorithm)));
	if (check_message_digest(req, si, md, e) == -1 ||
	    check_signature(req, si, md, e) == -1)
		return -1;
	req->md = md;
	return 0;
}

/* Content ciphers clients may use; single DES only for legacy clients. */
static int
cipher_allowed(int nid, int allow_legacy)
{
	switch (nid) {
	case NID_aes_128_cbc:
	case NID_aes_192_cbc:
	case NID_aes_256_cbc:
	case NID_des_ede3_cbc:
		return 1;
	case NID_des_cbc:
		return allow_legacy;
	default:
		return 0;
	}
}

int
scep_cipher_usable(int nid)
{
	EVP_CIPHER	*c;

	if (!cipher_allowed(nid, 1))
		return 0;
	if ((c = EVP_CIPHER_fetch(NULL, OBJ_nid2sn(nid), NULL)) == NULL) {
		ERR_clear_error();
		return 0;
	}
	EVP_CIPHER_free(c);
	return 1;
}

/* Reads the IV from the AlgorithmIdentifier (zero IV if absent: legacy). */
static int
read_iv(const X509_ALGOR *alg, unsigned char *iv, int ivlen,
    int allow_legacy, struct err *e)
{
	int	n;

	memset(iv, 0, (size_t)ivlen);
	if (alg->parameter == NULL || alg->parameter->type == V_ASN1_NULL) {
		/* A Java client sent DES-CBC without IV: zero IV decrypts it. */
		if (allow_legacy)
			return 0;
		return err_set(e, ERR_BAD_ALG, "scep: the envelope has no IV");
	}
	n = ASN1_TYPE_get_octetstring(alg->parameter, iv, ivlen);
	if (n != ivlen)
		return err_set(e, ERR_PARSE, "scep: bad IV in the envelope");
	return 0;
}

/* Decrypts the envelope's content with key and cipher into out. */
static int
decrypt_content(const EVP_CIPHER *cipher, const unsigned char *key,
    const unsigned char *iv, const ASN1_OCTET_STRING *in, struct buf *out,
    struct err *e)
{
	EVP_CIPHER_CTX	*ctx = NULL;
	int		 n1 = 0, n2 = 0, rc = -1;

	if (in == NULL || in->length <= 0)
		return err_set(e, ERR_PARSE, "scep: the envelope is empty");
	if (buf_reserve(out, (size_t)in->length + 32) == -1 ||
	    (ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_DecryptInit_ex2(ctx, cipher, key, iv, NULL) != 1) {
		err_set_ossl(e, ERR_INTERNAL, "scep: cannot set up decryption");
		goto out;
	}
	if (EVP_DecryptUpdate(ctx, out->data, &n1, in->data, in->length) != 1 ||
	    EVP_DecryptFinal_ex(ctx, out->data + n1, &n2) != 1) {
		ERR_clear_error();
		err_set(e, ERR_BAD_SIGNATURE, "scep: the envelope does not"
		    " decrypt");
		goto out;
	}
	out->len = (size_t)(n1 + n2);
	rc = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

/* Unwraps the content key from the recipientInfo that names us. */
static int
unwrap_for_us(PKCS7_ENVELOPE *env, struct ca *ca, size_t keylen,
    struct buf *key, struct err *e)
{
	PKCS7_RECIP_INFO	*ri;
	int			 i;

	for (i = 0; i < sk_PKCS7_RECIP_INFO_num(env->recipientinfo); i++) {
		ri = sk_PKCS7_RECIP_INFO_value(env->recipientinfo, i);
		if (ca_unwrap_key(ca, ri->issuer_and_serial->issuer,
		    ri->issuer_and_serial->serial, ri->key_enc_algor,
		    ri->enc_key->data, (size_t)ri->enc_key->length, keylen,
		    key, e) == 0)
			return 0;
		if (e != NULL && e->code != ERR_BAD_RECIPIENT)
			return -1;
	}
	return err_set(e, ERR_BAD_RECIPIENT, "scep: the message is not"
	    " encrypted to this CA's RA certificate");
}

/* Decrypts the pkiEnvelope into req->content. */
static int
open_envelope(struct scep_req *req, struct ca *ca, int allow_legacy,
    struct err *e)
{
	const ASN1_OCTET_STRING	*content = scep_content(req->p7);
	const unsigned char	*p;
	PKCS7			*env = NULL;
	PKCS7_ENC_CONTENT	*ec;
	EVP_CIPHER		*cipher = NULL;
	struct buf		 key = {0};
	unsigned char		 iv[EVP_MAX_IV_LENGTH];
	int			 rc = -1;

	if (content == NULL || (p = content->data,
	    (env = (PKCS7 *)scep_parse_only(req->codec, ASN1_ITEM_rptr(PKCS7),
	    &p, content->length)) == NULL) ||
	    !PKCS7_type_is_enveloped(env)) {
		err_set_ossl(e, ERR_PARSE, "scep: the pkiEnvelope is not an"
		    " EnvelopedData");
		goto out;
	}
	ec = env->d.enveloped->enc_data;
	req->cipher_nid = OBJ_obj2nid(ec->algorithm->algorithm);
	if (!cipher_allowed(req->cipher_nid, allow_legacy) ||
	    (cipher = EVP_CIPHER_fetch(NULL, OBJ_nid2sn(req->cipher_nid),
	    NULL)) == NULL) {
		ERR_clear_error();
		err_set(e, ERR_BAD_ALG, "scep: content encryption %s refused",
		    OBJ_nid2sn(req->cipher_nid));
		goto out;
	}
	if (read_iv(ec->algorithm, iv, EVP_CIPHER_get_iv_length(cipher),
	    allow_legacy, e) == -1 ||
	    unwrap_for_us(env->d.enveloped, ca,
	    (size_t)EVP_CIPHER_get_key_length(cipher), &key, e) == -1 ||
	    decrypt_content(cipher, key.data, iv, ec->enc_data, &req->content,
	    e) == -1)
		goto out;
	rc = 0;
out:
	buf_wipe(&key);
	EVP_CIPHER_free(cipher);
	PKCS7_free(env);
	return rc;
}

/* Parses the decrypted content for the message type. */
static int
parse_content(struct scep_req *req, int max_rsa_bits, struct err *e)
{
	const unsigned char		*p = req->content.data;
	long				 n = (long)req->content.len;
	SCEP_ISSUER_AND_SUBJECT		*ias = NULL;
	PKCS7_ISSUER_AND_SERIAL		*isn = NULL;

	switch (req->type) {
	case SCEP_MSG_PKCSREQ:
	case SCEP_MSG_RENEWALREQ:
		/* Bounded before anything (policy_check_csr) verifies it. */
		if (scep_csr_parse(req->codec, p, (size_t)n, &req->csr,
		    &req->csr_key, e) == -1 ||
		    scep_key_check(req->csr_key, "the CSR's", max_rsa_bits,
		    e) == -1)
			return -1;
		return 0;
	case SCEP_MSG_CERTPOLL:
		ias = (SCEP_ISSUER_AND_SUBJECT *)ASN1_item_d2i(NULL, &p, n,
		    ASN1_ITEM_rptr(SCEP_ISSUER_AND_SUBJECT));
		if (ias == NULL)
			return err_set_ossl(e, ERR_PARSE, "scep: the envelope"
			    " does not hold an IssuerAndSubject");
		req->issuer = ias->issuer;	/* moved into req */
		req->subject = ias->subject;
		ias->issuer = ias->subject = NULL;
		ASN1_item_free((ASN1_VALUE *)ias,
		    ASN1_ITEM_rptr(SCEP_ISSUER_AND_SUBJECT));
		break;
	case SCEP_MSG_GETCERT:
	case SCEP_MSG_GETCRL:
		if ((isn = d2i_PKCS7_ISSUER_AND_SERIAL(NULL, &p, n)) == NULL)
			return err_set_ossl(e, ERR_PARSE, "scep: the envelope"
			    " does not hold an IssuerAndSerialNumber");
		req->issuer = isn->issuer;	/* moved into req */
		req->serial = isn->serial;
		isn->issuer = NULL;
		isn->serial = NULL;
		PKCS7_ISSUER_AND_SERIAL_free(isn);
		break;
	default:
		return err_set(e, ERR_UNSUPPORTED, "scep: message type %d is"
		    " not a request", req->type);
	}
	if (p != req->content.data + req->content.len)
		return err_set(e, ERR_PARSE, "scep: junk after the envelope's"
		    " content");
	return 0;
}

int
scep_csr_parse(const struct scep_codec *c, const unsigned char *der,
    size_t len, X509_REQ **csr, EVP_PKEY **key, struct err *e)
{
	const unsigned char	*p = der;

	*key = NULL;
	*csr = (X509_REQ *)scep_parse_only(c, ASN1_ITEM_rptr(X509_REQ), &p,
	    (long)len);
	if (*csr == NULL)
		return err_set_ossl(e, ERR_PARSE, "scep: the envelope does not"
		    " hold a PKCS#10 request");
	if (p != der + len)
		return err_set(e, ERR_PARSE, "scep: junk after the PKCS#10"
		    " request");
	if ((*key = pki_pubkey_decode(X509_REQ_get_X509_PUBKEY(*csr), e)) == NULL)
		return -1;
	return 0;
}

int
scep_req_open(struct scep_req *req, struct ca *ca, int allow_legacy,
    int max_rsa_bits, struct err *e)
{
	switch (req->type) {
	case SCEP_MSG_PKCSREQ:
	case SCEP_MSG_RENEWALREQ:
	case SCEP_MSG_CERTPOLL:
	case SCEP_MSG_GETCERT:
	case SCEP_MSG_GETCRL:
		break;
	default:
		return err_set(e, ERR_UNSUPPORTED, "scep: message type %d is"
		    " not a request", req->type);
	}
	if (open_envelope(req, ca, allow_legacy, e) == -1)
		return -1;
	return parse_content(req, max_rsa_bits, e);
}
