/*
 * Unit tests for the issuance policy (scep-ca/enroll/issue.c): CSRs whose
 * subject or SAN holds a NUL byte are refused before anything is stored,
 * and a renewal's CSR may ask for nothing its parent does not have.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "config.h"
#include "enroll/issue.h"

static EVP_PKEY *key;

static int
setup_key(void **state)
{
	(void)state;
	key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	return key != NULL ? 0 : -1;
}

static int
teardown_key(void **state)
{
	(void)state;
	EVP_PKEY_free(key);
	return 0;
}

static void
profile(struct profile_conf *p)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "default");
	p->key_mask = KEY_RSA | KEY_EC_P256;
	p->rsa_min_bits = 2048;
	p->copy_subject = "all";
	p->san_mask = SAN_DNS | SAN_EMAIL | SAN_URI | SAN_UPN;
	p->key_types = "rsa:2048+ ec:p256";
}

/* A signed CSR for CN=cn (cn_len bytes) with an email SAN (email_len). */
static X509_REQ *
csr(const char *cn, int cn_len, const char *email, int email_len)
{
	X509_REQ			*r = X509_REQ_new();
	STACK_OF(X509_EXTENSION)	*exts = sk_X509_EXTENSION_new_null();
	GENERAL_NAMES			*names = GENERAL_NAMES_new();
	GENERAL_NAME			*gn = GENERAL_NAME_new();
	ASN1_IA5STRING			*ia5 = ASN1_IA5STRING_new();
	X509_EXTENSION			*ext;

	assert_non_null(r);
	assert_int_equal(X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(r),
	    "CN", MBSTRING_UTF8, (const unsigned char *)cn, cn_len, -1, 0), 1);
	if (email != NULL) {
		assert_int_equal(ASN1_STRING_set(ia5, email, email_len), 1);
		GENERAL_NAME_set0_value(gn, GEN_EMAIL, ia5);
		sk_GENERAL_NAME_push(names, gn);
		ext = X509V3_EXT_i2d(NID_subject_alt_name, 0, names);
		sk_X509_EXTENSION_push(exts, ext);
		X509_REQ_add_extensions(r, exts);
	} else {
		GENERAL_NAME_free(gn);
		ASN1_IA5STRING_free(ia5);
	}
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	GENERAL_NAMES_free(names);
	assert_int_equal(X509_REQ_set_pubkey(r, key), 1);
	assert_true(X509_REQ_sign(r, key, EVP_sha256()) > 0);
	return r;
}

static void
plain_csr_passes(void **state)
{
	struct profile_conf	 p;
	struct err		 e = {0};
	X509_REQ		*r = csr("device", -1, "alice@example.com", 17);

	(void)state;
	profile(&p);
	assert_int_equal(policy_check_csr(&p, r, key, &e), 0);
	X509_REQ_free(r);
}

static void
nul_in_subject_is_refused(void **state)
{
	struct profile_conf	 p;
	struct err		 e = {0};
	X509_REQ		*r = csr("alice\0evil", 10, NULL, 0);

	(void)state;
	profile(&p);
	assert_int_equal(policy_check_csr(&p, r, key, &e), -1);
	assert_int_equal(e.code, ERR_BAD_REQUEST);
	X509_REQ_free(r);
}

static void
nul_in_san_is_refused(void **state)
{
	struct profile_conf	 p;
	struct err		 e = {0};
	X509_REQ		*r = csr("device", -1, "alice@x\0.evil", 13);

	(void)state;
	profile(&p);
	assert_int_equal(policy_check_csr(&p, r, key, &e), -1);
	assert_int_equal(e.code, ERR_BAD_REQUEST);
	X509_REQ_free(r);
}

/* A certificate for a CSR, as a parent of a renewal (self-signed). */
static X509 *
parent_of(X509_REQ *r)
{
	struct profile_conf	 p;
	struct issue_params	 ip = { .profile = &p, .validity_days = 10,
		.now = 1700000000 };
	struct err		 e = {0};
	X509			*x, *ca;

	profile(&p);
	p.eku = "clientAuth";
	assert_non_null(ca = X509_new());
	assert_int_equal(X509_set_pubkey(ca, key), 1);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(ca), "CN",
	    MBSTRING_UTF8, (const unsigned char *)"CA", -1, -1, 0);
	X509_gmtime_adj(X509_getm_notAfter(ca), 86400 * 365);
	assert_int_equal(issue_add_ext(ca, ca, NID_subject_key_identifier,
	    "hash", &e), 0);
	ip.ca_cert = ca;
	x = issue_build(&ip, r, key, &e);
	assert_non_null(x);
	X509_free(ca);
	return x;
}

static void
renewal_may_ask_for_less_but_not_more(void **state)
{
	struct profile_conf	 p;
	struct err		 e = {0};
	X509_REQ		*orig = csr("device", -1, "alice@example.com", 17);
	X509_REQ		*same = csr("device", -1, "alice@example.com", 17);
	X509_REQ		*none = csr("device", -1, NULL, 0);
	X509_REQ		*other = csr("device", -1, "ceo@example.com", 15);
	X509_REQ		*renamed = csr("ceo", -1, NULL, 0);
	X509			*parent = parent_of(orig);

	(void)state;
	profile(&p);
	assert_int_equal(issue_renewal_check(&p, same, parent, &e), 0);
	assert_int_equal(issue_renewal_check(&p, none, parent, &e), 0);
	assert_int_equal(issue_renewal_check(&p, other, parent, &e), -1);
	assert_int_equal(e.code, ERR_BAD_REQUEST);
	assert_int_equal(issue_renewal_check(&p, renamed, parent, &e), -1);
	X509_free(parent);
	X509_REQ_free(orig);
	X509_REQ_free(same);
	X509_REQ_free(none);
	X509_REQ_free(other);
	X509_REQ_free(renamed);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(plain_csr_passes),
		cmocka_unit_test(nul_in_subject_is_refused),
		cmocka_unit_test(nul_in_san_is_refused),
		cmocka_unit_test(renewal_may_ask_for_less_but_not_more),
	};

	return cmocka_run_group_tests(tests, setup_key, teardown_key);
}
