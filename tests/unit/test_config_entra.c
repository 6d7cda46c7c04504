/*
 * Unit tests for scep-ca's [entra] section and Intune profile options
 * (scep-ca/config.c): lines routed to entra_conf, errors with file:line,
 * what Intune mode requires, the identity mapping options.
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
#include "msft/conf.h"
#include "test_util.h"

static char dir[64];

static int
setup(void **state)
{
	(void)state;
	tu_dir_make(dir, "test_config_entra");
	unsetenv("ENTRA_CLIENT_SECRET");
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

#define ENTRA_OK \
	"[entra]\n" \
	"tenant = contoso.onmicrosoft.com\n" \
	"client_id = 3f2c8a91-5d4e-4b7a-9c1e-2a6b8d0f4e17\n" \
	"client_secret_file = entra.secret\n"

#define INTUNE_PROFILE \
	"[profile intune]\n" \
	"path = /scep\n" \
	"challenge = intune\n"

static void
intune_profile_with_entra_loads_and_resolves(void **state)
{
	struct scep_conf	c;
	struct err		e = {0};
	char			want[128];

	(void)state;
	write_file("entra.secret", "s3cret\n", 0600);
	assert_int_equal(load(INTUNE_PROFILE ENTRA_OK "timeout = 2.5\n"
	    "graph_base = http://127.0.0.1:9/\nnotify_retry_min = 5\n"
	    "notify_max_attempts = 9\n", &c, &e), 0);
	assert_non_null(c.entra);
	assert_int_equal(c.entra->validated, 1);
	assert_string_equal(c.entra->tenant, "contoso.onmicrosoft.com");
	assert_int_equal(c.entra->timeout_ms, 2500);
	assert_string_equal(c.entra->graph_base, "http://127.0.0.1:9");
	assert_memory_equal(c.entra->secret.data, "s3cret", 6);
	snprintf(want, sizeof(want), "%s/entra.secret", c.dir);
	assert_string_equal(c.entra->client_secret_file, want);
	assert_int_equal(c.notify_retry_min, 5);
	assert_int_equal(c.notify_retry_max, 3600);
	assert_int_equal(c.notify_max_attempts, 9);
	assert_int_equal(c.notify_max_age, 604800);
	assert_int_equal(c.profiles[0].challenge, CHALLENGE_INTUNE);
	conf_free(&c);
}

static void
no_entra_section_means_no_cloud_clients(void **state)
{
	struct scep_conf	c;
	struct err		e = {0};

	(void)state;
	assert_int_equal(load("[profile a]\nchallenge = one-time\n", &c, &e), 0);
	assert_null(c.entra);
	conf_free(&c);
}

static void
intune_profile_needs_entra_section(void **state)
{
	struct scep_conf	c;
	struct err		e = {0};

	(void)state;
	assert_int_equal(load(INTUNE_PROFILE, &c, &e), -1);
	assert_int_equal(e.code, ERR_CONFIG);
	assert_non_null(strstr(e.msg, "needs an [entra] section"));
	conf_free(&c);
}

static void
unknown_entra_option_names_file_and_line(void **state)
{
	struct scep_conf	c;
	struct err		e = {0};

	(void)state;
	write_file("entra.secret", "s3cret\n", 0600);
	assert_int_equal(load(INTUNE_PROFILE ENTRA_OK "client_secret = oops\n",
	    &c, &e), -1);
	assert_non_null(strstr(e.msg, "scep-ca.conf:8:"));
	assert_non_null(strstr(e.msg, "unknown option 'client_secret' in"
	    " [entra]"));
	conf_free(&c);
	assert_int_equal(load(ENTRA_OK "cloud = mars\n", &c, &e), -1);
	assert_non_null(strstr(e.msg, "scep-ca.conf:5:"));
	assert_non_null(strstr(e.msg, "cloud"));
	conf_free(&c);
	assert_int_equal(load(ENTRA_OK "notify_retry_min = 0\n", &c, &e), -1);
	assert_non_null(strstr(e.msg, "scep-ca.conf:5:"));
	conf_free(&c);
}

static void
entra_section_is_validated_at_load(void **state)
{
	struct scep_conf	c;
	struct err		e = {0};

	(void)state;
	/* Readable by others: refused, even before any profile uses it. */
	write_file("entra.secret", "s3cret\n", 0644);
	assert_int_equal(load(ENTRA_OK, &c, &e), -1);
	assert_non_null(strstr(e.msg, "chmod 600"));
	conf_free(&c);
	assert_int_equal(load("[entra]\nclient_id = x\n", &c, &e), -1);
	assert_non_null(strstr(e.msg, "tenant"));
	conf_free(&c);
	write_file("entra.secret", "s3cret\n", 0600);
	assert_int_equal(load(ENTRA_OK "notify_retry_min = 60\n"
	    "notify_retry_max = 10\n", &c, &e), -1);
	assert_non_null(strstr(e.msg, "notify_retry_max"));
	conf_free(&c);
}

static void
secret_from_environment_is_accepted(void **state)
{
	struct scep_conf	c;
	struct err		e = {0};

	(void)state;
	setenv("ENTRA_CLIENT_SECRET", "from-env", 1);
	assert_int_equal(load(INTUNE_PROFILE "[entra]\ntenant = t1\n"
	    "client_id = c1\n", &c, &e), 0);
	assert_memory_equal(c.entra->secret.data, "from-env", 8);
	conf_free(&c);
	unsetenv("ENTRA_CLIENT_SECRET");
}

static void
intune_with_manual_approval_is_refused(void **state)
{
	struct scep_conf	c;
	struct err		e = {0};

	(void)state;
	write_file("entra.secret", "s3cret\n", 0600);
	assert_int_equal(load(INTUNE_PROFILE "approval = manual\n" ENTRA_OK,
	    &c, &e), -1);
	assert_non_null(strstr(e.msg, "approval = manual"));
	conf_free(&c);
}

static void
identity_options_default_and_parse(void **state)
{
	struct scep_conf	c;
	struct err		e = {0};

	(void)state;
	assert_int_equal(load("[profile a]\npath = /a\n[profile b]\npath = /b\n"
	    "entra_device_id_from = subject:CN, san_uri:AzureADDeviceId\n"
	    "upn_from = none\n", &c, &e), 0);
	assert_string_equal(c.profiles[0].intune_device_id_from,
	    IDENTITY_DEFAULT_INTUNE_DEVICE_ID);
	assert_int_equal(c.profiles[0].idmap.intune_device_id.n, 1);
	assert_int_equal(c.profiles[0].idmap.entra_device_id.n, 0);
	assert_int_equal(c.profiles[0].idmap.upn.n, 1);
	assert_int_equal(c.profiles[1].idmap.entra_device_id.n, 2);
	assert_int_equal(c.profiles[1].idmap.upn.n, 0);
	conf_free(&c);
	assert_int_equal(load("[profile a]\nupn_from = subject:Nope\n", &c, &e),
	    -1);
	assert_non_null(strstr(e.msg, "profile a: upn_from"));
	conf_free(&c);
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(intune_profile_with_entra_loads_and_resolves),
		T(no_entra_section_means_no_cloud_clients),
		T(intune_profile_needs_entra_section),
		T(unknown_entra_option_names_file_and_line),
		T(entra_section_is_validated_at_load),
		T(secret_from_environment_is_accepted),
		T(intune_with_manual_approval_is_refused),
		T(identity_options_default_and_parse),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
