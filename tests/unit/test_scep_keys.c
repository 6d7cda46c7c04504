/*
 * Unit tests for the bounds on keys from the network: scep_key_check()
 * (RSA size and exponent, EC curves), pki_pubkey_decode() (what it reads
 * at all), and scep_req_verify() on pkiMessages validly signed by large
 * and odd keys (tests/fuzz/seeds/scep, made by tests/fuzz/make_seeds.sh),
 * the crafted RSA-12288 one among them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "pki/pki.h"
#include "scep/msg.h"
#include "scep/msg_int.h"

/* ---- fixtures -------------------------------------------------------- */

/* Reads TOP/rel (the repository's test data) into b; fails when absent. */
static void
read_data(const char *rel, struct buf *b)
{
	const char	*top = getenv("TOP");
	char		 path[512], chunk[4096];
	size_t		 n;
	FILE		*f;

	snprintf(path, sizeof(path), "%s/%s", top != NULL ? top : ".", rel);
	if ((f = fopen(path, "rb")) == NULL)
		fail_msg("missing test data %s (run with TOP set)", path);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		assert_int_equal(buf_append(b, chunk, n), 0);
	fclose(f);
}

/* A private test key from tests/fuzz/keys. */
static EVP_PKEY *
test_key(const char *name)
{
	struct buf	 b = {0};
	char		 rel[128];
	BIO		*bio;
	EVP_PKEY	*key;

	snprintf(rel, sizeof(rel), "tests/fuzz/keys/%s.key", name);
	read_data(rel, &b);
	bio = BIO_new_mem_buf(b.data, (int)b.len);
	key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	buf_free(&b);
	assert_non_null(key);
	return key;
}

/* An RSA public key with modulus n (random, odd, of bits bits) and e. */
static EVP_PKEY *
rsa_with(int bits, const BIGNUM *e)
{
	OSSL_PARAM_BLD	*bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM	*params;
	EVP_PKEY_CTX	*ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	EVP_PKEY	*key = NULL;
	BIGNUM		*n = BN_new();

	assert_true(BN_rand(n, bits, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ODD));
	assert_true(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n));
	assert_true(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e));
	assert_non_null(params = OSSL_PARAM_BLD_to_param(bld));
	assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
	assert_int_equal(EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY,
	    params), 1);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(ctx);
	BN_free(n);
	return key;
}

/* rsa_with() for an exponent given in hex. */
static EVP_PKEY *
rsa_with_hex(int bits, const char *ehex)
{
	BIGNUM		*e = NULL;
	EVP_PKEY	*key;

	assert_true(BN_hex2bn(&e, ehex) > 0);
	key = rsa_with(bits, e);
	BN_free(e);
	return key;
}

/* 0 when scep_key_check() accepts key; else the error code. */
static int
key_verdict(EVP_PKEY *key, int max_bits)
{
	struct err	e = {0};
	int		rc = scep_key_check(key, "the test", max_bits, &e);

	EVP_PKEY_free(key);
	return rc == 0 ? 0 : (int)e.code;
}

/* ---- scep_key_check --------------------------------------------------- */

static void
rsa_size_bounded_by_the_profile(void **state)
{
	(void)state;
	assert_int_equal(key_verdict(rsa_with_hex(2048, "10001"), 8192), 0);
	assert_int_equal(key_verdict(rsa_with_hex(8192, "10001"), 8192), 0);
	assert_int_equal(key_verdict(rsa_with_hex(8193, "10001"), 8192),
	    ERR_BAD_ALG);
	assert_int_equal(key_verdict(rsa_with_hex(12288, "10001"), 8192),
	    ERR_BAD_ALG);
	/* A profile lowers it; nothing raises it past SCEP_MAX_RSA_BITS. */
	assert_int_equal(key_verdict(rsa_with_hex(4096, "10001"), 3072),
	    ERR_BAD_ALG);
	assert_int_equal(key_verdict(rsa_with_hex(8193, "10001"), 1 << 20),
	    ERR_BAD_ALG);
	assert_int_equal(key_verdict(rsa_with_hex(8193, "10001"), 0),
	    ERR_BAD_ALG);
}

static void
rsa_exponent_odd_and_at_most_64_bits(void **state)
{
	(void)state;
	assert_int_equal(key_verdict(rsa_with_hex(2048, "3"), 8192), 0);
	assert_int_equal(key_verdict(rsa_with_hex(2048, "100000001"), 8192), 0);
	assert_int_equal(key_verdict(rsa_with_hex(2048, "FFFFFFFFFFFFFFFF"),
	    8192), 0);
	assert_int_equal(key_verdict(rsa_with_hex(2048, "1"), 8192),
	    ERR_BAD_ALG);
	assert_int_equal(key_verdict(rsa_with_hex(2048, "10000"), 8192),
	    ERR_BAD_ALG);
	assert_int_equal(key_verdict(rsa_with_hex(2048, "10000000000000001"),
	    8192), ERR_BAD_ALG);
	/* An exponent as long as the modulus: a private-key cost per use. */
	assert_int_equal(key_verdict(rsa_with_hex(2048,
	    "F000000000000000000000000000000000000000000000000000000000000001"),
	    8192), ERR_BAD_ALG);
}

static void
ec_only_on_p256_and_p384(void **state)
{
	struct buf		 b = {0};
	const unsigned char	*p;

	(void)state;
	assert_int_equal(key_verdict(EVP_PKEY_Q_keygen(NULL, NULL, "EC",
	    "P-256"), 8192), 0);
	assert_int_equal(key_verdict(EVP_PKEY_Q_keygen(NULL, NULL, "EC",
	    "P-384"), 8192), 0);
	assert_int_equal(key_verdict(EVP_PKEY_Q_keygen(NULL, NULL, "EC",
	    "secp256k1"), 8192), ERR_BAD_ALG);
	assert_int_equal(key_verdict(EVP_PKEY_Q_keygen(NULL, NULL, "EC",
	    "brainpoolP256r1"), 8192), ERR_BAD_ALG);
	assert_int_equal(key_verdict(EVP_PKEY_Q_keygen(NULL, NULL, "EC",
	    "P-521"), 8192), ERR_BAD_ALG);
	/* P-256 itself, but spelled out as explicit parameters. */
	read_data("tests/fuzz/seeds/pubkey/ec-p256-explicit.der", &b);
	p = b.data;
	assert_int_equal(key_verdict(d2i_PUBKEY(NULL, &p, (long)b.len), 8192),
	    ERR_BAD_ALG);
	buf_free(&b);
}

static void
other_key_types_refused(void **state)
{
	(void)state;
	assert_int_equal(key_verdict(EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"),
	    8192), ERR_BAD_ALG);
	assert_int_equal(key_verdict(test_key("rsapss2048"), 8192), ERR_BAD_ALG);
	assert_int_equal(key_verdict(NULL, 8192), ERR_BAD_ALG);
}

/* ---- pki_pubkey_decode ------------------------------------------------ */

/* pki_pubkey_decode() of a SubjectPublicKeyInfo: its error code, or 0. */
static int
decode_verdict(const unsigned char *der, size_t len)
{
	const unsigned char	*p = der;
	X509_PUBKEY		*pub;
	EVP_PKEY		*key;
	struct err		 e = {0};
	int			 rc;

	/* d2i_X509_PUBKEY() decodes the key too: that is not under test. */
	if ((pub = d2i_X509_PUBKEY(NULL, &p, (long)len)) == NULL) {
		ERR_clear_error();
		return -1;
	}
	key = pki_pubkey_decode(pub, &e);
	rc = key != NULL ? 0 : (int)e.code;
	if (key != NULL) {
		EVP_PKEY	*ref;

		p = der;
		ref = d2i_PUBKEY(NULL, &p, (long)len);
		assert_int_equal(EVP_PKEY_eq(key, ref), 1);
		EVP_PKEY_free(ref);
	}
	EVP_PKEY_free(key);
	X509_PUBKEY_free(pub);
	ERR_clear_error();
	return rc;
}

static int
decode_seed(const char *name)
{
	struct buf	b = {0};
	char		rel[128];
	int		rc;

	snprintf(rel, sizeof(rel), "tests/fuzz/seeds/pubkey/%s.der", name);
	read_data(rel, &b);
	rc = decode_verdict(b.data, b.len);
	buf_free(&b);
	return rc;
}

static void
pubkey_decode_reads_rsa_and_named_ec_only(void **state)
{
	(void)state;
	assert_int_equal(decode_seed("rsa2048"), 0);
	assert_int_equal(decode_seed("rsa16384"), 0);	/* bounded later */
	assert_int_equal(decode_seed("rsa2048-e3"), 0);
	assert_int_equal(decode_seed("ec-p256"), 0);
	assert_int_equal(decode_seed("ec-secp256k1"), 0);	/* bounded later */
	assert_int_equal(decode_seed("ec-p256-explicit"), ERR_BAD_ALG);
	assert_int_equal(decode_seed("ed25519"), ERR_BAD_ALG);
	assert_int_equal(decode_seed("rsapss2048"), ERR_BAD_ALG);
}

static void
pubkey_decode_refuses_moduli_over_16384_bits(void **state)
{
	EVP_PKEY	*key = rsa_with_hex(PKI_RSA_MAX_BITS + 1, "10001");
	unsigned char	*der = NULL;
	int		 len;

	(void)state;
	assert_true((len = i2d_PUBKEY(key, &der)) > 0);
	assert_int_equal(decode_verdict(der, (size_t)len), ERR_BAD_ALG);
	OPENSSL_free(der);
	EVP_PKEY_free(key);
}

/* ---- scep_req_verify on validly signed messages ---------------------- */

/* Parses and verifies seeds/scep/name; 0 or the error code. */
static int
verify_seed(const char *name, int max_bits)
{
	struct scep_codec	*c = scep_codec_new(NULL);
	struct scep_req		 req;
	struct buf		 b = {0};
	struct err		 e = {0};
	char			 rel[128];
	int			 rc;

	assert_non_null(c);
	snprintf(rel, sizeof(rel), "tests/fuzz/seeds/scep/%s.der", name);
	read_data(rel, &b);
	assert_int_equal(scep_req_parse(c, b.data, b.len, &req, &e), 0);
	rc = scep_req_verify(c, &req, 0, max_bits, &e) == 0 ? 0 : (int)e.code;
	scep_req_free(&req);
	scep_codec_free(c);
	buf_free(&b);
	return rc;
}

static void
signer_rsa_12288_refused_before_any_rsa_operation(void **state)
{
	(void)state;
	/* Its signature recovers to 1500 bytes: it overflowed a 1 KiB buffer. */
	assert_int_equal(verify_seed("forged-rsa12288-recover1500", 8192),
	    ERR_BAD_ALG);
	assert_int_equal(verify_seed("forged-rsa12288-recover1500", 16384),
	    ERR_BAD_ALG);
}

static void
signer_recovery_that_is_no_digestinfo_fails_cleanly(void **state)
{
	(void)state;
	assert_int_equal(verify_seed("forged-rsa8192-recover1000", 8192),
	    ERR_BAD_SIGNATURE);
}

static void
signers_within_bounds_verify(void **state)
{
	(void)state;
	assert_int_equal(verify_seed("sig-rsa1024", 8192), 0);
	assert_int_equal(verify_seed("sig-rsa4096", 8192), 0);
	assert_int_equal(verify_seed("sig-rsa4096-sha512", 8192), 0);
	assert_int_equal(verify_seed("sig-rsa8192", 8192), 0);
	assert_int_equal(verify_seed("sig-rsa2048-e3", 8192), 0);
	assert_int_equal(verify_seed("sig-rsa2048-e4294967297", 8192), 0);
	assert_int_equal(verify_seed("sig-ec-p256", 8192), 0);
	assert_int_equal(verify_seed("sig-ec-p384", 8192), 0);
}

static void
signers_out_of_bounds_refused_with_bad_alg(void **state)
{
	(void)state;
	assert_int_equal(verify_seed("sig-rsa8193", 8192), ERR_BAD_ALG);
	assert_int_equal(verify_seed("sig-rsa16384", 8192), ERR_BAD_ALG);
	assert_int_equal(verify_seed("sig-rsa8192", 4096), ERR_BAD_ALG);
	assert_int_equal(verify_seed("sig-ec-secp256k1", 8192), ERR_BAD_ALG);
}

/*
 * Re-signs the signed attributes of seeds/scep/sig-rsa2048 with the test
 * key over a DigestInfo of our choosing (encoding di_der with the digest
 * in place of 32 'D' bytes), and verifies the result.
 */
static int
verify_resigned(const unsigned char *di, size_t di_len)
{
	struct scep_codec	*c = scep_codec_new(NULL);
	struct scep_req		 req;
	struct buf		 b = {0};
	struct err		 e = {0};
	const unsigned char	*p;
	unsigned char		*attrs = NULL, *out = NULL, sig[256], msg[128];
	unsigned char		 d[32];
	PKCS7			*p7;
	PKCS7_SIGNER_INFO	*si;
	EVP_PKEY		*key = test_key("rsa2048");
	EVP_PKEY_CTX		*ctx;
	size_t			 siglen = sizeof(sig);
	int			 alen, len, rc;

	read_data("tests/fuzz/seeds/scep/sig-rsa2048.der", &b);
	p = b.data;
	assert_non_null(p7 = d2i_PKCS7(NULL, &p, (long)b.len));
	si = sk_PKCS7_SIGNER_INFO_value(PKCS7_get_signer_info(p7), 0);
	alen = ASN1_item_i2d((ASN1_VALUE *)si->auth_attr, &attrs,
	    ASN1_ITEM_rptr(PKCS7_ATTR_VERIFY));
	assert_true(alen > 0);
	assert_true(EVP_Digest(attrs, (size_t)alen, d, NULL, EVP_sha256(),
	    NULL));
	assert_true(di_len <= sizeof(msg) && di_len >= sizeof(d));
	memcpy(msg, di, di_len);
	memcpy(msg + di_len - sizeof(d), d, sizeof(d));	/* digest last */
	ctx = EVP_PKEY_CTX_new(key, NULL);
	assert_int_equal(EVP_PKEY_sign_init(ctx), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING), 1);
	assert_int_equal(EVP_PKEY_sign(ctx, sig, &siglen, msg, di_len), 1);
	assert_true(ASN1_OCTET_STRING_set(si->enc_digest, sig, (int)siglen));
	assert_true((len = i2d_PKCS7(p7, &out)) > 0);
	assert_int_equal(scep_req_parse(c, out, (size_t)len, &req, &e), 0);
	rc = scep_req_verify(c, &req, 0, 8192, &e) == 0 ? 0 : (int)e.code;
	scep_req_free(&req);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(key);
	OPENSSL_free(out);
	OPENSSL_free(attrs);
	PKCS7_free(p7);
	scep_codec_free(c);
	buf_free(&b);
	return rc;
}

/* SHA-256 DigestInfo prefixes (RFC 8017 §9.2 note 1) and variants. */
static const unsigned char di_null[19] = { 0x30, 0x31, 0x30, 0x0d, 0x06, 0x09,
    0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04,
    0x20 };
static const unsigned char di_no_null[17] = { 0x30, 0x2f, 0x30, 0x0b, 0x06,
    0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x04, 0x20 };
/* The no-NULL form with a BER long-form length: not DER, refused. */
static const unsigned char di_ber[18] = { 0x30, 0x81, 0x2f, 0x30, 0x0b, 0x06,
    0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x04, 0x20 };

static int
verify_with_prefix(const unsigned char *prefix, size_t n)
{
	unsigned char	di[128];

	memcpy(di, prefix, n);
	memset(di + n, 'D', 32);
	return verify_resigned(di, n + 32);
}

static void
digestinfo_without_null_accepted_in_der_only(void **state)
{
	(void)state;
	assert_int_equal(verify_with_prefix(di_null, sizeof(di_null)), 0);
	assert_int_equal(verify_with_prefix(di_no_null, sizeof(di_no_null)), 0);
	assert_int_equal(verify_with_prefix(di_ber, sizeof(di_ber)),
	    ERR_BAD_SIGNATURE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rsa_size_bounded_by_the_profile),
		cmocka_unit_test(rsa_exponent_odd_and_at_most_64_bits),
		cmocka_unit_test(ec_only_on_p256_and_p384),
		cmocka_unit_test(other_key_types_refused),
		cmocka_unit_test(pubkey_decode_reads_rsa_and_named_ec_only),
		cmocka_unit_test(pubkey_decode_refuses_moduli_over_16384_bits),
		cmocka_unit_test(signer_rsa_12288_refused_before_any_rsa_operation),
		cmocka_unit_test(signer_recovery_that_is_no_digestinfo_fails_cleanly),
		cmocka_unit_test(signers_within_bounds_verify),
		cmocka_unit_test(signers_out_of_bounds_refused_with_bad_alg),
		cmocka_unit_test(digestinfo_without_null_accepted_in_der_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
