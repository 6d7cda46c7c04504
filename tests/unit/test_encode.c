/*
 * Unit tests for shared/base/encode.c and shared/base/buf.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/buf.h"
#include "base/encode.h"

static void
b64_decode_accepts_every_client_variant(void **state)
{
	/* 0xfb 0xff 0xbf encodes as "+/+/" in standard base64. */
	static const unsigned char want[] = { 0xfb, 0xff, 0xbf, 0xfb, 0xff, 0xbf, 0x01 };
	static const char *const forms[] = {
		"+/+/+/+/AQ==",		/* standard */
		"-_-_-_-_AQ==",		/* URL-safe */
		" / / / /AQ",		/* '+' turned into ' ', no padding */
		"%2B%2F+/+/\r\n+/AQ%3D%3D", /* escapes left, line break */
	};
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		struct buf b = {0};

		assert_int_equal(b64_decode_lenient(&b, forms[i], strlen(forms[i])), 0);
		assert_int_equal(b.len, sizeof(want));
		assert_memory_equal(b.data, want, sizeof(want));
		buf_free(&b);
	}
}

static void
b64_decode_rejects_junk_and_truncation(void **state)
{
	static const char *const bad[] = { "AQ=A", "A", "AQ*=", "AQ===" };
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct buf b = {0};

		assert_int_equal(b64_decode_lenient(&b, bad[i], strlen(bad[i])), -1);
		buf_free(&b);
	}
}

static void
b64_round_trip_and_url_form(void **state)
{
	struct buf	enc = {0}, url = {0}, dec = {0};
	unsigned char	data[256];
	size_t		i;

	(void)state;
	for (i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)i;
	assert_int_equal(b64_encode(&enc, data, sizeof(data)), 0);
	assert_int_equal(b64url_encode(&url, data, sizeof(data)), 0);
	assert_null(strchr(buf_cstr(&url), '='));
	assert_null(strchr(buf_cstr(&url), '+'));
	assert_int_equal(b64_decode_lenient(&dec, (char *)enc.data, enc.len), 0);
	assert_int_equal(dec.len, sizeof(data));
	assert_memory_equal(dec.data, data, sizeof(data));
	buf_reset(&dec);
	assert_int_equal(b64_decode_lenient(&dec, (char *)url.data, url.len), 0);
	assert_memory_equal(dec.data, data, sizeof(data));
	buf_free(&enc);
	buf_free(&url);
	buf_free(&dec);
}

static void
hex_decode_accepts_colons_and_case(void **state)
{
	struct buf	b = {0};

	(void)state;
	assert_int_equal(hex_decode(&b, "0a:Bc:dE"), 0);
	assert_int_equal(b.len, 3);
	assert_int_equal(b.data[0], 0x0a);
	assert_int_equal(b.data[2], 0xde);
	buf_reset(&b);
	assert_int_equal(hex_decode(&b, "abc"), -1);
	buf_reset(&b);
	assert_int_equal(hex_decode(&b, "zz"), -1);
	buf_free(&b);
}

static void
serial_normalize_matches_openssl_form(void **state)
{
	char	out[SERIAL_HEX_MAX];

	(void)state;
	assert_int_equal(serial_normalize("0a:bc:de", out), 0);
	assert_string_equal(out, "0ABCDE");
	assert_int_equal(serial_normalize("00E6C4AD9380EBCBD4", out), 0);
	assert_string_equal(out, "E6C4AD9380EBCBD4");
	assert_int_equal(serial_normalize("0x1", out), 0);
	assert_string_equal(out, "01");
	assert_int_equal(serial_normalize("00", out), 0);
	assert_string_equal(out, "00");
	assert_int_equal(serial_normalize("12g4", out), -1);
}

static void
uuid_v4_has_version_and_variant(void **state)
{
	char	a[37], b[37];

	(void)state;
	assert_int_equal(uuid_v4(a), 0);
	assert_int_equal(uuid_v4(b), 0);
	assert_int_equal(strlen(a), 36);
	assert_int_equal(a[14], '4');
	assert_non_null(strchr("89ab", a[19]));
	assert_string_not_equal(a, b);
}

static void
buf_printf_grows_and_steals(void **state)
{
	struct buf	b = {0};
	char		*s;
	size_t		 len, i;

	(void)state;
	for (i = 0; i < 1000; i++)
		assert_int_equal(buf_printf(&b, "%zu,", i), 0);
	assert_true(b.len > 2000);
	s = buf_steal(&b, &len);
	assert_non_null(s);
	assert_int_equal(strlen(s), len);
	assert_null(b.data);
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(b64_decode_accepts_every_client_variant),
		cmocka_unit_test(b64_decode_rejects_junk_and_truncation),
		cmocka_unit_test(b64_round_trip_and_url_form),
		cmocka_unit_test(hex_decode_accepts_colons_and_case),
		cmocka_unit_test(serial_normalize_matches_openssl_form),
		cmocka_unit_test(uuid_v4_has_version_and_variant),
		cmocka_unit_test(buf_printf_grows_and_steals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
