/*
 * http.c - outgoing HTTP on libcurl: handle pool, deadlines, retries.
 *
 * Connection reuse comes from a pool of easy handles: a handle keeps its
 * live connections across curl_easy_reset(), so a thread that takes a
 * handle back from the pool finds the connection of the last call open.
 * A CURLSH shares the DNS and TLS session caches between all handles, so
 * even a new connection resumes its TLS session.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "base/backoff.h"
#include "base/encode.h"
#include "base/log.h"
#include "base/worker.h"
#include "msft/http.h"

#define HTTP_POOL_MAX		16	/* idle handles kept */
#define HTTP_CONNECT_MAX_MS	5000	/* cap of one connect attempt */
#define HTTP_LOCKS		(CURL_LOCK_DATA_LAST)

/*
 * Thread-safety: pool and npool are guarded by pool_lock; share_locks
 * guard the CURLSH data, as libcurl asks through its lock callbacks.
 * Everything else is read-only after http_client_new().
 */
struct http_client {
	CURLSH		*share;
	pthread_mutex_t	 share_locks[HTTP_LOCKS];
	pthread_mutex_t	 pool_lock;
	CURL		*pool[HTTP_POOL_MAX];
	size_t		 npool;
	char		*ca_bundle;
	char		*user_agent;
	int		 max_retries;
	int		 global_init;
};

/* What one attempt gave. */
struct http_attempt {
	CURLcode	 cc;
	char		 errbuf[CURL_ERROR_SIZE];
	int		 too_large;
};

int64_t
http_now_ms(void)
{
	return worker_now_ms();		/* one monotonic clock for all */
}

static void
http_share_lock(CURL *h, curl_lock_data data, curl_lock_access access,
    void *arg)
{
	struct http_client *c = arg;

	(void)h;
	(void)access;
	if ((unsigned)data < HTTP_LOCKS)
		pthread_mutex_lock(&c->share_locks[data]);
}

static void
http_share_unlock(CURL *h, curl_lock_data data, void *arg)
{
	struct http_client *c = arg;

	(void)h;
	if ((unsigned)data < HTTP_LOCKS)
		pthread_mutex_unlock(&c->share_locks[data]);
}

static int
http_share_setup(struct http_client *c, struct err *e)
{
	if ((c->share = curl_share_init()) == NULL)
		return err_set(e, ERR_NOMEM, "http: curl_share_init failed");
	if (curl_share_setopt(c->share, CURLSHOPT_LOCKFUNC,
	    http_share_lock) != CURLSHE_OK ||
	    curl_share_setopt(c->share, CURLSHOPT_UNLOCKFUNC,
	    http_share_unlock) != CURLSHE_OK ||
	    curl_share_setopt(c->share, CURLSHOPT_USERDATA, c) != CURLSHE_OK ||
	    curl_share_setopt(c->share, CURLSHOPT_SHARE,
	    CURL_LOCK_DATA_DNS) != CURLSHE_OK ||
	    curl_share_setopt(c->share, CURLSHOPT_SHARE,
	    CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK)
		return err_set(e, ERR_INTERNAL, "http: cannot set up curl share");
	return 0;
}

struct http_client *
http_client_new(const struct http_client_opts *opts, struct err *e)
{
	struct http_client	*c = NULL;
	size_t			 i;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		err_set(e, ERR_NOMEM, "http: out of memory");
		return NULL;
	}
	for (i = 0; i < HTTP_LOCKS; i++)
		pthread_mutex_init(&c->share_locks[i], NULL);
	pthread_mutex_init(&c->pool_lock, NULL);
	c->max_retries = opts->max_retries < 0 ? 0 : opts->max_retries;
	/* Reference-counted by libcurl; thread-safe since 7.84. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		err_set(e, ERR_INTERNAL, "http: curl_global_init failed");
		goto fail;
	}
	c->global_init = 1;
	if ((opts->ca_bundle != NULL &&
	    (c->ca_bundle = strdup(opts->ca_bundle)) == NULL) ||
	    (opts->user_agent != NULL &&
	    (c->user_agent = strdup(opts->user_agent)) == NULL)) {
		err_set(e, ERR_NOMEM, "http: out of memory");
		goto fail;
	}
	if (http_share_setup(c, e) == -1)
		goto fail;
	return c;
fail:
	http_client_free(c);
	return NULL;
}

void
http_client_free(struct http_client *c)
{
	size_t	i;

	if (c == NULL)
		return;
	for (i = 0; i < c->npool; i++)
		curl_easy_cleanup(c->pool[i]);
	if (c->share != NULL)
		curl_share_cleanup(c->share);
	for (i = 0; i < HTTP_LOCKS; i++)
		pthread_mutex_destroy(&c->share_locks[i]);
	pthread_mutex_destroy(&c->pool_lock);
	free(c->ca_bundle);
	free(c->user_agent);
	if (c->global_init)
		curl_global_cleanup();
	free(c);
}

/* Takes an idle handle from the pool, or makes one.  NULL when no memory. */
static CURL *
http_handle_get(struct http_client *c)
{
	CURL	*h = NULL;

	pthread_mutex_lock(&c->pool_lock);
	if (c->npool > 0)
		h = c->pool[--c->npool];
	pthread_mutex_unlock(&c->pool_lock);
	if (h != NULL) {
		curl_easy_reset(h);	/* keeps its live connections */
		return h;
	}
	return curl_easy_init();
}

/* Returns a handle to the pool, or frees it when the pool is full. */
static void
http_handle_put(struct http_client *c, CURL *h)
{
	if (h == NULL)
		return;
	pthread_mutex_lock(&c->pool_lock);
	if (c->npool < HTTP_POOL_MAX) {
		c->pool[c->npool++] = h;
		h = NULL;
	}
	pthread_mutex_unlock(&c->pool_lock);
	if (h != NULL)
		curl_easy_cleanup(h);
}

struct http_sink {
	struct buf	*body;
	int		*too_large;
};

static size_t
http_write_cb(char *p, size_t size, size_t nmemb, void *arg)
{
	struct http_sink	*s = arg;
	size_t			 n = size * nmemb;

	if (s->body->len + n > HTTP_RESPONSE_MAX) {
		*s->too_large = 1;
		return 0;		/* makes curl fail with a write error */
	}
	if (buf_append(s->body, p, n) == -1)
		return 0;
	return n;
}

/* Frees a header list after wiping it: it may hold a bearer token. */
static void
http_headers_free(struct curl_slist *h)
{
	struct curl_slist	*l;

	for (l = h; l != NULL; l = l->next)
		OPENSSL_cleanse(l->data, strlen(l->data));
	curl_slist_free_all(h);
}

static struct curl_slist *
http_header_add(struct curl_slist *list, int *failed, const char *line)
{
	struct curl_slist	*n;

	if (*failed)
		return list;
	if ((n = curl_slist_append(list, line)) == NULL) {
		*failed = 1;
		return list;
	}
	return n;
}

/* Builds the request headers.  NULL with *failed set when out of memory. */
static struct curl_slist *
http_headers_build(const struct http_request *req, const char *rid)
{
	struct curl_slist	*l = NULL;
	struct buf		 line = {0};
	size_t			 i;
	int			 failed = 0;

	if (buf_printf(&line, "client-request-id: %s", rid) == -1)
		failed = 1;
	l = http_header_add(l, &failed, buf_cstr(&line));
	l = http_header_add(l, &failed, "return-client-request-id: true");
	l = http_header_add(l, &failed, "Accept: application/json");
	buf_reset(&line);
	if (req->content_type != NULL) {
		if (buf_printf(&line, "Content-Type: %s", req->content_type) == -1)
			failed = 1;
		l = http_header_add(l, &failed, buf_cstr(&line));
	}
	for (i = 0; req->headers != NULL && req->headers[i] != NULL; i++)
		l = http_header_add(l, &failed, req->headers[i]);
	buf_reset(&line);
	if (req->bearer != NULL) {
		if (buf_printf(&line, "Authorization: Bearer %s", req->bearer) ==
		    -1)
			failed = 1;
		l = http_header_add(l, &failed, buf_cstr(&line));
	}
	buf_wipe(&line);
	if (failed) {
		http_headers_free(l);
		return NULL;
	}
	return l;
}

/* Sets every option of one attempt on h.  Returns 0, or -1. */
static int
http_handle_setup(struct http_client *c, CURL *h,
    const struct http_request *req, struct curl_slist *hdrs,
    int64_t remaining)
{
	long	total = (long)remaining;
	long	connect = total < HTTP_CONNECT_MAX_MS ? total : HTTP_CONNECT_MAX_MS;
	int	rc = 0;

#define SET(opt, val) do { if (curl_easy_setopt(h, opt, val) != CURLE_OK) rc = -1; } while (0)
	SET(CURLOPT_URL, req->url);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_SHARE, c->share);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (c->ca_bundle != NULL)
		SET(CURLOPT_CAINFO, c->ca_bundle);
	if (c->user_agent != NULL)
		SET(CURLOPT_USERAGENT, c->user_agent);
	SET(CURLOPT_CONNECTTIMEOUT_MS, connect);
	SET(CURLOPT_TIMEOUT_MS, total);
	SET(CURLOPT_TCP_KEEPALIVE, 1L);
	SET(CURLOPT_ACCEPT_ENCODING, "");
	SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)HTTP_RESPONSE_MAX);
	SET(CURLOPT_HTTPHEADER, hdrs);
	if (strcmp(req->method, "POST") == 0) {
		SET(CURLOPT_POST, 1L);
		SET(CURLOPT_POSTFIELDS, req->body != NULL ? req->body : "");
		SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
	} else if (strcmp(req->method, "GET") != 0) {
		SET(CURLOPT_CUSTOMREQUEST, req->method);
	}
#undef SET
	return rc;
}

/* Runs one attempt; fills resp->status, body and retry_after. */
static void
http_attempt_run(struct http_client *c, CURL *h, const struct http_request *req,
    struct curl_slist *hdrs, int64_t remaining, struct http_response *resp,
    struct http_attempt *a)
{
	struct http_sink	sink = { &resp->body, &a->too_large };
	curl_off_t		ra = -1;

	memset(a, 0, sizeof(*a));
	buf_reset(&resp->body);
	resp->status = 0;
	resp->retry_after = -1;
	if (http_handle_setup(c, h, req, hdrs, remaining) == -1 ||
	    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, http_write_cb) !=
	    CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, a->errbuf) != CURLE_OK) {
		a->cc = CURLE_FAILED_INIT;
		return;
	}
	a->cc = curl_easy_perform(h);
	if (a->cc == CURLE_FILESIZE_EXCEEDED)
		a->too_large = 1;
	if (a->cc != CURLE_OK)
		return;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
	/* Also parses the HTTP-date form into seconds from now. */
	if (curl_easy_getinfo(h, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK &&
	    ra > 0)
		resp->retry_after = ra > 86400 ? 86400 : (long)ra;
}

long
http_gate_retry_after(const struct http_gate *g)
{
	int64_t	left = backoff_hold_left(&g->hold, http_now_ms());

	return left > 0 ? (long)((left + 999) / 1000) : 0;
}

/* Whether a transport failure is worth another attempt. */
static int
http_cc_retryable(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_OPERATION_TIMEDOUT:
		return 1;
	default:
		return 0;
	}
}

/*
 * The wait before a retry, ms: Retry-After when the server gave one (RFC
 * 9110 §10.2.3), else 250 ms doubled per attempt up to 8 s, with jitter.
 */
static const struct backoff http_retry = { .min = 250, .max = 8000,
    .jitter = 1, .asked_replaces = 1 };

static void
http_sleep_ms(int64_t ms)
{
	struct timespec	ts;

	if (ms <= 0)
		return;
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Describes a transport failure in msg. */
static void
http_attempt_describe(const struct http_attempt *a, char *msg, size_t len)
{
	if (a->too_large)
		snprintf(msg, len, "response larger than %u bytes",
		    HTTP_RESPONSE_MAX);
	else
		snprintf(msg, len, "%s", a->errbuf[0] ? a->errbuf :
		    curl_easy_strerror(a->cc));
}

/* Sets e (and logs) for a call that failed for good. */
static int
http_fail(const struct http_request *req, struct http_response *resp,
    struct err *e, enum err_code code, const char *why)
{
	err_set(e, code, "%s: %s failed after %d attempt%s: %s "
	    "(client-request-id %s)", req->subsys, req->what, resp->attempts,
	    resp->attempts == 1 ? "" : "s", why, resp->request_id);
	log_err(req->subsys, "%s failed after %d attempt%s: %s "
	    "(client-request-id %s)", req->what, resp->attempts,
	    resp->attempts == 1 ? "" : "s", why, resp->request_id);
	return -1;
}

/*
 * Decides what follows one attempt: returns 0 when the answer is final
 * and good for the caller, 1 to retry after *wait ms, or -1 (e set).
 */
static int
http_attempt_judge(const struct http_request *req, struct http_response *resp,
    const struct http_attempt *a, int retries_left, int64_t *wait,
    struct err *e)
{
	int64_t		remaining = req->deadline_ms - http_now_ms();
	enum err_code	code = ERR_REMOTE;
	char		why[CURL_ERROR_SIZE + 64];

	resp->transport_error = a->cc != CURLE_OK;
	if (a->cc != CURLE_OK) {
		http_attempt_describe(a, why, sizeof(why));
		if (a->too_large)
			return http_fail(req, resp, e, ERR_TOO_LARGE, why);
		if (a->cc == CURLE_URL_MALFORMAT ||
		    a->cc == CURLE_UNSUPPORTED_PROTOCOL)
			return http_fail(req, resp, e, ERR_USAGE, why);
		if (remaining <= 0)
			return http_fail(req, resp, e, ERR_TIMEOUT, why);
		if (!http_cc_retryable(a->cc))
			retries_left = 0;
	} else if (resp->status == 429 || resp->status == 503) {
		code = ERR_THROTTLED;
		if (req->gate != NULL && resp->retry_after > 0)
			backoff_hold_until(&req->gate->hold, http_now_ms() +
			    resp->retry_after * 1000);
		snprintf(why, sizeof(why), "HTTP %ld", resp->status);
		if (resp->retry_after * 1000 > remaining) {
			snprintf(why, sizeof(why), "HTTP %ld, Retry-After %ld s "
			    "is beyond the deadline", resp->status,
			    resp->retry_after);
			return http_fail(req, resp, e, code, why);
		}
	} else if (resp->status >= 500) {
		snprintf(why, sizeof(why), "HTTP %ld", resp->status);
	} else {
		return 0;
	}
	if (retries_left <= 0)
		return http_fail(req, resp, e, code, why);
	/* retry_after is -1 when the server gave none. */
	*wait = backoff_delay(&http_retry, resp->attempts,
	    (int64_t)resp->retry_after * 1000, backoff_random());
	if (*wait >= remaining)
		return http_fail(req, resp, e, code, why);
	log_warn(req->subsys, "%s: %s, retrying in %lld ms (client-request-id "
	    "%s)", req->what, why, (long long)*wait, resp->request_id);
	return 1;
}

int
http_client_do(struct http_client *c, const struct http_request *req,
    struct http_response *resp, struct err *e)
{
	struct curl_slist	*hdrs = NULL;
	struct http_attempt	 a;
	CURL			*h = NULL;
	int64_t			 remaining, wait = 0;
	int			 rc = -1, verdict;

	resp->attempts = 0;
	resp->transport_error = 0;
	resp->retry_after = -1;
	if (uuid_v4(resp->request_id) == -1)
		return err_set(e, ERR_INTERNAL, "%s: no random UUID", req->subsys);
	if (req->gate != NULL &&
	    (resp->retry_after = http_gate_retry_after(req->gate)) > 0)
		return err_set(e, ERR_THROTTLED, "%s: %s not sent: throttled, "
		    "the server asked to wait %ld s more", req->subsys,
		    req->what, resp->retry_after);
	if ((hdrs = http_headers_build(req, resp->request_id)) == NULL ||
	    (h = http_handle_get(c)) == NULL) {
		err_set(e, ERR_NOMEM, "%s: out of memory", req->subsys);
		goto out;
	}
	for (;;) {
		remaining = req->deadline_ms - http_now_ms();
		if (remaining <= 0) {
			http_fail(req, resp, e, ERR_TIMEOUT, "deadline passed");
			goto out;
		}
		resp->attempts++;
		http_attempt_run(c, h, req, hdrs, remaining, resp, &a);
		verdict = http_attempt_judge(req, resp, &a,
		    c->max_retries - (resp->attempts - 1), &wait, e);
		if (verdict <= 0) {
			rc = verdict;
			goto out;
		}
		http_sleep_ms(wait);
	}
out:
	/* The handle's POSTFIELDS point at the caller's body: drop them. */
	if (h != NULL)
		curl_easy_reset(h);
	http_handle_put(c, h);
	http_headers_free(hdrs);
	return rc;
}

void
http_response_free(struct http_response *resp)
{
	if (resp == NULL)
		return;
	buf_free(&resp->body);
	resp->status = 0;
	resp->retry_after = -1;
}

int
http_url_encode(struct buf *out, const char *s)
{
	static const char	hex[] = "0123456789ABCDEF";
	unsigned char		c;
	char			esc[3];

	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~') {
			if (buf_append(out, s, 1) == -1)
				return -1;
			continue;
		}
		esc[0] = '%';
		esc[1] = hex[c >> 4];
		esc[2] = hex[c & 0xf];
		if (buf_append(out, esc, 3) == -1)
			return -1;
	}
	return buf_cstr(out) == NULL ? -1 : 0;
}

/* Length of "scheme://authority" at the start of url, or 0. */
static size_t
http_origin_len(const char *url)
{
	const char	*p = strstr(url, "://");

	if (p == NULL)
		return 0;
	p += 3;
	return (size_t)(p - url) + strcspn(p, "/?#");
}

int
http_url_same_origin(const char *url, const char *base)
{
	size_t	n = http_origin_len(base);

	if (n == 0 || http_origin_len(url) != n)
		return 0;
	return strncasecmp(url, base, n) == 0;
}
