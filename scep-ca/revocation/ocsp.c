/*
 * ocsp.c - the OCSP responder (RFC 6960 with the RFC 5019 profile):
 * request parsing, status from the store, signing through ca_sign_ocsp(),
 * the HTTP route, and the responder's thread, which pre-produces
 * responses (ocsp_presign.c) and renews the delegated signer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#include "base/encode.h"
#include "base/log.h"
#include "http/httpd.h"
#include "revocation/http_cache.h"
#include "revocation/ocsp.h"
#include "revocation/ocsp_cache.h"
#include "revocation/ocsp_int.h"
#include "revocation/ocsp_req.h"

/* How often the thread looks at the signer's expiry. */
#define OCSP_MAINTAIN_SECONDS	600

/* An OCSPResponse with only a status: SEQUENCE { ENUMERATED s }. */
static int
error_response(enum ocsp_resp_status status, struct buf *out,
    struct ocsp_info *info)
{
	unsigned char	der[5] = { 0x30, 0x03, 0x0a, 0x01, 0 };

	der[4] = (unsigned char)status;
	info->status = status;
	buf_reset(out);
	return buf_append(out, der, sizeof(der));
}

/* ---- request ------------------------------------------------------------ */

/*
 * The nonce extension (RFC 6960 §4.4.1): 0 when absent, 1 when usable,
 * -1 when its length is outside 1..32 octets (RFC 8954 §2.1).
 */
static int
check_nonce(OCSP_REQUEST *req)
{
	X509_EXTENSION		*ext;
	ASN1_OCTET_STRING	*v, *inner;
	const unsigned char	*p;
	int			 idx, n;

	idx = OCSP_REQUEST_get_ext_by_NID(req, NID_id_pkix_OCSP_Nonce, -1);
	if (idx < 0)
		return 0;
	ext = OCSP_REQUEST_get_ext(req, idx);
	v = X509_EXTENSION_get_data(ext);
	/* The value is an OCTET STRING; some old clients put raw bytes. */
	p = v->data;
	inner = d2i_ASN1_OCTET_STRING(NULL, &p, v->length);
	n = inner != NULL && p == v->data + v->length ? inner->length :
	    v->length;
	ASN1_OCTET_STRING_free(inner);
	ERR_clear_error();
	return n >= 1 && n <= 32 ? 1 : -1;
}

/* Canonical hex of a serial's magnitude octets; -1 if too long or empty. */
static int
serial_hex_bytes(const unsigned char *p, size_t n, char out[SERIAL_HEX_MAX])
{
	static const char	digits[] = "0123456789ABCDEF";
	size_t			i;

	while (n > 1 && *p == 0) {
		p++;
		n--;
	}
	if (n < 1 || n * 2 + 1 > SERIAL_HEX_MAX)
		return -1;
	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 0x0f];
	}
	out[2 * n] = '\0';
	return 0;
}

/* Canonical hex of a positive serial (as the store keeps it); -1 if not. */
static int
serial_hex(const ASN1_INTEGER *serial, char out[SERIAL_HEX_MAX])
{
	if (serial->type != V_ASN1_INTEGER || serial->length < 1)
		return -1;	/* negative: never one of ours */
	return serial_hex_bytes(serial->data, (size_t)serial->length, out);
}

/* Are these our CA's name and key hashes for hash algorithm nid? */
static int
ids_match(const struct ocsp_responder *r, int nid, const unsigned char *name,
    size_t name_len, const unsigned char *key, size_t key_len)
{
	int	i;

	for (i = 0; i < r->nids; i++) {
		if (r->ids[i].nid != nid)
			continue;
		return name_len == r->ids[i].len && key_len == r->ids[i].len &&
		    memcmp(name, r->ids[i].name, r->ids[i].len) == 0 &&
		    memcmp(key, r->ids[i].key, r->ids[i].len) == 0;
	}
	return 0;	/* a hash we do not compute: not identifiable */
}

/*
 * Does the CertID name our CA (name and key hash, §4.1.1)?  Sets the
 * hash algorithm's nid and the serial.
 */
static int
names_our_ca(const struct ocsp_responder *r, OCSP_CERTID *cid, int *nid,
    ASN1_INTEGER **serial)
{
	ASN1_OCTET_STRING	*nh = NULL, *kh = NULL;
	ASN1_OBJECT		*alg = NULL;

	if (!OCSP_id_get0_info(&nh, &alg, &kh, serial, cid))
		return 0;
	*nid = OBJ_obj2nid(alg);
	return ids_match(r, *nid, nh->data, (size_t)nh->length, kh->data,
	    (size_t)kh->length);
}

/* Sets k's status fields from a store status (§2.2). */
void
ocsp_key_set_status(struct ocsp_cache_key *k, enum cert_status st,
    int64_t revoked_at, int reason)
{
	k->revoked_at = revoked_at;
	k->reason = reason;
	if (st == CERT_VALID) {
		k->status = V_OCSP_CERTSTATUS_GOOD;
		k->reason = OCSP_REVOKED_STATUS_NOSTATUS;
		k->revoked_at = 0;
		return;
	}
	/* A hold is "revoked" with reason certificateHold (§2.2). */
	k->status = V_OCSP_CERTSTATUS_REVOKED;
	if (st == CERT_HOLD)
		k->reason = REASON_CERTIFICATE_HOLD;
	else if (k->reason <= REASON_UNSPECIFIED ||
	    k->reason > REASON_AA_COMPROMISE)
		k->reason = OCSP_REVOKED_STATUS_NOSTATUS;
}

/*
 * Reads the status of k->serial (one of our CA's serials) from the store
 * into k, with the signer that will sign.  Returns 0, or -1 on a store
 * error.
 */
static int
read_status(struct ocsp_responder *r, struct ocsp_cache_key *k, struct err *e)
{
	enum cert_status	st;
	int64_t			revoked_at = 0;
	int			reason = -1, found;

	k->signer = ca_ocsp_signer_generation(r->ca);
	k->status = V_OCSP_CERTSTATUS_UNKNOWN;
	k->reason = OCSP_REVOKED_STATUS_NOSTATUS;
	k->revoked_at = 0;
	found = store_cert_status(r->st, k->serial, &st, &revoked_at, &reason,
	    e);
	if (found == 1)
		ocsp_key_set_status(k, st, revoked_at, reason);
	return found < 0 ? -1 : 0;
}

/* One certificate's status (§2.2).  Returns 0, or -1 on a store error. */
static int
lookup(struct ocsp_responder *r, OCSP_CERTID *cid, struct cert_answer *a,
    struct err *e)
{
	struct ocsp_cache_key	*k = &a->key;
	ASN1_INTEGER		*serial = NULL;

	memset(a, 0, sizeof(*a));
	a->cid = cid;
	k->status = V_OCSP_CERTSTATUS_UNKNOWN;
	k->reason = OCSP_REVOKED_STATUS_NOSTATUS;
	/* Another issuer's certificate, or a serial we cannot have: unknown. */
	if (!names_our_ca(r, cid, &k->nid, &serial) ||
	    serial_hex(serial, k->serial) == -1)
		return 0;
	a->ours = 1;
	return read_status(r, k, e);
}

/* ---- response ----------------------------------------------------------- */

/* Adds one SingleResponse per answer (§4.2.1). */
static int
add_statuses(struct ocsp_responder *r, const struct cert_answer *a, int n,
    OCSP_BASICRESP *bs, time_t now)
{
	ASN1_TIME	*thisupd = NULL, *nextupd = NULL, *rev = NULL;
	int		 i, rc = -1;

	if ((thisupd = ASN1_TIME_set(NULL, now)) == NULL ||
	    (nextupd = ASN1_TIME_set(NULL, now + r->validity)) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		ASN1_TIME_free(rev);
		rev = NULL;
		if (a[i].key.status == V_OCSP_CERTSTATUS_REVOKED &&
		    (rev = ASN1_TIME_set(NULL, (time_t)a[i].key.revoked_at)) ==
		    NULL)
			goto out;
		if (OCSP_basic_add1_status(bs, a[i].cid, a[i].key.status,
		    a[i].key.reason, rev, thisupd, nextupd) == NULL)
			goto out;
	}
	rc = 0;
out:
	ASN1_TIME_free(thisupd);
	ASN1_TIME_free(nextupd);
	ASN1_TIME_free(rev);
	return rc;
}

/*
 * Builds and signs the BasicOCSPResponse for info->ncerts answers (with
 * the nonce of req when info->nonce), encodes the OCSPResponse.
 */
enum ocsp_resp_status
ocsp_respond(struct ocsp_responder *r, OCSP_REQUEST *req,
    const struct cert_answer *a, time_t now, struct buf *out,
    struct ocsp_info *info)
{
	OCSP_BASICRESP	*bs = NULL;
	OCSP_RESPONSE	*resp = NULL;
	struct err	 e = {0};
	unsigned char	*p;
	int		 n, rc = OCSP_ST_INTERNAL_ERROR;

	if ((bs = OCSP_BASICRESP_new()) == NULL ||
	    add_statuses(r, a, info->ncerts, bs, now) == -1)
		goto out;
	/* §4.4.1: the nonce comes back as sent. */
	if (info->nonce && OCSP_copy_nonce(bs, req) != 1)
		goto out;
	if (ca_sign_ocsp(r->ca, bs, r->use_ca, &e) == -1) {
		log_err("ocsp", "%s", e.msg);
		goto out;
	}
	if ((resp = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL,
	    bs)) == NULL || (n = i2d_OCSP_RESPONSE(resp, NULL)) <= 0)
		goto out;
	buf_reset(out);
	if (buf_reserve(out, (size_t)n) == -1)
		goto out;
	p = out->data;
	out->len = (size_t)i2d_OCSP_RESPONSE(resp, &p);
	info->this_update = now;
	info->next_update = now + r->validity;
	rc = OCSP_ST_SUCCESSFUL;
out:
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(resp);
	ERR_clear_error();
	return rc;
}

/*
 * Looks every CertID up; the status of the response (§2.3).  *mark is
 * the store's commit token read before the first status.
 */
static enum ocsp_resp_status
lookup_all(struct ocsp_responder *r, OCSP_REQUEST *req, struct cert_answer *a,
    int n, uint64_t *mark)
{
	struct err	e = {0};
	int		i;

	*mark = store_watch_token(r->st, STORE_WATCH_COMMIT);
	for (i = 0; i < n; i++) {
		if (lookup(r, OCSP_onereq_get0_id(OCSP_request_onereq_get0(req,
		    i)), &a[i], &e) == -1) {
			log_warn("ocsp", "%s", e.msg);
			return OCSP_ST_TRY_LATER;	/* the store is busy or gone */
		}
	}
	return OCSP_ST_SUCCESSFUL;
}

/* Fills info for a single-certificate answer served from the cache. */
static void
info_from_hit(struct ocsp_info *info, const struct ocsp_cache_hit *hit)
{
	info->status = OCSP_ST_SUCCESSFUL;
	info->ncerts = 1;
	info->nonce = 0;
	info->cert_status = hit->status;
	info->this_update = hit->this_update;
	info->next_update = hit->next_update;
	memcpy(info->etag, hit->etag, sizeof(info->etag));
}

/* Answers a parsed request: from the cache when allowed, else signed now. */
static enum ocsp_resp_status
answer(struct ocsp_responder *r, OCSP_REQUEST *req, time_t now,
    struct buf *out, struct ocsp_info *info)
{
	struct cert_answer	a[OCSP_MAX_CERTS];
	struct ocsp_cache_hit	hit;
	enum ocsp_resp_status	st;
	uint64_t		mark;
	int			cacheable;

	memset(a, 0, sizeof(a[0]));	/* ncerts >= 1 */
	if ((st = lookup_all(r, req, a, info->ncerts, &mark)) !=
	    OCSP_ST_SUCCESSFUL)
		return st;
	info->cert_status = a[0].key.status;
	/*
	 * The RFC 5019 request (§2.1.1: one certificate, no nonce) may get
	 * a pre-produced response (§2.2.4).  Not for serials the store does
	 * not hold: anyone can make up those, and keeping their answers
	 * would push our certificates' answers out of the cache.
	 */
	cacheable = info->ncerts == 1 && !info->nonce && a[0].ours &&
	    a[0].key.status != V_OCSP_CERTSTATUS_UNKNOWN;
	if (cacheable && ocsp_cache_get(r->cache, &a[0].key, mark, now,
	    r->cache_seconds, out, &hit)) {
		info_from_hit(info, &hit);
		return OCSP_ST_SUCCESSFUL;
	}
	if ((st = ocsp_respond(r, req, a, now, out, info)) == OCSP_ST_SUCCESSFUL &&
	    cacheable)
		ocsp_cache_put(r->cache, &a[0].key, mark, out->data, out->len,
		    info->this_update, info->next_update);
	return st;
}

/*
 * The plain RFC 5019 request about one of our certificates, answered
 * from the cache without OpenSSL's decoder: when nothing was committed to
 * the store since the cached answer's status was last read, without the
 * store either.  Returns 1 when answered, 0 to take the general path.
 */
static int
answer_plain(struct ocsp_responder *r, const unsigned char *der, size_t len,
    time_t now, struct buf *out, struct ocsp_info *info)
{
	struct ocsp_simple_req	q;
	struct ocsp_cache_key	k;
	struct ocsp_cache_hit	hit;
	struct err		e = {0};
	uint64_t		mark;

	if (r->cache == NULL || !ocsp_req_simple(der, len, &q) ||
	    !ids_match(r, q.nid, q.name_hash, q.name_hash_len, q.key_hash,
	    q.key_hash_len))
		return 0;
	memset(&k, 0, sizeof(k));
	k.nid = q.nid;
	if (serial_hex_bytes(q.serial, q.serial_len, k.serial) == -1)
		return 0;
	k.signer = ca_ocsp_signer_generation(r->ca);
	/* The mark first: an equal mark later proves the status unchanged. */
	mark = store_watch_token(r->st, STORE_WATCH_COMMIT);
	if (ocsp_cache_get_unchanged(r->cache, &k, mark, now, r->cache_seconds,
	    out, &hit) ||
	    (read_status(r, &k, &e) == 0 && ocsp_cache_get(r->cache, &k, mark,
	    now, r->cache_seconds, out, &hit))) {
		info_from_hit(info, &hit);
		return 1;
	}
	return 0;
}

int
ocsp_answer(struct ocsp_responder *r, const unsigned char *der, size_t len,
    time_t now, struct buf *out, struct ocsp_info *info)
{
	OCSP_REQUEST		*req = NULL;
	const unsigned char	*p = der;
	enum ocsp_resp_status	 st = OCSP_ST_MALFORMED;

	memset(info, 0, sizeof(*info));
	info->cert_status = -1;
	if (len == 0 || len > OCSP_MAX_REQUEST)
		goto out;
	if (answer_plain(r, der, len, now, out, info))
		return 0;
	/* One whole OCSPRequest and nothing after it (§4.1.1). */
	if ((req = d2i_OCSP_REQUEST(NULL, &p, (long)len)) == NULL ||
	    p != der + len)
		goto out;
	info->ncerts = OCSP_request_onereq_count(req);
	if (info->ncerts < 1 || info->ncerts > OCSP_MAX_CERTS)
		goto out;
	if ((info->nonce = check_nonce(req)) == -1) {
		info->nonce = 0;
		goto out;
	}
	/* Request signatures are optional (§4.1.2) and not required here. */
	st = answer(r, req, now, out, info);
out:
	OCSP_REQUEST_free(req);
	ERR_clear_error();
	if (st == OCSP_ST_SUCCESSFUL) {
		info->status = st;
		return 0;
	}
	return error_response(st, out, info);
}

/* ---- HTTP --------------------------------------------------------------- */

/* Sends the response; GET answers without a nonce may be cached. */
static enum MHD_Result
send_response(struct MHD_Connection *conn, const struct buf *resp,
    const struct ocsp_info *info, int cacheable)
{
	struct MHD_Response	*r;
	enum MHD_Result		 ret;
	char			 etag[OCSP_ETAG_SIZE];

	r = MHD_create_response_from_buffer(resp->len, resp->data,
	    MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "application/ocsp-response");
	if (cacheable && info->status == OCSP_ST_SUCCESSFUL && !info->nonce) {
		/* Kept with a pre-produced answer; else computed now. */
		if (info->etag[0] != '\0')
			memcpy(etag, info->etag, sizeof(etag));
		else
			ocsp_etag(resp->data, resp->len, etag);
		/* max-age from now: a pre-produced answer has less left. */
		http_cache_headers(r, info->this_update, info->next_update,
		    time(NULL), etag[0] ? etag : NULL);
	} else
		MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL,
		    "no-store");
	ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

enum MHD_Result
ocsp_http(void *arg, struct MHD_Connection *conn, const char *url,
    const char *method, const unsigned char *body, size_t body_len)
{
	struct ocsp_responder	*r = arg;
	struct ocsp_info	 info;
	struct buf		 der = {0}, resp = {0};
	const char		*b64;
	int			 get = strcmp(method, MHD_HTTP_METHOD_GET) == 0;
	enum MHD_Result		 ret;

	if (strcmp(url, "/ocsp") != 0 && strncmp(url, "/ocsp/", 6) != 0)
		return http_error(conn, MHD_HTTP_NOT_FOUND, "no such path");
	if (get) {
		/* RFC 6960 A.1: the request, base64, after the path. */
		for (b64 = url + 5; *b64 == '/'; b64++)
			;
		if (strlen(b64) <= OCSP_MAX_REQUEST * 4 / 3 + 8 &&
		    b64_decode_lenient(&der, b64, strlen(b64)) == -1)
			buf_reset(&der);	/* answered malformedRequest */
		body = der.data;
		body_len = der.len;
	}
	if (ocsp_answer(r, body, body_len, time(NULL), &resp, &info) == -1)
		ret = http_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "out of memory");
	else
		ret = send_response(conn, &resp, &info, get);
	if (info.status != OCSP_ST_SUCCESSFUL)
		log_debug("ocsp", "answered status %d to a %s", info.status,
		    method);
	buf_free(&der);
	buf_free(&resp);
	return ret;
}

/* ---- the delegated signer ----------------------------------------------- */

/* Renews the delegated signer when a third of its validity is left. */
static void
maintain(struct ocsp_responder *r)
{
	struct err	e = {0};
	int64_t		exp = ca_ocsp_signer_expiry(r->ca), now = time(NULL);
	int64_t		life = (int64_t)r->conf->ocsp_signer_days * 86400;

	if (r->use_ca || (exp != 0 && exp - now > life / 3))
		return;
	/* Never past the CA: renewing would not make it last longer. */
	if (exp != 0 && exp >= r->ca_not_after - 3600)
		return;
	if (ca_ocsp_signer_renew(r->ca, r->conf->dir, r->conf->ocsp_signer_key,
	    r->conf->ocsp_signer_days, &e) == -1) {
		log_err("ocsp", "cannot %s the delegated signer: %s",
		    exp ? "renew" : "create", e.msg);
		return;
	}
	ocsp_cache_clear(r->cache);	/* frees the old signer's answers */
	log_info("ocsp", "%s the delegated signer %s/ocsp.crt (%d days)",
	    exp ? "renewed" : "created", r->conf->dir, r->conf->ocsp_signer_days);
}

/*
 * The responder's thread: pre-produces responses at start and then
 * every presign_every seconds, and looks at the signer's expiry.  Below
 * the event loops' priority, so signing ahead never delays an answer.
 */
static void *
maintain_main(void *arg)
{
	struct ocsp_responder	*r = arg;
	int64_t			 every;

	setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 10);
	if (r->presign)
		ocsp_presign(r);
	every = r->presign && r->cache != NULL ? r->presign_every :
	    OCSP_MAINTAIN_SECONDS;
	while (worker_sleep(&r->worker, every * 1000) != WORKER_STOPPED) {
		maintain(r);
		if (r->presign)
			ocsp_presign(r);
	}
	return NULL;
}

/* The CA's name and key hashes for every CertID hash we accept. */
static int
precompute_ids(struct ocsp_responder *r, X509 *cacert)
{
	static const int	 nids[] = { NID_sha1, NID_sha256, NID_sha384,
				    NID_sha512 };
	const ASN1_BIT_STRING	*key = X509_get0_pubkey_bitstr(cacert);
	struct issuer_id	*id;
	const EVP_MD		*md;
	unsigned int		 n;
	size_t			 i;

	for (i = 0; i < sizeof(nids) / sizeof(nids[0]); i++) {
		id = &r->ids[r->nids];
		if ((md = EVP_get_digestbynid(nids[i])) == NULL)
			continue;
		if (!X509_NAME_digest(X509_get_subject_name(cacert), md,
		    id->name, &id->len) || key == NULL ||
		    !EVP_Digest(key->data, (size_t)key->length, id->key, &n, md,
		    NULL) || n != id->len)
			return -1;
		id->nid = nids[i];
		r->nids++;
	}
	return 0;
}

/* Reads [ocsp] and the CA's expiry. */
static int
configure(struct ocsp_responder *r, struct err *e)
{
	struct tm	tm;

	if (strcasecmp(r->conf->ocsp_signer, "ca") == 0)
		r->use_ca = 1;
	else if (strcasecmp(r->conf->ocsp_signer, "delegated") != 0)
		return err_set(e, ERR_CONFIG, "[ocsp] signer must be delegated"
		    " or ca, not '%s'", r->conf->ocsp_signer);
	r->validity = r->conf->ocsp_next_update;
	/* A reused response keeps at least half its validity. */
	r->cache_seconds = r->conf->ocsp_cache_seconds < r->validity / 2 ?
	    r->conf->ocsp_cache_seconds : r->validity / 2;
	r->presign = r->conf->ocsp_presign;
	r->presign_age = r->cache_seconds * 3 / 4;
	r->presign_every = r->cache_seconds / 8 > 1 ? r->cache_seconds / 8 : 1;
	if (r->cache_seconds > 0 && r->conf->ocsp_cache_entries > 0 &&
	    (r->cache = ocsp_cache_new((size_t)r->conf->ocsp_cache_entries)) ==
	    NULL)
		return err_set(e, ERR_NOMEM, "ocsp: no memory for the cache");
	if (!ASN1_TIME_to_tm(X509_get0_notAfter(ca_cert(r->ca)), &tm))
		return err_set(e, ERR_CONFIG, "ocsp: the CA's notAfter is"
		    " unreadable");
	r->ca_not_after = (int64_t)timegm(&tm);
	if (precompute_ids(r, ca_cert(r->ca)) == -1)
		return err_set_ossl(e, ERR_INTERNAL, "ocsp: cannot hash the CA"
		    " name and key");
	return 0;
}

static void
responder_free(struct ocsp_responder *r)
{
	ocsp_cache_free(r->cache);
	worker_destroy(&r->worker);
	free(r);
}

struct ocsp_responder *
ocsp_responder_start(struct scep_ctx *ctx, struct err *e)
{
	struct ocsp_responder	*r;

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		err_set(e, ERR_NOMEM, "out of memory");
		return NULL;
	}
	r->ca = ctx->ca;
	r->st = ctx->store;
	r->conf = ctx->conf;
	worker_init(&r->worker);
	if (configure(r, e) == -1)
		goto fail;
	maintain(r);	/* creates a missing signer now */
	if (!r->use_ca && ca_ocsp_signer_expiry(r->ca) == 0)
		log_warn("ocsp", "no delegated signer: responses are signed"
		    " with the CA key");
	if (worker_start(&r->worker, maintain_main, r) == -1) {
		err_set(e, ERR_INTERNAL, "ocsp: cannot start the thread");
		goto fail;
	}
	return r;
fail:
	responder_free(r);
	return NULL;
}

void
ocsp_responder_stop(struct ocsp_responder *r)
{
	if (r == NULL)
		return;
	worker_stop(&r->worker);
	responder_free(r);
}
