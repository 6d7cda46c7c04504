/*
 * init.c - creates a CA directory's key material: a new root CA (or an
 * imported issuing CA) and the RA certificate SCEP clients encrypt to.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "base/log.h"
#include "ca/ca.h"
#include "ca/ca_int.h"
#include "enroll/issue.h"
#include "pki/pki.h"

/* Files ca_create() may make, removed again if it fails half-way. */
static const char *const made_files[] = {
	"ca.crt", "ca.key", "ra.crt", "ra.key", "chain.pem", "ocsp.crt",
	"ocsp.key",
};

/* Builds and self-signs (issuer == NULL) or CA-signs a certificate. */
static X509 *
make_cert(const X509_NAME *subject, EVP_PKEY *key, X509 *issuer,
    EVP_PKEY *issuer_key, long days, int is_ca, struct err *e)
{
	X509		*x;
	X509		*signer;
	const EVP_MD	*md;

	if ((x = X509_new()) == NULL || !X509_set_version(x, 2) ||
	    issue_random_serial(x, e) == -1 ||
	    !X509_set_subject_name(x, subject) ||
	    !X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) :
	    subject) ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), -300) ||
	    !X509_time_adj_ex(X509_getm_notAfter(x), (int)days, 0, NULL) ||
	    !X509_set_pubkey(x, key))
		goto fail;
	signer = issuer != NULL ? issuer : x;
	if (is_ca) {
		if (issue_add_ext(x, signer, NID_basic_constraints,
		    "critical,CA:TRUE", e) == -1 ||
		    issue_add_ext(x, signer, NID_key_usage,
		    "critical,keyCertSign,cRLSign,digitalSignature", e) == -1)
			goto fail;
	} else if (issue_add_ext(x, signer, NID_basic_constraints,
	    "critical,CA:FALSE", e) == -1 ||
	    /* RFC 8894 §2.1.2: the RA signs and is encrypted to. */
	    issue_add_ext(x, signer, NID_key_usage,
	    "critical,digitalSignature,keyEncipherment", e) == -1)
		goto fail;
	if (issue_add_ext(x, signer, NID_subject_key_identifier, "hash", e) == -1 ||
	    issue_add_ext(x, signer, NID_authority_key_identifier, "keyid:always",
	    e) == -1)
		goto fail;
	md = EVP_PKEY_is_a(issuer_key, "EC") && EVP_PKEY_get_bits(issuer_key) >
	    256 ? EVP_sha384() : EVP_sha256();
	if (X509_sign(x, issuer_key, md) <= 0)
		goto fail;
	return x;
fail:
	if (e != NULL && e->code == ERR_OK)
		err_set_ossl(e, ERR_INTERNAL, "cannot build a certificate");
	X509_free(x);
	return NULL;
}

/* Loads an existing issuing CA (and chain) and checks it. */
static int
import_ca(const struct ca_create_opts *o, X509 **cert, EVP_PKEY **key,
    STACK_OF(X509) **chain, struct err *e)
{
	if ((*chain = pki_read_certs(o->import_cert, e)) == NULL ||
	    (*key = pki_read_key(o->import_key, o->import_passphrase, 0, e)) == NULL)
		return -1;
	*cert = sk_X509_shift(*chain);
	if (X509_check_private_key(*cert, *key) != 1) {
		ERR_clear_error();
		return err_set(e, ERR_USAGE, "%s does not belong to %s",
		    o->import_key, o->import_cert);
	}
	if (X509_check_ca(*cert) == 0)
		log_warn("init", "%s is not marked as a CA (no basicConstraints"
		    " CA:TRUE): relying parties will not accept what it issues",
		    o->import_cert);
	if (X509_cmp_current_time(X509_get0_notAfter(*cert)) < 0)
		log_warn("init", "%s has expired", o->import_cert);
	return 0;
}

/* Writes DIR/name for a certificate or key; records it as made. */
static int
write_file(const char *dir, const char *name, X509 *x, EVP_PKEY *k,
    const char *passphrase, struct err *e)
{
	char	*path;
	int	 rc;

	if (asprintf(&path, "%s/%s", dir, name) == -1)
		return err_set(e, ERR_NOMEM, "out of memory");
	rc = x != NULL ? pki_write_cert(path, x, e) :
	    pki_write_key(path, k, passphrase, e);
	free(path);
	return rc;
}

static int
write_chain(const char *dir, STACK_OF(X509) *chain, struct err *e)
{
	BIO	*bio = NULL;
	BUF_MEM	*mem;
	char	*path = NULL;
	int	 i, rc = -1;

	if (sk_X509_num(chain) == 0)
		return 0;
	if (asprintf(&path, "%s/chain.pem", dir) == -1 ||
	    (bio = BIO_new(BIO_s_mem())) == NULL) {
		err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < sk_X509_num(chain); i++)
		PEM_write_bio_X509(bio, sk_X509_value(chain, i));
	BIO_get_mem_ptr(bio, &mem);
	rc = file_write_atomic(path, mem->data, mem->length, 0644, e);
out:
	BIO_free(bio);
	free(path);
	return rc;
}

/* Refuses a directory that already holds CA material. */
static int
check_fresh(const char *dir, struct err *e)
{
	char	path[4096];
	size_t	i;

	for (i = 0; i < sizeof(made_files) / sizeof(made_files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, made_files[i]);
		if (access(path, F_OK) == 0)
			return err_set(e, ERR_EXISTS, "%s already exists; refusing"
			    " to overwrite", path);
	}
	return 0;
}

/* Subject of the RA or OCSP signer: the CA's CN with suffix appended. */
static X509_NAME *
ra_subject(X509 *ca_cert, const char *suffix, struct err *e)
{
	X509_NAME	*name;
	char		 cn[200] = "scep-ca", full[256];

	X509_NAME_get_text_by_NID(X509_get_subject_name(ca_cert), NID_commonName,
	    cn, sizeof(cn));
	snprintf(full, sizeof(full), "%s%s", cn, suffix);
	if ((name = X509_NAME_new()) == NULL ||
	    !X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
	    (unsigned char *)full, -1, -1, 0)) {
		X509_NAME_free(name);
		err_set_ossl(e, ERR_INTERNAL, "cannot build the RA name");
		return NULL;
	}
	return name;
}

/* Sets notBefore (5 minutes back, for clock skew) and notAfter. */
static int
set_validity(X509 *x, X509 *ca_cert, int days)
{
	ASN1_TIME	*na;
	int		 ok;

	if (!X509_gmtime_adj(X509_getm_notBefore(x), -300) ||
	    (na = X509_time_adj_ex(NULL, days, 0, NULL)) == NULL)
		return 0;
	if (ASN1_TIME_compare(na, X509_get0_notAfter(ca_cert)) > 0)
		ok = X509_set1_notAfter(x, X509_get0_notAfter(ca_cert));
	else
		ok = X509_set1_notAfter(x, na);
	ASN1_TIME_free(na);
	return ok;
}

X509 *
ca_ocsp_signer_build(X509 *ca_cert, EVP_PKEY *ca_key, const EVP_MD *md,
    EVP_PKEY *key, int days, struct err *e)
{
	X509		*x = NULL;
	X509_NAME	*subject = NULL;

	if ((subject = ra_subject(ca_cert, " OCSP Responder", e)) == NULL)
		return NULL;
	if ((x = X509_new()) == NULL || !X509_set_version(x, 2) ||
	    issue_random_serial(x, e) == -1 ||
	    !X509_set_subject_name(x, subject) ||
	    !X509_set_issuer_name(x, X509_get_subject_name(ca_cert)) ||
	    !set_validity(x, ca_cert, days) || !X509_set_pubkey(x, key))
		goto fail;
	/* RFC 6960 §4.2.2.2: the CA delegates with id-kp-OCSPSigning. */
	if (issue_add_ext(x, ca_cert, NID_basic_constraints,
	    "critical,CA:FALSE", e) == -1 ||
	    issue_add_ext(x, ca_cert, NID_key_usage,
	    "critical,digitalSignature", e) == -1 ||
	    issue_add_ext(x, ca_cert, NID_ext_key_usage, "OCSPSigning",
	    e) == -1 ||
	    /* §4.2.2.2.1: relying parties need not check its own status. */
	    issue_add_ext(x, ca_cert, NID_id_pkix_OCSP_noCheck, "ignored",
	    e) == -1 ||
	    issue_add_ext(x, ca_cert, NID_subject_key_identifier, "hash",
	    e) == -1 ||
	    issue_add_ext(x, ca_cert, NID_authority_key_identifier,
	    "keyid:always", e) == -1)
		goto fail;
	if (X509_sign(x, ca_key, md) <= 0)
		goto fail;
	X509_NAME_free(subject);
	return x;
fail:
	if (e != NULL && e->code == ERR_OK)
		err_set_ossl(e, ERR_INTERNAL, "cannot build the OCSP signer");
	X509_NAME_free(subject);
	X509_free(x);
	return NULL;
}

/* Makes the delegated OCSP signer next to a new CA's files. */
static int
create_ocsp_signer(const char *dir, X509 *cacert, EVP_PKEY *cakey,
    const struct ca_create_opts *o, struct err *e)
{
	EVP_PKEY	*key = NULL;
	X509		*x = NULL;
	const EVP_MD	*md;
	int		 rc = -1;

	md = EVP_PKEY_is_a(cakey, "EC") && EVP_PKEY_get_bits(cakey) > 256 ?
	    EVP_sha384() : EVP_sha256();
	if ((key = pki_keygen(o->ocsp_key_spec ? o->ocsp_key_spec :
	    OCSP_SIGNER_KEY_DEFAULT, e)) == NULL ||
	    (x = ca_ocsp_signer_build(cacert, cakey, md, key,
	    o->ocsp_days > 0 ? o->ocsp_days : OCSP_SIGNER_DAYS_DEFAULT,
	    e)) == NULL)
		goto out;
	if (write_file(dir, "ocsp.key", NULL, key, NULL, e) == -1 ||
	    write_file(dir, "ocsp.crt", x, NULL, NULL, e) == -1)
		goto out;
	rc = 0;
out:
	EVP_PKEY_free(key);
	X509_free(x);
	return rc;
}

/* Validity of the RA: at most 2 years, never past the CA. */
static long
ra_days(X509 *ca_cert)
{
	int	days = 0, secs = 0;

	if (!ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(ca_cert)) ||
	    days < 1)
		return 1;
	return days < 730 ? days : 730;
}

int
ca_create(const char *dir, const struct ca_create_opts *o, struct err *e)
{
	X509		*cacert = NULL, *racert = NULL;
	EVP_PKEY	*cakey = NULL, *rakey = NULL;
	STACK_OF(X509)	*chain = NULL;
	X509_NAME	*subject = NULL, *rasubj = NULL;
	const char	*pass = o->import_passphrase;
	char		 path[4096];
	size_t		 i;
	int		 rc = -1;

	if (check_fresh(dir, e) == -1)
		return -1;
	if (o->import_cert != NULL) {
		if (import_ca(o, &cacert, &cakey, &chain, e) == -1)
			goto out;
	} else {
		if ((subject = pki_name_parse(o->subject ? o->subject :
		    "CN=scep-ca", e)) == NULL ||
		    (cakey = pki_keygen(o->key_spec ? o->key_spec : "rsa:3072",
		    e)) == NULL ||
		    (cacert = make_cert(subject, cakey, NULL, cakey,
		    o->days > 0 ? o->days : 3650, 1, e)) == NULL)
			goto out;
	}
	/* The RA is RSA whatever the CA is: clients encrypt to it. */
	if ((rakey = pki_keygen(o->ra_key_spec ? o->ra_key_spec : "rsa:2048",
	    e)) == NULL || !EVP_PKEY_is_a(rakey, "RSA")) {
		if (rakey != NULL)
			err_set(e, ERR_USAGE, "the RA key must be RSA");
		goto out;
	}
	if ((rasubj = ra_subject(cacert, " SCEP RA", e)) == NULL ||
	    (racert = make_cert(rasubj, rakey, cacert, cakey, ra_days(cacert), 0,
	    e)) == NULL)
		goto out;
	if (pass != NULL && *pass == '\0')
		pass = NULL;	/* an empty passphrase protects nothing */
	if (write_file(dir, "ca.key", NULL, cakey, pass, e) == -1 ||
	    write_file(dir, "ra.key", NULL, rakey, NULL, e) == -1 ||
	    write_file(dir, "ca.crt", cacert, NULL, NULL, e) == -1 ||
	    write_file(dir, "ra.crt", racert, NULL, NULL, e) == -1 ||
	    (chain != NULL && write_chain(dir, chain, e) == -1) ||
	    create_ocsp_signer(dir, cacert, cakey, o, e) == -1)
		goto out;
	rc = 0;
out:
	if (rc == -1 && (e == NULL || e->code != ERR_EXISTS)) {
		for (i = 0; i < sizeof(made_files) / sizeof(made_files[0]); i++) {
			snprintf(path, sizeof(path), "%s/%s", dir, made_files[i]);
			unlink(path);
		}
	}
	X509_NAME_free(subject);
	X509_NAME_free(rasubj);
	X509_free(cacert);
	X509_free(racert);
	EVP_PKEY_free(cakey);
	EVP_PKEY_free(rakey);
	sk_X509_pop_free(chain, X509_free);
	return rc;
}
