/*
 * state.c - fake-entra's in-memory state: creation, destruction, the
 * lock, and the lookups every handler shares.  See state.h for the
 * locking rule.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "state.h"

char *
fe_strdup0(const char *s)
{
	return s == NULL ? NULL : strdup(s);
}

int
fe_vec_push(struct fe_vec *v, void *p)
{
	void	**nv;
	size_t	  ncap;

	if (v->n == v->cap) {
		ncap = v->cap ? v->cap * 2 : 16;
		if ((nv = realloc(v->v, ncap * sizeof(*nv))) == NULL)
			return -1;
		v->v = nv;
		v->cap = ncap;
	}
	v->v[v->n++] = p;
	return 0;
}

void *
fe_vec_remove(struct fe_vec *v, size_t i)
{
	void	*p = v->v[i];

	memmove(&v->v[i], &v->v[i + 1], (v->n - i - 1) * sizeof(v->v[0]));
	v->n--;
	return p;
}

/* Frees every item of v with fn, then the array. */
static void
fe_vec_clear(struct fe_vec *v, void (*fn)(void *))
{
	size_t	i;

	for (i = 0; i < v->n; i++)
		fn(v->v[i]);
	free(v->v);
	memset(v, 0, sizeof(*v));
}

void
fe_app_free(struct fe_app *a)
{
	if (a == NULL)
		return;
	free(a->tenant);
	free(a->client_id);
	if (a->secret != NULL)
		OPENSSL_cleanse(a->secret, strlen(a->secret));
	free(a->secret);
	X509_free(a->cert);
	free(a);
}

void
fe_device_free(struct fe_device *d)
{
	if (d == NULL)
		return;
	free(d->id);
	free(d->device_id);
	free(d->display_name);
	free(d->os);
	free(d);
}

void
fe_user_free(struct fe_user *u)
{
	if (u == NULL)
		return;
	free(u->id);
	free(u->upn);
	free(u->display_name);
	free(u);
}

void
fe_mdev_free(struct fe_mdev *m)
{
	if (m == NULL)
		return;
	free(m->id);
	free(m->aad_id);
	free(m->compliance);
	free(m->name);
	free(m);
}

void
fe_challenge_free(struct fe_challenge *c)
{
	if (c == NULL)
		return;
	free(c->challenge);
	free(c->subject);
	free(c);
}

void
fe_revreq_free(struct fe_revreq *r)
{
	if (r == NULL)
		return;
	free(r->context);
	free(r->serial);
	free(r->issuer);
	free(r->caconf);
	free(r);
}

void
fe_fault_free(struct fe_fault *f)
{
	if (f == NULL)
		return;
	free(f->prefix);
	free(f);
}

void
fe_dtoken_free(struct fe_dtoken *t)
{
	if (t == NULL)
		return;
	free(t->select);
	free(t);
}

static void
fe_jti_free(struct fe_jti *j)
{
	if (j == NULL)
		return;
	free(j->jti);
	free(j);
}

/* Adapters so every destructor fits fe_vec_clear(). */
static void app_free_v(void *p) { fe_app_free(p); }
static void device_free_v(void *p) { fe_device_free(p); }
static void user_free_v(void *p) { fe_user_free(p); }
static void mdev_free_v(void *p) { fe_mdev_free(p); }
static void challenge_free_v(void *p) { fe_challenge_free(p); }
static void revreq_free_v(void *p) { fe_revreq_free(p); }
static void fault_free_v(void *p) { fe_fault_free(p); }
static void jti_free_v(void *p) { fe_jti_free(p); }
static void dtoken_free_v(void *p) { fe_dtoken_free(p); }

struct fe_state *
fe_state_new(void)
{
	struct fe_state	*st;

	if ((st = calloc(1, sizeof(*st))) == NULL)
		return NULL;
	if (pthread_mutex_init(&st->lock, NULL) != 0) {
		free(st);
		return NULL;
	}
	st->notifications = json_array();
	st->validations = json_array();
	st->revresults = json_array();
	st->requests = json_array();
	if (st->notifications == NULL || st->validations == NULL ||
	    st->revresults == NULL || st->requests == NULL) {
		fe_state_free(st);
		return NULL;
	}
	return st;
}

void
fe_state_free(struct fe_state *st)
{
	if (st == NULL)
		return;
	fe_vec_clear(&st->apps, app_free_v);
	fe_vec_clear(&st->tokens, free);
	fe_vec_clear(&st->devices, device_free_v);
	fe_vec_clear(&st->users, user_free_v);
	fe_vec_clear(&st->mdevs, mdev_free_v);
	fe_vec_clear(&st->challenges, challenge_free_v);
	fe_vec_clear(&st->revreqs, revreq_free_v);
	fe_vec_clear(&st->faults, fault_free_v);
	fe_vec_clear(&st->jtis, jti_free_v);
	fe_vec_clear(&st->dtokens, dtoken_free_v);
	json_decref(st->notifications);
	json_decref(st->validations);
	json_decref(st->revresults);
	json_decref(st->requests);
	pthread_mutex_destroy(&st->lock);
	free(st);
}

void
fe_state_lock(struct fe_state *st)
{
	pthread_mutex_lock(&st->lock);
}

void
fe_state_unlock(struct fe_state *st)
{
	pthread_mutex_unlock(&st->lock);
}

struct fe_app *
fe_app_find(struct fe_state *st, const char *tenant, const char *client_id)
{
	struct fe_app	*a;
	size_t		 i;

	/* Tenant ids and client ids are GUIDs or domains: no case. */
	for (i = 0; i < st->apps.n; i++) {
		a = st->apps.v[i];
		if (strcasecmp(a->tenant, tenant) == 0 &&
		    strcasecmp(a->client_id, client_id) == 0)
			return a;
	}
	return NULL;
}

int
fe_tenant_known(struct fe_state *st, const char *tenant)
{
	struct fe_app	*a;
	size_t		 i;

	for (i = 0; i < st->apps.n; i++) {
		a = st->apps.v[i];
		if (strcasecmp(a->tenant, tenant) == 0)
			return 1;
	}
	return 0;
}

struct fe_device *
fe_device_find(struct fe_state *st, const char *device_id)
{
	struct fe_device	*d, *gone = NULL;
	size_t			 i;

	/* A re-created deviceId may also name a deleted object: live wins. */
	for (i = 0; i < st->devices.n; i++) {
		d = st->devices.v[i];
		if (strcasecmp(d->device_id, device_id) != 0)
			continue;
		if (d->gone == FE_LIVE)
			return d;
		gone = d;
	}
	return gone;
}

struct fe_device *
fe_device_find_id(struct fe_state *st, const char *id)
{
	struct fe_device	*d;
	size_t			 i;

	for (i = 0; i < st->devices.n; i++) {
		d = st->devices.v[i];
		if (strcasecmp(d->id, id) == 0)
			return d;
	}
	return NULL;
}

struct fe_user *
fe_user_find(struct fe_state *st, const char *id_or_upn)
{
	struct fe_user	*u, *gone = NULL;
	size_t		 i;

	/*
	 * Graph matches the object id or the UPN, both without case; a UPN
	 * reused after a deletion names the live user.
	 */
	for (i = 0; i < st->users.n; i++) {
		u = st->users.v[i];
		if (strcasecmp(u->id, id_or_upn) != 0 &&
		    strcasecmp(u->upn, id_or_upn) != 0)
			continue;
		if (u->gone == FE_LIVE)
			return u;
		gone = u;
	}
	return gone;
}

struct fe_mdev *
fe_mdev_find(struct fe_state *st, const char *id)
{
	struct fe_mdev	*m;
	size_t		 i;

	for (i = 0; i < st->mdevs.n; i++) {
		m = st->mdevs.v[i];
		if (strcasecmp(m->id, id) == 0)
			return m;
	}
	return NULL;
}

struct fe_challenge *
fe_challenge_find(struct fe_state *st, const char *challenge)
{
	struct fe_challenge	*c;
	size_t			 i;

	/* The challenge is an opaque secret: exact bytes. */
	for (i = 0; i < st->challenges.n; i++) {
		c = st->challenges.v[i];
		if (strcmp(c->challenge, challenge) == 0)
			return c;
	}
	return NULL;
}

int
fe_jti_remember(struct fe_state *st, const char *jti, time_t exp)
{
	struct fe_jti	*j;
	time_t		 now = time(NULL);
	size_t		 i;

	for (i = 0; i < st->jtis.n; ) {
		j = st->jtis.v[i];
		if (j->exp < now - 600) {
			fe_jti_free(fe_vec_remove(&st->jtis, i));
			continue;
		}
		if (strcmp(j->jti, jti) == 0)
			return 1;
		i++;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL ||
	    (j->jti = strdup(jti)) == NULL || fe_vec_push(&st->jtis, j) == -1) {
		fe_jti_free(j);
		return -1;
	}
	j->exp = exp;
	return 0;
}

uint64_t
fe_state_next_seq(struct fe_state *st)
{
	return ++st->seq;
}

void
fe_state_record(json_t *array, json_t *rec)
{
	if (rec == NULL)
		return;
	while (json_array_size(array) >= FE_MAX_RECORDS)
		json_array_remove(array, 0);
	json_array_append_new(array, rec);
}
