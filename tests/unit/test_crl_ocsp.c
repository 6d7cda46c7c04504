/*
 * Unit tests for revocation publishing: CRL building (scep-ca/revocation/crl.c) and
 * OCSP answering (scep-ca/revocation/ocsp.c), on a real CA directory and store.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#include "base/log.h"
#include "ca/ca.h"
#include "config.h"
#include "enroll/enroll.h"
#include "revocation/crl.h"
#include "revocation/ocsp.h"
#include "store/store.h"
#include "test_util.h"

/* Serials in the store: good, revoked (keyCompromise), revoked
 * (unspecified), on hold, and revoked but long expired. */
#define S_GOOD		"0A01"
#define S_REVOKED	"0A02"
#define S_UNSPEC	"0A03"
#define S_HELD		"0A04"
#define S_OLD		"0A05"
#define VALIDITY	3600

struct fixture {
	char			 dir[64];
	char			 path[96];
	struct scep_conf	 conf;
	struct scep_ctx		 ctx;
	struct ocsp_responder	*ocsp;
};

static void
add_cert(struct store *st, const char *serial, int64_t not_after)
{
	struct tu_cert	c = { .serial = serial, .not_after = not_after };
	struct err	e = {0};

	assert_int_equal(tu_cert_issue(st, &c, &e), 0);
}

static void
set_status(struct store *st, const char *serial, enum cert_status to,
    int reason)
{
	struct err	e = {0};

	assert_int_equal(store_cert_set_status(st, serial, to, reason, "test",
	    0, NULL, &e), 0);
}

/* The configuration the services read (the rest stays zero). */
static void
conf_init(struct fixture *f, int cache_entries)
{
	f->conf.dir = f->dir;
	f->conf.name = "ca";
	f->conf.crl_dir = "crl";
	f->conf.crl_next_update = VALIDITY;
	f->conf.crl_min_interval = 0;
	f->conf.ocsp_next_update = 600;
	f->conf.ocsp_signer = "delegated";
	f->conf.ocsp_signer_key = "ec:p256";
	f->conf.ocsp_signer_days = 30;
	f->conf.ocsp_cache_entries = cache_entries;
	f->conf.ocsp_cache_seconds = 60;
}

static int
setup(void **state)
{
	struct fixture		*f = calloc(1, sizeof(*f));
	struct ca_create_opts	 o = { .key_spec = "ec:p256" };
	struct err		 e = {0};
	int64_t			 now = (int64_t)time(NULL);

	snprintf(f->dir, sizeof(f->dir), "/tmp/test_crl_ocsp.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(ca_create(f->dir, &o, &e), 0);
	assert_non_null(f->ctx.ca = ca_load(f->dir, NULL, &e));
	snprintf(f->path, sizeof(f->path), "%s/store.db", f->dir);
	assert_non_null(f->ctx.store = store_open(f->path, STORE_CREATE, &e));
	conf_init(f, 16384);
	f->ctx.conf = &f->conf;
	add_cert(f->ctx.store, S_GOOD, now + 86400);
	add_cert(f->ctx.store, S_REVOKED, now + 86400);
	add_cert(f->ctx.store, S_UNSPEC, now + 86400);
	add_cert(f->ctx.store, S_HELD, now + 86400);
	add_cert(f->ctx.store, S_OLD, now - 2 * VALIDITY);
	set_status(f->ctx.store, S_REVOKED, CERT_REVOKED, REASON_KEY_COMPROMISE);
	set_status(f->ctx.store, S_UNSPEC, CERT_REVOKED, REASON_UNSPECIFIED);
	set_status(f->ctx.store, S_HELD, CERT_HOLD, REASON_CERTIFICATE_HOLD);
	set_status(f->ctx.store, S_OLD, CERT_REVOKED, REASON_SUPERSEDED);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;
	char		 cmd[128];

	ocsp_responder_stop(f->ocsp);
	store_close(f->ctx.store);
	ca_free(f->ctx.ca);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* ---- CRL ------------------------------------------------------------------ */

static X509_CRL *
sign_crl(struct fixture *f, int64_t *number)
{
	struct crl_blob	*b;
	struct err	 e = {0};
	X509_CRL	*crl;

	assert_non_null(b = crl_sign(f->ctx.ca, f->ctx.store, VALIDITY, &e));
	assert_non_null(crl = crl_blob_x509(b, &e));
	if (number != NULL)
		*number = b->number;
	crl_blob_release(b);
	return crl;
}

/* The entry for serial, or NULL. */
static X509_REVOKED *
entry(X509_CRL *crl, const char *hex)
{
	ASN1_INTEGER	*ai;
	BIGNUM		*bn = NULL;
	X509_REVOKED	*r = NULL;

	assert_true(BN_hex2bn(&bn, hex) > 0);
	ai = BN_to_ASN1_INTEGER(bn, NULL);
	if (X509_CRL_get0_by_serial(crl, &r, ai) == 0)
		r = NULL;
	ASN1_INTEGER_free(ai);
	BN_free(bn);
	return r;
}

/* The reasonCode of an entry, -1 when absent. */
static int
reason_of(X509_REVOKED *r)
{
	ASN1_ENUMERATED	*re;
	int		 crit, v;

	re = X509_REVOKED_get_ext_d2i(r, NID_crl_reason, &crit, NULL);
	if (re == NULL)
		return -1;
	v = (int)ASN1_ENUMERATED_get(re);
	ASN1_ENUMERATED_free(re);
	return v;
}

static void
crl_is_a_signed_version_2_crl_of_the_ca(void **state)
{
	struct fixture	*f = *state;
	X509_CRL	*crl = sign_crl(f, NULL);
	X509		*ca = ca_cert(f->ctx.ca);
	AUTHORITY_KEYID	*akid;
	int		 days, secs;

	assert_int_equal(X509_CRL_get_version(crl), X509_CRL_VERSION_2);
	assert_int_equal(X509_NAME_cmp(X509_CRL_get_issuer(crl),
	    X509_get_subject_name(ca)), 0);
	assert_int_equal(X509_CRL_verify(crl, X509_get0_pubkey(ca)), 1);
	assert_true(ASN1_TIME_diff(&days, &secs, X509_CRL_get0_lastUpdate(crl),
	    X509_CRL_get0_nextUpdate(crl)));
	assert_int_equal(days * 86400 + secs, VALIDITY);
	akid = X509_CRL_get_ext_d2i(crl, NID_authority_key_identifier, NULL,
	    NULL);
	assert_non_null(akid);
	assert_int_equal(ASN1_OCTET_STRING_cmp(akid->keyid,
	    X509_get0_subject_key_id(ca)), 0);
	AUTHORITY_KEYID_free(akid);
	X509_CRL_free(crl);
}

static void
crl_lists_revocations_and_holds_with_their_reasons(void **state)
{
	struct fixture	*f = *state;
	X509_CRL	*crl = sign_crl(f, NULL);
	X509_REVOKED	*r;

	assert_int_equal(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)), 3);
	assert_null(entry(crl, S_GOOD));
	assert_non_null(r = entry(crl, S_REVOKED));
	assert_int_equal(reason_of(r), REASON_KEY_COMPROMISE);
	/* RFC 5280 §5.3.1: unspecified is left out. */
	assert_non_null(r = entry(crl, S_UNSPEC));
	assert_int_equal(reason_of(r), -1);
	assert_non_null(r = entry(crl, S_HELD));
	assert_int_equal(reason_of(r), REASON_CERTIFICATE_HOLD);
	/* Expired for longer than the CRL validity: off the CRL. */
	assert_null(entry(crl, S_OLD));
	X509_CRL_free(crl);
}

static void
crl_number_only_grows(void **state)
{
	struct fixture	*f = *state;
	X509_CRL	*a, *b;
	ASN1_INTEGER	*na, *nb;
	int64_t		 n1, n2;

	a = sign_crl(f, &n1);
	b = sign_crl(f, &n2);
	assert_true(n2 > n1);
	na = X509_CRL_get_ext_d2i(a, NID_crl_number, NULL, NULL);
	nb = X509_CRL_get_ext_d2i(b, NID_crl_number, NULL, NULL);
	assert_non_null(na);
	assert_non_null(nb);
	assert_true(ASN1_INTEGER_cmp(na, nb) < 0);
	assert_int_equal(ASN1_INTEGER_get(nb), n2);
	ASN1_INTEGER_free(na);
	ASN1_INTEGER_free(nb);
	X509_CRL_free(a);
	X509_CRL_free(b);
}

static void
released_hold_leaves_the_crl(void **state)
{
	struct fixture	*f = *state;
	X509_CRL	*crl;

	set_status(f->ctx.store, S_HELD, CERT_VALID, -1);
	crl = sign_crl(f, NULL);
	assert_null(entry(crl, S_HELD));
	assert_non_null(entry(crl, S_REVOKED));
	X509_CRL_free(crl);
}

static void
status_changes_bump_the_revocation_generation(void **state)
{
	struct fixture	*f = *state;
	struct err	 e = {0};
	int64_t		 g1, g2, g3;
	int		 changed;

	assert_int_equal(store_revocation_generation(f->ctx.store, &g1, &e), 0);
	set_status(f->ctx.store, S_GOOD, CERT_HOLD, REASON_CERTIFICATE_HOLD);
	assert_int_equal(store_revocation_generation(f->ctx.store, &g2, &e), 0);
	assert_true(g2 > g1);
	/* No change, no bump. */
	assert_int_equal(store_cert_set_status(f->ctx.store, S_GOOD, CERT_HOLD,
	    REASON_CERTIFICATE_HOLD, "test", 0, &changed, &e), 0);
	assert_int_equal(changed, 0);
	assert_int_equal(store_revocation_generation(f->ctx.store, &g3, &e), 0);
	assert_int_equal(g3, g2);
}

static void
crl_publish_writes_the_file(void **state)
{
	struct fixture	*f = *state;
	struct crl_blob	*b;
	struct buf	 file = {0};
	struct err	 e = {0};
	char		 path[128];

	assert_non_null(b = crl_publish(f->ctx.ca, f->ctx.store, &f->conf, &e));
	snprintf(path, sizeof(path), "%s/crl/ca.crl", f->dir);
	assert_int_equal(buf_read_file(&file, path, 1 << 20), 0);
	assert_int_equal(file.len, b->len);
	assert_memory_equal(file.data, b->der, b->len);
	buf_free(&file);
	crl_blob_release(b);
}

static void
crl_service_resigns_after_a_change(void **state)
{
	struct fixture		*f = *state;
	struct crl_service	*svc;
	struct crl_blob		*b;
	struct err		 e = {0};
	int64_t			 first;
	int			 i, listed = 0;
	X509_CRL		*crl;

	assert_non_null(svc = crl_service_start(&f->ctx, &e));
	b = crl_service_current(svc);
	first = b->number;
	crl_blob_release(b);
	set_status(f->ctx.store, S_GOOD, CERT_REVOKED, REASON_SUPERSEDED);
	crl_service_changed(svc);
	/* Poll (no timing assertion): the new CRL lists the revocation. */
	for (i = 0; i < 100 && !listed; i++) {
		b = crl_service_current(svc);
		if (b->number > first) {
			assert_non_null(crl = crl_blob_x509(b, &e));
			listed = entry(crl, S_GOOD) != NULL;
			X509_CRL_free(crl);
		}
		crl_blob_release(b);
		if (!listed)
			usleep(50 * 1000);
	}
	assert_true(listed);
	crl_service_stop(svc);
}

/* ---- OCSP ------------------------------------------------------------------ */

static void
start_ocsp(struct fixture *f)
{
	struct err	e = {0};

	assert_non_null(f->ocsp = ocsp_responder_start(&f->ctx, &e));
}

/* A request for serial hex with digest md, optionally with a nonce. */
static OCSP_REQUEST *
make_req(struct fixture *f, const char *hex, const EVP_MD *md, int nonce_len)
{
	X509		*ca = ca_cert(f->ctx.ca);
	OCSP_REQUEST	*req = OCSP_REQUEST_new();
	OCSP_CERTID	*id;
	ASN1_INTEGER	*ai;
	BIGNUM		*bn = NULL;

	assert_true(BN_hex2bn(&bn, hex) > 0);
	ai = BN_to_ASN1_INTEGER(bn, NULL);
	id = OCSP_cert_id_new(md, X509_get_subject_name(ca),
	    X509_get0_pubkey_bitstr(ca), ai);
	assert_non_null(OCSP_request_add0_id(req, id));
	if (nonce_len > 0)
		assert_int_equal(OCSP_request_add1_nonce(req, NULL, nonce_len), 1);
	ASN1_INTEGER_free(ai);
	BN_free(bn);
	return req;
}

/* Answers req; returns the response (caller frees) and its info. */
static OCSP_RESPONSE *
ask(struct fixture *f, OCSP_REQUEST *req, struct ocsp_info *info,
    struct buf *raw)
{
	unsigned char		*der = NULL;
	const unsigned char	*p;
	struct buf		 out = {0};
	OCSP_RESPONSE		*resp;
	int			 n;

	n = i2d_OCSP_REQUEST(req, &der);
	assert_int_equal(ocsp_answer(f->ocsp, der, (size_t)n, time(NULL), &out,
	    info), 0);
	p = out.data;
	assert_non_null(resp = d2i_OCSP_RESPONSE(NULL, &p, (long)out.len));
	if (raw != NULL)
		assert_int_equal(buf_set(raw, out.data, out.len), 0);
	OPENSSL_free(der);
	buf_free(&out);
	return resp;
}

/*
 * Asks about one serial; checks the response verifies against the CA and
 * returns the certificate status (and reason, revocation time).
 */
static int
status_of(struct fixture *f, const char *hex, const EVP_MD *md, int *reason,
    time_t *revoked)
{
	OCSP_REQUEST		*req = make_req(f, hex, md, 0);
	OCSP_RESPONSE		*resp;
	OCSP_BASICRESP		*bs;
	OCSP_CERTID		*id;
	X509_STORE		*xs = X509_STORE_new();
	STACK_OF(X509)		*others = sk_X509_new_null();
	ASN1_GENERALIZEDTIME	*rev = NULL, *thisupd, *nextupd;
	struct ocsp_info	 info;
	struct tm		 tm;
	int			 status = -1;

	resp = ask(f, req, &info, NULL);
	assert_int_equal(OCSP_response_status(resp), 0);
	assert_non_null(bs = OCSP_response_get1_basic(resp));
	/* A CA-signed response carries no certificate: the CA is given. */
	X509_STORE_add_cert(xs, ca_cert(f->ctx.ca));
	sk_X509_push(others, ca_cert(f->ctx.ca));
	assert_int_equal(OCSP_basic_verify(bs, others, xs, 0), 1);
	id = OCSP_onereq_get0_id(OCSP_request_onereq_get0(req, 0));
	assert_int_equal(OCSP_resp_find_status(bs, id, &status, reason, &rev,
	    &thisupd, &nextupd), 1);
	if (rev != NULL && revoked != NULL) {
		ASN1_TIME_to_tm(rev, &tm);
		*revoked = timegm(&tm);
	}
	assert_int_equal(OCSP_check_validity(thisupd, nextupd, 5, -1), 1);
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(resp);
	OCSP_REQUEST_free(req);
	X509_STORE_free(xs);
	sk_X509_free(others);	/* the CA stays owned by the CA */
	return status;
}

static void
ocsp_answers_good_revoked_and_unknown(void **state)
{
	struct fixture	*f = *state;
	struct cert_row	 row = {0};
	struct err	 e = {0};
	time_t		 when = 0;
	int		 reason;

	start_ocsp(f);
	assert_int_equal(status_of(f, S_GOOD, EVP_sha1(), &reason, NULL),
	    V_OCSP_CERTSTATUS_GOOD);
	assert_int_equal(status_of(f, S_REVOKED, EVP_sha1(), &reason, &when),
	    V_OCSP_CERTSTATUS_REVOKED);
	assert_int_equal(reason, OCSP_REVOKED_STATUS_KEYCOMPROMISE);
	assert_int_equal(store_cert_get(f->ctx.store, S_REVOKED, &row, &e), 0);
	assert_int_equal((int64_t)when, row.revoked_at);
	cert_row_clear(&row);
	assert_int_equal(status_of(f, S_HELD, EVP_sha1(), &reason, NULL),
	    V_OCSP_CERTSTATUS_REVOKED);
	assert_int_equal(reason, OCSP_REVOKED_STATUS_CERTIFICATEHOLD);
	assert_int_equal(status_of(f, "1234", EVP_sha1(), &reason, NULL),
	    V_OCSP_CERTSTATUS_UNKNOWN);
	assert_int_equal(status_of(f, S_GOOD, EVP_sha256(), &reason, NULL),
	    V_OCSP_CERTSTATUS_GOOD);
}

static void
ocsp_other_issuer_is_unknown(void **state)
{
	struct fixture		*f = *state;
	OCSP_REQUEST		*req = OCSP_REQUEST_new();
	OCSP_RESPONSE		*resp;
	OCSP_BASICRESP		*bs;
	OCSP_CERTID		*id;
	ASN1_OCTET_STRING	*fake;
	ASN1_INTEGER		*ai = ASN1_INTEGER_new();
	unsigned char		 zeros[20] = {0};
	struct ocsp_info	 info;
	int			 status = -1;

	start_ocsp(f);
	/* Our name hash, another key hash, a serial we know. */
	ASN1_INTEGER_set(ai, 0x0A01);
	id = OCSP_cert_id_new(EVP_sha1(), X509_get_subject_name(ca_cert(
	    f->ctx.ca)), X509_get0_pubkey_bitstr(ca_cert(f->ctx.ca)), ai);
	OCSP_id_get0_info(NULL, NULL, &fake, NULL, id);
	ASN1_OCTET_STRING_set(fake, zeros, sizeof(zeros));
	OCSP_request_add0_id(req, id);
	resp = ask(f, req, &info, NULL);
	bs = OCSP_response_get1_basic(resp);
	assert_int_equal(OCSP_resp_find_status(bs, id, &status, NULL, NULL,
	    NULL, NULL), 1);
	assert_int_equal(status, V_OCSP_CERTSTATUS_UNKNOWN);
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(resp);
	OCSP_REQUEST_free(req);
	ASN1_INTEGER_free(ai);
}

static void
ocsp_echoes_the_nonce(void **state)
{
	struct fixture		*f = *state;
	OCSP_REQUEST		*req;
	OCSP_RESPONSE		*resp;
	OCSP_BASICRESP		*bs;
	struct ocsp_info	 info;

	start_ocsp(f);
	req = make_req(f, S_GOOD, EVP_sha1(), 16);
	resp = ask(f, req, &info, NULL);
	assert_int_equal(info.nonce, 1);
	bs = OCSP_response_get1_basic(resp);
	assert_int_equal(OCSP_check_nonce(req, bs), 1);
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(resp);
	OCSP_REQUEST_free(req);
	/* RFC 8954 §2.1: a nonce over 32 octets is refused. */
	req = make_req(f, S_GOOD, EVP_sha1(), 40);
	resp = ask(f, req, &info, NULL);
	assert_int_equal(OCSP_response_status(resp),
	    OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
	OCSP_RESPONSE_free(resp);
	OCSP_REQUEST_free(req);
}

/* Answers raw bytes; returns the response status. */
static int
status_for_bytes(struct fixture *f, const void *p, size_t n)
{
	const unsigned char	*q;
	struct buf		 out = {0};
	struct ocsp_info	 info;
	OCSP_RESPONSE		*resp;
	int			 st;

	assert_int_equal(ocsp_answer(f->ocsp, p, n, time(NULL), &out, &info), 0);
	q = out.data;
	assert_non_null(resp = d2i_OCSP_RESPONSE(NULL, &q, (long)out.len));
	st = OCSP_response_status(resp);
	assert_int_equal(st, (int)info.status);
	OCSP_RESPONSE_free(resp);
	buf_free(&out);
	return st;
}

static void
ocsp_malformed_requests_get_malformed_request(void **state)
{
	struct fixture	*f = *state;
	OCSP_REQUEST	*req;
	unsigned char	*der = NULL, *big;
	int		 n, i;

	start_ocsp(f);
	assert_int_equal(status_for_bytes(f, "junk", 4), 1);
	assert_int_equal(status_for_bytes(f, "", 0), 1);
	req = make_req(f, S_GOOD, EVP_sha1(), 0);
	n = i2d_OCSP_REQUEST(req, &der);
	assert_int_equal(status_for_bytes(f, der, (size_t)n), 0);
	assert_int_equal(status_for_bytes(f, der, (size_t)n - 1), 1);
	big = malloc((size_t)n + 1);
	memcpy(big, der, (size_t)n);
	big[n] = 0;
	assert_int_equal(status_for_bytes(f, big, (size_t)n + 1), 1);
	free(big);
	OPENSSL_free(der);
	der = NULL;
	/* More certificates than a request may ask about. */
	for (i = 0; i < OCSP_MAX_CERTS; i++) {
		OCSP_CERTID *id = OCSP_CERTID_dup(OCSP_onereq_get0_id(
		    OCSP_request_onereq_get0(req, 0)));
		OCSP_request_add0_id(req, id);
	}
	n = i2d_OCSP_REQUEST(req, &der);
	assert_int_equal(status_for_bytes(f, der, (size_t)n), 1);
	OPENSSL_free(der);
	OCSP_REQUEST_free(req);
}

static void
ocsp_sees_a_revocation_on_the_next_query(void **state)
{
	struct fixture	*f = *state;
	int		 reason;

	start_ocsp(f);
	assert_int_equal(status_of(f, S_GOOD, EVP_sha1(), &reason, NULL),
	    V_OCSP_CERTSTATUS_GOOD);
	/* The first answer is now a pre-produced response; it must not hide this. */
	set_status(f->ctx.store, S_GOOD, CERT_REVOKED, REASON_AFFILIATION_CHANGED);
	assert_int_equal(status_of(f, S_GOOD, EVP_sha1(), &reason, NULL),
	    V_OCSP_CERTSTATUS_REVOKED);
	assert_int_equal(reason, OCSP_REVOKED_STATUS_AFFILIATIONCHANGED);
	set_status(f->ctx.store, S_HELD, CERT_VALID, -1);
	assert_int_equal(status_of(f, S_HELD, EVP_sha1(), &reason, NULL),
	    V_OCSP_CERTSTATUS_GOOD);
}

static void
ocsp_reuses_responses_only_with_the_cache(void **state)
{
	struct fixture		*f = *state;
	OCSP_REQUEST		*req = make_req(f, S_GOOD, EVP_sha1(), 0);
	OCSP_RESPONSE		*r1, *r2;
	struct buf		 a = {0}, b = {0};
	struct ocsp_info	 info;

	start_ocsp(f);
	r1 = ask(f, req, &info, &a);
	r2 = ask(f, req, &info, &b);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.data, b.data, a.len);
	OCSP_RESPONSE_free(r1);
	OCSP_RESPONSE_free(r2);
	ocsp_responder_stop(f->ocsp);
	/* Without a cache every answer is signed anew (ECDSA: differs). */
	conf_init(f, 0);
	start_ocsp(f);
	r1 = ask(f, req, &info, &a);
	r2 = ask(f, req, &info, &b);
	assert_true(a.len != b.len || memcmp(a.data, b.data, a.len) != 0);
	OCSP_RESPONSE_free(r1);
	OCSP_RESPONSE_free(r2);
	buf_free(&a);
	buf_free(&b);
	OCSP_REQUEST_free(req);
}

/* The thisUpdate of the answer about hex asked at now (a plain request). */
static time_t
this_update_at(struct fixture *f, const char *hex, time_t now, int *status)
{
	OCSP_REQUEST		*req = make_req(f, hex, EVP_sha1(), 0);
	unsigned char		*der = NULL;
	struct buf		 out = {0};
	struct ocsp_info	 info;
	int			 n;

	n = i2d_OCSP_REQUEST(req, &der);
	assert_int_equal(ocsp_answer(f->ocsp, der, (size_t)n, now, &out,
	    &info), 0);
	assert_int_equal(info.status, OCSP_ST_SUCCESSFUL);
	*status = info.cert_status;
	OPENSSL_free(der);
	buf_free(&out);
	OCSP_REQUEST_free(req);
	return info.this_update;
}

static void
ocsp_pre_produces_every_current_answer(void **state)
{
	struct fixture	*f = *state;
	time_t		 later = time(NULL) + 10;
	int		 status;

	start_ocsp(f);		/* [ocsp] presign off: no pass of its own */
	/* Four current certificates; S_OLD has expired. */
	assert_int_equal(ocsp_presign(f->ocsp), 4);
	assert_int_equal(ocsp_presign(f->ocsp), 0);	/* all still fresh */
	/* Asked later, the answers are the ones signed before. */
	assert_true(this_update_at(f, S_GOOD, later, &status) < later);
	assert_int_equal(status, V_OCSP_CERTSTATUS_GOOD);
	assert_true(this_update_at(f, S_HELD, later, &status) < later);
	assert_int_equal(status, V_OCSP_CERTSTATUS_REVOKED);
	/* A status change: the old answer is never served again ... */
	set_status(f->ctx.store, S_HELD, CERT_VALID, -1);
	assert_int_equal(this_update_at(f, S_HELD, later, &status), later);
	assert_int_equal(status, V_OCSP_CERTSTATUS_GOOD);
	/* ... and the next pass signs only the changed one. */
	set_status(f->ctx.store, S_GOOD, CERT_HOLD, REASON_CERTIFICATE_HOLD);
	assert_int_equal(ocsp_presign(f->ocsp), 1);
	assert_true(this_update_at(f, S_GOOD, later, &status) < later);
	assert_int_equal(status, V_OCSP_CERTSTATUS_REVOKED);
	/* Made-up serials are answered but never kept (no cache pollution). */
	assert_int_equal(this_update_at(f, "7E57", later, &status), later);
	assert_int_equal(status, V_OCSP_CERTSTATUS_UNKNOWN);
	assert_int_equal(this_update_at(f, "7E57", later + 1, &status),
	    later + 1);
	/* Without a cache there is nothing to pre-produce into. */
	ocsp_responder_stop(f->ocsp);
	conf_init(f, 0);
	start_ocsp(f);
	assert_int_equal(ocsp_presign(f->ocsp), 0);
	assert_int_equal(this_update_at(f, S_GOOD, later, &status), later);
}

/* The responder ID's key hash of a response. */
static void
responder_key_hash(struct fixture *f, unsigned char out[20], int *ncerts)
{
	OCSP_REQUEST			*req = make_req(f, S_GOOD, EVP_sha1(), 0);
	OCSP_RESPONSE			*resp;
	OCSP_BASICRESP			*bs;
	const ASN1_OCTET_STRING		*kh = NULL;
	const X509_NAME			*name = NULL;
	struct ocsp_info		 info;

	resp = ask(f, req, &info, NULL);
	bs = OCSP_response_get1_basic(resp);
	assert_int_equal(OCSP_resp_get0_id(bs, &kh, &name), 1);
	assert_non_null(kh);
	assert_int_equal(kh->length, 20);
	memcpy(out, kh->data, 20);
	*ncerts = sk_X509_num(OCSP_resp_get0_certs(bs));
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(resp);
	OCSP_REQUEST_free(req);
}

static void
ocsp_signer_can_be_the_ca_or_a_renewed_delegate(void **state)
{
	struct fixture	*f = *state;
	unsigned char	 id1[20], id2[20], ca_id[20];
	unsigned int	 n;
	int		 ncerts, reason;
	struct err	 e = {0};

	start_ocsp(f);
	responder_key_hash(f, id1, &ncerts);
	assert_int_equal(ncerts, 1);	/* the delegated certificate */
	assert_int_equal(ca_ocsp_signer_renew(f->ctx.ca, f->dir, "ec:p256", 30,
	    &e), 0);
	responder_key_hash(f, id2, &ncerts);
	assert_memory_not_equal(id1, id2, 20);
	assert_int_equal(status_of(f, S_REVOKED, EVP_sha1(), &reason, NULL),
	    V_OCSP_CERTSTATUS_REVOKED);
	ocsp_responder_stop(f->ocsp);
	f->conf.ocsp_signer = "ca";
	start_ocsp(f);
	responder_key_hash(f, id1, &ncerts);
	assert_true(ncerts <= 0);	/* no certificates at all */
	assert_int_equal(X509_pubkey_digest(ca_cert(f->ctx.ca), EVP_sha1(),
	    ca_id, &n), 1);
	assert_memory_equal(id1, ca_id, 20);
	assert_int_equal(status_of(f, S_GOOD, EVP_sha1(), &reason, NULL),
	    V_OCSP_CERTSTATUS_GOOD);
}

static void
ocsp_refuses_an_unknown_signer_setting(void **state)
{
	struct fixture	*f = *state;
	struct err	 e = {0};

	f->conf.ocsp_signer = "hsm";
	assert_null(ocsp_responder_start(&f->ctx, &e));
	assert_int_equal(e.code, ERR_CONFIG);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(crl_is_a_signed_version_2_crl_of_the_ca),
		T(crl_lists_revocations_and_holds_with_their_reasons),
		T(crl_number_only_grows),
		T(released_hold_leaves_the_crl),
		T(status_changes_bump_the_revocation_generation),
		T(crl_publish_writes_the_file),
		T(crl_service_resigns_after_a_change),
		T(ocsp_answers_good_revoked_and_unknown),
		T(ocsp_other_issuer_is_unknown),
		T(ocsp_echoes_the_nonce),
		T(ocsp_malformed_requests_get_malformed_request),
		T(ocsp_sees_a_revocation_on_the_next_query),
		T(ocsp_reuses_responses_only_with_the_cache),
		T(ocsp_pre_produces_every_current_answer),
		T(ocsp_signer_can_be_the_ca_or_a_renewed_delegate),
		T(ocsp_refuses_an_unknown_signer_setting),
	};

	log_set_level(LOGL_WARN);	/* no "CRL signed" lines in the TAP */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
