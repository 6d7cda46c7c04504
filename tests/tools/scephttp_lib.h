/*
 * scephttp_lib.h - the HTTP side of the test SCEP client (RFC 8894 §4.1),
 * on libcurl: GetCACaps, GetCACert, PKIOperation by POST or by GET with
 * every base64 variant real clients send.
 *
 * Thread-safety: one struct scephttp per thread (it owns a curl handle,
 * kept alive between requests).  Call scephttp_global_init() once in
 * main() before any thread starts.
 */
#ifndef SCEPHTTP_LIB_H
#define SCEPHTTP_LIB_H

#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"

/* How the pkiMessage is written into a GET `message=` parameter. */
enum scephttp_b64 {
	SCEPHTTP_B64_ENCODED,	/* standard base64, URL-encoded (%2B %2F %3D) */
	SCEPHTTP_B64_RAW,	/* standard base64 with raw '+', '/', '=' */
	SCEPHTTP_B64_URLSAFE,	/* '-' and '_', padded */
	SCEPHTTP_B64_NOPAD,	/* standard base64, URL-encoded, no padding */
	SCEPHTTP_B64_URLSAFE_NOPAD, /* '-' and '_', no padding */
};

/* Parses "encoded", "raw", "urlsafe", "nopad", "urlsafe-nopad". 0 / -1. */
int	scephttp_b64_parse(const char *name, enum scephttp_b64 *out);

/* One HTTP answer. */
struct scephttp_reply {
	long		status;		/* HTTP status, 0 when none arrived */
	char		content_type[128];
	struct buf	body;
};

/* Empties a reply for reuse (keeps nothing).  Accepts NULL. */
void	scephttp_reply_reset(struct scephttp_reply *r);

struct scephttp;

/* Initialises libcurl; call once before threads.  Returns 0 or -1. */
int	scephttp_global_init(void);
void	scephttp_global_cleanup(void);

/*
 * A client for one SCEP URL such as http://127.0.0.1:8080/scep.
 * Returns it (scephttp_free), or NULL with e set.
 */
struct scephttp *scephttp_new(const char *url, struct err *e);
void	scephttp_free(struct scephttp *h);

/*
 * GET url?operation=OP (and &message=MESSAGE when message != NULL, sent
 * as given).  Returns 0 when an HTTP answer arrived (any status), -1 with
 * e set when none did.
 */
int	scephttp_get(struct scephttp *h, const char *op, const char *message,
	    struct scephttp_reply *out, struct err *e);

/* POST url?operation=PKIOperation with the DER body.  As scephttp_get. */
int	scephttp_post_pkiop(struct scephttp *h, const void *der, size_t len,
	    struct scephttp_reply *out, struct err *e);

/* GET url?operation=PKIOperation&message=<base64 variant>.  As above. */
int	scephttp_get_pkiop(struct scephttp *h, const void *der, size_t len,
	    enum scephttp_b64 variant, struct scephttp_reply *out,
	    struct err *e);

#endif
