/*
 * delta.c - Graph change tracking on devices and users (reference §4;
 * Graph's "Use delta query to track changes").
 *
 * Every change to a device or user takes the next number of one change
 * sequence (state.h).  A round of delta pages covers the changes in
 * (since, upto]: upto is fixed when the round starts, and the pages walk
 * it in sequence order, so an object changed while a client pages is
 * never skipped: it moves past upto and comes in the next round.  The
 * first round (since 0) sends only live objects; later rounds send live
 * objects in their current state and gone ones as "@removed".
 *
 * $skiptoken and $deltatoken values are random strings naming a stored
 * position; an unknown one is Graph's 400 syncStateNotFound.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fake.h"
#include "state.h"

#define MAX_DTOKENS	20000	/* oldest positions are forgotten */

/* One round's window and the $select it was started with. */
struct fe_round {
	uint64_t	 since;
	uint64_t	 cursor;
	uint64_t	 upto;
	const char	*select;	/* borrowed from req or a token */
};

/* Sequence, liveness and JSON of a device or user, whichever it is. */
static uint64_t
fe_obj_seq(int users, const void *o)
{
	return users ? ((const struct fe_user *)o)->seq :
	    ((const struct fe_device *)o)->seq;
}

static enum fe_gone
fe_obj_gone(int users, const void *o)
{
	return users ? ((const struct fe_user *)o)->gone :
	    ((const struct fe_device *)o)->gone;
}

/* The delta entry of o: its state, or {"id","@removed":{"reason"}}. */
static json_t *
fe_obj_delta_json(int users, const void *o, const char *select)
{
	enum fe_gone	 gone = fe_obj_gone(users, o);
	const char	*id;

	if (gone == FE_LIVE)
		return fe_entity_json(users ? FE_KIND_USER : FE_KIND_DEVICE, o,
		    select);
	id = users ? ((const struct fe_user *)o)->id :
	    ((const struct fe_device *)o)->id;
	/* A soft-deleted user can still be restored: Graph says "changed". */
	return json_pack("{s:s, s:{s:s}}", "id", id, "@removed", "reason",
	    gone == FE_SOFT_DELETED ? "changed" : "deleted");
}

static int
fe_seq_cmp_users(const void *a, const void *b)
{
	uint64_t	x = fe_obj_seq(1, *(void *const *)a);
	uint64_t	y = fe_obj_seq(1, *(void *const *)b);

	return x < y ? -1 : x > y;
}

static int
fe_seq_cmp_devices(const void *a, const void *b)
{
	uint64_t	x = fe_obj_seq(0, *(void *const *)a);
	uint64_t	y = fe_obj_seq(0, *(void *const *)b);

	return x < y ? -1 : x > y;
}

/*
 * Collects the objects of round r still to send, in sequence order
 * (lock held).  Returns a new array of borrowed pointers (count in *n),
 * or NULL when out of memory.
 */
static void **
fe_round_pending(struct fe_state *st, int users, const struct fe_round *r,
    size_t *n)
{
	const struct fe_vec	*v = users ? &st->users : &st->devices;
	void			**out;
	uint64_t		 seq;
	size_t			 i;

	*n = 0;
	if ((out = calloc(v->n + 1, sizeof(*out))) == NULL)
		return NULL;
	for (i = 0; i < v->n; i++) {
		seq = fe_obj_seq(users, v->v[i]);
		if (seq <= r->cursor || seq > r->upto)
			continue;
		/* The first round only lists what exists now. */
		if (r->since == 0 && fe_obj_gone(users, v->v[i]) != FE_LIVE)
			continue;
		out[(*n)++] = v->v[i];
	}
	qsort(out, *n, sizeof(*out), users ? fe_seq_cmp_users :
	    fe_seq_cmp_devices);
	return out;
}

/* The stored position named value for users/devices, or NULL. */
static struct fe_dtoken *
fe_dtoken_find(struct fe_state *st, int users, const char *value)
{
	struct fe_dtoken	*t;
	size_t			 i;

	for (i = 0; i < st->dtokens.n; i++) {
		t = st->dtokens.v[i];
		if (t->users == users && strcmp(t->value, value) == 0)
			return t;
	}
	return NULL;
}

static int
fe_same_select(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/*
 * Stores a position (lock held); a deltaLink position equal to a stored
 * one reuses it, so a client polling an idle directory does not grow the
 * table.  Returns the token's value, or NULL when out of memory.
 */
static const char *
fe_dtoken_add(struct fe_state *st, int users, int is_skip,
    const struct fe_round *r)
{
	struct fe_dtoken	*t;
	size_t			 i;

	for (i = 0; !is_skip && i < st->dtokens.n; i++) {
		t = st->dtokens.v[i];
		if (!t->is_skip && t->users == users && t->since == r->upto &&
		    fe_same_select(t->select, r->select))
			return t->value;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    fe_random_token(t->value, sizeof(t->value), 24) == -1 ||
	    (r->select != NULL && (t->select = strdup(r->select)) == NULL))
		goto fail;
	t->users = users;
	t->is_skip = is_skip;
	t->since = is_skip ? r->since : r->upto;
	t->cursor = r->cursor;
	t->upto = r->upto;
	if (st->dtokens.n >= MAX_DTOKENS)
		fe_dtoken_free(fe_vec_remove(&st->dtokens, 0));
	if (fe_vec_push(&st->dtokens, t) == -1)
		goto fail;
	return t->value;
fail:
	fe_dtoken_free(t);
	return NULL;
}

/*
 * Builds one page of round r (lock held): up to page_size objects and
 * then either a nextLink or, on the last page, a deltaLink.
 */
static json_t *
fe_delta_page(struct fe_ctx *ctx, int users, struct fe_round *r)
{
	const char	*set = users ? "users" : "devices", *tok;
	size_t		 n, i, take;
	void		**pending;
	json_t		*value = NULL;
	char		 link[1024], context[1024];

	if ((pending = fe_round_pending(ctx->st, users, r, &n)) == NULL ||
	    (value = json_array()) == NULL)
		goto fail;
	take = n < (size_t)ctx->cfg->page_size ? n : (size_t)ctx->cfg->page_size;
	for (i = 0; i < take; i++)
		json_array_append_new(value, fe_obj_delta_json(users,
		    pending[i], r->select));
	if (take > 0)
		r->cursor = fe_obj_seq(users, pending[take - 1]);
	if ((tok = fe_dtoken_add(ctx->st, users, take < n, r)) == NULL)
		goto fail;
	snprintf(link, sizeof(link), "%s/v1.0/%s/delta?$%s=%s",
	    ctx->cfg->public_url, set, take < n ? "skiptoken" : "deltatoken",
	    tok);
	snprintf(context, sizeof(context), "%s/v1.0/$metadata#%s",
	    ctx->cfg->public_url, set);
	free(pending);
	return json_pack("{s:s, s:s, s:o}", "@odata.context", context,
	    take < n ? "@odata.nextLink" : "@odata.deltaLink", link,
	    "value", value);
fail:
	free(pending);
	json_decref(value);
	return NULL;
}

/* Sets up round r from the request's tokens (lock held).  -1: unknown. */
static int
fe_round_start(struct fe_state *st, const struct fe_req *req, int users,
    struct fe_round *r)
{
	const char		*dt = fe_query(req, "$deltatoken");
	const char		*sk = fe_query(req, "$skiptoken");
	struct fe_dtoken	*t;

	memset(r, 0, sizeof(*r));
	r->upto = st->seq;
	if (dt != NULL && strcasecmp(dt, "latest") == 0) {
		/* "Sync from now": no objects, a deltaLink at the present. */
		r->since = r->cursor = st->seq;
		r->select = fe_query(req, "$select");
		return 0;
	}
	if (dt == NULL && sk == NULL) {
		r->select = fe_query(req, "$select");
		return 0;
	}
	if ((t = fe_dtoken_find(st, users, sk != NULL ? sk : dt)) == NULL)
		return -1;
	r->select = t->select;
	r->since = t->since;
	r->cursor = t->is_skip ? t->cursor : t->since;
	if (t->is_skip)
		r->upto = t->upto;
	return 0;
}

int
fe_delta_handle(struct fe_ctx *ctx, const struct fe_req *req,
    struct fe_resp *resp, int users)
{
	struct fe_round	 r;
	json_t		*page = NULL;
	int		 unknown;

	fe_state_lock(ctx->st);
	unknown = fe_round_start(ctx->st, req, users, &r) == -1;
	if (!unknown)
		page = fe_delta_page(ctx, users, &r);
	fe_state_unlock(ctx->st);
	/* Graph's answer to a delta token it does not (or no longer) know. */
	if (unknown)
		return fe_graph_error(req, resp, 400, "syncStateNotFound",
		    "The sync state generation is not found. The delta token "
		    "is expired and data must be synchronized again.");
	if (page == NULL)
		return -1;
	resp->content_type = "application/json;odata.metadata=minimal;"
	    "odata.streaming=true;IEEE754Compatible=false;charset=utf-8";
	return fe_resp_json(resp, 200, page);
}
