/*
 * libFuzzer target: the text decoders that read network input: lenient
 * base64 (GET message=), serials, SAN text from FreeRADIUS, distinguished
 * names (Intune's issuerName).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/encode.h"
#include "pki/dn.h"
#include "pki/identity.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf		b = {0}, s = {0};
	struct cert_identity	id;
	char			serial[SERIAL_HEX_MAX];
	X509_NAME		*name;

	b64_decode_lenient(&b, (const char *)data, size);
	buf_free(&b);
	if (buf_set(&s, data, size) == 0 && buf_cstr(&s) != NULL) {
		serial_normalize((char *)s.data, serial);
		identity_from_san_text((char *)s.data, &id);
		hex_decode(&b, (char *)s.data);
		/* A name read is printable and equals itself. */
		if ((name = pki_name_parse((char *)s.data, NULL)) != NULL) {
			free(pki_name_text(name));
			if (!pki_name_equal(name, name))
				__builtin_trap();
			X509_NAME_free(name);
		}
	}
	buf_free(&b);
	buf_free(&s);
	return 0;
}
