/*
 * entra.c - the Entra job: Graph change tracking on devices and
 * users, and direct lookups of the identities certificate rows name,
 * turned into facts that store_entra_apply() records and acts on.
 *
 * Why not a full read of the directory first: it costs a page per 100
 * to 999 objects of the whole tenant, and still does not say which
 * devices were deleted while we were away (a first delta round lists
 * only live objects).  Direct lookups of what our certificates name cost
 * one call per identity we care about, give 404 for what was deleted,
 * and give the object id that later "@removed" entries carry.  So the
 * first run takes a deltaLink at the present ($deltaToken=latest), and
 * every run looks up the identities of the certificate rows added since
 * the last one (all rows, the first time).  Changes that happen between
 * the deltaLink and a lookup come again in the next delta round, in
 * their current state, so nothing is lost either way.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/log.h"
#include "revocation/crl.h"
#include "sync/sync.h"

/* Certificate rows looked at per scan batch (one transaction each). */
#define SCAN_BATCH	32

/* A fact with its own copies of the strings. */
struct owned_fact {
	enum entra_kind	kind;
	char		id[GRAPH_ID_MAX];
	char		ext[GRAPH_UPN_MAX];
	int		has_id, has_ext;
	int		enabled, deleted;
};

struct fact_list {
	struct owned_fact	*v;
	size_t			 n, cap;
	int			 nomem;		/* an add failed */
};

static void
fact_list_free(struct fact_list *fl)
{
	free(fl->v);
	memset(fl, 0, sizeof(*fl));
}

/* Copies s into dst; 0, or -1 when it does not fit. */
static int
fact_str(char *dst, size_t n, const char *s, int *has)
{
	*has = s != NULL;
	if (s == NULL) {
		dst[0] = '\0';
		return 0;
	}
	if (strlen(s) >= n)
		return -1;
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}

/* Adds a fact; too long a string drops it (no certificate names it). */
static void
fact_add(struct fact_list *fl, enum entra_kind kind, const char *id,
    const char *ext, int enabled, int deleted)
{
	struct owned_fact	*v, *f;
	size_t			 cap;

	if (fl->n == fl->cap) {
		cap = fl->cap ? fl->cap * 2 : 32;
		if ((v = reallocarray(fl->v, cap, sizeof(*v))) == NULL) {
			fl->nomem = 1;
			return;
		}
		fl->v = v;
		fl->cap = cap;
	}
	f = &fl->v[fl->n];
	f->kind = kind;
	f->enabled = enabled;
	f->deleted = deleted;
	if (fact_str(f->id, sizeof(f->id), id, &f->has_id) == -1 ||
	    fact_str(f->ext, sizeof(f->ext), ext, &f->has_ext) == -1)
		return;
	fl->n++;
}

/* Logs one certificate the sync changed. */
static void
report_change(void *arg, const struct entra_change *c)
{
	static const char *const verbs[] = { "kept", "revoked", "put on hold",
	    "released" };

	(void)arg;
	if (c->why_id[0] == '\0')
		log_info("sync", "%s %s (%s)", verbs[c->action], c->serial,
		    crl_reason_name(c->reason));
	else
		log_info("sync", "%s %s (%s): %s %s %s in Entra",
		    verbs[c->action], c->serial, crl_reason_name(c->reason),
		    c->why_kind == ENTRA_MANAGED ? "Intune device" :
		    entra_kind_name(c->why_kind), c->why_id,
		    entra_state_name(c->why_state));
}

/*
 * Applies the facts (and the position) in one transaction; tells the
 * CRL service when a certificate changed.
 */
static int
fact_list_apply(struct entra_job *j, const struct fact_list *fl,
    const char *name, const char *link, int64_t scan_rowid, int *changed,
    struct err *e)
{
	struct entra_batch	 b;
	struct entra_fact	*facts = NULL;
	size_t			 i;
	int			 n = 0, rc;

	if (fl->nomem)
		return err_set(e, ERR_NOMEM, "sync: out of memory");
	if (fl->n > 0 && (facts = calloc(fl->n, sizeof(*facts))) == NULL)
		return err_set(e, ERR_NOMEM, "sync: out of memory");
	for (i = 0; i < fl->n; i++) {
		facts[i].kind = fl->v[i].kind;
		facts[i].id = fl->v[i].has_id ? fl->v[i].id : NULL;
		facts[i].ext_id = fl->v[i].has_ext ? fl->v[i].ext : NULL;
		facts[i].enabled = fl->v[i].enabled;
		facts[i].deleted = fl->v[i].deleted;
	}
	memset(&b, 0, sizeof(b));
	b.facts = facts;
	b.n = fl->n;
	b.policy = j->policy;
	b.now = (int64_t)time(NULL);
	b.sync_name = name;
	b.delta_link = link;
	b.scan_rowid = scan_rowid;
	b.report = report_change;
	rc = store_entra_apply(j->st, &b, &n, e);
	free(facts);
	if (rc == 0 && n > 0 && j->crl != NULL)
		crl_service_changed(j->crl);
	if (changed != NULL)
		*changed += n;
	return rc;
}

/* Collects one delta object as a fact. */
static int
delta_fact(void *arg, const struct graph_delta_object *o)
{
	struct fact_list	*fl = arg;

	fact_add(fl, o->kind == GRAPH_USERS ? ENTRA_USER : ENTRA_DEVICE, o->id,
	    o->kind == GRAPH_USERS ? o->upn : o->device_id,
	    o->removed ? -1 : o->account_enabled, o->removed);
	return fl->nomem ? -1 : 0;
}

static const char *
job_name(enum graph_kind kind)
{
	return kind == GRAPH_USERS ? SYNC_ENTRA_USERS : SYNC_ENTRA_DEVICES;
}

/* Fails with ERR_THROTTLED while Graph asked us to hold back. */
static int
job_throttled(struct entra_job *j, struct err *e)
{
	long	ra = j->src.retry_after != NULL ?
		    j->src.retry_after(j->src.arg) : 0;

	if (ra > 0)
		return err_set(e, ERR_THROTTLED, "graph: throttled, retry in"
		    " %ld s", ra);
	return 0;
}

/*
 * One delta round from link (NULL: $deltaToken=latest, no objects),
 * applied with the new deltaLink.  *resync is set when Graph refused the
 * link.
 */
static int
delta_round(struct entra_job *j, enum graph_kind kind, const char *link,
    int *resync, int *changed, struct err *e)
{
	struct fact_list	 fl = {0};
	char			*next = NULL;
	int			 rc = -1;

	if (job_throttled(j, e) == -1)
		return -1;
	if (j->src.delta_run(j->src.arg, kind, link, link == NULL, delta_fact,
	    &fl, &next, resync, e) == -1)
		goto out;
	if (link == NULL)
		log_info("sync", "Entra %s: following changes from now on",
		    kind == GRAPH_USERS ? "users" : "devices");
	rc = fact_list_apply(j, &fl, job_name(kind), next, -1, changed, e);
out:
	free(next);
	fact_list_free(&fl);
	return rc;
}

/* The saved deltaLink of kind (NULL: none), into *link (owned). */
static int
saved_link(struct entra_job *j, enum graph_kind kind, char **link,
    struct err *e)
{
	struct sync_row	r;

	*link = NULL;
	if (store_sync_get(j->st, job_name(kind), &r, e) == -1)
		return e->code == ERR_NOT_FOUND ? 0 : -1;
	*link = r.delta_link;
	r.delta_link = NULL;
	sync_row_clear(&r);
	return 0;
}

/*
 * Delta: follow the saved deltaLink, or take one at the present when
 * there is none; when Graph refuses the link, start over.
 */
static int
delta_step(struct entra_job *j, enum graph_kind kind, int *changed,
    struct err *e)
{
	char	*link = NULL;
	int	 attempt, resync = 0, rc = -1;

	for (attempt = 0; attempt < 2; attempt++) {
		if (saved_link(j, kind, &link, e) == -1)
			return -1;
		rc = delta_round(j, kind, link, &resync, changed, e);
		free(link);
		link = NULL;
		if (rc == 0 || !resync)
			return rc;
		log_warn("sync", "Graph refused the saved %s deltaLink:"
		    " starting over; every %s our certificates name is looked"
		    " up again",
		    kind == GRAPH_USERS ? "users" : "devices",
		    kind == GRAPH_USERS ? "user" : "device");
		if (store_entra_restart(j->st, job_name(kind), kind ==
		    GRAPH_USERS ? ENTRA_USER : ENTRA_DEVICE, e) == -1)
			return -1;
	}
	return rc;
}

/* Whether an identity is known, in the store or earlier in this batch. */
static int
ident_known(struct entra_job *j, const struct fact_list *fl,
    enum entra_kind kind, const char *ext, struct err *e)
{
	size_t	i;

	for (i = 0; i < fl->n; i++)
		if (fl->v[i].kind == kind && fl->v[i].has_ext &&
		    strcasecmp(fl->v[i].ext, ext) == 0)
			return 1;
	return store_entra_known(j->st, kind, ext, e);
}

/*
 * An identity known already (k 1; -1 is an error): a new certificate
 * naming it is decided from what is recorded, so that a certificate
 * issued for a disabled device is held at once.
 */
static int
known_fact(struct fact_list *fl, enum entra_kind kind, const char *ext, int k)
{
	if (k < 0)
		return -1;
	fact_add(fl, kind, NULL, ext, -1, -1);
	return 0;
}

/* A device found (its state) or not (deleted), as a fact about ext. */
static void
device_fact(struct fact_list *fl, const struct graph_device *gd,
    const char *ext)
{
	if (gd->found)
		fact_add(fl, ENTRA_DEVICE, gd->id, ext, gd->account_enabled, 0);
	else
		fact_add(fl, ENTRA_DEVICE, NULL, ext, -1, 1);
}

/*
 * An Intune managed device id that is no Entra deviceId: its
 * azureADDeviceId, and that device's state.  Intune does not know it:
 * deleted.  It has no Entra device: recorded, not followed.
 */
static int
scan_managed(struct entra_job *j, struct fact_list *fl, const char *intune,
    struct err *e)
{
	static const char		zero[] =
					    "00000000-0000-0000-0000-000000000000";
	struct graph_managed_device	md;
	struct graph_device		gd;

	if (j->src.managed_get(j->src.arg, intune, 0, &md, e) == -1)
		return -1;
	if (!md.found) {
		log_info("sync", "Intune device %s is unknown to Intune and"
		    " Entra: its certificates count as deleted", intune);
		fact_add(fl, ENTRA_MANAGED, "", intune, -1, 1);
		return 0;
	}
	if (!graph_guid_valid(md.azure_ad_device_id) ||
	    strcmp(md.azure_ad_device_id, zero) == 0) {
		log_info("sync", "Intune device %s has no Entra device: its"
		    " certificates are not followed in Entra", intune);
		fact_add(fl, ENTRA_MANAGED, "", intune, -1, 0);
		return 0;
	}
	if (j->src.device_get(j->src.arg, md.azure_ad_device_id, 0, &gd,
	    e) == -1)
		return -1;
	device_fact(fl, &gd, md.azure_ad_device_id);
	fact_add(fl, ENTRA_MANAGED, md.azure_ad_device_id, intune, -1, 0);
	return 0;
}

/* A certificate row's Entra deviceId: its state. */
static int
scan_entra_id(struct entra_job *j, struct fact_list *fl, const char *id,
    struct err *e)
{
	struct graph_device	gd;
	int			k;

	if ((k = ident_known(j, fl, ENTRA_DEVICE, id, e)) != 0)
		return known_fact(fl, ENTRA_DEVICE, id, k);
	if (j->src.device_get(j->src.arg, id, 0, &gd, e) == -1)
		return -1;
	device_fact(fl, &gd, id);
	return 0;
}

/*
 * A certificate row's Intune id: tried as an Entra deviceId first (some
 * vendors put that there, reference §3), then as an Intune managed
 * device.
 */
static int
scan_intune_id(struct entra_job *j, struct fact_list *fl, const char *id,
    struct err *e)
{
	struct graph_device	gd;
	int			k;

	if ((k = ident_known(j, fl, ENTRA_DEVICE, id, e)) != 0 ||
	    (k = ident_known(j, fl, ENTRA_MANAGED, id, e)) != 0)
		return known_fact(fl, ENTRA_DEVICE, id, k);
	if (j->src.device_get(j->src.arg, id, 0, &gd, e) == -1)
		return -1;
	if (!gd.found)
		return scan_managed(j, fl, id, e);
	/* The Intune id is the Entra deviceId: the row learns it. */
	device_fact(fl, &gd, id);
	fact_add(fl, ENTRA_MANAGED, id, id, -1, 0);
	return 0;
}

/*
 * The device of a certificate row: by its Entra deviceId when it has
 * one, else by its Intune id.  Ids that are not GUIDs cannot be asked
 * about (msft/graph.h) and are not followed.
 */
static int
scan_device(struct entra_job *j, struct fact_list *fl,
    const struct entra_scan_row *r, struct err *e)
{
	if (r->a != NULL && graph_guid_valid(r->a))
		return scan_entra_id(j, fl, r->a, e);
	if (r->b != NULL && graph_guid_valid(r->b))
		return scan_intune_id(j, fl, r->b, e);
	return 0;
}

/* The user of a certificate row, by UPN. */
static int
scan_user(struct entra_job *j, struct fact_list *fl,
    const struct entra_scan_row *r, struct err *e)
{
	struct graph_user	gu;
	int			k;

	if (r->a == NULL || strchr(r->a, '@') == NULL ||
	    strlen(r->a) >= GRAPH_UPN_MAX)
		return 0;
	if ((k = ident_known(j, fl, ENTRA_USER, r->a, e)) != 0)
		return known_fact(fl, ENTRA_USER, r->a, k);
	if (j->src.user_get(j->src.arg, r->a, 0, &gu, e) == -1)
		return -1;
	if (gu.found)
		fact_add(fl, ENTRA_USER, gu.id, r->a, gu.account_enabled, 0);
	else
		fact_add(fl, ENTRA_USER, NULL, r->a, -1, 1);
	return 0;
}

static int
job_stopping(const struct entra_job *j)
{
	return j->stop != NULL && atomic_load(j->stop);
}

/*
 * Looks up one batch of rows after *after; *after moves past the rows
 * done.  Returns the rows read (0: none left), or -1 (what was looked up
 * before the failure is applied first).
 */
static int
scan_batch(struct entra_job *j, enum graph_kind kind, int64_t *after,
    int *changed, struct err *e)
{
	struct entra_scan_row	 rows[SCAN_BATCH];
	struct fact_list	 fl = {0};
	struct err		 e2 = {0};
	int64_t			 done = *after;
	int			 n, i, failed = 0;

	n = store_entra_scan(j->st, kind == GRAPH_USERS ? ENTRA_USER :
	    ENTRA_DEVICE, *after, (int64_t)time(NULL), rows, SCAN_BATCH, e);
	if (n <= 0)
		return n;
	for (i = 0; i < n && !failed && !job_stopping(j); i++) {
		if (job_throttled(j, e) == -1 || (kind == GRAPH_USERS ?
		    scan_user(j, &fl, &rows[i], e) :
		    scan_device(j, &fl, &rows[i], e)) == -1)
			failed = 1;
		else
			done = rows[i].rowid;
	}
	for (i = 0; i < n; i++)
		entra_scan_row_clear(&rows[i]);
	if (done != *after && fact_list_apply(j, &fl, job_name(kind), NULL,
	    done, changed, failed ? &e2 : e) == -1) {
		if (failed)
			log_err("sync", "%s", e2.msg);
		failed = 1;
	}
	fact_list_free(&fl);
	*after = done;
	if (failed)
		return -1;
	return job_stopping(j) ? 0 : n;
}

/* Looks up the identities of the rows added since the last scan. */
static int
scan_step(struct entra_job *j, enum graph_kind kind, int *changed,
    struct err *e)
{
	struct sync_row	r;
	int64_t		after = 0;
	int		n;

	if (store_sync_get(j->st, job_name(kind), &r, e) == 0) {
		after = r.scan_rowid;
		sync_row_clear(&r);
	} else if (e->code != ERR_NOT_FOUND)
		return -1;
	while ((n = scan_batch(j, kind, &after, changed, e)) == SCAN_BATCH)
		continue;
	return n < 0 ? -1 : 0;
}

int
entra_job_run(struct entra_job *j, enum graph_kind kind, int *changed,
    struct err *e)
{
	int	n = 0, rc;

	rc = delta_step(j, kind, &n, e) == -1 ? -1 :
	    scan_step(j, kind, &n, e);
	if (changed != NULL)
		*changed = n;
	return rc;
}
