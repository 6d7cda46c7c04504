/*
 * conns.h - open connection counts of scep-ca's HTTP server, in
 * total and per client address, so that no one address (or /64 for
 * IPv6, what one host usually holds) can take every connection.
 *
 * Thread-safe: the acceptor asks, the event loops count and release.
 */
#ifndef SCEPCA_HTTP_CONNS_H
#define SCEPCA_HTTP_CONNS_H

#include <sys/socket.h>

struct http_conns;
struct http_conn_slot;

/*
 * A table admitting at most max_total connections, max_per_addr from any
 * one address.  NULL when out of memory.
 */
struct http_conns	*http_conns_new(int max_total, int max_per_addr);

/* Frees the table (every slot must have been released).  Accepts NULL. */
void			 http_conns_free(struct http_conns *c);

/*
 * Returns 1 when a connection from sa would be admitted now, 0 when a
 * limit is reached.  Counts nothing: a quick refusal before the
 * connection is handed on.
 */
int			 http_conns_admits(struct http_conns *c,
			    const struct sockaddr *sa);

/*
 * Counts a connection from sa and returns its slot, to be given back to
 * http_conns_release(); NULL (nothing counted) when a limit is reached
 * or memory is short.
 */
struct http_conn_slot	*http_conns_take(struct http_conns *c,
			    const struct sockaddr *sa);

/* Releases a slot http_conns_take() returned.  Accepts NULL. */
void			 http_conns_release(struct http_conns *c,
			    struct http_conn_slot *slot);

/* The number of connections counted now. */
int			 http_conns_open(struct http_conns *c);

#endif
