/*
 * Unit tests for scep-ca's Intune notifications (scep-ca/intune/notify.c):
 * the HRESULT each refusal of ours is reported with, the self-contained
 * outbox payloads, and the send function's refusal of unusable entries
 * (no network: those fail before any call).
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
#include <openssl/x509v3.h>

#include "base/encode.h"
#include "enroll/issue.h"
#include "intune/intune_ca.h"

/* A CSR for CN=cn with a fresh RSA key of bits, optionally a SID ext. */
static void
make_req(struct scep_req *req, int bits, int sid)
{
	STACK_OF(X509_EXTENSION)	*exts = NULL;
	X509_EXTENSION			*ext;
	ASN1_OBJECT			*oid;
	ASN1_OCTET_STRING		*val;
	static const unsigned char	 der[] = { 0x30, 0x00 };

	memset(req, 0, sizeof(*req));
	snprintf(req->txid, sizeof(req->txid), "tx-1");
	req->csr_key = EVP_RSA_gen((unsigned)bits);
	req->csr = X509_REQ_new();
	assert_non_null(req->csr_key);
	assert_true(X509_REQ_set_pubkey(req->csr, req->csr_key));
	assert_true(X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(
	    req->csr), "CN", MBSTRING_UTF8, (const unsigned char *)"dev", -1,
	    -1, 0));
	if (sid) {
		exts = sk_X509_EXTENSION_new_null();
		oid = OBJ_txt2obj("1.3.6.1.4.1.311.25.2", 1);
		val = ASN1_OCTET_STRING_new();
		ASN1_OCTET_STRING_set(val, der, sizeof(der));
		ext = X509_EXTENSION_create_by_OBJ(NULL, oid, 0, val);
		sk_X509_EXTENSION_push(exts, ext);
		assert_true(X509_REQ_add_extensions(req->csr, exts));
		sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
		ASN1_OBJECT_free(oid);
		ASN1_OCTET_STRING_free(val);
	}
	assert_true(X509_REQ_sign(req->csr, req->csr_key, EVP_sha256()) > 0);
}

static void
free_req(struct scep_req *req)
{
	X509_REQ_free(req->csr);
	EVP_PKEY_free(req->csr_key);
}

static struct profile_conf *
profile(void)
{
	static struct profile_conf	p;

	memset(&p, 0, sizeof(p));
	snprintf(p.name, sizeof(p.name), "intune");
	p.key_types = "rsa:2048+";
	p.key_mask = KEY_RSA;
	p.rsa_min_bits = 2048;
	return &p;
}

static void
refused_key_is_reported_as_key_length(void **state)
{
	struct scep_req	 req;
	struct err	 why = {0};
	const char	*name;

	(void)state;
	make_req(&req, 1024, 0);
	assert_int_equal(policy_check_csr(profile(), req.csr, req.csr_key, &why),
	    -1);
	assert_int_equal(why.code, ERR_POLICY);
	assert_int_equal(intune_refusal_hresult(profile(), &req, &why, &name),
	    HR_CERTSRV_E_KEY_LENGTH);
	assert_string_equal(name, "CERTSRV_E_KEY_LENGTH");
	assert_int_equal(HR_CERTSRV_E_KEY_LENGTH, -2146875375);
	free_req(&req);
}

static void
other_policy_refusal_is_template_denied(void **state)
{
	struct scep_req	 req;
	struct err	 why = {0};
	const char	*name;

	(void)state;
	make_req(&req, 2048, 1);
	assert_int_equal(policy_check_csr(profile(), req.csr, req.csr_key, &why),
	    -1);
	assert_int_equal(intune_refusal_hresult(profile(), &req, &why, &name),
	    HR_CERTSRV_E_TEMPLATE_DENIED);
	assert_string_equal(name, "CERTSRV_E_TEMPLATE_DENIED");
	free_req(&req);
}

static void
other_refusals_map_by_error_code(void **state)
{
	struct scep_req	 req;
	struct err	 why = {0};
	const char	*name;

	(void)state;
	make_req(&req, 2048, 0);
	err_set(&why, ERR_BAD_ALG, "MD5");
	assert_int_equal(intune_refusal_hresult(profile(), &req, &why, &name),
	    HR_CERTSRV_E_WEAK_SIGNATURE_OR_KEY);
	err_set(&why, ERR_BAD_SIGNATURE, "bad");
	assert_int_equal(intune_refusal_hresult(profile(), &req, &why, &name),
	    HR_NTE_BAD_SIGNATURE);
	err_set(&why, ERR_STORE, "disk full");
	assert_int_equal(intune_refusal_hresult(profile(), &req, &why, &name),
	    HR_E_FAIL);
	assert_string_equal(name, "E_FAIL");
	assert_int_equal(HR_E_FAIL, -2147467259);
	free_req(&req);
}

static void
success_payload_is_self_contained(void **state)
{
	struct scep_conf	 conf = { .name = "ca" };
	struct scep_ctx		 ctx = { .conf = &conf,
				    .public_url = "http://pki.example" };
	struct scep_req		 req;
	struct intune_note	 note;
	struct err		 e = {0};
	struct buf		 der = {0};
	unsigned char		*csr = NULL;
	json_t			*o;
	X509			*cert = X509_new();
	int			 n;

	(void)state;
	make_req(&req, 2048, 0);
	assert_true(X509_set_pubkey(cert, req.csr_key));
	assert_true(X509_set_subject_name(cert, X509_REQ_get_subject_name(
	    req.csr)));
	assert_true(X509_set_issuer_name(cert, X509_REQ_get_subject_name(
	    req.csr)));
	assert_true(ASN1_INTEGER_set(X509_get_serialNumber(cert), 42));
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(cert), 0));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(cert), 3600));
	assert_true(X509_sign(cert, req.csr_key, EVP_sha256()) > 0);
	n = i2d_X509_REQ(req.csr, &csr);
	assert_int_equal(intune_note_success(&ctx, "tx\n1", csr, (size_t)n,
	    cert, &note, &e), 0);
	assert_string_equal(note.entry.kind, OUTBOX_KIND_INTUNE_SUCCESS);
	assert_string_equal(note.entry.ref, "tx?1");	/* fit for logs */
	o = json_loads(note.entry.payload, 0, NULL);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o,
	    "transactionId")), "tx\n1");
	assert_string_equal(json_string_value(json_object_get(o,
	    "caConfiguration")), "http://pki.example");
	assert_string_equal(json_string_value(json_object_get(o,
	    "certificateAuthority")), "ca");
	assert_int_equal(b64_decode_lenient(&der, json_string_value(
	    json_object_get(o, "certificateRequest")), strlen(json_string_value(
	    json_object_get(o, "certificateRequest")))), 0);
	assert_int_equal(der.len, (size_t)n);
	assert_memory_equal(der.data, csr, (size_t)n);
	assert_non_null(json_string_value(json_object_get(o, "certificate")));
	json_decref(o);
	buf_free(&der);
	intune_note_free(&note);
	OPENSSL_free(csr);
	X509_free(cert);
	free_req(&req);
}

static void
unusable_entries_fail_before_any_call(void **state)
{
	struct outbox_row	row = {0};
	struct err		e = {0};
	long			ra = -1;

	(void)state;
	row.kind = "intune_success";
	row.payload = "not json";
	assert_int_equal(intune_outbox_send(NULL, &row, &ra, &e), -1);
	assert_int_equal(e.code, ERR_PARSE);
	assert_int_equal(ra, 0);
	row.payload = "{\"transactionId\":\"t\",\"certificateRequest\":\"AAAA\"}";
	assert_int_equal(intune_outbox_send(NULL, &row, &ra, &e), -1);
	assert_int_equal(e.code, ERR_PARSE);	/* no certificate */
	row.kind = "intune_failure";
	row.payload = "{\"transactionId\":\"t\",\"certificateRequest\":\"AAAA\","
	    "\"hResult\":\"0x80004005\",\"errorDescription\":\"d\"}";
	assert_int_equal(intune_outbox_send(NULL, &row, &ra, &e), -1);
	assert_int_equal(e.code, ERR_PARSE);	/* hResult must be a number */
	row.kind = "revocation_result";
	row.payload = "{}";
	assert_int_equal(intune_outbox_send(NULL, &row, &ra, &e), -1);
	assert_int_equal(e.code, ERR_USAGE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(refused_key_is_reported_as_key_length),
		cmocka_unit_test(other_policy_refusal_is_template_denied),
		cmocka_unit_test(other_refusals_map_by_error_code),
		cmocka_unit_test(success_payload_is_self_contained),
		cmocka_unit_test(unusable_entries_fail_before_any_call),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
