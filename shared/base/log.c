/*
 * log.c - one logging module: formatting, level filter, sink.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/err.h>

#include "base/log.h"

/*
 * Process-wide settings, written only at start-up (see log.h).  This is
 * the one deliberate exception to "no mutable globals", as with syslog.
 */
static log_sink_fn	 sink_fn;
static void		*sink_arg;
static enum log_level	 max_level = LOGL_INFO;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

void
log_set_sink(log_sink_fn fn, void *arg)
{
	sink_fn = fn;
	sink_arg = arg;
}

void
log_set_level(enum log_level level)
{
	max_level = level;
}

int
log_level_parse(const char *s, enum log_level *out)
{
	size_t	i;

	for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcasecmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

int
log_enabled(enum log_level level)
{
	return level <= max_level;
}

static void
log_emit(enum log_level level, const char *line)
{
	char		 ts[32];
	struct timespec	 now;
	struct tm	 tm;

	if (sink_fn != NULL) {
		sink_fn(sink_arg, level, line);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	/* One fprintf per line keeps lines whole under concurrent writers. */
	fprintf(stderr, "%s.%03ldZ %s %s\n", ts, now.tv_nsec / 1000000L,
	    level_names[level], line);
}

/*
 * Length of the well-formed UTF-8 sequence at s (RFC 3629 §4: no overlong
 * forms, no surrogates, nothing above U+10FFFF), or 0 when it is not one.
 * C1 controls (U+0080..U+009F, which terminals may act on) count as
 * malformed, so they are escaped like C0 controls.
 */
static size_t
utf8_len(const unsigned char *s)
{
	size_t		n, i;
	unsigned char	lo = 0x80, hi = 0xbf;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (s[0] == 0xc2)
		lo = 0xa0;		/* U+0080..U+009F: C1 controls */
	else if (s[0] == 0xe0)
		lo = 0xa0;		/* overlong */
	else if (s[0] == 0xed)
		hi = 0x9f;		/* surrogates */
	else if (s[0] == 0xf0)
		lo = 0x90;		/* overlong */
	else if (s[0] == 0xf4)
		hi = 0x8f;		/* above U+10FFFF */
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

size_t
log_escape(char *out, size_t size, const char *in)
{
	static const char	 hex[] = "0123456789abcdef";
	const unsigned char	*s = (const unsigned char *)in;
	size_t			 o = 0, n;
	char			 esc[5];

	if (size == 0)
		return 0;
	while (*s != '\0') {
		n = *s < 0x80 ? 1 : utf8_len(s);
		if (n > 1 || (n == 1 && *s >= 0x20 && *s != 0x7f)) {
			if (o + n >= size)
				break;
			memcpy(out + o, s, n);
			o += n;
			s += n;
			continue;
		}
		/* A control character, DEL or a byte of no character. */
		if (*s == '\n' || *s == '\r' || *s == '\t') {
			esc[0] = '\\';
			esc[1] = *s == '\n' ? 'n' : *s == '\r' ? 'r' : 't';
			n = 2;
		} else {
			esc[0] = '\\';
			esc[1] = 'x';
			esc[2] = hex[*s >> 4];
			esc[3] = hex[*s & 0xf];
			n = 4;
		}
		if (o + n >= size)
			break;
		memcpy(out + o, esc, n);
		o += n;
		s++;
	}
	out[o] = '\0';
	return o;
}

void
log_vmsg(enum log_level level, const char *subsys, const char *fmt, va_list ap)
{
	char	raw[2048], line[4096];
	size_t	len;
	int	n;

	if (!log_enabled(level))
		return;
	n = snprintf(raw, sizeof(raw), "%s: ", subsys);
	if (n < 0 || (size_t)n >= sizeof(raw))
		n = 0;
	vsnprintf(raw + n, sizeof(raw) - (size_t)n, fmt, ap);
	/* The line ends anyway; a caller's own final newline is not data. */
	len = strlen(raw);
	while (len > 0 && (raw[len - 1] == '\n' || raw[len - 1] == '\r'))
		raw[--len] = '\0';
	/* Client strings reach many messages: no byte of them may end the line. */
	log_escape(line, sizeof(line), raw);
	log_emit(level, line);
}

void
log_msg(enum log_level level, const char *subsys, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vmsg(level, subsys, fmt, ap);
	va_end(ap);
}

void
log_openssl(enum log_level level, const char *subsys, const char *what)
{
	char		 reasons[1024], one[256];
	unsigned long	 code;
	size_t		 used = 0;

	reasons[0] = '\0';
	while ((code = ERR_get_error()) != 0) {
		ERR_error_string_n(code, one, sizeof(one));
		if (used + strlen(one) + 3 < sizeof(reasons))
			used += (size_t)snprintf(reasons + used,
			    sizeof(reasons) - used, "%s%s",
			    used ? "; " : "", one);
	}
	log_msg(level, subsys, "%s%s%s", what, reasons[0] ? ": " : "",
	    reasons);
}
