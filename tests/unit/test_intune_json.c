/*
 * Unit tests for shared/msft/intune_json.c: Intune request bodies and answer
 * decoding, no network.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "base/buf.h"
#include "base/encode.h"
#include "msft/intune.h"

#define S(x)	x, strlen(x)

static const unsigned char csr[] = { 0x30, 0x03, 0x02, 0x01, 0xfb };

static json_t *
load(struct buf *b)
{
	json_error_t	 je;
	json_t		*j = json_loadb((char *)b->data, b->len, 0, &je);

	assert_non_null(j);
	return j;
}

static const char *
str_at(json_t *root, const char *outer, const char *key)
{
	json_t	*v = json_object_get(json_object_get(root, outer), key);

	assert_true(json_is_string(v));
	return json_string_value(v);
}

static void
validate_request_body_has_base64_der_csr(void **state)
{
	struct buf	 b = {0};
	struct err	 e;
	json_t		*j;

	(void)state;
	assert_int_equal(intune_json_validate_request("TX-1", csr, sizeof(csr),
	    "scep-ca/1.0", &b, &e), 0);
	j = load(&b);
	assert_string_equal(str_at(j, "request", "transactionId"), "TX-1");
	assert_string_equal(str_at(j, "request", "certificateRequest"),
	    "MAMCAfs=");
	assert_string_equal(str_at(j, "request", "callerInfo"), "scep-ca/1.0");
	json_decref(j);
	buf_free(&b);
}

static void
validate_request_refuses_non_utf8_strings(void **state)
{
	struct buf	b = {0};
	struct err	e;

	(void)state;
	assert_int_equal(intune_json_validate_request("TX-\xff", csr,
	    sizeof(csr), "x", &b, &e), -1);
	buf_free(&b);
}

/* Makes a DER certificate with a known serial and notAfter. */
static void
make_cert(struct buf *der, X509 **out)
{
	EVP_PKEY	*key = EVP_RSA_gen(2048);
	X509		*x = X509_new();
	X509_NAME	*n = X509_NAME_new();
	unsigned char	*p = NULL;
	int		 len;

	X509_set_version(x, 2);
	ASN1_INTEGER_set_int64(X509_get_serialNumber(x), 0x0a1b2c3d4e5fLL);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)"Issuing CA", -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC,
	    (const unsigned char *)"Example", -1, -1, 0);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, n);
	ASN1_TIME_set_string_X509(X509_getm_notBefore(x), "20240101000000Z");
	ASN1_TIME_set_string_X509(X509_getm_notAfter(x), "20301231235959Z");
	X509_set_pubkey(x, key);
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	len = i2d_X509(x, &p);
	assert_true(len > 0);
	buf_set(der, p, (size_t)len);
	OPENSSL_free(p);
	X509_NAME_free(n);
	EVP_PKEY_free(key);
	*out = x;
}

static void
success_notification_computes_thumbprint_serial_and_expiry(void **state)
{
	struct intune_success	 n = {0};
	struct buf		 der = {0}, b = {0}, hex = {0};
	unsigned char		 md[20];
	unsigned int		 mdlen = 0;
	struct err		 e;
	X509			*x;
	json_t			*j;

	(void)state;
	make_cert(&der, &x);
	X509_digest(x, EVP_sha1(), md, &mdlen);
	hex_encode(&hex, md, mdlen, 1);
	n.transaction_id = "TX-2";
	n.csr_der = csr;
	n.csr_len = sizeof(csr);
	n.cert_der = der.data;
	n.cert_len = der.len;
	n.ca_configuration = "ca.example\\Issuing CA";
	assert_int_equal(intune_json_success_notification(&n, "scep-ca/1.0",
	    &b, &e), 0);
	j = load(&b);
	assert_string_equal(str_at(j, "notification", "certificateThumbprint"),
	    buf_cstr(&hex));
	assert_string_equal(str_at(j, "notification",
	    "certificateSerialNumber"), "0A1B2C3D4E5F");
	assert_string_equal(str_at(j, "notification",
	    "certificateExpirationDateUtc"), "2030-12-31T23:59:59Z");
	assert_string_equal(str_at(j, "notification",
	    "issuingCertificateAuthority"), "O=Example,CN=Issuing CA");
	assert_string_equal(str_at(j, "notification", "caConfiguration"),
	    "ca.example\\Issuing CA");
	assert_string_equal(str_at(j, "notification", "certificateAuthority"),
	    "");
	assert_string_equal(str_at(j, "notification", "certificateRequest"),
	    "MAMCAfs=");
	json_decref(j);
	X509_free(x);
	buf_free(&der);
	buf_free(&b);
	buf_free(&hex);
}

static void
success_notification_refuses_a_bad_certificate(void **state)
{
	struct intune_success	n = {0};
	struct buf		b = {0};
	struct err		e;

	(void)state;
	n.transaction_id = "TX";
	n.csr_der = csr;
	n.csr_len = sizeof(csr);
	n.cert_der = csr;		/* not a certificate */
	n.cert_len = sizeof(csr);
	assert_int_equal(intune_json_success_notification(&n, "x", &b, &e), -1);
	assert_int_equal(e.code, ERR_PARSE);
	buf_free(&b);
}

static void
failure_notification_has_signed_hresult_and_clipped_description(void **state)
{
	struct intune_failure	 n = {0};
	struct buf		 b = {0}, desc = {0};
	struct err		 e;
	json_t			*j, *no;
	size_t			 i;

	(void)state;
	/* 254 ASCII bytes then a 2-byte character: it must not be cut. */
	for (i = 0; i < 254; i++)
		buf_append(&desc, "x", 1);
	buf_append_str(&desc, "\xc3\xa9 tail");
	n.transaction_id = "TX-3";
	n.csr_der = csr;
	n.csr_len = sizeof(csr);
	n.hresult = (int32_t)0x80004005u;
	n.description = buf_cstr(&desc);
	assert_int_equal(intune_json_failure_notification(&n, "c", &b, &e), 0);
	j = load(&b);
	no = json_object_get(j, "notification");
	assert_int_equal(json_integer_value(json_object_get(no, "hResult")),
	    -2147467259LL);
	assert_int_equal(strlen(str_at(j, "notification", "errorDescription")),
	    254);
	json_decref(j);
	buf_free(&b);
	buf_free(&desc);
}

static void
text_clip_replaces_invalid_utf8(void **state)
{
	struct buf	b = {0};

	(void)state;
	assert_int_equal(intune_text_clip("a\xff" "b\xc3" "c\xe2\x82\xac" "d",
	    255, &b), 0);
	assert_string_equal(buf_cstr(&b), "a?b?c\xe2\x82\xac" "d");
	buf_reset(&b);
	assert_int_equal(intune_text_clip("\xe2\x82\xac\xe2\x82\xac", 4, &b), 0);
	assert_string_equal(buf_cstr(&b), "\xe2\x82\xac");
	buf_reset(&b);
	/* Overlong form and a surrogate are not UTF-8. */
	assert_int_equal(intune_text_clip("\xc0\xaf\xed\xa0\x80", 255, &b), 0);
	assert_string_equal(buf_cstr(&b), "?????");
	buf_free(&b);
}

static void
validation_answer_success_only_for_exact_code(void **state)
{
	struct intune_validation	v;
	struct err			e;

	(void)state;
	assert_int_equal(intune_json_parse_validation(S("{\"code\":\"Success\","
	    "\"errorDescription\":\"\"}"), &v, &e), 0);
	assert_true(v.success);
	assert_int_equal(intune_json_parse_validation(S("{\"code\":\"success\"}"),
	    &v, &e), 0);
	assert_false(v.success);
	assert_int_equal(intune_json_parse_validation(S("{\"code\":"
	    "\"ChallengeExpired\",\"errorDescription\":\"too late\"}"), &v, &e),
	    0);
	assert_false(v.success);
	assert_string_equal(v.code, "ChallengeExpired");
	assert_string_equal(v.description, "too late");
}

static void
long_refusal_description_is_clipped_not_an_error(void **state)
{
	struct intune_validation	v;
	struct buf			j = {0};
	struct err			e;
	size_t				i;

	(void)state;
	buf_append_str(&j, "{\"code\":\"SubjectNameMismatch\","
	    "\"errorDescription\":\"");
	for (i = 0; i < 50000; i++)
		buf_append(&j, "d", 1);
	buf_append_str(&j, "\"}");
	assert_int_equal(intune_json_parse_validation((char *)j.data, j.len,
	    &v, &e), 0);
	assert_false(v.success);
	assert_string_equal(v.code, "SubjectNameMismatch");
	assert_int_equal(strlen(v.description), INTUNE_DESC_MAX - 1);
	buf_free(&j);
}

static void
malformed_validation_answers_are_errors_not_refusals(void **state)
{
	static const char *const bad[] = {
		"", "[]", "{}", "{\"code\":null}", "{\"code\":1}", "{\"code\":\"\"}",
		"{\"code\":\"Success\",\"code\":\"Success\"}",
		"{\"code\":\"Success\",\"errorDescription\":5}",
	};
	struct intune_validation	v;
	struct err			e;
	size_t				i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(intune_json_parse_validation(S(bad[i]), &v, &e),
		    -1);
		assert_false(v.success);
	}
}

static void
revocation_requests_are_parsed(void **state)
{
	struct intune_revocation_list	l;
	struct err			e;

	(void)state;
	assert_int_equal(intune_json_parse_revocations(S("{\"value\":["
	    "{\"requestContext\":\"c1\",\"serialNumber\":\"0A\","
	    "\"issuerName\":\"CN=CA\",\"caConfiguration\":\"cfg\"},"
	    "{\"requestContext\":\"c2\",\"serialNumber\":\"0B\","
	    "\"issuerName\":null}]}"), &l, &e), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.items[0].issuer_name, "CN=CA");
	assert_string_equal(l.items[1].serial_number, "0B");
	assert_null(l.items[1].issuer_name);
	assert_null(l.items[1].ca_configuration);
	intune_revocation_list_free(&l);
	assert_int_equal(intune_json_parse_revocations(S("{\"value\":[]}"), &l,
	    &e), 0);
	assert_int_equal(l.n, 0);
	intune_revocation_list_free(&l);
}

static void
malformed_revocation_answers_free_what_was_parsed(void **state)
{
	struct intune_revocation_list	l;
	struct err			e;

	(void)state;
	/* The second item lacks serialNumber: the first must be freed. */
	assert_int_equal(intune_json_parse_revocations(S("{\"value\":["
	    "{\"requestContext\":\"c1\",\"serialNumber\":\"0A\"},"
	    "{\"requestContext\":\"c2\"}]}"), &l, &e), -1);
	assert_int_equal(l.n, 0);
	assert_null(l.items);
	assert_int_equal(intune_json_parse_revocations(S("{\"value\":[7]}"), &l,
	    &e), -1);
	assert_int_equal(intune_json_parse_revocations(S("{\"value\":{}}"), &l,
	    &e), -1);
}

static void
upload_results_body_and_answer(void **state)
{
	struct intune_revocation_result	r[2] = {
		{ "c1", 1, 0, NULL },
		{ "c2", 0, 4101, "store busy" },
	};
	struct buf	 b = {0};
	struct err	 e;
	json_t		*j, *item;

	(void)state;
	assert_int_equal(intune_json_upload_results(r, 2, &b, &e), 0);
	j = load(&b);
	item = json_array_get(json_object_get(j, "results"), 1);
	assert_string_equal(json_string_value(json_object_get(item,
	    "requestContext")), "c2");
	assert_true(json_is_false(json_object_get(item, "succeeded")));
	assert_string_equal(json_string_value(json_object_get(item,
	    "errorCode")), "4101");
	assert_string_equal(json_string_value(json_object_get(item,
	    "errorMessage")), "store busy");
	json_decref(j);
	buf_free(&b);
	assert_int_equal(intune_json_parse_upload(S("{\"value\":true}"), &e), 0);
	assert_int_equal(intune_json_parse_upload(S("{\"value\":false}"), &e),
	    -1);
	assert_int_equal(intune_json_parse_upload(S("{\"value\":\"true\"}"),
	    &e), -1);
}

static void
download_request_body_has_null_issuer(void **state)
{
	struct buf	b = {0};
	struct err	e;

	(void)state;
	assert_int_equal(intune_json_download_request(100, &b, &e), 0);
	assert_string_equal(buf_cstr(&b), "{\"downloadParameters\":"
	    "{\"maxRequests\":100,\"issuerName\":null}}");
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(validate_request_body_has_base64_der_csr),
		cmocka_unit_test(validate_request_refuses_non_utf8_strings),
		cmocka_unit_test(
		    success_notification_computes_thumbprint_serial_and_expiry),
		cmocka_unit_test(success_notification_refuses_a_bad_certificate),
		cmocka_unit_test(
		    failure_notification_has_signed_hresult_and_clipped_description),
		cmocka_unit_test(text_clip_replaces_invalid_utf8),
		cmocka_unit_test(validation_answer_success_only_for_exact_code),
		cmocka_unit_test(
		    long_refusal_description_is_clipped_not_an_error),
		cmocka_unit_test(
		    malformed_validation_answers_are_errors_not_refusals),
		cmocka_unit_test(revocation_requests_are_parsed),
		cmocka_unit_test(
		    malformed_revocation_answers_free_what_was_parsed),
		cmocka_unit_test(upload_results_body_and_answer),
		cmocka_unit_test(download_request_body_has_null_issuer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
