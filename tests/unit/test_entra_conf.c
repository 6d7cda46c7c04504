/*
 * Unit tests for shared/msft/conf.c (settings, cloud presets, secret
 * loading) and the token answer decoding of shared/msft/token.c.
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

#include "base/buf.h"
#include "msft/conf.h"
#include "msft/token.h"

#define S(x)	x, strlen(x)

static char	dir[] = "/tmp/test_entra_conf.XXXXXX";

static int
setup_dir(void **state)
{
	(void)state;
	unsetenv(ENTRA_SECRET_ENV_DEFAULT);
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown_dir(void **state)
{
	char	cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static const char *
write_file(const char *name, const char *text, int mode)
{
	static char	path[256];
	FILE		*fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	assert_int_equal(chmod(path, (mode_t)mode), 0);
	return path;
}

/* A conf with tenant and client id set, ready for a credential. */
static struct entra_conf *
base_conf(void)
{
	struct entra_conf	*c = entra_conf_new();
	struct err		 e;

	assert_non_null(c);
	assert_int_equal(entra_conf_set(c, "tenant", "contoso.example", &e), 0);
	assert_int_equal(entra_conf_set(c, "client_id",
	    "11111111-2222-3333-4444-555555555555", &e), 0);
	return c;
}

static void
global_cloud_defaults_and_scopes(void **state)
{
	struct entra_conf	*c = base_conf();
	struct err		 e;

	(void)state;
	assert_int_equal(entra_conf_set(c, "client_secret_file",
	    write_file("s1", "topsecret\n", 0600), &e), 0);
	assert_int_equal(entra_conf_validate(c, &e), 0);
	assert_string_equal(c->login_base, "https://login.microsoftonline.com");
	assert_string_equal(c->graph_base, "https://graph.microsoft.com");
	assert_string_equal(c->graph_scope,
	    "https://graph.microsoft.com/.default");
	assert_string_equal(c->intune_scope,
	    "https://api.manage.microsoft.com//.default");
	assert_int_equal(c->secret.len, 9);	/* newline trimmed */
	assert_memory_equal(c->secret.data, "topsecret", 9);
	entra_conf_free(c);
}

static void
sovereign_clouds_have_their_endpoints(void **state)
{
	static const struct {
		const char *cloud, *login, *graph, *scope;
	} want[] = {
		{ "usgov", "https://login.microsoftonline.us",
		  "https://graph.microsoft.us",
		  "https://graph.microsoft.us/.default" },
		{ "dod", "https://login.microsoftonline.us",
		  "https://dod-graph.microsoft.us",
		  "https://dod-graph.microsoft.us/.default" },
		{ "china", "https://login.chinacloudapi.cn",
		  "https://microsoftgraph.chinacloudapi.cn",
		  "https://microsoftgraph.chinacloudapi.cn/.default" },
	};
	struct entra_conf	*c;
	struct err		 e;
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		c = base_conf();
		assert_int_equal(entra_conf_set(c, "cloud", want[i].cloud, &e),
		    0);
		assert_int_equal(entra_conf_set(c, "client_secret_file",
		    write_file("s2", "x", 0400), &e), 0);
		assert_int_equal(entra_conf_validate(c, &e), 0);
		assert_string_equal(c->login_base, want[i].login);
		assert_string_equal(c->graph_base, want[i].graph);
		assert_string_equal(c->graph_scope, want[i].scope);
		assert_null(c->intune_scope);	/* not in the reference */
		entra_conf_free(c);
	}
}

static void
explicit_bases_override_but_scopes_stay_the_clouds(void **state)
{
	struct entra_conf	*c = base_conf();
	struct err		 e;

	(void)state;
	setenv(ENTRA_SECRET_ENV_DEFAULT, "from-env", 1);
	assert_int_equal(entra_conf_set(c, "login_base",
	    "http://127.0.0.1:9/", &e), 0);
	assert_int_equal(entra_conf_set(c, "graph_base",
	    "http://127.0.0.1:9//", &e), 0);
	assert_int_equal(entra_conf_validate(c, &e), 0);
	assert_string_equal(c->login_base, "http://127.0.0.1:9");
	assert_string_equal(c->graph_base, "http://127.0.0.1:9");
	assert_string_equal(c->graph_scope,
	    "https://graph.microsoft.com/.default");
	assert_memory_equal(c->secret.data, "from-env", 8);
	unsetenv(ENTRA_SECRET_ENV_DEFAULT);
	entra_conf_free(c);
}

/* validate() must fail with one line containing want. */
static void
expect_invalid(struct entra_conf *c, const char *want)
{
	struct err	e;

	assert_int_equal(entra_conf_validate(c, &e), -1);
	assert_int_equal(e.code, ERR_CONFIG);
	if (strstr(e.msg, want) == NULL)
		fail_msg("'%s' does not say '%s'", e.msg, want);
	assert_null(strchr(e.msg, '\n'));
	assert_false(c->validated);
	entra_conf_free(c);
}

static void
bad_configurations_get_one_clear_line(void **state)
{
	struct entra_conf	*c;
	struct err		 e;

	(void)state;
	c = entra_conf_new();
	expect_invalid(c, "tenant is not set");

	c = base_conf();
	entra_conf_set(c, "tenant", "x/../y", &e);
	expect_invalid(c, "tenant must be");

	c = base_conf();
	expect_invalid(c, "no credential");

	c = base_conf();
	entra_conf_set(c, "client_secret_file", write_file("s3", "x", 0600), &e);
	entra_conf_set(c, "client_cert", "/nonexistent.crt", &e);
	entra_conf_set(c, "client_key", "/nonexistent.key", &e);
	expect_invalid(c, "not both");

	c = base_conf();
	entra_conf_set(c, "client_cert", "/nonexistent.crt", &e);
	expect_invalid(c, "go together");

	c = base_conf();
	entra_conf_set(c, "client_secret_file", write_file("s4", "x", 0644), &e);
	expect_invalid(c, "chmod 600");

	c = base_conf();
	entra_conf_set(c, "client_secret_file", write_file("s5", "\n", 0600), &e);
	expect_invalid(c, "is empty");

	c = base_conf();
	entra_conf_set(c, "client_secret_file", "/nonexistent/secret", &e);
	expect_invalid(c, "cannot open");

	c = base_conf();
	entra_conf_set(c, "cloud", "custom", &e);
	entra_conf_set(c, "client_secret_file", write_file("s6", "x", 0600), &e);
	expect_invalid(c, "needs login_base and graph_base");

	c = base_conf();
	entra_conf_set(c, "graph_base", "ftp://x", &e);
	entra_conf_set(c, "client_secret_file", write_file("s7", "x", 0600), &e);
	expect_invalid(c, "http:// or https://");
}

static void
settings_parse_values_and_report_unknown_names(void **state)
{
	struct entra_conf	*c = entra_conf_new();
	struct err		 e;

	(void)state;
	assert_int_equal(entra_conf_set(c, "timeout", "2.5", &e), 0);
	assert_int_equal(c->timeout_ms, 2500);
	assert_int_equal(entra_conf_set(c, "timeout_ms", "750", &e), 0);
	assert_int_equal(c->timeout_ms, 750);
	assert_int_equal(entra_conf_set(c, "assertion_alg", "RS256", &e), 0);
	assert_int_equal(c->assertion_alg, ENTRA_ALG_RS256);
	assert_int_equal(entra_conf_set(c, "cloud", "DoD", &e), 0);
	assert_int_equal(c->cloud, ENTRA_CLOUD_DOD);
	assert_int_equal(entra_conf_set(c, "timeout", "-1", &e), -1);
	assert_int_equal(e.code, ERR_CONFIG);
	assert_int_equal(entra_conf_set(c, "max_retries", "11", &e), -1);
	assert_int_equal(entra_conf_set(c, "cloud", "mars", &e), -1);
	assert_int_equal(entra_conf_set(c, "sync_interval", "5", &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	/* There is no setting that takes the secret itself. */
	assert_int_equal(entra_conf_set(c, "client_secret", "x", &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	entra_conf_free(c);
}

static void
token_answer_is_parsed(void **state)
{
	struct buf	t = {0};
	struct err	e;
	long		life = 0;

	(void)state;
	assert_int_equal(entra_token_json_parse(S("{\"token_type\":\"Bearer\","
	    "\"expires_in\":3599,\"ext_expires_in\":3599,"
	    "\"access_token\":\"eyJ0eXAi.eyJhdWQi.c2ln\"}"), &t, &life, &e), 0);
	assert_string_equal(buf_cstr(&t), "eyJ0eXAi.eyJhdWQi.c2ln");
	assert_int_equal(life, 3599);
	/* Older endpoints send expires_in as a string. */
	assert_int_equal(entra_token_json_parse(S("{\"token_type\":\"bearer\","
	    "\"expires_in\":\"60\",\"access_token\":\"abc\"}"), &t, &life, &e),
	    0);
	assert_int_equal(life, 60);
	buf_wipe(&t);
}

static void
unusable_token_answers_are_refused(void **state)
{
	static const char *const bad[] = {
		"", "{}", "[]",
		"{\"expires_in\":3599}",
		"{\"access_token\":\"abc\"}",
		"{\"access_token\":\"abc\",\"expires_in\":0}",
		"{\"access_token\":\"abc\",\"expires_in\":\"soon\"}",
		"{\"access_token\":\"\",\"expires_in\":10}",
		"{\"access_token\":5,\"expires_in\":10}",
		"{\"access_token\":\"a\\r\\nX-Evil: 1\",\"expires_in\":10}",
		"{\"access_token\":\"a b\",\"expires_in\":10}",
		"{\"access_token\":\"abc\",\"expires_in\":10,\"token_type\":\"mac\"}",
	};
	struct buf	t = {0};
	struct err	e;
	long		life;
	size_t		i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(entra_token_json_parse(S(bad[i]), &t, &life,
		    &e), -1);
		assert_int_equal(e.code, ERR_PARSE);
	}
	buf_wipe(&t);
}

static void
token_error_answer_is_described(void **state)
{
	char	out[256];

	(void)state;
	entra_token_json_error(S("{\"error\":\"invalid_client\","
	    "\"error_description\":\"AADSTS7000215: Invalid client secret "
	    "provided.\",\"error_codes\":[7000215]}"), out, sizeof(out));
	assert_string_equal(out, "invalid_client: AADSTS7000215: Invalid "
	    "client secret provided.");
	entra_token_json_error(S("{\"error_codes\":[700016]}"), out,
	    sizeof(out));
	assert_string_equal(out, "error code 700016");
	entra_token_json_error(S("<html>bad gateway</html>"), out, sizeof(out));
	assert_string_equal(out, "unparseable error answer");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(global_cloud_defaults_and_scopes),
		cmocka_unit_test(sovereign_clouds_have_their_endpoints),
		cmocka_unit_test(
		    explicit_bases_override_but_scopes_stay_the_clouds),
		cmocka_unit_test(bad_configurations_get_one_clear_line),
		cmocka_unit_test(settings_parse_values_and_report_unknown_names),
		cmocka_unit_test(token_answer_is_parsed),
		cmocka_unit_test(unusable_token_answers_are_refused),
		cmocka_unit_test(token_error_answer_is_described),
	};

	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
