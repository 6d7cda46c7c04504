/*
 * http_cache.h - HTTP caching headers for published revocation data (CRL,
 * OCSP responses): Last-Modified, Expires, ETag and Cache-Control
 * matching the object's own validity (RFC 5019 §6.2, RFC 9111 §5).
 * Stateless and thread-safe.
 */
#ifndef SCEPCA_HTTP_CACHE_H
#define SCEPCA_HTTP_CACHE_H

#include <time.h>

#include <microhttpd.h>

/* Formats t as an HTTP date, "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 9110 §5.6.7). */
void	http_cache_date(time_t t, char out[32]);

/*
 * Adds Last-Modified (modified), Expires (expires), ETag (etag, quoted
 * here; may be NULL) and "Cache-Control: public, max-age=N, no-transform,
 * must-revalidate" with N = expires - now (never negative) to r.
 * Returns 0, or -1 when a header could not be added.
 */
int	http_cache_headers(struct MHD_Response *r, time_t modified,
	    time_t expires, time_t now, const char *etag);

/* 1 when the request's If-None-Match names etag (unquoted), else 0. */
int	http_cache_not_modified(struct MHD_Connection *conn, const char *etag);

#endif
