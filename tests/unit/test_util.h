/*
 * test_util.h - fixtures the unit tests share: a store in a fresh
 * temporary directory, and certificates issued into it.  Header-only
 * (static inline), for cmocka test programs.
 */
#ifndef TEST_UTIL_H
#define TEST_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "store/store.h"

/* Creates /tmp/<prefix>.XXXXXX into dir (64 bytes); asserts on failure. */
static inline void
tu_dir_make(char dir[64], const char *prefix)
{
	snprintf(dir, 64, "/tmp/%s.XXXXXX", prefix);
	assert_non_null(mkdtemp(dir));
}

/* Removes a directory made by tu_dir_make() and all it holds. */
static inline void
tu_dir_remove(const char *dir)
{
	char	cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/* Writes text to dir/name with the given mode; asserts on failure. */
static inline void
tu_write_file(const char *dir, const char *name, const char *text, int mode)
{
	char	 path[128];
	FILE	*f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, (mode_t)mode), 0);
}

/* A store in its own temporary directory. */
struct tu_store {
	char		 dir[64];
	char		 path[96];
	struct store	*st;
};

/* Creates /tmp/<prefix>.XXXXXX and a store in it; asserts on failure. */
static inline void
tu_store_open(struct tu_store *t, const char *prefix)
{
	struct err	e = {0};

	tu_dir_make(t->dir, prefix);
	snprintf(t->path, sizeof(t->path), "%s/store.db", t->dir);
	t->st = store_open(t->path, STORE_CREATE, &e);
	assert_non_null(t->st);
}

/* Closes the store and removes its directory. */
static inline void
tu_store_close(struct tu_store *t)
{
	store_close(t->st);
	t->st = NULL;
	tu_dir_remove(t->dir);
}

/* cmocka setup: a new store in its own directory, as *state. */
static inline int
tu_store_setup(void **state)
{
	struct tu_store	*f = calloc(1, sizeof(*f));

	assert_non_null(f);
	tu_store_open(f, "unit_store");
	*state = f;
	return 0;
}

/* cmocka teardown of tu_store_setup(). */
static inline int
tu_store_teardown(void **state)
{
	tu_store_close(*state);
	free(*state);
	return 0;
}

/* A test certificate; NULL or 0 fields take defaults. */
struct tu_cert {
	const char	*serial;	/* canonical hex */
	const char	*txid;		/* default "tx-<serial>" */
	const char	*entra, *intune, *upn;
	int64_t		 not_after;	/* default: tomorrow */
	const char	*challenge;	/* one-time challenge hash to consume */
	const struct outbox_new *outbox; /* notification queued with it */
	const char	*renewed_from;	/* serial of the renewed, or NULL */
};

/*
 * Fills a certificate row with plausible values; its thumbprint differs
 * whenever serial or txid does.  Strings are borrowed (do not clear it).
 */
static inline void
tu_cert_row(struct cert_row *r, const struct tu_cert *c, const char *txid)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->serial, sizeof(r->serial), "%s", c->serial);
	r->issuer = "CN=test CA";
	r->subject = "CN=device";
	r->san = "";
	r->entra_device_id = (char *)c->entra;
	r->intune_device_id = (char *)c->intune;
	r->upn = (char *)c->upn;
	r->not_before = 1000;
	r->not_after = c->not_after ? c->not_after : (int64_t)time(NULL) + 86400;
	r->issued_at = 1000;
	r->status = CERT_VALID;
	r->reason = -1;
	snprintf(r->sha1, sizeof(r->sha1), "%040d", 0);
	snprintf(r->sha256, sizeof(r->sha256), "%.31s-%.32s", c->serial, txid);
	r->der.data = (unsigned char *)"DER";
	r->der.len = 3;
	r->profile = "default";
	r->key_hash = "kh";
	r->renewed_from = (char *)c->renewed_from;
}

/* Issues the certificate into st.  Returns store_issue()'s result. */
static inline int
tu_cert_issue(struct store *st, const struct tu_cert *c, struct err *e)
{
	struct cert_row		r;
	struct store_issue	in = {0};
	char			txid[64];

	if (c->txid != NULL)
		snprintf(txid, sizeof(txid), "%s", c->txid);
	else
		snprintf(txid, sizeof(txid), "tx-%.48s", c->serial);
	tu_cert_row(&r, c, txid);
	in.cert = &r;
	in.txid = txid;
	in.csr = (const unsigned char *)"CSR";
	in.csr_len = 3;
	in.challenge_hash = c->challenge;
	in.outbox = c->outbox;
	in.renewal_of = c->renewed_from;
	in.actor = "test";
	in.now = 1000;
	return store_issue(st, &in, e);
}

#endif
