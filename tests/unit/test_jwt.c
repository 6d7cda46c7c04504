/*
 * Unit tests for shared/msft/jwt.c: the certificate client assertion.  Each
 * test makes a fresh RSA key and certificate, builds an assertion, takes
 * it apart and checks it with OpenSSL independently of the signer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "base/buf.h"
#include "base/encode.h"
#include "msft/jwt.h"

#define AUD	"https://login.example/tenant-1/oauth2/v2.0/token"
#define CID	"11111111-2222-3333-4444-555555555555"

struct fixture {
	EVP_PKEY	*key;
	X509		*cert;
};

static X509 *
make_cert(EVP_PKEY *key)
{
	X509		*x = X509_new();
	X509_NAME	*n = X509_NAME_new();

	assert_non_null(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 42);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)"jwt test app", -1, -1, 0);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, n);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, key);
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	X509_NAME_free(n);
	return x;
}

static int
setup(void **state)
{
	struct fixture	*f = calloc(1, sizeof(*f));

	f->key = EVP_RSA_gen(2048);
	assert_non_null(f->key);
	f->cert = make_cert(f->key);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;

	EVP_PKEY_free(f->key);
	X509_free(f->cert);
	free(f);
	return 0;
}

/* Splits a compact JWS into its three parts, decoded. */
static void
jws_split(const char *jws, struct buf *hdr, struct buf *claims,
    struct buf *sig, size_t *signed_len)
{
	const char	*d1 = strchr(jws, '.'), *d2;

	assert_non_null(d1);
	d2 = strchr(d1 + 1, '.');
	assert_non_null(d2);
	assert_null(strchr(d2 + 1, '.'));
	assert_null(strchr(jws, '='));		/* no padding */
	assert_null(strchr(jws, '+'));
	assert_null(strchr(jws, '/'));
	assert_int_equal(b64_decode_lenient(hdr, jws, (size_t)(d1 - jws)), 0);
	assert_int_equal(b64_decode_lenient(claims, d1 + 1,
	    (size_t)(d2 - d1 - 1)), 0);
	assert_int_equal(b64_decode_lenient(sig, d2 + 1, strlen(d2 + 1)), 0);
	*signed_len = (size_t)(d2 - jws);
}

static json_t *
json_of(struct buf *b)
{
	json_error_t	 je;
	json_t		*j = json_loadb((char *)b->data, b->len, 0, &je);

	assert_non_null(j);
	return j;
}

/* The thumbprint the header must carry, computed here independently. */
static void
expected_thumbprint(X509 *cert, const EVP_MD *md, struct buf *out)
{
	unsigned char	d[EVP_MAX_MD_SIZE];
	unsigned int	n = 0;

	assert_int_equal(X509_digest(cert, md, d, &n), 1);
	assert_int_equal(b64url_encode(out, d, n), 0);
}

static int
verify(EVP_PKEY *key, int pss, const char *data, size_t len, struct buf *sig)
{
	EVP_MD_CTX	*ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX	*pctx = NULL;
	int		 rc;

	assert_int_equal(EVP_DigestVerifyInit(ctx, &pctx, EVP_sha256(), NULL,
	    key), 1);
	if (pss) {
		EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
		/* Salt exactly the digest length, as RFC 7518 §3.5 says. */
		EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32);
		EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256());
	}
	rc = EVP_DigestVerify(ctx, sig->data, sig->len,
	    (const unsigned char *)data, len);
	EVP_MD_CTX_free(ctx);
	return rc;
}

static void
check_assertion(struct fixture *f, enum entra_assertion_alg alg)
{
	struct buf		 jws = {0}, hdr = {0}, claims = {0}, sig = {0};
	struct buf		 thumb = {0};
	struct jwt_signer	*s;
	struct err		 e;
	json_t			*h, *c;
	size_t			 signed_len;
	int			 pss = alg == ENTRA_ALG_PS256;

	s = jwt_signer_new(f->cert, f->key, alg, &e);
	assert_non_null(s);
	assert_int_equal(jwt_signer_assertion(s, AUD, CID, 1700000000, &jws,
	    &e), 0);
	jws_split(buf_cstr(&jws), &hdr, &claims, &sig, &signed_len);
	h = json_of(&hdr);
	c = json_of(&claims);

	assert_string_equal(json_string_value(json_object_get(h, "alg")),
	    pss ? "PS256" : "RS256");
	assert_string_equal(json_string_value(json_object_get(h, "typ")), "JWT");
	expected_thumbprint(f->cert, pss ? EVP_sha256() : EVP_sha1(), &thumb);
	assert_string_equal(json_string_value(json_object_get(h,
	    pss ? "x5t#S256" : "x5t")), buf_cstr(&thumb));
	assert_null(json_object_get(h, pss ? "x5t" : "x5t#S256"));

	assert_string_equal(json_string_value(json_object_get(c, "aud")), AUD);
	assert_string_equal(json_string_value(json_object_get(c, "iss")), CID);
	assert_string_equal(json_string_value(json_object_get(c, "sub")), CID);
	assert_int_equal(strlen(json_string_value(json_object_get(c, "jti"))),
	    36);
	assert_int_equal(json_integer_value(json_object_get(c, "iat")),
	    1700000000);
	assert_int_equal(json_integer_value(json_object_get(c, "nbf")),
	    1700000000);
	assert_int_equal(json_integer_value(json_object_get(c, "exp")),
	    1700000000 + 600);

	assert_int_equal(sig.len, 256);
	assert_int_equal(verify(f->key, pss, buf_cstr(&jws), signed_len, &sig),
	    1);
	/* The other padding must not verify: the algorithm is really used. */
	assert_int_not_equal(verify(f->key, !pss, buf_cstr(&jws), signed_len,
	    &sig), 1);

	json_decref(h);
	json_decref(c);
	buf_free(&jws);
	buf_free(&hdr);
	buf_free(&claims);
	buf_free(&sig);
	buf_free(&thumb);
	jwt_signer_free(s);
}

static void
jwt_ps256_assertion_verifies_with_pss_salt_of_digest_length(void **state)
{
	check_assertion(*state, ENTRA_ALG_PS256);
}

static void
jwt_rs256_assertion_carries_sha1_x5t_and_verifies(void **state)
{
	check_assertion(*state, ENTRA_ALG_RS256);
}

static void
jwt_assertions_have_unique_jti(void **state)
{
	struct fixture		*f = *state;
	struct jwt_signer	*s;
	struct buf		 a = {0}, b = {0};
	struct err		 e;

	s = jwt_signer_new(f->cert, f->key, ENTRA_ALG_PS256, &e);
	assert_non_null(s);
	assert_int_equal(jwt_signer_assertion(s, AUD, CID, 1, &a, &e), 0);
	assert_int_equal(jwt_signer_assertion(s, AUD, CID, 1, &b, &e), 0);
	assert_string_not_equal(buf_cstr(&a), buf_cstr(&b));
	buf_free(&a);
	buf_free(&b);
	jwt_signer_free(s);
}

static void
jwt_signer_refuses_key_of_another_certificate(void **state)
{
	struct fixture	*f = *state;
	EVP_PKEY	*other = EVP_RSA_gen(2048);
	struct err	 e;

	assert_null(jwt_signer_new(f->cert, other, ENTRA_ALG_PS256, &e));
	assert_int_equal(e.code, ERR_CONFIG);
	assert_non_null(strstr(e.msg, "does not match"));
	EVP_PKEY_free(other);
}

static void
jwt_signer_refuses_ec_and_short_rsa_keys(void **state)
{
	EVP_PKEY	*ec = EVP_EC_gen("P-256"), *rsa1k = EVP_RSA_gen(1024);
	X509		*c1, *c2;
	struct err	 e;

	(void)state;
	c1 = make_cert(ec);
	c2 = make_cert(rsa1k);
	assert_null(jwt_signer_new(c1, ec, ENTRA_ALG_PS256, &e));
	assert_int_equal(e.code, ERR_CONFIG);
	assert_null(jwt_signer_new(c2, rsa1k, ENTRA_ALG_RS256, &e));
	assert_int_equal(e.code, ERR_CONFIG);
	X509_free(c1);
	X509_free(c2);
	EVP_PKEY_free(ec);
	EVP_PKEY_free(rsa1k);
}

static void
write_pem(const char *path, int mode, struct fixture *f, int key)
{
	FILE	*fp = fopen(path, "w");

	assert_non_null(fp);
	if (key)
		PEM_write_PrivateKey(fp, f->key, NULL, NULL, 0, NULL, NULL);
	else
		PEM_write_X509(fp, f->cert);
	fclose(fp);
	assert_int_equal(chmod(path, (mode_t)mode), 0);
}

static void
jwt_signer_load_refuses_group_readable_key(void **state)
{
	struct fixture		*f = *state;
	struct jwt_signer	*s;
	char			 dir[] = "/tmp/test_jwt.XXXXXX", cert[64], key[64];
	struct err		 e;

	assert_non_null(mkdtemp(dir));
	snprintf(cert, sizeof(cert), "%s/app.crt", dir);
	snprintf(key, sizeof(key), "%s/app.key", dir);
	write_pem(cert, 0644, f, 0);
	write_pem(key, 0640, f, 1);
	assert_null(jwt_signer_load(cert, key, ENTRA_ALG_PS256, &e));
	assert_int_equal(e.code, ERR_CONFIG);
	assert_non_null(strstr(e.msg, "chmod 600"));

	assert_int_equal(chmod(key, 0600), 0);
	s = jwt_signer_load(cert, key, ENTRA_ALG_PS256, &e);
	assert_non_null(s);
	jwt_signer_free(s);
	unlink(cert);
	unlink(key);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    jwt_ps256_assertion_verifies_with_pss_salt_of_digest_length,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    jwt_rs256_assertion_carries_sha1_x5t_and_verifies,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(jwt_assertions_have_unique_jti,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    jwt_signer_refuses_key_of_another_certificate,
		    setup, teardown),
		cmocka_unit_test(jwt_signer_refuses_ec_and_short_rsa_keys),
		cmocka_unit_test_setup_teardown(
		    jwt_signer_load_refuses_group_readable_key,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
