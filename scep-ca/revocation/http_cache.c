/*
 * http_cache.c - HTTP caching headers for the CRL and OCSP responses.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "revocation/http_cache.h"

void
http_cache_date(time_t t, char out[32])
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu",
	    "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr",
	    "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm	tm;

	/* By hand: strftime's names follow the locale, HTTP's do not. */
	gmtime_r(&t, &tm);
	snprintf(out, 32, "%s, %02d %s %04d %02d:%02d:%02d GMT",
	    days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

int
http_cache_headers(struct MHD_Response *r, time_t modified, time_t expires,
    time_t now, const char *etag)
{
	char	date[32], cc[96], tag[96];
	long	age = expires > now ? (long)(expires - now) : 0;

	http_cache_date(modified, date);
	if (MHD_add_response_header(r, MHD_HTTP_HEADER_LAST_MODIFIED, date) !=
	    MHD_YES)
		return -1;
	http_cache_date(expires, date);
	if (MHD_add_response_header(r, MHD_HTTP_HEADER_EXPIRES, date) != MHD_YES)
		return -1;
	/* RFC 5019 §6.2: max-age no later than nextUpdate. */
	snprintf(cc, sizeof(cc), "public, max-age=%ld, no-transform,"
	    " must-revalidate", age);
	if (MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, cc) !=
	    MHD_YES)
		return -1;
	if (etag != NULL) {
		snprintf(tag, sizeof(tag), "\"%s\"", etag);
		if (MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, tag) !=
		    MHD_YES)
			return -1;
	}
	return 0;
}

int
http_cache_not_modified(struct MHD_Connection *conn, const char *etag)
{
	const char	*inm, *p;
	size_t		 n = strlen(etag);

	inm = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_IF_NONE_MATCH);
	if (inm == NULL)
		return 0;
	if (strcmp(inm, "*") == 0)
		return 1;
	/* A list of quoted tags, possibly weak (W/"..."). */
	for (p = strstr(inm, etag); p != NULL; p = strstr(p + 1, etag))
		if (p > inm && p[-1] == '"' && p[n] == '"')
			return 1;
	return 0;
}
