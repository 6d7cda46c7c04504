/*
 * Unit tests for scep-ca's configuration (scep-ca/config.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"
#include "test_util.h"

static char dir[64];

static int
setup(void **state)
{
	(void)state;
	tu_dir_make(dir, "test_config");
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	tu_dir_remove(dir);
	return 0;
}

static void
write_file(const char *name, const char *text, int mode)
{
	tu_write_file(dir, name, text, mode);
}

static int
load(const char *text, struct scep_conf *c, struct err *e)
{
	write_file("scep-ca.conf", text, 0644);
	return conf_load(c, dir, e);
}

static void
missing_file_gives_safe_defaults(void **state)
{
	struct scep_conf	c;
	struct err		e = {0};

	(void)state;
	assert_int_equal(conf_load(&c, dir, &e), 0);
	assert_int_equal(c.nprofiles, 1);
	assert_string_equal(c.profiles[0].path, "/scep");
	assert_int_equal(c.profiles[0].challenge, CHALLENGE_ONE_TIME);
	assert_int_equal(c.profiles[0].allow_legacy, 0);
	assert_int_equal(c.profiles[0].rsa_min_bits, 2048);
	assert_int_equal(c.validity_days, 365);
	assert_string_equal(c.listen, "127.0.0.1:8080");
	assert_non_null(strstr(c.store, "/store.db"));
	assert_true(c.store[0] == '/');
	conf_free(&c);
}

static void
unknown_option_names_file_line_and_option(void **state)
{
	struct scep_conf	c;
	struct err		e = {0};

	(void)state;
	assert_int_equal(load("[ca]\nvalidity_days = 30\nbogus = 1\n", &c, &e), -1);
	assert_non_null(strstr(e.msg, "scep-ca.conf:3"));
	assert_non_null(strstr(e.msg, "bogus"));
	conf_free(&c);
}

static void
bad_values_are_refused_with_the_option_named(void **state)
{
	static const char *const bad[] = {
		"[ca]\nvalidity_days = 0\n",
		"[ca]\nvalidity_days = ten\n",
		"[http]\nmax_body = 10\n",
		"[profile a]\nchallenge = sometimes\n",
		"[profile a]\nallow_legacy = perhaps\n",
		"[profile a]\nkey_types = rsa:1024\n",
		"[profile a]\nkey_types = dsa:2048\n",
		"[profile a]\ncopy_san = dns,fax\n",
		"[profile a]\neku = notAnEku\n",
		"[profile a]\npath = scep\n",
		"[profile a]\nchallenge = none\n",
		"[ca]\npublic_url = ftp://x\n",
		"[ca]\nname = ../evil\n",
		"[profile]\npath = /x\n",
		"[log]\nlevel = loud\n",
	};
	struct scep_conf	c;
	struct err		e;
	size_t			i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&e, 0, sizeof(e));
		assert_int_equal(load(bad[i], &c, &e), -1);
		assert_int_equal(e.code, ERR_CONFIG);
		assert_true(e.msg[0] != '\0');
		conf_free(&c);
	}
}

static void
static_challenge_needs_a_private_file(void **state)
{
	static const char text[] = "[profile a]\nchallenge = static\n"
	    "challenge_secret_file = secret\n";
	struct scep_conf	c;
	struct err		e = {0};

	(void)state;
	write_file("secret", "long-enough-secret\n", 0644);
	assert_int_equal(load(text, &c, &e), -1);
	assert_non_null(strstr(e.msg, "0600"));
	conf_free(&c);
	write_file("secret", "short\n", 0600);
	assert_int_equal(load(text, &c, &e), -1);
	assert_non_null(strstr(e.msg, "shorter"));
	conf_free(&c);
	write_file("secret", "long-enough-secret\n", 0600);
	assert_int_equal(load(text, &c, &e), 0);
	/* The trailing newline is not part of the secret. */
	assert_int_equal(c.profiles[0].challenge_secret.len, 18);
	conf_free(&c);
}

static void
profiles_route_by_path_and_pkiclient_exe(void **state)
{
	struct scep_conf		 c;
	struct err			 e = {0};
	const struct profile_conf	*p;

	(void)state;
	assert_int_equal(load("[profile intune]\npath = /scep\n"
	    "[profile printers]\npath = /printers/scep\n"
	    "key_types = rsa:3072+\ncopy_san = none\n", &c, &e), 0);
	assert_int_equal(c.nprofiles, 2);
	p = conf_profile_for_path(&c, "/printers/scep");
	assert_non_null(p);
	assert_string_equal(p->name, "printers");
	assert_int_equal(p->rsa_min_bits, 3072);
	assert_int_equal(p->key_mask, KEY_RSA);
	assert_int_equal(p->san_mask, 0);
	p = conf_profile_for_path(&c, "/printers/scep/pkiclient.exe");
	assert_string_equal(p->name, "printers");
	p = conf_profile_for_path(&c, "/cgi-bin/pkiclient.exe");
	assert_string_equal(p->name, "intune");
	assert_null(conf_profile_for_path(&c, "/other"));
	assert_null(conf_profile_for_path(&c, "/scepx"));
	conf_free(&c);
}

static void
two_profiles_cannot_share_a_path(void **state)
{
	struct scep_conf	c;
	struct err		e = {0};

	(void)state;
	assert_int_equal(load("[profile a]\npath = /scep\n[profile b]\n"
	    "path = /scep\n", &c, &e), -1);
	assert_non_null(strstr(e.msg, "share"));
	conf_free(&c);
}

static void
initial_config_written_by_init_loads(void **state)
{
	struct conf_initial	ci = { .challenge_mode = "one-time",
				    .listen = "127.0.0.1:9999" };
	struct scep_conf	c;
	struct err		e = {0};
	char			path[128];

	(void)state;
	snprintf(path, sizeof(path), "%s/scep-ca.conf", dir);
	assert_int_equal(conf_write_initial(path, &ci, &e), 0);
	assert_int_equal(conf_load(&c, dir, &e), 0);
	assert_string_equal(c.listen, "127.0.0.1:9999");
	assert_string_equal(c.profiles[0].name, "default");
	conf_free(&c);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(missing_file_gives_safe_defaults),
		T(unknown_option_names_file_line_and_option),
		T(bad_values_are_refused_with_the_option_named),
		T(static_challenge_needs_a_private_file),
		T(profiles_route_by_path_and_pkiclient_exe),
		T(two_profiles_cannot_share_a_path),
		T(initial_config_written_by_init_loads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
