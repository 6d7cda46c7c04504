/*
 * der.h - a cursor over strict DER (X.690 §10) for the few structures
 * scep-ca reads or rebuilds by hand on hot paths (the plain OCSP request,
 * pre-produced OCSP responses).  Everything else goes through OpenSSL.
 *
 * Thread-safety: stateless; callable from any thread.
 */
#ifndef SCEPCA_DER_H
#define SCEPCA_DER_H

#include <stddef.h>

#include "base/buf.h"

/* Identifier octets (X.690 §8.1.2) used here. */
#define DER_INTEGER	0x02
#define DER_BITS	0x03
#define DER_OCTETS	0x04	/* primitive: the constructed form is BER */
#define DER_NULL	0x05
#define DER_OID		0x06
#define DER_ENUMERATED	0x0a
#define DER_SEQUENCE	0x30
#define DER_CONTEXT0	0xa0	/* [0], constructed */

/* Unread DER: [p, end). */
struct der {
	const unsigned char	*p, *end;
};

/*
 * Reads the next element, which must have identifier octet tag and a
 * definite length in the fewest octets (at most two: under 64 KiB),
 * moving c past it and setting *in to its contents.  0, or -1.
 */
int	der_next(struct der *c, unsigned char tag, struct der *in);

/* Like der_next(), but the element must also be all that is left of c. */
int	der_only(struct der *c, unsigned char tag, struct der *in);

/* Appends a tag and the DER length len (any size).  0, or -1. */
int	der_put_header(struct buf *b, unsigned char tag, size_t len);

/* The size of a tag and the DER length len. */
size_t	der_header_size(size_t len);

#endif
