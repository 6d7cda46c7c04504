/*
 * ocsp_bench.c - OCSP load generator: C concurrent HTTP/1.1 connections
 * (one thread, epoll) sending pre-built RFC 5019 requests (one SHA-1
 * CertID, no nonce) for random serials of a list, checking every answer:
 * HTTP 200, OCSP successful, the asked serial, and the certificate status
 * the list expects.  The first answers are also checked with OpenSSL's
 * own parser.  Keeps connections alive unless the server closes them.
 *
 *   ocsp_bench --url http://127.0.0.1:PORT/ocsp --issuer ca.crt
 *              --serials FILE [--requests N] [--concurrency C]
 *              [--distinct K] [--get] [--label NAME] [--seed S]
 *
 * FILE has one "SERIALHEX V|R" line per certificate (V: expect good,
 * R: expect revoked).  Prints one line:
 *   label=NAME requests=N ok=N failed=N reconnects=N concurrency=C
 *   seconds=S rate=R/s good=N revoked=N client_cpu_us=U
 * and exits 0 when every answer was right.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ocsp.h>
#include <openssl/pem.h>

#include "base/buf.h"
#include "base/encode.h"

#define MAX_CONNS	1024
#define INBUF		65536
#define OPENSSL_CHECKS	200	/* answers also parsed by OpenSSL */

struct opts {
	const char	*url, *issuer, *serials, *label;
	long		 requests, concurrency, distinct;
	unsigned	 seed;
	int		 get;
};

/* One pre-built request. */
struct req {
	struct buf	 http;		/* the whole HTTP request */
	unsigned char	 serial[64];	/* asked serial, magnitude bytes */
	size_t		 serial_len;
	int		 expect;	/* V_OCSP_CERTSTATUS_GOOD / _REVOKED */
	OCSP_CERTID	*id;		/* for the OpenSSL check */
};

struct conn {
	int		 fd;
	int		 connected;
	unsigned int	 events;	/* registered with epoll */
	struct req	*rq;		/* in flight, or NULL */
	size_t		 sent;
	unsigned char	 in[INBUF];
	size_t		 inlen;
	int		 tries;		/* for the request in flight */
};

struct bench {
	struct opts		 o;
	struct sockaddr_in	 addr;
	char			 host[64], path[256];
	struct req		*reqs;
	long			 nreqs;
	long			 issued, done, ok, failed, reconnects, checked;
	long			 good, revoked;
	int			 ep;
	struct conn		 conns[MAX_CONNS];
};

static void
usage(void)
{
	fprintf(stderr, "usage: ocsp_bench --url http://127.0.0.1:PORT/ocsp"
	    " --issuer CA.crt --serials FILE\n"
	    "       [--requests N] [--concurrency C] [--distinct K] [--get]"
	    " [--label NAME] [--seed S]\n");
}

static int
parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "issuer", required_argument, NULL, 'i' },
		{ "serials", required_argument, NULL, 's' },
		{ "requests", required_argument, NULL, 'n' },
		{ "concurrency", required_argument, NULL, 'c' },
		{ "distinct", required_argument, NULL, 'k' },
		{ "label", required_argument, NULL, 'l' },
		{ "seed", required_argument, NULL, 'S' },
		{ "get", no_argument, NULL, 'g' },
		{ NULL, 0, NULL, 0 },
	};
	int	ch;

	*o = (struct opts){ .requests = 20000, .concurrency = 8,
	    .distinct = 10000, .label = "ocsp", .seed = 1 };
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'u': o->url = optarg; break;
		case 'i': o->issuer = optarg; break;
		case 's': o->serials = optarg; break;
		case 'n': o->requests = atol(optarg); break;
		case 'c': o->concurrency = atol(optarg); break;
		case 'k': o->distinct = atol(optarg); break;
		case 'l': o->label = optarg; break;
		case 'S': o->seed = (unsigned)atol(optarg); break;
		case 'g': o->get = 1; break;
		default: return -1;
		}
	}
	if (o->url == NULL || o->issuer == NULL || o->serials == NULL ||
	    o->requests < 1 || o->concurrency < 1 ||
	    o->concurrency > MAX_CONNS || o->distinct < 1)
		return -1;
	return 0;
}

/* "http://1.2.3.4:80/path" into the address, Host and path. */
static int
parse_url(struct bench *b)
{
	const char	*p = b->o.url, *colon, *slash;
	char		 ip[64];

	if (strncmp(p, "http://", 7) != 0)
		return -1;
	p += 7;
	if ((colon = strchr(p, ':')) == NULL ||
	    (size_t)(colon - p) >= sizeof(ip))
		return -1;
	memcpy(ip, p, (size_t)(colon - p));
	ip[colon - p] = '\0';
	slash = strchr(colon, '/');
	snprintf(b->host, sizeof(b->host), "%.*s", (int)((slash ? slash :
	    colon + strlen(colon)) - p), p);
	snprintf(b->path, sizeof(b->path), "%s", slash ? slash : "/");
	b->addr.sin_family = AF_INET;
	b->addr.sin_port = htons((uint16_t)atoi(colon + 1));
	return inet_pton(AF_INET, ip, &b->addr.sin_addr) == 1 ? 0 : -1;
}

/* Appends the URL-encoded standard base64 of der (RFC 6960 A.1). */
static int
append_b64_url(struct buf *out, const unsigned char *der, size_t n)
{
	struct buf	b64 = {0};
	size_t		i;
	int		rc = 0;

	if (b64_encode(&b64, der, n) == -1)
		return -1;
	for (i = 0; i < b64.len && rc == 0; i++) {
		switch (b64.data[i]) {
		case '+': rc = buf_append_str(out, "%2B"); break;
		case '/': rc = buf_append_str(out, "%2F"); break;
		case '=': rc = buf_append_str(out, "%3D"); break;
		default: rc = buf_append(out, &b64.data[i], 1); break;
		}
	}
	buf_free(&b64);
	return rc;
}

/* Builds one request for serial hex with the expected status. */
static int
build_req(struct bench *b, X509 *issuer, const char *hex, int expect,
    struct req *rq)
{
	OCSP_REQUEST	*req = NULL;
	ASN1_INTEGER	*serial = NULL;
	BIGNUM		*bn = NULL;
	unsigned char	*der = NULL;
	int		 n, rc = -1;

	if (!BN_hex2bn(&bn, hex) || (serial = BN_to_ASN1_INTEGER(bn, NULL)) ==
	    NULL || serial->length > (int)sizeof(rq->serial))
		goto out;
	memcpy(rq->serial, serial->data, (size_t)serial->length);
	rq->serial_len = (size_t)serial->length;
	rq->expect = expect;
	if ((rq->id = OCSP_cert_id_new(EVP_sha1(), X509_get_subject_name(issuer),
	    X509_get0_pubkey_bitstr(issuer), serial)) == NULL ||
	    (req = OCSP_REQUEST_new()) == NULL ||
	    OCSP_request_add0_id(req, OCSP_CERTID_dup(rq->id)) == NULL ||
	    (n = i2d_OCSP_REQUEST(req, &der)) <= 0)
		goto out;
	if (b->o.get) {
		if (buf_printf(&rq->http, "GET %s%s", b->path,
		    b->path[strlen(b->path) - 1] == '/' ? "" : "/") == -1 ||
		    append_b64_url(&rq->http, der, (size_t)n) == -1 ||
		    buf_printf(&rq->http, " HTTP/1.1\r\nHost: %s\r\n"
		    "Connection: keep-alive\r\n\r\n", b->host) == -1)
			goto out;
	} else if (buf_printf(&rq->http, "POST %s HTTP/1.1\r\nHost: %s\r\n"
	    "Content-Type: application/ocsp-request\r\nContent-Length: %d\r\n"
	    "Connection: keep-alive\r\n\r\n", b->path, b->host, n) == -1 ||
	    buf_append(&rq->http, der, (size_t)n) == -1)
		goto out;
	rc = 0;
out:
	OPENSSL_free(der);
	OCSP_REQUEST_free(req);
	ASN1_INTEGER_free(serial);
	BN_free(bn);
	return rc;
}

/* Reads the serial list and pre-builds the requests. */
static int
prepare(struct bench *b)
{
	FILE	*f;
	X509	*issuer;
	char	 line[256], (*hex)[130] = NULL, *st;
	int	*exp = NULL;
	long	 n = 0, cap = 0, i, k;
	int	 rc = -1;

	if ((f = fopen(b->o.issuer, "r")) == NULL ||
	    (issuer = PEM_read_X509(f, NULL, NULL, NULL)) == NULL) {
		fprintf(stderr, "ocsp_bench: cannot read %s\n", b->o.issuer);
		return -1;
	}
	fclose(f);
	if ((f = fopen(b->o.serials, "r")) == NULL) {
		fprintf(stderr, "ocsp_bench: cannot read %s\n", b->o.serials);
		X509_free(issuer);
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			hex = realloc(hex, (size_t)cap * sizeof(*hex));
			exp = realloc(exp, (size_t)cap * sizeof(*exp));
			if (hex == NULL || exp == NULL)
				goto out;
		}
		if ((st = strchr(line, ' ')) == NULL)
			continue;
		*st++ = '\0';
		snprintf(hex[n], sizeof(hex[n]), "%.128s", line);
		exp[n++] = *st == 'R' ? V_OCSP_CERTSTATUS_REVOKED :
		    V_OCSP_CERTSTATUS_GOOD;
	}
	if (n == 0) {
		fprintf(stderr, "ocsp_bench: no serials in %s\n", b->o.serials);
		goto out;
	}
	b->nreqs = b->o.distinct;
	if ((b->reqs = calloc((size_t)b->nreqs, sizeof(*b->reqs))) == NULL)
		goto out;
	srandom(b->o.seed);
	for (i = 0; i < b->nreqs; i++) {
		k = random() % n;
		if (build_req(b, issuer, hex[k], exp[k], &b->reqs[i]) == -1) {
			fprintf(stderr, "ocsp_bench: cannot build a request\n");
			goto out;
		}
	}
	rc = 0;
out:
	fclose(f);
	X509_free(issuer);
	free(hex);
	free(exp);
	return rc;
}

/* ---- a minimal DER walk of the answer ------------------------------------ */

/* Reads one TLV at *p (< end): tag, content and length; 0 or -1. */
static int
tlv(const unsigned char **p, const unsigned char *end, int *tag,
    const unsigned char **c, size_t *len)
{
	const unsigned char	*q = *p;
	size_t			 n, i, k;

	if (end - q < 2)
		return -1;
	*tag = *q++;
	n = *q++;
	if (n & 0x80) {
		k = n & 0x7f;
		if (k == 0 || k > 4 || (size_t)(end - q) < k)
			return -1;
		for (n = 0, i = 0; i < k; i++)
			n = (n << 8) | *q++;
	}
	if ((size_t)(end - q) < n)
		return -1;
	*c = q;
	*len = n;
	*p = q + n;
	return 0;
}

/* Enters a constructed TLV of the given tag: [*p, *end) become its content. */
static int
enter(const unsigned char **p, const unsigned char **end, int want)
{
	const unsigned char	*c;
	size_t			 n;
	int			 tag;

	if (tlv(p, *end, &tag, &c, &n) == -1 || tag != want)
		return -1;
	*p = c;
	*end = c + n;
	return 0;
}

static int
skip(const unsigned char **p, const unsigned char *end)
{
	const unsigned char	*c;
	size_t			 n;
	int			 tag;

	return tlv(p, end, &tag, &c, &n);
}

/*
 * The first SingleResponse of a successful OCSPResponse: its status
 * (0 good, 1 revoked, 2 unknown) and serial.  -1 when it is not one.
 */
static int
walk(const unsigned char *p, size_t len, const unsigned char **serial,
    size_t *serial_len)
{
	const unsigned char	*end = p + len, *c;
	size_t			 n;
	int			 tag;

	/* OCSPResponse { responseStatus, [0] { ResponseBytes } } */
	if (enter(&p, &end, 0x30) == -1 || tlv(&p, end, &tag, &c, &n) == -1 ||
	    tag != 0x0a || n != 1 || c[0] != 0 ||
	    enter(&p, &end, 0xa0) == -1 || enter(&p, &end, 0x30) == -1 ||
	    skip(&p, end) == -1 || enter(&p, &end, 0x04) == -1 ||
	    /* BasicOCSPResponse { ResponseData { ... } } */
	    enter(&p, &end, 0x30) == -1 || enter(&p, &end, 0x30) == -1)
		return -1;
	if (p < end && *p == 0xa0 && skip(&p, end) == -1)	/* version */
		return -1;
	if (skip(&p, end) == -1 || skip(&p, end) == -1 ||	/* id, time */
	    enter(&p, &end, 0x30) == -1 || enter(&p, &end, 0x30) == -1)
		return -1;
	/* SingleResponse { CertID { alg, nameHash, keyHash, serial }, status } */
	{
		const unsigned char	*q = p, *qend = end;

		if (enter(&q, &qend, 0x30) == -1 || skip(&q, qend) == -1 ||
		    skip(&q, qend) == -1 || skip(&q, qend) == -1 ||
		    tlv(&q, qend, &tag, serial, serial_len) == -1 || tag != 0x02)
			return -1;
	}
	if (skip(&p, end) == -1 || p >= end)
		return -1;
	switch (*p) {
	case 0x80: return 0;
	case 0xa1: return 1;
	case 0x82: return 2;
	default: return -1;
	}
}

/* OpenSSL's view of the answer must agree with the walk. */
static int
openssl_check(const struct req *rq, const unsigned char *der, size_t len)
{
	OCSP_RESPONSE	*resp;
	OCSP_BASICRESP	*bs = NULL;
	int		 status = -1, reason;

	if ((resp = d2i_OCSP_RESPONSE(NULL, &der, (long)len)) == NULL ||
	    OCSP_response_status(resp) != OCSP_RESPONSE_STATUS_SUCCESSFUL ||
	    (bs = OCSP_response_get1_basic(resp)) == NULL ||
	    !OCSP_resp_find_status(bs, rq->id, &status, &reason, NULL, NULL,
	    NULL))
		status = -1;
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(resp);
	return status;
}

/* Checks one answer body for request rq; 0 right, -1 wrong. */
static int
check_answer(struct bench *b, const struct req *rq, const unsigned char *der,
    size_t len)
{
	const unsigned char	*serial;
	size_t			 slen;
	int			 st;

	st = walk(der, len, &serial, &slen);
	/* INTEGER content may carry a leading 0 for a high first bit. */
	if (slen > rq->serial_len && serial[0] == 0) {
		serial++;
		slen--;
	}
	if (st < 0 || slen != rq->serial_len ||
	    memcmp(serial, rq->serial, slen) != 0 || st != rq->expect)
		return -1;
	if (b->checked < OPENSSL_CHECKS) {
		b->checked++;
		if (openssl_check(rq, der, len) != st)
			return -1;
	}
	if (st == V_OCSP_CERTSTATUS_GOOD)
		b->good++;
	else
		b->revoked++;
	return 0;
}

/* ---- connections ------------------------------------------------------------ */

static int
conn_open(struct bench *b, struct conn *c)
{
	struct epoll_event	ev = { .events = EPOLLOUT | EPOLLIN };
	int			one = 1;

	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd == -1)
		return -1;
	c->events = ev.events;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->connected = 0;
	c->inlen = 0;
	c->sent = 0;
	if (connect(c->fd, (struct sockaddr *)&b->addr, sizeof(b->addr)) == -1 &&
	    errno != EINPROGRESS) {
		close(c->fd);
		c->fd = -1;
		return -1;
	}
	ev.data.ptr = c;
	return epoll_ctl(b->ep, EPOLL_CTL_ADD, c->fd, &ev);
}

static void
conn_close(struct conn *c)
{
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
}

/* Takes the next request, if any are left to issue. */
static void
next_request(struct bench *b, struct conn *c)
{
	c->rq = NULL;
	c->tries = 0;
	if (b->issued < b->o.requests)
		c->rq = &b->reqs[b->issued++ % b->nreqs];
	c->sent = 0;
}

/*
 * Writes what is left of the request; asks epoll for EPOLLOUT only while
 * something is left (epoll_ctl only when that changes: fewer syscalls).
 */
static int
conn_send(struct bench *b, struct conn *c)
{
	struct epoll_event	ev = { .events = EPOLLIN, .data.ptr = c };
	ssize_t			n;

	while (c->rq != NULL && c->sent < c->rq->http.len) {
		n = send(c->fd, c->rq->http.data + c->sent,
		    c->rq->http.len - c->sent, MSG_NOSIGNAL);
		if (n == -1) {
			if (errno != EAGAIN)
				return -1;
			ev.events |= EPOLLOUT;
			break;
		}
		c->sent += (size_t)n;
	}
	if (ev.events == c->events)
		return 0;
	c->events = ev.events;
	return epoll_ctl(b->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/*
 * Looks for a whole answer in c->in.  Returns 1 with the body and whether
 * the server keeps the connection, 0 when more is needed, -1 when broken.
 */
static int
parse_answer(struct conn *c, int eof, int *status, const unsigned char **body,
    size_t *blen, int *keep)
{
	char		*hdr_end, *line, *save = NULL, head[8192];
	size_t		 hlen, clen = (size_t)-1;
	int		 minor = 1;

	hdr_end = memmem(c->in, c->inlen, "\r\n\r\n", 4);
	if (hdr_end == NULL)
		return eof ? -1 : 0;
	hlen = (size_t)(hdr_end - (char *)c->in) + 4;
	if (hlen >= sizeof(head))
		return -1;
	memcpy(head, c->in, hlen - 4);
	head[hlen - 4] = '\0';
	if (sscanf(head, "HTTP/1.%d %d", &minor, status) != 2)
		return -1;
	*keep = minor >= 1;
	for (line = strtok_r(head, "\r\n", &save); line != NULL;
	    line = strtok_r(NULL, "\r\n", &save)) {
		if (strncasecmp(line, "Content-Length:", 15) == 0)
			clen = strtoul(line + 15, NULL, 10);
		else if (strncasecmp(line, "Connection:", 11) == 0)
			*keep = strcasestr(line + 11, "close") == NULL &&
			    (minor >= 1 || strcasestr(line + 11, "keep-alive"));
	}
	if (clen == (size_t)-1) {	/* until the server closes */
		if (!eof)
			return 0;
		clen = c->inlen - hlen;
		*keep = 0;
	}
	if (c->inlen - hlen < clen)
		return eof ? -1 : 0;
	*body = c->in + hlen;
	*blen = clen;
	return 1;
}

/* Retries the request in flight on a new connection (or gives up). */
static int
conn_retry(struct bench *b, struct conn *c)
{
	conn_close(c);
	b->reconnects++;
	if (c->rq != NULL && ++c->tries > 5) {
		b->failed++;
		b->done++;
		next_request(b, c);
	}
	if (c->rq == NULL)
		return 0;
	c->sent = 0;
	return conn_open(b, c);
}

/* Handles readable data: one answer at most per call (HTTP/1.1, no pipelining). */
static int
conn_read(struct bench *b, struct conn *c)
{
	const unsigned char	*body;
	size_t			 blen;
	ssize_t			 n;
	int			 eof = 0, status = 0, keep = 1, r;

	/* One read per event: epoll (level-triggered) tells when there is more. */
	if (c->inlen == sizeof(c->in))
		return -1;
	n = recv(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen, 0);
	if (n > 0)
		c->inlen += (size_t)n;
	else if (n == 0)
		eof = 1;
	else if (errno == EAGAIN)
		return 0;
	else
		return conn_retry(b, c);
	if (c->rq == NULL)
		return eof ? (conn_close(c), 0) : 0;
	if ((r = parse_answer(c, eof, &status, &body, &blen, &keep)) == 0)
		return 0;
	if (r == -1)
		return conn_retry(b, c);
	if (status == 200 && check_answer(b, c->rq, body, blen) == 0)
		b->ok++;
	else
		b->failed++;
	b->done++;
	c->inlen = 0;	/* no pipelining: nothing follows the answer */
	next_request(b, c);
	if (!keep || eof) {
		conn_close(c);
		return c->rq != NULL ? conn_open(b, c) : 0;
	}
	return conn_send(b, c) == -1 ? conn_retry(b, c) : 0;
}

static int
run(struct bench *b)
{
	struct epoll_event	 evs[64];
	struct conn		*c;
	int			 i, n;

	if ((b->ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		return -1;
	for (i = 0; i < b->o.concurrency; i++) {
		c = &b->conns[i];
		c->fd = -1;
		next_request(b, c);
		if (c->rq != NULL && conn_open(b, c) == -1)
			return -1;
	}
	while (b->done < b->o.requests) {
		if ((n = epoll_wait(b->ep, evs, 64, 10000)) <= 0) {
			fprintf(stderr, "ocsp_bench: no progress for 10 s\n");
			return -1;
		}
		for (i = 0; i < n; i++) {
			c = evs[i].data.ptr;
			if (c->fd == -1)
				continue;
			if (!c->connected && (evs[i].events & (EPOLLERR |
			    EPOLLHUP)) && !(evs[i].events & EPOLLIN)) {
				if (conn_retry(b, c) == -1)
					return -1;
				continue;
			}
			if (evs[i].events & EPOLLOUT) {
				c->connected = 1;
				if (conn_send(b, c) == -1 && conn_retry(b, c) == -1)
					return -1;
			}
			if (c->fd != -1 && (evs[i].events & (EPOLLIN | EPOLLHUP |
			    EPOLLERR)) && conn_read(b, c) == -1)
				return -1;
		}
		if (b->reconnects > b->o.requests + 1000) {
			fprintf(stderr, "ocsp_bench: too many broken connections\n");
			return -1;
		}
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static struct bench	 b;
	struct timespec		 t0, t1;
	struct rusage		 ru;
	double			 secs, cpu, cpu0;
	int			 i;

	if (parse_opts(argc, argv, &b.o) == -1) {
		usage();
		return 2;
	}
	if (parse_url(&b) == -1) {
		fprintf(stderr, "ocsp_bench: --url wants http://IPv4:PORT/path\n");
		return 2;
	}
	if (prepare(&b) == -1)
		return 1;
	getrusage(RUSAGE_SELF, &ru);
	cpu0 = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (run(&b) == -1)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec -
	    t0.tv_nsec) / 1e9;
	getrusage(RUSAGE_SELF, &ru);
	cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) - cpu0;
	printf("label=%s requests=%ld ok=%ld failed=%ld reconnects=%ld"
	    " concurrency=%ld seconds=%.3f rate=%.0f/s good=%ld revoked=%ld"
	    " client_cpu_us=%.0f\n", b.o.label, b.o.requests, b.ok, b.failed,
	    b.reconnects, b.o.concurrency, secs, (double)b.done / secs, b.good,
	    b.revoked, cpu / (double)(b.done ? b.done : 1));
	for (i = 0; i < b.o.concurrency; i++)
		conn_close(&b.conns[i]);
	for (i = 0; i < b.nreqs; i++) {
		buf_free(&b.reqs[i].http);
		OCSP_CERTID_free(b.reqs[i].id);
	}
	free(b.reqs);
	return b.failed == 0 && b.ok == b.o.requests ? 0 : 1;
}
