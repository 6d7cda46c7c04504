/*
 * encode.h - text encodings: hex, base64 (every variant SCEP clients send),
 * base64url, UUIDs, ISO 8601 times.  All functions are thread-safe.
 */
#ifndef BUNDLE_ENCODE_H
#define BUNDLE_ENCODE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "base/buf.h"

/* Appends the hex of p to out, upper-case when upper != 0.  Returns 0/-1. */
int	hex_encode(struct buf *out, const void *p, size_t n, int upper);

/*
 * Decodes hex, ignoring ':' separators and accepting either case.
 * Returns 0, or -1 on odd length or a non-hex character.
 */
int	hex_decode(struct buf *out, const char *s);

/* Appends standard base64 (with padding) of p.  Returns 0/-1. */
int	b64_encode(struct buf *out, const void *p, size_t n);

/* Appends base64url without padding (RFC 7515 §2).  Returns 0/-1. */
int	b64url_encode(struct buf *out, const void *p, size_t n);

/*
 * Decodes base64 leniently, as SCEP clients send it (RFC 8894 §4.1 and
 * reference/scep-clients.md): standard or URL-safe alphabet, '+' turned
 * into ' ' by a form decoder, '%XX' escapes still present, line breaks,
 * missing padding.  Returns 0, or -1 on anything else.
 */
int	b64_decode_lenient(struct buf *out, const char *s, size_t n);

/* Writes a random RFC 4122 version-4 UUID (37 bytes with NUL).  0/-1. */
int	uuid_v4(char out[37]);

/* Formats t as "YYYY-MM-DDTHH:MM:SSZ" (21 bytes with NUL). */
void	time_iso8601(time_t t, char out[21]);

/*
 * Canonical certificate serial: upper-case hex without separators or
 * leading zero bytes, as `openssl x509 -serial` prints it.  Accepts any
 * case, ':' separators and an optional "0x".  Returns 0, or -1 if s is not
 * a hex serial.  out must hold at least 2*20+1+... bytes: SERIAL_HEX_MAX.
 */
#define SERIAL_HEX_MAX	(2 * 64 + 1)
int	serial_normalize(const char *s, char out[SERIAL_HEX_MAX]);

#endif
