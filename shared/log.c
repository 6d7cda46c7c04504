/*
 * log.c - one logging module: formatting, level filter, sink.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/err.h>

#include "log.h"

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

void
log_vmsg(enum log_level level, const char *subsys, const char *fmt, va_list ap)
{
	char	line[2048];
	int	n;

	if (!log_enabled(level))
		return;
	n = snprintf(line, sizeof(line), "%s: ", subsys);
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
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
