/*
 * conf.c - the Microsoft cloud clients' settings: a declarative
 * table of names, the cloud presets, one validation pass, secret loading.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "msft/conf.h"

#define ENTRA_SECRET_MAX	4096

/* Per-cloud endpoints (reference/microsoft-apis.md §1). */
static const struct entra_cloud_preset {
	const char	*name;
	const char	*login_base;
	const char	*graph_base;
	const char	*intune_scope;	/* NULL: not known for this cloud */
} presets[] = {
	[ENTRA_CLOUD_GLOBAL] = { "global", "https://login.microsoftonline.com",
	    "https://graph.microsoft.com", ENTRA_INTUNE_SCOPE_GLOBAL },
	[ENTRA_CLOUD_USGOV] = { "usgov", "https://login.microsoftonline.us",
	    "https://graph.microsoft.us", NULL },
	[ENTRA_CLOUD_DOD] = { "dod", "https://login.microsoftonline.us",
	    "https://dod-graph.microsoft.us", NULL },
	[ENTRA_CLOUD_CHINA] = { "china", "https://login.chinacloudapi.cn",
	    "https://microsoftgraph.chinacloudapi.cn", NULL },
	[ENTRA_CLOUD_CUSTOM] = { "custom", NULL, NULL, NULL },
};

enum conf_type { CT_STR, CT_CLOUD, CT_ALG, CT_SECONDS, CT_MS, CT_INT };

static const struct conf_item {
	const char	*name;
	enum conf_type	 type;
	size_t		 offset;
} items[] = {
#define ITEM(n, t) { #n, t, offsetof(struct entra_conf, n) }
	ITEM(cloud, CT_CLOUD),
	ITEM(tenant, CT_STR),
	ITEM(client_id, CT_STR),
	ITEM(client_secret_file, CT_STR),
	ITEM(client_secret_env, CT_STR),
	ITEM(client_cert, CT_STR),
	ITEM(client_key, CT_STR),
	ITEM(assertion_alg, CT_ALG),
	ITEM(login_base, CT_STR),
	ITEM(graph_base, CT_STR),
	ITEM(graph_scope, CT_STR),
	ITEM(intune_scope, CT_STR),
	ITEM(ca_bundle, CT_STR),
	{ "timeout", CT_SECONDS, offsetof(struct entra_conf, timeout_ms) },
	ITEM(timeout_ms, CT_MS),
	ITEM(max_retries, CT_INT),
	ITEM(caller_info, CT_STR),
#undef ITEM
};

const char *
entra_cloud_name(enum entra_cloud cloud)
{
	if ((unsigned)cloud > ENTRA_CLOUD_CUSTOM)
		return "?";
	return presets[cloud].name;
}

int
entra_cloud_from_name(const char *name, enum entra_cloud *cloud)
{
	size_t	i;

	for (i = 0; i < sizeof(presets) / sizeof(presets[0]); i++) {
		if (strcasecmp(name, presets[i].name) == 0) {
			*cloud = (enum entra_cloud)i;
			return 0;
		}
	}
	return -1;
}

size_t
entra_cloud_names(char *out, size_t size, const char *sep)
{
	size_t	i, room, len = 0;
	int	n;

	if (size > 0)
		out[0] = '\0';
	for (i = 0; i < sizeof(presets) / sizeof(presets[0]); i++) {
		/* Past the end, count on without writing. */
		room = len < size ? size - len : 0;
		n = snprintf(room > 0 ? out + len : NULL, room, "%s%s",
		    i == 0 ? "" : sep, presets[i].name);
		if (n < 0)
			break;
		len += (size_t)n;
	}
	return len;
}

struct entra_conf *
entra_conf_new(void)
{
	struct entra_conf	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->cloud = ENTRA_CLOUD_GLOBAL;
	c->assertion_alg = ENTRA_ALG_PS256;
	c->timeout_ms = ENTRA_TIMEOUT_MS_DEFAULT;
	c->max_retries = ENTRA_MAX_RETRIES_DEFAULT;
	return c;
}

void
entra_conf_free(struct entra_conf *c)
{
	size_t	i;

	if (c == NULL)
		return;
	buf_wipe(&c->secret);
	for (i = 0; i < sizeof(items) / sizeof(items[0]); i++)
		if (items[i].type == CT_STR)
			free(*(char **)((char *)c + items[i].offset));
	free(c);
}

/* Parses a non-negative decimal number of seconds into milliseconds. */
static int
conf_parse_seconds(const char *v, long *ms)
{
	char	*end;
	double	 d;

	errno = 0;
	d = strtod(v, &end);
	if (errno != 0 || end == v || *end != '\0' || !(d > 0) || d > 86400)
		return -1;
	*ms = (long)(d * 1000.0);
	return *ms > 0 ? 0 : -1;
}

static int
conf_parse_long(const char *v, long min, long max, long *out)
{
	char	*end;
	long	 n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n < min || n > max)
		return -1;
	*out = n;
	return 0;
}

static int
conf_parse_enum(const char *v, const char *const *names, size_t n, int *out)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (names[i] != NULL && strcasecmp(v, names[i]) == 0) {
			*out = (int)i;
			return 0;
		}
	}
	return -1;
}

static int
conf_set_item(struct entra_conf *c, const struct conf_item *it,
    const char *value)
{
	static const char *const algs[] = { "ps256", "rs256" };
	void	*field = (char *)c + it->offset;
	char	*dup;
	long	 n;
	int	 v;

	switch (it->type) {
	case CT_STR:
		if ((dup = strdup(value)) == NULL)
			return -1;
		free(*(char **)field);
		*(char **)field = dup;
		return 0;
	case CT_CLOUD:
		return entra_cloud_from_name(value, (enum entra_cloud *)field);
	case CT_ALG:
		if (conf_parse_enum(value, algs, 2, &v) == -1)
			return -1;
		*(enum entra_assertion_alg *)field = (enum entra_assertion_alg)v;
		return 0;
	case CT_SECONDS:
		return conf_parse_seconds(value, (long *)field);
	case CT_MS:
		return conf_parse_long(value, 1, 86400000L, (long *)field);
	case CT_INT:
		if (conf_parse_long(value, 0, 10, &n) == -1)
			return -1;
		*(int *)field = (int)n;
		return 0;
	}
	return -1;
}

int
entra_conf_set(struct entra_conf *c, const char *name, const char *value,
    struct err *e)
{
	size_t	i;

	for (i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
		if (strcmp(items[i].name, name) != 0)
			continue;
		if (conf_set_item(c, &items[i], value) == -1)
			return err_set(e, ERR_CONFIG, "entra: bad value for "
			    "%s: '%.64s'", name, value);
		c->validated = 0;
		return 0;
	}
	return err_set(e, ERR_NOT_FOUND, "entra: unknown setting '%s'", name);
}

/* Reads all of fd into out, up to max bytes.  Returns 0, or -1 (errno). */
static int
conf_read_fd(int fd, size_t max, struct buf *out)
{
	unsigned char	chunk[4096];
	ssize_t		n;
	int		rc = -1;

	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			goto out;
		if (n == 0)
			break;
		if (out->len + (size_t)n > max) {
			errno = EFBIG;
			goto out;
		}
		if (buf_append(out, chunk, (size_t)n) == -1) {
			errno = ENOMEM;
			goto out;
		}
	}
	rc = 0;
out:
	OPENSSL_cleanse(chunk, sizeof(chunk));
	return rc;
}

int
entra_secret_file_read(const char *path, size_t max, struct buf *out,
    struct err *e)
{
	struct stat	st;
	int		fd, rc = -1;

	/* Check the very file we read (fstat on the open descriptor). */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1)
		return err_set(e, ERR_CONFIG, "entra: cannot open %s: %s",
		    path, strerror(errno));
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		err_set(e, ERR_CONFIG, "entra: %s is not a regular file", path);
		goto out;
	}
	if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		err_set(e, ERR_CONFIG, "entra: %s is mode %04o: group and "
		    "others must have no access (chmod 600)", path,
		    (unsigned)(st.st_mode & 07777));
		goto out;
	}
	buf_wipe(out);
	if (conf_read_fd(fd, max, out) == -1) {
		err_set(e, ERR_CONFIG, "entra: cannot read %s: %s", path,
		    errno == EFBIG ? "file too large" : strerror(errno));
		buf_wipe(out);
		goto out;
	}
	rc = 0;
out:
	close(fd);
	return rc;
}

/* Drops trailing whitespace (the newline an editor adds) from a secret. */
static void
conf_secret_trim(struct buf *b)
{
	while (b->len > 0 && isspace(b->data[b->len - 1]))
		b->data[--b->len] = '\0';
}

static int
conf_load_secret(struct entra_conf *c, struct err *e)
{
	const char	*env = c->client_secret_env != NULL ?
			    c->client_secret_env : ENTRA_SECRET_ENV_DEFAULT;
	const char	*v;

	buf_wipe(&c->secret);
	if (c->client_secret_file != NULL) {
		if (entra_secret_file_read(c->client_secret_file,
		    ENTRA_SECRET_MAX, &c->secret, e) == -1)
			return -1;
		conf_secret_trim(&c->secret);
		if (c->secret.len == 0)
			return err_set(e, ERR_CONFIG, "entra: %s is empty",
			    c->client_secret_file);
		return 0;
	}
	if (c->client_cert != NULL)
		return 0;
	if ((v = getenv(env)) == NULL || *v == '\0')
		return err_set(e, ERR_CONFIG, "entra: no credential: set "
		    "client_secret_file, client_cert + client_key, or the %s "
		    "environment variable", env);
	if (strlen(v) > ENTRA_SECRET_MAX || buf_set(&c->secret, v,
	    strlen(v)) == -1)
		return err_set(e, ERR_CONFIG, "entra: bad secret in %s", env);
	return 0;
}

/* Tenant and client id go into URLs and JWTs: allow only plain names. */
static int
conf_name_ok(const char *s)
{
	size_t	n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRS"
		    "TUVWXYZ0123456789.-_");

	return *s != '\0' && s[n] == '\0' && strlen(s) <= 128;
}

static int
conf_url_ok(const char *s)
{
	return (strncasecmp(s, "https://", 8) == 0 && s[8] != '\0') ||
	    (strncasecmp(s, "http://", 7) == 0 && s[7] != '\0');
}

/* Sets *field to def when unset, then drops trailing slashes. */
static int
conf_default_url(char **field, const char *def)
{
	size_t	n;

	if (*field == NULL && def != NULL && (*field = strdup(def)) == NULL)
		return -1;
	if (*field != NULL)
		for (n = strlen(*field); n > 8 && (*field)[n - 1] == '/'; n--)
			(*field)[n - 1] = '\0';
	return 0;
}

/* Resolves URLs and scopes from the cloud preset. */
static int
conf_resolve(struct entra_conf *c, struct err *e)
{
	const struct entra_cloud_preset	*p = &presets[c->cloud];
	struct buf			 scope = {0};
	const char			*res;

	if (conf_default_url(&c->login_base, p->login_base) == -1 ||
	    conf_default_url(&c->graph_base, p->graph_base) == -1)
		return err_set(e, ERR_NOMEM, "entra: out of memory");
	if (c->login_base == NULL || c->graph_base == NULL)
		return err_set(e, ERR_CONFIG, "entra: cloud = custom needs "
		    "login_base and graph_base");
	if (!conf_url_ok(c->login_base) || !conf_url_ok(c->graph_base))
		return err_set(e, ERR_CONFIG, "entra: login_base and graph_base "
		    "must be http:// or https:// URLs");
	if (c->intune_scope == NULL && p->intune_scope != NULL &&
	    (c->intune_scope = strdup(p->intune_scope)) == NULL)
		return err_set(e, ERR_NOMEM, "entra: out of memory");
	if (c->graph_scope != NULL)
		return 0;
	/* The Graph resource is the cloud's, even when graph_base points
	 * at an emulator; a custom cloud's is its graph_base. */
	res = p->graph_base != NULL ? p->graph_base : c->graph_base;
	if (buf_printf(&scope, "%s/.default", res) == -1 ||
	    (c->graph_scope = buf_steal(&scope, NULL)) == NULL) {
		buf_free(&scope);
		return err_set(e, ERR_NOMEM, "entra: out of memory");
	}
	return 0;
}

static int
conf_check_credential(const struct entra_conf *c, struct err *e)
{
	if (c->client_secret_file != NULL && c->client_cert != NULL)
		return err_set(e, ERR_CONFIG, "entra: set client_secret_file "
		    "or client_cert + client_key, not both");
	if ((c->client_cert == NULL) != (c->client_key == NULL))
		return err_set(e, ERR_CONFIG, "entra: client_cert and "
		    "client_key go together");
	return 0;
}

int
entra_conf_validate(struct entra_conf *c, struct err *e)
{
	c->validated = 0;
	if (c->tenant == NULL || !conf_name_ok(c->tenant))
		return err_set(e, ERR_CONFIG, c->tenant == NULL ?
		    "entra: tenant is not set" : "entra: tenant must be a "
		    "tenant id or domain name");
	if (c->client_id == NULL || !conf_name_ok(c->client_id))
		return err_set(e, ERR_CONFIG, c->client_id == NULL ?
		    "entra: client_id is not set" : "entra: client_id must be "
		    "the application (client) id");
	if (conf_check_credential(c, e) == -1 || conf_resolve(c, e) == -1 ||
	    conf_load_secret(c, e) == -1)
		return -1;
	if (c->ca_bundle != NULL && access(c->ca_bundle, R_OK) == -1)
		return err_set(e, ERR_CONFIG, "entra: cannot read ca_bundle "
		    "%s: %s", c->ca_bundle, strerror(errno));
	if (c->caller_info == NULL &&
	    (c->caller_info = strdup(ENTRA_CALLER_INFO_DEFAULT)) == NULL)
		return err_set(e, ERR_NOMEM, "entra: out of memory");
	c->validated = 1;
	return 0;
}
