/*
 * scepcsr_lib.c - keys, PKCS#10 requests and the temporary self-signed
 * signer certificates a SCEP client makes (RFC 8894 §2.3, §3.3.1).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "scepmsg_lib.h"

/* Microsoft's UPN otherName and SID extension OIDs. */
#define OID_MS_UPN	"1.3.6.1.4.1.311.20.2.3"
#define OID_MS_SID_EXT	"1.3.6.1.4.1.311.25.2"
#define OID_MS_SID	"1.3.6.1.4.1.311.25.2.1"

EVP_PKEY *
scepmsg_keygen(const char *spec, struct err *e)
{
	EVP_PKEY	*key = NULL;
	char		*end;
	unsigned long	 bits;

	if (strncmp(spec, "rsa:", 4) == 0) {
		bits = strtoul(spec + 4, &end, 10);
		if (*end != '\0' || bits < 512 || bits > 16384) {
			err_set(e, ERR_USAGE, "bad RSA key size in '%s'", spec);
			return NULL;
		}
		key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
	} else if (strcmp(spec, "ec:p256") == 0) {
		key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	} else if (strcmp(spec, "ec:p384") == 0) {
		key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	} else {
		err_set(e, ERR_USAGE, "unknown key type '%s' (rsa:BITS, "
		    "ec:p256, ec:p384)", spec);
		return NULL;
	}
	if (key == NULL)
		err_set_ossl(e, ERR_INTERNAL, "key generation failed");
	return key;
}

/* Adds one "key=value" RDN to name.  Returns 0 or -1. */
static int
name_add(X509_NAME *name, const char *rdn, struct err *e)
{
	const char	*eq = strchr(rdn, '=');
	char		 field[64];

	if (eq == NULL || eq == rdn || (size_t)(eq - rdn) >= sizeof(field))
		return err_set(e, ERR_USAGE, "bad name component '%s'", rdn);
	memcpy(field, rdn, (size_t)(eq - rdn));
	field[eq - rdn] = '\0';
	if (!X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
	    (const unsigned char *)eq + 1, -1, -1, 0))
		return err_set_ossl(e, ERR_USAGE, "bad name component '%s'",
		    rdn);
	return 0;
}

X509_NAME *
scepmsg_name_parse(const char *s, struct err *e)
{
	X509_NAME	*name = NULL, *ret = NULL;
	struct buf	 rdn = {0};
	char		 sep = ',';

	if ((name = X509_NAME_new()) == NULL)
		goto out;
	if (*s == '/') {
		sep = '/';
		s++;
	}
	/* Split on the separator; a backslash escapes the next character. */
	for (;; s++) {
		if (*s == '\\' && s[1] != '\0') {
			if (buf_append(&rdn, ++s, 1) == -1)
				goto out;
			continue;
		}
		if (*s != sep && *s != '\0') {
			if ((*s != ' ' || rdn.len > 0) &&
			    buf_append(&rdn, s, 1) == -1)
				goto out;
			continue;
		}
		if (rdn.len > 0 && name_add(name, buf_cstr(&rdn), e) == -1)
			goto out;
		buf_reset(&rdn);
		if (*s == '\0')
			break;
	}
	ret = name;
	name = NULL;
out:
	if (ret == NULL && e != NULL && e->code == ERR_OK)
		err_set(e, ERR_NOMEM, "out of memory parsing a name");
	X509_NAME_free(name);
	buf_free(&rdn);
	return ret;
}

/* Makes one GENERAL_NAME of a SAN spec.  Returns it or NULL. */
static GENERAL_NAME *
san_general_name(const struct scepmsg_san *san)
{
	GENERAL_NAME		*gen = NULL;
	ASN1_IA5STRING		*ia5 = NULL;
	ASN1_TYPE		*val = NULL;
	ASN1_UTF8STRING		*utf8 = NULL;
	ASN1_OBJECT		*oid = NULL;
	int			 type;

	if ((gen = GENERAL_NAME_new()) == NULL)
		return NULL;
	if (san->kind == SCEPMSG_SAN_UPN) {
		if ((oid = OBJ_txt2obj(OID_MS_UPN, 1)) == NULL ||
		    (utf8 = ASN1_UTF8STRING_new()) == NULL ||
		    !ASN1_STRING_set(utf8, san->value, -1) ||
		    (val = ASN1_TYPE_new()) == NULL)
			goto fail;
		ASN1_TYPE_set(val, V_ASN1_UTF8STRING, utf8);
		utf8 = NULL;
		if (!GENERAL_NAME_set0_othername(gen, oid, val))
			goto fail;
		return gen;
	}
	type = san->kind == SCEPMSG_SAN_DNS ? GEN_DNS :
	    san->kind == SCEPMSG_SAN_EMAIL ? GEN_EMAIL : GEN_URI;
	if ((ia5 = ASN1_IA5STRING_new()) == NULL ||
	    !ASN1_STRING_set(ia5, san->value, -1))
		goto fail;
	GENERAL_NAME_set0_value(gen, type, ia5);
	return gen;
fail:
	ASN1_IA5STRING_free(ia5);
	ASN1_UTF8STRING_free(utf8);
	ASN1_TYPE_free(val);
	ASN1_OBJECT_free(oid);
	GENERAL_NAME_free(gen);
	return NULL;
}

/* Adds a subjectAltName extension made of the spec's SANs to exts. */
static int
csr_add_sans(STACK_OF(X509_EXTENSION) *exts,
    const struct scepmsg_csr_spec *spec, struct err *e)
{
	GENERAL_NAMES	*gens = NULL;
	GENERAL_NAME	*gen;
	X509_EXTENSION	*ext = NULL;
	size_t		 i;
	int		 rc = -1;

	if (spec->n_sans == 0)
		return 0;
	if ((gens = GENERAL_NAMES_new()) == NULL)
		goto out;
	for (i = 0; i < spec->n_sans; i++) {
		if ((gen = san_general_name(&spec->sans[i])) == NULL)
			goto out;
		if (!sk_GENERAL_NAME_push(gens, gen)) {
			GENERAL_NAME_free(gen);
			goto out;
		}
	}
	if ((ext = X509V3_EXT_i2d(NID_subject_alt_name, 0, gens)) == NULL ||
	    !sk_X509_EXTENSION_push(exts, ext))
		goto out;
	ext = NULL;
	rc = 0;
out:
	if (rc == -1)
		err_set_ossl(e, ERR_INTERNAL, "cannot build subjectAltName");
	X509_EXTENSION_free(ext);
	GENERAL_NAMES_free(gens);
	return rc;
}

/* Adds the spec's arbitrary extensions to exts. */
static int
csr_add_exts(STACK_OF(X509_EXTENSION) *exts,
    const struct scepmsg_csr_spec *spec, struct err *e)
{
	ASN1_OBJECT		*oid = NULL;
	ASN1_OCTET_STRING	*val = NULL;
	X509_EXTENSION		*ext = NULL;
	size_t			 i;
	int			 rc = -1;

	for (i = 0; i < spec->n_exts; i++) {
		if ((oid = OBJ_txt2obj(spec->exts[i].oid, 1)) == NULL) {
			err_set(e, ERR_USAGE, "bad OID '%s'", spec->exts[i].oid);
			goto out;
		}
		if ((val = ASN1_OCTET_STRING_new()) == NULL ||
		    !ASN1_OCTET_STRING_set(val, spec->exts[i].der,
		    (int)spec->exts[i].len) ||
		    (ext = X509_EXTENSION_create_by_OBJ(NULL, oid,
		    spec->exts[i].critical, val)) == NULL ||
		    !sk_X509_EXTENSION_push(exts, ext)) {
			err_set_ossl(e, ERR_INTERNAL, "cannot add extension");
			goto out;
		}
		ext = NULL;
		ASN1_OBJECT_free(oid);
		ASN1_OCTET_STRING_free(val);
		oid = NULL;
		val = NULL;
	}
	rc = 0;
out:
	X509_EXTENSION_free(ext);
	ASN1_OBJECT_free(oid);
	ASN1_OCTET_STRING_free(val);
	return rc;
}

/* Adds the challengePassword attribute (RFC 8894 §3.3.1). */
static int
csr_add_challenge(X509_REQ *req, const struct scepmsg_csr_spec *spec,
    struct err *e)
{
	int	type;

	if (spec->challenge == NULL)
		return 0;
	/* Raw type, not MBSTRING: no character-set filtering on purpose. */
	type = spec->challenge_utf8 ? V_ASN1_UTF8STRING : V_ASN1_PRINTABLESTRING;
	if (!X509_REQ_add1_attr_by_NID(req, NID_pkcs9_challengePassword, type,
	    (const unsigned char *)spec->challenge,
	    (int)strlen(spec->challenge)))
		return err_set_ossl(e, ERR_INTERNAL, "cannot add challenge");
	return 0;
}

X509_REQ *
scepmsg_csr_new(EVP_PKEY *key, const struct scepmsg_csr_spec *spec,
    struct err *e)
{
	X509_REQ			*req = NULL, *ret = NULL;
	X509_NAME			*name = NULL;
	STACK_OF(X509_EXTENSION)	*exts = NULL;

	if ((req = X509_REQ_new()) == NULL ||
	    (exts = sk_X509_EXTENSION_new_null()) == NULL) {
		err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((name = scepmsg_name_parse(spec->subject ? spec->subject : "",
	    e)) == NULL)
		goto out;
	if (!X509_REQ_set_version(req, 0) ||
	    !X509_REQ_set_subject_name(req, name) ||
	    !X509_REQ_set_pubkey(req, key)) {
		err_set_ossl(e, ERR_INTERNAL, "cannot fill CSR");
		goto out;
	}
	if (csr_add_challenge(req, spec, e) == -1 ||
	    csr_add_sans(exts, spec, e) == -1 || csr_add_exts(exts, spec, e) == -1)
		goto out;
	if (sk_X509_EXTENSION_num(exts) > 0 &&
	    !X509_REQ_add_extensions(req, exts)) {
		err_set_ossl(e, ERR_INTERNAL, "cannot add CSR extensions");
		goto out;
	}
	if (X509_REQ_sign(req, key, spec->md ? spec->md : EVP_sha256()) <= 0) {
		err_set_ossl(e, ERR_INTERNAL, "cannot sign CSR");
		goto out;
	}
	ret = req;
	req = NULL;
out:
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_NAME_free(name);
	X509_REQ_free(req);
	return ret;
}

int
scepmsg_sid_ext_der(const char *sid, struct buf *out, struct err *e)
{
	GENERAL_NAMES		*gens = NULL;
	GENERAL_NAME		*gen = NULL;
	ASN1_OBJECT		*oid = NULL;
	ASN1_OCTET_STRING	*os = NULL;
	ASN1_TYPE		*val = NULL;
	unsigned char		*der = NULL;
	int			 n, rc = -1;

	/* SEQUENCE { [0] otherName { 1.3.6.1.4.1.311.25.2.1, [0] OCTET STRING } } */
	if ((gens = GENERAL_NAMES_new()) == NULL ||
	    (gen = GENERAL_NAME_new()) == NULL ||
	    (oid = OBJ_txt2obj(OID_MS_SID, 1)) == NULL ||
	    (os = ASN1_OCTET_STRING_new()) == NULL ||
	    !ASN1_OCTET_STRING_set(os, (const unsigned char *)sid,
	    (int)strlen(sid)) || (val = ASN1_TYPE_new()) == NULL)
		goto out;
	ASN1_TYPE_set(val, V_ASN1_OCTET_STRING, os);
	os = NULL;
	if (!GENERAL_NAME_set0_othername(gen, oid, val))
		goto out;
	oid = NULL;
	val = NULL;
	if (!sk_GENERAL_NAME_push(gens, gen))
		goto out;
	gen = NULL;
	if ((n = i2d_GENERAL_NAMES(gens, &der)) <= 0 ||
	    buf_append(out, der, (size_t)n) == -1)
		goto out;
	rc = 0;
out:
	if (rc == -1)
		err_set_ossl(e, ERR_INTERNAL, "cannot build SID extension");
	OPENSSL_free(der);
	ASN1_TYPE_free(val);
	ASN1_OCTET_STRING_free(os);
	ASN1_OBJECT_free(oid);
	GENERAL_NAME_free(gen);
	GENERAL_NAMES_free(gens);
	return rc;
}

/* Sets a random positive 64-bit serial. */
static int
cert_random_serial(X509 *cert)
{
	unsigned char	 r[8];
	BIGNUM		*bn = NULL;
	int		 rc = -1;

	if (RAND_bytes(r, sizeof(r)) != 1)
		return -1;
	r[0] &= 0x7f;
	r[0] |= 0x01;
	if ((bn = BN_bin2bn(r, sizeof(r), NULL)) != NULL &&
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) != NULL)
		rc = 0;
	BN_free(bn);
	return rc;
}

X509 *
scepmsg_selfsigned_new(EVP_PKEY *key, const X509_NAME *subject, struct err *e)
{
	X509		*cert = NULL, *ret = NULL;
	X509_NAME	*name = NULL;

	if ((cert = X509_new()) == NULL)
		goto out;
	if (subject != NULL && X509_NAME_entry_count(subject) > 0)
		name = X509_NAME_dup(subject);
	else
		name = scepmsg_name_parse("CN=SCEP client", e);
	if (name == NULL)
		goto out;
	if (!X509_set_version(cert, X509_VERSION_3) ||
	    cert_random_serial(cert) == -1 ||
	    !X509_set_subject_name(cert, name) ||
	    !X509_set_issuer_name(cert, name) ||
	    X509_gmtime_adj(X509_getm_notBefore(cert), -3600) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(cert), 86400) == NULL ||
	    !X509_set_pubkey(cert, key) ||
	    X509_sign(cert, key, EVP_sha256()) <= 0)
		goto out;
	ret = cert;
	cert = NULL;
out:
	if (ret == NULL)
		err_set_ossl(e, ERR_INTERNAL, "cannot make signer certificate");
	X509_NAME_free(name);
	X509_free(cert);
	return ret;
}

int
scepmsg_write_key(const char *path, EVP_PKEY *key, struct err *e)
{
	BIO	*bio;
	FILE	*f;
	int	 fd, ok;

	/* A private key: readable by its owner only. */
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1 ||
	    (f = fdopen(fd, "w")) == NULL) {
		if (fd != -1)
			close(fd);
		return err_set(e, ERR_IO, "cannot write %s: %s", path,
		    strerror(errno));
	}
	if ((bio = BIO_new_fp(f, BIO_CLOSE)) == NULL) {
		fclose(f);
		return err_set_ossl(e, ERR_NOMEM, "cannot write %s", path);
	}
	ok = PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL);
	BIO_free(bio);
	if (!ok)
		return err_set_ossl(e, ERR_IO, "cannot write %s", path);
	return 0;
}

int
scepmsg_write_certs(const char *path, STACK_OF(X509) *certs, struct err *e)
{
	BIO	*bio;
	int	 i, ok = 1;

	if ((bio = BIO_new_file(path, "w")) == NULL)
		return err_set_ossl(e, ERR_IO, "cannot write %s", path);
	for (i = 0; ok && i < sk_X509_num(certs); i++)
		ok = PEM_write_bio_X509(bio, sk_X509_value(certs, i));
	BIO_free(bio);
	if (!ok)
		return err_set_ossl(e, ERR_IO, "cannot write %s", path);
	return 0;
}

EVP_PKEY *
scepmsg_read_key(const char *path, struct err *e)
{
	BIO		*bio;
	EVP_PKEY	*key = NULL;

	if ((bio = BIO_new_file(path, "r")) == NULL) {
		err_set_ossl(e, ERR_IO, "cannot read %s", path);
		return NULL;
	}
	key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	if (key == NULL && BIO_reset(bio) == 0) {
		ERR_clear_error();	/* not PEM: try DER */
		key = d2i_PrivateKey_bio(bio, NULL);
	}
	BIO_free(bio);
	if (key == NULL)
		err_set_ossl(e, ERR_PARSE, "no private key in %s", path);
	return key;
}

X509 *
scepmsg_read_cert(const char *path, struct err *e)
{
	BIO	*bio;
	X509	*cert = NULL;

	if ((bio = BIO_new_file(path, "r")) == NULL) {
		err_set_ossl(e, ERR_IO, "cannot read %s", path);
		return NULL;
	}
	cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	if (cert == NULL && BIO_reset(bio) == 0) {
		ERR_clear_error();	/* not PEM: try DER */
		cert = d2i_X509_bio(bio, NULL);
	}
	BIO_free(bio);
	if (cert == NULL)
		err_set_ossl(e, ERR_PARSE, "no certificate in %s", path);
	return cert;
}
