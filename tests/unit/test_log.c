/*
 * Unit tests for shared/base/log.c: a client string cannot forge log lines.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/log.h"

/* What the sink received: the lines, one after another. */
struct captured {
	char	lines[4][4096];
	int	n;
};

static void
capture(void *arg, enum log_level level, const char *line)
{
	struct captured	*c = arg;

	(void)level;
	if (c->n < 4)
		snprintf(c->lines[c->n++], sizeof(c->lines[0]), "%s", line);
}

static int
sink_on(void **state)
{
	struct captured	*c = calloc(1, sizeof(*c));

	if (c == NULL)
		return -1;
	log_set_sink(capture, c);
	log_set_level(LOGL_INFO);
	*state = c;
	return 0;
}

static int
sink_off(void **state)
{
	log_set_sink(NULL, NULL);
	free(*state);
	return 0;
}

static void
log_escapes_control_characters_in_one_line(void **state)
{
	struct captured	*c = *state;
	const char	*txid = "abc\n2025-01-01T00:00:00.000Z info enroll: "
			    "issued serial 01 to ceo\r\x1b[2J\x7f\x01";

	log_info("enroll", "transaction %s refused", txid);
	assert_int_equal(c->n, 1);
	assert_null(strchr(c->lines[0], '\n'));
	assert_null(strchr(c->lines[0], '\r'));
	assert_null(strchr(c->lines[0], '\x1b'));
	assert_null(strchr(c->lines[0], '\x7f'));
	assert_string_equal(c->lines[0], "enroll: transaction abc\\n"
	    "2025-01-01T00:00:00.000Z info enroll: issued serial 01 to ceo"
	    "\\r\\x1b[2J\\x7f\\x01 refused");
}

static void
log_keeps_utf8_and_escapes_malformed_bytes(void **state)
{
	struct captured	*c = *state;

	/* é, €, U+1F600; then a lone continuation byte, an overlong '/',
	 * a surrogate, and the C1 control CSI (U+009B). */
	log_info("t", "%s|%s|%s|%s|%s", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
	    "\x80", "\xc0\xaf", "\xed\xa0\x80", "\xc2\x9b");
	assert_int_equal(c->n, 1);
	assert_string_equal(c->lines[0], "t: caf\xc3\xa9 \xe2\x82\xac "
	    "\xf0\x9f\x98\x80|\\x80|\\xc0\\xaf|\\xed\\xa0\\x80|\\xc2\\x9b");
}

static void
log_drops_only_the_final_newline(void **state)
{
	struct captured	*c = *state;

	log_warn("http", "a\tb\n");
	assert_int_equal(c->n, 1);
	assert_string_equal(c->lines[0], "http: a\\tb");
}

static void
log_escape_never_splits_an_escape(void **state)
{
	char	out[8];

	(void)state;
	/* "ab" + "\x1b" needs 2 + 4 bytes, then "\n" 2 more: 8 with NUL. */
	assert_int_equal(log_escape(out, sizeof(out), "ab\x1b\n"), 6);
	assert_string_equal(out, "ab\\x1b");
	assert_int_equal(log_escape(out, 1, "abc"), 0);
	assert_string_equal(out, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    log_escapes_control_characters_in_one_line, sink_on, sink_off),
		cmocka_unit_test_setup_teardown(
		    log_keeps_utf8_and_escapes_malformed_bytes, sink_on, sink_off),
		cmocka_unit_test_setup_teardown(
		    log_drops_only_the_final_newline, sink_on, sink_off),
		cmocka_unit_test(log_escape_never_splits_an_escape),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
