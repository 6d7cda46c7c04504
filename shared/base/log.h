/*
 * log.h - the one logging module.
 *
 * Every line starts with its subsystem ("graph: token refresh failed: ...").
 * Lines never carry secrets: callers pass identifiers, never tokens,
 * passphrases or challenge values.
 *
 * The sink and level are process-wide, like syslog's openlog(): set them
 * once at start-up, before threads exist; afterwards they are only read,
 * so logging is thread-safe.
 */
#ifndef BUNDLE_LOG_H
#define BUNDLE_LOG_H

#include <stdarg.h>
#include <stddef.h>

enum log_level {
	LOGL_ERR = 0,
	LOGL_WARN,
	LOGL_INFO,
	LOGL_DEBUG,
};

/* A sink receives one finished line without trailing newline. */
typedef void (*log_sink_fn)(void *arg, enum log_level level, const char *line);

/* Routes lines to fn (NULL restores the default: stderr with a timestamp). */
void	log_set_sink(log_sink_fn fn, void *arg);

/* Lines above this level are dropped.  Default LOGL_INFO. */
void	log_set_level(enum log_level level);

/* Parses "error", "warn", "info", "debug".  Returns 0, or -1 if unknown. */
int	log_level_parse(const char *s, enum log_level *out);

/* Returns 1 when lines of this level are emitted. */
int	log_enabled(enum log_level level);

/*
 * Emits "subsys: message" as one line: control characters, DEL and bytes
 * that are not well-formed UTF-8 in the message come out escaped
 * (log_escape()), so a client string in it cannot forge log lines.
 */
void	log_msg(enum log_level level, const char *subsys, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
void	log_vmsg(enum log_level level, const char *subsys, const char *fmt,
	    va_list ap) __attribute__((format(printf, 3, 0)));

/*
 * Copies in to out (size bytes, always NUL-terminated) with \n, \r, \t
 * for those, \xHH for other C0 controls, DEL, C1 controls and bytes that
 * are not well-formed UTF-8; stops before an escape that would not fit.
 * Returns the length written.
 */
size_t	log_escape(char *out, size_t size, const char *in);

/*
 * Emits "subsys: what: <OpenSSL reasons>" and drains the OpenSSL error
 * queue of the calling thread.
 */
void	log_openssl(enum log_level level, const char *subsys, const char *what);

#define log_err(sub, ...)	log_msg(LOGL_ERR, sub, __VA_ARGS__)
#define log_warn(sub, ...)	log_msg(LOGL_WARN, sub, __VA_ARGS__)
#define log_info(sub, ...)	log_msg(LOGL_INFO, sub, __VA_ARGS__)
#define log_debug(sub, ...)	do { if (log_enabled(LOGL_DEBUG)) \
	log_msg(LOGL_DEBUG, sub, __VA_ARGS__); } while (0)

#endif
