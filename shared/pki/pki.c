/*
 * pki.c - X.509 helpers: digests, serials, keys and PEM files.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/asn1t.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/param_build.h>
#include <openssl/x509v3.h>

#include "pki/pki.h"

/* RSAPublicKey, RFC 8017 A.1.1. */
typedef struct {
	BIGNUM	*n;
	BIGNUM	*e;
} PKI_RSA_PUB;

ASN1_SEQUENCE(PKI_RSA_PUB) = {
	ASN1_SIMPLE(PKI_RSA_PUB, n, BIGNUM),
	ASN1_SIMPLE(PKI_RSA_PUB, e, BIGNUM),
} static_ASN1_SEQUENCE_END(PKI_RSA_PUB)

int
pki_digest_hex(const void *p, size_t n, const char *mdname, char *out,
    size_t outlen)
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen;
	EVP_MD		*type = EVP_MD_fetch(NULL, mdname, NULL);
	struct buf	 b = {0};
	int		 rc = -1;

	if (type == NULL || !EVP_Digest(p, n, md, &mdlen, type, NULL) ||
	    hex_encode(&b, md, mdlen, 0) == -1 || b.len + 1 > outlen)
		goto out;
	memcpy(out, b.data, b.len + 1);
	rc = 0;
out:
	EVP_MD_free(type);
	buf_free(&b);
	return rc;
}

int
pki_cert_thumbprint(X509 *x, const char *mdname, char *out, size_t outlen)
{
	unsigned char	*der = NULL;
	int		 len, rc = -1;

	/* Digest the DER ourselves: X509_digest fetches in x's context. */
	if ((len = i2d_X509(x, &der)) > 0)
		rc = pki_digest_hex(der, (size_t)len, mdname, out, outlen);
	OPENSSL_free(der);
	return rc;
}

/* Builds a public key of type name from params in the default context. */
static EVP_PKEY *
pubkey_fromdata(const char *name, OSSL_PARAM_BLD *bld)
{
	EVP_PKEY_CTX	*ctx = NULL;
	OSSL_PARAM	*params = NULL;
	EVP_PKEY	*key = NULL;

	if ((params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, name, NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) != 1)
		key = NULL;
	OSSL_PARAM_free(params);
	EVP_PKEY_CTX_free(ctx);
	return key;
}

/* An RSAPublicKey; its modulus bounded by PKI_RSA_MAX_BITS. */
static EVP_PKEY *
rsa_pub(const unsigned char *pk, int pklen, struct err *e)
{
	PKI_RSA_PUB	*rsa;
	OSSL_PARAM_BLD	*bld = NULL;
	EVP_PKEY	*key = NULL;

	rsa = (PKI_RSA_PUB *)ASN1_item_d2i(NULL, &pk, pklen,
	    ASN1_ITEM_rptr(PKI_RSA_PUB));
	if (rsa == NULL || BN_is_negative(rsa->n) || BN_is_negative(rsa->e)) {
		err_set_ossl(e, ERR_PARSE, "malformed RSA public key");
		goto out;
	}
	if (BN_num_bits(rsa->n) > PKI_RSA_MAX_BITS ||
	    BN_num_bits(rsa->e) > PKI_RSA_MAX_BITS) {
		err_set(e, ERR_BAD_ALG, "RSA public key of %d bits refused (at"
		    " most %d)", BN_num_bits(rsa->n), PKI_RSA_MAX_BITS);
		goto out;
	}
	if ((bld = OSSL_PARAM_BLD_new()) != NULL &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, rsa->n) &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, rsa->e))
		key = pubkey_fromdata("RSA", bld);
	if (key == NULL)
		err_set_ossl(e, ERR_PARSE, "unusable RSA public key");
out:
	OSSL_PARAM_BLD_free(bld);
	ASN1_item_free((ASN1_VALUE *)rsa, ASN1_ITEM_rptr(PKI_RSA_PUB));
	return key;
}

/*
 * A named-curve EC key: the curve OID is the algorithm's parameter
 * (RFC 5480 §2.1.1).  Explicit parameters, which let the sender pick a
 * field of any size, are refused.
 */
static EVP_PKEY *
ec_pub(const X509_ALGOR *alg, const unsigned char *pk, int pklen,
    struct err *e)
{
	OSSL_PARAM_BLD	*bld;
	EVP_PKEY	*key = NULL;
	const char	*curve;
	int		 ptype;
	const void	*pval;

	X509_ALGOR_get0(NULL, &ptype, &pval, alg);
	if (ptype == V_ASN1_SEQUENCE) {
		err_set(e, ERR_BAD_ALG, "EC key with explicit curve parameters"
		    " refused");
		return NULL;
	}
	if (ptype != V_ASN1_OBJECT) {
		err_set(e, ERR_PARSE, "EC key without a named curve");
		return NULL;
	}
	if (OBJ_obj2nid(pval) == NID_undef ||
	    (curve = OBJ_nid2sn(OBJ_obj2nid(pval))) == NULL) {
		err_set(e, ERR_BAD_ALG, "EC key on an unknown curve refused");
		return NULL;
	}
	if ((bld = OSSL_PARAM_BLD_new()) != NULL &&
	    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
	    curve, 0) &&
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pk,
	    (size_t)pklen))
		key = pubkey_fromdata("EC", bld);
	if (key == NULL)
		err_set_ossl(e, ERR_PARSE, "unusable EC public key on %s",
		    curve);
	OSSL_PARAM_BLD_free(bld);
	return key;
}

EVP_PKEY *
pki_pubkey_decode(const X509_PUBKEY *pub, struct err *e)
{
	ASN1_OBJECT		*obj;
	const unsigned char	*pk;
	X509_ALGOR		*alg;
	int			 pklen;

	if (!X509_PUBKEY_get0_param(&obj, &pk, &pklen, &alg, pub)) {
		err_set(e, ERR_PARSE, "unreadable public key");
		return NULL;
	}
	switch (OBJ_obj2nid(obj)) {
	case NID_rsaEncryption:
		return rsa_pub(pk, pklen, e);
	case NID_X9_62_id_ecPublicKey:
		return ec_pub(alg, pk, pklen, e);
	default:
		/* Not the generic decoder: it reads every type OpenSSL has. */
		err_set(e, ERR_BAD_ALG, "%s public key refused (RSA or EC only)",
		    OBJ_nid2sn(OBJ_obj2nid(obj)));
		return NULL;
	}
}

/* A copy of an AlgorithmIdentifier parameter; *ok = 0 when out of memory. */
static void *
param_dup(int ptype, const void *pval, int *ok)
{
	void	*dup = NULL;

	*ok = 1;
	if (ptype == V_ASN1_OBJECT)
		dup = OBJ_dup(pval);
	else if (ptype == V_ASN1_SEQUENCE)
		dup = ASN1_STRING_dup(pval);
	else
		return NULL;
	*ok = dup != NULL;
	return dup;
}

static void
param_free(int ptype, void *pval)
{
	if (ptype == V_ASN1_OBJECT)
		ASN1_OBJECT_free(pval);
	else if (ptype == V_ASN1_SEQUENCE)
		ASN1_STRING_free(pval);
}

int
pki_pubkey_copy(X509_PUBKEY *to, const X509_PUBKEY *from)
{
	ASN1_OBJECT		*obj;
	const unsigned char	*pk;
	unsigned char		*bits;
	X509_ALGOR		*alg;
	const void		*pval;
	void			*param;
	int			 pklen, ptype, ok;

	if (!X509_PUBKEY_get0_param(&obj, &pk, &pklen, &alg, from))
		return -1;
	X509_ALGOR_get0(NULL, &ptype, &pval, alg);
	param = param_dup(ptype, pval, &ok);
	if (ptype != V_ASN1_OBJECT && ptype != V_ASN1_SEQUENCE &&
	    ptype != V_ASN1_NULL)
		ptype = V_ASN1_UNDEF;
	if (!ok || (bits = OPENSSL_malloc(pklen > 0 ? (size_t)pklen : 1)) ==
	    NULL) {
		param_free(ptype, param);
		return -1;
	}
	memcpy(bits, pk, (size_t)pklen);
	/* set0 takes ownership of the parameter and the bits. */
	if (X509_PUBKEY_set0_param(to, OBJ_dup(obj), ptype, param, bits, pklen))
		return 0;
	param_free(ptype, param);
	OPENSSL_free(bits);
	return -1;
}

int
pki_key_hash(const X509_PUBKEY *spki, char out[65])
{
	unsigned char	*der = NULL;
	int		 len, rc = -1;

	if ((len = i2d_X509_PUBKEY(spki, &der)) > 0)
		rc = pki_digest_hex(der, (size_t)len, "SHA256", out, 65);
	OPENSSL_free(der);
	return rc;
}

int
pki_serial_text(const ASN1_INTEGER *serial, char out[SERIAL_HEX_MAX])
{
	struct buf	b = {0};
	int		rc = -1;

	if (serial == NULL || serial->length <= 0 ||
	    (size_t)serial->length * 2 >= SERIAL_HEX_MAX)
		return -1;
	if (hex_encode(&b, serial->data, (size_t)serial->length, 1) == 0)
		rc = serial_normalize((char *)b.data, out);
	buf_free(&b);
	return rc;
}

char *
pki_san_text(X509 *x)
{
	X509_EXTENSION	*ext;
	BIO		*bio;
	BUF_MEM		*mem;
	char		*s = NULL;
	int		 i;

	if ((bio = BIO_new(BIO_s_mem())) == NULL)
		return NULL;
	i = X509_get_ext_by_NID(x, NID_subject_alt_name, -1);
	/* X509V3_EXT_print gives the text FreeRADIUS publishes, too. */
	if (i >= 0 && (ext = X509_get_ext(x, i)) != NULL &&
	    !X509V3_EXT_print(bio, ext, 0, 0))
		goto out;
	BIO_get_mem_ptr(bio, &mem);
	if ((s = malloc(mem->length + 1)) != NULL) {
		if (mem->length > 0)	/* an empty BIO has no data at all */
			memcpy(s, mem->data, mem->length);
		s[mem->length] = '\0';
	}
out:
	ERR_clear_error();
	BIO_free(bio);
	return s;
}

EVP_PKEY *
pki_keygen(const char *spec, struct err *e)
{
	EVP_PKEY	*key = NULL;
	char		*end;
	long		 bits;

	if (strncasecmp(spec, "rsa:", 4) == 0) {
		errno = 0;
		bits = strtol(spec + 4, &end, 10);
		if (errno != 0 || *end != '\0' || bits < 2048 || bits > 8192) {
			err_set(e, ERR_USAGE, "bad key size in '%s' (2048..8192)",
			    spec);
			return NULL;
		}
		key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
	} else if (strcasecmp(spec, "ec:p256") == 0) {
		key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	} else if (strcasecmp(spec, "ec:p384") == 0) {
		key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	} else {
		err_set(e, ERR_USAGE, "unknown key type '%s' (rsa:BITS, ec:p256,"
		    " ec:p384)", spec);
		return NULL;
	}
	if (key == NULL)
		err_set_ossl(e, ERR_INTERNAL, "key generation failed");
	return key;
}

void
pki_key_describe(const EVP_PKEY *key, char *out, size_t len)
{
	char	curve[64];

	if (EVP_PKEY_is_a(key, "RSA"))
		snprintf(out, len, "RSA-%d", EVP_PKEY_get_bits(key));
	else if (EVP_PKEY_is_a(key, "EC") && EVP_PKEY_get_utf8_string_param(key,
	    "group", curve, sizeof(curve), NULL))
		snprintf(out, len, "EC-%s", curve);
	else
		snprintf(out, len, "%s-%d", EVP_PKEY_get0_type_name(key),
		    EVP_PKEY_get_bits(key));
}

int
file_write_atomic(const char *path, const void *p, size_t n, int mode,
    struct err *e)
{
	char		 tmp[4096];
	const char	*c = p;
	ssize_t		 w;
	int		 fd;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path,
	    (long)getpid()) >= sizeof(tmp))
		return err_set(e, ERR_IO, "path too long: %s", path);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    mode)) == -1)
		return err_set(e, ERR_IO, "cannot create %s: %s", tmp,
		    strerror(errno));
	fchmod(fd, (mode_t)mode);	/* whatever the umask */
	while (n > 0) {
		if ((w = write(fd, c, n)) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		c += w;
		n -= (size_t)w;
	}
	if (fsync(fd) == -1 || close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	if (rename(tmp, path) == -1) {
		fd = -1;
		goto fail;
	}
	return 0;
fail:
	err_set(e, ERR_IO, "cannot write %s: %s", path, strerror(errno));
	if (fd != -1)
		close(fd);
	unlink(tmp);
	return -1;
}

/* Writes what the PEM writer puts into a memory BIO to path. */
static int
pem_bio_to_file(BIO *bio, const char *path, int mode, struct err *e)
{
	BUF_MEM	*mem;
	int	 rc;

	BIO_get_mem_ptr(bio, &mem);
	rc = file_write_atomic(path, mem->data, mem->length, mode, e);
	OPENSSL_cleanse(mem->data, mem->max);
	return rc;
}

int
pki_write_cert(const char *path, X509 *x, struct err *e)
{
	BIO	*bio = BIO_new(BIO_s_mem());
	int	 rc = -1;

	if (bio == NULL || !PEM_write_bio_X509(bio, x))
		err_set_ossl(e, ERR_INTERNAL, "cannot encode %s", path);
	else
		rc = pem_bio_to_file(bio, path, 0644, e);
	BIO_free(bio);
	return rc;
}

int
pki_write_key(const char *path, EVP_PKEY *key, const char *passphrase,
    struct err *e)
{
	BIO	*bio = BIO_new(BIO_s_secmem());
	int	 rc = -1;

	if (bio == NULL || !PEM_write_bio_PKCS8PrivateKey(bio, key,
	    passphrase ? EVP_aes_256_cbc() : NULL, NULL, 0, NULL,
	    (void *)passphrase))
		err_set_ossl(e, ERR_INTERNAL, "cannot encode %s", path);
	else
		rc = pem_bio_to_file(bio, path, 0600, e);
	BIO_free(bio);
	return rc;
}

STACK_OF(X509) *
pki_read_certs(const char *path, struct err *e)
{
	STACK_OF(X509)	*sk = NULL;
	BIO		*bio;
	X509		*x;

	if ((bio = BIO_new_file(path, "rb")) == NULL) {
		err_set(e, ERR_IO, "cannot read %s: %s", path, strerror(errno));
		ERR_clear_error();
		return NULL;
	}
	if ((sk = sk_X509_new_null()) == NULL)
		goto fail;
	/* PEM_read_bio_X509 skips text before each block. */
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL)
		if (!sk_X509_push(sk, x)) {
			X509_free(x);
			goto fail;
		}
	ERR_clear_error();
	if (sk_X509_num(sk) == 0) {
		/* Maybe a DER file. */
		BIO_reset(bio);
		if ((x = d2i_X509_bio(bio, NULL)) == NULL || !sk_X509_push(sk, x)) {
			X509_free(x);
			err_set_ossl(e, ERR_PARSE, "%s holds no certificate", path);
			goto out;
		}
	}
	BIO_free(bio);
	return sk;
fail:
	err_set_ossl(e, ERR_NOMEM, "reading %s", path);
out:
	sk_X509_pop_free(sk, X509_free);
	BIO_free(bio);
	return NULL;
}

X509 *
pki_read_cert(const char *path, struct err *e)
{
	STACK_OF(X509)	*sk = pki_read_certs(path, e);
	X509		*x;

	if (sk == NULL)
		return NULL;
	x = sk_X509_shift(sk);
	sk_X509_pop_free(sk, X509_free);
	return x;
}

int
pki_check_private_mode(const char *path, struct err *e)
{
	struct stat	st;

	if (stat(path, &st) == -1)
		return err_set(e, ERR_IO, "cannot stat %s: %s", path,
		    strerror(errno));
	if (st.st_mode & 077)
		return err_set(e, ERR_CONFIG, "%s is readable by group or"
		    " others (mode %04o); it must be 0600", path,
		    (unsigned)(st.st_mode & 07777));
	return 0;
}

/* PEM passphrase callback: the passphrase or "" (never prompts). */
static int
pass_cb(char *buf, int size, int rwflag, void *u)
{
	const char	*pass = u ? u : "";
	int		 n = (int)strlen(pass);

	(void)rwflag;
	if (n > size)
		return -1;
	memcpy(buf, pass, (size_t)n);
	return n;
}

EVP_PKEY *
pki_read_key(const char *path, const char *passphrase, int require_private_mode,
    struct err *e)
{
	EVP_PKEY	*key;
	BIO		*bio;

	if (require_private_mode && pki_check_private_mode(path, e) == -1)
		return NULL;
	if ((bio = BIO_new_file(path, "rb")) == NULL) {
		ERR_clear_error();
		err_set(e, ERR_IO, "cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	key = PEM_read_bio_PrivateKey(bio, NULL, pass_cb, (void *)passphrase);
	if (key == NULL) {
		BIO_reset(bio);
		ERR_clear_error();
		key = d2i_PrivateKey_bio(bio, NULL);
	}
	if (key == NULL)
		err_set_ossl(e, ERR_CONFIG, "cannot read the private key in %s"
		    " (wrong passphrase?)", path);
	BIO_free(bio);
	return key;
}
