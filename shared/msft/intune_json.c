/*
 * intune_json.c - request bodies and answer decoding of the Intune
 * third-party CA API (reference/microsoft-apis.md §2), apart from the
 * network so that unit tests and fuzzers reach every branch.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/x509.h>

#include "base/encode.h"
#include "msft/intune.h"
#include "pki/dn.h"

#define INTUNE_REVOCATIONS_MAX	10000

/* Dumps root compactly and appends it to out; takes root's reference. */
static int
ij_dump(json_t *root, struct buf *out, struct err *e)
{
	char	*text = NULL;
	int	 rc = -1;

	if (root == NULL) {
		err_set(e, ERR_PARSE, "intune: cannot encode the request "
		    "(a string is not UTF-8?)");
		return -1;
	}
	if ((text = json_dumps(root, JSON_COMPACT)) == NULL ||
	    buf_append_str(out, text) == -1) {
		err_set(e, ERR_NOMEM, "intune: out of memory");
		goto out;
	}
	rc = 0;
out:
	free(text);
	json_decref(root);
	return rc;
}

static int
ij_b64(struct buf *out, const unsigned char *p, size_t n)
{
	return b64_encode(out, p, n) == -1 || buf_cstr(out) == NULL ? -1 : 0;
}

int
intune_json_validate_request(const char *transaction_id,
    const unsigned char *csr_der, size_t csr_len, const char *caller_info,
    struct buf *out, struct err *e)
{
	struct buf	csr = {0};
	int		rc;

	if (ij_b64(&csr, csr_der, csr_len) == -1) {
		buf_free(&csr);
		return err_set(e, ERR_NOMEM, "intune: out of memory");
	}
	rc = ij_dump(json_pack("{s:{s:s, s:s, s:s}}", "request",
	    "transactionId", transaction_id, "certificateRequest",
	    buf_cstr(&csr), "callerInfo", caller_info), out, e);
	buf_free(&csr);
	return rc;
}

/* The facts successNotification reports about a certificate. */
struct ij_cert_facts {
	char	thumbprint[41];		/* SHA-1, upper-case hex */
	char	serial[SERIAL_HEX_MAX];
	char	not_after[21];		/* ISO 8601 UTC */
	char	issuer[512];		/* RFC 2253 */
};

static int
ij_cert_serial(const X509 *cert, char out[SERIAL_HEX_MAX])
{
	BIGNUM	*bn;
	char	*hex = NULL;
	int	 rc = -1;

	if ((bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL)) ==
	    NULL || BN_is_negative(bn) || (hex = BN_bn2hex(bn)) == NULL)
		goto out;
	rc = serial_normalize(hex, out);
out:
	OPENSSL_free(hex);
	BN_free(bn);
	return rc;
}

/* Writes name as pki/dn.h prints it; -1 when it does not fit out. */
static int
ij_name_rfc2253(const X509_NAME *name, char *out, size_t n)
{
	char	*s;
	int	 rc = -1;

	if ((s = pki_name_text(name)) != NULL && strlen(s) < n) {
		memcpy(out, s, strlen(s) + 1);
		rc = 0;
	}
	free(s);
	return rc;
}

static int
ij_cert_facts(const unsigned char *der, size_t len, struct ij_cert_facts *f,
    struct err *e)
{
	const unsigned char	*p = der;
	unsigned char		 md[EVP_MAX_MD_SIZE];
	unsigned int		 mdlen = 0;
	struct buf		 hex = {0};
	struct tm		 tm;
	X509			*cert = NULL;
	int			 rc = -1;

	if ((cert = d2i_X509(NULL, &p, (long)len)) == NULL || p != der + len) {
		err_set_ossl(e, ERR_PARSE, "intune: issued certificate is not "
		    "DER");
		goto out;
	}
	if (X509_digest(cert, EVP_sha1(), md, &mdlen) != 1 ||
	    hex_encode(&hex, md, mdlen, 1) == -1 || hex.len != 40 ||
	    ij_cert_serial(cert, f->serial) == -1 ||
	    ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) != 1 ||
	    ij_name_rfc2253(X509_get_issuer_name(cert), f->issuer,
	    sizeof(f->issuer)) == -1) {
		err_set_ossl(e, ERR_PARSE, "intune: cannot read the issued "
		    "certificate");
		goto out;
	}
	memcpy(f->thumbprint, hex.data, 41);
	time_iso8601(timegm(&tm), f->not_after);
	rc = 0;
out:
	X509_free(cert);
	buf_free(&hex);
	return rc;
}

int
intune_json_success_notification(const struct intune_success *n,
    const char *caller_info, struct buf *out, struct err *e)
{
	struct ij_cert_facts	f;
	struct buf		csr = {0};
	int			rc = -1;

	if (ij_cert_facts(n->cert_der, n->cert_len, &f, e) == -1)
		return -1;
	if (ij_b64(&csr, n->csr_der, n->csr_len) == -1) {
		err_set(e, ERR_NOMEM, "intune: out of memory");
		goto out;
	}
	rc = ij_dump(json_pack("{s:{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, "
	    "s:s}}", "notification",
	    "transactionId", n->transaction_id,
	    "certificateRequest", buf_cstr(&csr),
	    "certificateThumbprint", f.thumbprint,
	    "certificateSerialNumber", f.serial,
	    "certificateExpirationDateUtc", f.not_after,
	    "issuingCertificateAuthority",
	    n->issuing_ca != NULL ? n->issuing_ca : f.issuer,
	    "callerInfo", caller_info,
	    "caConfiguration",
	    n->ca_configuration != NULL ? n->ca_configuration : "",
	    "certificateAuthority",
	    n->certificate_authority != NULL ? n->certificate_authority : ""),
	    out, e);
out:
	buf_free(&csr);
	return rc;
}

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0. */
static size_t
ij_utf8_len(const unsigned char *s, size_t n)
{
	size_t		len, i;
	unsigned	cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and beyond U+10FFFF are invalid. */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

int
intune_text_clip(const char *s, size_t max, struct buf *out)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 left = strlen(s), used = 0, n;

	while (left > 0) {
		n = ij_utf8_len(p, left);
		if (used + (n ? n : 1) > max)
			break;
		if (buf_append(out, n ? (const char *)p : "?", n ? n : 1) == -1)
			return -1;
		used += n ? n : 1;
		p += n ? n : 1;
		left -= n ? n : 1;
	}
	return buf_cstr(out) == NULL ? -1 : 0;
}

int
intune_json_failure_notification(const struct intune_failure *n,
    const char *caller_info, struct buf *out, struct err *e)
{
	struct buf	csr = {0}, desc = {0};
	int		rc = -1;

	if (ij_b64(&csr, n->csr_der, n->csr_len) == -1 ||
	    intune_text_clip(n->description != NULL ? n->description : "",
	    INTUNE_ERROR_DESC_MAX, &desc) == -1) {
		err_set(e, ERR_NOMEM, "intune: out of memory");
		goto out;
	}
	rc = ij_dump(json_pack("{s:{s:s, s:s, s:I, s:s, s:s}}", "notification",
	    "transactionId", n->transaction_id,
	    "certificateRequest", buf_cstr(&csr),
	    "hResult", (json_int_t)n->hresult,
	    "errorDescription", buf_cstr(&desc),
	    "callerInfo", caller_info), out, e);
out:
	buf_free(&csr);
	buf_free(&desc);
	return rc;
}

int
intune_json_download_request(int max_requests, struct buf *out, struct err *e)
{
	return ij_dump(json_pack("{s:{s:i, s:n}}", "downloadParameters",
	    "maxRequests", max_requests, "issuerName"), out, e);
}

int
intune_json_upload_results(const struct intune_revocation_result *r, size_t n,
    struct buf *out, struct err *e)
{
	json_t	*arr, *item;
	char	 code[16];
	size_t	 i;

	if ((arr = json_array()) == NULL)
		return err_set(e, ERR_NOMEM, "intune: out of memory");
	for (i = 0; i < n; i++) {
		/* errorCode travels as a numeric string (reference §2). */
		snprintf(code, sizeof(code), "%d", r[i].error_code);
		item = json_pack("{s:s, s:b, s:s, s:s}",
		    "requestContext", r[i].request_context,
		    "succeeded", r[i].succeeded != 0,
		    "errorCode", code,
		    "errorMessage", r[i].error_message != NULL ?
		    r[i].error_message : "");
		if (item == NULL || json_array_append_new(arr, item) == -1) {
			json_decref(arr);
			return err_set(e, ERR_PARSE, "intune: cannot encode "
			    "result %zu", i);
		}
	}
	return ij_dump(json_pack("{s:o}", "results", arr), out, e);
}

static json_t *
ij_load(const char *json, size_t len, struct err *e)
{
	json_error_t	 jerr;
	json_t		*root;

	root = json != NULL ? json_loadb(json, len, JSON_REJECT_DUPLICATES,
	    &jerr) : NULL;
	if (root == NULL || !json_is_object(root)) {
		json_decref(root);
		err_set(e, ERR_PARSE, "intune: answer is not a JSON object");
		return NULL;
	}
	return root;
}

/* Copies a string member (NULL or absent: "") bounded by n. */
static int
ij_str(json_t *o, const char *key, char *dst, size_t n, int required,
    struct err *e)
{
	json_t	*v = json_object_get(o, key);

	dst[0] = '\0';
	if (v == NULL || json_is_null(v))
		return required ? err_set(e, ERR_PARSE, "intune: '%s' missing",
		    key) : 0;
	if (!json_is_string(v))
		return err_set(e, ERR_PARSE, "intune: '%s' is not a string",
		    key);
	if (json_string_length(v) >= n)
		return err_set(e, ERR_PARSE, "intune: '%s' is too long", key);
	memcpy(dst, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

/* Copies an optional string member, clipped to fit dst (free text). */
static int
ij_clip(json_t *o, const char *key, char *dst, size_t n, struct err *e)
{
	json_t		*v = json_object_get(o, key);
	struct buf	 b = {0};

	dst[0] = '\0';
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return err_set(e, ERR_PARSE, "intune: '%s' is not a string",
		    key);
	if (intune_text_clip(json_string_value(v), n - 1, &b) == -1) {
		buf_free(&b);
		return err_set(e, ERR_NOMEM, "intune: out of memory");
	}
	memcpy(dst, b.data, b.len + 1);
	buf_free(&b);
	return 0;
}

int
intune_json_parse_validation(const char *json, size_t len,
    struct intune_validation *out, struct err *e)
{
	json_t	*root;
	int	 rc = -1;

	memset(out, 0, sizeof(*out));
	if ((root = ij_load(json, len, e)) == NULL)
		return -1;
	if (ij_str(root, "code", out->code, sizeof(out->code), 1, e) == -1 ||
	    ij_clip(root, "errorDescription", out->description,
	    sizeof(out->description), e) == -1)
		goto out;
	if (out->code[0] == '\0') {
		err_set(e, ERR_PARSE, "intune: empty 'code'");
		goto out;
	}
	/* Only this exact code lets the CA issue (reference §2). */
	out->success = strcmp(out->code, "Success") == 0;
	rc = 0;
out:
	json_decref(root);
	return rc;
}

/* Duplicates string member key into *dst; absent/null gives NULL. */
static int
ij_strdup(json_t *o, const char *key, char **dst, int required, struct err *e)
{
	json_t	*v = json_object_get(o, key);

	*dst = NULL;
	if (v == NULL || json_is_null(v))
		return required ? err_set(e, ERR_PARSE, "intune: '%s' missing",
		    key) : 0;
	if (!json_is_string(v) || json_string_length(v) > 4096)
		return err_set(e, ERR_PARSE, "intune: bad '%s'", key);
	if ((*dst = strdup(json_string_value(v))) == NULL)
		return err_set(e, ERR_NOMEM, "intune: out of memory");
	return 0;
}

static int
ij_revocation_item(json_t *item, struct intune_revocation_request *r,
    struct err *e)
{
	if (!json_is_object(item))
		return err_set(e, ERR_PARSE, "intune: revocation request is "
		    "not an object");
	if (ij_strdup(item, "requestContext", &r->request_context, 1, e) ==
	    -1 || ij_strdup(item, "serialNumber", &r->serial_number, 1, e) ==
	    -1 || ij_strdup(item, "issuerName", &r->issuer_name, 0, e) == -1 ||
	    ij_strdup(item, "caConfiguration", &r->ca_configuration, 0, e) ==
	    -1)
		return -1;
	return 0;
}

int
intune_json_parse_revocations(const char *json, size_t len,
    struct intune_revocation_list *out, struct err *e)
{
	json_t	*root, *value, *item;
	size_t	 i, n;
	int	 rc = -1;

	memset(out, 0, sizeof(*out));
	if ((root = ij_load(json, len, e)) == NULL)
		return -1;
	value = json_object_get(root, "value");
	if (!json_is_array(value) ||
	    (n = json_array_size(value)) > INTUNE_REVOCATIONS_MAX) {
		err_set(e, ERR_PARSE, "intune: revocation answer has no "
		    "usable 'value' array");
		goto out;
	}
	if (n > 0 && (out->items = calloc(n, sizeof(*out->items))) == NULL) {
		err_set(e, ERR_NOMEM, "intune: out of memory");
		goto out;
	}
	json_array_foreach(value, i, item) {
		out->n = i + 1;		/* so a failure frees this item too */
		if (ij_revocation_item(item, &out->items[i], e) == -1)
			goto out;
	}
	rc = 0;
out:
	if (rc == -1)
		intune_revocation_list_free(out);
	json_decref(root);
	return rc;
}

int
intune_json_parse_upload(const char *json, size_t len, struct err *e)
{
	json_t	*root;
	int	 rc = -1;

	if ((root = ij_load(json, len, e)) == NULL)
		return -1;
	if (!json_is_true(json_object_get(root, "value")))
		err_set(e, ERR_REMOTE, "intune: revocation results not "
		    "accepted (value is not true)");
	else
		rc = 0;
	json_decref(root);
	return rc;
}

void
intune_revocation_list_free(struct intune_revocation_list *l)
{
	size_t	i;

	if (l == NULL)
		return;
	for (i = 0; i < l->n && l->items != NULL; i++) {
		free(l->items[i].request_context);
		free(l->items[i].serial_number);
		free(l->items[i].issuer_name);
		free(l->items[i].ca_configuration);
	}
	free(l->items);
	l->items = NULL;
	l->n = 0;
}
