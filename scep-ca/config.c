/*
 * config.c - scep-ca.conf: a declarative option table, INI parsing with
 * libinih, one validation pass.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <ini.h>
#include <openssl/objects.h>

#include "base/log.h"
#include "config.h"
#include "msft/conf.h"
#include "pki/pki.h"
#include "store/sync.h"

enum opt_type {
	OPT_STR,
	OPT_INT,
	OPT_BOOL,
	OPT_CHALLENGE,
	OPT_APPROVAL,
};

struct opt {
	const char	*section;	/* "profile" for [profile NAME] */
	const char	*name;
	enum opt_type	 type;
	size_t		 offset;	/* into scep_conf or profile_conf */
	const char	*def;
	long		 min, max;	/* OPT_INT */
};

#define C(f)	offsetof(struct scep_conf, f)
#define P(f)	offsetof(struct profile_conf, f)

static const struct opt options[] = {
	{ "ca", "public_url", OPT_STR, C(public_url), "", 0, 0 },
	{ "ca", "validity_days", OPT_INT, C(validity_days), "365", 1, 36500 },
	{ "ca", "renewal_window_days", OPT_INT, C(renewal_window_days), "90", 1, 36500 },
	{ "ca", "key_passphrase_file", OPT_STR, C(key_passphrase_file), "", 0, 0 },
	{ "ca", "name", OPT_STR, C(name), "ca", 0, 0 },
	{ "http", "listen", OPT_STR, C(listen), "127.0.0.1:8080", 0, 0 },
	{ "http", "threads", OPT_INT, C(threads), "0", 0, 256 },
	{ "http", "max_body", OPT_INT, C(max_body), "65536", 1024, 16777216 },
	{ "http", "timeout", OPT_INT, C(timeout), "30", 1, 3600 },
	{ "http", "max_connections", OPT_INT, C(max_connections), "0", 0, 1000000 },
	{ "http", "max_connections_per_ip", OPT_INT, C(max_connections_per_ip), "64", 1, 1000000 },
	{ "store", "path", OPT_STR, C(store), "store.db", 0, 0 },
	{ "store", "synchronous", OPT_STR, C(store_sync), "normal", 0, 0 },
	{ "store", "flush_interval_ms", OPT_INT, C(flush_interval_ms), "50", 1, 10000 },
	{ "log", "level", OPT_STR, C(log_level), "info", 0, 0 },
	{ "crl", "next_update", OPT_INT, C(crl_next_update), "86400", 60, 31536000 },
	{ "crl", "min_interval", OPT_INT, C(crl_min_interval), "5", 0, 86400 },
	{ "crl", "dir", OPT_STR, C(crl_dir), "crl", 0, 0 },
	{ "ocsp", "next_update", OPT_INT, C(ocsp_next_update), "600", 10, 604800 },
	{ "ocsp", "signer", OPT_STR, C(ocsp_signer), "delegated", 0, 0 },
	{ "ocsp", "signer_key", OPT_STR, C(ocsp_signer_key), "ec:p256", 0, 0 },
	{ "ocsp", "signer_days", OPT_INT, C(ocsp_signer_days), "30", 2, 3650 },
	{ "ocsp", "cache_entries", OPT_INT, C(ocsp_cache_entries), "262144", 0, 4194304 },
	{ "ocsp", "cache_seconds", OPT_INT, C(ocsp_cache_seconds), "300", 0, 86400 },
	{ "ocsp", "presign", OPT_BOOL, C(ocsp_presign), "yes", 0, 0 },
	/* [entra]: these, and every name entra_conf_set() knows. */
	{ "entra", "sync_interval", OPT_INT, C(entra_sync_interval), "60",
	    1, 86400 },
	{ "entra", "revoke_on", OPT_STR, C(entra_revoke_on), "deleted,disabled",
	    0, 0 },
	{ "entra", "revocation_poll_interval", OPT_INT,
	    C(revocation_poll_interval), "60", 0, 86400 },
	{ "entra", "notify_retry_min", OPT_INT, C(notify_retry_min), "30",
	    1, 86400 },
	{ "entra", "notify_retry_max", OPT_INT, C(notify_retry_max), "3600",
	    1, 86400 },
	{ "entra", "notify_max_age", OPT_INT, C(notify_max_age), "604800",
	    60, 7776000 },
	{ "entra", "notify_max_attempts", OPT_INT, C(notify_max_attempts), "0",
	    0, 1000000 },
	{ "profile", "path", OPT_STR, P(path), "/scep", 0, 0 },
	{ "profile", "challenge", OPT_CHALLENGE, P(challenge), "one-time", 0, 0 },
	{ "profile", "challenge_secret_file", OPT_STR, P(challenge_secret_file), "", 0, 0 },
	{ "profile", "key_types", OPT_STR, P(key_types), "rsa:2048+ ec:p256 ec:p384", 0, 0 },
	{ "profile", "copy_subject", OPT_STR, P(copy_subject), "all", 0, 0 },
	{ "profile", "copy_san", OPT_STR, P(copy_san), "dns,email,uri,upn", 0, 0 },
	{ "profile", "eku", OPT_STR, P(eku), "clientAuth", 0, 0 },
	{ "profile", "validity_days", OPT_INT, P(validity_days), "0", 0, 36500 },
	{ "profile", "approval", OPT_APPROVAL, P(manual_approval), "auto", 0, 0 },
	{ "profile", "allow_legacy", OPT_BOOL, P(allow_legacy), "no", 0, 0 },
	{ "profile", "max_rsa_bits", OPT_INT, P(max_rsa_bits), "8192", 2048, 8192 },
	{ "profile", "signed_renewal", OPT_BOOL, P(signed_renewal), "no", 0, 0 },
	{ "profile", "pending_max", OPT_INT, P(pending_max), "1000", 1, 1000000 },
	{ "profile", "pending_max_per_key", OPT_INT, P(pending_max_per_key), "1",
	    1, 1000 },
	{ "profile", "pending_ttl", OPT_INT, P(pending_ttl), "604800", 60,
	    31536000 },
	{ "profile", "intune_device_id_from", OPT_STR, P(intune_device_id_from),
	    IDENTITY_DEFAULT_INTUNE_DEVICE_ID, 0, 0 },
	{ "profile", "entra_device_id_from", OPT_STR, P(entra_device_id_from),
	    IDENTITY_DEFAULT_ENTRA_DEVICE_ID, 0, 0 },
	{ "profile", "upn_from", OPT_STR, P(upn_from), IDENTITY_DEFAULT_UPN, 0, 0 },
};

#define NOPTIONS	(sizeof(options) / sizeof(options[0]))

static const char *const challenge_names[] = {
	"static", "one-time", "intune", "none",
};

const char *
challenge_mode_name(enum challenge_mode m)
{
	return (unsigned)m < 4 ? challenge_names[m] : "unknown";
}

/* Parsing state handed through inih. */
struct parse_ctx {
	struct scep_conf	*conf;
	struct err		*e;
	const char		*file;
	int			 failed;
};

/* Sets one option from text; -1 with e set when the value is bad. */
static int
opt_set(const struct opt *o, void *base, const char *value, struct err *e)
{
	char	**sp = (char **)((char *)base + o->offset), *end;
	int	 *ip = (int *)((char *)base + o->offset), i;
	long	  n;

	switch (o->type) {
	case OPT_STR:
		free(*sp);
		if ((*sp = strdup(value)) == NULL)
			return err_set(e, ERR_NOMEM, "out of memory");
		return 0;
	case OPT_INT:
		errno = 0;
		n = strtol(value, &end, 10);
		if (errno != 0 || *value == '\0' || *end != '\0' ||
		    n < o->min || n > o->max)
			return err_set(e, ERR_CONFIG, "%s must be a number from"
			    " %ld to %ld, not '%s'", o->name, o->min, o->max,
			    value);
		*ip = (int)n;
		return 0;
	case OPT_BOOL:
		if (strcasecmp(value, "yes") == 0 || strcasecmp(value, "true") == 0 ||
		    strcmp(value, "1") == 0)
			*ip = 1;
		else if (strcasecmp(value, "no") == 0 ||
		    strcasecmp(value, "false") == 0 || strcmp(value, "0") == 0)
			*ip = 0;
		else
			return err_set(e, ERR_CONFIG, "%s must be yes or no, not"
			    " '%s'", o->name, value);
		return 0;
	case OPT_CHALLENGE:
		for (i = 0; i < 4; i++)
			if (strcasecmp(value, challenge_names[i]) == 0) {
				*ip = i;
				return 0;
			}
		return err_set(e, ERR_CONFIG, "challenge must be static,"
		    " one-time, intune or none, not '%s'", value);
	case OPT_APPROVAL:
		if (strcasecmp(value, "auto") == 0 || strcasecmp(value, "manual") == 0) {
			*ip = strcasecmp(value, "manual") == 0;
			return 0;
		}
		return err_set(e, ERR_CONFIG, "approval must be auto or manual,"
		    " not '%s'", value);
	}
	return err_set(e, ERR_INTERNAL, "bad option type");
}

/* Applies the defaults of every option of one section kind. */
static int
opts_defaults(void *base, int profile, struct err *e)
{
	size_t	i;

	for (i = 0; i < NOPTIONS; i++) {
		if ((strcmp(options[i].section, "profile") == 0) != profile)
			continue;
		if (opt_set(&options[i], base, options[i].def, e) == -1)
			return -1;
	}
	return 0;
}

static struct profile_conf *
profile_get(struct scep_conf *conf, const char *name, struct err *e)
{
	struct profile_conf	*p;
	int			 i;

	for (i = 0; i < conf->nprofiles; i++)
		if (strcmp(conf->profiles[i].name, name) == 0)
			return &conf->profiles[i];
	if (conf->nprofiles == CONF_MAX_PROFILES) {
		err_set(e, ERR_CONFIG, "too many profiles (at most %d)",
		    CONF_MAX_PROFILES);
		return NULL;
	}
	if (*name == '\0' || strlen(name) >= sizeof(p->name)) {
		err_set(e, ERR_CONFIG, "a profile needs a short name:"
		    " [profile NAME]");
		return NULL;
	}
	p = &conf->profiles[conf->nprofiles++];
	snprintf(p->name, sizeof(p->name), "%s", name);
	return opts_defaults(p, 1, e) == -1 ? NULL : p;
}

/*
 * A line of [entra] that is not in the option table goes to the Microsoft
 * clients' own table (msft/conf.h); a name neither knows is an error.
 */
static int
entra_line(struct scep_conf *conf, const char *name, const char *value,
    struct err *e)
{
	if (entra_conf_set(conf->entra, name, value, e) == 0)
		return 0;
	if (e->code == ERR_NOT_FOUND)
		return err_set(e, ERR_CONFIG, "unknown option '%s' in [entra]",
		    name);
	return -1;
}

/* inih callback: one name = value line. */
static int
ini_line(void *user, const char *section, const char *name, const char *value)
{
	struct parse_ctx	*ctx = user;
	void			*base = ctx->conf;
	const char		*kind = section;
	size_t			 i;

	/* An [entra] section, even without a line entra_conf knows. */
	if (strcmp(section, "entra") == 0 && ctx->conf->entra == NULL &&
	    (ctx->conf->entra = entra_conf_new()) == NULL) {
		err_set(ctx->e, ERR_NOMEM, "out of memory");
		goto fail;
	}
	if (strncmp(section, "profile ", 8) == 0) {
		kind = "profile";
		if ((base = profile_get(ctx->conf, section + 8, ctx->e)) == NULL)
			goto fail;
	} else if (strcmp(section, "profile") == 0) {
		err_set(ctx->e, ERR_CONFIG, "name the profile: [profile NAME]");
		goto fail;
	}
	for (i = 0; i < NOPTIONS; i++)
		if (strcmp(options[i].section, kind) == 0 &&
		    strcmp(options[i].name, name) == 0)
			break;
	if (i == NOPTIONS && strcmp(section, "entra") == 0) {
		if (entra_line(ctx->conf, name, value, ctx->e) == -1)
			goto fail;
		return 1;
	}
	if (i == NOPTIONS) {
		err_set(ctx->e, ERR_CONFIG, "unknown option '%s' in [%s]", name,
		    section);
		goto fail;
	}
	if (opt_set(&options[i], base, value, ctx->e) == -1)
		goto fail;
	return 1;
fail:
	ctx->failed = 1;
	return 0;
}

/* Makes path absolute against dir (in place); "" stays "". */
static int
resolve_path(char **path, const char *dir, struct err *e)
{
	char	*abs;

	if (*path == NULL || **path == '\0' || **path == '/')
		return 0;
	if (asprintf(&abs, "%s/%s", dir, *path) == -1)
		return err_set(e, ERR_NOMEM, "out of memory");
	free(*path);
	*path = abs;
	return 0;
}

/* "rsa:2048+ ec:p256 ec:p384" → mask and RSA minimum. */
static int
parse_key_types(struct profile_conf *p, struct err *e)
{
	char	*copy, *tok, *save = NULL, *end;
	long	 bits;
	int	 rc = 0;

	if ((copy = strdup(p->key_types)) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	p->key_mask = 0;
	for (tok = strtok_r(copy, " ,", &save); tok != NULL;
	    tok = strtok_r(NULL, " ,", &save)) {
		if (strncasecmp(tok, "rsa:", 4) == 0) {
			bits = strtol(tok + 4, &end, 10);
			if ((*end != '\0' && strcmp(end, "+") != 0) || bits < 2048 ||
			    bits > 16384) {
				rc = err_set(e, ERR_CONFIG, "profile %s: bad key type"
				    " '%s' (RSA needs at least 2048 bits)", p->name, tok);
				break;
			}
			p->key_mask |= KEY_RSA;
			p->rsa_min_bits = (int)bits;
		} else if (strcasecmp(tok, "ec:p256") == 0)
			p->key_mask |= KEY_EC_P256;
		else if (strcasecmp(tok, "ec:p384") == 0)
			p->key_mask |= KEY_EC_P384;
		else {
			rc = err_set(e, ERR_CONFIG, "profile %s: unknown key type"
			    " '%s' (rsa:BITS+, ec:p256, ec:p384)", p->name, tok);
			break;
		}
	}
	free(copy);
	if (rc == 0 && p->key_mask == 0)
		rc = err_set(e, ERR_CONFIG, "profile %s: key_types is empty",
		    p->name);
	return rc;
}

static int
parse_san_kinds(struct profile_conf *p, struct err *e)
{
	static const struct { const char *name; int bit; } kinds[] = {
		{ "dns", SAN_DNS }, { "email", SAN_EMAIL }, { "uri", SAN_URI },
		{ "upn", SAN_UPN }, { "ip", SAN_IP },
	};
	char	*copy, *tok, *save = NULL;
	size_t	 i;
	int	 rc = 0;

	if ((copy = strdup(p->copy_san)) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	p->san_mask = 0;
	for (tok = strtok_r(copy, " ,", &save); tok != NULL && rc == 0;
	    tok = strtok_r(NULL, " ,", &save)) {
		if (strcasecmp(tok, "none") == 0)
			continue;
		for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
			if (strcasecmp(tok, kinds[i].name) == 0)
				break;
		if (i == sizeof(kinds) / sizeof(kinds[0]))
			rc = err_set(e, ERR_CONFIG, "profile %s: unknown SAN kind"
			    " '%s' in copy_san (dns, email, uri, upn, ip, none)",
			    p->name, tok);
		else
			p->san_mask |= kinds[i].bit;
	}
	free(copy);
	return rc;
}

/* Every name in eku must be an extended key usage OpenSSL knows. */
static int
check_eku(const struct profile_conf *p, struct err *e)
{
	char	*copy, *tok, *save = NULL;
	int	 rc = 0;

	if ((copy = strdup(p->eku)) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	for (tok = strtok_r(copy, " ,", &save); tok != NULL && rc == 0;
	    tok = strtok_r(NULL, " ,", &save))
		if (OBJ_txt2nid(tok) == NID_undef)
			rc = err_set(e, ERR_CONFIG, "profile %s: unknown extended"
			    " key usage '%s'", p->name, tok);
	free(copy);
	return rc;
}

/* Reads the static challenge: a 0600 file, one line. */
static int
load_secret(struct profile_conf *p, struct err *e)
{
	if (p->challenge_secret_file[0] == '\0')
		return err_set(e, ERR_CONFIG, "profile %s: challenge = static"
		    " needs challenge_secret_file", p->name);
	if (pki_check_private_mode(p->challenge_secret_file, e) == -1)
		return -1;
	if (buf_read_file(&p->challenge_secret, p->challenge_secret_file,
	    4096) == -1)
		return err_set(e, ERR_CONFIG, "profile %s: cannot read %s: %s",
		    p->name, p->challenge_secret_file, strerror(errno));
	while (p->challenge_secret.len > 0 &&
	    (p->challenge_secret.data[p->challenge_secret.len - 1] == '\n' ||
	    p->challenge_secret.data[p->challenge_secret.len - 1] == '\r'))
		p->challenge_secret.len--;
	if (p->challenge_secret.len < 8)
		return err_set(e, ERR_CONFIG, "profile %s: the challenge in %s"
		    " is shorter than 8 characters", p->name,
		    p->challenge_secret_file);
	return 0;
}

/* The three identity source lists of a profile (pki/identity.h). */
static int
parse_identity_map(struct profile_conf *p, struct err *e)
{
	const struct {
		const char		*name, *text;
		struct identity_rule	*rule;
	} fields[] = {
		{ "intune_device_id_from", p->intune_device_id_from,
		    &p->idmap.intune_device_id },
		{ "entra_device_id_from", p->entra_device_id_from,
		    &p->idmap.entra_device_id },
		{ "upn_from", p->upn_from, &p->idmap.upn },
	};
	char	why[sizeof(e->msg)];
	size_t	i;

	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (identity_rule_parse(fields[i].text, fields[i].rule, e) == 0)
			continue;
		memcpy(why, e->msg, sizeof(why));
		return err_set(e, ERR_CONFIG, "profile %s: %s: %.200s", p->name,
		    fields[i].name, why);
	}
	return 0;
}

static int
profile_validate(struct scep_conf *conf, struct profile_conf *p, struct err *e)
{
	int	i;

	if (p->path[0] != '/')
		return err_set(e, ERR_CONFIG, "profile %s: path must start with"
		    " '/'", p->name);
	for (i = 0; &conf->profiles[i] != p; i++)
		if (strcmp(conf->profiles[i].path, p->path) == 0)
			return err_set(e, ERR_CONFIG, "profiles %s and %s share"
			    " the path %s", conf->profiles[i].name, p->name,
			    p->path);
	if (resolve_path(&p->challenge_secret_file, conf->dir, e) == -1 ||
	    parse_key_types(p, e) == -1 || parse_san_kinds(p, e) == -1 ||
	    check_eku(p, e) == -1 || parse_identity_map(p, e) == -1)
		return -1;
	/* Intune wants its answer within the request: nothing waits. */
	if (p->challenge == CHALLENGE_INTUNE && p->manual_approval)
		return err_set(e, ERR_CONFIG, "profile %s: challenge = intune"
		    " cannot be combined with approval = manual", p->name);
	if (p->challenge == CHALLENGE_NONE && !p->manual_approval)
		return err_set(e, ERR_CONFIG, "profile %s: challenge = none needs"
		    " approval = manual", p->name);
	if (p->challenge == CHALLENGE_STATIC && load_secret(p, e) == -1)
		return -1;
	return 0;
}

/* [entra] revoke_on: "deleted", "disabled", both, or "none". */
static int
parse_revoke_on(struct scep_conf *conf, struct err *e)
{
	char	*copy, *tok, *save = NULL;
	int	 rc = 0;

	if ((copy = strdup(conf->entra_revoke_on)) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	conf->entra_revoke_mask = 0;
	for (tok = strtok_r(copy, " ,", &save); tok != NULL && rc == 0;
	    tok = strtok_r(NULL, " ,", &save)) {
		if (strcasecmp(tok, "deleted") == 0)
			conf->entra_revoke_mask |= ENTRA_ON_DELETED;
		else if (strcasecmp(tok, "disabled") == 0)
			conf->entra_revoke_mask |= ENTRA_ON_DISABLED;
		else if (strcasecmp(tok, "none") != 0)
			rc = err_set(e, ERR_CONFIG, "[entra] revoke_on takes"
			    " deleted, disabled or none, not '%s'", tok);
	}
	free(copy);
	return rc;
}

/*
 * [entra]: needed by a profile with challenge = intune; when present it
 * is checked whole (and the client secret loaded) even if no profile
 * uses it yet, so that a mistake shows at start-up, not at the first
 * enrollment.
 */
static int
entra_validate(struct scep_conf *conf, struct err *e)
{
	struct entra_conf	*ec = conf->entra;
	int			 i;

	for (i = 0; i < conf->nprofiles && ec == NULL; i++)
		if (conf->profiles[i].challenge == CHALLENGE_INTUNE)
			return err_set(e, ERR_CONFIG, "profile %s: challenge ="
			    " intune needs an [entra] section (tenant, client_id"
			    " and a credential)", conf->profiles[i].name);
	if (ec == NULL)
		return 0;
	if (resolve_path(&ec->client_secret_file, conf->dir, e) == -1 ||
	    resolve_path(&ec->client_cert, conf->dir, e) == -1 ||
	    resolve_path(&ec->client_key, conf->dir, e) == -1 ||
	    resolve_path(&ec->ca_bundle, conf->dir, e) == -1 ||
	    entra_conf_validate(ec, e) == -1)
		return -1;
	if (conf->notify_retry_max < conf->notify_retry_min)
		return err_set(e, ERR_CONFIG, "[entra] notify_retry_max must not"
		    " be less than notify_retry_min");
	return parse_revoke_on(conf, e);
}

static int
conf_validate(struct scep_conf *conf, struct err *e)
{
	enum log_level	 level;
	size_t		 n;
	int		 i;

	if (log_level_parse(conf->log_level, &level) == -1)
		return err_set(e, ERR_CONFIG, "[log] level must be error, warn,"
		    " info or debug");
	n = strlen(conf->public_url);
	if (n > 0 && strncmp(conf->public_url, "http://", 7) != 0 &&
	    strncmp(conf->public_url, "https://", 8) != 0)
		return err_set(e, ERR_CONFIG, "[ca] public_url must start with"
		    " http:// or https://");
	while (n > 0 && conf->public_url[n - 1] == '/')
		conf->public_url[--n] = '\0';
	for (n = 0; conf->name[n] != '\0'; n++)
		if (!isalnum((unsigned char)conf->name[n]) &&
		    strchr("-_.", conf->name[n]) == NULL)
			return err_set(e, ERR_CONFIG, "[ca] name may hold only"
			    " letters, digits, '-', '_' and '.'");
	if (resolve_path(&conf->store, conf->dir, e) == -1 ||
	    resolve_path(&conf->key_passphrase_file, conf->dir, e) == -1)
		return -1;
	if (strcasecmp(conf->store_sync, "full") != 0 &&
	    strcasecmp(conf->store_sync, "normal") != 0)
		return err_set(e, ERR_CONFIG, "[store] synchronous must be normal"
		    " or full");
	conf->store_sync_full = strcasecmp(conf->store_sync, "full") == 0;
	if (conf->nprofiles == 0 && profile_get(conf, "default", e) == NULL)
		return -1;
	for (i = 0; i < conf->nprofiles; i++)
		if (profile_validate(conf, &conf->profiles[i], e) == -1)
			return -1;
	return entra_validate(conf, e);
}

int
conf_load(struct scep_conf *conf, const char *dir, struct err *e)
{
	struct parse_ctx	 ctx = { conf, e, NULL, 0 };
	char			*file = NULL;
	int			 line, rc = -1;

	memset(conf, 0, sizeof(*conf));
	if ((conf->dir = realpath(dir, NULL)) == NULL)
		return err_set(e, ERR_CONFIG, "cannot use directory %s: %s", dir,
		    strerror(errno));
	if (opts_defaults(conf, 0, e) == -1)
		goto out;
	if (asprintf(&file, "%s/scep-ca.conf", conf->dir) == -1) {
		err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	ctx.file = file;
	line = ini_parse(file, ini_line, &ctx);
	if (line == -1 && errno != ENOENT) {
		err_set(e, ERR_CONFIG, "cannot read %s: %s", file, strerror(errno));
		goto out;
	}
	if (line > 0) {
		char	msg[sizeof(e->msg)];

		if (!ctx.failed)
			err_set(e, ERR_CONFIG, "syntax error");
		memcpy(msg, e->msg, sizeof(msg));
		err_set(e, ERR_CONFIG, "%s:%d: %.200s", file, line, msg);
		goto out;
	}
	rc = conf_validate(conf, e);
out:
	free(file);
	return rc;
}

void
conf_free(struct scep_conf *conf)
{
	size_t	i;
	int	p;

	if (conf == NULL)
		return;
	for (i = 0; i < NOPTIONS; i++) {
		if (options[i].type != OPT_STR)
			continue;
		if (strcmp(options[i].section, "profile") != 0) {
			free(*(char **)((char *)conf + options[i].offset));
			continue;
		}
		for (p = 0; p < conf->nprofiles; p++)
			free(*(char **)((char *)&conf->profiles[p] +
			    options[i].offset));
	}
	for (p = 0; p < conf->nprofiles; p++)
		buf_wipe(&conf->profiles[p].challenge_secret);
	entra_conf_free(conf->entra);	/* wipes the client secret */
	free(conf->dir);
	memset(conf, 0, sizeof(*conf));
}

/*
 * A request path picks its profile: an exact path match; else a path
 * ending in "pkiclient.exe" (Cisco appends it to whatever it is given)
 * goes to the profile whose path it extends, or the first profile.
 */
const struct profile_conf *
conf_profile_for_path(const struct scep_conf *conf, const char *path)
{
	size_t	n = strlen(path), plen;
	int	i;

	for (i = 0; i < conf->nprofiles; i++)
		if (strcmp(conf->profiles[i].path, path) == 0)
			return &conf->profiles[i];
	if (n < 13 || strcmp(path + n - 13, "pkiclient.exe") != 0)
		return NULL;
	for (i = 0; i < conf->nprofiles; i++) {
		plen = strlen(conf->profiles[i].path);
		if (strncmp(path, conf->profiles[i].path, plen) == 0 &&
		    path[plen] == '/')
			return &conf->profiles[i];
	}
	return conf->nprofiles > 0 ? &conf->profiles[0] : NULL;
}

const struct profile_conf *
conf_profile_by_name(const struct scep_conf *conf, const char *name)
{
	int	i;

	for (i = 0; i < conf->nprofiles; i++)
		if (strcmp(conf->profiles[i].name, name) == 0)
			return &conf->profiles[i];
	return NULL;
}

int
conf_write_initial(const char *path, const struct conf_initial *ci,
    struct err *e)
{
	struct buf	b = {0};
	int		rc;

	buf_printf(&b, "# scep-ca configuration; README.md lists every option.\n"
	    "[ca]\n"
	    "# URLs written into certificates (CRL, OCSP); default"
	    " http://<listen>\n"
	    "# public_url = http://pki.example.com\n"
	    "validity_days = 365\n"
	    "# renewal accepted only this many days before expiry\n"
	    "renewal_window_days = 90\n");
	if (ci->passphrase_file != NULL)
		buf_printf(&b, "key_passphrase_file = %s\n", ci->passphrase_file);
	buf_printf(&b, "\n[http]\nlisten = %s\nmax_body = 65536\n"
	    "\n[store]\npath = store.db\n"
	    "\n[profile default]\npath = /scep\nchallenge = %s\n",
	    ci->listen ? ci->listen : "127.0.0.1:8080", ci->challenge_mode);
	if (ci->secret_file != NULL)
		buf_printf(&b, "challenge_secret_file = %s\n", ci->secret_file);
	if (buf_printf(&b, "key_types = rsa:2048+ ec:p256 ec:p384\n"
	    "copy_subject = all\ncopy_san = dns,email,uri,upn\n"
	    "eku = clientAuth\n") == -1) {
		buf_free(&b);
		return err_set(e, ERR_NOMEM, "out of memory");
	}
	rc = file_write_atomic(path, b.data, b.len, 0644, e);
	buf_free(&b);
	return rc;
}
