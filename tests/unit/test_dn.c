/*
 * Unit tests for shared/pki/dn.c: names read from RFC 4514 and OpenSSL
 * text, compared as X.520 does, printed back.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "pki/dn.h"

/* Parses s (must succeed). */
static X509_NAME *
parse(const char *s)
{
	struct err	 e = {0};
	X509_NAME	*n = pki_name_parse(s, &e);

	if (n == NULL)
		fail_msg("'%s' refused: %s", s, e.msg);
	return n;
}

/* The UTF-8 value of entry i. */
static char *
value(const X509_NAME *n, int i)
{
	unsigned char	*u = NULL;
	int		 len;
	char		*s;

	len = ASN1_STRING_to_UTF8(&u,
	    X509_NAME_ENTRY_get_data(X509_NAME_get_entry(n, i)));
	assert_true(len >= 0);
	s = strndup((char *)u, (size_t)len);
	OPENSSL_free(u);
	return s;
}

/* Asserts that parsing a and b gives equal (want 1) or unequal names. */
static void
assert_same(const char *a, const char *b, int want)
{
	X509_NAME	*x = parse(a), *y = parse(b);

	if (pki_name_equal(x, y) != want)
		fail_msg("'%s' and '%s': equal %d, want %d", a, b, !want, want);
	X509_NAME_free(x);
	X509_NAME_free(y);
}

/* Asserts that pki_name_text() prints the name s parses to as want. */
static void
assert_text(const char *s, const char *want)
{
	X509_NAME	*n = parse(s);
	char		*t = pki_name_text(n);

	assert_non_null(t);
	assert_string_equal(t, want);
	free(t);
	X509_NAME_free(n);
}

static void
name_parse_reads_rfc4514_escapes(void **state)
{
	X509_NAME	*n;
	char		*v;

	(void)state;
	n = parse("CN=a\\,b\\+c\\\"d\\\\e\\<f\\>g\\;h\\=i");
	assert_int_equal(X509_NAME_entry_count(n), 1);
	assert_string_equal(v = value(n, 0), "a,b+c\"d\\e<f>g;h=i");
	free(v);
	X509_NAME_free(n);
	/* Escaped spaces at the ends are kept, plain ones are not. */
	n = parse("CN=\\ lead and trail\\ ,O=  spaced  ");
	assert_string_equal(v = value(n, 1), " lead and trail ");
	free(v);
	assert_string_equal(v = value(n, 0), "spaced");
	free(v);
	X509_NAME_free(n);
	/* A hexpair is a byte: UTF-8 written out. */
	n = parse("CN=caf\\C3\\A9 \\23\\2c");
	assert_string_equal(v = value(n, 0), "caf\xc3\xa9 #,");
	free(v);
	X509_NAME_free(n);
	assert_same("CN=#0c0131", "CN=1", 1);
	assert_text("CN=\\#1", "CN=\\#1");
	assert_text("CN=caf\\C3\\A9\\, Inc.", "CN=caf\xc3\xa9\\, Inc.");
}

static void
name_parse_reads_multi_valued_rdns(void **state)
{
	X509_NAME	*n;

	(void)state;
	n = parse("CN=a+UID=x,O=b");
	assert_int_equal(X509_NAME_entry_count(n), 3);
	/* O is the most significant RDN; CN and UID share the next one. */
	assert_int_equal(OBJ_obj2nid(X509_NAME_ENTRY_get_object(
	    X509_NAME_get_entry(n, 0))), NID_organizationName);
	assert_int_equal(X509_NAME_ENTRY_set(X509_NAME_get_entry(n, 1)),
	    X509_NAME_ENTRY_set(X509_NAME_get_entry(n, 2)));
	assert_int_not_equal(X509_NAME_ENTRY_set(X509_NAME_get_entry(n, 0)),
	    X509_NAME_ENTRY_set(X509_NAME_get_entry(n, 1)));
	X509_NAME_free(n);
	assert_text("CN=a+UID=x,O=b", "CN=a+UID=x,O=b");
	/* The values of one RDN are a set: their order does not matter. */
	assert_same("CN=a+UID=x,O=b", "UID=x+CN=a,O=b", 1);
	/* Two RDNs are not one RDN of two values. */
	assert_same("CN=a+UID=x,O=b", "CN=a,UID=x,O=b", 0);
	/* OpenSSL's form, as `openssl req -subj`: '+' is no separator. */
	n = parse("/O=b/CN=a+x");
	assert_int_equal(X509_NAME_entry_count(n), 2);
	X509_NAME_free(n);
}

static void
name_equal_ignores_case_and_spaces_as_caseignorematch(void **state)
{
	X509_NAME	*n, *printable;

	(void)state;
	assert_same("CN=Test  CA,O=Example", "cn=test ca, o=EXAMPLE", 1);
	assert_same("CN=\\ Test CA\\ ", "CN=test ca", 1);
	assert_same("CN=Test CA", "CN=TestCA", 0);
	/* Non-ASCII letters are not folded by OpenSSL's canonical form. */
	assert_same("CN=caf\\C3\\A9", "CN=CAF\\C3\\89", 0);
	/* PrintableString against UTF8String: both canonicalised. */
	n = parse("CN=Test CA");
	printable = X509_NAME_new();
	assert_non_null(printable);
	assert_true(X509_NAME_add_entry_by_txt(printable, "CN",
	    V_ASN1_PRINTABLESTRING, (const unsigned char *)"TEST  CA", -1, -1,
	    0));
	assert_true(pki_name_equal(n, printable));
	X509_NAME_free(printable);
	X509_NAME_free(n);
}

static void
name_equal_keeps_the_order_of_rdns(void **state)
{
	X509_NAME	*n, *rev;

	(void)state;
	/* RFC 4514 writes the most significant last, OpenSSL's form first. */
	assert_same("CN=a,O=b,C=US", "/C=US/O=b/CN=a", 1);
	assert_same("CN=a,O=b,C=US", "C=US,O=b,CN=a", 0);
	n = parse("C=US, O=b, CN=a");
	rev = pki_name_reversed(n);
	assert_non_null(rev);
	X509_NAME_free(n);
	n = parse("CN=a,O=b,C=US");
	assert_true(pki_name_equal(rev, n));
	X509_NAME_free(rev);
	X509_NAME_free(n);
	/* A multi-valued RDN stays whole when the order is turned. */
	n = parse("CN=a+UID=x,O=b");
	rev = pki_name_reversed(n);
	assert_non_null(rev);
	X509_NAME_free(n);
	n = parse("O=b,CN=a+UID=x");
	assert_true(pki_name_equal(rev, n));
	X509_NAME_free(rev);
	X509_NAME_free(n);
}

static void
name_equal_tells_different_der_with_the_same_text(void **state)
{
	X509_NAME	*numeric, *utf8;
	char		*a, *b;

	(void)state;
	/* NumericString "123" (RFC 4514 §2.4 "#" form) and UTF8String. */
	numeric = parse("CN=#1203313233");
	utf8 = parse("CN=123");
	a = pki_name_text(numeric);
	b = pki_name_text(utf8);
	assert_non_null(a);
	assert_non_null(b);
	assert_string_equal(a, b);
	assert_false(pki_name_equal(numeric, utf8));
	assert_true(pki_name_equal(numeric, numeric));
	assert_false(pki_name_equal(numeric, NULL));
	assert_false(pki_name_equal(NULL, NULL));
	free(a);
	free(b);
	X509_NAME_free(numeric);
	X509_NAME_free(utf8);
}

static void
name_parse_reads_windows_and_oid_types(void **state)
{
	X509_NAME	*n;

	(void)state;
	assert_same("OID.2.5.4.3=x", "CN=x", 1);
	assert_same("2.5.4.3=x", "commonName=x", 1);
	assert_same("E=a@b.example,S=WA,C=US",
	    "emailAddress=a@b.example,ST=WA,C=US", 1);
	assert_same("street=1 Main,serialNumber=7", "STREET=1 Main,"
	    "SERIALNUMBER=7", 1);
	/* C is a PrintableString of two letters, as its attribute wants. */
	n = parse("C=US");
	assert_int_equal(ASN1_STRING_type(X509_NAME_ENTRY_get_data(
	    X509_NAME_get_entry(n, 0))), V_ASN1_PRINTABLESTRING);
	X509_NAME_free(n);
}

static void
name_parse_refuses_bad_text(void **state)
{
	static const char *const bad[] = {
		"", " , ,", "CN", "CN=", "=x", "XX=1", "CN=a,O", "CN=a\\",
		"CN=a+", "CN=a\\00b", "CN=#zz", "CN=#0101ff", "CN=#0c0161ff",
		"CN=#0c03610062", "C=USA", "/CN=a/O",
	};
	struct err	 e = {0};
	X509_NAME	*n;
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&e, 0, sizeof(e));
		if ((n = pki_name_parse(bad[i], &e)) != NULL) {
			X509_NAME_free(n);
			fail_msg("'%s' was read", bad[i]);
		}
		assert_true(e.msg[0] != '\0');
		/* The message says it all: OpenSSL's queue is untouched. */
		assert_int_equal(ERR_peek_error(), 0);
	}
	/* Empty RDNs are skipped. */
	assert_same("CN=a,,O=b,", "CN=a,O=b", 1);
	assert_same("/O=b//CN=a/", "/O=b/CN=a", 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(name_parse_reads_rfc4514_escapes),
		cmocka_unit_test(name_parse_reads_multi_valued_rdns),
		cmocka_unit_test(name_equal_ignores_case_and_spaces_as_caseignorematch),
		cmocka_unit_test(name_equal_keeps_the_order_of_rdns),
		cmocka_unit_test(name_equal_tells_different_der_with_the_same_text),
		cmocka_unit_test(name_parse_reads_windows_and_oid_types),
		cmocka_unit_test(name_parse_refuses_bad_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
