/*
 * scepmsg_lib.c - builds SCEP pkiMessages (RFC 8894 §3.2, §3.3): the
 * request content, its pkcsPKIEnvelope, the signedData around it with the
 * SCEP signed attributes, and the "hostile" variants for negative tests.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/rand.h>

#include "base/encode.h"
#include "scepmsg_lib.h"

static const struct {
	const char	*name;
	const char	*help;
} hostile_table[] = {
#define SCEPMSG_HOSTILE_ROW(name, text, help) { text, help },
	SCEPMSG_HOSTILE_KINDS(SCEPMSG_HOSTILE_ROW)
#undef SCEPMSG_HOSTILE_ROW
};

int
scepmsg_hostile_parse(const char *name, enum scepmsg_hostile *out)
{
	int	i;

	for (i = 0; i < SCEPMSG_HOSTILE__COUNT; i++) {
		if (strcmp(hostile_table[i].name, name) == 0) {
			*out = (enum scepmsg_hostile)i;
			return 0;
		}
	}
	return -1;
}

const char *
scepmsg_hostile_name(enum scepmsg_hostile h)
{
	return (unsigned)h < SCEPMSG_HOSTILE__COUNT ? hostile_table[h].name : "?";
}

const char *
scepmsg_hostile_help(enum scepmsg_hostile h)
{
	return (unsigned)h < SCEPMSG_HOSTILE__COUNT ? hostile_table[h].help : "?";
}

/*
 * The NIDs are written once under pthread_once and only read afterwards,
 * so they are safe to share between threads.
 */
static struct scepmsg_nids	nids;
static pthread_once_t		nids_once = PTHREAD_ONCE_INIT;

/* Returns the NID of an OID, registering it when OpenSSL lacks it. */
static int
nid_of(const char *oid, const char *sn, const char *ln)
{
	int	nid = OBJ_txt2nid(oid);

	if (nid == NID_undef)
		nid = OBJ_create(oid, sn, ln);
	return nid;
}

static void
nids_register(void)
{
	/* id-VeriSign pki attributes, RFC 8894 §3.2.1; failInfoText §3.2.1.4.5 */
	nids.message_type = nid_of("2.16.840.1.113733.1.9.2",
	    "scep-messageType", "SCEP messageType");
	nids.pki_status = nid_of("2.16.840.1.113733.1.9.3",
	    "scep-pkiStatus", "SCEP pkiStatus");
	nids.fail_info = nid_of("2.16.840.1.113733.1.9.4",
	    "scep-failInfo", "SCEP failInfo");
	nids.sender_nonce = nid_of("2.16.840.1.113733.1.9.5",
	    "scep-senderNonce", "SCEP senderNonce");
	nids.recipient_nonce = nid_of("2.16.840.1.113733.1.9.6",
	    "scep-recipientNonce", "SCEP recipientNonce");
	nids.transaction_id = nid_of("2.16.840.1.113733.1.9.7",
	    "scep-transactionID", "SCEP transactionID");
	nids.fail_info_text = nid_of("1.3.6.1.5.5.7.24.1",
	    "scep-failInfoText", "SCEP failInfoText");
}

const struct scepmsg_nids *
scepmsg_nids(void)
{
	pthread_once(&nids_once, nids_register);
	return &nids;
}

const EVP_CIPHER *
scepmsg_cipher_by_name(const char *name)
{
	static const struct {
		const char	*alias;
		const char	*ossl;
	} map[] = {
		{ "aes128", "aes-128-cbc" }, { "aes", "aes-128-cbc" },
		{ "aes192", "aes-192-cbc" }, { "aes256", "aes-256-cbc" },
		{ "3des", "des-ede3-cbc" }, { "des3", "des-ede3-cbc" },
	};
	size_t	i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(name, map[i].alias) == 0)
			name = map[i].ossl;
	if (strcmp(name, "aes-128-cbc") != 0 && strcmp(name, "aes-192-cbc") != 0 &&
	    strcmp(name, "aes-256-cbc") != 0 && strcmp(name, "des-ede3-cbc") != 0)
		return NULL;
	return EVP_get_cipherbyname(name);
}

const EVP_MD *
scepmsg_md_by_name(const char *name)
{
	static const char *const ok[] = {
		"sha1", "sha224", "sha256", "sha384", "sha512",
	};
	size_t	i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (strcmp(name, ok[i]) == 0)
			return EVP_get_digestbyname(name);
	return NULL;
}

int
scepmsg_key_txid(const X509_PUBKEY *pub, char out[41])
{
	const unsigned char	*pk;
	unsigned char		 md[EVP_MAX_MD_SIZE];
	unsigned int		 mdlen;
	int			 pklen;
	struct buf		 hex = {0};
	int			 rc = -1;

	if (!X509_PUBKEY_get0_param(NULL, &pk, &pklen, NULL, pub) ||
	    !EVP_Digest(pk, (size_t)pklen, md, &mdlen, EVP_sha1(), NULL) ||
	    hex_encode(&hex, md, mdlen, 1) == -1)
		goto out;
	memcpy(out, hex.data, 40);
	out[40] = '\0';
	rc = 0;
out:
	buf_free(&hex);
	return rc;
}

/* Appends a DER length. */
static int
der_len(struct buf *out, size_t n)
{
	unsigned char	l[5];

	if (n < 0x80) {
		l[0] = (unsigned char)n;
		return buf_append(out, l, 1);
	}
	if (n <= 0xffff) {
		l[0] = 0x82;
		l[1] = (unsigned char)(n >> 8);
		l[2] = (unsigned char)n;
		return buf_append(out, l, 3);
	}
	return -1;
}

/* Appends the DER of an encoder's output (i2d_... style). */
static int
der_item(struct buf *out, int n, unsigned char *der)
{
	int	rc = n > 0 ? buf_append(out, der, (size_t)n) : -1;

	OPENSSL_free(der);
	return rc;
}

/*
 * Makes the messageData of CertPoll (IssuerAndSubject, RFC 8894 §3.3.3)
 * or of GetCert/GetCRL (IssuerAndSerialNumber, §3.3.4, §3.3.5).
 */
static int
content_issuer_and(const struct scepmsg_spec *spec, struct buf *out,
    struct err *e)
{
	struct buf	 body = {0};
	unsigned char	*der = NULL;
	int		 n, rc = -1;

	if (spec->issuer == NULL ||
	    (spec->type == SCEP_MT_CERTPOLL ? spec->subject == NULL :
	    spec->serial == NULL)) {
		err_set(e, ERR_USAGE, "messageType %d needs an issuer and a %s",
		    spec->type, spec->type == SCEP_MT_CERTPOLL ? "subject" :
		    "serial");
		goto out;
	}
	n = i2d_X509_NAME(spec->issuer, &der);
	if (der_item(&body, n, der) == -1)
		goto fail;
	der = NULL;
	if (spec->type == SCEP_MT_CERTPOLL)
		n = i2d_X509_NAME(spec->subject, &der);
	else
		n = i2d_ASN1_INTEGER(spec->serial, &der);
	if (der_item(&body, n, der) == -1 || buf_append(out, "\x30", 1) == -1 ||
	    der_len(out, body.len) == -1 ||
	    buf_append(out, body.data, body.len) == -1)
		goto fail;
	rc = 0;
	goto out;
fail:
	err_set_ossl(e, ERR_INTERNAL, "cannot encode messageData");
out:
	buf_free(&body);
	return rc;
}

/* Appends n random bytes. */
static int
random_bytes(struct buf *out, size_t n)
{
	if (buf_reserve(out, n) == -1 ||
	    RAND_bytes(out->data + out->len, (int)n) != 1)
		return -1;
	out->len += n;
	return 0;
}

/* Makes the messageData to be enveloped, per messageType. */
static int
content_build(const struct scepmsg_spec *spec, struct buf *out, struct err *e)
{
	unsigned char	*der = NULL;
	int		 n;

	if (spec->hostile == SCEPMSG_HOSTILE_GARBAGE_CSR)
		return random_bytes(out, 200) == -1 ?
		    err_set(e, ERR_INTERNAL, "RAND_bytes failed") : 0;
	if (spec->csr == NULL)
		return content_issuer_and(spec, out, e);
	/* PKCSReq and RenewalReq carry the PKCS#10 request, §3.3.1. */
	n = i2d_X509_REQ(spec->csr, &der);
	if (der_item(out, n, der) == -1)
		return err_set_ossl(e, ERR_INTERNAL, "cannot encode the CSR");
	/* The signature BIT STRING ends the CSR: flip its last bit. */
	if (spec->hostile == SCEPMSG_HOSTILE_BAD_CSR_SIGNATURE)
		out->data[out->len - 1] ^= 0x01;
	return 0;
}

/* Makes a throw-away RSA certificate for the wrong-recipient knob. */
static X509 *
stranger_cert(EVP_PKEY **key, struct err *e)
{
	if ((*key = scepmsg_keygen("rsa:2048", e)) == NULL)
		return NULL;
	return scepmsg_selfsigned_new(*key, NULL, e);
}

/* Encrypts content to the recipient: the pkcsPKIEnvelope, §3.2.2. */
static int
envelope_build(const struct scepmsg_spec *spec, const struct buf *content,
    struct buf *out, struct err *e)
{
	STACK_OF(X509)	*recips = NULL;
	X509		*to = spec->recipient, *stranger = NULL;
	EVP_PKEY	*skey = NULL;
	BIO		*in = NULL;
	PKCS7		*p7 = NULL;
	unsigned char	*der = NULL;
	int		 n, rc = -1;

	if (spec->hostile == SCEPMSG_HOSTILE_WRONG_RECIPIENT &&
	    (to = stranger = stranger_cert(&skey, e)) == NULL)
		goto out;
	if ((recips = sk_X509_new_null()) == NULL || !sk_X509_push(recips, to) ||
	    (in = BIO_new_mem_buf(content->data, (int)content->len)) == NULL)
		goto fail;
	p7 = PKCS7_encrypt(recips, in, spec->cipher ? spec->cipher :
	    EVP_aes_128_cbc(), PKCS7_BINARY);
	if (p7 == NULL)
		goto fail;
	n = i2d_PKCS7(p7, &der);
	if (der_item(out, n, der) == -1)
		goto fail;
	rc = 0;
	goto out;
fail:
	rc = err_set_ossl(e, ERR_INTERNAL, "cannot build the envelope");
out:
	PKCS7_free(p7);
	BIO_free(in);
	sk_X509_free(recips);
	X509_free(stranger);
	EVP_PKEY_free(skey);
	return rc;
}

/* Adds a string-valued signed attribute of the given ASN.1 type. */
static int
attr_add_string(PKCS7_SIGNER_INFO *si, int nid, int type, const void *p,
    size_t n)
{
	ASN1_STRING	*s;

	if ((s = ASN1_STRING_type_new(type)) == NULL)
		return -1;
	if (!ASN1_STRING_set(s, p, (int)n) ||
	    !PKCS7_add_signed_attribute(si, nid, type, s)) {
		ASN1_STRING_free(s);
		return -1;
	}
	return 0;	/* si owns s now */
}

/* Adds messageType, as a PrintableString or, hostile, an INTEGER. */
static int
attr_add_type(PKCS7_SIGNER_INFO *si, const struct scepmsg_spec *spec)
{
	ASN1_INTEGER	*i;
	char		 text[16];
	int		 type = spec->type, nid = scepmsg_nids()->message_type;

	if (spec->hostile == SCEPMSG_HOSTILE_NO_MESSAGE_TYPE)
		return 0;
	if (spec->hostile == SCEPMSG_HOSTILE_UNKNOWN_TYPE)
		type = 99;
	if (spec->hostile == SCEPMSG_HOSTILE_TYPE_WRONG_ASN1) {
		if ((i = ASN1_INTEGER_new()) == NULL)
			return -1;
		if (!ASN1_INTEGER_set(i, type) ||
		    !PKCS7_add_signed_attribute(si, nid, V_ASN1_INTEGER, i)) {
			ASN1_INTEGER_free(i);
			return -1;
		}
		return 0;
	}
	snprintf(text, sizeof(text), "%d", type);
	return attr_add_string(si, nid, V_ASN1_PRINTABLESTRING, text,
	    strlen(text));
}

/* Adds the SCEP signed attributes, RFC 8894 §3.2.1. */
static int
attrs_add(PKCS7_SIGNER_INFO *si, const struct scepmsg_spec *spec,
    const struct scepmsg_req *r)
{
	const struct scepmsg_nids	*n = scepmsg_nids();

	if (!PKCS7_add_attrib_content_type(si, NULL) ||
	    attr_add_type(si, spec) == -1)
		return -1;
	if (spec->hostile != SCEPMSG_HOSTILE_NO_TXID &&
	    attr_add_string(si, n->transaction_id, V_ASN1_PRINTABLESTRING,
	    r->txid, strlen(r->txid)) == -1)
		return -1;
	if (spec->hostile != SCEPMSG_HOSTILE_NO_SENDER_NONCE &&
	    attr_add_string(si, n->sender_nonce, V_ASN1_OCTET_STRING,
	    r->nonce, r->nonce_len) == -1)
		return -1;
	return 0;
}

/* Signs content into the pkiMessage signedData, §3.2. */
static int
signed_build(const struct scepmsg_spec *spec, const struct scepmsg_req *r,
    const struct buf *content, struct buf *out, struct err *e)
{
	PKCS7			*p7 = NULL;
	PKCS7_SIGNER_INFO	*si;
	EVP_PKEY		*key = spec->signer_key, *wrong = NULL;
	BIO			*in = NULL;
	unsigned char		*der = NULL;
	int			 n, rc = -1;

	if (spec->hostile == SCEPMSG_HOSTILE_WRONG_SIGNER_KEY &&
	    (key = wrong = scepmsg_keygen("rsa:2048", e)) == NULL)
		goto out;
	/* The low-level calls, not PKCS7_sign(): it refuses a wrong key. */
	if ((p7 = PKCS7_new()) == NULL ||
	    !PKCS7_set_type(p7, NID_pkcs7_signed) ||
	    !PKCS7_content_new(p7, NID_pkcs7_data) ||
	    (si = PKCS7_add_signature(p7, spec->signer_cert, key,
	    spec->md ? spec->md : EVP_sha256())) == NULL ||
	    (spec->hostile != SCEPMSG_HOSTILE_NO_SIGNER_CERT &&
	    !PKCS7_add_certificate(p7, spec->signer_cert)) ||
	    attrs_add(si, spec, r) == -1 ||
	    (in = BIO_new_mem_buf(content->data, (int)content->len)) == NULL ||
	    !PKCS7_final(p7, in, PKCS7_BINARY))
		goto fail;
	if (spec->hostile == SCEPMSG_HOSTILE_BAD_SIGNATURE)
		si->enc_digest->data[si->enc_digest->length / 2] ^= 0x01;
	n = i2d_PKCS7(p7, &der);
	if (der_item(out, n, der) == -1)
		goto fail;
	rc = 0;
	goto out;
fail:
	rc = err_set_ossl(e, ERR_INTERNAL, "cannot sign the pkiMessage");
out:
	BIO_free(in);
	PKCS7_free(p7);
	EVP_PKEY_free(wrong);
	return rc;
}

/* Fills the transactionID and a fresh senderNonce of a new request. */
static int
req_ids(const struct scepmsg_spec *spec, struct scepmsg_req *r, struct err *e)
{
	const X509_PUBKEY	*pub;

	r->type = spec->type;
	r->nonce_len = spec->hostile == SCEPMSG_HOSTILE_SHORT_NONCE ? 4 :
	    spec->hostile == SCEPMSG_HOSTILE_NO_SENDER_NONCE ? 0 :
	    SCEPMSG_NONCE_LEN;
	if (r->nonce_len > 0 && RAND_bytes(r->nonce, (int)r->nonce_len) != 1)
		return err_set_ossl(e, ERR_INTERNAL, "RAND_bytes failed");
	if (spec->txid != NULL) {
		if (strlen(spec->txid) >= sizeof(r->txid))
			return err_set(e, ERR_USAGE, "transactionID too long");
		strcpy(r->txid, spec->txid);
		return 0;
	}
	/* Default: the hash of the key being certified (§3.2.1.1). */
	pub = spec->csr ? X509_REQ_get_X509_PUBKEY(spec->csr) :
	    X509_get_X509_PUBKEY(spec->signer_cert);
	if (pub == NULL || scepmsg_key_txid(pub, r->txid) == -1)
		return err_set_ossl(e, ERR_INTERNAL, "cannot hash the key");
	return 0;
}

/* Applies the knobs that replace or cut the finished DER. */
static int
req_mangle(const struct scepmsg_spec *spec, struct scepmsg_req *r)
{
	switch (spec->hostile) {
	case SCEPMSG_HOSTILE_TRUNCATE:
		r->der.len /= 2;
		return 0;
	case SCEPMSG_HOSTILE_EMPTY:
		r->der.len = 0;
		return 0;
	case SCEPMSG_HOSTILE_GARBAGE:
		buf_reset(&r->der);
		return random_bytes(&r->der, 512);
	default:
		return 0;
	}
}

struct scepmsg_req *
scepmsg_req_build(const struct scepmsg_spec *spec, struct err *e)
{
	struct scepmsg_req	*r = NULL, *ret = NULL;
	struct buf		 content = {0}, env = {0};
	const struct buf	*inner = &env;

	if (spec->signer_cert == NULL || spec->signer_key == NULL ||
	    spec->recipient == NULL) {
		err_set(e, ERR_USAGE, "a request needs a signer and a recipient");
		goto out;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	if (req_ids(spec, r, e) == -1 || content_build(spec, &content, e) == -1)
		goto out;
	if (spec->hostile == SCEPMSG_HOSTILE_PLAIN_CSR)
		inner = &content;
	else if (spec->hostile == SCEPMSG_HOSTILE_GARBAGE_ENVELOPE) {
		if (random_bytes(&env, 300) == -1)
			goto out;
	} else if (envelope_build(spec, &content, &env, e) == -1)
		goto out;
	if (signed_build(spec, r, inner, &r->der, e) == -1 ||
	    req_mangle(spec, r) == -1)
		goto out;
	ret = r;
	r = NULL;
out:
	buf_wipe(&content);
	buf_free(&env);
	scepmsg_req_free(r);
	return ret;
}

void
scepmsg_req_free(struct scepmsg_req *r)
{
	if (r == NULL)
		return;
	buf_free(&r->der);
	free(r);
}

struct scepmsg_req *
scepmsg_req_parse(const unsigned char *der, size_t len, struct err *e)
{
	const struct scepmsg_nids	*n = scepmsg_nids();
	struct scepmsg_req		*r = NULL, *ret = NULL;
	PKCS7				*p7 = NULL;
	PKCS7_SIGNER_INFO		*si;
	const ASN1_STRING		*s;
	const unsigned char		*p = der;

	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    buf_append(&r->der, der, len) == -1) {
		err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((p7 = d2i_PKCS7(NULL, &p, (long)len)) == NULL ||
	    !PKCS7_type_is_signed(p7) ||
	    sk_PKCS7_SIGNER_INFO_num(PKCS7_get_signer_info(p7)) < 1) {
		err_set_ossl(e, ERR_PARSE, "not a signed pkiMessage");
		goto out;
	}
	si = sk_PKCS7_SIGNER_INFO_value(PKCS7_get_signer_info(p7), 0);
	if (scepmsg_attr_get(si, n->message_type, V_ASN1_PRINTABLESTRING, &s) == 1)
		r->type = atoi((const char *)ASN1_STRING_get0_data(s));
	if (scepmsg_attr_get(si, n->transaction_id, V_ASN1_PRINTABLESTRING,
	    &s) == 1)
		snprintf(r->txid, sizeof(r->txid), "%.*s", ASN1_STRING_length(s),
		    (const char *)ASN1_STRING_get0_data(s));
	if (scepmsg_attr_get(si, n->sender_nonce, V_ASN1_OCTET_STRING, &s) == 1) {
		r->nonce_len = (size_t)ASN1_STRING_length(s);
		if (r->nonce_len > sizeof(r->nonce))
			r->nonce_len = sizeof(r->nonce);
		memcpy(r->nonce, ASN1_STRING_get0_data(s), r->nonce_len);
	}
	ret = r;
	r = NULL;
out:
	PKCS7_free(p7);
	scepmsg_req_free(r);
	return ret;
}

int
scepmsg_attr_get(PKCS7_SIGNER_INFO *si, int nid, int type,
    const ASN1_STRING **out)
{
	ASN1_TYPE	*at = PKCS7_get_signed_attribute(si, nid);

	*out = NULL;
	if (at == NULL)
		return 0;
	if (at->type != type)
		return -1;
	*out = at->value.asn1_string;
	return 1;
}
