/*
 * buf.h - the one owned byte-buffer type used across the project.
 *
 * A struct buf owns its memory.  A zero-initialised struct buf is a valid
 * empty buffer, so callers declare `struct buf b = {0};` and call buf_free()
 * once at their `out:` label.  Not thread-safe: one owner at a time.
 */
#ifndef BUNDLE_BUF_H
#define BUNDLE_BUF_H

#include <stddef.h>
#include <stdarg.h>

struct buf {
	unsigned char	*data;	/* owned; NULL while empty */
	size_t		 len;	/* bytes in use */
	size_t		 cap;	/* bytes allocated */
};

/* Makes room for `extra` more bytes.  Returns 0, or -1 when out of memory. */
int	buf_reserve(struct buf *b, size_t extra);

/* Appends n bytes.  Returns 0 or -1. */
int	buf_append(struct buf *b, const void *p, size_t n);

/* Appends a NUL-terminated string (without its NUL).  Returns 0 or -1. */
int	buf_append_str(struct buf *b, const char *s);

/* Appends printf-formatted text.  Returns 0 or -1. */
int	buf_printf(struct buf *b, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
int	buf_vprintf(struct buf *b, const char *fmt, va_list ap)
	    __attribute__((format(printf, 2, 0)));

/* Replaces the contents with n bytes.  Returns 0 or -1. */
int	buf_set(struct buf *b, const void *p, size_t n);

/*
 * Returns the contents as a C string: a NUL is kept after the last byte
 * (not counted in len).  Returns NULL when out of memory.
 */
char	*buf_cstr(struct buf *b);

/*
 * Hands the memory to the caller (who frees it with free()) and leaves b
 * empty.  The returned memory is NUL-terminated.  NULL when out of memory.
 */
char	*buf_steal(struct buf *b, size_t *len);

/* Empties the buffer but keeps its memory for reuse. */
void	 buf_reset(struct buf *b);

/* Frees the memory; b is empty afterwards.  Accepts NULL. */
void	 buf_free(struct buf *b);

/* Overwrites the contents with zeros, then frees (for secrets). */
void	 buf_wipe(struct buf *b);

/*
 * Reads a whole file, refusing files larger than max bytes.  Returns 0, or
 * -1 with errno set (EFBIG when too large).
 */
int	 buf_read_file(struct buf *b, const char *path, size_t max);

#endif
