/*
 * scephttp_lib.c - SCEP over HTTP (RFC 8894 §4.1) with libcurl.
 */
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "base/encode.h"
#include "scephttp_lib.h"

/* Bodies larger than this are cut off: a test client needs no more. */
#define SCEPHTTP_MAX_BODY	(4u << 20)

struct scephttp {
	CURL		*curl;		/* owned; keeps the connection alive */
	char		*url;		/* owned; base URL without query */
	struct buf	 target;	/* scratch for the full request URL */
};

int
scephttp_b64_parse(const char *name, enum scephttp_b64 *out)
{
	static const char *const names[] = {
		"encoded", "raw", "urlsafe", "nopad", "urlsafe-nopad",
	};
	size_t	i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(name, names[i]) == 0) {
			*out = (enum scephttp_b64)i;
			return 0;
		}
	}
	return -1;
}

void
scephttp_reply_reset(struct scephttp_reply *r)
{
	if (r == NULL)
		return;
	r->status = 0;
	r->content_type[0] = '\0';
	buf_free(&r->body);
}

int
scephttp_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void
scephttp_global_cleanup(void)
{
	curl_global_cleanup();
}

struct scephttp *
scephttp_new(const char *url, struct err *e)
{
	struct scephttp	*h;

	if ((h = calloc(1, sizeof(*h))) == NULL ||
	    (h->url = strdup(url)) == NULL || (h->curl = curl_easy_init()) == NULL) {
		err_set(e, ERR_NOMEM, "cannot make an HTTP client");
		scephttp_free(h);
		return NULL;
	}
	return h;
}

void
scephttp_free(struct scephttp *h)
{
	if (h == NULL)
		return;
	if (h->curl != NULL)
		curl_easy_cleanup(h->curl);
	free(h->url);
	buf_free(&h->target);
	free(h);
}

static size_t
body_cb(char *p, size_t size, size_t n, void *arg)
{
	struct buf	*b = arg;

	if (b->len + size * n > SCEPHTTP_MAX_BODY ||
	    buf_append(b, p, size * n) == -1)
		return 0;
	return size * n;
}

/* Builds url?operation=OP[&message=M] into h->target. */
static int
target_build(struct scephttp *h, const char *op, const char *message)
{
	buf_reset(&h->target);
	if (buf_printf(&h->target, "%s%coperation=%s", h->url,
	    strchr(h->url, '?') ? '&' : '?', op) == -1)
		return -1;
	if (message != NULL && buf_printf(&h->target, "&message=%s",
	    message) == -1)
		return -1;
	return buf_cstr(&h->target) == NULL ? -1 : 0;
}

/* Runs the prepared request and collects the answer. */
static int
perform(struct scephttp *h, struct scephttp_reply *out, struct err *e)
{
	char		*ct = NULL;
	CURLcode	 rc;

	scephttp_reply_reset(out);
	curl_easy_setopt(h->curl, CURLOPT_URL, (char *)h->target.data);
	curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, body_cb);
	curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, &out->body);
	curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(h->curl, CURLOPT_TIMEOUT, 60L);
	if ((rc = curl_easy_perform(h->curl)) != CURLE_OK)
		return err_set(e, ERR_IO, "HTTP request failed: %s",
		    curl_easy_strerror(rc));
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &out->status);
	if (curl_easy_getinfo(h->curl, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK &&
	    ct != NULL)
		snprintf(out->content_type, sizeof(out->content_type), "%s", ct);
	return 0;
}

int
scephttp_get(struct scephttp *h, const char *op, const char *message,
    struct scephttp_reply *out, struct err *e)
{
	if (target_build(h, op, message) == -1)
		return err_set(e, ERR_NOMEM, "out of memory");
	curl_easy_setopt(h->curl, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, NULL);
	return perform(h, out, e);
}

int
scephttp_post_pkiop(struct scephttp *h, const void *der, size_t len,
    struct scephttp_reply *out, struct err *e)
{
	struct curl_slist	*hdrs = NULL, *more;
	int			 rc;

	if (target_build(h, "PKIOperation", NULL) == -1)
		return err_set(e, ERR_NOMEM, "out of memory");
	/* RFC 8894 §4.3: the body is the binary pkiMessage. */
	if ((hdrs = curl_slist_append(NULL,
	    "Content-Type: application/x-pki-message")) == NULL ||
	    (more = curl_slist_append(hdrs, "Expect:")) == NULL) {
		curl_slist_free_all(hdrs);
		return err_set(e, ERR_NOMEM, "out of memory");
	}
	hdrs = more;
	curl_easy_setopt(h->curl, CURLOPT_POST, 1L);
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, der);
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, hdrs);
	rc = perform(h, out, e);
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hdrs);
	return rc;
}

/* Appends s with the characters base64 uses but URLs reserve escaped. */
static int
url_escape_b64(struct buf *out, const char *s, size_t n)
{
	size_t	i;
	int	rc = 0;

	for (i = 0; i < n && rc == 0; i++) {
		if (s[i] == '+')
			rc = buf_append_str(out, "%2B");
		else if (s[i] == '/')
			rc = buf_append_str(out, "%2F");
		else if (s[i] == '=')
			rc = buf_append_str(out, "%3D");
		else
			rc = buf_append(out, &s[i], 1);
	}
	return rc;
}

/* Encodes der as the variant asks, into out (a C string). */
static int
b64_variant(struct buf *out, const void *der, size_t len,
    enum scephttp_b64 variant)
{
	struct buf	b = {0};
	int		rc = -1;

	if (variant == SCEPHTTP_B64_URLSAFE || variant == SCEPHTTP_B64_URLSAFE_NOPAD) {
		if (b64url_encode(out, der, len) == -1)
			goto out;
		/* b64url_encode never pads; add it back when asked. */
		while (variant == SCEPHTTP_B64_URLSAFE && out->len % 4 != 0)
			if (buf_append(out, "=", 1) == -1)
				goto out;
		rc = buf_cstr(out) == NULL ? -1 : 0;
		goto out;
	}
	if (b64_encode(&b, der, len) == -1)
		goto out;
	if (variant == SCEPHTTP_B64_NOPAD)
		while (b.len > 0 && b.data[b.len - 1] == '=')
			b.len--;
	if (variant == SCEPHTTP_B64_RAW)
		rc = buf_append(out, b.data, b.len);
	else
		rc = url_escape_b64(out, (const char *)b.data, b.len);
	if (rc == 0 && buf_cstr(out) == NULL)
		rc = -1;
out:
	buf_free(&b);
	return rc;
}

int
scephttp_get_pkiop(struct scephttp *h, const void *der, size_t len,
    enum scephttp_b64 variant, struct scephttp_reply *out, struct err *e)
{
	struct buf	msg = {0};
	int		rc;

	if (b64_variant(&msg, der, len, variant) == -1) {
		buf_free(&msg);
		return err_set(e, ERR_NOMEM, "out of memory");
	}
	rc = scephttp_get(h, "PKIOperation", (const char *)msg.data, out, e);
	buf_free(&msg);
	return rc;
}
