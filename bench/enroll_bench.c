/*
 * enroll_bench.c - SCEP enrollment load generator (RFC 8894 PKCSReq).
 *
 * Fetches GetCACert, pre-builds N PKCSReq messages before timing (RSA
 * keys from a pool of K, each message with its own CSR, signer
 * certificate, transactionID and senderNonce), then replays them over C
 * keep-alive connections, one thread and curl handle each.  Every reply is
 * checked (signature, SUCCESS, transactionID, recipientNonce) but not
 * decrypted while timing.  Afterwards a sample (or all, --check-serials)
 * is decrypted to count distinct serials.  Prints:
 *
 *   requests=N ok=N failed=N seconds=S rate=R/s client_cpu_ms=C
 * (C: this client's own CPU per request while replaying)
 *   checked=M distinct_serials=D cipher=C digest=D echoed_nonces=E dup_sender_nonces=X
 */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../tests/tools/scephttp_lib.h"
#include "../tests/tools/scepmsg_lib.h"
#include "base/encode.h"

#define MAX_THREADS	256
#define MAX_ERRORS	5	/* distinct failure reasons kept for stderr */

struct opts {
	const char		*url, *challenge, *keytype, *prefix;
	const EVP_CIPHER	*cipher;
	const EVP_MD		*md;
	long			 requests, concurrency, keys, sample;
	int			 check_serials, rep_flags;
};

/* One pre-built request and what came back for it. */
struct item {
	EVP_PKEY		*key;		/* borrowed from the pool */
	X509			*signer;	/* owned: decrypts the reply */
	struct scepmsg_req	*req;		/* owned */
	struct scepmsg_rep	*rep;		/* owned, when the reply checked */
};

/*
 * The run.  Workers share it: items[i] is written only by the thread that
 * took index i; `next` and the error list are under `lock`.
 */
struct bench {
	struct opts		 o;
	STACK_OF(X509)		*cacerts;
	X509			*recipient;	/* borrowed from cacerts */
	EVP_PKEY		**pool;		/* o.keys keys */
	struct item		*items;		/* o.requests items */
	pthread_mutex_t		 lock;
	long			 next;
	long			 failed;
	char			 errors[MAX_ERRORS][200];
	int			 n_errors;
};

static double
now_seconds(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
usage(FILE *f)
{
	fputs("usage: enroll_bench --url URL --challenge S --requests N "
	    "--concurrency C\n"
	    "         [--keys K (32)] [--keytype rsa:2048] [--digest sha256] "
	    "[--cipher aes128]\n"
	    "         [--sample M (100)] [--check-serials] "
	    "[--allow-echoed-nonce] [--prefix CN-PREFIX]\n", f);
}

/* Parses a positive number option; returns -1 when it is not one. */
static long
positive(const char *s)
{
	char	*end;
	long	 v = strtol(s, &end, 10);

	return *end == '\0' && v > 0 ? v : -1;
}

static int
opts_parse(struct opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "challenge", required_argument, NULL, 'c' },
		{ "requests", required_argument, NULL, 'n' },
		{ "concurrency", required_argument, NULL, 'j' },
		{ "keys", required_argument, NULL, 'k' },
		{ "keytype", required_argument, NULL, 'K' },
		{ "digest", required_argument, NULL, 'd' },
		{ "cipher", required_argument, NULL, 'C' },
		{ "sample", required_argument, NULL, 's' },
		{ "check-serials", no_argument, NULL, 'S' },
		{ "allow-echoed-nonce", no_argument, NULL, 'E' },
		{ "prefix", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int	c;

	*o = (struct opts){ .keytype = "rsa:2048", .requests = 1000,
	    .concurrency = 2, .keys = 32, .sample = 100, .md = EVP_sha256(),
	    .cipher = EVP_aes_128_cbc() };
	o->prefix = "bench";
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'u': o->url = optarg; break;
		case 'c': o->challenge = optarg; break;
		case 'n': o->requests = positive(optarg); break;
		case 'j': o->concurrency = positive(optarg); break;
		case 'k': o->keys = positive(optarg); break;
		case 'K': o->keytype = optarg; break;
		case 'd': o->md = scepmsg_md_by_name(optarg); break;
		case 'C': o->cipher = scepmsg_cipher_by_name(optarg); break;
		case 's': o->sample = positive(optarg); break;
		case 'S': o->check_serials = 1; break;
		case 'E': o->rep_flags |= SCEPMSG_REP_ALLOW_ECHOED_NONCE; break;
		case 'p': o->prefix = optarg; break;
		case 'h': return 1;
		default: return -1;
		}
	}
	if (o->url == NULL || o->requests < 1 || o->concurrency < 1 ||
	    o->concurrency > MAX_THREADS || o->keys < 1 || o->sample < 1 ||
	    o->md == NULL || o->cipher == NULL || optind != argc)
		return -1;
	return 0;
}

/* GetCACert, before timing. */
static int
fetch_cacert(struct bench *b)
{
	struct scephttp		*h = NULL;
	struct scephttp_reply	 r = {0};
	struct err		 e = {0};
	int			 rc = -1;

	if ((h = scephttp_new(b->o.url, &e)) == NULL ||
	    scephttp_get(h, "GetCACert", NULL, &r, &e) == -1)
		goto out;
	if (r.status != 200) {
		err_set(&e, ERR_REMOTE, "GetCACert answered HTTP %ld", r.status);
		goto out;
	}
	if ((b->cacerts = scepmsg_cacert_parse(r.content_type, r.body.data,
	    r.body.len, &e)) == NULL)
		goto out;
	b->recipient = scepmsg_cacert_recipient(b->cacerts);
	rc = 0;
out:
	if (rc == -1)
		fprintf(stderr, "enroll_bench: GetCACert: %s\n", e.msg);
	scephttp_reply_reset(&r);
	scephttp_free(h);
	return rc;
}

/* Builds request i: CSR, signer certificate, pkiMessage. */
static int
build_one(struct bench *b, long i, struct err *e)
{
	struct item		*it = &b->items[i];
	char			 subject[128], txid[SCEPMSG_TXID_MAX], hash[41];
	X509_REQ		*csr = NULL;
	struct scepmsg_csr_spec	 cs = { .subject = subject,
	    .challenge = b->o.challenge, .md = b->o.md };
	struct scepmsg_spec	 ms = { .type = SCEP_MT_PKCSREQ,
	    .recipient = b->recipient, .cipher = b->o.cipher, .md = b->o.md,
	    .txid = txid };
	int			 rc = -1;

	it->key = b->pool[i % b->o.keys];
	snprintf(subject, sizeof(subject), "/CN=%s-%ld-%ld", b->o.prefix,
	    (long)getpid(), i);
	if ((csr = scepmsg_csr_new(it->key, &cs, e)) == NULL ||
	    (it->signer = scepmsg_selfsigned_new(it->key,
	    X509_REQ_get_subject_name(csr), e)) == NULL)
		goto out;
	/* Keys repeat across the pool: make every transactionID distinct. */
	if (scepmsg_key_txid(X509_REQ_get_X509_PUBKEY(csr), hash) == -1)
		goto out;
	snprintf(txid, sizeof(txid), "%s-%ld", hash, i);
	ms.csr = csr;
	ms.signer_cert = it->signer;
	ms.signer_key = it->key;
	if ((it->req = scepmsg_req_build(&ms, e)) == NULL)
		goto out;
	rc = 0;
out:
	X509_REQ_free(csr);
	return rc;
}

/* Arguments of one preparation thread. */
struct prep {
	struct bench	*b;
	long		 first, step;
	int		 rc;
	struct err	 e;
};

/* Makes the pool keys first, first+step, ... */
static void *
prep_thread(void *arg)
{
	struct prep	*p = arg;
	struct bench	*b = p->b;
	long		 i;

	p->rc = -1;
	for (i = p->first; i < b->o.keys; i += p->step)
		if ((b->pool[i] = scepmsg_keygen(b->o.keytype, &p->e)) == NULL)
			return NULL;
	p->rc = 0;
	return NULL;
}

/* Builds the messages first, first+step, ... */
static void *
prep_msgs_thread(void *arg)
{
	struct prep	*p = arg;
	long		 i;

	p->rc = -1;
	for (i = p->first; i < p->b->o.requests; i += p->step)
		if (build_one(p->b, i, &p->e) == -1)
			return NULL;
	p->rc = 0;
	return NULL;
}

/* Runs fn over nthreads preparation threads.  Returns 0 or -1. */
static int
prep_run(struct bench *b, void *(*fn)(void *), long nthreads)
{
	struct prep	p[MAX_THREADS];
	pthread_t	t[MAX_THREADS];
	long		i;
	int		rc = 0;

	for (i = 0; i < nthreads; i++) {
		p[i] = (struct prep){ .b = b, .first = i, .step = nthreads,
		    .rc = 0 };
		if (pthread_create(&t[i], NULL, fn, &p[i]) != 0)
			return -1;
	}
	for (i = 0; i < nthreads; i++) {
		pthread_join(t[i], NULL);
		if (p[i].rc == -1 || p[i].e.code != ERR_OK) {
			fprintf(stderr, "enroll_bench: preparing: %s\n",
			    p[i].e.msg);
			rc = -1;
		}
	}
	return rc;
}

/* Generates the key pool and all messages, on every core. */
static int
prepare(struct bench *b)
{
	long	ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	if (ncpu < 1)
		ncpu = 1;
	if (ncpu > MAX_THREADS)
		ncpu = MAX_THREADS;
	if ((b->pool = calloc((size_t)b->o.keys, sizeof(*b->pool))) == NULL ||
	    (b->items = calloc((size_t)b->o.requests,
	    sizeof(*b->items))) == NULL)
		return -1;
	scepmsg_nids();		/* register the OIDs before threads race */
	if (prep_run(b, prep_thread, ncpu) == -1 ||
	    prep_run(b, prep_msgs_thread, ncpu) == -1)
		return -1;
	return 0;
}

/* Counts a failure and keeps its reason if new. */
static void
record_failure(struct bench *b, const char *why)
{
	int	i;

	pthread_mutex_lock(&b->lock);
	b->failed++;
	for (i = 0; i < b->n_errors; i++)
		if (strcmp(b->errors[i], why) == 0)
			break;
	if (i == b->n_errors && b->n_errors < MAX_ERRORS)
		snprintf(b->errors[b->n_errors++], sizeof(b->errors[0]), "%s",
		    why);
	pthread_mutex_unlock(&b->lock);
}

/* Sends request i and checks the reply; no decryption here. */
static void
enroll_one(struct bench *b, struct scephttp *h, struct scephttp_reply *r,
    long i)
{
	struct item	*it = &b->items[i];
	struct err	 e = {0};
	char		 why[200];

	if (scephttp_post_pkiop(h, it->req->der.data, it->req->der.len, r,
	    &e) == -1)
		return record_failure(b, e.msg);
	if (r->status != 200) {
		snprintf(why, sizeof(why), "HTTP %ld", r->status);
		return record_failure(b, why);
	}
	it->rep = scepmsg_rep_parse(r->body.data, r->body.len, b->cacerts,
	    it->req, b->o.rep_flags, &e);
	if (it->rep == NULL)
		return record_failure(b, e.msg);
	if (it->rep->status != SCEP_STATUS_SUCCESS) {
		snprintf(why, sizeof(why), "status %s failInfo %s",
		    scepmsg_status_name(it->rep->status),
		    err_fail_info_name(it->rep->fail_info));
		scepmsg_rep_free(it->rep);
		it->rep = NULL;
		return record_failure(b, why);
	}
}

/* One client: its own curl handle, kept alive, until the work runs out. */
static void *
client_thread(void *arg)
{
	struct bench		*b = arg;
	struct scephttp		*h;
	struct scephttp_reply	 r = {0};
	struct err		 e = {0};
	long			 i;

	if ((h = scephttp_new(b->o.url, &e)) == NULL)
		return NULL;
	for (;;) {
		pthread_mutex_lock(&b->lock);
		i = b->next < b->o.requests ? b->next++ : -1;
		pthread_mutex_unlock(&b->lock);
		if (i < 0)
			break;
		enroll_one(b, h, &r, i);
	}
	scephttp_reply_reset(&r);
	scephttp_free(h);
	return NULL;
}

/* The timed part.  Returns the elapsed seconds, or -1. */
static double
replay(struct bench *b)
{
	pthread_t	t[MAX_THREADS];
	double		start;
	long		i, n;

	start = now_seconds();
	for (n = 0; n < b->o.concurrency; n++)
		if (pthread_create(&t[n], NULL, client_thread, b) != 0)
			break;
	for (i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	return n == b->o.concurrency ? now_seconds() - start : -1;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Counts distinct strings in v (sorted in place). */
static long
distinct(char **v, long n)
{
	long	i, d = n > 0;

	qsort(v, (size_t)n, sizeof(*v), cmp_str);
	for (i = 1; i < n; i++)
		if (strcmp(v[i], v[i - 1]) != 0)
			d++;
	return d;
}

/* Decrypts reply i and returns its serial (malloc'ed), or NULL. */
static char *
serial_of(struct bench *b, long i, struct scepmsg_legacy *legacy)
{
	struct item	*it = &b->items[i];
	STACK_OF(X509)	*certs = NULL;
	X509		*cert;
	struct err	 e = {0};
	char		 hex[SERIAL_HEX_MAX], *s = NULL;

	if (scepmsg_rep_open(it->rep, it->key, it->signer,
	    scepmsg_legacy_ctx(legacy), &certs, NULL, &e) == -1)
		fprintf(stderr, "enroll_bench: reply %ld: %s\n", i, e.msg);
	else if ((cert = scepmsg_certs_find_key(certs, it->key)) == NULL)
		fprintf(stderr, "enroll_bench: reply %ld: no certificate for "
		    "the request's key\n", i);
	else if (scepmsg_serial_hex(cert, hex, sizeof(hex)) == 0)
		s = strdup(hex);
	sk_X509_pop_free(certs, X509_free);
	return s;
}

/* Collects the indexes of the successful replies to decrypt. */
static long
pick_sample(struct bench *b, long *idx)
{
	long	i, n = 0, ok = 0, stride;

	for (i = 0; i < b->o.requests; i++)
		ok += b->items[i].rep != NULL;
	stride = b->o.check_serials || ok <= b->o.sample ? 1 :
	    ok / b->o.sample;
	for (i = 0, ok = 0; i < b->o.requests; i++) {
		if (b->items[i].rep == NULL || ok++ % stride != 0)
			continue;
		if (!b->o.check_serials && n == b->o.sample)
			break;
		idx[n++] = i;
	}
	return n;
}

/* After timing: serials of a sample, nonce freshness.  Prints line 2. */
static int
check_after(struct bench *b)
{
	struct scepmsg_legacy	*legacy = NULL;
	struct err		 e = {0};
	long			*idx, n, i, got = 0, echoed = 0, nn = 0;
	char			**serials, **nonces;
	const struct scepmsg_rep *any = NULL;
	struct buf		 hex = {0};

	idx = calloc((size_t)b->o.requests, sizeof(*idx));
	serials = calloc((size_t)b->o.requests, sizeof(*serials));
	nonces = calloc((size_t)b->o.requests, sizeof(*nonces));
	if (idx == NULL || serials == NULL || nonces == NULL)
		return -1;
	n = pick_sample(b, idx);
	for (i = 0; i < b->o.requests; i++) {
		const struct scepmsg_rep *r = b->items[i].rep;

		if (r == NULL)
			continue;
		any = r;
		echoed += r->nonce_echoed;
		buf_reset(&hex);
		if (!r->nonce_echoed && hex_encode(&hex, r->sender_nonce,
		    SCEPMSG_NONCE_LEN, 0) == 0 &&
		    (nonces[nn] = strdup((char *)hex.data)) != NULL)
			nn++;
	}
	/* Single DES needs the legacy provider; load it for this only. */
	if (any != NULL && strcmp(any->cipher, "des-cbc") == 0 &&
	    (legacy = scepmsg_legacy_new(&e)) == NULL)
		fprintf(stderr, "enroll_bench: %s\n", e.msg);
	for (i = 0; i < n; i++)
		if ((serials[got] = serial_of(b, idx[i], legacy)) != NULL)
			got++;
	printf("checked=%ld decrypted=%ld distinct_serials=%ld cipher=%s "
	    "digest=%s echoed_nonces=%ld dup_sender_nonces=%ld\n", n, got,
	    distinct(serials, got), any ? any->cipher : "none",
	    any ? any->digest : "none", echoed, nn - distinct(nonces, nn));
	for (i = 0; i < b->o.requests; i++) {
		free(serials[i]);
		free(nonces[i]);
	}
	free(serials);
	free(nonces);
	free(idx);
	buf_free(&hex);
	scepmsg_legacy_free(legacy);
	return got == n ? 0 : -1;
}

static void
bench_free(struct bench *b)
{
	long	i;

	for (i = 0; b->items != NULL && i < b->o.requests; i++) {
		X509_free(b->items[i].signer);
		scepmsg_req_free(b->items[i].req);
		scepmsg_rep_free(b->items[i].rep);
	}
	for (i = 0; b->pool != NULL && i < b->o.keys; i++)
		EVP_PKEY_free(b->pool[i]);
	free(b->items);
	free(b->pool);
	sk_X509_pop_free(b->cacerts, X509_free);
	pthread_mutex_destroy(&b->lock);
}

/* CPU seconds this process has used so far. */
static double
cpu_seconds(void)
{
	struct timespec	t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int
run(struct bench *b)
{
	double	secs, cpu;
	long	ok;
	int	i;

	if (fetch_cacert(b) == -1 || prepare(b) == -1)
		return -1;
	cpu = cpu_seconds();
	if ((secs = replay(b)) < 0) {
		fprintf(stderr, "enroll_bench: cannot start the clients\n");
		return -1;
	}
	cpu = cpu_seconds() - cpu;
	ok = b->o.requests - b->failed;
	printf("requests=%ld ok=%ld failed=%ld seconds=%.3f rate=%.1f/s"
	    " client_cpu_ms=%.3f\n", b->o.requests, ok, b->failed, secs,
	    secs > 0 ? ok / secs : 0.0, cpu * 1000.0 / (double)b->o.requests);
	fflush(stdout);
	for (i = 0; i < b->n_errors; i++)
		fprintf(stderr, "enroll_bench: failure: %s\n", b->errors[i]);
	if (check_after(b) == -1)
		return -1;
	return b->failed == 0 ? 0 : -1;
}

int
main(int argc, char **argv)
{
	struct bench	b;
	int		rc;

	memset(&b, 0, sizeof(b));
	pthread_mutex_init(&b.lock, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((rc = opts_parse(&b.o, argc, argv)) != 0) {
		usage(rc == 1 ? stdout : stderr);
		pthread_mutex_destroy(&b.lock);
		return rc == 1 ? 0 : 2;
	}
	if (scephttp_global_init() == -1)
		return 1;
	rc = run(&b) == 0 ? 0 : 1;
	bench_free(&b);
	scephttp_global_cleanup();
	return rc;
}
