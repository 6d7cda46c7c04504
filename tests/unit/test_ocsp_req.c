/*
 * Unit tests for the plain-request fast path (scep-ca/revocation/ocsp_req.c): the
 * requests OpenSSL's own API makes, a capture from `openssl ocsp`, and
 * hand-made variants that are valid but not plain, or not valid at all.
 * Whatever the fast path accepts, OpenSSL must read the same way.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/x509.h>

#include "revocation/ocsp_req.h"

/* `openssl ocsp -issuer ca.crt -serial 0x1234 -no_nonce -reqout req.der` */
static const unsigned char capture[] = {
	0x30, 0x43, 0x30, 0x41, 0x30, 0x3f, 0x30, 0x3d, 0x30, 0x3b, 0x30, 0x09,
	0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14, 0xf2,
	0xf9, 0x54, 0x97, 0x6a, 0xbb, 0x5e, 0xb2, 0xe7, 0x05, 0xb3, 0xcb, 0x99,
	0xb1, 0xf6, 0xcf, 0x06, 0x04, 0x1e, 0x6a, 0x04, 0x14, 0x7a, 0x94, 0x1b,
	0xc9, 0xd3, 0x94, 0x69, 0x01, 0x70, 0x45, 0x5e, 0x75, 0x78, 0xb5, 0x96,
	0x21, 0xd9, 0x35, 0xd6, 0x6e, 0x02, 0x02, 0x12, 0x34,
};

/* ---- checking against OpenSSL ------------------------------------------- */

static void
assert_same(const unsigned char *a, size_t alen, const ASN1_STRING *s)
{
	assert_int_equal(alen, (size_t)ASN1_STRING_length(s));
	assert_memory_equal(a, ASN1_STRING_get0_data(s), alen);
}

/* The CertID of req, which must ask about one certificate and no more. */
static OCSP_CERTID *
openssl_one_id(OCSP_REQUEST *req)
{
	OCSP_ONEREQ	*one;

	assert_non_null(req);
	assert_int_equal(OCSP_request_onereq_count(req), 1);
	assert_int_equal(OCSP_REQUEST_get_ext_count(req), 0);
	assert_false(OCSP_request_is_signed(req));
	one = OCSP_request_onereq_get0(req, 0);
	assert_int_equal(OCSP_ONEREQ_get_ext_count(one), 0);
	return OCSP_onereq_get0_id(one);
}

/* OpenSSL reads der (len bytes, all of them) as r says, field by field. */
static void
assert_openssl_agrees(const unsigned char *der, size_t len,
    const struct ocsp_simple_req *r)
{
	const unsigned char	*p = der, *sn = r->serial;
	unsigned char		*again;
	size_t			 sn_len = r->serial_len;
	OCSP_REQUEST		*req;
	ASN1_OCTET_STRING	*nh, *kh;
	ASN1_OBJECT		*md;
	ASN1_INTEGER		*serial;

	req = d2i_OCSP_REQUEST(NULL, &p, (long)len);
	assert_non_null(req);
	assert_ptr_equal(p, der + len);
	assert_true(OCSP_id_get0_info(&nh, &md, &kh, &serial,
	    openssl_one_id(req)));
	assert_int_equal(OBJ_obj2nid(md), r->nid);
	assert_same(r->name_hash, r->name_hash_len, nh);
	assert_same(r->key_hash, r->key_hash_len, kh);
	/* OpenSSL keeps the magnitude, without DER's sign octet. */
	assert_int_equal(ASN1_STRING_type(serial), V_ASN1_INTEGER);
	if (sn_len > 1 && sn[0] == 0) {
		sn++;
		sn_len--;
	}
	assert_same(sn, sn_len, serial);
	/* Strict DER read back as the same DER: nothing went unseen. */
	again = NULL;
	assert_int_equal(i2d_OCSP_REQUEST(req, &again), (int)len);
	assert_memory_equal(again, der, len);
	OPENSSL_free(again);
	OCSP_REQUEST_free(req);
}

/* OpenSSL reads der as a valid request (for the valid but not plain ones). */
static void
assert_openssl_parses(const unsigned char *der, size_t len)
{
	const unsigned char	*p = der;
	OCSP_REQUEST		*req;

	req = d2i_OCSP_REQUEST(NULL, &p, (long)len);
	assert_non_null(req);
	assert_ptr_equal(p, der + len);
	OCSP_REQUEST_free(req);
}

/* The fast path on an exact-size copy, so ASan sees any over-read. */
static int
simple(const unsigned char *der, size_t len, struct ocsp_simple_req *r)
{
	unsigned char	*copy;
	int		 rv;

	assert_non_null(copy = malloc(len == 0 ? 1 : len));
	if (len > 0)
		memcpy(copy, der, len);
	rv = ocsp_req_simple(copy, len, r);
	/* The pointers in r pointed into the copy: move them to der. */
	if (rv == 1) {
		r->name_hash = der + (r->name_hash - copy);
		r->key_hash = der + (r->key_hash - copy);
		r->serial = der + (r->serial - copy);
	}
	free(copy);
	return rv;
}

/* The fast path accepts der and OpenSSL agrees with it. */
static void
assert_plain(const unsigned char *der, size_t len, struct ocsp_simple_req *r)
{
	assert_int_equal(simple(der, len, r), 1);
	assert_true(r->name_hash >= der && r->name_hash + r->name_hash_len <=
	    der + len);
	assert_true(r->key_hash >= der && r->key_hash + r->key_hash_len <=
	    der + len);
	assert_true(r->serial >= der && r->serial + r->serial_len <= der + len);
	assert_openssl_agrees(der, len, r);
}

static void
assert_not_plain(const unsigned char *der, size_t len)
{
	struct ocsp_simple_req	r;

	assert_int_equal(simple(der, len, &r), 0);
}

/* ---- requests made by OpenSSL's API ------------------------------------- */

#define WITH_NONCE	0x01
#define WITH_TWO	0x02
#define WITH_NAME	0x04
#define WITH_SIGNATURE	0x08

/* A self-signed P-256 certificate to sign requests with. */
static X509 *
signer_new(EVP_PKEY **key)
{
	X509_NAME	*name;
	X509		*x;

	assert_non_null(*key = EVP_EC_gen("P-256"));
	assert_non_null(x = X509_new());
	name = X509_get_subject_name(x);
	assert_true(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)"requester", -1, -1, 0));
	assert_true(X509_set_issuer_name(x, name));
	assert_true(ASN1_INTEGER_set(X509_get_serialNumber(x), 1));
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), 0));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 3600));
	assert_true(X509_set_pubkey(x, *key));
	assert_true(X509_sign(x, *key, EVP_sha256()) > 0);
	return x;
}

/* Signs req and names the signer, as OCSP_request_sign() always does. */
static void
sign(OCSP_REQUEST *req)
{
	EVP_PKEY	*key;
	X509		*x = signer_new(&key);

	assert_true(OCSP_request_sign(req, x, key, EVP_sha256(), NULL, 0));
	X509_free(x);
	EVP_PKEY_free(key);
}

/* Asks about serial (big-endian magnitude) of a made-up issuer. */
static OCSP_CERTID *
cert_id(const EVP_MD *md, const unsigned char *sn, size_t sn_len)
{
	static const unsigned char	 key[] = { 0x04, 0x01, 0x02, 0x03 };
	X509_NAME			*issuer;
	ASN1_BIT_STRING			*pub;
	ASN1_INTEGER			*serial;
	BIGNUM				*bn;
	OCSP_CERTID			*id;

	assert_non_null(issuer = X509_NAME_new());
	assert_true(X509_NAME_add_entry_by_txt(issuer, "CN", MBSTRING_ASC,
	    (const unsigned char *)"test CA", -1, -1, 0));
	assert_non_null(pub = ASN1_BIT_STRING_new());
	assert_true(ASN1_BIT_STRING_set(pub, (unsigned char *)key,
	    sizeof(key)));
	assert_non_null(bn = BN_bin2bn(sn, (int)sn_len, NULL));
	assert_non_null(serial = BN_to_ASN1_INTEGER(bn, NULL));
	assert_non_null(id = OCSP_cert_id_new(md, issuer, pub, serial));
	ASN1_INTEGER_free(serial);
	BN_free(bn);
	ASN1_BIT_STRING_free(pub);
	X509_NAME_free(issuer);
	return id;
}

/* The DER of a request made with OpenSSL's API; OPENSSL_free() it. */
static size_t
api_request(const EVP_MD *md, const unsigned char *sn, size_t sn_len,
    int with, unsigned char **der)
{
	OCSP_REQUEST	*req;
	X509_NAME	*name;
	int		 len;

	assert_non_null(req = OCSP_REQUEST_new());
	assert_non_null(OCSP_request_add0_id(req, cert_id(md, sn, sn_len)));
	if (with & WITH_TWO)
		assert_non_null(OCSP_request_add0_id(req,
		    cert_id(md, sn, sn_len)));
	if (with & WITH_NONCE)
		assert_true(OCSP_request_add1_nonce(req, NULL, -1));
	if (with & WITH_NAME) {
		assert_non_null(name = X509_NAME_new());
		assert_true(X509_NAME_add_entry_by_txt(name, "CN",
		    MBSTRING_ASC, (const unsigned char *)"me", -1, -1, 0));
		assert_true(OCSP_request_set1_name(req, name));
		X509_NAME_free(name);
	}
	if (with & WITH_SIGNATURE)
		sign(req);
	*der = NULL;
	len = i2d_OCSP_REQUEST(req, der);
	assert_true(len > 0);
	OCSP_REQUEST_free(req);
	return (size_t)len;
}

/* A plain API request is accepted with md's hashes and serial sn. */
static void
check_api_plain(const EVP_MD *md, const unsigned char *sn, size_t sn_len)
{
	struct ocsp_simple_req	 r;
	unsigned char		*der;
	size_t			 len;

	len = api_request(md, sn, sn_len, 0, &der);
	assert_plain(der, len, &r);
	assert_int_equal(r.nid, EVP_MD_get_type(md));
	assert_int_equal(r.name_hash_len, (size_t)EVP_MD_get_size(md));
	assert_int_equal(r.key_hash_len, (size_t)EVP_MD_get_size(md));
	/* DER adds a sign octet before a high bit. */
	if (sn[0] & 0x80) {
		assert_int_equal(r.serial_len, sn_len + 1);
		assert_int_equal(r.serial[0], 0);
		assert_memory_equal(r.serial + 1, sn, sn_len);
	} else {
		assert_int_equal(r.serial_len, sn_len);
		assert_memory_equal(r.serial, sn, sn_len);
	}
	OPENSSL_free(der);
}

static const unsigned char sn_1234[] = { 0x12, 0x34 };
static const unsigned char sn_high[] = { 0x80, 0x00, 0x01 };
static const unsigned char sn_one[] = { 0x05 };
static const unsigned char sn_20[20] = { 0x7f, 0x11, 0x22, 0x33, 0x44, 0x55,
    0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x01, 0x02,
    0x03, 0x04 };
static const unsigned char sn_20_high[20] = { 0xff, 0xee, 0xdd, 0xcc, 0xbb,
    0xaa, 0x99, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0x00, 0x01,
    0x02, 0x03, 0x04 };

static void
api_sha1_request_is_plain(void **state)
{
	(void)state;
	check_api_plain(EVP_sha1(), sn_1234, sizeof(sn_1234));
	check_api_plain(EVP_sha1(), sn_high, sizeof(sn_high));
}

static void
api_sha2_requests_are_plain(void **state)
{
	(void)state;
	check_api_plain(EVP_sha256(), sn_1234, sizeof(sn_1234));
	check_api_plain(EVP_sha384(), sn_high, sizeof(sn_high));
	check_api_plain(EVP_sha512(), sn_1234, sizeof(sn_1234));
}

static void
sha512_request_uses_long_form_lengths(void **state)
{
	struct ocsp_simple_req	 r;
	unsigned char		*der;
	size_t			 len;

	(void)state;
	len = api_request(EVP_sha512(), sn_20_high, sizeof(sn_20_high), 0,
	    &der);
	/* The CertID alone is over 127 bytes, so every level is 30 81 xx. */
	assert_int_equal(der[0], 0x30);
	assert_int_equal(der[1], 0x81);
	assert_plain(der, len, &r);
	assert_int_equal(r.serial_len, 21);
	OPENSSL_free(der);
}

static void
serials_of_one_and_twenty_bytes_are_plain(void **state)
{
	(void)state;
	check_api_plain(EVP_sha1(), sn_one, sizeof(sn_one));
	check_api_plain(EVP_sha1(), sn_20, sizeof(sn_20));
	check_api_plain(EVP_sha256(), sn_20_high, sizeof(sn_20_high));
}

static void
openssl_ocsp_capture_is_plain(void **state)
{
	struct ocsp_simple_req	r;

	(void)state;
	assert_plain(capture, sizeof(capture), &r);
	assert_int_equal(r.nid, NID_sha1);
	assert_ptr_equal(r.name_hash, capture + 23);
	assert_ptr_equal(r.key_hash, capture + 45);
	assert_int_equal(r.serial_len, 2);
	assert_memory_equal(r.serial, sn_1234, 2);
}

/* Builds with, checks it is valid, and checks the fast path declines it. */
static void
check_api_not_plain(const EVP_MD *md, int with)
{
	unsigned char	*der;
	size_t		 len;

	len = api_request(md, sn_1234, sizeof(sn_1234), with, &der);
	assert_openssl_parses(der, len);
	assert_not_plain(der, len);
	OPENSSL_free(der);
}

static void
request_with_nonce_is_not_plain(void **state)
{
	(void)state;
	check_api_not_plain(EVP_sha1(), WITH_NONCE);
	check_api_not_plain(EVP_sha256(), WITH_NONCE);
}

static void
request_for_two_certificates_is_not_plain(void **state)
{
	(void)state;
	check_api_not_plain(EVP_sha1(), WITH_TWO);
}

static void
request_with_requestor_name_is_not_plain(void **state)
{
	(void)state;
	check_api_not_plain(EVP_sha1(), WITH_NAME);
}

static void
signed_request_is_not_plain(void **state)
{
	(void)state;
	check_api_not_plain(EVP_sha1(), WITH_SIGNATURE);
}

static void
md5_and_sha224_cert_ids_are_not_plain(void **state)
{
	(void)state;
	check_api_not_plain(EVP_md5(), 0);
	check_api_not_plain(EVP_sha224(), 0);
}

static void
every_truncation_is_not_plain(void **state)
{
	unsigned char	*der;
	size_t		 len, i;

	(void)state;
	for (i = 0; i < sizeof(capture); i++)
		assert_not_plain(capture, i);
	len = api_request(EVP_sha512(), sn_20_high, sizeof(sn_20_high), 0,
	    &der);
	for (i = 0; i < len; i++)
		assert_not_plain(der, i);
	OPENSSL_free(der);
	assert_int_equal(ocsp_req_simple(NULL, 0, NULL), 0);
}

static void
trailing_byte_is_not_plain(void **state)
{
	unsigned char	der[sizeof(capture) + 1];

	(void)state;
	memcpy(der, capture, sizeof(capture));
	der[sizeof(capture)] = 0;
	assert_not_plain(der, sizeof(der));
}

/* ---- hand-made requests ------------------------------------------------- */

/* Some bytes; B(0x05, 0x00) makes them from a list. */
struct bytes {
	const unsigned char	*p;
	size_t			 n;
};
#define B(...)	((struct bytes){ (const unsigned char[]){ __VA_ARGS__ },      \
		    sizeof((const unsigned char[]){ __VA_ARGS__ }) })

/* How to write a length. */
enum len_form {
	LEN_MIN,	/* DER */
	LEN_81,		/* 81 xx even below 128 */
	LEN_82_00,	/* 82 00 xx: a leading zero octet */
	LEN_INDEF,	/* 80 ... 00 00 (BER) */
};

/*
 * A request made by hand; zero fields take the plain defaults (SHA-1 with
 * NULL parameters, 20-byte hashes, serial 0x1234).
 */
struct spec {
	struct bytes	 alg;		/* the whole AlgorithmIdentifier */
	struct bytes	 name, key;	/* hash octets */
	int		 name_len, key_len; /* other hash lengths, -1 for 0 */
	struct bytes	 serial;	/* the whole INTEGER */
	struct bytes	 id_extra;	/* after the serial */
	struct bytes	 one_extra;	/* after the CertID */
	struct bytes	 list_extra;	/* after the Request */
	struct bytes	 tbs_pre;	/* before the requestList */
	struct bytes	 tbs_post;	/* after it */
	struct bytes	 req_post;	/* after the TBSRequest */
	enum len_form	 outer_len;	/* of the OCSPRequest */
	enum len_form	 id_len;	/* of the CertID */
};

struct tb {
	unsigned char	b[512];
	size_t		n;
};

static void
tb_put(struct tb *t, const void *p, size_t n)
{
	assert_true(t->n + n <= sizeof(t->b));
	if (n > 0)
		memcpy(t->b + t->n, p, n);
	t->n += n;
}

static void
tb_bytes(struct tb *t, struct bytes x)
{
	tb_put(t, x.p, x.n);
}

/* Appends tag, the length of c in form f, and c. */
static void
tb_tlv(struct tb *t, unsigned char tag, const struct tb *c, enum len_form f)
{
	unsigned char	h[4] = { tag };
	size_t		n = 1;

	assert_true(c->n < 256);
	if (f == LEN_INDEF)
		h[n++] = 0x80;
	else if (f == LEN_81 || (f == LEN_MIN && c->n >= 0x80)) {
		h[n++] = 0x81;
		h[n++] = (unsigned char)c->n;
	} else if (f == LEN_82_00) {
		h[n++] = 0x82;
		h[n++] = 0;
		h[n++] = (unsigned char)c->n;
	} else
		h[n++] = (unsigned char)c->n;
	tb_put(t, h, n);
	tb_put(t, c->b, c->n);
	if (f == LEN_INDEF)
		tb_put(t, "\0\0", 2);
}

/* Appends an OCTET STRING of len octets (x, or that many copies of fill). */
static void
tb_hash(struct tb *t, struct bytes x, int len, unsigned char fill)
{
	struct tb	c = {0};
	unsigned char	v[64];

	if (x.p != NULL)
		tb_bytes(&c, x);
	else {
		len = len == 0 ? 20 : len < 0 ? 0 : len;
		assert_true(len <= 64);
		memset(v, fill, (size_t)len);
		tb_put(&c, v, (size_t)len);
	}
	tb_tlv(t, 0x04, &c, LEN_MIN);
}

static struct bytes
or_default(struct bytes x, struct bytes dflt)
{
	return x.p != NULL ? x : dflt;
}

static void
make(const struct spec *s, struct tb *out)
{
	struct tb	id = {0}, one = {0}, list = {0}, tbs = {0}, req = {0};

	tb_bytes(&id, or_default(s->alg, B(0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e,
	    0x03, 0x02, 0x1a, 0x05, 0x00)));
	tb_hash(&id, s->name, s->name_len, 0x11);
	tb_hash(&id, s->key, s->key_len, 0x22);
	tb_bytes(&id, or_default(s->serial, B(0x02, 0x02, 0x12, 0x34)));
	tb_bytes(&id, s->id_extra);
	tb_tlv(&one, 0x30, &id, s->id_len);
	tb_bytes(&one, s->one_extra);
	tb_tlv(&list, 0x30, &one, LEN_MIN);
	tb_bytes(&list, s->list_extra);
	tb_bytes(&tbs, s->tbs_pre);
	tb_tlv(&tbs, 0x30, &list, LEN_MIN);
	tb_bytes(&tbs, s->tbs_post);
	tb_tlv(&req, 0x30, &tbs, LEN_MIN);
	tb_bytes(&req, s->req_post);
	memset(out, 0, sizeof(*out));
	tb_tlv(out, 0x30, &req, s->outer_len);
}

static void
check_hand_plain(const struct spec *s)
{
	struct ocsp_simple_req	r;
	struct tb		t;

	make(s, &t);
	assert_plain(t.b, t.n, &r);
}

/* Valid (OpenSSL reads it) but not the plain case. */
static void
check_hand_valid(const struct spec *s)
{
	struct tb	t;

	make(s, &t);
	assert_openssl_parses(t.b, t.n);
	assert_not_plain(t.b, t.n);
}

static void
check_hand_not_plain(const struct spec *s)
{
	struct tb	t;

	make(s, &t);
	assert_not_plain(t.b, t.n);
}

static void
hand_made_request_matches_the_capture(void **state)
{
	struct spec	s = {
		.name = { capture + 23, 20 },
		.key = { capture + 45, 20 },
	};
	struct tb	t;

	(void)state;
	make(&s, &t);
	assert_int_equal(t.n, sizeof(capture));
	assert_memory_equal(t.b, capture, t.n);
}

static void
absent_hash_parameters_are_plain(void **state)
{
	(void)state;
	check_hand_plain(&(struct spec){ .alg = B(0x30, 0x07, 0x06, 0x05,
	    0x2b, 0x0e, 0x03, 0x02, 0x1a) });
	check_hand_plain(&(struct spec){ .alg = B(0x30, 0x0b, 0x06, 0x09,
	    0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01),
	    .name_len = 32, .key_len = 32 });
}

static void
hash_parameters_other_than_null_are_not_plain(void **state)
{
	(void)state;
	/* An empty OCTET STRING. */
	check_hand_valid(&(struct spec){ .alg = B(0x30, 0x09, 0x06, 0x05,
	    0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x04, 0x00) });
	/* NULL with content, and NULL followed by more. */
	check_hand_not_plain(&(struct spec){ .alg = B(0x30, 0x0a, 0x06, 0x05,
	    0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x01, 0x00) });
	check_hand_not_plain(&(struct spec){ .alg = B(0x30, 0x0b, 0x06, 0x05,
	    0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x05, 0x00) });
}

static void
other_hash_oids_are_not_plain(void **state)
{
	(void)state;
	/* SHA-256's OID short of its last arc, and SHA-224's. */
	check_hand_not_plain(&(struct spec){ .alg = B(0x30, 0x0a, 0x06, 0x08,
	    0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02),
	    .name_len = 32, .key_len = 32 });
	check_hand_valid(&(struct spec){ .alg = B(0x30, 0x0d, 0x06, 0x09,
	    0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x04, 0x05, 0x00),
	    .name_len = 28, .key_len = 28 });
}

static void
hashes_of_another_length_are_not_plain(void **state)
{
	(void)state;
	check_hand_valid(&(struct spec){ .name_len = -1 });
	check_hand_valid(&(struct spec){ .key_len = -1 });
	check_hand_valid(&(struct spec){ .name_len = 19 });
	check_hand_valid(&(struct spec){ .key_len = 32 });
	check_hand_valid(&(struct spec){ .name_len = 64, .key_len = 64 });
}

static void
explicit_version_is_not_plain(void **state)
{
	(void)state;
	check_hand_valid(&(struct spec){ .tbs_pre = B(0xa0, 0x03, 0x02, 0x01,
	    0x00) });
}

static void
extensions_and_signature_are_not_plain(void **state)
{
	/* Extensions { Extension { subjectKeyIdentifier, OCTET STRING } } */
#define EXTS	0x30, 0x0d, 0x30, 0x0b, 0x06, 0x03, 0x55, 0x1d, 0x0e, 0x04, \
		0x04, 0x04, 0x02, 0xab, 0xcd
	(void)state;
	check_hand_valid(&(struct spec){ .one_extra = B(0xa0, 0x0f, EXTS) });
	check_hand_valid(&(struct spec){ .tbs_post = B(0xa2, 0x0f, EXTS) });
#undef EXTS
	/* Signature { ecdsa-with-SHA256, BIT STRING } without certs */
	check_hand_valid(&(struct spec){ .req_post = B(0xa0, 0x12, 0x30, 0x10,
	    0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03,
	    0x02, 0x03, 0x02, 0x00, 0x00) });
}

static void
extra_elements_are_not_plain(void **state)
{
	(void)state;
	check_hand_not_plain(&(struct spec){ .id_extra = B(0x05, 0x00) });
	check_hand_not_plain(&(struct spec){ .one_extra = B(0x05, 0x00) });
	check_hand_not_plain(&(struct spec){ .list_extra = B(0x05, 0x00) });
	check_hand_not_plain(&(struct spec){ .tbs_post = B(0x05, 0x00) });
	check_hand_not_plain(&(struct spec){ .req_post = B(0x05, 0x00) });
}

static void
non_minimal_lengths_are_not_plain(void **state)
{
	struct spec	sha512 = {
		.alg = B(0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65,
		    0x03, 0x04, 0x02, 0x03, 0x05, 0x00),
		.name_len = 64,
		.key_len = 64,
	};

	(void)state;
	check_hand_not_plain(&(struct spec){ .outer_len = LEN_81 });
	check_hand_not_plain(&(struct spec){ .id_len = LEN_81 });
	check_hand_not_plain(&(struct spec){ .outer_len = LEN_82_00 });
	check_hand_not_plain(&(struct spec){ .outer_len = LEN_INDEF });
	check_hand_not_plain(&(struct spec){ .id_len = LEN_INDEF });
	/* A SHA-512 CertID is over 127 bytes: 81 xx, never 82 00 xx. */
	sha512.id_len = LEN_MIN;
	check_hand_plain(&sha512);
	sha512.id_len = LEN_82_00;
	check_hand_not_plain(&sha512);
}

static void
bad_serials_are_not_plain(void **state)
{
	static const unsigned char	long_serial[43] = { 0x02, 41, 0x01 };

	(void)state;
	check_hand_valid(&(struct spec){ .serial = B(0x02, 0x01, 0xff) });
	check_hand_valid(&(struct spec){ .serial = B(0x02, 0x02, 0x80,
	    0x00) });
	check_hand_valid(&(struct spec){ .serial = B(0x02, 0x01, 0x00) });
	check_hand_valid(&(struct spec){ .serial = { long_serial,
	    sizeof(long_serial) } });
	/* Not DER: OpenSSL refuses these as well. */
	check_hand_not_plain(&(struct spec){ .serial = B(0x02, 0x02, 0x00,
	    0x01) });
	check_hand_not_plain(&(struct spec){ .serial = B(0x02, 0x03, 0x00,
	    0x00, 0x80) });
	check_hand_not_plain(&(struct spec){ .serial = B(0x02, 0x00) });
	/* The sign octet before a high bit is the one zero allowed. */
	check_hand_plain(&(struct spec){ .serial = B(0x02, 0x02, 0x00,
	    0x80) });
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(api_sha1_request_is_plain),
		cmocka_unit_test(api_sha2_requests_are_plain),
		cmocka_unit_test(sha512_request_uses_long_form_lengths),
		cmocka_unit_test(serials_of_one_and_twenty_bytes_are_plain),
		cmocka_unit_test(openssl_ocsp_capture_is_plain),
		cmocka_unit_test(request_with_nonce_is_not_plain),
		cmocka_unit_test(request_for_two_certificates_is_not_plain),
		cmocka_unit_test(request_with_requestor_name_is_not_plain),
		cmocka_unit_test(signed_request_is_not_plain),
		cmocka_unit_test(md5_and_sha224_cert_ids_are_not_plain),
		cmocka_unit_test(every_truncation_is_not_plain),
		cmocka_unit_test(trailing_byte_is_not_plain),
		cmocka_unit_test(hand_made_request_matches_the_capture),
		cmocka_unit_test(absent_hash_parameters_are_plain),
		cmocka_unit_test(hash_parameters_other_than_null_are_not_plain),
		cmocka_unit_test(other_hash_oids_are_not_plain),
		cmocka_unit_test(hashes_of_another_length_are_not_plain),
		cmocka_unit_test(explicit_version_is_not_plain),
		cmocka_unit_test(extensions_and_signature_are_not_plain),
		cmocka_unit_test(extra_elements_are_not_plain),
		cmocka_unit_test(non_minimal_lengths_are_not_plain),
		cmocka_unit_test(bad_serials_are_not_plain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
