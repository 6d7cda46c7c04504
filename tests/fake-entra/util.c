/*
 * util.c - small helpers the handlers share: percent-decoding, query and
 * form parameters, JSON replies, random tokens, Microsoft date formats.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/rand.h>

#include "base/encode.h"
#include "fake.h"

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *
fe_pct_decode(const char *s, size_t n, int plus_space)
{
	char	*out, *o;
	size_t	 i;
	int	 hi, lo;

	if ((out = malloc(n + 1)) == NULL)
		return NULL;
	for (i = 0, o = out; i < n; i++) {
		if (s[i] == '%' && i + 2 < n &&
		    (hi = hexval((unsigned char)s[i + 1])) >= 0 &&
		    (lo = hexval((unsigned char)s[i + 2])) >= 0) {
			*o++ = (char)(hi << 4 | lo);
			i += 2;
		} else if (s[i] == '+' && plus_space)
			*o++ = ' ';
		else
			*o++ = s[i];
	}
	*o = '\0';
	return out;
}

void
fe_params_free(struct fe_param *p, size_t n)
{
	size_t	i;

	if (p == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(p[i].name);
		free(p[i].value);
	}
	free(p);
}

/* Decodes one "name=value" piece into p.  Returns 0 or -1. */
static int
fe_param_one(const char *s, size_t n, struct fe_param *p)
{
	const char	*eq = memchr(s, '=', n);
	size_t		 nl = eq != NULL ? (size_t)(eq - s) : n;

	p->name = fe_pct_decode(s, nl, 1);
	p->value = eq != NULL ? fe_pct_decode(eq + 1, n - nl - 1, 1) :
	    strdup("");
	return p->name != NULL && p->value != NULL ? 0 : -1;
}

int
fe_params_parse(const char *s, size_t n, struct fe_param **out, size_t *nout)
{
	struct fe_param	*p = NULL, *np;
	size_t		 cnt = 0, len;
	const char	*end = s + n, *amp;

	while (s < end) {
		amp = memchr(s, '&', (size_t)(end - s));
		len = amp != NULL ? (size_t)(amp - s) : (size_t)(end - s);
		if (len > 0) {
			if ((np = realloc(p, (cnt + 1) * sizeof(*p))) == NULL)
				goto fail;
			p = np;
			memset(&p[cnt], 0, sizeof(p[cnt]));
			cnt++;
			if (fe_param_one(s, len, &p[cnt - 1]) == -1)
				goto fail;
		}
		s += len + (amp != NULL ? 1 : 0);
	}
	*out = p;
	*nout = cnt;
	return 0;
fail:
	fe_params_free(p, cnt);
	return -1;
}

const char *
fe_param_get(const struct fe_param *p, size_t n, const char *name)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (strcasecmp(p[i].name, name) == 0)
			return p[i].value;
	return NULL;
}

const char *
fe_query(const struct fe_req *req, const char *name)
{
	return fe_param_get(req->params, req->nparams, name);
}

int
fe_resp_json(struct fe_resp *resp, int status, json_t *j)
{
	char	*s;
	int	 rc = -1;

	if (j == NULL)
		return -1;
	if ((s = json_dumps(j, JSON_COMPACT)) == NULL)
		goto out;
	resp->status = status;
	if (resp->content_type == NULL)
		resp->content_type = "application/json; charset=utf-8";
	buf_reset(&resp->body);
	rc = buf_append_str(&resp->body, s);
out:
	free(s);
	json_decref(j);
	return rc;
}

int
fe_resp_header(struct fe_resp *resp, const char *name, const char *value)
{
	char	*n, *v;

	if (resp->nhdr == FE_MAX_HEADERS)
		return -1;
	n = strdup(name);
	v = strdup(value);
	if (n == NULL || v == NULL) {
		free(n);
		free(v);
		return -1;
	}
	resp->hdr_name[resp->nhdr] = n;
	resp->hdr_value[resp->nhdr] = v;
	resp->nhdr++;
	return 0;
}

json_t *
fe_json_body(const struct fe_req *req)
{
	json_t		*j;
	json_error_t	 e;

	if (req->body.len == 0)
		return NULL;
	j = json_loadb((const char *)req->body.data, req->body.len, 0, &e);
	if (j != NULL && !json_is_object(j)) {
		json_decref(j);
		return NULL;
	}
	return j;
}

const char *
fe_json_str(const json_t *o, const char *key)
{
	json_t	*v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

int
fe_random_token(char *out, size_t outlen, size_t nbytes)
{
	unsigned char	 r[64];
	struct buf	 b = {0};
	int		 rc = -1;

	if (nbytes > sizeof(r) || RAND_bytes(r, (int)nbytes) != 1)
		return -1;
	if (b64url_encode(&b, r, nbytes) == -1 || b.len >= outlen)
		goto out;
	memcpy(out, b.data, b.len + 1);
	rc = 0;
out:
	buf_free(&b);
	return rc;
}

void
fe_time_graph(time_t t, char out[32])
{
	struct tm	tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
}

void
fe_time_entra(time_t t, char out[32])
{
	struct tm	tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%d %H:%M:%SZ", &tm);
}

int
fe_starts_with(const char *s, const char *prefix)
{
	return strncasecmp(s, prefix, strlen(prefix)) == 0;
}
