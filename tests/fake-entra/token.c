/*
 * token.c - the Entra ID token endpoint, OAuth 2.0 client credentials
 * (POST /{tenant}/oauth2/v2.0/token, reference §1), and the bearer check
 * the Graph and Intune paths use.
 *
 * Tokens are opaque random strings bound to one audience (Graph or
 * Intune) and one expiry; the product must not look inside them.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "fake.h"
#include "state.h"

#define JWT_BEARER	"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#define TOKEN_KEEP	1000	/* purge expired tokens beyond this many */

/* A copy of an app's credentials, taken under the lock. */
struct fe_creds {
	char	*secret;
	X509	*cert;
};

int
fe_fail(struct fe_oauth_fail *fail, int status, const char *error, int code,
    const char *fmt, ...)
{
	va_list	ap;

	fail->status = status;
	fail->error = error;
	fail->code = code;
	va_start(ap, fmt);
	vsnprintf(fail->text, sizeof(fail->text), fmt, ap);
	va_end(ap);
	return -1;
}

static void
fe_creds_clear(struct fe_creds *c)
{
	if (c->secret != NULL)
		OPENSSL_cleanse(c->secret, strlen(c->secret));
	free(c->secret);
	X509_free(c->cert);
	memset(c, 0, sizeof(*c));
}

/* Finds the app of tenant and client_id and copies its credentials. */
static int
fe_creds_load(struct fe_ctx *ctx, const char *tenant, const char *client_id,
    struct fe_creds *c, struct fe_oauth_fail *fail)
{
	struct fe_app	*app;
	int		 rc = -1;

	fe_state_lock(ctx->st);
	if (!fe_tenant_known(ctx->st, tenant)) {
		fe_fail(fail, 400, "invalid_request", 90002, "Tenant '%s' not "
		    "found. Check to make sure you have the correct tenant ID "
		    "and are signing into the correct cloud.", tenant);
		goto out;
	}
	if ((app = fe_app_find(ctx->st, tenant, client_id)) == NULL) {
		fe_fail(fail, 400, "unauthorized_client", 700016, "Application "
		    "with identifier '%s' was not found in the directory '%s'. "
		    "This can happen if the application has not been installed "
		    "by the administrator of the tenant or consented to by any "
		    "user in the tenant. You may have sent your authentication "
		    "request to the wrong tenant.", client_id, tenant);
		goto out;
	}
	if (app->secret != NULL && (c->secret = strdup(app->secret)) == NULL) {
		fe_fail(fail, 500, "server_error", 90033, "out of memory");
		goto out;
	}
	/* X509_up_ref: the copy outlives the lock; fe_creds_clear frees. */
	if (app->cert != NULL && X509_up_ref(app->cert) == 1)
		c->cert = app->cert;
	rc = 0;
out:
	fe_state_unlock(ctx->st);
	return rc;
}

/* Maps a client-credentials scope to the token's audience. */
static int
fe_scope_audience(const char *scope, const char *tenant, enum fe_aud *aud,
    struct fe_oauth_fail *fail)
{
	static const char	suffix[] = "/.default";
	size_t			n = strlen(scope), sn = sizeof(suffix) - 1;

	if (strchr(scope, ' ') != NULL)
		return fe_fail(fail, 400, "invalid_scope", 70011, "The provided "
		    "value for the input parameter 'scope' is not valid. The "
		    "scope %s is not valid.", scope);
	if (n <= sn || strcmp(scope + n - sn, suffix) != 0)
		return fe_fail(fail, 400, "invalid_scope", 1002012, "The "
		    "provided value for scope %s is not valid. Client "
		    "credential flows must have a scope value with /.default "
		    "suffixed to the resource identifier (application ID URI).",
		    scope);
	/* The Intune resource ends in '/', hence "...com//.default". */
	if (strcasestr(scope, "graph") != NULL)
		*aud = FE_AUD_GRAPH;
	else if (strcasestr(scope, "manage.microsoft") != NULL)
		*aud = FE_AUD_INTUNE;
	else
		return fe_fail(fail, 400, "invalid_resource", 500011, "The "
		    "resource principal named %.*s was not found in the tenant "
		    "named %s. This can happen if the application has not been "
		    "installed by the administrator of the tenant or consented "
		    "to by any user in the tenant.", (int)(n - sn), scope,
		    tenant);
	return 0;
}

/* Checks a client secret in constant time. */
static int
fe_secret_check(const struct fe_creds *c, const char *secret,
    const char *client_id, struct fe_oauth_fail *fail)
{
	size_t	n = strlen(secret);

	if (c->secret != NULL && strlen(c->secret) == n &&
	    CRYPTO_memcmp(c->secret, secret, n) == 0)
		return 0;
	return fe_fail(fail, 401, "invalid_client", 7000215, "Invalid client "
	    "secret provided. Ensure the secret being sent in the request is "
	    "the client secret value, not the client secret ID, for a secret "
	    "added to app '%s'.", client_id);
}

/* Checks whichever credential the form carries. */
static int
fe_credential_check(struct fe_ctx *ctx, const struct fe_param *p, size_t n,
    const struct fe_creds *c, const char *tenant, struct fe_oauth_fail *fail)
{
	const char	*client_id = fe_param_get(p, n, "client_id");
	const char	*secret = fe_param_get(p, n, "client_secret");
	const char	*assertion = fe_param_get(p, n, "client_assertion");
	const char	*atype = fe_param_get(p, n, "client_assertion_type");
	char		 url[1024];

	if (secret != NULL && assertion != NULL)
		return fe_fail(fail, 400, "invalid_request", 90023, "Only one "
		    "of 'client_secret' and 'client_assertion' may be sent.");
	if (secret != NULL)
		return fe_secret_check(c, secret, client_id, fail);
	if (assertion == NULL)
		return fe_fail(fail, 401, "invalid_client", 7000218, "The "
		    "request body must contain the following parameter: "
		    "'client_assertion' or 'client_secret'.");
	if (atype == NULL)
		return fe_fail(fail, 400, "invalid_request", 900144, "The "
		    "request body must contain the following parameter: "
		    "'client_assertion_type'.");
	if (strcmp(atype, JWT_BEARER) != 0)
		return fe_fail(fail, 400, "invalid_request", 50027, "Invalid "
		    "client_assertion_type '%s'; expected '%s'.", atype,
		    JWT_BEARER);
	/* RFC 7523 §3: aud identifies the token endpoint. */
	snprintf(url, sizeof(url), "%s/%s/oauth2/v2.0/token",
	    ctx->cfg->public_url, tenant);
	return fe_assertion_verify(ctx, c->cert, assertion, url, client_id,
	    fail);
}

/* Forgets expired tokens once there are many (lock held). */
static void
fe_token_purge(struct fe_state *st, time_t now)
{
	struct fe_token	*t;
	size_t		 i;

	if (st->tokens.n < TOKEN_KEEP)
		return;
	for (i = 0; i < st->tokens.n; ) {
		t = st->tokens.v[i];
		if (t->expires < now - 3600)
			free(fe_vec_remove(&st->tokens, i));
		else
			i++;
	}
}

/* Issues a token for aud and writes the success answer. */
static int
fe_token_issue(struct fe_ctx *ctx, enum fe_aud aud, struct fe_resp *resp)
{
	struct fe_token	*t;
	time_t		 now = time(NULL);
	long		 life = ctx->cfg->token_lifetime;
	char		 value[sizeof(t->value)];
	int		 rc;

	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    fe_random_token(t->value, sizeof(t->value), 32) == -1) {
		free(t);
		return -1;
	}
	memcpy(value, t->value, sizeof(value));	/* t belongs to st soon */
	t->aud = aud;
	t->expires = now + life;
	fe_state_lock(ctx->st);
	fe_token_purge(ctx->st, now);
	rc = fe_vec_push(&ctx->st->tokens, t);
	fe_state_unlock(ctx->st);
	if (rc == -1) {
		free(t);
		return -1;
	}
	return fe_resp_json(resp, 200, json_pack("{s:s, s:I, s:I, s:s}",
	    "token_type", "Bearer", "expires_in", (json_int_t)life,
	    "ext_expires_in", (json_int_t)life, "access_token", value));
}

/* Runs every check of a token request; fills fail when one refuses. */
static int
fe_token_checks(struct fe_ctx *ctx, const struct fe_req *req,
    const struct fe_param *p, size_t n, enum fe_aud *aud,
    struct fe_oauth_fail *fail)
{
	struct fe_creds	 c = {0};
	const char	*gt = fe_param_get(p, n, "grant_type");
	const char	*client_id = fe_param_get(p, n, "client_id");
	const char	*scope = fe_param_get(p, n, "scope");
	char		 tenant[256];
	int		 rc = -1;

	/* The path is "/{tenant}/oauth2/v2.0/token" (router.c). */
	snprintf(tenant, sizeof(tenant), "%.*s",
	    (int)strcspn(req->path + 1, "/"), req->path + 1);
	if (strcmp(req->method, "POST") != 0)
		return fe_fail(fail, 400, "invalid_request", 900561, "The "
		    "endpoint only accepts POST, OPTIONS requests. Received a "
		    "%s request.", req->method);
	if (gt == NULL || client_id == NULL || scope == NULL)
		return fe_fail(fail, 400, "invalid_request", 900144, "The "
		    "request body must contain the following parameter: '%s'.",
		    gt == NULL ? "grant_type" : client_id == NULL ?
		    "client_id" : "scope");
	if (strcmp(gt, "client_credentials") != 0)
		return fe_fail(fail, 400, "unsupported_grant_type", 70003,
		    "The app requested an unsupported grant type '%s'.", gt);
	if (fe_creds_load(ctx, tenant, client_id, &c, fail) == -1)
		goto out;
	if (fe_scope_audience(scope, tenant, aud, fail) == -1)
		goto out;
	rc = fe_credential_check(ctx, p, n, &c, tenant, fail);
out:
	fe_creds_clear(&c);
	return rc;
}

int
fe_token_handle(struct fe_ctx *ctx, const struct fe_req *req,
    struct fe_resp *resp)
{
	struct fe_oauth_fail	 fail = {0};
	struct fe_param		*p = NULL;
	size_t			 n = 0;
	enum fe_aud		 aud = FE_AUD_GRAPH;
	int			 rc = -1;

	if (fe_params_parse((const char *)req->body.data, req->body.len, &p,
	    &n) == -1)
		goto out;
	if (fe_token_checks(ctx, req, p, n, &aud, &fail) == -1) {
		if (fail.status == 500)
			goto out;
		rc = fe_oauth_error(ctx, req, resp, fail.status, fail.error,
		    fail.code, fail.text);
		goto out;
	}
	rc = fe_token_issue(ctx, aud, resp);
out:
	/* The form holds the client secret: wipe it. */
	if (p != NULL) {
		for (size_t i = 0; i < n; i++)
			OPENSSL_cleanse(p[i].value, strlen(p[i].value));
	}
	fe_params_free(p, n);
	return rc;
}

enum fe_bearer
fe_bearer_check(struct fe_ctx *ctx, const struct fe_req *req,
    enum fe_aud aud)
{
	const char	*a = req->authorization;
	struct fe_token	*t;
	enum fe_bearer	 res = FE_BEARER_INVALID;
	size_t		 i;

	if (a == NULL)
		return FE_BEARER_MISSING;
	/* RFC 6750 §2.1: the scheme name is case-insensitive. */
	if (strncasecmp(a, "Bearer ", 7) != 0)
		return FE_BEARER_INVALID;
	for (a += 7; *a == ' '; a++)
		;
	if (*a == '\0')
		return FE_BEARER_MISSING;
	fe_state_lock(ctx->st);
	for (i = 0; i < ctx->st->tokens.n; i++) {
		t = ctx->st->tokens.v[i];
		if (strcmp(t->value, a) != 0)
			continue;
		if (t->expires <= time(NULL))
			res = FE_BEARER_EXPIRED;
		else if (t->aud != aud)
			res = FE_BEARER_WRONG_AUD;
		else
			res = FE_BEARER_OK;
		break;
	}
	fe_state_unlock(ctx->st);
	return res;
}
