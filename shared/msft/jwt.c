/*
 * jwt.c - signs the client assertion with the application's key.
 *
 * The header depends only on the certificate and the algorithm, so it is
 * encoded once when the signer is made; each assertion then only encodes
 * its claims and signs.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "base/encode.h"
#include "msft/jwt.h"

#define JWT_KEY_FILE_MAX	(64 * 1024)
#define JWT_RSA_MIN_BITS	2048

/* Immutable after jwt_signer_new(): shareable between threads. */
struct jwt_signer {
	EVP_PKEY			*key;		/* owned reference */
	enum entra_assertion_alg	 alg;
	char				*header_b64;	/* base64url header */
};

/* Refuses to prompt for a passphrase: a daemon has no terminal. */
static int
jwt_no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/* Encodes the JOSE header (RFC 7515 §4.1.7, §4.1.8) as base64url. */
static int
jwt_header_build(X509 *cert, enum entra_assertion_alg alg, char **out)
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0;
	struct buf	 thumb = {0}, b64 = {0};
	json_t		*hdr = NULL;
	char		*text = NULL;
	int		 rc = -1;

	if (X509_digest(cert, alg == ENTRA_ALG_PS256 ? EVP_sha256() :
	    EVP_sha1(), md, &mdlen) != 1 ||
	    b64url_encode(&thumb, md, mdlen) == -1)
		goto out;
	hdr = json_pack("{s:s, s:s, s:s}", "alg",
	    alg == ENTRA_ALG_PS256 ? "PS256" : "RS256", "typ", "JWT",
	    alg == ENTRA_ALG_PS256 ? "x5t#S256" : "x5t", buf_cstr(&thumb));
	if (hdr == NULL || (text = json_dumps(hdr, JSON_COMPACT)) == NULL ||
	    b64url_encode(&b64, text, strlen(text)) == -1 ||
	    (*out = buf_steal(&b64, NULL)) == NULL)
		goto out;
	rc = 0;
out:
	json_decref(hdr);
	free(text);
	buf_free(&thumb);
	buf_free(&b64);
	return rc;
}

struct jwt_signer *
jwt_signer_new(X509 *cert, EVP_PKEY *key, enum entra_assertion_alg alg,
    struct err *e)
{
	struct jwt_signer	*s = NULL;

	if (!EVP_PKEY_is_a(key, "RSA") ||
	    EVP_PKEY_get_bits(key) < JWT_RSA_MIN_BITS) {
		err_set(e, ERR_CONFIG, "jwt: the client key must be RSA of at "
		    "least %d bits", JWT_RSA_MIN_BITS);
		return NULL;
	}
	if (X509_check_private_key(cert, key) != 1) {
		err_set_ossl(e, ERR_CONFIG, "jwt: client_key does not match "
		    "client_cert");
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    jwt_header_build(cert, alg, &s->header_b64) == -1) {
		err_set_ossl(e, ERR_NOMEM, "jwt: cannot build the header");
		jwt_signer_free(s);
		return NULL;
	}
	EVP_PKEY_up_ref(key);		/* released in jwt_signer_free() */
	s->key = key;
	s->alg = alg;
	return s;
}

void
jwt_signer_free(struct jwt_signer *s)
{
	if (s == NULL)
		return;
	EVP_PKEY_free(s->key);
	free(s->header_b64);
	free(s);
}

static X509 *
jwt_cert_read(const char *path, struct err *e)
{
	X509	*cert = NULL;
	BIO	*bio;

	if ((bio = BIO_new_file(path, "r")) == NULL) {
		err_set_ossl(e, ERR_CONFIG, "jwt: cannot open %s", path);
		return NULL;
	}
	if ((cert = PEM_read_bio_X509(bio, NULL, jwt_no_passphrase, NULL)) ==
	    NULL)
		err_set_ossl(e, ERR_CONFIG, "jwt: no PEM certificate in %s",
		    path);
	BIO_free(bio);
	return cert;
}

static EVP_PKEY *
jwt_key_read(const char *path, struct err *e)
{
	struct buf	 pem = {0};
	EVP_PKEY	*key = NULL;
	BIO		*bio = NULL;

	if (entra_secret_file_read(path, JWT_KEY_FILE_MAX, &pem, e) == -1)
		goto out;
	if ((bio = BIO_new_mem_buf(pem.data, (int)pem.len)) == NULL) {
		err_set_ossl(e, ERR_NOMEM, "jwt: out of memory");
		goto out;
	}
	if ((key = PEM_read_bio_PrivateKey(bio, NULL, jwt_no_passphrase,
	    NULL)) == NULL)
		err_set_ossl(e, ERR_CONFIG, "jwt: no unencrypted PEM private "
		    "key in %s", path);
out:
	BIO_free(bio);
	buf_wipe(&pem);
	return key;
}

struct jwt_signer *
jwt_signer_load(const char *cert_file, const char *key_file,
    enum entra_assertion_alg alg, struct err *e)
{
	struct jwt_signer	*s = NULL;
	X509			*cert = NULL;
	EVP_PKEY		*key = NULL;

	if ((cert = jwt_cert_read(cert_file, e)) == NULL ||
	    (key = jwt_key_read(key_file, e)) == NULL)
		goto out;
	s = jwt_signer_new(cert, key, alg, e);
out:
	X509_free(cert);
	EVP_PKEY_free(key);
	return s;
}

/* Encodes the claims (RFC 7523 §3) as base64url into out. */
static int
jwt_claims_append(const char *aud, const char *client_id, time_t now,
    struct buf *out)
{
	char	 jti[37];
	json_t	*claims = NULL;
	char	*text = NULL;
	int	 rc = -1;

	if (uuid_v4(jti) == -1)
		return -1;
	claims = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I}",
	    "aud", aud, "iss", client_id, "sub", client_id, "jti", jti,
	    "iat", (json_int_t)now, "nbf", (json_int_t)now,
	    "exp", (json_int_t)now + JWT_ASSERTION_LIFETIME);
	if (claims == NULL ||
	    (text = json_dumps(claims, JSON_COMPACT)) == NULL ||
	    b64url_encode(out, text, strlen(text)) == -1)
		goto out;
	rc = 0;
out:
	json_decref(claims);
	free(text);
	return rc;
}

/*
 * Signs input with SHA-256: RSASSA-PSS with a salt as long as the digest
 * and MGF1-SHA-256 for PS256, PKCS #1 v1.5 for RS256 (RFC 7518 §3.3, §3.5).
 */
static int
jwt_sign(const struct jwt_signer *s, const void *input, size_t len,
    struct buf *sig, struct err *e)
{
	EVP_MD_CTX	*ctx = NULL;
	EVP_PKEY_CTX	*pctx = NULL;	/* owned by ctx */
	size_t		 siglen = 0;
	int		 rc = -1;

	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit_ex(ctx, &pctx, "SHA256", NULL, NULL, s->key,
	    NULL) != 1)
		goto out;
	if (s->alg == ENTRA_ALG_PS256 &&
	    (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1 ||
	    EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, "SHA256", NULL) != 1))
		goto out;
	if (EVP_DigestSign(ctx, NULL, &siglen, input, len) != 1 ||
	    buf_reserve(sig, siglen) == -1 ||
	    EVP_DigestSign(ctx, sig->data + sig->len, &siglen, input,
	    len) != 1)
		goto out;
	sig->len += siglen;
	rc = 0;
out:
	if (rc == -1)
		err_set_ossl(e, ERR_INTERNAL, "jwt: signing the assertion "
		    "failed");
	EVP_MD_CTX_free(ctx);
	return rc;
}

int
jwt_signer_assertion(const struct jwt_signer *s, const char *audience,
    const char *client_id, time_t now, struct buf *out, struct err *e)
{
	struct buf	jws = {0}, sig = {0};
	int		rc = -1;

	if (buf_append_str(&jws, s->header_b64) == -1 ||
	    buf_append(&jws, ".", 1) == -1 ||
	    jwt_claims_append(audience, client_id, now, &jws) == -1) {
		err_set(e, ERR_NOMEM, "jwt: cannot encode the claims");
		goto out;
	}
	if (jwt_sign(s, jws.data, jws.len, &sig, e) == -1)
		goto out;
	if (buf_append(&jws, ".", 1) == -1 ||
	    b64url_encode(&jws, sig.data, sig.len) == -1 ||
	    buf_append(out, jws.data, jws.len) == -1) {
		err_set(e, ERR_NOMEM, "jwt: out of memory");
		goto out;
	}
	rc = 0;
out:
	buf_free(&jws);
	buf_free(&sig);
	return rc;
}
