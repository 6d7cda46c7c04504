/*
 * Unit tests for the identity mapping of shared/pki/identity.c: which
 * certificate fields become the Entra deviceId, the Intune device id and
 * the UPN of a store row.  Certificates are built with OpenSSL here.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/x509v3.h>

#include "pki/identity.h"

#define ENTRA	"5b7f3e2a-9c41-4d8e-b6a0-1f2e3d4c5b6a"
#define INTUNE	"a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"
#define VICTIM	"99999999-9999-4999-8999-999999999999"

/* No SAN, for make_cert_bytes() (GEN_OTHERNAME is 0). */
#define SAN_NONE	(-1)

/* "alice@x\0.evil": what a C string reads as "alice@x". */
#define NUL_UPN		"alice@x\0.evil"
#define NUL_UPN_LEN	(sizeof(NUL_UPN) - 1)

/* A certificate with subject CN (and serialNumber) and SAN text san. */
static X509 *
make_cert(const char *cn, const char *serial_number, const char *san)
{
	X509		*x = X509_new();
	X509_NAME	*name = X509_get_subject_name(x);
	X509_EXTENSION	*ext;
	X509V3_CTX	 ctx;

	assert_non_null(x);
	assert_true(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0));
	if (serial_number != NULL)
		assert_true(X509_NAME_add_entry_by_txt(name, "serialNumber",
		    MBSTRING_UTF8, (const unsigned char *)serial_number, -1, -1,
		    0));
	if (san != NULL) {
		X509V3_set_ctx(&ctx, NULL, x, NULL, NULL, 0);
		ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, san);
		assert_non_null(ext);
		assert_true(X509_add_ext(x, ext, -1));
		X509_EXTENSION_free(ext);
	}
	return x;
}

/* An IA5String (or UTF8String) of n bytes, NULs included. */
static ASN1_STRING *
bytes_string(int type, const char *s, size_t n)
{
	ASN1_STRING	*a = ASN1_STRING_type_new(type);

	assert_non_null(a);
	assert_true(ASN1_STRING_set(a, s, (int)n));
	return a;
}

/* Appends a SAN entry of type with n bytes of s (a UPN for GEN_OTHERNAME). */
static void
san_add(GENERAL_NAMES *names, int type, const char *s, size_t n)
{
	GENERAL_NAME	*gn = GENERAL_NAME_new();
	ASN1_TYPE	*v;

	assert_non_null(gn);
	if (type == GEN_OTHERNAME) {
		assert_non_null(v = ASN1_TYPE_new());
		ASN1_TYPE_set(v, V_ASN1_UTF8STRING,
		    bytes_string(V_ASN1_UTF8STRING, s, n));
		assert_true(GENERAL_NAME_set0_othername(gn,
		    OBJ_nid2obj(NID_ms_upn), v));
	} else {
		GENERAL_NAME_set0_value(gn, type,
		    bytes_string(V_ASN1_IA5STRING, s, n));
	}
	assert_true(sk_GENERAL_NAME_push(names, gn));
}

/*
 * A certificate whose subject CN is n bytes of cn and whose SAN holds
 * one entry of san_type (SAN_NONE: none) with n bytes of san.
 */
static X509 *
make_cert_bytes(const char *cn, size_t cn_len, int san_type, const char *san,
    size_t san_len)
{
	X509		*x = X509_new();
	GENERAL_NAMES	*names = sk_GENERAL_NAME_new_null();

	assert_non_null(x);
	assert_true(X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN",
	    MBSTRING_UTF8, (const unsigned char *)cn, (int)cn_len, -1, 0));
	if (san_type != SAN_NONE) {
		san_add(names, san_type, san, san_len);
		assert_true(X509_add1_ext_i2d(x, NID_subject_alt_name, names, 0,
		    X509V3_ADD_DEFAULT));
	}
	GENERAL_NAMES_free(names);
	return x;
}

/* A CSR like make_cert_bytes(), the SAN in an extensionRequest. */
static X509_REQ *
make_req_bytes(const char *cn, size_t cn_len, int san_type, const char *san,
    size_t san_len)
{
	X509_REQ			*req = X509_REQ_new();
	GENERAL_NAMES			*names = sk_GENERAL_NAME_new_null();
	STACK_OF(X509_EXTENSION)	*exts = NULL;

	assert_non_null(req);
	assert_true(X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req),
	    "CN", MBSTRING_UTF8, (const unsigned char *)cn, (int)cn_len, -1, 0));
	if (san_type != SAN_NONE) {
		san_add(names, san_type, san, san_len);
		assert_true(X509V3_add1_i2d(&exts, NID_subject_alt_name, names,
		    0, X509V3_ADD_DEFAULT));
		assert_true(X509_REQ_add_extensions(req, exts));
	}
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	GENERAL_NAMES_free(names);
	return req;
}

/* The SAN of x as text, as FreeRADIUS publishes it (X509V3_EXT_print). */
static void
san_text_of(X509 *x, char *out, size_t outlen)
{
	BIO	*bio = BIO_new(BIO_s_mem());
	int	 n;

	assert_non_null(bio);
	assert_true(X509V3_EXT_print(bio, X509_get_ext(x,
	    X509_get_ext_by_NID(x, NID_subject_alt_name, -1)), 0, 0));
	n = BIO_read(bio, out, (int)outlen - 1);
	assert_true(n > 0);
	out[n] = '\0';
	BIO_free(bio);
}

static void
map_of(struct identity_map *m, const char *intune, const char *entra,
    const char *upn)
{
	struct err	e = {0};

	assert_int_equal(identity_rule_parse(intune, &m->intune_device_id, &e), 0);
	assert_int_equal(identity_rule_parse(entra, &m->entra_device_id, &e), 0);
	assert_int_equal(identity_rule_parse(upn, &m->upn, &e), 0);
}

static void
default_mapping_reads_intune_uri_and_upn(void **state)
{
	X509			*x = make_cert(ENTRA, NULL, "URI:IntuneDeviceId://"
				    INTUNE ", otherName:1.3.6.1.4.1.311.20.2.3;"
				    "UTF8:alice@contoso.example, DNS:dev.example");
	struct identity_map	 m;
	struct cert_identity	 id, old;

	(void)state;
	identity_map_default(&m);
	identity_from_cert_map(x, &m, &id);
	assert_string_equal(id.intune_device_id, INTUNE);
	assert_string_equal(id.upn, "alice@contoso.example");
	assert_string_equal(id.entra_device_id, "");	/* default: none */
	/* identity_from_cert() is the default mapping. */
	identity_from_cert(x, &old);
	assert_memory_equal(&id, &old, sizeof(id));
	X509_free(x);
}

static void
scheme_matches_in_any_case(void **state)
{
	X509			*x = make_cert("d", NULL,
				    "URI:intunedeviceid://" INTUNE);
	struct cert_identity	 id;

	(void)state;
	identity_from_cert(x, &id);
	assert_string_equal(id.intune_device_id, INTUNE);
	X509_free(x);
}

static void
mapping_takes_subject_attributes_and_uri_prefixes(void **state)
{
	X509			*x = make_cert(ENTRA, "SN-42",
				    "URI:urn:device:" INTUNE ", email:bob@x.example");
	struct identity_map	 m;
	struct cert_identity	 id;

	(void)state;
	map_of(&m, "san_uri_prefix:urn:device:", "subject:CN", "san_email");
	identity_from_cert_map(x, &m, &id);
	assert_string_equal(id.intune_device_id, INTUNE);
	assert_string_equal(id.entra_device_id, ENTRA);
	assert_string_equal(id.upn, "bob@x.example");
	map_of(&m, "subject:serialNumber", "none", "none");
	identity_from_cert_map(x, &m, &id);
	assert_string_equal(id.intune_device_id, "SN-42");
	assert_string_equal(id.entra_device_id, "");
	assert_string_equal(id.upn, "");
	X509_free(x);
}

static void
first_source_with_a_value_wins(void **state)
{
	X509			*x = make_cert("from-cn", NULL,
				    "URI:EntraDeviceId://" ENTRA ", DNS:host.example");
	struct identity_map	 m;
	struct cert_identity	 id;

	(void)state;
	/* Absent first source: the next one. */
	map_of(&m, "none", "san_uri:Missing, san_uri:EntraDeviceId, subject:CN",
	    "san_upn, san_dns");
	identity_from_cert_map(x, &m, &id);
	assert_string_equal(id.entra_device_id, ENTRA);
	assert_string_equal(id.upn, "host.example");
	/* Both present: the order decides. */
	map_of(&m, "none", "subject:CN san_uri:EntraDeviceId", "none");
	identity_from_cert_map(x, &m, &id);
	assert_string_equal(id.entra_device_id, "from-cn");
	X509_free(x);
}

static void
values_that_are_not_identifiers_are_skipped(void **state)
{
	X509			*x = make_cert("has space", NULL,
				    "URI:IntuneDeviceId://a/b?c, URI:IntuneDeviceId://"
				    INTUNE);
	struct identity_map	 m;
	struct cert_identity	 id;

	(void)state;
	map_of(&m, "san_uri:IntuneDeviceId", "subject:CN", "none");
	identity_from_cert_map(x, &m, &id);
	/* The first URI is no identifier: the second one counts. */
	assert_string_equal(id.intune_device_id, INTUNE);
	assert_string_equal(id.entra_device_id, "");
	X509_free(x);
}

static void
certificate_without_san_gives_only_subject_fields(void **state)
{
	X509			*x = make_cert(ENTRA, NULL, NULL);
	struct identity_map	 m;
	struct cert_identity	 id;

	(void)state;
	map_of(&m, "san_uri:IntuneDeviceId", "subject:CN", "san_upn");
	identity_from_cert_map(x, &m, &id);
	assert_string_equal(id.intune_device_id, "");
	assert_string_equal(id.entra_device_id, ENTRA);
	assert_string_equal(id.upn, "");
	X509_free(x);
}

static void
bad_source_lists_are_refused(void **state)
{
	static const char *const bad[] = {
		"", "   ", "san_uri", "san_uri:", "subject:NoSuchAttribute",
		"subject", "san_upn:x", "whatever", "none, san_upn",
		"san_dns san_dns san_dns san_dns san_dns",
	};
	struct identity_rule	r;
	struct err		e = {0};
	size_t			i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err_clear(&e);
		assert_int_equal(identity_rule_parse(bad[i], &r, &e), -1);
		assert_int_equal(e.code, ERR_CONFIG);
	}
	assert_int_equal(identity_rule_parse("SAN_URI:IntuneDeviceId,"
	    "subject:2.5.4.5", &r, &e), 0);
	assert_int_equal(r.n, 2);
	assert_string_equal(r.src[0].prefix, "IntuneDeviceId://");
	assert_int_equal(r.src[1].nid, NID_serialNumber);
	assert_int_equal(identity_rule_parse("none", &r, &e), 0);
	assert_int_equal(r.n, 0);
}

static void
san_text_parsing_is_unchanged(void **state)
{
	struct cert_identity	id;

	(void)state;
	assert_int_equal(identity_from_san_text("DNS:x, URI:IntuneDeviceId://"
	    INTUNE ", othername: UPN::carol@contoso.example", &id), 0);
	assert_string_equal(id.intune_device_id, INTUNE);
	assert_string_equal(id.upn, "carol@contoso.example");
}

/* ---- NUL bytes ------------------------------------------------------------ */

static void
identity_value_with_a_nul_is_refused(void **state)
{
	struct identity_map	 m;
	struct cert_identity	 id;
	X509			*x;

	(void)state;
	/* UPN otherName (default mapping). */
	x = make_cert_bytes("d", 1, GEN_OTHERNAME, NUL_UPN, NUL_UPN_LEN);
	assert_int_equal(identity_from_cert(x, &id), -1);
	assert_string_equal(id.upn, "");
	X509_free(x);
	/* URI. */
	x = make_cert_bytes("d", 1, GEN_URI, "IntuneDeviceId://" INTUNE "\0x",
	    sizeof("IntuneDeviceId://" INTUNE "\0x") - 1);
	assert_int_equal(identity_from_cert(x, &id), -1);
	assert_string_equal(id.intune_device_id, "");
	X509_free(x);
	/* Email, and a subject attribute (every field then empty). */
	x = make_cert_bytes(NUL_UPN, NUL_UPN_LEN, GEN_EMAIL, NUL_UPN,
	    NUL_UPN_LEN);
	map_of(&m, "san_uri:IntuneDeviceId", "subject:CN", "san_email");
	assert_int_equal(identity_from_cert_map(x, &m, &id), -1);
	assert_string_equal(id.entra_device_id, "");
	assert_string_equal(id.upn, "");
	map_of(&m, "none", "none", "san_email");
	assert_int_equal(identity_from_cert_map(x, &m, &id), -1);
	X509_free(x);
	/* The same values without the NUL are read. */
	x = make_cert_bytes("alice@x", 7, GEN_OTHERNAME, "alice@x", 7);
	assert_int_equal(identity_from_cert(x, &id), 0);
	assert_string_equal(id.upn, "alice@x");
	X509_free(x);
}

static void
csr_with_a_nul_in_its_names_is_refused(void **state)
{
	static const int	 types[] = { GEN_OTHERNAME, GEN_URI, GEN_EMAIL,
				    GEN_DNS };
	struct err		 e = {0};
	X509_REQ		*req;
	X509			*x;
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		req = make_req_bytes("d", 1, types[i], NUL_UPN, NUL_UPN_LEN);
		err_clear(&e);
		assert_int_equal(identity_req_check(req, &e), -1);
		assert_int_equal(e.code, ERR_BAD_REQUEST);
		assert_non_null(strstr(e.msg, "NUL byte in a SAN"));
		X509_REQ_free(req);
		x = make_cert_bytes("d", 1, types[i], NUL_UPN, NUL_UPN_LEN);
		assert_int_equal(identity_cert_check(x, &e), -1);
		X509_free(x);
	}
	req = make_req_bytes(NUL_UPN, NUL_UPN_LEN, SAN_NONE, NULL, 0);
	assert_int_equal(identity_req_check(req, &e), -1);
	assert_string_equal(e.msg, "identity: NUL byte in the subject's CN");
	X509_REQ_free(req);
	/* Clean names, and a name without SAN, pass. */
	req = make_req_bytes("alice@x", 7, GEN_OTHERNAME, "alice@x", 7);
	assert_int_equal(identity_req_check(req, &e), 0);
	X509_REQ_free(req);
	req = make_req_bytes("d", 1, SAN_NONE, NULL, 0);
	assert_int_equal(identity_req_check(req, &e), 0);
	X509_REQ_free(req);
	x = make_cert(ENTRA, "SN-1", "URI:IntuneDeviceId://" INTUNE
	    ", DNS:d.example, IP:192.0.2.1");
	assert_int_equal(identity_cert_check(x, &e), 0);
	X509_free(x);
}

/* ---- SAN text ------------------------------------------------------------- */

static void
san_text_with_two_candidates_for_a_field_is_refused(void **state)
{
	struct cert_identity	 id;
	X509			*x;
	char			 text[1024];

	(void)state;
	/* A DNS name carrying ", URI:..." before the real URI. */
	x = make_cert_bytes("d", 1, GEN_DNS, "x, URI:IntuneDeviceId://" VICTIM,
	    sizeof("x, URI:IntuneDeviceId://" VICTIM) - 1);
	san_text_of(x, text, sizeof(text));
	assert_string_equal(text, "DNS:x, URI:IntuneDeviceId://" VICTIM);
	X509_free(x);
	assert_int_equal(identity_from_san_text("DNS:x, URI:IntuneDeviceId://"
	    VICTIM ", URI:IntuneDeviceId://" INTUNE, &id), -1);
	assert_string_equal(id.intune_device_id, "");
	/* An email carrying a UPN, in either spelling and any case. */
	assert_int_equal(identity_from_san_text("email:a@x.example, othername: "
	    "UPN::ceo@x.example, othername: UPN::alice@x.example", &id), -1);
	assert_string_equal(id.upn, "");
	assert_int_equal(identity_from_san_text("othername:upn:ceo@x.example, "
	    "othername: UPN::alice@x.example", &id), -1);
	assert_int_equal(identity_from_san_text("DNS:x,uri:intunedeviceid://"
	    VICTIM ", URI:IntuneDeviceId://" INTUNE, &id), -1);
	/* The same value twice is still two candidates. */
	assert_int_equal(identity_from_san_text("URI:IntuneDeviceId://" INTUNE
	    ", URI:IntuneDeviceId://" INTUNE, &id), -1);
}

static void
san_text_candidate_that_is_no_identifier_is_refused(void **state)
{
	struct cert_identity	id;

	(void)state;
	assert_int_equal(identity_from_san_text("URI:IntuneDeviceId://a/b",
	    &id), -1);
	assert_int_equal(identity_from_san_text("URI:IntuneDeviceId://",
	    &id), -1);
	assert_int_equal(identity_from_san_text("othername: UPN::a b@x", &id),
	    -1);
	/* One candidate per field, and names that are none, are read. */
	assert_int_equal(identity_from_san_text("DNS:a, URI:https://x/y, "
	    "email:b@x, URI:IntuneDeviceId://" INTUNE ", othername: UPN::"
	    "carol@x.example, IP Address:192.0.2.1", &id), 0);
	assert_string_equal(id.intune_device_id, INTUNE);
	assert_string_equal(id.upn, "carol@x.example");
	assert_int_equal(identity_from_san_text("", &id), 0);
	assert_string_equal(id.intune_device_id, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(default_mapping_reads_intune_uri_and_upn),
		cmocka_unit_test(scheme_matches_in_any_case),
		cmocka_unit_test(mapping_takes_subject_attributes_and_uri_prefixes),
		cmocka_unit_test(first_source_with_a_value_wins),
		cmocka_unit_test(values_that_are_not_identifiers_are_skipped),
		cmocka_unit_test(certificate_without_san_gives_only_subject_fields),
		cmocka_unit_test(bad_source_lists_are_refused),
		cmocka_unit_test(san_text_parsing_is_unchanged),
		cmocka_unit_test(identity_value_with_a_nul_is_refused),
		cmocka_unit_test(csr_with_a_nul_in_its_names_is_refused),
		cmocka_unit_test(san_text_with_two_candidates_for_a_field_is_refused),
		cmocka_unit_test(san_text_candidate_that_is_no_identifier_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
