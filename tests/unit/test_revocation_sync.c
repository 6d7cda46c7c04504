/*
 * Unit tests of automatic revocation on a real SQLite store: the decision
 * (entra_decide), the store's batches of Entra facts (which certificates
 * a device or user event changes; holds released only when the sync made
 * them; the worst of a certificate's identities decides), the Entra job
 * over an in-process directory (first run, delta, restart, refused link,
 * throttling, Intune ids), and the answers to Intune revocation requests.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "base/log.h"
#include "config.h"
#include "pki/pki.h"
#include "store/store.h"
#include "store/sync.h"
#include "sync/sync.h"

#include "fake_directory.h"
#include "test_util.h"

#define DEV1	"11111111-1111-4111-8111-111111111111"
#define DEV2	"22222222-2222-4222-8222-222222222222"
#define DEV3	"33333333-3333-4333-8333-333333333333"
#define MAN1	"aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
#define OBJ1	"0b1e0000-0000-4000-8000-000000000001"
#define OBJ2	"0b1e0000-0000-4000-8000-000000000002"
#define USR1	"05e70000-0000-4000-8000-000000000001"
#define ALL	(ENTRA_ON_DELETED | ENTRA_ON_DISABLED)

struct fixture {
	struct tu_store	 s;
	struct fake_dir	 fd;
};

static int
setup(void **state)
{
	struct fixture	*f = calloc(1, sizeof(*f));

	tu_store_open(&f->s, "test_revsync");
	fd_init(&f->fd);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;

	tu_store_close(&f->s);
	free(f);
	return 0;
}

/* Issues a certificate naming these identities (NULL: none). */
static void
cert(struct store *st, const char *serial, const char *entra,
    const char *intune, const char *upn, int64_t not_after)
{
	struct tu_cert	c = { .serial = serial, .entra = entra,
			    .intune = intune, .upn = upn, .not_after = not_after };
	struct err	e = {0};

	assert_int_equal(tu_cert_issue(st, &c, &e), 0);
}

/* "status/reason/source" of a certificate, e.g. "revoked/5/entra". */
static const char *
state_of(struct store *st, const char *serial)
{
	static char	out[64];
	struct cert_row	r;
	struct err	e = {0};

	assert_int_equal(store_cert_get(st, serial, &r, &e), 0);
	snprintf(out, sizeof(out), "%s/%d/%s", cert_status_name(r.status),
	    r.status == CERT_VALID ? -1 : r.reason,
	    r.status_source ? r.status_source : "-");
	cert_row_clear(&r);
	return out;
}

/* Applies facts under policy; returns the certificates changed. */
static int
apply(struct store *st, int policy, const struct entra_fact *facts, size_t n)
{
	struct entra_batch	b;
	struct err		e = {0};
	int			changed = -1;

	memset(&b, 0, sizeof(b));
	b.facts = facts;
	b.n = n;
	b.policy = policy;
	b.now = time(NULL);
	b.scan_rowid = -1;
	assert_int_equal(store_entra_apply(st, &b, &changed, &e), 0);
	return changed;
}

static int
apply1(struct store *st, enum entra_kind kind, const char *id, const char *ext,
    int enabled, int deleted)
{
	struct entra_fact	f = { kind, id, ext, enabled, deleted };

	return apply(st, ALL, &f, 1);
}

static void
admin_set(struct store *st, const char *serial, enum cert_status to, int reason)
{
	struct err	e = {0};

	assert_int_equal(store_cert_set_status(st, serial, to, reason, "admin",
	    0, NULL, &e), 0);
}

/* ---- the decision ------------------------------------------------------ */

static void
decide_follows_the_worst_state(void **state)
{
	(void)state;
	/* Deleted: revoke whatever is not revoked; admin holds too. */
	assert_int_equal(entra_decide(ENTRA_DELETED, CERT_VALID, 0, ALL),
	    ENTRA_REVOKE);
	assert_int_equal(entra_decide(ENTRA_DELETED, CERT_HOLD, 0, ALL),
	    ENTRA_REVOKE);
	assert_int_equal(entra_decide(ENTRA_DELETED, CERT_REVOKED, 0, ALL),
	    ENTRA_KEEP);
	/* Disabled: hold a valid one only. */
	assert_int_equal(entra_decide(ENTRA_DISABLED, CERT_VALID, 0, ALL),
	    ENTRA_HOLD);
	assert_int_equal(entra_decide(ENTRA_DISABLED, CERT_HOLD, 1, ALL),
	    ENTRA_KEEP);
	assert_int_equal(entra_decide(ENTRA_DISABLED, CERT_REVOKED, 0, ALL),
	    ENTRA_KEEP);
	/* Enabled: release only the sync's own holds. */
	assert_int_equal(entra_decide(ENTRA_ENABLED, CERT_HOLD, 1, ALL),
	    ENTRA_RELEASE);
	assert_int_equal(entra_decide(ENTRA_ENABLED, CERT_HOLD, 0, ALL),
	    ENTRA_KEEP);
	assert_int_equal(entra_decide(ENTRA_ENABLED, CERT_VALID, 0, ALL),
	    ENTRA_KEEP);
	assert_int_equal(entra_decide(ENTRA_ENABLED, CERT_REVOKED, 0, ALL),
	    ENTRA_KEEP);
}

static void
decide_honours_revoke_on(void **state)
{
	(void)state;
	/* revoke_on = disabled: a deleted identity only holds. */
	assert_int_equal(entra_decide(ENTRA_DELETED, CERT_VALID, 0,
	    ENTRA_ON_DISABLED), ENTRA_HOLD);
	/* revoke_on = deleted: a disabled identity changes nothing... */
	assert_int_equal(entra_decide(ENTRA_DISABLED, CERT_VALID, 0,
	    ENTRA_ON_DELETED), ENTRA_KEEP);
	/* ...and holds the sync made earlier are still released. */
	assert_int_equal(entra_decide(ENTRA_ENABLED, CERT_HOLD, 1,
	    ENTRA_ON_DELETED), ENTRA_RELEASE);
	assert_int_equal(entra_decide(ENTRA_DELETED, CERT_VALID, 0, 0),
	    ENTRA_KEEP);
}

/* ---- batches of facts on the store -------------------------------------- */

static void
deleted_device_revokes_its_live_certificates(void **state)
{
	struct fixture	*f = *state;
	struct err	 e = {0};
	int64_t		 gen0, gen1;

	cert(f->s.st, "01", DEV1, NULL, NULL, 0);		/* valid */
	cert(f->s.st, "02", NULL, DEV1, NULL, 0);		/* Intune id = deviceId */
	cert(f->s.st, "03", DEV1, NULL, NULL, 0);		/* an admin's hold */
	cert(f->s.st, "04", DEV1, NULL, NULL, 0);		/* keyCompromise */
	cert(f->s.st, "05", DEV1, NULL, NULL, time(NULL) - 10);	/* expired */
	cert(f->s.st, "06", DEV2, NULL, NULL, 0);		/* another device */
	admin_set(f->s.st, "03", CERT_HOLD, REASON_CERTIFICATE_HOLD);
	admin_set(f->s.st, "04", CERT_REVOKED, REASON_KEY_COMPROMISE);
	assert_int_equal(store_revocation_generation(f->s.st, &gen0, &e), 0);
	assert_int_equal(apply1(f->s.st, ENTRA_DEVICE, NULL, DEV1, -1, 1), 3);
	assert_string_equal(state_of(f->s.st, "01"), "revoked/5/entra");
	assert_string_equal(state_of(f->s.st, "02"), "revoked/5/entra");
	assert_string_equal(state_of(f->s.st, "03"), "revoked/5/entra");
	assert_string_equal(state_of(f->s.st, "04"), "revoked/1/admin");
	assert_string_equal(state_of(f->s.st, "05"), "valid/-1/-");
	assert_string_equal(state_of(f->s.st, "06"), "valid/-1/-");
	assert_int_equal(store_revocation_generation(f->s.st, &gen1, &e), 0);
	assert_true(gen1 > gen0);
	/* The same fact again changes nothing, and the counter stays. */
	assert_int_equal(apply1(f->s.st, ENTRA_DEVICE, NULL, DEV1, -1, 1), 0);
	assert_int_equal(store_revocation_generation(f->s.st, &gen0, &e), 0);
	assert_int_equal(gen0, gen1);
}

static void
disabled_user_holds_and_enabled_releases_only_the_syncs_holds(void **state)
{
	struct fixture	*f = *state;

	cert(f->s.st, "11", NULL, NULL, "alice@contoso.example", 0);
	cert(f->s.st, "12", NULL, NULL, "alice@contoso.example", 0);
	cert(f->s.st, "13", NULL, NULL, "bob@contoso.example", 0);
	admin_set(f->s.st, "12", CERT_HOLD, REASON_CERTIFICATE_HOLD);
	assert_int_equal(apply1(f->s.st, ENTRA_USER, USR1,
	    "alice@contoso.example", 0, 0), 1);
	assert_string_equal(state_of(f->s.st, "11"), "hold/6/entra");
	assert_string_equal(state_of(f->s.st, "12"), "hold/6/admin");
	assert_string_equal(state_of(f->s.st, "13"), "valid/-1/-");
	/* Enabled again, by object id alone: only the sync's hold goes. */
	assert_int_equal(apply1(f->s.st, ENTRA_USER, USR1, NULL, 1, 0), 1);
	assert_string_equal(state_of(f->s.st, "11"), "valid/-1/entra");
	assert_string_equal(state_of(f->s.st, "12"), "hold/6/admin");
}

static void
upn_matches_in_any_letter_case(void **state)
{
	struct fixture	*f = *state;

	cert(f->s.st, "21", NULL, NULL, "Carol.Smith@Contoso.Example", 0);
	assert_int_equal(apply1(f->s.st, ENTRA_USER, USR1,
	    "carol.smith@contoso.example", 0, 0), 1);
	assert_string_equal(state_of(f->s.st, "21"), "hold/6/entra");
}

static void
hold_stays_while_another_identity_is_disabled(void **state)
{
	struct fixture	*f = *state;

	cert(f->s.st, "31", DEV1, NULL, "dave@contoso.example", 0);
	assert_int_equal(apply1(f->s.st, ENTRA_DEVICE, OBJ1, DEV1, 0, 0), 1);
	assert_int_equal(apply1(f->s.st, ENTRA_USER, USR1,
	    "dave@contoso.example", 0, 0), 0);
	assert_string_equal(state_of(f->s.st, "31"), "hold/6/entra");
	/* The user comes back; the device is still disabled. */
	assert_int_equal(apply1(f->s.st, ENTRA_USER, USR1, NULL, 1, 0), 0);
	assert_string_equal(state_of(f->s.st, "31"), "hold/6/entra");
	assert_int_equal(apply1(f->s.st, ENTRA_DEVICE, OBJ1, NULL, 1, 0), 1);
	assert_string_equal(state_of(f->s.st, "31"), "valid/-1/entra");
}

static void
removed_entry_is_mapped_by_object_id(void **state)
{
	struct fixture	*f = *state;

	cert(f->s.st, "41", DEV1, NULL, NULL, 0);
	cert(f->s.st, "42", DEV2, NULL, NULL, 0);
	/* Seen alive first (delta or a lookup), then "@removed": id only. */
	assert_int_equal(apply1(f->s.st, ENTRA_DEVICE, OBJ1, DEV1, 1, 0), 0);
	assert_int_equal(apply1(f->s.st, ENTRA_DEVICE, OBJ2, NULL, -1, 1), 0);
	assert_string_equal(state_of(f->s.st, "41"), "valid/-1/-");
	assert_int_equal(apply1(f->s.st, ENTRA_DEVICE, OBJ1, NULL, -1, 1), 1);
	assert_string_equal(state_of(f->s.st, "41"), "revoked/5/entra");
	assert_string_equal(state_of(f->s.st, "42"), "valid/-1/-");
}

static void
renamed_user_keeps_its_old_upns_certificates(void **state)
{
	struct fixture	*f = *state;

	cert(f->s.st, "51", NULL, NULL, "old@contoso.example", 0);
	assert_int_equal(apply1(f->s.st, ENTRA_USER, USR1, "old@contoso.example",
	    1, 0), 0);
	assert_int_equal(apply1(f->s.st, ENTRA_USER, USR1, "new@contoso.example",
	    1, 0), 0);
	assert_int_equal(apply1(f->s.st, ENTRA_USER, USR1, NULL, -1, 1), 1);
	assert_string_equal(state_of(f->s.st, "51"), "revoked/5/entra");
}

static void
intune_id_follows_its_entra_device(void **state)
{
	struct fixture		*f = *state;
	struct entra_fact	 facts[2] = {
		{ ENTRA_DEVICE, OBJ1, DEV1, 1, 0 },
		{ ENTRA_MANAGED, DEV1, MAN1, -1, 0 },
	};
	struct cert_row		 r;
	struct err		 e = {0};

	cert(f->s.st, "61", NULL, MAN1, NULL, 0);
	cert(f->s.st, "62", "not-a-guid", MAN1, NULL, 0);
	assert_int_equal(apply(f->s.st, ALL, facts, 2), 0);
	assert_int_equal(store_cert_get(f->s.st, "61", &r, &e), 0);
	assert_string_equal(r.entra_device_id, DEV1);
	cert_row_clear(&r);
	/* A row with another (unusable) deviceId keeps it... */
	assert_int_equal(store_cert_get(f->s.st, "62", &r, &e), 0);
	assert_string_equal(r.entra_device_id, "not-a-guid");
	cert_row_clear(&r);
	/* ...and both follow the device through the mapping. */
	assert_int_equal(apply1(f->s.st, ENTRA_DEVICE, OBJ1, NULL, -1, 1), 2);
	assert_string_equal(state_of(f->s.st, "61"), "revoked/5/entra");
	assert_string_equal(state_of(f->s.st, "62"), "revoked/5/entra");
}

static void
unknown_intune_device_counts_as_deleted(void **state)
{
	struct fixture	*f = *state;

	cert(f->s.st, "71", NULL, MAN1, NULL, 0);
	assert_int_equal(apply1(f->s.st, ENTRA_MANAGED, "", MAN1, -1, 1), 1);
	assert_string_equal(state_of(f->s.st, "71"), "revoked/5/entra");
}

static void
batch_saves_its_position_with_the_changes(void **state)
{
	struct fixture		*f = *state;
	struct entra_fact	 fact = { ENTRA_DEVICE, NULL, DEV1, -1, 1 };
	struct entra_batch	 b;
	struct sync_row		 r;
	struct err		 e = {0};

	cert(f->s.st, "81", DEV1, NULL, NULL, 0);
	memset(&b, 0, sizeof(b));
	b.facts = &fact;
	b.n = 1;
	b.policy = ALL;
	b.now = time(NULL);
	b.sync_name = SYNC_ENTRA_DEVICES;
	b.delta_link = "https://graph.example/v1.0/devices/delta?$deltatoken=x";
	b.scan_rowid = 7;
	assert_int_equal(store_entra_apply(f->s.st, &b, NULL, &e), 0);
	assert_int_equal(store_sync_get(f->s.st, SYNC_ENTRA_DEVICES, &r, &e), 0);
	assert_string_equal(r.delta_link, b.delta_link);
	assert_int_equal(r.scan_rowid, 7);
	assert_int_equal(r.items_applied, 1);
	sync_row_clear(&r);
	/* NULL link and -1 keep them. */
	b.n = 0;
	b.delta_link = NULL;
	b.scan_rowid = -1;
	assert_int_equal(store_entra_apply(f->s.st, &b, NULL, &e), 0);
	assert_int_equal(store_sync_get(f->s.st, SYNC_ENTRA_DEVICES, &r, &e), 0);
	assert_non_null(r.delta_link);
	assert_int_equal(r.scan_rowid, 7);
	sync_row_clear(&r);
}

static void
sync_result_counts_failures_and_keeps_the_last_error(void **state)
{
	struct fixture	*f = *state;
	struct sync_row	 r;
	struct err	 e = {0};

	assert_int_equal(store_sync_get(f->s.st, "x", &r, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	assert_int_equal(store_sync_result(f->s.st, "x", 100, "boom", &e), 0);
	assert_int_equal(store_sync_result(f->s.st, "x", 110, "boom again", &e), 0);
	assert_int_equal(store_sync_get(f->s.st, "x", &r, &e), 0);
	assert_int_equal(r.failures, 2);
	assert_int_equal(r.last_success, 0);
	assert_int_equal(r.last_error_at, 110);
	assert_string_equal(r.last_error, "boom again");
	sync_row_clear(&r);
	assert_int_equal(store_sync_result(f->s.st, "x", 120, NULL, &e), 0);
	assert_int_equal(store_sync_get(f->s.st, "x", &r, &e), 0);
	assert_int_equal(r.failures, 0);
	assert_int_equal(r.last_success, 120);
	assert_int_equal(r.last_attempt, 120);
	assert_string_equal(r.last_error, "boom again");
	sync_row_clear(&r);
}

/* ---- the Entra job over an in-process directory --------------------------- */

static void
job_init(struct fixture *f, struct entra_job *j)
{
	memset(j, 0, sizeof(*j));
	j->st = f->s.st;
	fd_source(&f->fd, &j->src);
	j->policy = ALL;
}

static int
run(struct fixture *f, enum graph_kind kind, struct err *e)
{
	struct entra_job	j;
	int			changed = 0;

	job_init(f, &j);
	if (entra_job_run(&j, kind, &changed, e) == -1)
		return -1;
	return changed;
}

static void
first_run_takes_the_present_and_looks_up_what_certificates_name(void **state)
{
	struct fixture	*f = *state;
	struct err	 e = {0};

	fd_add_device(&f->fd, OBJ1, DEV1, 1);
	fd_add_device(&f->fd, OBJ2, DEV2, 0);
	cert(f->s.st, "01", DEV1, NULL, NULL, 0);
	cert(f->s.st, "02", DEV2, NULL, NULL, 0);
	cert(f->s.st, "03", DEV3, NULL, NULL, 0);		/* unknown: deleted */
	cert(f->s.st, "04", DEV1, NULL, NULL, 0);		/* looked up once */
	cert(f->s.st, "05", "dev-name", NULL, NULL, 0);	/* not a GUID */
	assert_int_equal(run(f, GRAPH_DEVICES, &e), 2);
	assert_int_equal(f->fd.last_latest, 1);
	assert_int_equal(f->fd.last_had_link, 0);
	assert_int_equal(f->fd.n_delta, 1);
	assert_int_equal(f->fd.n_device, 3);
	assert_string_equal(state_of(f->s.st, "01"), "valid/-1/-");
	assert_string_equal(state_of(f->s.st, "02"), "hold/6/entra");
	assert_string_equal(state_of(f->s.st, "03"), "revoked/5/entra");
	assert_string_equal(state_of(f->s.st, "05"), "valid/-1/-");
	/* Nothing new: the next run follows the link and looks up nothing. */
	assert_int_equal(run(f, GRAPH_DEVICES, &e), 0);
	assert_int_equal(f->fd.last_had_link, 1);
	assert_int_equal(f->fd.n_device, 3);
}

static void
delta_changes_are_applied_and_new_rows_looked_up(void **state)
{
	struct fixture	*f = *state;
	struct err	 e = {0};

	fd_add_device(&f->fd, OBJ1, DEV1, 1);
	fd_add_device(&f->fd, OBJ2, DEV2, 1);
	cert(f->s.st, "01", DEV1, NULL, NULL, 0);
	assert_int_equal(run(f, GRAPH_DEVICES, &e), 0);
	/* The directory changes; a new certificate names another device. */
	fd_change(&f->fd, GRAPH_DEVICES, OBJ1, NULL, -1, "deleted");
	cert(f->s.st, "02", DEV2, NULL, NULL, 0);
	assert_int_equal(run(f, GRAPH_DEVICES, &e), 1);
	assert_string_equal(state_of(f->s.st, "01"), "revoked/5/entra");
	assert_string_equal(state_of(f->s.st, "02"), "valid/-1/-");
	assert_int_equal(f->fd.n_device, 2);
	/* A disable, then an enable: hold, then release. */
	fd_change(&f->fd, GRAPH_DEVICES, OBJ2, DEV2, 0, NULL);
	assert_int_equal(run(f, GRAPH_DEVICES, &e), 1);
	assert_string_equal(state_of(f->s.st, "02"), "hold/6/entra");
	fd_change(&f->fd, GRAPH_DEVICES, OBJ2, NULL, 1, NULL);
	assert_int_equal(run(f, GRAPH_DEVICES, &e), 1);
	assert_string_equal(state_of(f->s.st, "02"), "valid/-1/entra");
}

static void
new_certificate_of_a_known_disabled_device_is_held_at_once(void **state)
{
	struct fixture	*f = *state;
	struct err	 e = {0};

	fd_add_device(&f->fd, OBJ2, DEV2, 0);
	cert(f->s.st, "01", DEV2, NULL, NULL, 0);
	assert_int_equal(run(f, GRAPH_DEVICES, &e), 1);
	cert(f->s.st, "02", DEV2, NULL, NULL, 0);
	assert_int_equal(run(f, GRAPH_DEVICES, &e), 1);
	assert_string_equal(state_of(f->s.st, "02"), "hold/6/entra");
	assert_int_equal(f->fd.n_device, 1);
}

static void
restart_resumes_from_the_saved_link(void **state)
{
	struct fixture	*f = *state;
	struct sync_row	 r;
	struct err	 e = {0};

	fd_add_user(&f->fd, USR1, "erin@contoso.example", 1);
	cert(f->s.st, "01", NULL, NULL, "erin@contoso.example", 0);
	assert_int_equal(run(f, GRAPH_USERS, &e), 0);
	assert_int_equal(store_sync_get(f->s.st, SYNC_ENTRA_USERS, &r, &e), 0);
	assert_string_equal(r.delta_link, "link-1");
	sync_row_clear(&r);
	/* A new process: a new store handle and job on the same file. */
	store_close(f->s.st);
	f->s.st = store_open(f->s.path, 0, &e);
	assert_non_null(f->s.st);
	fd_change(&f->fd, GRAPH_USERS, USR1, NULL, -1, "changed");
	assert_int_equal(run(f, GRAPH_USERS, &e), 1);
	assert_int_equal(f->fd.last_had_link, 1);
	assert_int_equal(f->fd.last_latest, 0);
	assert_int_equal(f->fd.n_user, 1);
	assert_string_equal(state_of(f->s.st, "01"), "revoked/5/entra");
}

static void
refused_link_starts_over(void **state)
{
	struct fixture	*f = *state;
	struct err	 e = {0};

	fd_add_device(&f->fd, OBJ1, DEV1, 1);
	cert(f->s.st, "01", DEV1, NULL, NULL, 0);
	assert_int_equal(run(f, GRAPH_DEVICES, &e), 0);
	/* Disabled while the link lapses: only a new lookup can tell. */
	f->fd.dev[0].enabled = 0;
	f->fd.refuse_link = 1;
	assert_int_equal(run(f, GRAPH_DEVICES, &e), 1);
	assert_int_equal(f->fd.last_latest, 1);
	assert_int_equal(f->fd.n_device, 2);
	assert_string_equal(state_of(f->s.st, "01"), "hold/6/entra");
}

static void
failures_and_throttling_keep_the_position(void **state)
{
	struct fixture	*f = *state;
	struct sync_row	 r;
	struct err	 e = {0};

	fd_add_device(&f->fd, OBJ1, DEV1, 1);
	assert_int_equal(run(f, GRAPH_DEVICES, &e), 0);
	cert(f->s.st, "01", DEV2, NULL, NULL, 0);
	f->fd.retry_after = 30;
	assert_int_equal(run(f, GRAPH_DEVICES, &e), -1);
	assert_int_equal(e.code, ERR_THROTTLED);
	assert_int_equal(f->fd.n_delta, 1);
	f->fd.retry_after = 0;
	f->fd.fail = ERR_TIMEOUT;
	assert_int_equal(run(f, GRAPH_DEVICES, &e), -1);
	assert_int_equal(e.code, ERR_TIMEOUT);
	assert_int_equal(store_sync_get(f->s.st, SYNC_ENTRA_DEVICES, &r, &e), 0);
	assert_int_equal(r.scan_rowid, 0);
	sync_row_clear(&r);
	/* Graph answers again: the lookup is made, 404: revoked. */
	f->fd.fail = ERR_OK;
	assert_int_equal(run(f, GRAPH_DEVICES, &e), 1);
	assert_string_equal(state_of(f->s.st, "01"), "revoked/5/entra");
}

static void
intune_ids_are_resolved_through_intune(void **state)
{
	struct fixture	*f = *state;
	struct cert_row	 r;
	struct err	 e = {0};

	fd_add_device(&f->fd, OBJ1, DEV1, 1);
	fd_add_managed(&f->fd, MAN1, DEV1);
	fd_add_managed(&f->fd, DEV3, "00000000-0000-0000-0000-000000000000");
	cert(f->s.st, "01", NULL, MAN1, NULL, 0);
	cert(f->s.st, "02", NULL, DEV3, NULL, 0);		/* no Entra device */
	cert(f->s.st, "03", NULL, DEV2, NULL, 0);		/* unknown anywhere */
	assert_int_equal(run(f, GRAPH_DEVICES, &e), 1);
	assert_int_equal(store_cert_get(f->s.st, "01", &r, &e), 0);
	assert_string_equal(r.entra_device_id, DEV1);
	cert_row_clear(&r);
	assert_string_equal(state_of(f->s.st, "02"), "valid/-1/-");
	assert_string_equal(state_of(f->s.st, "03"), "revoked/5/entra");
	fd_change(&f->fd, GRAPH_DEVICES, OBJ1, NULL, -1, "deleted");
	assert_int_equal(run(f, GRAPH_DEVICES, &e), 1);
	assert_string_equal(state_of(f->s.st, "01"), "revoked/5/entra");
	/* Resolved ids are not asked about again. */
	assert_int_equal(f->fd.n_managed, 3);
}

/* ---- Intune revocation requests ------------------------------------------- */

static void
decide_request(struct fixture *f, const char *serial, const char *issuer,
    struct intune_outcome *out)
{
	struct intune_revocation_request	rq = { "ctx", (char *)serial,
						    (char *)issuer, NULL };
	X509_NAME				*ca;

	ca = pki_name_parse("CN=test CA,O=Example,C=US", NULL);
	assert_non_null(ca);
	intune_revocation_decide(f->s.st, ca, &rq, out);
	X509_NAME_free(ca);
}

static void
intune_request_revokes_ours_once(void **state)
{
	struct fixture		*f = *state;
	struct intune_outcome	 o;

	cert(f->s.st, "0A1B", NULL, NULL, NULL, 0);
	decide_request(f, "0a:1b", "CN=test CA,O=Example,C=US", &o);
	assert_true(o.answer && o.succeeded && o.changed);
	assert_int_equal(o.error_code, INTUNE_REVOKE_OK);
	assert_string_equal(state_of(f->s.st, "0A1B"), "revoked/5/intune");
	/* Asked again (an upload that failed): the same success. */
	decide_request(f, "0A1B", NULL, &o);
	assert_true(o.answer && o.succeeded && !o.changed);
}

static void
intune_request_keeps_an_earlier_revocation(void **state)
{
	struct fixture		*f = *state;
	struct intune_outcome	 o;

	cert(f->s.st, "0C", NULL, NULL, NULL, 0);
	cert(f->s.st, "0D", NULL, NULL, NULL, 0);
	admin_set(f->s.st, "0C", CERT_REVOKED, REASON_KEY_COMPROMISE);
	admin_set(f->s.st, "0D", CERT_HOLD, REASON_CERTIFICATE_HOLD);
	decide_request(f, "0C", "", &o);
	assert_true(o.succeeded && !o.changed);
	assert_string_equal(state_of(f->s.st, "0C"), "revoked/1/admin");
	decide_request(f, "0D", "", &o);
	assert_true(o.succeeded && o.changed);
	assert_string_equal(state_of(f->s.st, "0D"), "revoked/5/intune");
}

static void
intune_request_issuer_in_either_order_and_any_case(void **state)
{
	struct fixture		*f = *state;
	struct intune_outcome	 o;

	cert(f->s.st, "0E", NULL, NULL, NULL, 0);
	cert(f->s.st, "0F", NULL, NULL, NULL, 0);
	decide_request(f, "0E", "C=US, O=Example, CN=Test CA", &o);
	assert_true(o.succeeded);
	decide_request(f, "0F", "/C=US/O=Example/CN=test CA", &o);
	assert_true(o.succeeded);
}

static void
intune_request_refusals_carry_the_documented_codes(void **state)
{
	struct fixture		*f = *state;
	struct intune_outcome	 o;

	cert(f->s.st, "10", NULL, NULL, NULL, 0);
	decide_request(f, "BEEF", NULL, &o);
	assert_true(o.answer && !o.succeeded);
	assert_int_equal(o.error_code, INTUNE_REVOKE_CERT_NOT_FOUND);
	decide_request(f, "not hex", NULL, &o);
	assert_true(o.answer && !o.succeeded);
	assert_int_equal(o.error_code, INTUNE_REVOKE_PARAMETER_INVALID);
	decide_request(f, "10", "CN=Another CA", &o);
	assert_true(o.answer && !o.succeeded);
	assert_int_equal(o.error_code, INTUNE_REVOKE_CERT_NOT_FOUND);
	assert_string_equal(state_of(f->s.st, "10"), "valid/-1/-");
}

/* ---- the options ------------------------------------------------------------ */

/* Loads DIR/scep-ca.conf made of text plus an [entra] section. */
static int
load_conf(struct fixture *f, const char *extra, struct scep_conf *c,
    struct err *e)
{
	char	 path[160];
	FILE	*fp;

	snprintf(path, sizeof(path), "%s/entra.secret", f->s.dir);
	assert_non_null(fp = fopen(path, "w"));
	fputs("secret\n", fp);
	fclose(fp);
	assert_int_equal(chmod(path, 0600), 0);
	snprintf(path, sizeof(path), "%s/scep-ca.conf", f->s.dir);
	assert_non_null(fp = fopen(path, "w"));
	fprintf(fp, "[entra]\ntenant = contoso.onmicrosoft.com\n"
	    "client_id = 3f2c8a91-5d4e-4b7a-9c1e-2a6b8d0f4e17\n"
	    "client_secret_file = entra.secret\n%s", extra);
	fclose(fp);
	return conf_load(c, f->s.dir, e);
}

static void
sync_options_default_and_parse(void **state)
{
	struct fixture		*f = *state;
	struct scep_conf	 c;
	struct err		 e = {0};

	assert_int_equal(load_conf(f, "", &c, &e), 0);
	assert_int_equal(c.entra_revoke_mask, ALL);
	assert_int_equal(c.entra_sync_interval, 60);
	assert_int_equal(c.revocation_poll_interval, 60);
	conf_free(&c);
	assert_int_equal(load_conf(f, "revoke_on = Deleted\nsync_interval = 1\n"
	    "revocation_poll_interval = 0\n", &c, &e), 0);
	assert_int_equal(c.entra_revoke_mask, ENTRA_ON_DELETED);
	assert_int_equal(c.entra_sync_interval, 1);
	assert_int_equal(c.revocation_poll_interval, 0);
	conf_free(&c);
	assert_int_equal(load_conf(f, "revoke_on = none\n", &c, &e), 0);
	assert_int_equal(c.entra_revoke_mask, 0);
	conf_free(&c);
	assert_int_equal(load_conf(f, "revoke_on = deleted, expired\n", &c,
	    &e), -1);
	assert_non_null(strstr(e.msg, "revoke_on"));
	conf_free(&c);
	assert_int_equal(load_conf(f, "sync_interval = 0\n", &c, &e), -1);
	assert_non_null(strstr(e.msg, "sync_interval"));
	conf_free(&c);
}

static void
quiet(void *arg, enum log_level level, const char *line)
{
	(void)arg;
	(void)level;
	(void)line;
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(decide_follows_the_worst_state),
		cmocka_unit_test(decide_honours_revoke_on),
		T(deleted_device_revokes_its_live_certificates),
		T(disabled_user_holds_and_enabled_releases_only_the_syncs_holds),
		T(upn_matches_in_any_letter_case),
		T(hold_stays_while_another_identity_is_disabled),
		T(removed_entry_is_mapped_by_object_id),
		T(renamed_user_keeps_its_old_upns_certificates),
		T(intune_id_follows_its_entra_device),
		T(unknown_intune_device_counts_as_deleted),
		T(batch_saves_its_position_with_the_changes),
		T(sync_result_counts_failures_and_keeps_the_last_error),
		T(first_run_takes_the_present_and_looks_up_what_certificates_name),
		T(delta_changes_are_applied_and_new_rows_looked_up),
		T(new_certificate_of_a_known_disabled_device_is_held_at_once),
		T(restart_resumes_from_the_saved_link),
		T(refused_link_starts_over),
		T(failures_and_throttling_keep_the_position),
		T(intune_ids_are_resolved_through_intune),
		T(intune_request_revokes_ours_once),
		T(intune_request_keeps_an_earlier_revocation),
		T(intune_request_issuer_in_either_order_and_any_case),
		T(intune_request_refusals_carry_the_documented_codes),
		T(sync_options_default_and_parse),
	};

	/* The header's helpers this program does not need. */
	(void)fd_cache;
	(void)fd_advance;
	log_set_sink(quiet, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
