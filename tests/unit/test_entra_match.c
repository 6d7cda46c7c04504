/*
 * Unit tests for the EAP-TLS decision (shared/entra_match.c): every
 * branch — store (unknown, issuer, revoked, hold, expired), identity
 * (store row, SAN text, Intune id), Entra status of device and user, fail
 * policy, strict mode — over a real SQLite store file (opened read-only,
 * as the module does) and the status cache on an in-process directory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <ctype.h>
#include <unistd.h>
#include <cmocka.h>

#include <sqlite3.h>

#include "entra_match.h"
#include "fake_directory.h"
#include "http.h"
#include "store.h"

#define ISSUER		"CN=Test Root CA,O=Example\\, Inc.,C=US"
#define ISSUER_FR	"/C=US/O=Example, Inc./CN=Test Root CA"

#define DEV_ON		"11111111-1111-4111-8111-111111111111"
#define OBJ_ON		"aaaaaaaa-0000-4000-8000-00000000000a"
#define DEV_OFF		"22222222-2222-4222-8222-222222222222"
#define OBJ_OFF		"bbbbbbbb-0000-4000-8000-00000000000b"
#define MAN_ON		"33333333-3333-4333-8333-333333333333"	/* → DEV_ON */
#define MAN_OFF		"44444444-4444-4444-8444-444444444444"	/* → DEV_OFF */
#define DEV_GONE	"55555555-5555-4555-8555-555555555555"

/* Serials (random 16-byte numbers in real life). */
#define S_ON		"4A1B2C3D4E5F60718293A4B5C6D7E8F9"
#define S_OFF		"4A1B2C3D4E5F60718293A4B5C6D7E8FA"
#define S_GONE		"4A1B2C3D4E5F60718293A4B5C6D7E8FB"
#define S_INTUNE_ON	"4A1B2C3D4E5F60718293A4B5C6D7E8FC"
#define S_INTUNE_OFF	"4A1B2C3D4E5F60718293A4B5C6D7E8FD"
#define S_REVOKED	"4A1B2C3D4E5F60718293A4B5C6D7E8FE"
#define S_HOLD		"4A1B2C3D4E5F60718293A4B5C6D7E8FF"
#define S_EXPIRED	"4A1B2C3D4E5F60718293A4B5C6D7E900"
#define S_NOBODY	"4A1B2C3D4E5F60718293A4B5C6D7E901"	/* no identity */
#define S_BOB		"4A1B2C3D4E5F60718293A4B5C6D7E902"	/* user disabled */
#define S_CAROL		"4A1B2C3D4E5F60718293A4B5C6D7E903"	/* user deleted */
#define S_UNKNOWN	"7F00000000000000000000000000000F"

#define NOW		1700000000

struct fixture {
	char			 dir[64];
	char			 path[96];
	struct fake_dir		 d;
	struct store		*rw, *ro;
	struct status_cache	*cache;
	struct entra_match_ctx	 ctx;
};

/* Adds one certificate row as scep-ca records it at issuance. */
static void
add_cert(struct store *st, const char *serial, const char *entra,
    const char *intune, const char *upn, int64_t not_after)
{
	struct cert_row		r;
	struct store_issue	in;
	struct err		e;
	char			txid[64];

	memset(&r, 0, sizeof(r));
	memset(&in, 0, sizeof(in));
	snprintf(r.serial, sizeof(r.serial), "%s", serial);
	r.issuer = ISSUER;
	r.subject = "CN=device";
	r.san = "";
	r.entra_device_id = (char *)entra;
	r.intune_device_id = (char *)intune;
	r.upn = (char *)upn;
	r.not_before = NOW - 86400;
	r.not_after = not_after;
	r.issued_at = NOW - 86400;
	r.status = CERT_VALID;
	r.reason = -1;
	snprintf(r.sha1, sizeof(r.sha1), "%040d", 0);
	snprintf(r.sha256, sizeof(r.sha256), "%s", serial);
	r.der.data = (unsigned char *)"DER";
	r.der.len = 3;
	r.profile = "default";
	r.key_hash = "kh";
	snprintf(txid, sizeof(txid), "tx-%s", serial);
	in.cert = &r;
	in.txid = txid;
	in.csr = (const unsigned char *)"CSR";
	in.csr_len = 3;
	in.actor = "test";
	in.now = NOW - 86400;
	assert_int_equal(store_issue(st, &in, &e), 0);
}

static int
setup(void **state)
{
	struct fixture	*f = calloc(1, sizeof(*f));
	struct err	 e;
	int64_t		 later = NOW + 86400 * 30;

	snprintf(f->dir, sizeof(f->dir), "/tmp/test_entra_match.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/store.db", f->dir);
	f->rw = store_open(f->path, STORE_CREATE, &e);
	assert_non_null(f->rw);
	add_cert(f->rw, S_ON, DEV_ON, NULL, "alice@example.com", later);
	add_cert(f->rw, S_OFF, DEV_OFF, NULL, NULL, later);
	add_cert(f->rw, S_GONE, NULL, DEV_GONE, NULL, later);
	add_cert(f->rw, S_INTUNE_ON, NULL, MAN_ON, "alice@example.com", later);
	add_cert(f->rw, S_INTUNE_OFF, NULL, MAN_OFF, NULL, later);
	add_cert(f->rw, S_REVOKED, DEV_ON, NULL, NULL, later);
	add_cert(f->rw, S_HOLD, DEV_ON, NULL, NULL, later);
	add_cert(f->rw, S_EXPIRED, DEV_ON, NULL, NULL, NOW - 1);
	add_cert(f->rw, S_NOBODY, NULL, NULL, NULL, later);
	add_cert(f->rw, S_BOB, DEV_ON, NULL, "Bob@Example.com", later);
	add_cert(f->rw, S_CAROL, NULL, MAN_ON, "carol@example.com", later);
	assert_int_equal(store_cert_set_status(f->rw, S_REVOKED, CERT_REVOKED,
	    REASON_KEY_COMPROMISE, "test", 0, NULL, &e), 0);
	assert_int_equal(store_cert_set_status(f->rw, S_HOLD, CERT_HOLD,
	    REASON_CERTIFICATE_HOLD, "test", 0, NULL, &e), 0);
	f->ro = store_open(f->path, STORE_RDONLY, &e);
	assert_non_null(f->ro);

	fd_init(&f->d);
	fd_add_device(&f->d, OBJ_ON, DEV_ON, 1);
	fd_add_device(&f->d, OBJ_OFF, DEV_OFF, 0);
	fd_add_managed(&f->d, MAN_ON, DEV_ON);
	fd_add_managed(&f->d, MAN_OFF, DEV_OFF);
	fd_add_user(&f->d, "66666666-6666-4666-8666-666666666666",
	    "alice@example.com", 1);
	fd_add_user(&f->d, "77777777-7777-4777-8777-777777777777",
	    "bob@example.com", 0);
	f->cache = fd_cache(&f->d, 1, STATUS_SYNC_FULL);
	assert_non_null(f->cache);

	f->ctx.store = f->ro;
	f->ctx.cache = f->cache;
	f->ctx.policy.max_age_ms = 300000;
	f->ctx.policy.fail_open_max_age_ms = 3600000;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;
	char		 cmd[128];

	status_cache_free(f->cache);
	store_close(f->ro);
	store_close(f->rw);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* Decides for serial as FreeRADIUS gives it (lower case, one-line issuer). */
static enum entra_match_result
decide_san(struct fixture *f, const char *serial, const char *issuer,
    const char *san, struct entra_match_verdict *v)
{
	struct entra_match_cert	c = { serial, issuer, san };

	return entra_match_decide(&f->ctx, &c, NOW, http_now_ms() + 2000, v);
}

static enum entra_match_result
decide(struct fixture *f, const char *serial, struct entra_match_verdict *v)
{
	char	lower[64];
	size_t	i;

	for (i = 0; serial[i] != '\0' && i + 1 < sizeof(lower); i++)
		lower[i] = (char)tolower((unsigned char)serial[i]);
	lower[i] = '\0';
	return decide_san(f, lower, ISSUER_FR, NULL, v);
}

static void
sync_cache(struct fixture *f)
{
	struct err	e;

	assert_int_equal(status_cache_sync_once(f->cache, &e), 0);
}

/* ---- store --------------------------------------------------------------- */

static void
known_cert_with_enabled_device_is_accepted(void **state)
{
	struct fixture			*f = *state;
	struct entra_match_verdict	 v;

	assert_int_equal(decide(f, S_ON, &v), EM_ACCEPT);
	assert_true(v.known);
	assert_string_equal(v.identity_from, "store");
	assert_string_equal(v.device_id, DEV_ON);
	assert_true(v.graph_asked);
	assert_non_null(strstr(v.detail, "enabled"));
	/* The next login is answered from memory. */
	assert_int_equal(decide(f, S_ON, &v), EM_ACCEPT);
	assert_false(v.graph_asked);
	assert_int_equal(f->d.n_device, 1);
}

static void
serial_in_any_spelling_is_found(void **state)
{
	struct fixture			*f = *state;
	struct entra_match_verdict	 v;

	assert_int_equal(decide_san(f, S_ON, ISSUER_FR, NULL, &v), EM_ACCEPT);
	assert_int_equal(decide_san(f, "4a:1b:2c:3d:4e:5f:60:71:82:93:a4:b5:"
	    "c6:d7:e8:f9", ISSUER, NULL, &v), EM_ACCEPT);
}

static void
unknown_cert_is_rejected(void **state)
{
	struct fixture			*f = *state;
	struct entra_match_verdict	 v;

	assert_int_equal(decide(f, S_UNKNOWN, &v), EM_UNKNOWN_CERT);
	assert_false(v.known);
	assert_string_equal(v.reason, "Certificate not issued by this CA");
	assert_int_equal(decide_san(f, "not-hex", ISSUER_FR, NULL, &v),
	    EM_UNKNOWN_CERT);
	assert_int_equal(decide_san(f, NULL, ISSUER_FR, NULL, &v),
	    EM_UNKNOWN_CERT);
}

static void
known_serial_from_another_issuer_is_unknown(void **state)
{
	struct fixture			*f = *state;
	struct entra_match_verdict	 v;

	assert_int_equal(decide_san(f, S_ON, "/C=US/O=Example, Inc./CN=Other CA",
	    NULL, &v), EM_UNKNOWN_CERT);
	assert_non_null(strstr(v.detail, "issued by"));
	assert_int_equal(decide_san(f, S_ON, NULL, NULL, &v), EM_UNKNOWN_CERT);
	assert_int_equal(f->d.n_device, 0);
}

static void
unknown_cert_passes_without_identity_when_unknown_is_pass(void **state)
{
	struct fixture			*f = *state;
	struct entra_match_verdict	 v;

	f->ctx.policy.unknown_pass = 1;
	assert_int_equal(decide_san(f, S_UNKNOWN, "/CN=Other CA",
	    "DNS:host.example.com, email:a@example.com", &v), EM_PASS);
	assert_null(v.identity_from);
	assert_int_equal(decide_san(f, S_UNKNOWN, "/CN=Other CA", NULL, &v),
	    EM_PASS);
	assert_int_equal(f->d.n_device + f->d.n_user, 0);
}

static void
unknown_cert_naming_a_device_is_checked_in_entra(void **state)
{
	struct fixture			*f = *state;
	struct entra_match_verdict	 v;

	f->ctx.policy.unknown_pass = 1;
	assert_int_equal(decide_san(f, S_UNKNOWN, "/CN=Other CA",
	    "URI:IntuneDeviceId://" DEV_ON ", othername: UPN::bob@example.com",
	    &v), EM_PASS);
	assert_string_equal(v.identity_from, "san");
	assert_string_equal(v.device_id, DEV_ON);
	assert_int_equal(decide_san(f, S_UNKNOWN, "/CN=Other CA",
	    "URI:IntuneDeviceId://" MAN_OFF, &v), EM_DEVICE_DISABLED);
	assert_string_equal(v.device_id, DEV_OFF);
	assert_string_equal(v.reason, "Device disabled in Entra ID");
	/* With check_user the SAN's UPN is checked too. */
	f->ctx.policy.check_user = 1;
	assert_int_equal(decide_san(f, S_UNKNOWN, "/CN=Other CA",
	    "URI:IntuneDeviceId://" DEV_ON ", othername: UPN::bob@example.com",
	    &v), EM_USER_DISABLED);
	assert_int_equal(decide_san(f, S_UNKNOWN, "/CN=Other CA",
	    "othername:UPN:alice@example.com", &v), EM_PASS);
}

/* ---- certificate status ---------------------------------------------------- */

static void
revoked_cert_is_refused(void **state)
{
	struct fixture			*f = *state;
	struct entra_match_verdict	 v;

	assert_int_equal(decide(f, S_REVOKED, &v), EM_REVOKED);
	assert_string_equal(v.reason, "Certificate revoked");
	assert_non_null(strstr(v.detail, "keyCompromise"));
	assert_int_equal(f->d.n_device, 0);	/* Graph not asked */
}

static void
cert_on_hold_is_refused_as_revoked(void **state)
{
	struct fixture			*f = *state;
	struct entra_match_verdict	 v;

	assert_int_equal(decide(f, S_HOLD, &v), EM_REVOKED);
	assert_string_equal(v.reason, "Certificate on hold");
	/* Who held it, for the log line. */
	assert_non_null(strstr(v.detail, "certificateHold (set by "));
}

static void
expired_cert_is_refused(void **state)
{
	struct fixture			*f = *state;
	struct entra_match_verdict	 v;

	assert_int_equal(decide(f, S_EXPIRED, &v), EM_EXPIRED);
	assert_string_equal(v.reason, "Certificate expired");
	assert_int_equal(f->d.n_device, 0);
}

static void
cert_without_identity_is_accepted_on_the_store(void **state)
{
	struct fixture			*f = *state;
	struct entra_match_verdict	 v;

	f->ctx.policy.check_user = 1;
	assert_int_equal(decide(f, S_NOBODY, &v), EM_ACCEPT);
	assert_non_null(strstr(v.detail, "no device named"));
	assert_non_null(strstr(v.detail, "no user named"));
	assert_int_equal(f->d.n_device + f->d.n_user, 0);
}

static void
without_cache_only_the_store_decides(void **state)
{
	struct fixture			*f = *state;
	struct entra_match_verdict	 v;

	f->ctx.cache = NULL;
	assert_int_equal(decide(f, S_OFF, &v), EM_ACCEPT);
	assert_int_equal(decide(f, S_REVOKED, &v), EM_REVOKED);
	f->ctx.policy.unknown_pass = 1;
	assert_int_equal(decide_san(f, S_UNKNOWN, "/CN=x",
	    "URI:IntuneDeviceId://" DEV_OFF, &v), EM_PASS);
}

static void
unreadable_store_is_an_error(void **state)
{
	struct fixture			*f = *state;
	struct entra_match_verdict	 v;
	sqlite3				*db;

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "DROP TABLE certificates", NULL, NULL,
	    NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(decide(f, S_ON, &v), EM_ERROR);
	assert_string_equal(v.reason, "Certificate store unavailable");
}

/* ---- Entra status ---------------------------------------------------------- */

static void
disabled_device_is_refused(void **state)
{
	struct fixture			*f = *state;
	struct entra_match_verdict	 v;

	assert_int_equal(decide(f, S_OFF, &v), EM_DEVICE_DISABLED);
	assert_string_equal(v.device_id, DEV_OFF);
}

static void
deleted_device_is_refused(void **state)
{
	struct fixture			*f = *state;
	struct entra_match_verdict	 v;

	assert_int_equal(decide(f, S_GONE, &v), EM_DEVICE_DELETED);
	assert_string_equal(v.reason, "Device not found in Entra ID");
	/* A device deleted after the delta chain started. */
	sync_cache(f);
	fd_change(&f->d, GRAPH_DEVICES, OBJ_ON, NULL, -1, "deleted");
	sync_cache(f);
	assert_int_equal(decide(f, S_ON, &v), EM_DEVICE_DELETED);
	assert_false(v.graph_asked);
}

static void
intune_device_id_resolves_to_entra_device(void **state)
{
	struct fixture			*f = *state;
	struct entra_match_verdict	 v;

	assert_int_equal(decide(f, S_INTUNE_ON, &v), EM_ACCEPT);
	assert_string_equal(v.device_id, DEV_ON);
	assert_int_equal(decide(f, S_INTUNE_OFF, &v), EM_DEVICE_DISABLED);
	assert_string_equal(v.device_id, DEV_OFF);
}

static void
device_disabled_by_delta_is_refused_at_next_login(void **state)
{
	struct fixture			*f = *state;
	struct entra_match_verdict	 v;

	sync_cache(f);
	assert_int_equal(decide(f, S_INTUNE_ON, &v), EM_ACCEPT);
	fd_change(&f->d, GRAPH_DEVICES, OBJ_ON, NULL, 0, NULL);
	sync_cache(f);
	assert_int_equal(decide(f, S_ON, &v), EM_DEVICE_DISABLED);
	assert_int_equal(decide(f, S_INTUNE_ON, &v), EM_DEVICE_DISABLED);
	fd_change(&f->d, GRAPH_DEVICES, OBJ_ON, NULL, 1, NULL);
	sync_cache(f);
	assert_int_equal(decide(f, S_ON, &v), EM_ACCEPT);
}

static void
user_is_checked_only_with_check_user(void **state)
{
	struct fixture			*f = *state;
	struct entra_match_verdict	 v;

	assert_int_equal(decide(f, S_BOB, &v), EM_ACCEPT);
	assert_int_equal(f->d.n_user, 0);
	f->ctx.policy.check_user = 1;
	assert_int_equal(decide(f, S_BOB, &v), EM_USER_DISABLED);
	assert_string_equal(v.reason, "User disabled in Entra ID");
	assert_string_equal(v.upn, "Bob@Example.com");
	assert_int_equal(decide(f, S_CAROL, &v), EM_USER_DELETED);
	assert_int_equal(decide(f, S_ON, &v), EM_ACCEPT);
	assert_string_equal(v.upn, "alice@example.com");
}

static void
disabled_device_is_reported_before_the_user(void **state)
{
	struct fixture			*f = *state;
	struct entra_match_verdict	 v;

	f->ctx.policy.check_user = 1;
	f->d.dev[0].enabled = 0;
	assert_int_equal(decide(f, S_BOB, &v), EM_DEVICE_DISABLED);
	assert_int_equal(f->d.n_user, 0);
}

static void
strict_asks_graph_at_every_login(void **state)
{
	struct fixture			*f = *state;
	struct entra_match_verdict	 v;

	sync_cache(f);
	f->ctx.policy.strict = 1;
	assert_int_equal(decide(f, S_ON, &v), EM_ACCEPT);
	assert_true(v.graph_asked);
	f->d.dev[0].enabled = 0;		/* not yet in delta */
	assert_int_equal(decide(f, S_ON, &v), EM_DEVICE_DISABLED);
	assert_int_equal(f->d.n_device, 2);
}

/* ---- fail policy ----------------------------------------------------------- */

/* Caches the devices, then makes Graph fail after age ms. */
static void
graph_down_after(struct fixture *f, int64_t age_ms)
{
	sync_cache(f);
	fd_advance(&f->d, age_ms);
	f->d.fail = ERR_TIMEOUT;
	f->ctx.policy.max_age_ms = 1000;
}

static void
graph_down_with_fail_closed_refuses(void **state)
{
	struct fixture			*f = *state;
	struct entra_match_verdict	 v;

	graph_down_after(f, 5000);
	assert_int_equal(decide(f, S_ON, &v), EM_GRAPH_UNAVAILABLE);
	assert_string_equal(v.reason,
	    "Entra ID unreachable: device status unknown");
	assert_non_null(strstr(v.detail, "fail = closed"));
}

static void
graph_down_with_fail_open_accepts_on_fresh_state(void **state)
{
	struct fixture			*f = *state;
	struct entra_match_verdict	 v;

	f->ctx.policy.fail_open = 1;
	f->ctx.policy.fail_open_max_age_ms = 60000;
	graph_down_after(f, 5000);
	assert_int_equal(decide(f, S_ON, &v), EM_ACCEPT);
	assert_true(v.fail_open_used);
	/* ... but still refuses what it last knew disabled. */
	assert_int_equal(decide(f, S_OFF, &v), EM_DEVICE_DISABLED);
	assert_true(v.fail_open_used);
}

static void
graph_down_with_fail_open_refuses_on_stale_state(void **state)
{
	struct fixture			*f = *state;
	struct entra_match_verdict	 v;

	f->ctx.policy.fail_open = 1;
	f->ctx.policy.fail_open_max_age_ms = 60000;
	graph_down_after(f, 61000);
	assert_int_equal(decide(f, S_ON, &v), EM_GRAPH_UNAVAILABLE);
	assert_false(v.fail_open_used);
}

static void
graph_down_with_fail_open_refuses_what_it_never_saw(void **state)
{
	struct fixture			*f = *state;
	struct entra_match_verdict	 v;

	f->ctx.policy.fail_open = 1;
	f->d.fail = ERR_THROTTLED;
	assert_int_equal(decide(f, S_ON, &v), EM_GRAPH_UNAVAILABLE);
	f->ctx.policy.check_user = 1;
	f->d.fail = ERR_OK;
	sync_cache(f);
	status_cache_free(f->cache);		/* users unknown again */
	f->cache = f->ctx.cache = fd_cache(&f->d, 0, STATUS_SYNC_FULL);
	sync_cache(f);
	f->d.fail = ERR_REMOTE;
	assert_int_equal(decide(f, S_ON, &v), EM_GRAPH_UNAVAILABLE);
	assert_string_equal(v.reason, "Entra ID unreachable: user status unknown");
}

/* ---- names --------------------------------------------------------------- */

static void
issuer_names_compare_across_forms(void **state)
{
	(void)state;
	assert_true(entra_match_name_equal("CN=Test Root CA", "/CN=Test Root CA"));
	assert_true(entra_match_name_equal("CN=y,O=x,C=US", "/C=US/O=x/CN=y"));
	assert_true(entra_match_name_equal(ISSUER, ISSUER_FR));
	assert_true(entra_match_name_equal("cn=test  root ca", "/CN=Test Root CA"));
	assert_true(entra_match_name_equal("CN= Test Root CA ", "/CN=Test Root CA"));
	assert_true(entra_match_name_equal("/CN=Test Root CA", "/CN=Test Root CA"));
	/* '/' is not escaped in the one-line form. */
	assert_true(entra_match_name_equal("CN=a,O=R/D Dept", "/O=R/D Dept/CN=a"));
	/* UTF-8: raw in the store, \xHH in the one-line form. */
	assert_true(entra_match_name_equal("CN=Caf\xc3\xa9 CA",
	    "/CN=Caf\\xC3\\xA9 CA"));
	assert_true(entra_match_name_equal("CN=Caf\\C3\\A9 CA",
	    "/CN=Caf\\xc3\\xa9 CA"));
	/* RFC 2253 escapes and multi-valued RDNs. */
	assert_true(entra_match_name_equal("CN=a\\+b\\;c,OU=x+O=y",
	    "/O=y/OU=x/CN=a+b;c"));
	assert_true(entra_match_name_equal("emailAddress=ca@example.com,CN=CA",
	    "/CN=CA/emailAddress=ca@example.com"));
	assert_true(entra_match_name_equal("1.2.3.4=v,CN=CA", "/CN=CA/1.2.3.4=v"));
}

static void
different_issuer_names_do_not_match(void **state)
{
	(void)state;
	assert_false(entra_match_name_equal("CN=Test Root CA", "/CN=Other CA"));
	assert_false(entra_match_name_equal("CN=y,O=x", "/CN=y/O=x"));	/* order */
	assert_false(entra_match_name_equal("CN=y,O=x,C=US", "/O=x/CN=y"));
	assert_false(entra_match_name_equal("CN=y", "/OU=y"));
	assert_false(entra_match_name_equal("CN=y", NULL));
	assert_false(entra_match_name_equal(NULL, "/CN=y"));
	assert_false(entra_match_name_equal("", "/CN=y"));
	assert_false(entra_match_name_equal("garbage", "/CN=y"));
	assert_false(entra_match_name_equal("/", "/"));
}

/* Every result has the VALUE the example dictionary gives it. */
static void
result_names_match_the_dictionary(void **state)
{
	const char	*top = getenv("TOP");
	char		 path[512], line[256], attr[64], name[64];
	int		 value, seen = 0;
	FILE		*fp;

	(void)state;
	assert_string_equal(entra_match_result_name(EM_ACCEPT), "accept");
	assert_string_equal(entra_match_result_name(EM_GRAPH_UNAVAILABLE),
	    "graph-unavailable");
	assert_string_equal(entra_match_result_name((enum entra_match_result)99),
	    "?");
	snprintf(path, sizeof(path), "%s/raddb-examples/dictionary",
	    top != NULL ? top : ".");
	if ((fp = fopen(path, "r")) == NULL)
		skip();
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (sscanf(line, "VALUE %63s %63s %d", attr, name, &value) != 3 ||
		    strcmp(attr, "Entra-Match-Result") != 0)
			continue;
		assert_in_range(value, EM_RESULT_MIN, EM_RESULT_MAX);
		assert_string_equal(entra_match_result_name(
		    (enum entra_match_result)value), name);
		seen++;
	}
	fclose(fp);
	assert_int_equal(seen, EM_RESULT_MAX - EM_RESULT_MIN + 1);
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(known_cert_with_enabled_device_is_accepted),
		T(serial_in_any_spelling_is_found),
		T(unknown_cert_is_rejected),
		T(known_serial_from_another_issuer_is_unknown),
		T(unknown_cert_passes_without_identity_when_unknown_is_pass),
		T(unknown_cert_naming_a_device_is_checked_in_entra),
		T(revoked_cert_is_refused),
		T(cert_on_hold_is_refused_as_revoked),
		T(expired_cert_is_refused),
		T(cert_without_identity_is_accepted_on_the_store),
		T(without_cache_only_the_store_decides),
		T(unreadable_store_is_an_error),
		T(disabled_device_is_refused),
		T(deleted_device_is_refused),
		T(intune_device_id_resolves_to_entra_device),
		T(device_disabled_by_delta_is_refused_at_next_login),
		T(user_is_checked_only_with_check_user),
		T(disabled_device_is_reported_before_the_user),
		T(strict_asks_graph_at_every_login),
		T(graph_down_with_fail_closed_refuses),
		T(graph_down_with_fail_open_accepts_on_fresh_state),
		T(graph_down_with_fail_open_refuses_on_stale_state),
		T(graph_down_with_fail_open_refuses_what_it_never_saw),
		cmocka_unit_test(issuer_names_compare_across_forms),
		cmocka_unit_test(different_issuer_names_do_not_match),
		cmocka_unit_test(result_names_match_the_dictionary),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
