/*
 * token.c - client credentials tokens, a per-scope cache, and the
 * single-flight refresh.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "base/log.h"
#include "msft/jwt.h"
#include "msft/token.h"

#define TOKEN_MAX_LEN		(64 * 1024)
#define TOKEN_LIFETIME_MAX	86400L

/* One cached scope.  Guarded by the client's lock. */
struct token_entry {
	char		*scope;
	struct buf	 token;		/* empty when none */
	int64_t		 expires_at;	/* http_now_ms() clock */
	int64_t		 refresh_at;
	int		 refreshing;	/* a thread is asking Entra */
	unsigned	 gen;		/* completed refreshes */
	int		 failed;	/* the last refresh failed with last_err */
	struct err	 last_err;
};

/*
 * Thread-safety: entries are guarded by lock; cond signals the end of a
 * refresh.  conf, http, signer and token_url are read-only.
 */
struct entra_token_client {
	const struct entra_conf	*conf;		/* borrowed */
	struct http_client	*http;		/* borrowed */
	struct jwt_signer	*signer;	/* owned; NULL with a secret */
	char			*token_url;
	pthread_mutex_t		 lock;
	pthread_cond_t		 cond;		/* CLOCK_MONOTONIC */
	struct token_entry	 entries[ENTRA_TOKEN_SCOPES_MAX];
	size_t			 nentries;
	struct http_gate	 gate;		/* atomic itself */
};

struct entra_token_client *
entra_token_client_new(const struct entra_conf *conf, struct http_client *http,
    struct err *e)
{
	struct entra_token_client	*tc = NULL;
	pthread_condattr_t		 ca;
	struct buf			 url = {0};

	if (!conf->validated ||
	    (conf->client_cert == NULL && conf->secret.len == 0)) {
		err_set(e, ERR_CONFIG, "entra: configuration not validated");
		return NULL;
	}
	if ((tc = calloc(1, sizeof(*tc))) == NULL ||
	    buf_printf(&url, "%s/%s/oauth2/v2.0/token", conf->login_base,
	    conf->tenant) == -1 || (tc->token_url = buf_steal(&url, NULL)) ==
	    NULL) {
		err_set(e, ERR_NOMEM, "entra: out of memory");
		buf_free(&url);
		free(tc);
		return NULL;
	}
	tc->conf = conf;
	tc->http = http;
	pthread_mutex_init(&tc->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&tc->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (conf->client_cert != NULL &&
	    (tc->signer = jwt_signer_load(conf->client_cert, conf->client_key,
	    conf->assertion_alg, e)) == NULL) {
		entra_token_client_free(tc);
		return NULL;
	}
	return tc;
}

void
entra_token_client_free(struct entra_token_client *tc)
{
	size_t	i;

	if (tc == NULL)
		return;
	for (i = 0; i < tc->nentries; i++) {
		buf_wipe(&tc->entries[i].token);
		free(tc->entries[i].scope);
	}
	jwt_signer_free(tc->signer);
	pthread_mutex_destroy(&tc->lock);
	pthread_cond_destroy(&tc->cond);
	free(tc->token_url);
	free(tc);
}

/* Finds or adds the entry of scope.  Call with the lock held. */
static struct token_entry *
token_entry_get(struct entra_token_client *tc, const char *scope)
{
	struct token_entry	*ent;
	size_t			 i;

	for (i = 0; i < tc->nentries; i++)
		if (strcmp(tc->entries[i].scope, scope) == 0)
			return &tc->entries[i];
	if (tc->nentries == ENTRA_TOKEN_SCOPES_MAX)
		return NULL;
	ent = &tc->entries[tc->nentries];
	memset(ent, 0, sizeof(*ent));
	if ((ent->scope = strdup(scope)) == NULL)
		return NULL;
	tc->nentries++;
	return ent;
}

/* Appends "&name=value" (value percent-encoded) to a form body. */
static int
token_form_add(struct buf *form, const char *name, const char *value)
{
	if ((form->len > 0 && buf_append(form, "&", 1) == -1) ||
	    buf_printf(form, "%s=", name) == -1)
		return -1;
	return http_url_encode(form, value);
}

/* Builds the token request body (RFC 6749 §4.4.2, RFC 7523 §2.2). */
static int
token_form_build(struct entra_token_client *tc, const char *scope,
    struct buf *form, struct err *e)
{
	struct buf	jws = {0};
	int		rc = -1;

	if (token_form_add(form, "client_id", tc->conf->client_id) == -1 ||
	    token_form_add(form, "grant_type", "client_credentials") == -1 ||
	    token_form_add(form, "scope", scope) == -1)
		goto nomem;
	if (tc->signer == NULL) {
		/* validate() left the secret NUL-terminated and non-empty. */
		if (token_form_add(form, "client_secret",
		    (const char *)tc->conf->secret.data) == -1)
			goto nomem;
		return 0;
	}
	if (jwt_signer_assertion(tc->signer, tc->token_url,
	    tc->conf->client_id, time(NULL), &jws, e) == -1)
		goto out;
	if (token_form_add(form, "client_assertion_type",
	    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer") == -1 ||
	    token_form_add(form, "client_assertion", buf_cstr(&jws)) == -1)
		goto nomem;
	rc = 0;
	goto out;
nomem:
	err_set(e, ERR_NOMEM, "entra: out of memory");
out:
	buf_wipe(&jws);
	return rc;
}

static int
token_visible_ascii(const char *s, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (s[i] < 0x21 || s[i] > 0x7e)
			return 0;
	return 1;
}

/* expires_in is a number, or a numeric string in older answers. */
static long
token_json_lifetime(json_t *v)
{
	long	n = -1;
	char	*end;

	if (json_is_integer(v))
		n = json_integer_value(v) > TOKEN_LIFETIME_MAX ?
		    TOKEN_LIFETIME_MAX : (long)json_integer_value(v);
	else if (json_is_string(v)) {
		errno = 0;
		n = strtol(json_string_value(v), &end, 10);
		if (errno != 0 || *end != '\0' || end == json_string_value(v))
			n = -1;
	}
	return n > TOKEN_LIFETIME_MAX ? TOKEN_LIFETIME_MAX : n;
}

int
entra_token_json_parse(const char *json, size_t len, struct buf *token,
    long *expires_in, struct err *e)
{
	json_t		*root = NULL, *tok, *type;
	json_error_t	 jerr;
	int		 rc = -1;

	if ((root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr)) ==
	    NULL || !json_is_object(root)) {
		err_set(e, ERR_PARSE, "entra: token answer is not a JSON object");
		goto out;
	}
	tok = json_object_get(root, "access_token");
	type = json_object_get(root, "token_type");
	if (!json_is_string(tok) || json_string_length(tok) == 0 ||
	    json_string_length(tok) > TOKEN_MAX_LEN ||
	    !token_visible_ascii(json_string_value(tok),
	    json_string_length(tok))) {
		err_set(e, ERR_PARSE, "entra: token answer has no usable "
		    "access_token");
		goto out;
	}
	if (type != NULL && (!json_is_string(type) ||
	    strcasecmp(json_string_value(type), "Bearer") != 0)) {
		err_set(e, ERR_PARSE, "entra: token_type is not Bearer");
		goto out;
	}
	if ((*expires_in = token_json_lifetime(json_object_get(root,
	    "expires_in"))) <= 0) {
		err_set(e, ERR_PARSE, "entra: token answer has no valid "
		    "expires_in");
		goto out;
	}
	if (buf_set(token, json_string_value(tok), json_string_length(tok)) ==
	    -1) {
		err_set(e, ERR_NOMEM, "entra: out of memory");
		goto out;
	}
	rc = 0;
out:
	json_decref(root);	/* the token copy inside jansson is not wiped */
	return rc;
}

void
entra_token_json_error(const char *json, size_t len, char *out, size_t outlen)
{
	json_t		*root, *err, *desc, *codes;
	json_error_t	 jerr;

	snprintf(out, outlen, "unparseable error answer");
	if ((root = json_loadb(json, len, 0, &jerr)) == NULL)
		return;
	err = json_object_get(root, "error");
	desc = json_object_get(root, "error_description");
	codes = json_object_get(root, "error_codes");
	if (json_is_string(err))
		snprintf(out, outlen, "%.64s%s%.200s", json_string_value(err),
		    json_is_string(desc) ? ": " : "",
		    json_is_string(desc) ? json_string_value(desc) : "");
	else if (json_is_array(codes) &&
	    json_is_integer(json_array_get(codes, 0)))
		snprintf(out, outlen, "error code %lld",
		    (long long)json_integer_value(json_array_get(codes, 0)));
	json_decref(root);
}

/* Asks Entra for a token of scope.  Fills token and lifetime (seconds). */
static int
token_fetch(struct entra_token_client *tc, const char *scope,
    int64_t deadline_ms, struct buf *token, long *lifetime, struct err *e)
{
	struct http_response	resp = {0};
	struct http_request	req = {0};
	struct buf		form = {0};
	char			why[300];
	int			rc = -1;

	if (token_form_build(tc, scope, &form, e) == -1)
		goto out;
	req.method = "POST";
	req.url = tc->token_url;
	req.subsys = "entra";
	req.what = "token request";
	req.content_type = "application/x-www-form-urlencoded";
	req.body = form.data;
	req.body_len = form.len;
	req.deadline_ms = deadline_ms;
	req.gate = &tc->gate;
	if (http_client_do(tc->http, &req, &resp, e) == -1)
		goto out;
	if (resp.status == 200) {
		if ((rc = entra_token_json_parse((char *)resp.body.data,
		    resp.body.len, token, lifetime, e)) == -1)
			log_err("entra", "%s (client-request-id %s)", e->msg,
			    resp.request_id);
		goto out;
	}
	entra_token_json_error((char *)resp.body.data, resp.body.len, why,
	    sizeof(why));
	log_err("entra", "token request for %s refused: HTTP %ld: %s "
	    "(client-request-id %s)", scope, resp.status, why, resp.request_id);
	err_set(e, resp.status == 400 || resp.status == 401 ? ERR_AUTH :
	    ERR_REMOTE, "entra: token request refused: HTTP %ld: %.200s "
	    "(client-request-id %s)", resp.status, why, resp.request_id);
out:
	buf_wipe(&form);
	buf_wipe(&resp.body);
	return rc;
}

/* Whether ent holds a token a caller may use now.  Lock held. */
static int
token_entry_usable(const struct token_entry *ent, int64_t now)
{
	if (ent->token.len == 0 || now >= ent->expires_at)
		return 0;
	/* Early refresh under way elsewhere: the old token still works. */
	return now < ent->refresh_at || ent->refreshing;
}

static int
token_copy_out(const struct token_entry *ent, int64_t now, struct buf *token,
    long *expires_in, struct err *e)
{
	if (buf_set(token, ent->token.data, ent->token.len) == -1)
		return err_set(e, ERR_NOMEM, "entra: out of memory");
	if (expires_in != NULL)
		*expires_in = (long)((ent->expires_at - now) / 1000);
	return 0;
}

/*
 * Waits, lock held, for the refresh another thread is doing.  Returns 0
 * to look again, or -1 with e filled (deadline, or that refresh failed).
 */
static int
token_wait_refresh(struct entra_token_client *tc, struct token_entry *ent,
    int64_t deadline_ms, struct err *e)
{
	unsigned	gen = ent->gen;
	struct timespec	ts;

	ts.tv_sec = (time_t)(deadline_ms / 1000);
	ts.tv_nsec = (long)(deadline_ms % 1000) * 1000000L;
	while (ent->refreshing && ent->gen == gen)
		if (pthread_cond_timedwait(&tc->cond, &tc->lock, &ts) ==
		    ETIMEDOUT)
			return err_set(e, ERR_TIMEOUT, "entra: timed out "
			    "waiting for the token refresh of %s", ent->scope);
	if (ent->gen != gen && ent->failed) {
		if (e != NULL)
			*e = ent->last_err;
		return -1;
	}
	return 0;
}

/* Stores the outcome of a refresh, lock held, and wakes the waiters. */
static void
token_entry_store(struct entra_token_client *tc, struct token_entry *ent,
    int rc, struct buf *fresh, long lifetime, int64_t t0, const struct err *e)
{
	int64_t	life_ms = (int64_t)lifetime * 1000, margin = life_ms / 10;

	ent->refreshing = 0;
	ent->gen++;
	ent->failed = rc == -1;
	if (rc == 0) {
		buf_wipe(&ent->token);
		ent->token = *fresh;		/* moves the memory */
		memset(fresh, 0, sizeof(*fresh));
		if (margin > ENTRA_TOKEN_MARGIN_MS)
			margin = ENTRA_TOKEN_MARGIN_MS;
		/* Counted from when we asked: never later than Entra's. */
		ent->expires_at = t0 + life_ms;
		ent->refresh_at = ent->expires_at - margin;
	} else if (e != NULL) {
		ent->last_err = *e;
	}
	pthread_cond_broadcast(&tc->cond);
}

int
entra_token_get(struct entra_token_client *tc, const char *scope,
    int64_t deadline_ms, struct buf *token, long *expires_in, struct err *e)
{
	struct token_entry	*ent;
	struct buf		 fresh = {0};
	struct err		 ferr = {0};
	long			 lifetime = 0;
	int64_t			 t0;
	int			 rc = -1;

	pthread_mutex_lock(&tc->lock);
	if ((ent = token_entry_get(tc, scope)) == NULL) {
		err_set(e, ERR_INTERNAL, "entra: too many token scopes");
		goto out;
	}
	for (;;) {
		if (token_entry_usable(ent, http_now_ms())) {
			rc = token_copy_out(ent, http_now_ms(), token,
			    expires_in, e);
			goto out;
		}
		if (!ent->refreshing)
			break;
		if (token_wait_refresh(tc, ent, deadline_ms, e) == -1)
			goto out;
	}
	/* This thread refreshes; the others wait in token_wait_refresh(). */
	ent->refreshing = 1;
	pthread_mutex_unlock(&tc->lock);
	t0 = http_now_ms();
	rc = token_fetch(tc, scope, deadline_ms, &fresh, &lifetime, &ferr);
	pthread_mutex_lock(&tc->lock);
	token_entry_store(tc, ent, rc, &fresh, lifetime, t0, &ferr);
	if (rc == 0)
		rc = token_copy_out(ent, http_now_ms(), token, expires_in, e);
	else if (e != NULL)
		*e = ferr;
out:
	pthread_mutex_unlock(&tc->lock);
	buf_wipe(&fresh);
	return rc;
}

void
entra_token_invalidate(struct entra_token_client *tc, const char *scope,
    const char *token)
{
	struct token_entry	*ent;
	size_t			 i, n = strlen(token);

	pthread_mutex_lock(&tc->lock);
	for (i = 0; i < tc->nentries; i++) {
		ent = &tc->entries[i];
		if (strcmp(ent->scope, scope) != 0 || ent->token.len != n ||
		    CRYPTO_memcmp(ent->token.data, token, n) != 0)
			continue;
		buf_wipe(&ent->token);
		ent->expires_at = ent->refresh_at = 0;
	}
	pthread_mutex_unlock(&tc->lock);
}

int
entra_token_http_do(struct entra_token_client *tc, const char *scope,
    const struct http_request *req0, struct http_response *resp,
    struct err *e)
{
	struct http_request	req = *req0;
	struct buf		tok = {0};
	int			attempt, rc = -1;

	for (attempt = 0; attempt < 2; attempt++) {
		if (entra_token_get(tc, scope, req.deadline_ms, &tok, NULL,
		    e) == -1)
			goto out;
		req.bearer = buf_cstr(&tok);
		http_response_free(resp);
		if (http_client_do(tc->http, &req, resp, e) == -1)
			goto out;
		if (resp->status != 401 || attempt == 1)
			break;
		/* An expired or revoked token: one new token, one retry. */
		log_info(req.subsys, "%s: HTTP 401, retrying with a new token "
		    "(client-request-id %s)", req.what, resp->request_id);
		entra_token_invalidate(tc, scope, buf_cstr(&tok));
		buf_wipe(&tok);
	}
	rc = 0;
out:
	buf_wipe(&tok);
	return rc;
}
