/*
 * encode.c - hex, base64, UUID and time text encodings.
 */
#include <ctype.h>
#include <string.h>

#include <openssl/rand.h>

#include "base/encode.h"

static const char b64_std[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int
hex_encode(struct buf *out, const void *p, size_t n, int upper)
{
	const char		*digits = upper ? "0123456789ABCDEF" :
				    "0123456789abcdef";
	const unsigned char	*s = p;
	size_t			 i;

	if (buf_reserve(out, 2 * n) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		out->data[out->len++] = (unsigned char)digits[s[i] >> 4];
		out->data[out->len++] = (unsigned char)digits[s[i] & 0xf];
	}
	out->data[out->len] = '\0';
	return 0;
}

static int
hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int
hex_decode(struct buf *out, const char *s)
{
	int		hi = -1, v;
	unsigned char	byte;

	for (; *s != '\0'; s++) {
		if (*s == ':')
			continue;
		if ((v = hex_value((unsigned char)*s)) < 0)
			return -1;
		if (hi < 0) {
			hi = v;
			continue;
		}
		byte = (unsigned char)(hi << 4 | v);
		if (buf_append(out, &byte, 1) == -1)
			return -1;
		hi = -1;
	}
	return hi < 0 ? 0 : -1;
}

static int
b64_encode_with(struct buf *out, const unsigned char *p, size_t n,
    const char *alphabet, int pad)
{
	size_t		i;
	uint32_t	v;
	char		q[4];
	size_t		emit;

	for (i = 0; i < n; i += 3) {
		v = (uint32_t)p[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		q[0] = alphabet[(v >> 18) & 63];
		q[1] = alphabet[(v >> 12) & 63];
		q[2] = i + 1 < n ? alphabet[(v >> 6) & 63] : '=';
		q[3] = i + 2 < n ? alphabet[v & 63] : '=';
		emit = 4;
		if (!pad)
			emit = n - i >= 3 ? 4 : n - i + 1;
		if (buf_append(out, q, emit) == -1)
			return -1;
	}
	return buf_cstr(out) == NULL ? -1 : 0;
}

int
b64_encode(struct buf *out, const void *p, size_t n)
{
	return b64_encode_with(out, p, n, b64_std, 1);
}

int
b64url_encode(struct buf *out, const void *p, size_t n)
{
	return b64_encode_with(out, p, n, b64_url, 0);
}

static int
b64_value(int c)
{
	const char	*hit;

	if (c == ' ')		/* '+' decoded as a space by a form decoder */
		return 62;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	if (c == '\0' || (hit = strchr(b64_std, c)) == NULL)
		return -1;
	return (int)(hit - b64_std);
}

int
b64_decode_lenient(struct buf *out, const char *s, size_t n)
{
	uint32_t	acc = 0;
	int		bits = 0, v, hi, lo, pad = 0;
	unsigned char	byte;
	size_t		i;

	for (i = 0; i < n; i++) {
		int c = (unsigned char)s[i];

		/* A '%XX' escape the HTTP layer did not undo. */
		if (c == '%' && i + 2 < n &&
		    (hi = hex_value((unsigned char)s[i + 1])) >= 0 &&
		    (lo = hex_value((unsigned char)s[i + 2])) >= 0) {
			c = hi << 4 | lo;
			i += 2;
		}
		if (c == '\r' || c == '\n' || c == '\t')
			continue;
		if (c == '=') {
			pad++;
			continue;
		}
		if (pad > 0 || (v = b64_value(c)) < 0)
			return -1;	/* data after padding, or junk */
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			byte = (unsigned char)(acc >> bits);
			if (buf_append(out, &byte, 1) == -1)
				return -1;
		}
	}
	/* Six leftover bits can never form a byte: truncated input. */
	if (bits >= 6 || pad > 2)
		return -1;
	return 0;
}

int
uuid_v4(char out[37])
{
	unsigned char	r[16];
	struct buf	b = {0};
	int		rc = -1;

	if (RAND_bytes(r, sizeof(r)) != 1)
		return -1;
	r[6] = (r[6] & 0x0f) | 0x40;	/* version 4 */
	r[8] = (r[8] & 0x3f) | 0x80;	/* RFC 4122 variant */
	if (hex_encode(&b, r, sizeof(r), 0) == -1)
		goto out;
	snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", b.data, b.data + 8,
	    b.data + 12, b.data + 16, b.data + 20);
	rc = 0;
out:
	buf_free(&b);
	return rc;
}

void
time_iso8601(time_t t, char out[21])
{
	struct tm	tm;

	gmtime_r(&t, &tm);
	strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int
serial_normalize(const char *s, char out[SERIAL_HEX_MAX])
{
	size_t	n = 0;
	int	c;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if (c == ':' || c == ' ')
			continue;
		if (hex_value(c) < 0 || n + 1 >= SERIAL_HEX_MAX)
			return -1;
		if (n == 0 && c == '0')
			continue;	/* leading zero digits */
		out[n++] = (char)toupper(c);
	}
	if (n == 0)
		out[n++] = '0';
	out[n] = '\0';
	/* Whole bytes, as openssl prints them: "0A", not "A". */
	if (n % 2 == 1) {
		if (n + 1 >= SERIAL_HEX_MAX)
			return -1;
		memmove(out + 1, out, n + 1);
		out[0] = '0';
	}
	return 0;
}
