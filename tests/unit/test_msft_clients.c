/*
 * Unit tests for shared/msft/clients.c (the one builder of the Microsoft
 * client chain) and the cloud names of shared/msft/conf.c.  Nothing here
 * talks to the network: making the clients sends nothing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "msft/clients.h"
#include "msft/conf.h"

/* A validated conf of cloud with a client secret from the environment. */
static struct entra_conf *
valid_conf(const char *cloud)
{
	struct entra_conf	*c = entra_conf_new();
	struct err		 e;

	assert_non_null(c);
	assert_int_equal(setenv(ENTRA_SECRET_ENV_DEFAULT, "s3cret", 1), 0);
	assert_int_equal(entra_conf_set(c, "tenant", "contoso.example", &e), 0);
	assert_int_equal(entra_conf_set(c, "client_id", "app", &e), 0);
	assert_int_equal(entra_conf_set(c, "cloud", cloud, &e), 0);
	assert_int_equal(entra_conf_validate(c, &e), 0);
	return c;
}

static void
clients_without_intune_flag_make_http_tokens_graph(void **state)
{
	struct entra_conf	*c = valid_conf("global");
	struct msft_clients	 mc;
	struct err		 e;

	(void)state;
	assert_int_equal(msft_clients_new(&mc, c, 0, &e), 0);
	assert_non_null(mc.http);
	assert_non_null(mc.tokens);
	assert_non_null(mc.graph);
	assert_null(mc.intune);
	msft_clients_free(&mc);
	assert_null(mc.http);
	assert_null(mc.tokens);
	assert_null(mc.graph);
	entra_conf_free(c);
}

static void
clients_with_intune_flag_make_all_four(void **state)
{
	struct entra_conf	*c = valid_conf("global");
	struct msft_clients	 mc;
	struct err		 e;

	(void)state;
	assert_int_equal(msft_clients_new(&mc, c, MSFT_CLIENTS_INTUNE, &e), 0);
	assert_non_null(mc.http);
	assert_non_null(mc.graph);
	assert_non_null(mc.intune);
	msft_clients_free(&mc);
	assert_null(mc.intune);
	entra_conf_free(c);
}

/* usgov has no known Intune scope: the chain made so far is undone. */
static void
clients_intune_without_scope_fails_and_leaves_nothing(void **state)
{
	struct entra_conf	*c = valid_conf("usgov");
	struct msft_clients	 mc;
	struct err		 e;

	(void)state;
	assert_int_equal(msft_clients_new(&mc, c, MSFT_CLIENTS_INTUNE, &e), -1);
	assert_int_equal(e.code, ERR_CONFIG);
	assert_non_null(strstr(e.msg, "intune_scope"));
	assert_null(mc.http);
	assert_null(mc.tokens);
	assert_null(mc.graph);
	assert_null(mc.intune);
	assert_int_equal(msft_clients_new(&mc, c, 0, &e), 0);
	msft_clients_free(&mc);
	entra_conf_free(c);
}

static void
clients_refuse_an_unvalidated_conf(void **state)
{
	struct entra_conf	*c = entra_conf_new();
	struct msft_clients	 mc;
	struct err		 e;

	(void)state;
	assert_non_null(c);
	assert_int_equal(msft_clients_new(&mc, c, 0, &e), -1);
	assert_null(mc.http);
	assert_null(mc.tokens);
	assert_null(mc.graph);
	msft_clients_free(&mc);
	msft_clients_free(NULL);
	entra_conf_free(c);
}

static void
cloud_names_round_trip_in_any_case(void **state)
{
	enum entra_cloud	cloud;
	int			i;

	(void)state;
	for (i = ENTRA_CLOUD_GLOBAL; i <= ENTRA_CLOUD_CUSTOM; i++) {
		assert_int_equal(entra_cloud_from_name(
		    entra_cloud_name((enum entra_cloud)i), &cloud), 0);
		assert_int_equal(cloud, i);
	}
	assert_int_equal(entra_cloud_from_name("DoD", &cloud), 0);
	assert_int_equal(cloud, ENTRA_CLOUD_DOD);
	assert_int_equal(entra_cloud_from_name("mars", &cloud), -1);
	assert_int_equal(entra_cloud_from_name("", &cloud), -1);
}

static void
cloud_names_list_every_cloud_and_truncate_safely(void **state)
{
	const char	*all = "global | usgov | dod | china | custom";
	char		 out[64], small[8];

	(void)state;
	assert_int_equal(entra_cloud_names(out, sizeof(out), " | "),
	    strlen(all));
	assert_string_equal(out, all);
	assert_int_equal(entra_cloud_names(small, sizeof(small), " | "),
	    strlen(all));
	assert_string_equal(small, "global ");
	assert_int_equal(entra_cloud_names(NULL, 0, ","),
	    strlen("global,usgov,dod,china,custom"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(clients_without_intune_flag_make_http_tokens_graph),
		cmocka_unit_test(clients_with_intune_flag_make_all_four),
		cmocka_unit_test(clients_intune_without_scope_fails_and_leaves_nothing),
		cmocka_unit_test(clients_refuse_an_unvalidated_conf),
		cmocka_unit_test(cloud_names_round_trip_in_any_case),
		cmocka_unit_test(cloud_names_list_every_cloud_and_truncate_safely),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
