/*
 * dn.h - the one distinguished-name module both binaries use: a name
 * read from the text RFC 4514 (and Intune, and `openssl -subj`) writes,
 * two names compared as X.520 matches them, a name printed for logs and
 * the store.  Nothing else parses, compares or prints a name, except
 * rlm_entra_match, which compares FreeRADIUS's own printed form byte for
 * byte (entra_match_cert.c).
 *
 * Thread-safety: every function is thread-safe.  Comparing encodes a name
 * that was modified since it was last encoded, so a name built elsewhere
 * must not be compared from two threads before it is encoded once (a
 * name decoded from DER, or returned here, is encoded already).
 */
#ifndef BUNDLE_DN_H
#define BUNDLE_DN_H

#include <openssl/x509.h>

#include "base/err.h"

/*
 * The name in RFC 4514 form ("CN=a,O=b": the most significant RDN last),
 * as `openssl x509 -nameopt RFC2253` prints it but with UTF-8 kept, for
 * logs and the store.  malloc'd; NULL when out of memory.
 */
char		*pki_name_text(const X509_NAME *name);

/*
 * Parses a distinguished name written as text into a new X509_NAME:
 * - RFC 4514 ("CN=a+UID=x,O=b\, Inc.,C=US"): RDNs separated by ',', the
 *   most significant last, the values of a multi-valued RDN by '+';
 *   "\" before one of  ,+"\<>;=#  or a space takes it literally, "\XX"
 *   is the byte 0xXX, "#" and hex is the BER encoding of the value
 *   (RFC 4514 §2.4, one of the string types).  Attribute types are
 *   RFC 4514's keywords and those Windows prints (E, S, T, G, I,
 *   SERIALNUMBER), in any case, OpenSSL's short and long names, or a
 *   dotted OID ("OID." before it allowed).
 * - OpenSSL's "/C=US/O=b/CN=a" (the most significant first), "\" taking
 *   the next character literally and '+' no separator, as `openssl req
 *   -subj` reads it.
 * Spaces around a type, its '=' and its value are ignored (RFC 4514 §3
 * lets a reader be lenient; an escaped space is kept); empty RDNs are
 * skipped.  A value is a UTF8String unless the attribute's own type is
 * fixed (PrintableString for C, IA5String for emailAddress and DC).  A
 * name holding a NUL byte is refused.  Returns the name, encoded already,
 * or NULL with e (may be NULL) set.
 */
X509_NAME	*pki_name_parse(const char *s, struct err *e);

/*
 * Whether a and b are the same name: X.520 caseIgnoreMatch as OpenSSL
 * implements it, by comparing their canonical encodings (every string
 * value as UTF-8, ASCII letters folded to lower case, spaces collapsed
 * and trimmed) with X509_NAME_cmp().  The order of the RDNs matters; two
 * names whose values have different string types outside the ones
 * canonicalised (NumericString against UTF8String) differ even when they
 * print alike.  1 when equal, 0 when not or either is NULL or cannot be
 * encoded.
 */
int		 pki_name_equal(const X509_NAME *a, const X509_NAME *b);

/*
 * A new name with name's RDNs in the opposite order, each multi-valued
 * RDN kept whole: for text written the most significant RDN first but
 * read as RFC 4514.  Encoded already; NULL when out of memory.
 */
X509_NAME	*pki_name_reversed(const X509_NAME *name);

#endif
