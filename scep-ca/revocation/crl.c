/*
 * crl.c - builds, signs, caches, writes and serves the CRL (RFC 5280 §5),
 * and the daemon's thread that re-signs it after revocation changes.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/x509v3.h>

#include "base/log.h"
#include "base/worker.h"
#include "http/httpd.h"
#include "pki/pki.h"
#include "revocation/crl.h"
#include "revocation/http_cache.h"

/* How often the thread polls the store's revocation token. */
#define CRL_POLL_SECONDS	1
/* After a failed signing, the next attempt waits at least this long. */
#define CRL_RETRY_SECONDS	5

/* The highest CRL reason code (RFC 5280 §5.3.1). */
#define REASON_MAX		REASON_AA_COMPROMISE

/* ---- blobs ----------------------------------------------------------- */

void
crl_blob_release(struct crl_blob *b)
{
	if (b == NULL || atomic_fetch_sub(&b->refs, 1) != 1)
		return;
	OPENSSL_free(b->der);
	free(b);
}

X509_CRL *
crl_blob_x509(const struct crl_blob *b, struct err *e)
{
	const unsigned char	*p = b->der;
	X509_CRL		*crl;

	if ((crl = d2i_X509_CRL(NULL, &p, (long)b->len)) == NULL)
		err_set_ossl(e, ERR_INTERNAL, "crl: cannot decode our own CRL");
	return crl;
}

/* ---- building -------------------------------------------------------- */

/* State of one build; objects reused for every entry to spare allocations. */
struct crl_build {
	X509_CRL	*crl;
	ASN1_INTEGER	*serial;
	ASN1_TIME	*date;
	ASN1_ENUMERATED	*reasons[REASON_MAX + 1];
	size_t		 n;
	int		 failed;	/* out of memory */
};

static void
build_free(struct crl_build *b)
{
	int	i;

	X509_CRL_free(b->crl);
	ASN1_INTEGER_free(b->serial);
	ASN1_TIME_free(b->date);
	for (i = 0; i <= REASON_MAX; i++)
		ASN1_ENUMERATED_free(b->reasons[i]);
}

static int
build_init(struct crl_build *b)
{
	int	i;

	memset(b, 0, sizeof(*b));
	if ((b->crl = X509_CRL_new()) == NULL ||
	    (b->serial = ASN1_INTEGER_new()) == NULL ||
	    (b->date = ASN1_TIME_new()) == NULL)
		return -1;
	for (i = 1; i <= REASON_MAX; i++)
		if ((b->reasons[i] = ASN1_ENUMERATED_new()) == NULL ||
		    !ASN1_ENUMERATED_set(b->reasons[i], i))
			return -1;
	return 0;
}

/* Canonical hex (even length, as the store keeps serials) to bytes. */
static int
serial_bytes(const char *hex, unsigned char out[64], int *len)
{
	int	i, hi, lo;

	for (i = 0; hex[2 * i] != '\0'; i++) {
		if (i == 64 || (hi = OPENSSL_hexchar2int(hex[2 * i])) < 0 ||
		    (lo = OPENSSL_hexchar2int(hex[2 * i + 1])) < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	*len = i;
	return i > 0 ? 0 : -1;
}

/* store_crl_fn: one revokedCertificates entry (RFC 5280 §5.1.2.6). */
static int
add_entry(void *arg, const struct crl_entry *ent)
{
	struct crl_build	*b = arg;
	X509_REVOKED		*r = NULL;
	unsigned char		 bytes[64];
	int			 reason, len;

	if (serial_bytes(ent->serial, bytes, &len) == -1) {
		log_warn("crl", "serial '%s' in the store is not hex: left out",
		    ent->serial);
		return 0;
	}
	/* RFC 5280 §5.3.1: hold is reason certificateHold. */
	reason = ent->status == CERT_HOLD ? REASON_CERTIFICATE_HOLD :
	    ent->reason;
	if (!ASN1_STRING_set(b->serial, bytes, len) ||
	    ASN1_TIME_set(b->date, (time_t)ent->revoked_at) == NULL ||
	    (r = X509_REVOKED_new()) == NULL ||
	    !X509_REVOKED_set_serialNumber(r, b->serial) ||
	    !X509_REVOKED_set_revocationDate(r, b->date))
		goto fail;
	/* §5.3.1: reasonCode unspecified SHOULD be absent. */
	if (reason > 0 && reason <= REASON_MAX && b->reasons[reason] != NULL &&
	    reason != REASON_REMOVE_FROM_CRL &&
	    !X509_REVOKED_add1_ext_i2d(r, NID_crl_reason, b->reasons[reason],
	    0, 0))
		goto fail;
	if (!X509_CRL_add0_revoked(b->crl, r))
		goto fail;
	b->n++;
	return 0;
fail:
	X509_REVOKED_free(r);
	b->failed = 1;
	return -1;
}

/* The AKI (RFC 5280 §5.2.1): the CA's key identifier. */
static int
add_aki(X509_CRL *crl, X509 *cacert)
{
	AUTHORITY_KEYID			*akid;
	const ASN1_OCTET_STRING		*ski = X509_get0_subject_key_id(cacert);
	unsigned char			 md[EVP_MAX_MD_SIZE];
	unsigned int			 n = 0;
	int				 ok = 0;

	if ((akid = AUTHORITY_KEYID_new()) == NULL ||
	    (akid->keyid = ASN1_OCTET_STRING_new()) == NULL)
		goto out;
	if (ski != NULL)
		ok = ASN1_STRING_copy(akid->keyid, ski);
	else	/* §4.2.1.2 method (1): SHA-1 of the public key bits */
		ok = X509_pubkey_digest(cacert, EVP_sha1(), md, &n) &&
		    ASN1_OCTET_STRING_set(akid->keyid, md, (int)n);
	ok = ok && X509_CRL_add1_ext_i2d(crl, NID_authority_key_identifier,
	    akid, 0, 0);
out:
	AUTHORITY_KEYID_free(akid);
	return ok ? 0 : -1;
}

/* The CRL number extension (§5.2.3), non-critical. */
static int
add_number(X509_CRL *crl, int64_t number)
{
	ASN1_INTEGER	*ai;
	int		 ok;

	if ((ai = ASN1_INTEGER_new()) == NULL)
		return -1;
	ok = ASN1_INTEGER_set_int64(ai, number) &&
	    X509_CRL_add1_ext_i2d(crl, NID_crl_number, ai, 0, 0);
	ASN1_INTEGER_free(ai);
	return ok ? 0 : -1;
}

/* Version, issuer, thisUpdate and nextUpdate (§5.1.2.1 - §5.1.2.5). */
static int
set_header(X509_CRL *crl, X509 *cacert, time_t now, int validity)
{
	ASN1_TIME	*t;
	int		 ok;

	if (!X509_CRL_set_version(crl, X509_CRL_VERSION_2) ||
	    !X509_CRL_set_issuer_name(crl, X509_get_subject_name(cacert)) ||
	    (t = ASN1_TIME_set(NULL, now)) == NULL)
		return -1;
	ok = X509_CRL_set1_lastUpdate(crl, t) &&
	    ASN1_TIME_set(t, now + validity) != NULL &&
	    X509_CRL_set1_nextUpdate(crl, t);
	ASN1_TIME_free(t);
	return ok ? 0 : -1;
}

static double
elapsed(const struct timespec *t0)
{
	struct timespec	t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) +
	    (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Encodes the signed CRL into a new blob. */
static struct crl_blob *
blob_new(X509_CRL *crl, int64_t number, time_t now, int validity,
    size_t entries, struct err *e)
{
	struct crl_blob	*blob;
	int		 n;

	if ((blob = calloc(1, sizeof(*blob))) == NULL) {
		err_set(e, ERR_NOMEM, "out of memory");
		return NULL;
	}
	/* One call: OpenSSL sizes and encodes the 100 000 entries once. */
	if ((n = i2d_X509_CRL(crl, &blob->der)) <= 0) {
		free(blob);
		err_set_ossl(e, ERR_NOMEM, "crl: cannot encode the CRL");
		return NULL;
	}
	blob->len = (size_t)n;
	blob->number = number;
	blob->this_update = now;
	blob->next_update = now + validity;
	blob->entries = entries;
	snprintf(blob->etag, sizeof(blob->etag), "crl-%lld", (long long)number);
	atomic_init(&blob->refs, 1);
	return blob;
}

struct crl_blob *
crl_sign(struct ca *ca, struct store *st, int validity, struct err *e)
{
	struct crl_build	 b;
	struct crl_blob		*blob = NULL;
	struct timespec		 t0;
	X509			*cacert = ca_cert(ca);
	time_t			 now = time(NULL);
	int64_t			 number;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (build_init(&b) == -1 || set_header(b.crl, cacert, now, validity) == -1) {
		err_set_ossl(e, ERR_NOMEM, "crl: cannot start a CRL");
		goto out;
	}
	if (store_crl_entries(st, (int64_t)now - validity, add_entry, &b,
	    e) == -1) {
		if (b.failed)
			err_set_ossl(e, ERR_NOMEM, "crl: cannot add an entry");
		goto out;
	}
	/* The number last: a failure above leaves no gap in the numbers. */
	if (store_crl_number_next(st, &number, e) == -1)
		goto out;
	if (add_number(b.crl, number) == -1 || add_aki(b.crl, cacert) == -1) {
		err_set_ossl(e, ERR_INTERNAL, "crl: cannot add the extensions");
		goto out;
	}
	if (ca_sign_crl(ca, b.crl, e) == -1)
		goto out;
	if ((blob = blob_new(b.crl, number, now, validity, b.n, e)) != NULL)
		blob->sign_seconds = elapsed(&t0);
out:
	build_free(&b);
	return blob;
}

/* ---- publishing ------------------------------------------------------ */

/* The directory CRL files go to, malloc'd ("" when none), or NULL. */
static char *
crl_dir(const struct scep_conf *conf)
{
	char	*p;

	if (conf->crl_dir[0] == '\0' || conf->crl_dir[0] == '/')
		return strdup(conf->crl_dir);
	return asprintf(&p, "%s/%s", conf->dir, conf->crl_dir) == -1 ? NULL : p;
}

/* Opens dir (made if missing) and takes its lock.  The fd, or -1. */
static int
lock_dir(const char *dir, struct err *e)
{
	int	fd;

	if (mkdir(dir, 0755) == -1 && errno != EEXIST) {
		err_set(e, ERR_IO, "crl: cannot create %s: %s", dir,
		    strerror(errno));
		return -1;
	}
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		err_set(e, ERR_IO, "crl: cannot open %s: %s", dir,
		    strerror(errno));
		return -1;
	}
	while (flock(fd, LOCK_EX) == -1) {
		if (errno != EINTR) {
			err_set(e, ERR_IO, "crl: cannot lock %s: %s", dir,
			    strerror(errno));
			close(fd);
			return -1;
		}
	}
	return fd;
}

/*
 * Signs and writes; *out gets the blob even when only the writing
 * failed (the daemon still serves it).  Returns 0 or -1.
 */
static int
publish(struct ca *ca, struct store *st, const struct scep_conf *conf,
    struct crl_blob **out, struct err *e)
{
	char	*dir = NULL, *path = NULL;
	int	 fd = -1, rc = -1;

	*out = NULL;
	if ((dir = crl_dir(conf)) == NULL) {
		err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	if (dir[0] == '\0') {
		rc = (*out = crl_sign(ca, st, conf->crl_next_update, e)) ? 0 : -1;
		goto out;
	}
	if (asprintf(&path, "%s/%s.crl", dir, conf->name) == -1) {
		path = NULL;
		err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((fd = lock_dir(dir, e)) == -1 ||
	    (*out = crl_sign(ca, st, conf->crl_next_update, e)) == NULL)
		goto out;
	rc = file_write_atomic(path, (*out)->der, (*out)->len, 0644, e);
out:
	if (fd != -1)
		close(fd);	/* releases the lock */
	free(dir);
	free(path);
	return rc;
}

struct crl_blob *
crl_publish(struct ca *ca, struct store *st, const struct scep_conf *conf,
    struct err *e)
{
	struct crl_blob	*blob;

	if (publish(ca, st, conf, &blob, e) == 0)
		return blob;
	crl_blob_release(blob);
	return NULL;
}

/* ---- the service ----------------------------------------------------- */

/*
 * The daemon's publisher.  lock guards current; conf, ca and store are
 * shared read-only (thread-safe themselves).  The worker runs
 * service_main(); crl_service_changed() wakes it.
 */
struct crl_service {
	const struct scep_conf	*conf;
	struct ca		*ca;
	struct store		*st;
	struct worker		 worker;
	pthread_mutex_t		 lock;
	struct crl_blob		*current;	/* never NULL once started */
};

/* Signs, swaps the new CRL in and logs.  Called without the lock. */
static int
service_sign(struct crl_service *svc, const char *why)
{
	struct crl_blob	*blob = NULL, *old;
	struct err	 e = {0};
	int		 rc;

	rc = publish(svc->ca, svc->st, svc->conf, &blob, &e);
	if (blob == NULL) {
		log_err("crl", "signing the CRL failed: %s", e.msg);
		return -1;
	}
	if (rc == -1)
		log_err("crl", "CRL %lld signed but not written: %s",
		    (long long)blob->number, e.msg);
	log_info("crl", "CRL %lld signed (%s): %zu entries, %zu bytes, %.0f ms",
	    (long long)blob->number, why, blob->entries, blob->len,
	    blob->sign_seconds * 1000);
	pthread_mutex_lock(&svc->lock);
	old = svc->current;
	svc->current = blob;
	pthread_mutex_unlock(&svc->lock);
	crl_blob_release(old);
	return 0;
}

/*
 * Reads the store's revocation token into *gen (compared for equality
 * only); keeps *gen when the store cannot tell (it logs why).
 */
static void
poll_generation(struct crl_service *svc, int64_t *gen)
{
	uint64_t	t;

	if ((t = store_watch_token(svc->st, STORE_WATCH_REVOCATION)) != 0)
		*gen = (int64_t)t;
}

/*
 * What the thread should do now; sets *wait (worker_now_ms() clock) to
 * when to look again.  changed: a revocation changed since the last
 * signing.  failed: the last signing failed (retry no faster than
 * CRL_RETRY_SECONDS).
 */
static const char *
due(struct crl_service *svc, int changed, int64_t last, int failed,
    int64_t *wait)
{
	int64_t		now = worker_now_ms();
	time_t		refresh;
	const char	*why = NULL;
	int		interval = svc->conf->crl_min_interval;

	*wait = now + CRL_POLL_SECONDS * 1000;
	/* Always re-sign before nextUpdate: at half the validity. */
	refresh = svc->current->this_update + svc->conf->crl_next_update / 2;
	if (changed)
		why = "revocation change";
	else if (time(NULL) >= refresh)
		why = "refresh before nextUpdate";
	if (why == NULL)
		return NULL;
	/* Coalesce: at most one signing per min_interval (whole seconds). */
	if (failed && interval < CRL_RETRY_SECONDS)
		interval = CRL_RETRY_SECONDS;
	if (now / 1000 - last / 1000 < interval) {
		*wait = last + (int64_t)interval * 1000;
		return NULL;
	}
	return why;
}

static void *
service_main(void *arg)
{
	struct crl_service	*svc = arg;
	const char		*why;
	int64_t			 gen = 0, seen = 0, last, wait;
	int			 failed = 0, changed = 0;
	enum worker_wait	 woke;

	poll_generation(svc, &seen);
	gen = seen;
	last = worker_now_ms();	/* crl_service_start() has just signed */
	while (!worker_stopping(&svc->worker)) {
		if ((why = due(svc, changed || gen != seen, last, failed,
		    &wait)) != NULL) {
			changed = 0;
			/* Read before signing: a later change is seen next. */
			poll_generation(svc, &gen);
			failed = service_sign(svc, why) == -1;
			if (!failed)
				seen = gen;
			last = worker_now_ms();
			continue;
		}
		if ((woke = worker_sleep_until(&svc->worker, wait)) ==
		    WORKER_STOPPED)
			break;
		if (woke == WORKER_WOKEN)
			changed = 1;
		poll_generation(svc, &gen);
	}
	return NULL;
}

static void
service_free(struct crl_service *svc)
{
	worker_destroy(&svc->worker);
	pthread_mutex_destroy(&svc->lock);
	crl_blob_release(svc->current);
	free(svc);
}

struct crl_service *
crl_service_start(struct scep_ctx *ctx, struct err *e)
{
	struct crl_service	*svc;

	if ((svc = calloc(1, sizeof(*svc))) == NULL) {
		err_set(e, ERR_NOMEM, "out of memory");
		return NULL;
	}
	svc->conf = ctx->conf;
	svc->ca = ctx->ca;
	svc->st = ctx->store;
	pthread_mutex_init(&svc->lock, NULL);
	worker_init(&svc->worker);
	if (publish(svc->ca, svc->st, svc->conf, &svc->current, e) == -1) {
		if (svc->current == NULL)
			goto fail;
		log_err("crl", "%s", e->msg);	/* served from memory anyway */
		err_clear(e);
	}
	log_info("crl", "CRL %lld signed at start: %zu entries, %.0f ms",
	    (long long)svc->current->number, svc->current->entries,
	    svc->current->sign_seconds * 1000);
	if (worker_start(&svc->worker, service_main, svc) == -1) {
		err_set(e, ERR_INTERNAL, "crl: cannot start the thread");
		goto fail;
	}
	return svc;
fail:
	service_free(svc);
	return NULL;
}

void
crl_service_stop(struct crl_service *svc)
{
	if (svc == NULL)
		return;
	worker_stop(&svc->worker);
	service_free(svc);
}

void
crl_service_changed(struct crl_service *svc)
{
	worker_wake(&svc->worker);
}

struct crl_blob *
crl_service_current(struct crl_service *svc)
{
	struct crl_blob	*b;

	pthread_mutex_lock(&svc->lock);
	b = svc->current;
	atomic_fetch_add(&b->refs, 1);
	pthread_mutex_unlock(&svc->lock);
	return b;
}

/* ---- HTTP ------------------------------------------------------------ */

/* MHD's free callback: the response held a reference. */
static void
release_cb(void *cls)
{
	crl_blob_release(cls);
}

/* Is url "/crl/<name>.crl"? */
static int
is_our_crl(const struct scep_conf *conf, const char *url)
{
	size_t	n = strlen(conf->name);

	return strncmp(url, "/crl/", 5) == 0 &&
	    strncmp(url + 5, conf->name, n) == 0 &&
	    strcmp(url + 5 + n, ".crl") == 0;
}

enum MHD_Result
crl_http(void *arg, struct MHD_Connection *conn, const char *url,
    const char *method, const unsigned char *body, size_t body_len)
{
	struct crl_service	*svc = arg;
	struct crl_blob		*b;
	struct MHD_Response	*r;
	enum MHD_Result		 ret;
	unsigned		 status = MHD_HTTP_OK;

	(void)body;
	(void)body_len;
	if (!is_our_crl(svc->conf, url))
		return http_error(conn, MHD_HTTP_NOT_FOUND, "no such CRL");
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0)
		return http_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "use GET");
	b = crl_service_current(svc);
	if (http_cache_not_modified(conn, b->etag)) {
		status = MHD_HTTP_NOT_MODIFIED;
		r = MHD_create_response_from_buffer(0, NULL,
		    MHD_RESPMEM_PERSISTENT);
	} else {
		/* No copy: the response holds a reference of its own. */
		atomic_fetch_add(&b->refs, 1);
		r = MHD_create_response_from_buffer_with_free_callback_cls(
		    b->len, b->der, release_cb, b);
		if (r == NULL)
			crl_blob_release(b);
	}
	if (r == NULL) {
		crl_blob_release(b);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "application/pkix-crl");
	http_cache_headers(r, b->this_update, b->next_update, time(NULL),
	    b->etag);
	crl_blob_release(b);
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}
