/*
 * ocsp.c - the OCSP responder (RFC 6960 with the RFC 5019 profile):
 * request parsing, status from the store, signing through ca_sign_ocsp(),
 * the HTTP route, and the thread that renews the delegated signer.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#include "encode.h"
#include "http_cache.h"
#include "log.h"
#include "ocsp.h"
#include "ocsp_cache.h"
#include "scep_http.h"

/* How often the thread looks at the signer's expiry. */
#define OCSP_MAINTAIN_SECONDS	600

/* The CA as a CertID names it with one hash algorithm (RFC 6960 §4.1.1). */
struct issuer_id {
	int		 nid;		/* of the hash algorithm */
	unsigned char	 name[EVP_MAX_MD_SIZE];	/* issuerNameHash */
	unsigned char	 key[EVP_MAX_MD_SIZE];	/* issuerKeyHash */
	unsigned int	 len;
};

/*
 * The responder.  Everything above lock is read-only after start; lock
 * and cond only serve the renewal thread's stop.
 */
struct ocsp_responder {
	struct ca		*ca;
	struct store		*st;
	const struct scep_conf	*conf;
	int			 use_ca;	/* [ocsp] signer = ca */
	int			 validity;	/* seconds */
	int64_t			 ca_not_after;
	struct ocsp_cache	*cache;		/* NULL: every answer signed */
	time_t			 cache_seconds;
	struct issuer_id	 ids[4];
	int			 nids;
	pthread_t		 thread;
	int			 started;
	pthread_mutex_t		 lock;
	pthread_cond_t		 cond;
	int			 stop;
};

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

/* Canonical hex of a positive serial (as the store keeps it); -1 if not. */
static int
serial_hex(const ASN1_INTEGER *serial, char out[SERIAL_HEX_MAX])
{
	static const char	 digits[] = "0123456789ABCDEF";
	const unsigned char	*p = serial->data;
	int			 n = serial->length, i;

	if (serial->type != V_ASN1_INTEGER)
		return -1;	/* negative: never one of ours */
	while (n > 1 && *p == 0) {
		p++;
		n--;
	}
	if (n < 1 || (size_t)n * 2 + 1 > SERIAL_HEX_MAX)
		return -1;
	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 0x0f];
	}
	out[2 * n] = '\0';
	return 0;
}

/* The answer for one CertID, and what identifies it for the cache. */
struct cert_answer {
	OCSP_CERTID		*cid;		/* borrowed from the request */
	int			 ours;		/* names our CA */
	struct ocsp_cache_key	 key;		/* nid, serial, status... */
};

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
	int			 i;

	if (!OCSP_id_get0_info(&nh, &alg, &kh, serial, cid))
		return 0;
	*nid = OBJ_obj2nid(alg);
	for (i = 0; i < r->nids; i++) {
		if (r->ids[i].nid != *nid)
			continue;
		return nh->length == (int)r->ids[i].len &&
		    kh->length == (int)r->ids[i].len &&
		    memcmp(nh->data, r->ids[i].name, r->ids[i].len) == 0 &&
		    memcmp(kh->data, r->ids[i].key, r->ids[i].len) == 0;
	}
	return 0;	/* a hash we do not compute: not identifiable */
}

/* One certificate's status (§2.2).  Returns 0, or -1 on a store error. */
static int
lookup(struct ocsp_responder *r, OCSP_CERTID *cid, struct cert_answer *a,
    struct err *e)
{
	struct ocsp_cache_key	*k = &a->key;
	ASN1_INTEGER		*serial = NULL;
	enum cert_status	 st;
	int			 found;

	memset(a, 0, sizeof(*a));
	a->cid = cid;
	k->status = V_OCSP_CERTSTATUS_UNKNOWN;
	k->reason = OCSP_REVOKED_STATUS_NOSTATUS;
	/* Another issuer's certificate, or a serial we cannot have: unknown. */
	if (!names_our_ca(r, cid, &k->nid, &serial) ||
	    serial_hex(serial, k->serial) == -1)
		return 0;
	a->ours = 1;
	k->signer = ca_ocsp_signer_generation(r->ca);
	found = store_cert_status(r->st, k->serial, &st, &k->revoked_at,
	    &k->reason, e);
	if (found <= 0) {
		k->reason = OCSP_REVOKED_STATUS_NOSTATUS;
		return found;
	}
	if (st == CERT_VALID) {
		k->status = V_OCSP_CERTSTATUS_GOOD;
		k->reason = OCSP_REVOKED_STATUS_NOSTATUS;
		k->revoked_at = 0;
		return 0;
	}
	/* A hold is "revoked" with reason certificateHold (§2.2). */
	k->status = V_OCSP_CERTSTATUS_REVOKED;
	if (st == CERT_HOLD)
		k->reason = REASON_CERTIFICATE_HOLD;
	else if (k->reason <= REASON_UNSPECIFIED ||
	    k->reason > REASON_AA_COMPROMISE)
		k->reason = OCSP_REVOKED_STATUS_NOSTATUS;
	return 0;
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

/* Builds and signs the BasicOCSPResponse, encodes the OCSPResponse. */
static enum ocsp_resp_status
respond(struct ocsp_responder *r, OCSP_REQUEST *req,
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

/* Looks every CertID up; the status of the response (§2.3). */
static enum ocsp_resp_status
lookup_all(struct ocsp_responder *r, OCSP_REQUEST *req, struct cert_answer *a,
    int n)
{
	struct err	e = {0};
	int		i;

	for (i = 0; i < n; i++) {
		if (lookup(r, OCSP_onereq_get0_id(OCSP_request_onereq_get0(req,
		    i)), &a[i], &e) == -1) {
			log_warn("ocsp", "%s", e.msg);
			return OCSP_ST_TRY_LATER;	/* the store is busy or gone */
		}
	}
	return OCSP_ST_SUCCESSFUL;
}

/* Answers a parsed request: from the cache when allowed, else signed now. */
static enum ocsp_resp_status
answer(struct ocsp_responder *r, OCSP_REQUEST *req, time_t now,
    struct buf *out, struct ocsp_info *info)
{
	struct cert_answer	a[OCSP_MAX_CERTS];
	enum ocsp_resp_status	st;
	int			cacheable;

	memset(a, 0, sizeof(a[0]));	/* ncerts >= 1 */
	if ((st = lookup_all(r, req, a, info->ncerts)) != OCSP_ST_SUCCESSFUL)
		return st;
	info->cert_status = a[0].key.status;
	/*
	 * The RFC 5019 request (§2.1.1: one certificate, no nonce) may get
	 * a pre-produced response (§2.2.4).
	 */
	cacheable = info->ncerts == 1 && !info->nonce && a[0].ours;
	if (cacheable && ocsp_cache_get(r->cache, &a[0].key, now,
	    r->cache_seconds, out, &info->this_update, &info->next_update))
		return OCSP_ST_SUCCESSFUL;
	if ((st = respond(r, req, a, now, out, info)) == OCSP_ST_SUCCESSFUL &&
	    cacheable)
		ocsp_cache_put(r->cache, &a[0].key, out->data, out->len,
		    info->this_update, info->next_update);
	return st;
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

/* The hex SHA-1 of the response: its ETag (RFC 5019 §6.2). */
static void
etag_of(const struct buf *resp, char out[41])
{
	static const char	 digits[] = "0123456789abcdef";
	unsigned char		 md[EVP_MAX_MD_SIZE];
	unsigned int		 n = 0, i;

	out[0] = '\0';
	if (!EVP_Digest(resp->data, resp->len, md, &n, EVP_sha1(), NULL) ||
	    n != 20)
		return;
	for (i = 0; i < n; i++) {
		out[2 * i] = digits[md[i] >> 4];
		out[2 * i + 1] = digits[md[i] & 0x0f];
	}
	out[40] = '\0';
}

/* Sends the response; GET answers without a nonce may be cached. */
static enum MHD_Result
send_response(struct MHD_Connection *conn, const struct buf *resp,
    const struct ocsp_info *info, int cacheable)
{
	struct MHD_Response	*r;
	enum MHD_Result		 ret;
	char			 etag[41];

	r = MHD_create_response_from_buffer(resp->len, resp->data,
	    MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "application/ocsp-response");
	if (cacheable && info->status == OCSP_ST_SUCCESSFUL && !info->nonce) {
		etag_of(resp, etag);
		http_cache_headers(r, info->this_update, info->next_update,
		    info->this_update, etag[0] ? etag : NULL);
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

static void *
maintain_main(void *arg)
{
	struct ocsp_responder	*r = arg;
	struct timespec		 ts;

	pthread_mutex_lock(&r->lock);
	while (!r->stop) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += OCSP_MAINTAIN_SECONDS;
		pthread_cond_timedwait(&r->cond, &r->lock, &ts);
		if (r->stop)
			break;
		pthread_mutex_unlock(&r->lock);
		maintain(r);
		pthread_mutex_lock(&r->lock);
	}
	pthread_mutex_unlock(&r->lock);
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
	pthread_cond_destroy(&r->cond);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

struct ocsp_responder *
ocsp_responder_start(struct scep_ctx *ctx, struct err *e)
{
	struct ocsp_responder	*r;
	pthread_condattr_t	 ca;

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		err_set(e, ERR_NOMEM, "out of memory");
		return NULL;
	}
	r->ca = ctx->ca;
	r->st = ctx->store;
	r->conf = ctx->conf;
	pthread_mutex_init(&r->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (configure(r, e) == -1)
		goto fail;
	maintain(r);	/* creates a missing signer now */
	if (!r->use_ca && ca_ocsp_signer_expiry(r->ca) == 0)
		log_warn("ocsp", "no delegated signer: responses are signed"
		    " with the CA key");
	if (pthread_create(&r->thread, NULL, maintain_main, r) != 0) {
		err_set(e, ERR_INTERNAL, "ocsp: cannot start the thread");
		goto fail;
	}
	r->started = 1;
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
	if (r->started) {
		pthread_mutex_lock(&r->lock);
		r->stop = 1;
		pthread_cond_signal(&r->cond);
		pthread_mutex_unlock(&r->lock);
		pthread_join(r->thread, NULL);
	}
	responder_free(r);
}
