/*
 * Unit tests for the identity mapping of shared/identity.c: which
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

#include "identity.h"

#define ENTRA	"5b7f3e2a-9c41-4d8e-b6a0-1f2e3d4c5b6a"
#define INTUNE	"a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"

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
	identity_from_san_text("DNS:x, URI:IntuneDeviceId://" INTUNE
	    ", othername: UPN::carol@contoso.example", &id);
	assert_string_equal(id.intune_device_id, INTUNE);
	assert_string_equal(id.upn, "carol@contoso.example");
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
