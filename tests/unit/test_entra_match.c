/*
 * Unit tests for the EAP-TLS decision (rlm_entra_match/entra_match.c): every
 * branch — store (unknown, same certificate, revoked, hold, expired,
 * renewed from a compromised one), identity (store row, SAN text, Intune
 * id), Entra status of device and user, fail policy, strict mode — over a
 * real SQLite store file (opened read-only, as the module does) holding
 * certificates made here, and the status cache on an in-process
 * directory.  What FreeRADIUS would publish for a client certificate is
 * made here with OpenSSL's printers, as cbtls_verify() makes it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <ctype.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/x509v3.h>
#include <sqlite3.h>

#include "entra_match.h"
#include "fake_directory.h"
#include "msft/http.h"
#include "store/store.h"

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
/* Renewals: S_GEN1 renewed into S_GEN2, into S_GEN3. */
#define S_GEN1		"5B00000000000000000000000000A001"
#define S_GEN2		"5B00000000000000000000000000A002"
#define S_GEN3		"5B00000000000000000000000000A003"

#define NOW		1700000000

/* A CA: its key and self-signed certificate. */
struct test_ca {
	EVP_PKEY	*key;
	X509		*cert;
};

/*
 * Made once for all tests: the store's CA, the device key, and the CA's
 * key id as FreeRADIUS publishes it.
 */
static struct test_ca	ca_ours;
static EVP_PKEY		*leaf_key;
static char		 ours_aki[128];

struct fixture {
	char			 dir[64];
	char			 path[96];
	struct fake_dir		 d;
	struct store		*rw, *ro;
	struct status_cache	*cache;
	struct entra_match_ctx	 ctx;
};

/* An EC P-256 key. */
static EVP_PKEY *
ec_key(void)
{
	EVP_PKEY	*k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");

	assert_non_null(k);
	return k;
}

/* Adds an extension by its openssl.cnf text, issuer for the key ids. */
static void
add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX	 v3;
	X509_EXTENSION	*ext;

	X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	assert_non_null(ext);
	assert_true(X509_add_ext(x, ext, -1));
	X509_EXTENSION_free(ext);
}

/*
 * A certificate: serial (hex), subject, key, notAfter; issued by ca (NULL:
 * self-signed CA with ca_key).  With aki, it names its issuer's key.
 */
static X509 *
make_x509(const char *serial, X509_NAME *subject, EVP_PKEY *key,
    const struct test_ca *ca, EVP_PKEY *ca_key, int64_t not_after, int aki)
{
	X509	*x = X509_new();
	BIGNUM	*bn = NULL;
	X509	*issuer;

	assert_non_null(x);
	assert_true(BN_hex2bn(&bn, serial) > 0);
	assert_non_null(BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)));
	BN_free(bn);
	assert_true(X509_set_version(x, 2));
	assert_true(X509_set_subject_name(x, subject));
	issuer = ca != NULL ? ca->cert : x;
	assert_true(X509_set_issuer_name(x, X509_get_subject_name(issuer)));
	assert_non_null(ASN1_TIME_set(X509_getm_notBefore(x), NOW - 86400));
	assert_non_null(ASN1_TIME_set(X509_getm_notAfter(x), (time_t)not_after));
	assert_true(X509_set_pubkey(x, key));
	if (ca == NULL)
		add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE");
	add_ext(x, x, NID_subject_key_identifier, "hash");
	if (aki)
		add_ext(x, issuer, NID_authority_key_identifier, "keyid:always");
	assert_true(X509_sign(x, ca != NULL ? ca->key : ca_key,
	    EVP_sha256()) > 0);
	return x;
}

/* A self-signed CA named n. */
static void
make_ca_named(struct test_ca *ca, X509_NAME *n)
{
	ca->key = ec_key();
	ca->cert = make_x509("01", n, ca->key, NULL, ca->key, NOW + 86400 * 365,
	    1);
}

static void
free_ca(struct test_ca *ca)
{
	X509_free(ca->cert);
	EVP_PKEY_free(ca->key);
}

/* A device certificate "CN=<cn>" issued by ca. */
static X509 *
make_leaf(const char *serial, const char *cn, const struct test_ca *ca,
    int64_t not_after, int aki)
{
	X509_NAME	*n = X509_NAME_new();
	X509		*x;

	assert_non_null(n);
	assert_true(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0));
	x = make_x509(serial, n, leaf_key, ca, NULL, not_after, aki);
	X509_NAME_free(n);
	return x;
}

/* What FreeRADIUS publishes for a client certificate (cbtls_verify()). */
struct published {
	char			issuer[1024], subject[1024];
	char			aki[256], expiration[64];
	struct entra_match_cert	c;
};

/*
 * Fills p as the server would for x: X509_NAME_oneline() into 1024 bytes;
 * the key id as OpenSSL 3 prints a keyid-only AKI ("AB:CD:...", made
 * here from the octets); notAfter as it is.
 */
static void
publish(X509 *x, const char *serial, struct published *p)
{
	const ASN1_OCTET_STRING	*kid = X509_get0_authority_key_id(x);
	const ASN1_TIME		*na = X509_get0_notAfter(x);
	size_t			 o = 0;
	int			 i;

	memset(p, 0, sizeof(*p));
	X509_NAME_oneline(X509_get_issuer_name(x), p->issuer, sizeof(p->issuer));
	X509_NAME_oneline(X509_get_subject_name(x), p->subject,
	    sizeof(p->subject));
	for (i = 0; kid != NULL && i < kid->length; i++)
		o += (size_t)snprintf(p->aki + o, sizeof(p->aki) - o, "%s%02X",
		    i > 0 ? ":" : "", kid->data[i]);
	snprintf(p->expiration, sizeof(p->expiration), "%.*s", na->length,
	    (const char *)na->data);
	p->c.serial = serial;
	p->c.issuer = p->issuer;
	p->c.subject = p->subject;
	p->c.aki = kid != NULL ? p->aki : NULL;
	p->c.expiration = p->expiration;
}

/* Records x in st as scep-ca does at issuance. */
static void
store_x509(struct store *st, X509 *x, const char *serial, const char *entra,
    const char *intune, const char *upn, int64_t not_after,
    const char *renewed_from)
{
	struct cert_row		 r;
	struct store_issue	 in;
	struct err		 e;
	unsigned char		*der = NULL, md[32];
	char			 txid[64];
	unsigned		 mdlen;
	int			 n, i;

	memset(&r, 0, sizeof(r));
	memset(&in, 0, sizeof(in));
	assert_true((n = i2d_X509(x, &der)) > 0);
	assert_true(EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha256(), NULL));
	for (i = 0; i < 32; i++)
		snprintf(r.sha256 + 2 * i, 3, "%02x", md[i]);
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
	r.der.data = der;
	r.der.len = (size_t)n;
	r.profile = "default";
	r.key_hash = "kh";
	r.renewed_from = (char *)renewed_from;
	snprintf(txid, sizeof(txid), "tx-%s", serial);
	in.cert = &r;
	in.txid = txid;
	in.csr = (const unsigned char *)"CSR";
	in.csr_len = 3;
	in.renewal_of = renewed_from;
	in.actor = "test";
	in.now = NOW - 86400;
	assert_int_equal(store_issue(st, &in, &e), 0);
	OPENSSL_free(der);
}

/* Adds one certificate of our CA, as scep-ca records it at issuance. */
static void
add_cert(struct store *st, const char *serial, const char *entra,
    const char *intune, const char *upn, int64_t not_after)
{
	X509	*x = make_leaf(serial, "device", &ca_ours, not_after, 1);

	store_x509(st, x, serial, entra, intune, upn, not_after, NULL);
	X509_free(x);
}

/* Runs one SQL statement on the store file (as another writer would). */
static void
sql(struct fixture *f, const char *stmt)
{
	sqlite3	*db;

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, stmt, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

/* A certificate of DEV_ON renewed from parent (NULL: the first one). */
static void
add_renewal(struct store *st, const char *serial, const char *parent,
    int64_t not_after)
{
	X509	*x = make_leaf(serial, "device", &ca_ours, not_after, 1);

	store_x509(st, x, serial, DEV_ON, NULL, NULL, not_after, parent);
	X509_free(x);
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
	add_renewal(f->rw, S_GEN1, NULL, later);
	add_renewal(f->rw, S_GEN2, S_GEN1, later);
	add_renewal(f->rw, S_GEN3, S_GEN2, later);
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

static enum entra_match_result
decide_cert(struct fixture *f, const struct entra_match_cert *c,
    struct entra_match_verdict *v)
{
	return entra_match_decide(&f->ctx, c, NOW, http_now_ms() + 2000, v);
}

/*
 * Decides for serial as FreeRADIUS gives it (lower case, one-line issuer,
 * our CA's key id; no subject or notAfter).
 */
static enum entra_match_result
decide_san(struct fixture *f, const char *serial, const char *issuer,
    const char *san, struct entra_match_verdict *v)
{
	struct entra_match_cert	c;

	memset(&c, 0, sizeof(c));
	c.serial = serial;
	c.issuer = issuer;
	c.san = san;
	c.aki = ours_aki;
	return decide_cert(f, &c, v);
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
	    "c6:d7:e8:f9", ISSUER_FR, NULL, &v), EM_ACCEPT);
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
	assert_non_null(strstr(v.detail, "but issuer \"/C=US/O=Example, Inc./"
	    "CN=Other CA\" is not the stored certificate's \"" ISSUER_FR "\""));
	assert_false(v.known);
	/* The store's RFC 2253 text is not what FreeRADIUS publishes. */
	assert_int_equal(decide_san(f, S_ON, ISSUER, NULL, &v), EM_UNKNOWN_CERT);
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

/* ---- the same certificate ------------------------------------------------- */

static void
published_attributes_of_the_stored_cert_are_accepted(void **state)
{
	struct fixture			*f = *state;
	struct entra_match_verdict	 v;
	struct published		 p;
	X509				*x;

	/* The very certificate (a second one with the stored serial). */
	x = make_leaf(S_ON, "device", &ca_ours, NOW + 86400 * 30, 1);
	publish(x, S_ON, &p);
	assert_string_equal(p.issuer, ISSUER_FR);
	assert_string_equal(p.aki, ours_aki);
	X509_free(x);
	/* Its notAfter differs from the stored one's by the time it was made. */
	p.c.expiration = NULL;
	assert_int_equal(decide_cert(f, &p.c, &v), EM_ACCEPT);
	assert_true(v.known);
	/* ... the same with the texts cached, twice. */
	f->ctx.texts = entra_match_text_cache_new(4, NULL);
	assert_non_null(f->ctx.texts);
	assert_int_equal(decide_cert(f, &p.c, &v), EM_ACCEPT);
	assert_int_equal(decide_cert(f, &p.c, &v), EM_ACCEPT);
	p.c.subject = "/CN=another device";
	assert_int_equal(decide_cert(f, &p.c, &v), EM_UNKNOWN_CERT);
	assert_non_null(strstr(v.detail, "but subject \"/CN=another device\""));
	entra_match_text_cache_free(f->ctx.texts);
	f->ctx.texts = NULL;
}

static void
known_serial_without_our_authority_key_id_is_unknown(void **state)
{
	struct fixture			*f = *state;
	struct entra_match_verdict	 v;
	struct entra_match_cert		 c;

	memset(&c, 0, sizeof(c));
	c.serial = S_ON;
	c.issuer = ISSUER_FR;
	assert_int_equal(decide_cert(f, &c, &v), EM_UNKNOWN_CERT);
	assert_non_null(strstr(v.detail, "authority key id \"(none)\""));
	c.aki = "00:11:22:33";
	assert_int_equal(decide_cert(f, &c, &v), EM_UNKNOWN_CERT);
	c.aki = ours_aki;
	assert_int_equal(decide_cert(f, &c, &v), EM_ACCEPT);
	c.expiration = "991231235959Z";
	assert_int_equal(decide_cert(f, &c, &v), EM_UNKNOWN_CERT);
	assert_non_null(strstr(v.detail, "notAfter"));
	assert_int_equal(f->d.n_device, 1);
}

/*
 * The regression: another CA the server trusts, whose name differs from
 * ours but whose one-line text is ours, and a certificate of it carrying
 * the serial of one of ours.  Its name is ours with one more RDN, which
 * FreeRADIUS's 1024-byte buffer drops whole.  The text cannot tell it
 * from our CA; the key id does.
 */
static void
issuer_text_shared_by_another_ca_is_not_ours(void **state)
{
	struct fixture			*f = *state;
	struct entra_match_verdict	 v;
	struct published		 p;
	struct test_ca			 other;
	char				 longer[1100];
	X509_NAME			*n;
	X509				*x;

	memset(longer, 'a', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	n = X509_NAME_dup(X509_get_subject_name(ca_ours.cert));
	assert_true(X509_NAME_add_entry_by_txt(n, "description", MBSTRING_UTF8,
	    (const unsigned char *)longer, -1, -1, 0));
	make_ca_named(&other, n);
	X509_NAME_free(n);
	x = make_leaf(S_ON, "device", &other, NOW + 86400 * 30, 1);
	publish(x, "4a1b2c3d4e5f60718293a4b5c6d7e8f9", &p);
	X509_free(x);
	free_ca(&other);
	assert_string_equal(p.issuer, ISSUER_FR);
	assert_string_not_equal(p.aki, ours_aki);
	assert_int_equal(decide_cert(f, &p.c, &v), EM_UNKNOWN_CERT);
	assert_false(v.known);
	assert_non_null(strstr(v.detail, "authority key id"));
	assert_int_equal(f->d.n_device, 0);	/* never its device */
	/* ... and with unknown = pass, still not as our certificate. */
	f->ctx.policy.unknown_pass = 1;
	assert_int_equal(decide_cert(f, &p.c, &v), EM_PASS);
	assert_false(v.known);
}

static void
stored_cert_without_authority_key_id_is_not_bound_to_this_ca(void **state)
{
	struct fixture			*f = *state;
	struct entra_match_verdict	 v;
	X509				*x;

	x = make_leaf(S_UNKNOWN, "device", &ca_ours, NOW + 86400, 0);
	store_x509(f->rw, x, S_UNKNOWN, DEV_ON, NULL, NULL, NOW + 86400, NULL);
	X509_free(x);
	assert_int_equal(decide(f, S_UNKNOWN, &v), EM_UNKNOWN_CERT);
	assert_non_null(strstr(v.detail, "no authorityKeyIdentifier"));
}

static void
unreadable_attributes_are_refused(void **state)
{
	struct fixture			*f = *state;
	struct entra_match_verdict	 v;
	struct entra_match_cert		 c;

	memset(&c, 0, sizeof(c));
	c.serial = S_ON;
	c.issuer = ISSUER_FR;
	c.aki = ours_aki;
	c.unreadable = 1;
	f->ctx.policy.unknown_pass = 1;
	assert_int_equal(decide_cert(f, &c, &v), EM_UNKNOWN_CERT);
	assert_string_equal(v.reason, "Certificate attributes unreadable");
	assert_false(v.known);
}

static void
stored_texts_are_what_freeradius_publishes(void **state)
{
	static const struct {
		const char	*cn, *published;
	} cases[] = {
		{ "plain", "/CN=plain" },
		/* OpenSSL escapes; FreeRADIUS keeps "\x", "\/", "\+". */
		{ "Caf\xc3\xa9 a/b+c", "/CN=Caf\\xC3\\xA9 a\\/b\\+c" },
		/* Raw backslashes go through FreeRADIUS's unquoting. */
		{ "CORP\\nancy", "/CN=CORP\nancy" },
		{ "a\\\\b", "/CN=a\\b" },
		{ "q\\\"", "/CN=q\"" },
		{ "oct\\101", "/CN=octA" },
		{ "no\\8ab", "/CN=no\\8ab" },
		{ "x\\qy", "/CN=x\\qy" },
	};
	struct entra_match_text_cache	*c = entra_match_text_cache_new(2, NULL);
	struct entra_match_cert_text	 t, again;
	struct cert_row			 row;
	struct err			 e;
	unsigned char			*der = NULL;
	X509				*x;
	size_t				 i;
	int				 n;

	(void)state;
	assert_non_null(c);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		x = make_leaf("0A", cases[i].cn, &ca_ours, NOW, 1);
		memset(&row, 0, sizeof(row));
		assert_true((n = i2d_X509(x, &der)) > 0);
		row.der.data = der;
		row.der.len = (size_t)n;
		snprintf(row.sha256, sizeof(row.sha256), "%064zu", i);
		assert_int_equal(entra_match_cert_text(c, &row, &t, &e), 0);
		assert_string_equal(t.subject, cases[i].published);
		assert_string_equal(t.issuer, ISSUER_FR);
		assert_string_equal(t.aki, ours_aki);
		assert_int_equal(strlen(t.expiration), 13);	/* UTCTime */
		/* From the cache: the same. */
		assert_int_equal(entra_match_cert_text(c, &row, &again, &e), 0);
		assert_memory_equal(&t.subject, &again.subject,
		    strlen(t.subject) + 1);
		OPENSSL_free(der);
		der = NULL;
		X509_free(x);
	}
	/* A name ending in a backslash gets no attribute at all. */
	x = make_leaf("0B", "end\\", &ca_ours, NOW, 1);
	assert_true((n = i2d_X509(x, &der)) > 0);
	row.der.data = der;
	row.der.len = (size_t)n;
	assert_int_equal(entra_match_cert_text(NULL, &row, &t, &e), -1);
	assert_int_equal(e.code, ERR_STORE);
	OPENSSL_free(der);
	X509_free(x);
	/* Not a certificate. */
	row.der.data = (unsigned char *)"DER";
	row.der.len = 3;
	assert_int_equal(entra_match_cert_text(NULL, &row, &t, &e), -1);
	entra_match_text_cache_free(c);
}

static void
control_characters_in_client_strings_are_escaped_in_the_log(void **state)
{
	struct fixture			*f = *state;
	struct entra_match_verdict	 v;

	assert_int_equal(decide_san(f, S_ON, "/CN=x\nInfo: Accepted (accept)"
	    "\r", NULL, &v), EM_UNKNOWN_CERT);
	assert_null(strpbrk(v.detail, "\r\n"));
	assert_non_null(strstr(v.detail, "/CN=x\\nInfo: Accepted (accept)\\r"));
	f->ctx.policy.unknown_pass = 1;
	assert_int_equal(decide_san(f, S_UNKNOWN, "/CN=Other CA", "DNS:a\n"
	    "b, URI:IntuneDeviceId://" DEV_ON ", URI:IntuneDeviceId://" DEV_OFF,
	    &v), EM_UNKNOWN_CERT);
	assert_null(strpbrk(v.detail, "\r\n"));
}

/* ---- renewals ------------------------------------------------------------ */

static void
renewal_of_a_compromised_certificate_is_refused(void **state)
{
	struct fixture			*f = *state;
	struct entra_match_verdict	 v;

	assert_int_equal(decide(f, S_GEN3, &v), EM_ACCEPT);
	/* As another writer would leave it: the children still valid. */
	sql(f, "UPDATE certificates SET status = 'revoked', reason = 1,"
	    " revoked_at = 1 WHERE serial = '" S_GEN1 "'");
	assert_int_equal(decide(f, S_GEN2, &v), EM_REVOKED);
	assert_string_equal(v.reason, "Certificate renewed from a certificate "
	    "revoked for keyCompromise");
	assert_non_null(strstr(v.detail, "renewed from " S_GEN1 " (1 renewal "
	    "back), revoked for keyCompromise"));
	assert_int_equal(decide(f, S_GEN3, &v), EM_REVOKED);
	assert_non_null(strstr(v.detail, "(2 renewals back)"));
	assert_int_equal(f->d.n_device, 1);	/* only the first login asked */
	/* Revoked for another reason (superseded by its renewal): fine. */
	sql(f, "UPDATE certificates SET reason = 4 WHERE serial = '" S_GEN1 "'");
	assert_int_equal(decide(f, S_GEN3, &v), EM_ACCEPT);
	/* An ancestor no longer in the store ends the walk. */
	sql(f, "UPDATE certificates SET status = 'revoked', reason = 1 WHERE"
	    " serial = '" S_GEN2 "'");
	sql(f, "DELETE FROM certificates WHERE serial = '" S_GEN2 "'");
	assert_int_equal(decide(f, S_GEN3, &v), EM_ACCEPT);
}

/* Copies S_GEN1's row as serial, renewed from parent (NULL: none). */
static void
copy_gen1(struct fixture *f, const char *serial, const char *parent)
{
	char	stmt[640];

	snprintf(stmt, sizeof(stmt), "INSERT INTO certificates (serial, issuer,"
	    " subject, san, entra_device_id, not_before, not_after, issued_at,"
	    " status, sha1, sha256, der, profile, key_hash, renewed_from)"
	    " SELECT '%s', issuer, subject, san, entra_device_id, not_before,"
	    " not_after, issued_at, status, sha1, sha256 || '%s', der, profile,"
	    " key_hash, %s%s%s FROM certificates WHERE serial = '" S_GEN1 "'",
	    serial, serial, parent != NULL ? "'" : "",
	    parent != NULL ? parent : "NULL", parent != NULL ? "'" : "");
	sql(f, stmt);
}

static void
renewal_chain_that_loops_or_never_ends_is_refused(void **state)
{
	struct fixture			*f = *state;
	struct entra_match_verdict	 v;
	char				 serial[8], parent[8];
	int				 i;

	sql(f, "UPDATE certificates SET renewed_from = '" S_GEN3 "' WHERE"
	    " serial = '" S_GEN1 "'");
	assert_int_equal(decide(f, S_GEN2, &v), EM_ERROR);
	assert_non_null(strstr(v.detail, "renewal chain loops"));
	/*
	 * EM_RENEWAL_DEPTH ancestors are checked: S_GEN3 <- S_GEN2 <- S_GEN1
	 * <- CC00 <- ... <- CC0D, one more is too many.
	 */
	sql(f, "UPDATE certificates SET renewed_from = 'CC00' WHERE serial = '"
	    S_GEN1 "'");
	for (i = 0; i < EM_RENEWAL_DEPTH - 2; i++) {
		snprintf(serial, sizeof(serial), "CC%02X", i);
		snprintf(parent, sizeof(parent), "CC%02X", i + 1);
		copy_gen1(f, serial, i + 1 < EM_RENEWAL_DEPTH - 2 ? parent : NULL);
	}
	assert_int_equal(decide(f, S_GEN3, &v), EM_ACCEPT);
	sql(f, "UPDATE certificates SET renewed_from = 'CC99' WHERE"
	    " serial = 'CC0D'");
	assert_int_equal(decide(f, S_GEN3, &v), EM_ERROR);
	assert_string_equal(v.reason, "Certificate store inconsistent");
	assert_non_null(strstr(v.detail, "renewal chain longer than 16"));
}

/* ---- SAN text of other CAs -------------------------------------------------- */

static void
san_text_naming_a_device_twice_is_refused(void **state)
{
	struct fixture			*f = *state;
	struct entra_match_verdict	 v;

	f->ctx.policy.unknown_pass = 1;
	/* A DNS name "x, URI:IntuneDeviceId://<enabled>" hiding a disabled one. */
	assert_int_equal(decide_san(f, S_UNKNOWN, "/CN=Other CA",
	    "DNS:x, URI:IntuneDeviceId://" DEV_ON ", URI:IntuneDeviceId://"
	    MAN_OFF, &v), EM_UNKNOWN_CERT);
	assert_string_equal(v.reason, "Certificate identity ambiguous");
	assert_int_equal(f->d.n_device, 0);
	f->ctx.policy.check_user = 1;
	assert_int_equal(decide_san(f, S_UNKNOWN, "/CN=Other CA",
	    "email:a@x, othername: UPN::alice@example.com, othername: UPN::"
	    "bob@example.com", &v), EM_UNKNOWN_CERT);
	assert_int_equal(f->d.n_user, 0);
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

/* Our CA ("/C=US/O=Example, Inc./CN=Test Root CA") and the device key. */
static int
group_setup(void **state)
{
	const ASN1_OCTET_STRING		*ski;
	X509_NAME			*n = X509_NAME_new();
	size_t				 o = 0;
	int				 i;

	(void)state;
	assert_true(X509_NAME_add_entry_by_txt(n, "C", MBSTRING_UTF8,
	    (const unsigned char *)"US", -1, -1, 0) &&
	    X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8,
	    (const unsigned char *)"Example, Inc.", -1, -1, 0) &&
	    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
	    (const unsigned char *)"Test Root CA", -1, -1, 0));
	make_ca_named(&ca_ours, n);
	X509_NAME_free(n);
	leaf_key = ec_key();
	ski = X509_get0_subject_key_id(ca_ours.cert);
	for (i = 0; i < ski->length; i++)
		o += (size_t)snprintf(ours_aki + o, sizeof(ours_aki) - o,
		    "%s%02X", i > 0 ? ":" : "", ski->data[i]);
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	free_ca(&ca_ours);
	EVP_PKEY_free(leaf_key);
	return 0;
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
		T(published_attributes_of_the_stored_cert_are_accepted),
		T(known_serial_without_our_authority_key_id_is_unknown),
		T(issuer_text_shared_by_another_ca_is_not_ours),
		T(stored_cert_without_authority_key_id_is_not_bound_to_this_ca),
		T(unreadable_attributes_are_refused),
		T(control_characters_in_client_strings_are_escaped_in_the_log),
		T(renewal_of_a_compromised_certificate_is_refused),
		T(renewal_chain_that_loops_or_never_ends_is_refused),
		T(san_text_naming_a_device_twice_is_refused),
		cmocka_unit_test(stored_texts_are_what_freeradius_publishes),
		cmocka_unit_test(result_names_match_the_dictionary),
	};
#undef T
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
