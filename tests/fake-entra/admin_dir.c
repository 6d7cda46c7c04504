/*
 * admin_dir.c - the admin API's directory part: app registrations,
 * devices, Intune managed devices, users, Intune challenges and
 * revocation requests.  Every change to a device or user takes a new
 * change sequence number, which is what Graph delta reports (delta.c).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bio.h>
#include <openssl/pem.h>

#include "base/encode.h"
#include "fake.h"
#include "state.h"

/* Reads an optional string member: 0 (absent or null leaves *out), -1. */
static int
fe_opt_str(const json_t *o, const char *key, const char **out)
{
	json_t	*v = json_object_get(o, key);

	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return -1;
	*out = json_string_value(v);
	return 0;
}

/* Reads an optional boolean member: 0 (absent leaves *out), or -1. */
static int
fe_opt_bool(const json_t *o, const char *key, int *out)
{
	json_t	*v = json_object_get(o, key);

	if (v == NULL)
		return 0;
	if (!json_is_boolean(v))
		return -1;
	*out = json_is_true(v);
	return 0;
}

/* Replaces *dst with a copy of src.  Returns 0 or -1. */
static int
fe_set_str(char **dst, const char *src)
{
	char	*c = strdup(src);

	if (c == NULL)
		return -1;
	free(*dst);
	*dst = c;
	return 0;
}

/* Sets *id to the given one or a fresh GUID.  Returns 0 or -1. */
static int
fe_id_or_new(char **id, const char *given)
{
	char	guid[37];

	if (given != NULL)
		return fe_set_str(id, given);
	if (uuid_v4(guid) == -1)
		return -1;
	return fe_set_str(id, guid);
}

/* The "a" of "a/b" when it equals name; *key set to "b" or NULL. */
static int
fe_dir_match(const char *rest, const char *name, const char **key)
{
	size_t	n = strlen(name);

	if (strncmp(rest, name, n) != 0)
		return 0;
	if (rest[n] == '\0') {
		*key = NULL;
		return 1;
	}
	if (rest[n] != '/' || rest[n + 1] == '\0')
		return 0;
	*key = rest + n + 1;
	return 1;
}

/* ---- apps ------------------------------------------------------------- */

/* Parses a PEM certificate and fills the app's thumbprints. */
static int
fe_app_cert(struct fe_app *a, const char *pem)
{
	BIO		*bio = BIO_new_mem_buf(pem, -1);
	unsigned char	 d[EVP_MAX_MD_SIZE];
	unsigned int	 dl;
	struct buf	 b1 = {0}, b2 = {0};
	int		 rc = -1;

	if (bio == NULL ||
	    (a->cert = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL)
		goto out;
	if (X509_digest(a->cert, EVP_sha1(), d, &dl) != 1 ||
	    b64url_encode(&b1, d, dl) == -1 ||
	    X509_digest(a->cert, EVP_sha256(), d, &dl) != 1 ||
	    b64url_encode(&b2, d, dl) == -1)
		goto out;
	snprintf(a->x5t, sizeof(a->x5t), "%s", (char *)b1.data);
	snprintf(a->x5t_s256, sizeof(a->x5t_s256), "%s", (char *)b2.data);
	rc = 0;
out:
	BIO_free(bio);
	buf_free(&b1);
	buf_free(&b2);
	return rc;
}

/* POST /_admin/apps. */
static int
fe_admin_app(struct fe_ctx *ctx, struct fe_resp *resp, const json_t *b)
{
	const char	*tenant = fe_json_str(b, "tenant");
	const char	*cid = fe_json_str(b, "client_id");
	const char	*secret = NULL, *pem = NULL;
	struct fe_app	*a, *old;
	json_t		*out;
	size_t		 i;
	int		 rc;

	if (tenant == NULL || cid == NULL || fe_opt_str(b, "client_secret",
	    &secret) == -1 || fe_opt_str(b, "certificate", &pem) == -1 ||
	    (secret == NULL && pem == NULL))
		return fe_admin_error(resp, 400, "tenant, client_id and "
		    "client_secret or certificate (PEM) are required strings");
	if ((a = calloc(1, sizeof(*a))) == NULL ||
	    (a->tenant = strdup(tenant)) == NULL ||
	    (a->client_id = strdup(cid)) == NULL ||
	    (secret != NULL && (a->secret = strdup(secret)) == NULL)) {
		fe_app_free(a);
		return -1;
	}
	if (pem != NULL && fe_app_cert(a, pem) == -1) {
		fe_app_free(a);
		return fe_admin_error(resp, 400, "certificate is not a PEM "
		    "X.509 certificate");
	}
	out = json_pack("{s:s, s:s, s:b, s:s?, s:s?}", "tenant", tenant,
	    "client_id", cid, "client_secret", secret != NULL, "x5t",
	    pem != NULL ? a->x5t : NULL, "x5t#S256",
	    pem != NULL ? a->x5t_s256 : NULL);
	fe_state_lock(ctx->st);
	/* Registering again replaces the app's credentials. */
	if ((old = fe_app_find(ctx->st, tenant, cid)) != NULL) {
		for (i = 0; ctx->st->apps.v[i] != old; i++)
			;
		fe_app_free(fe_vec_remove(&ctx->st->apps, i));
	}
	rc = fe_vec_push(&ctx->st->apps, a);
	fe_state_unlock(ctx->st);
	if (rc == -1) {
		fe_app_free(a);
		json_decref(out);
		return -1;
	}
	return fe_resp_json(resp, 201, out);
}

/* ---- devices ---------------------------------------------------------- */

/* Device fields of an admin body; NULL / -1 when absent. */
struct fe_device_in {
	const char	*device_id, *id, *name, *os;
	int		 enabled;
};

static int
fe_device_in_parse(const json_t *b, struct fe_device_in *in)
{
	memset(in, 0, sizeof(*in));
	in->enabled = -1;
	if (fe_opt_str(b, "deviceId", &in->device_id) == -1 ||
	    fe_opt_str(b, "id", &in->id) == -1 ||
	    fe_opt_str(b, "displayName", &in->name) == -1 ||
	    fe_opt_str(b, "operatingSystem", &in->os) == -1 ||
	    fe_opt_bool(b, "accountEnabled", &in->enabled) == -1)
		return -1;
	return 0;
}

/* Applies in to d; a fresh object also gets the defaults. 0 or -1. */
static int
fe_device_fill(struct fe_device *d, const struct fe_device_in *in, int fresh)
{
	if ((in->id != NULL || d->id == NULL) &&
	    fe_id_or_new(&d->id, in->id) == -1)
		return -1;
	if (in->device_id != NULL && fe_set_str(&d->device_id,
	    in->device_id) == -1)
		return -1;
	if ((in->name != NULL || d->display_name == NULL) &&
	    fe_set_str(&d->display_name, in->name != NULL ? in->name :
	    d->device_id) == -1)
		return -1;
	if ((in->os != NULL || d->os == NULL) &&
	    fe_set_str(&d->os, in->os != NULL ? in->os : "Windows") == -1)
		return -1;
	if (in->enabled != -1)
		d->enabled = in->enabled;
	else if (fresh)
		d->enabled = 1;
	return 0;
}

/* POST /_admin/devices: creates, updates or revives by deviceId. */
static int
fe_dir_device_post(struct fe_ctx *ctx, const struct fe_req *req,
    struct fe_resp *resp, const json_t *b, const char *key)
{
	struct fe_device_in	 in;
	struct fe_device	*d, *fresh = NULL;
	json_t			*out = NULL;

	(void)req;
	(void)key;
	if (fe_device_in_parse(b, &in) == -1 || in.device_id == NULL)
		return fe_admin_error(resp, 400, "deviceId (string) is required;"
		    " id, displayName, operatingSystem are strings and "
		    "accountEnabled a boolean");
	fe_state_lock(ctx->st);
	d = fe_device_find(ctx->st, in.device_id);
	/* A deleted device stays deleted unless its own id comes back. */
	if (d != NULL && d->gone != FE_LIVE &&
	    (in.id == NULL || strcasecmp(in.id, d->id) != 0))
		d = NULL;
	if (d == NULL) {
		/* Complete before it enters the state. */
		if ((fresh = calloc(1, sizeof(*fresh))) == NULL ||
		    fe_device_fill(fresh, &in, 1) == -1 ||
		    fe_vec_push(&ctx->st->devices, fresh) == -1)
			goto out;
		d = fresh;
		fresh = NULL;
	} else if (fe_device_fill(d, &in, d->gone != FE_LIVE) == -1)
		goto out;
	d->gone = FE_LIVE;
	d->seq = fe_state_next_seq(ctx->st);
	out = fe_entity_json(FE_KIND_DEVICE, d, NULL);
out:
	fe_state_unlock(ctx->st);
	fe_device_free(fresh);
	return out == NULL ? -1 : fe_resp_json(resp, 201, out);
}

/* PATCH /_admin/devices/{deviceId or object id}. */
static int
fe_dir_device_patch(struct fe_ctx *ctx, const struct fe_req *req,
    struct fe_resp *resp, const json_t *b, const char *key)
{
	struct fe_device_in	 in;
	struct fe_device	*d;
	json_t			*out = NULL;
	int			 rc;

	(void)req;
	if (fe_device_in_parse(b, &in) == -1 || in.device_id != NULL ||
	    in.id != NULL || (in.enabled == -1 && in.name == NULL &&
	    in.os == NULL))
		return fe_admin_error(resp, 400, "give accountEnabled (boolean),"
		    " displayName or operatingSystem (strings)");
	fe_state_lock(ctx->st);
	if ((d = fe_device_find(ctx->st, key)) == NULL)
		d = fe_device_find_id(ctx->st, key);
	if (d == NULL || d->gone != FE_LIVE) {
		fe_state_unlock(ctx->st);
		return fe_admin_error(resp, 404, "no device '%s'", key);
	}
	rc = fe_device_fill(d, &in, 0);
	d->seq = fe_state_next_seq(ctx->st);
	if (rc == 0)
		out = fe_entity_json(FE_KIND_DEVICE, d, NULL);
	fe_state_unlock(ctx->st);
	return out == NULL ? -1 : fe_resp_json(resp, 200, out);
}

/* DELETE /_admin/devices/{deviceId or object id}. */
static int
fe_dir_device_delete(struct fe_ctx *ctx, const struct fe_req *req,
    struct fe_resp *resp, const json_t *b, const char *key)
{
	struct fe_device	*d;
	json_t			*out = NULL;

	(void)req;
	(void)b;
	fe_state_lock(ctx->st);
	if ((d = fe_device_find(ctx->st, key)) == NULL)
		d = fe_device_find_id(ctx->st, key);
	if (d != NULL && d->gone == FE_LIVE) {
		d->gone = FE_DELETED;
		d->seq = fe_state_next_seq(ctx->st);
		out = json_pack("{s:s, s:s, s:b}", "id", d->id, "deviceId",
		    d->device_id, "deleted", 1);
	}
	fe_state_unlock(ctx->st);
	if (out == NULL)
		return fe_admin_error(resp, 404, "no device '%s'", key);
	return fe_resp_json(resp, 200, out);
}

/* ---- managed devices (Intune: no change tracking) --------------------- */

static int
fe_mdev_fill(struct fe_mdev *m, const json_t *b)
{
	const char	*aad = NULL, *comp = NULL, *name = NULL;

	if (fe_opt_str(b, "azureADDeviceId", &aad) == -1 ||
	    fe_opt_str(b, "complianceState", &comp) == -1 ||
	    fe_opt_str(b, "deviceName", &name) == -1)
		return -2;
	if ((aad != NULL && fe_set_str(&m->aad_id, aad) == -1) ||
	    ((comp != NULL || m->compliance == NULL) &&
	    fe_set_str(&m->compliance, comp != NULL ? comp : "compliant") == -1) ||
	    ((name != NULL || m->name == NULL) &&
	    fe_set_str(&m->name, name != NULL ? name : "") == -1))
		return -1;
	return m->aad_id != NULL ? 0 : -2;
}

/* POST /_admin/managedDevices: creates or updates by id. */
static int
fe_dir_mdev_post(struct fe_ctx *ctx, const struct fe_req *req,
    struct fe_resp *resp, const json_t *b, const char *key)
{
	const char	*id = fe_json_str(b, "id");
	struct fe_mdev	*m, *fresh = NULL;
	json_t		*out = NULL;
	int		 rc = -2;

	(void)req;
	(void)key;
	fe_state_lock(ctx->st);
	if (id == NULL)
		goto out;
	if ((m = fe_mdev_find(ctx->st, id)) == NULL) {
		rc = -1;
		if ((m = fresh = calloc(1, sizeof(*m))) == NULL ||
		    (m->id = strdup(id)) == NULL)
			goto out;
	}
	if ((rc = fe_mdev_fill(m, b)) == 0 && fresh != NULL &&
	    (rc = fe_vec_push(&ctx->st->mdevs, fresh)) == 0)
		fresh = NULL;
	if (rc == 0)
		out = fe_entity_json(FE_KIND_MDEV, m, NULL);
out:
	fe_state_unlock(ctx->st);
	fe_mdev_free(fresh);
	if (rc == -2)
		return fe_admin_error(resp, 400, "id and azureADDeviceId are "
		    "required strings; complianceState and deviceName strings");
	return out == NULL ? -1 : fe_resp_json(resp, 201, out);
}

/* PATCH /_admin/managedDevices/{id}. */
static int
fe_dir_mdev_patch(struct fe_ctx *ctx, const struct fe_req *req,
    struct fe_resp *resp, const json_t *b, const char *key)
{
	struct fe_mdev	*m;
	json_t		*out = NULL;
	int		 rc = 0;

	(void)req;
	fe_state_lock(ctx->st);
	if ((m = fe_mdev_find(ctx->st, key)) != NULL &&
	    (rc = fe_mdev_fill(m, b)) == 0)
		out = fe_entity_json(FE_KIND_MDEV, m, NULL);
	fe_state_unlock(ctx->st);
	if (m == NULL)
		return fe_admin_error(resp, 404, "no managed device '%s'", key);
	if (rc == -2)
		return fe_admin_error(resp, 400, "azureADDeviceId, "
		    "complianceState and deviceName must be strings");
	return out == NULL ? -1 : fe_resp_json(resp, 200, out);
}

/* DELETE /_admin/managedDevices/{id}. */
static int
fe_dir_mdev_delete(struct fe_ctx *ctx, const struct fe_req *req,
    struct fe_resp *resp, const json_t *b, const char *key)
{
	struct fe_mdev	*m;
	size_t		 i;
	int		 found = 0;

	(void)req;
	(void)b;
	fe_state_lock(ctx->st);
	for (i = 0; i < ctx->st->mdevs.n && !found; i++) {
		m = ctx->st->mdevs.v[i];
		if (strcasecmp(m->id, key) == 0) {
			fe_mdev_free(fe_vec_remove(&ctx->st->mdevs, i));
			found = 1;
		}
	}
	fe_state_unlock(ctx->st);
	if (!found)
		return fe_admin_error(resp, 404, "no managed device '%s'", key);
	return fe_resp_json(resp, 200, json_pack("{s:s, s:b}", "id", key,
	    "deleted", 1));
}

/* ---- users ------------------------------------------------------------ */

struct fe_user_in {
	const char	*id, *upn, *name;
	int		 enabled;
};

static int
fe_user_in_parse(const json_t *b, struct fe_user_in *in)
{
	memset(in, 0, sizeof(*in));
	in->enabled = -1;
	if (fe_opt_str(b, "id", &in->id) == -1 ||
	    fe_opt_str(b, "userPrincipalName", &in->upn) == -1 ||
	    fe_opt_str(b, "displayName", &in->name) == -1 ||
	    fe_opt_bool(b, "accountEnabled", &in->enabled) == -1)
		return -1;
	return 0;
}

static int
fe_user_fill(struct fe_user *u, const struct fe_user_in *in, int fresh)
{
	if ((in->id != NULL || u->id == NULL) &&
	    fe_id_or_new(&u->id, in->id) == -1)
		return -1;
	if (in->upn != NULL && fe_set_str(&u->upn, in->upn) == -1)
		return -1;
	if ((in->name != NULL || u->display_name == NULL) &&
	    fe_set_str(&u->display_name, in->name != NULL ? in->name :
	    u->upn) == -1)
		return -1;
	if (in->enabled != -1)
		u->enabled = in->enabled;
	else if (fresh)
		u->enabled = 1;
	return 0;
}

/* The user a POST updates: by id when given, else by UPN (lock held). */
static struct fe_user *
fe_user_target(struct fe_state *st, const struct fe_user_in *in)
{
	struct fe_user	*u;

	u = fe_user_find(st, in->id != NULL ? in->id : in->upn);
	if (u != NULL && in->id != NULL && strcasecmp(u->id, in->id) != 0)
		u = NULL;	/* the id matched someone's UPN */
	/* A deleted user stays deleted unless its own id comes back. */
	if (u != NULL && u->gone != FE_LIVE &&
	    (in->id == NULL || strcasecmp(in->id, u->id) != 0))
		u = NULL;
	return u;
}

/* POST /_admin/users: creates, updates or restores a user. */
static int
fe_dir_user_post(struct fe_ctx *ctx, const struct fe_req *req,
    struct fe_resp *resp, const json_t *b, const char *key)
{
	struct fe_user_in	 in;
	struct fe_user		*u, *other, *fresh = NULL;
	json_t			*out = NULL;
	int			 conflict = 0;

	(void)req;
	(void)key;
	if (fe_user_in_parse(b, &in) == -1 || in.upn == NULL)
		return fe_admin_error(resp, 400, "userPrincipalName (string) is "
		    "required; id and displayName are strings and "
		    "accountEnabled a boolean");
	fe_state_lock(ctx->st);
	u = fe_user_target(ctx->st, &in);
	other = fe_user_find(ctx->st, in.upn);
	if (other != NULL && other != u && other->gone == FE_LIVE) {
		conflict = 1;
		goto out;
	}
	if (u == NULL) {
		if ((fresh = calloc(1, sizeof(*fresh))) == NULL ||
		    fe_user_fill(fresh, &in, 1) == -1 ||
		    fe_vec_push(&ctx->st->users, fresh) == -1)
			goto out;
		u = fresh;
		fresh = NULL;
	} else if (fe_user_fill(u, &in, u->gone != FE_LIVE) == -1)
		goto out;
	u->gone = FE_LIVE;
	u->seq = fe_state_next_seq(ctx->st);
	out = fe_entity_json(FE_KIND_USER, u,
	    "userPrincipalName,displayName,accountEnabled");
out:
	fe_state_unlock(ctx->st);
	fe_user_free(fresh);
	if (conflict)
		return fe_admin_error(resp, 409, "userPrincipalName '%s' belongs "
		    "to another user", in.upn);
	return out == NULL ? -1 : fe_resp_json(resp, 201, out);
}

/* PATCH /_admin/users/{id or UPN}. */
static int
fe_dir_user_patch(struct fe_ctx *ctx, const struct fe_req *req,
    struct fe_resp *resp, const json_t *b, const char *key)
{
	struct fe_user_in	 in;
	struct fe_user		*u;
	json_t			*out = NULL;
	int			 rc;

	(void)req;
	if (fe_user_in_parse(b, &in) == -1 || in.id != NULL ||
	    in.upn != NULL || (in.enabled == -1 && in.name == NULL))
		return fe_admin_error(resp, 400, "give accountEnabled (boolean) "
		    "or displayName (string)");
	fe_state_lock(ctx->st);
	if ((u = fe_user_find(ctx->st, key)) == NULL || u->gone != FE_LIVE) {
		fe_state_unlock(ctx->st);
		return fe_admin_error(resp, 404, "no user '%s'", key);
	}
	rc = fe_user_fill(u, &in, 0);
	u->seq = fe_state_next_seq(ctx->st);
	if (rc == 0)
		out = fe_entity_json(FE_KIND_USER, u,
		    "userPrincipalName,displayName,accountEnabled");
	fe_state_unlock(ctx->st);
	return out == NULL ? -1 : fe_resp_json(resp, 200, out);
}

/*
 * DELETE /_admin/users/{id or UPN}[?permanent=true].  Without permanent
 * the user goes to the recycle bin (Graph delta: reason "changed"); with
 * it, or when already there, it is gone for good (reason "deleted").
 */
static int
fe_dir_user_delete(struct fe_ctx *ctx, const struct fe_req *req,
    struct fe_resp *resp, const json_t *b, const char *key)
{
	const char	*p = fe_query(req, "permanent");
	int		 permanent = p != NULL && strcasecmp(p, "true") == 0;
	struct fe_user	*u;
	json_t		*out = NULL;

	(void)b;
	fe_state_lock(ctx->st);
	u = fe_user_find(ctx->st, key);
	if (u != NULL && (u->gone == FE_LIVE ||
	    (u->gone == FE_SOFT_DELETED && permanent))) {
		u->gone = permanent ? FE_DELETED : FE_SOFT_DELETED;
		u->seq = fe_state_next_seq(ctx->st);
		out = json_pack("{s:s, s:s, s:b, s:b}", "id", u->id,
		    "userPrincipalName", u->upn, "deleted", 1, "permanent",
		    permanent);
	}
	fe_state_unlock(ctx->st);
	if (out == NULL)
		return fe_admin_error(resp, 404, "no user '%s'", key);
	return fe_resp_json(resp, 200, out);
}

/* ---- Intune challenges and revocation requests ------------------------ */

/* POST /_admin/challenges: a challenge valid for one CSR subject. */
static int
fe_dir_challenge_post(struct fe_ctx *ctx, const struct fe_req *req,
    struct fe_resp *resp, const json_t *b, const char *key)
{
	const char		*ch = fe_json_str(b, "challenge");
	const char		*subj = fe_json_str(b, "subject");
	json_t			*ei = json_object_get(b, "expires_in");
	struct fe_challenge	*c, *fresh = NULL;
	json_int_t		 ttl = 3600;
	char			 when[21];
	int			 ok = 0;

	(void)req;
	(void)key;
	if (ch == NULL || *ch == '\0' || subj == NULL ||
	    (ei != NULL && !json_is_integer(ei)))
		return fe_admin_error(resp, 400, "challenge and subject are "
		    "required strings; expires_in an integer (seconds)");
	if (ei != NULL)
		ttl = json_integer_value(ei);
	fe_state_lock(ctx->st);
	if ((c = fe_challenge_find(ctx->st, ch)) == NULL &&
	    ((c = fresh = calloc(1, sizeof(*c))) == NULL ||
	    (c->challenge = strdup(ch)) == NULL))
		goto out;
	if (fe_set_str(&c->subject, subj) == -1 ||
	    (fresh != NULL && fe_vec_push(&ctx->st->challenges, fresh) == -1))
		goto out;
	fresh = NULL;
	/* expires_in <= 0 registers an already expired challenge. */
	c->expires = time(NULL) + (time_t)ttl;
	time_iso8601(c->expires, when);
	ok = 1;
out:
	fe_state_unlock(ctx->st);
	fe_challenge_free(fresh);
	if (!ok)
		return -1;
	return fe_resp_json(resp, 201, json_pack("{s:s, s:s, s:s}",
	    "challenge", ch, "subject", subj, "expires_at", when));
}

static json_t *
fe_revreq_json(const struct fe_revreq *r)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:b}", "requestContext",
	    r->context, "serialNumber", r->serial, "issuerName", r->issuer,
	    "caConfiguration", r->caconf, "answered", r->answered);
}

/* POST /_admin/revocationRequests: queues one for the PKI connector. */
static int
fe_dir_revreq_post(struct fe_ctx *ctx, const struct fe_req *req,
    struct fe_resp *resp, const json_t *b, const char *key)
{
	const char		*serial = fe_json_str(b, "serialNumber");
	const char		*issuer = fe_json_str(b, "issuerName");
	const char		*rc_id = NULL, *caconf = "";
	struct fe_revreq	*r = NULL;
	json_t			*out = NULL;
	int			 pushed = 0;

	(void)req;
	(void)key;
	if (serial == NULL || issuer == NULL ||
	    fe_opt_str(b, "requestContext", &rc_id) == -1 ||
	    fe_opt_str(b, "caConfiguration", &caconf) == -1)
		return fe_admin_error(resp, 400, "serialNumber and issuerName "
		    "are required strings; requestContext and caConfiguration "
		    "strings");
	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    fe_id_or_new(&r->context, rc_id) == -1 ||
	    (r->serial = strdup(serial)) == NULL ||
	    (r->issuer = strdup(issuer)) == NULL ||
	    (r->caconf = strdup(caconf)) == NULL ||
	    (out = fe_revreq_json(r)) == NULL)
		goto out;
	fe_state_lock(ctx->st);
	pushed = fe_vec_push(&ctx->st->revreqs, r) == 0;
	fe_state_unlock(ctx->st);
out:
	if (!pushed) {
		fe_revreq_free(r);
		json_decref(out);
		return -1;
	}
	return fe_resp_json(resp, 201, out);
}

/* GET /_admin/revocationRequests: every queued one, with its state. */
static int
fe_dir_revreq_list(struct fe_ctx *ctx, const struct fe_req *req,
    struct fe_resp *resp, const json_t *b, const char *key)
{
	json_t	*a = json_array();
	size_t	 i;

	(void)req;
	(void)b;
	(void)key;
	if (a == NULL)
		return -1;
	fe_state_lock(ctx->st);
	for (i = 0; i < ctx->st->revreqs.n; i++)
		json_array_append_new(a, fe_revreq_json(ctx->st->revreqs.v[i]));
	fe_state_unlock(ctx->st);
	return fe_resp_json(resp, 200, a);
}

/* POST /_admin/apps through the table's signature. */
static int
fe_dir_app_post(struct fe_ctx *ctx, const struct fe_req *req,
    struct fe_resp *resp, const json_t *b, const char *key)
{
	(void)req;
	(void)key;
	return fe_admin_app(ctx, resp, b);
}

/* ---- dispatch --------------------------------------------------------- */

typedef int (*fe_dir_fn)(struct fe_ctx *, const struct fe_req *,
    struct fe_resp *, const json_t *, const char *);

/* A collection: POST/GET on it, PATCH/DELETE on one of its items. */
struct fe_dir_route {
	const char	*name;
	fe_dir_fn	 post, get, patch, del;
};

static const struct fe_dir_route fe_dir_routes[] = {
	{ "apps", fe_dir_app_post, NULL, NULL, NULL },
	{ "devices", fe_dir_device_post, NULL, fe_dir_device_patch,
	    fe_dir_device_delete },
	{ "managedDevices", fe_dir_mdev_post, NULL, fe_dir_mdev_patch,
	    fe_dir_mdev_delete },
	{ "users", fe_dir_user_post, NULL, fe_dir_user_patch,
	    fe_dir_user_delete },
	{ "challenges", fe_dir_challenge_post, NULL, NULL, NULL },
	{ "revocationRequests", fe_dir_revreq_post, fe_dir_revreq_list, NULL,
	    NULL },
};

/* Picks the function for method on a collection (key NULL) or an item. */
static fe_dir_fn
fe_dir_pick(const struct fe_dir_route *r, const char *method, const char *key)
{
	if (key == NULL && strcmp(method, "POST") == 0)
		return r->post;
	if (key == NULL && strcmp(method, "GET") == 0)
		return r->get;
	if (key != NULL && strcmp(method, "PATCH") == 0)
		return r->patch;
	if (key != NULL && strcmp(method, "DELETE") == 0)
		return r->del;
	return NULL;
}

int
fe_admin_dir_handle(struct fe_ctx *ctx, const struct fe_req *req,
    struct fe_resp *resp, const char *rest)
{
	const struct fe_dir_route	*r = NULL;
	const char			*key = NULL;
	fe_dir_fn			 fn;
	json_t				*b = NULL;
	size_t				 i;
	int				 rc;

	for (i = 0; i < sizeof(fe_dir_routes) / sizeof(fe_dir_routes[0]) &&
	    r == NULL; i++)
		if (fe_dir_match(rest, fe_dir_routes[i].name, &key))
			r = &fe_dir_routes[i];
	if (r == NULL)
		return 0;
	if ((fn = fe_dir_pick(r, req->method, key)) == NULL)
		return fe_admin_error(resp, 405, "%s not allowed on %s",
		    req->method, req->path) == -1 ? -1 : 1;
	if ((strcmp(req->method, "POST") == 0 ||
	    strcmp(req->method, "PATCH") == 0) &&
	    (b = fe_json_body(req)) == NULL)
		return fe_admin_error(resp, 400, "body is not a JSON object") ==
		    -1 ? -1 : 1;
	rc = fn(ctx, req, resp, b, key);
	json_decref(b);
	return rc == -1 ? -1 : 1;
}
