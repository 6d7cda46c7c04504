/*
 * der.c - the strict DER cursor; see der.h.
 */
#include "revocation/der.h"

/*
 * Reads a definite length in the fewest octets (X.690 §10.1), in at most
 * two octets.  0, or -1 for the indefinite form, a non-minimal or
 * truncated length.
 */
static int
der_length(struct der *c, size_t *len)
{
	size_t	n;

	if (c->p == c->end)
		return -1;
	if (*c->p < 0x80) {
		*len = *c->p++;
		return 0;
	}
	n = *c->p++ & 0x7f;
	if (n == 0 || n > 2 || (size_t)(c->end - c->p) < n || c->p[0] == 0)
		return -1;
	*len = n == 1 ? c->p[0] : (size_t)c->p[0] << 8 | c->p[1];
	c->p += n;
	/* Below 128 the short form is the only DER one. */
	return *len < 0x80 ? -1 : 0;
}

int
der_next(struct der *c, unsigned char tag, struct der *in)
{
	size_t	len;

	if (c->p == c->end || *c->p != tag)
		return -1;
	c->p++;
	if (der_length(c, &len) == -1 || (size_t)(c->end - c->p) < len)
		return -1;
	in->p = c->p;
	in->end = c->p + len;
	c->p += len;
	return 0;
}

int
der_only(struct der *c, unsigned char tag, struct der *in)
{
	if (der_next(c, tag, in) == -1 || c->p != c->end)
		return -1;
	return 0;
}

size_t
der_header_size(size_t len)
{
	size_t	n = 2;	/* the tag and a short length */

	if (len < 0x80)
		return n;
	for (; len > 0; len >>= 8)
		n++;
	return n;
}

int
der_put_header(struct buf *b, unsigned char tag, size_t len)
{
	unsigned char	h[2 + sizeof(size_t)];
	size_t		n = 0, k = der_header_size(len) - 2;	/* long form */

	h[n++] = tag;
	if (k == 0)
		h[n++] = (unsigned char)len;
	else {
		h[n++] = (unsigned char)(0x80 | k);
		while (k-- > 0)
			h[n++] = (unsigned char)(len >> (8 * k));
	}
	return buf_append(b, h, n);
}
