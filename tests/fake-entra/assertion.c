/*
 * assertion.c - verifies client assertions, the signed JWTs an app sends
 * instead of a client secret (RFC 7523 §2.2 and §3; reference §1).
 *
 * Accepted: alg PS256 (RSASSA-PSS, SHA-256, MGF1 SHA-256, salt length 32,
 * RFC 7518 §3.5) or RS256 (RSASSA-PKCS1-v1_5 SHA-256, §3.3); the key is
 * named by x5t#S256 (base64url SHA-256 of the certificate DER) and/or x5t
 * (SHA-1); every thumbprint present must name the registered certificate.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "base/encode.h"
#include "base/log.h"
#include "fake.h"
#include "state.h"

#define SKEW		300	/* seconds of clock skew allowed */
#define MAX_LIFETIME	3600	/* an assertion may live at most this */

/* The three decoded parts of a compact JWS (RFC 7515 §7.1). */
struct fe_jwt {
	json_t		*header;
	json_t		*claims;
	struct buf	 sig;
	size_t		 signed_len;	/* length of "header.payload" */
};

static void
fe_jwt_clear(struct fe_jwt *t)
{
	json_decref(t->header);
	json_decref(t->claims);
	buf_free(&t->sig);
}

/* Decodes base64url without padding, refusing any other alphabet. */
static int
fe_b64url_decode(const char *s, size_t n, struct buf *out)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return -1;
	}
	return b64_decode_lenient(out, s, n);
}

/* Decodes one JSON part of the token. */
static json_t *
fe_jwt_part(const char *s, size_t n)
{
	struct buf	 b = {0};
	json_t		*j = NULL;

	if (n > 0 && fe_b64url_decode(s, n, &b) == 0)
		j = json_loadb((const char *)b.data, b.len, 0, NULL);
	buf_free(&b);
	if (j != NULL && !json_is_object(j)) {
		json_decref(j);
		j = NULL;
	}
	return j;
}

static int
fe_jwt_split(const char *jwt, struct fe_jwt *t, struct fe_oauth_fail *fail)
{
	const char	*d1, *d2;

	if ((d1 = strchr(jwt, '.')) == NULL ||
	    (d2 = strchr(d1 + 1, '.')) == NULL || strchr(d2 + 1, '.') != NULL)
		goto bad;
	t->header = fe_jwt_part(jwt, (size_t)(d1 - jwt));
	t->claims = fe_jwt_part(d1 + 1, (size_t)(d2 - d1 - 1));
	if (t->header == NULL || t->claims == NULL || d2[1] == '\0' ||
	    fe_b64url_decode(d2 + 1, strlen(d2 + 1), &t->sig) == -1)
		goto bad;
	t->signed_len = (size_t)(d2 - jwt);
	return 0;
bad:
	return fe_fail(fail, 400, "invalid_request", 50027, "JWT token is "
	    "invalid or malformed.");
}

/* Writes the upper-case hex of a base64url thumbprint, for messages. */
static void
fe_thumb_hex(const char *b64, char *out, size_t outlen)
{
	struct buf	raw = {0}, hex = {0};

	snprintf(out, outlen, "?");
	if (fe_b64url_decode(b64, strlen(b64), &raw) == 0 &&
	    hex_encode(&hex, raw.data, raw.len, 1) == 0)
		snprintf(out, outlen, "%s", (char *)hex.data);
	buf_free(&raw);
	buf_free(&hex);
}

/* 1 when the base64url thumbprint b64 is md of cert's DER. */
static int
fe_thumb_matches(X509 *cert, const EVP_MD *md, const char *b64)
{
	unsigned char	d[EVP_MAX_MD_SIZE];
	unsigned int	dlen = 0;
	struct buf	raw = {0};
	int		ok = 0;

	if (cert != NULL && X509_digest(cert, md, d, &dlen) == 1 &&
	    fe_b64url_decode(b64, strlen(b64), &raw) == 0)
		ok = raw.len == dlen && memcmp(raw.data, d, dlen) == 0;
	buf_free(&raw);
	return ok;
}

/* Checks alg and that the thumbprint headers name the app's certificate. */
static int
fe_jwt_key(const json_t *hdr, X509 *cert, const char *client_id, int *pss,
    struct fe_oauth_fail *fail)
{
	const char	*alg = fe_json_str(hdr, "alg");
	const char	*s256 = fe_json_str(hdr, "x5t#S256");
	const char	*s1 = fe_json_str(hdr, "x5t");
	char		 hex[160];

	if (alg == NULL || (strcmp(alg, "PS256") != 0 &&
	    strcmp(alg, "RS256") != 0))
		return fe_fail(fail, 400, "invalid_request", 5002738, "Invalid "
		    "JWT token. '%s' is not a supported signature algorithm. "
		    "Supported signing algorithms are: 'RS256, PS256'.",
		    alg != NULL ? alg : "(none)");
	*pss = strcmp(alg, "PS256") == 0;
	if (s256 == NULL && s1 == NULL)
		return fe_fail(fail, 400, "invalid_request", 50027, "Invalid "
		    "JWT token. No certificate thumbprint specified in token "
		    "header.");
	if ((s256 != NULL && !fe_thumb_matches(cert, EVP_sha256(), s256)) ||
	    (s1 != NULL && !fe_thumb_matches(cert, EVP_sha1(), s1))) {
		fe_thumb_hex(s1 != NULL ? s1 : s256, hex, sizeof(hex));
		return fe_fail(fail, 401, "invalid_client", 700027, "Client "
		    "assertion contains an invalid signature. [Reason - The key "
		    "was not found., Thumbprint of key used by client: '%s', "
		    "Please visit the Azure Portal, Graph Explorer or directly "
		    "use MS Graph to see configured keys for app Id '%s'.]",
		    hex, client_id);
	}
	return 0;
}

/* Formats an ASN1_TIME as Entra prints key validity: MM/DD/YYYY HH:MM:SS. */
static void
fe_asn1_time_text(const ASN1_TIME *t, char out[32])
{
	struct tm	tm;

	if (ASN1_TIME_to_tm(t, &tm) == 1)
		strftime(out, 32, "%m/%d/%Y %H:%M:%S", &tm);
	else
		snprintf(out, 32, "?");
}

/* Verifies the signature over "header.payload" with cert's public key. */
static int
fe_jwt_signature(X509 *cert, int pss, const char *jwt, const struct fe_jwt *t,
    struct fe_oauth_fail *fail)
{
	EVP_PKEY	*pk = X509_get0_pubkey(cert);	/* get0: not ours */
	EVP_MD_CTX	*md = EVP_MD_CTX_new();
	EVP_PKEY_CTX	*pctx = NULL;			/* owned by md */
	unsigned char	 d[EVP_MAX_MD_SIZE];
	unsigned int	 dlen = 0;
	char		 nb[32], na[32], hex[2 * EVP_MAX_MD_SIZE + 1] = "?";
	struct buf	 h = {0};
	int		 ok = 0;

	if (md != NULL && pk != NULL &&
	    EVP_DigestVerifyInit(md, &pctx, EVP_sha256(), NULL, pk) == 1 &&
	    (!pss || (EVP_PKEY_CTX_set_rsa_padding(pctx,
	    RSA_PKCS1_PSS_PADDING) == 1 &&
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1 &&
	    EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) == 1)))
		ok = EVP_DigestVerify(md, t->sig.data, t->sig.len,
		    (const unsigned char *)jwt, t->signed_len) == 1;
	EVP_MD_CTX_free(md);
	if (ok)
		return 0;
	log_openssl(LOGL_DEBUG, FE_LOG, "assertion signature");
	if (X509_digest(cert, EVP_sha1(), d, &dlen) == 1 &&
	    hex_encode(&h, d, dlen, 1) == 0)
		snprintf(hex, sizeof(hex), "%s", (char *)h.data);
	buf_free(&h);
	fe_asn1_time_text(X509_get0_notBefore(cert), nb);
	fe_asn1_time_text(X509_get0_notAfter(cert), na);
	return fe_fail(fail, 401, "invalid_client", 700027, "Client assertion "
	    "contains an invalid signature. [Reason - The provided signature "
	    "value did not match the expected signature value., Thumbprint of "
	    "key used by client: '%s', Found key 'Start=%s, End=%s']", hex, nb,
	    na);
}

/* 1 when claim aud (a string or an array of them) holds url. */
static int
fe_aud_matches(const json_t *aud, const char *url)
{
	size_t	 i;
	json_t	*v;

	if (json_is_string(aud))
		return strcmp(json_string_value(aud), url) == 0;
	json_array_foreach(aud, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), url) == 0)
			return 1;
	return 0;
}

/* Formats a NumericDate as Entra prints it in AADSTS700024. */
static void
fe_claim_time_text(double t, char out[40])
{
	char	iso[21];

	time_iso8601((time_t)t, iso);
	snprintf(out, 40, "%.19s.0000000Z", iso);
}

/* Checks exp, nbf and iat against now (RFC 7523 §3 items 4-6). */
static int
fe_jwt_times(const json_t *c, time_t *exp_out, struct fe_oauth_fail *fail)
{
	json_t	*exp = json_object_get(c, "exp");
	json_t	*nbf = json_object_get(c, "nbf");
	json_t	*iat = json_object_get(c, "iat");
	double	 now = (double)time(NULL), from;
	char	 tn[40], tf[40], te[40];

	if (!json_is_number(exp) || (nbf != NULL && !json_is_number(nbf)) ||
	    (iat != NULL && !json_is_number(iat)))
		return fe_fail(fail, 400, "invalid_request", 50027, "JWT token "
		    "is invalid or malformed: 'exp' is required and 'exp', "
		    "'nbf', 'iat' must be NumericDate values.");
	from = nbf != NULL ? json_number_value(nbf) : 0;
	*exp_out = (time_t)json_number_value(exp);
	if (json_number_value(exp) <= now ||
	    json_number_value(exp) > now + MAX_LIFETIME + SKEW ||
	    from > now + SKEW ||
	    (iat != NULL && json_number_value(iat) > now + SKEW)) {
		fe_claim_time_text(now, tn);
		fe_claim_time_text(from, tf);
		fe_claim_time_text(json_number_value(exp), te);
		return fe_fail(fail, 401, "invalid_client", 700024, "Client "
		    "assertion is not within its valid time range. Current "
		    "time: %s, assertion valid from %s, expiry time of "
		    "assertion %s.", tn, tf, te);
	}
	return 0;
}

/* Checks aud, iss, sub, jti and the times. */
static int
fe_jwt_claims(const json_t *c, const char *token_url, const char *client_id,
    time_t *exp, struct fe_oauth_fail *fail)
{
	const char	*iss = fe_json_str(c, "iss");
	const char	*sub = fe_json_str(c, "sub");
	const char	*jti = fe_json_str(c, "jti");

	if (!fe_aud_matches(json_object_get(c, "aud"), token_url))
		return fe_fail(fail, 401, "invalid_client", 700023, "Client "
		    "assertion audience claim does not match Realm issuer. "
		    "[Reason - 'aud' must be '%s']", token_url);
	if (iss == NULL || sub == NULL || strcasecmp(iss, client_id) != 0 ||
	    strcasecmp(sub, client_id) != 0)
		return fe_fail(fail, 401, "invalid_client", 700021, "Client "
		    "assertion application identifier doesn't match "
		    "'client_id' parameter. [Reason - 'iss' and 'sub' must both "
		    "be '%s']", client_id);
	if (jti == NULL || *jti == '\0')
		return fe_fail(fail, 400, "invalid_request", 50027, "JWT token "
		    "is invalid or malformed: the 'jti' claim is missing.");
	return fe_jwt_times(c, exp, fail);
}

/* Refuses a jti seen before (RFC 7523 §3 item 7). */
static int
fe_jwt_replay(struct fe_ctx *ctx, const json_t *c, time_t exp,
    struct fe_oauth_fail *fail)
{
	const char	*jti = fe_json_str(c, "jti");
	int		 seen;

	fe_state_lock(ctx->st);
	seen = fe_jti_remember(ctx->st, jti, exp);
	fe_state_unlock(ctx->st);
	if (seen == -1)
		return fe_fail(fail, 500, "server_error", 90033, "out of memory");
	if (seen == 1)
		return fe_fail(fail, 400, "invalid_request", 50027, "JWT token "
		    "is invalid or malformed: the assertion with jti '%s' was "
		    "already used.", jti);
	return 0;
}

int
fe_assertion_verify(struct fe_ctx *ctx, X509 *cert, const char *jwt,
    const char *token_url, const char *client_id,
    struct fe_oauth_fail *fail)
{
	struct fe_jwt	t = {0};
	time_t		exp = 0;
	int		pss = 0, rc = -1;

	if (fe_jwt_split(jwt, &t, fail) == -1 ||
	    fe_jwt_key(t.header, cert, client_id, &pss, fail) == -1 ||
	    fe_jwt_signature(cert, pss, jwt, &t, fail) == -1 ||
	    fe_jwt_claims(t.claims, token_url, client_id, &exp, fail) == -1 ||
	    fe_jwt_replay(ctx, t.claims, exp, fail) == -1)
		goto out;
	rc = 0;
out:
	fe_jwt_clear(&t);
	return rc;
}
