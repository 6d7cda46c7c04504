/*
 * scepreply_lib.c - what a SCEP client reads: GetCACert answers
 * (RFC 8894 §4.2.1) and CertRep pkiMessages (§3.3.2), checked strictly,
 * since the point of this client is to catch a server's mistakes.
 */
#include <stdlib.h>
#include <pthread.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/provider.h>
#include <openssl/x509v3.h>

#include "base/encode.h"
#include "scepmsg_lib.h"

/* Takes the certificates out of a degenerate certs-only PKCS#7. */
static STACK_OF(X509) *
p7_certs_take(PKCS7 *p7)
{
	STACK_OF(X509)	*certs;

	if (!PKCS7_type_is_signed(p7) || p7->d.sign == NULL)
		return NULL;
	certs = p7->d.sign->cert;
	p7->d.sign->cert = NULL;	/* ownership moves to the caller */
	return certs;
}

STACK_OF(X509) *
scepmsg_cacert_parse(const char *content_type, const unsigned char *body,
    size_t len, struct err *e)
{
	STACK_OF(X509)		*certs = NULL;
	X509			*one = NULL;
	PKCS7			*p7 = NULL;
	const unsigned char	*p = body;
	int			 single;

	single = content_type == NULL ||
	    strncmp(content_type, "application/x-x509-ca-cert", 26) == 0;
	if (single && (one = d2i_X509(NULL, &p, (long)len)) != NULL) {
		if ((certs = sk_X509_new_null()) == NULL ||
		    !sk_X509_push(certs, one)) {
			X509_free(one);
			sk_X509_free(certs);
			certs = NULL;
		}
		goto out;
	}
	ERR_clear_error();	/* not one certificate: try the PKCS#7 */
	p = body;
	if ((p7 = d2i_PKCS7(NULL, &p, (long)len)) != NULL)
		certs = p7_certs_take(p7);
out:
	if (certs == NULL || sk_X509_num(certs) == 0) {
		err_set_ossl(e, ERR_PARSE, "GetCACert answer (%s) holds no "
		    "certificate", content_type ? content_type : "no type");
		sk_X509_pop_free(certs, X509_free);
		certs = NULL;
	}
	PKCS7_free(p7);
	return certs;
}

/* Returns 1 when cert's key usage explicitly allows keyEncipherment. */
static int
has_key_encipherment(X509 *cert)
{
	return (X509_get_extension_flags(cert) & EXFLAG_KUSAGE) &&
	    (X509_get_key_usage(cert) & KU_KEY_ENCIPHERMENT);
}

X509 *
scepmsg_cacert_recipient(STACK_OF(X509) *certs)
{
	X509	*c;
	int	 i;

	/* RFC 8894 §2.1.2: an RA is the one with keyEncipherment. */
	for (i = 0; i < sk_X509_num(certs); i++) {
		c = sk_X509_value(certs, i);
		if (has_key_encipherment(c) && !X509_check_ca(c))
			return c;
	}
	for (i = 0; i < sk_X509_num(certs); i++)
		if (has_key_encipherment(sk_X509_value(certs, i)))
			return sk_X509_value(certs, i);
	return scepmsg_cacert_ca(certs);
}

X509 *
scepmsg_cacert_ca(STACK_OF(X509) *certs)
{
	X509	*c, *ra = NULL;
	int	 i;

	/* The CA that issues: a CA certificate that issued the RA if any. */
	for (i = 0; i < sk_X509_num(certs); i++) {
		c = sk_X509_value(certs, i);
		if (!X509_check_ca(c))
			ra = c;
	}
	for (i = 0; i < sk_X509_num(certs); i++) {
		c = sk_X509_value(certs, i);
		if (X509_check_ca(c) && (ra == NULL ||
		    X509_check_issued(c, ra) == X509_V_OK))
			return c;
	}
	return sk_X509_value(certs, 0);
}

const char *
scepmsg_status_name(int status)
{
	switch (status) {
	case SCEP_STATUS_SUCCESS:	return "SUCCESS";
	case SCEP_STATUS_FAILURE:	return "FAILURE";
	case SCEP_STATUS_PENDING:	return "PENDING";
	default:			return "UNKNOWN";
	}
}

void
scepmsg_rep_free(struct scepmsg_rep *r)
{
	if (r == NULL)
		return;
	X509_free(r->signer);
	buf_free(&r->envelope);
	free(r);
}

/*
 * CertReps are parsed in a library context holding only OpenSSL's null
 * provider: the certificates they carry are then not run through OpenSSL
 * 3.0's generic key decoder (~80 µs each), which would make this client,
 * not the server it measures, the bottleneck of enroll_bench.  The
 * signature is checked with the GetCACert certificates' keys, decoded once.
 */
static pthread_once_t	 parse_once = PTHREAD_ONCE_INIT;
static OSSL_LIB_CTX	*parse_ctx;

static void
parse_ctx_init(void)
{
	if ((parse_ctx = OSSL_LIB_CTX_new()) != NULL &&
	    OSSL_PROVIDER_load(parse_ctx, "null") == NULL) {
		OSSL_LIB_CTX_free(parse_ctx);
		parse_ctx = NULL;
	}
}

/* The GetCACert certificate named by the signerInfo, or NULL. */
static X509 *
rep_signer(PKCS7_SIGNER_INFO *si, STACK_OF(X509) *cacerts)
{
	PKCS7_ISSUER_AND_SERIAL	*ias = si->issuer_and_serial;
	X509			*x;
	int			 i;

	for (i = 0; i < sk_X509_num(cacerts); i++) {
		x = sk_X509_value(cacerts, i);
		if (X509_NAME_cmp(X509_get_issuer_name(x), ias->issuer) == 0 &&
		    ASN1_INTEGER_cmp(X509_get0_serialNumber(x), ias->serial) == 0)
			return x;
	}
	return NULL;
}

/*
 * Verifies the signature with the CA/RA certificates only (RFC 5652
 * §5.4, §5.6): messageDigest over the content, the signature over the
 * signed attributes as sent.  Saves the content into r->envelope.
 */
static int
rep_verify(PKCS7 *p7, STACK_OF(X509) *cacerts, struct scepmsg_rep *r,
    struct err *e)
{
	PKCS7_SIGNER_INFO	*si = sk_PKCS7_SIGNER_INFO_value(
				    PKCS7_get_signer_info(p7), 0);
	PKCS7			*inner = p7->d.sign->contents;
	const ASN1_OCTET_STRING	*content, *md_attr;
	const EVP_MD		*md;
	EVP_MD_CTX		*ctx = NULL;
	unsigned char		 d[EVP_MAX_MD_SIZE], *abuf = NULL;
	unsigned int		 dlen;
	X509			*signer;
	int			 alen, rc = -1;

	if ((signer = rep_signer(si, cacerts)) == NULL)
		return err_set(e, ERR_BAD_SIGNATURE, "CertRep is not signed by"
		    " a GetCACert certificate");
	if ((md = EVP_get_digestbyobj(si->digest_alg->algorithm)) == NULL)
		return err_set(e, ERR_BAD_ALG, "CertRep digest unknown");
	content = inner != NULL && PKCS7_type_is_data(inner) ?
	    inner->d.data : NULL;
	r->content_present = content != NULL;
	md_attr = PKCS7_digest_from_attributes(si->auth_attr);
	if (md_attr == NULL || !EVP_Digest(content ? content->data :
	    (const unsigned char *)"", content ? (size_t)content->length : 0,
	    d, &dlen, md, NULL) || (unsigned)md_attr->length != dlen ||
	    memcmp(md_attr->data, d, dlen) != 0)
		return err_set(e, ERR_BAD_SIGNATURE, "CertRep messageDigest"
		    " does not match its content");
	alen = ASN1_item_i2d((ASN1_VALUE *)si->auth_attr, &abuf,
	    ASN1_ITEM_rptr(PKCS7_ATTR_VERIFY));
	if (alen <= 0 || (ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestVerifyInit(ctx, NULL, md, NULL,
	    X509_get0_pubkey(signer)) != 1 ||
	    EVP_DigestVerify(ctx, si->enc_digest->data,
	    (size_t)si->enc_digest->length, abuf, (size_t)alen) != 1) {
		err_set_ossl(e, ERR_BAD_SIGNATURE, "CertRep signature does "
		    "not verify with the GetCACert certificates");
		goto out;
	}
	r->signer = signer;
	X509_up_ref(r->signer);		/* r owns one reference */
	if (content != NULL && buf_append(&r->envelope, content->data,
	    (size_t)content->length) == -1)
		goto out;
	rc = 0;
out:
	if (rc == -1 && e != NULL && e->code == ERR_OK)
		err_set_ossl(e, ERR_INTERNAL, "cannot verify the CertRep");
	OPENSSL_free(abuf);
	EVP_MD_CTX_free(ctx);
	return rc;
}

/* Reads a PrintableString attribute into out.  Returns 0, or -1. */
static int
attr_text(PKCS7_SIGNER_INFO *si, int nid, const char *what, char *out,
    size_t outlen, struct err *e)
{
	const ASN1_STRING	*s;
	int			 rc;

	rc = scepmsg_attr_get(si, nid, V_ASN1_PRINTABLESTRING, &s);
	if (rc == 0)
		return err_set(e, ERR_PARSE, "CertRep has no %s", what);
	if (rc < 0)
		return err_set(e, ERR_PARSE, "CertRep %s is not a "
		    "PrintableString", what);
	if ((size_t)ASN1_STRING_length(s) >= outlen)
		return err_set(e, ERR_PARSE, "CertRep %s too long", what);
	memcpy(out, ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s));
	out[ASN1_STRING_length(s)] = '\0';
	return 0;
}

/*
 * Reads a nonce attribute into out (up to SCEPMSG_NONCE_LEN bytes).
 * Returns its length, or -1.
 */
static int
attr_nonce(PKCS7_SIGNER_INFO *si, int nid, const char *what,
    unsigned char out[SCEPMSG_NONCE_LEN], struct err *e)
{
	const ASN1_STRING	*s;
	int			 rc;

	rc = scepmsg_attr_get(si, nid, V_ASN1_OCTET_STRING, &s);
	if (rc == 0)
		return err_set(e, ERR_PARSE, "CertRep has no %s", what);
	if (rc < 0)
		return err_set(e, ERR_PARSE, "CertRep %s is not an OCTET "
		    "STRING", what);
	if (ASN1_STRING_length(s) < 1 ||
	    ASN1_STRING_length(s) > SCEPMSG_NONCE_LEN)
		return err_set(e, ERR_PARSE, "CertRep %s has %d bytes", what,
		    ASN1_STRING_length(s));
	memcpy(out, ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s));
	return ASN1_STRING_length(s);
}

/* Checks our senderNonce came back as recipientNonce, theirs is fresh. */
static int
rep_nonces(PKCS7_SIGNER_INFO *si, const struct scepmsg_req *req, int flags,
    struct scepmsg_rep *r, struct err *e)
{
	const struct scepmsg_nids	*n = scepmsg_nids();
	unsigned char			 rnonce[SCEPMSG_NONCE_LEN];
	int				 slen, rlen;

	if ((slen = attr_nonce(si, n->sender_nonce, "senderNonce",
	    r->sender_nonce, e)) == -1)
		return -1;
	/* No senderNonce in the request: nothing the reply could echo. */
	if (req != NULL && req->nonce_len == 0 &&
	    PKCS7_get_signed_attribute(si, n->recipient_nonce) == NULL)
		return 0;
	if ((rlen = attr_nonce(si, n->recipient_nonce, "recipientNonce",
	    rnonce, e)) == -1)
		return -1;
	if (req != NULL && ((size_t)rlen != req->nonce_len ||
	    memcmp(rnonce, req->nonce, req->nonce_len) != 0))
		return err_set(e, ERR_PARSE, "recipientNonce is not our "
		    "senderNonce");
	/* §3.2.1.5: the responder's senderNonce is its own, fresh one. */
	r->nonce_echoed = req != NULL && (size_t)slen == req->nonce_len &&
	    memcmp(r->sender_nonce, req->nonce, req->nonce_len) == 0;
	if (r->nonce_echoed)
		return (flags & SCEPMSG_REP_ALLOW_ECHOED_NONCE) ? 0 :
		    err_set(e, ERR_PARSE, "senderNonce merely echoes ours");
	if (slen != SCEPMSG_NONCE_LEN)
		return err_set(e, ERR_PARSE, "CertRep senderNonce has %d "
		    "bytes, not 16 (RFC 8894 §3.2.1.5)", slen);
	return 0;
}

/* Parses a decimal attribute value among the allowed ones, or -1. */
static int
small_number(const char *s)
{
	char	*end;
	long	 v;

	if (*s < '0' || *s > '9')
		return -1;
	v = strtol(s, &end, 10);
	return *end == '\0' && v <= 99 ? (int)v : -1;
}

/* Reads pkiStatus, failInfo and failInfoText, §3.2.1.3, §3.2.1.4. */
static int
rep_status(PKCS7_SIGNER_INFO *si, struct scepmsg_rep *r, struct err *e)
{
	const struct scepmsg_nids	*n = scepmsg_nids();
	const ASN1_STRING		*s;
	char				 text[16];

	if (attr_text(si, n->pki_status, "pkiStatus", text, sizeof(text), e))
		return -1;
	r->status = small_number(text);
	if (r->status != SCEP_STATUS_SUCCESS && r->status != SCEP_STATUS_FAILURE &&
	    r->status != SCEP_STATUS_PENDING)
		return err_set(e, ERR_PARSE, "CertRep pkiStatus '%s' unknown",
		    text);
	r->fail_info = SCEP_FAIL_NONE;
	if (scepmsg_attr_get(si, n->fail_info_text, V_ASN1_UTF8STRING, &s) == 1)
		snprintf(r->fail_text, sizeof(r->fail_text), "%.*s",
		    ASN1_STRING_length(s), ASN1_STRING_get0_data(s));
	if (r->status != SCEP_STATUS_FAILURE)
		return 0;
	if (attr_text(si, n->fail_info, "failInfo", text, sizeof(text), e))
		return -1;
	r->fail_info = small_number(text);
	if (r->fail_info < SCEP_FAIL_BAD_ALG || r->fail_info > SCEP_FAIL_BAD_CERT_ID)
		return err_set(e, ERR_PARSE, "CertRep failInfo '%s' unknown",
		    text);
	return 0;
}

/* Checks messageType, transactionID and the nonces, §3.2.1. */
static int
rep_ids(PKCS7_SIGNER_INFO *si, const struct scepmsg_req *req, int flags,
    struct scepmsg_rep *r, struct err *e)
{
	const struct scepmsg_nids	*n = scepmsg_nids();
	char				 type[16];

	if (attr_text(si, n->message_type, "messageType", type, sizeof(type), e))
		return -1;
	if (small_number(type) != SCEP_MT_CERTREP)
		return err_set(e, ERR_PARSE, "messageType '%s', not CertRep (3)",
		    type);
	if (attr_text(si, n->transaction_id, "transactionID", r->txid,
	    sizeof(r->txid), e) == -1)
		return -1;
	if (req != NULL && strcmp(r->txid, req->txid) != 0)
		return err_set(e, ERR_PARSE, "transactionID '%s' is not ours "
		    "('%s')", r->txid, req->txid);
	return rep_nonces(si, req, flags, r, e);
}

/* Notes the algorithms of the SignerInfo and of the envelope. */
static int
rep_algorithms(PKCS7_SIGNER_INFO *si, struct scepmsg_rep *r, struct err *e)
{
	const unsigned char	*p = r->envelope.data;
	PKCS7			*env = NULL;
	int			 rc = -1;

	snprintf(r->digest, sizeof(r->digest), "%s",
	    OBJ_nid2ln(OBJ_obj2nid(si->digest_alg->algorithm)));
	snprintf(r->sigalg, sizeof(r->sigalg), "%s",
	    OBJ_nid2ln(OBJ_obj2nid(si->digest_enc_alg->algorithm)));
	if (r->envelope.len == 0) {
		if (r->status == SCEP_STATUS_SUCCESS)
			return err_set(e, ERR_PARSE, "SUCCESS without content");
		return 0;
	}
	env = d2i_PKCS7(NULL, &p, (long)r->envelope.len);
	if (env == NULL || !PKCS7_type_is_enveloped(env)) {
		err_set_ossl(e, ERR_PARSE, "CertRep content is not an "
		    "envelopedData");
		goto out;
	}
	snprintf(r->cipher, sizeof(r->cipher), "%s", OBJ_nid2ln(OBJ_obj2nid(
	    env->d.enveloped->enc_data->algorithm->algorithm)));
	rc = 0;
out:
	PKCS7_free(env);
	return rc;
}

struct scepmsg_rep *
scepmsg_rep_parse(const unsigned char *der, size_t len,
    STACK_OF(X509) *cacerts, const struct scepmsg_req *req, int flags,
    struct err *e)
{
	struct scepmsg_rep	*r = NULL, *ret = NULL;
	PKCS7			*p7 = NULL;
	PKCS7_SIGNER_INFO	*si;
	const unsigned char	*p = der;

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	pthread_once(&parse_once, parse_ctx_init);
	if (parse_ctx == NULL ||
	    (p7 = (PKCS7 *)ASN1_item_d2i_ex(NULL, &p, (long)len,
	    ASN1_ITEM_rptr(PKCS7), parse_ctx, NULL)) == NULL ||
	    !PKCS7_type_is_signed(p7) || p7->d.sign == NULL) {
		err_set_ossl(e, ERR_PARSE, "CertRep is not a PKCS#7 signedData");
		goto out;
	}
	if (p != der + len) {
		err_set(e, ERR_PARSE, "%zu bytes after the CertRep",
		    (size_t)(der + len - p));
		goto out;
	}
	if (sk_PKCS7_SIGNER_INFO_num(PKCS7_get_signer_info(p7)) != 1) {
		err_set(e, ERR_PARSE, "CertRep has not exactly one signer");
		goto out;
	}
	si = sk_PKCS7_SIGNER_INFO_value(PKCS7_get_signer_info(p7), 0);
	if (rep_verify(p7, cacerts, r, e) == -1 || rep_ids(si, req, flags, r, e) == -1 ||
	    rep_status(si, r, e) == -1 || rep_algorithms(si, r, e) == -1)
		goto out;
	ret = r;
	r = NULL;
out:
	PKCS7_free(p7);
	scepmsg_rep_free(r);
	return ret;
}

/* A library context with the legacy provider, for DES only. */
struct scepmsg_legacy {
	OSSL_LIB_CTX	*ctx;
	OSSL_PROVIDER	*deflt;
	OSSL_PROVIDER	*legacy;
};

struct scepmsg_legacy *
scepmsg_legacy_new(struct err *e)
{
	struct scepmsg_legacy	*l;

	if ((l = calloc(1, sizeof(*l))) == NULL) {
		err_set(e, ERR_NOMEM, "out of memory");
		return NULL;
	}
	if ((l->ctx = OSSL_LIB_CTX_new()) == NULL ||
	    (l->deflt = OSSL_PROVIDER_load(l->ctx, "default")) == NULL ||
	    (l->legacy = OSSL_PROVIDER_load(l->ctx, "legacy")) == NULL) {
		err_set_ossl(e, ERR_CONFIG, "cannot load the legacy provider");
		scepmsg_legacy_free(l);
		return NULL;
	}
	return l;
}

OSSL_LIB_CTX *
scepmsg_legacy_ctx(struct scepmsg_legacy *l)
{
	return l ? l->ctx : NULL;
}

void
scepmsg_legacy_free(struct scepmsg_legacy *l)
{
	if (l == NULL)
		return;
	OSSL_PROVIDER_unload(l->legacy);
	OSSL_PROVIDER_unload(l->deflt);
	OSSL_LIB_CTX_free(l->ctx);
	free(l);
}

/* Decrypts the envelope into out.  Returns 0 or -1. */
static int
rep_decrypt(const struct scepmsg_rep *r, EVP_PKEY *key, X509 *cert,
    OSSL_LIB_CTX *libctx, BIO *out, struct err *e)
{
	const unsigned char	*p = r->envelope.data;
	PKCS7			*env = NULL;
	int			 rc = -1;

	/* The object carries libctx, from which the cipher is fetched. */
	if ((env = PKCS7_new_ex(libctx, NULL)) == NULL)
		goto fail;
	if (d2i_PKCS7(&env, &p, (long)r->envelope.len) == NULL) {
		env = NULL;	/* d2i freed it */
		goto fail;
	}
	if (PKCS7_decrypt(env, key, cert, out, PKCS7_BINARY) != 1) {
		err_set_ossl(e, ERR_BAD_RECIPIENT, "cannot decrypt the CertRep "
		    "envelope (%s)", r->cipher);
		goto out;
	}
	rc = 0;
	goto out;
fail:
	err_set_ossl(e, ERR_PARSE, "bad CertRep envelope");
out:
	PKCS7_free(env);
	return rc;
}

int
scepmsg_rep_open(const struct scepmsg_rep *r, EVP_PKEY *key, X509 *cert,
    OSSL_LIB_CTX *libctx, STACK_OF(X509) **certs, STACK_OF(X509_CRL) **crls,
    struct err *e)
{
	BIO			*out = NULL;
	BUF_MEM			*mem;
	PKCS7			*inner = NULL;
	const unsigned char	*p;
	int			 rc = -1;

	*certs = NULL;
	if (crls != NULL)
		*crls = NULL;
	if ((out = BIO_new(BIO_s_mem())) == NULL ||
	    rep_decrypt(r, key, cert, libctx, out, e) == -1)
		goto out;
	/* The degenerate certs-only signedData, RFC 8894 §3.3.2. */
	BIO_get_mem_ptr(out, &mem);
	p = (const unsigned char *)mem->data;
	if ((inner = d2i_PKCS7(NULL, &p, (long)mem->length)) == NULL ||
	    !PKCS7_type_is_signed(inner)) {
		err_set_ossl(e, ERR_PARSE, "decrypted CertRep content is not a "
		    "certs-only signedData");
		goto out;
	}
	*certs = p7_certs_take(inner);
	if (crls != NULL) {
		*crls = inner->d.sign->crl;
		inner->d.sign->crl = NULL;	/* now the caller's */
	}
	if (*certs == NULL && (crls == NULL || *crls == NULL)) {
		err_set(e, ERR_PARSE, "certs-only signedData is empty");
		goto out;
	}
	rc = 0;
out:
	PKCS7_free(inner);
	BIO_free(out);
	return rc;
}

X509 *
scepmsg_certs_find_key(STACK_OF(X509) *certs, const EVP_PKEY *pub)
{
	X509	*c;
	int	 i;

	for (i = 0; i < sk_X509_num(certs); i++) {
		c = sk_X509_value(certs, i);
		if (EVP_PKEY_eq(X509_get0_pubkey(c), pub) == 1)
			return c;
	}
	return NULL;
}

int
scepmsg_serial_hex(const X509 *cert, char *out, size_t outlen)
{
	BIGNUM	*bn;
	char	*hex;
	int	 rc = -1;

	if ((bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL)) == NULL)
		return -1;
	if ((hex = BN_bn2hex(bn)) != NULL &&
	    (size_t)snprintf(out, outlen, "%s%s", strlen(hex) % 2 ? "0" : "",
	    hex) < outlen)
		rc = 0;
	OPENSSL_free(hex);
	BN_free(bn);
	return rc;
}
