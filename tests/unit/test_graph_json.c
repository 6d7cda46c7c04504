/*
 * Unit tests for shared/msft/graph_json.c (Graph answer decoding) and the
 * URL helpers the Graph client relies on: no network.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/buf.h"
#include "msft/graph.h"
#include "msft/http.h"

#define S(x)	x, strlen(x)

static void
device_answer_is_parsed(void **state)
{
	struct graph_device	d;
	struct err		e;

	(void)state;
	assert_int_equal(graph_json_parse_device(S("{\"@odata.context\":\"x\","
	    "\"id\":\"obj-1\",\"deviceId\":\"dev-1\",\"accountEnabled\":false}"),
	    &d, &e), 0);
	assert_string_equal(d.id, "obj-1");
	assert_string_equal(d.device_id, "dev-1");
	assert_int_equal(d.account_enabled, 0);
}

static void
device_answer_with_missing_or_mistyped_fields_is_refused(void **state)
{
	static const char *const bad[] = {
		"",
		"not json",
		"[]",
		"null",
		"{\"id\":\"a\",\"deviceId\":\"b\"}",			/* no accountEnabled */
		"{\"id\":\"a\",\"deviceId\":\"b\",\"accountEnabled\":\"true\"}",
		"{\"id\":7,\"deviceId\":\"b\",\"accountEnabled\":true}",
		"{\"deviceId\":\"b\",\"accountEnabled\":true}",
		"{\"id\":\"a\",\"id\":\"c\",\"deviceId\":\"b\",\"accountEnabled\":true}",
		"{\"id\":\"a\\u0000b\",\"deviceId\":\"b\",\"accountEnabled\":true}",
		"{\"id\":\"a\",\"deviceId\":\"b\",\"accountEnabled\":true",
	};
	struct graph_device	d;
	struct err		e;
	size_t			i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(graph_json_parse_device(S(bad[i]), &d, &e), -1);
		assert_int_equal(e.code, ERR_PARSE);
	}
}

static void
huge_strings_are_refused_not_truncated(void **state)
{
	struct graph_user	u;
	struct buf		j = {0};
	struct err		e;
	size_t			i;

	(void)state;
	buf_append_str(&j, "{\"id\":\"u\",\"accountEnabled\":true,"
	    "\"userPrincipalName\":\"");
	for (i = 0; i < 100000; i++)
		buf_append(&j, "a", 1);
	buf_append_str(&j, "@x\"}");
	assert_int_equal(graph_json_parse_user((char *)j.data, j.len, &u, &e),
	    -1);
	assert_non_null(strstr(e.msg, "too long"));
	buf_free(&j);
}

static void
user_and_managed_device_answers_are_parsed(void **state)
{
	struct graph_managed_device	m;
	struct graph_user		u;
	struct err			e;

	(void)state;
	assert_int_equal(graph_json_parse_user(S("{\"id\":\"u1\","
	    "\"userPrincipalName\":\"a@b.example\",\"accountEnabled\":true}"),
	    &u, &e), 0);
	assert_string_equal(u.upn, "a@b.example");
	assert_int_equal(u.account_enabled, 1);
	assert_int_equal(graph_json_parse_managed_device(S("{\"id\":\"m1\","
	    "\"azureADDeviceId\":\"d1\",\"complianceState\":\"compliant\"}"),
	    &m, &e), 0);
	assert_string_equal(m.azure_ad_device_id, "d1");
	assert_string_equal(m.compliance_state, "compliant");
	/* Intune may leave azureADDeviceId null for unregistered devices. */
	assert_int_equal(graph_json_parse_managed_device(S("{\"id\":\"m1\","
	    "\"azureADDeviceId\":null}"), &m, &e), 0);
	assert_string_equal(m.azure_ad_device_id, "");
	assert_int_equal(graph_json_parse_managed_device(S("{\"id\":\"m1\","
	    "\"complianceState\":3}"), &m, &e), -1);
}

static void
endpoints_are_matched_case_insensitively(void **state)
{
	struct graph_endpoints	ep;
	struct err		e;

	(void)state;
	assert_int_equal(graph_json_parse_endpoints(S("{\"value\":["
	    "{\"providerName\":\"SomethingElse\",\"uri\":\"https://x\"},"
	    "{\"providerName\":\"scepREQUESTvalidationFEservice\","
	    "\"uri\":\"https://scep.example/svc/\"},"
	    "{\"providerName\":\"PkiConnectorFEService\","
	    "\"uri\":\"https://pki.example/svc\"},"
	    "17]}"), &ep, &e), 0);
	assert_string_equal(ep.scep, "https://scep.example/svc");
	assert_string_equal(ep.pki, "https://pki.example/svc");
	assert_int_equal(graph_json_parse_endpoints(S("{\"value\":[]}"), &ep,
	    &e), -1);
	assert_int_equal(graph_json_parse_endpoints(S("{\"value\":{}}"), &ep,
	    &e), -1);
	assert_int_equal(graph_json_parse_endpoints(S("{\"value\":["
	    "{\"providerName\":\"PkiConnectorFEService\",\"uri\":5}]}"), &ep,
	    &e), -1);
}

struct seen {
	int	n, removed, stop_after;
	char	last_id[64], last_reason[32], last_extra[64];
	int	last_enabled;
};

static int
collect(void *arg, const struct graph_delta_object *o)
{
	struct seen	*s = arg;

	s->n++;
	snprintf(s->last_id, sizeof(s->last_id), "%s", o->id);
	snprintf(s->last_extra, sizeof(s->last_extra), "%s",
	    o->device_id ? o->device_id : o->upn ? o->upn : "");
	s->last_enabled = o->account_enabled;
	if (o->removed) {
		s->removed++;
		snprintf(s->last_reason, sizeof(s->last_reason), "%s",
		    o->removed_reason);
	}
	return s->stop_after && s->n >= s->stop_after ? -1 : 0;
}

static void
delta_page_gives_objects_removals_and_next_link(void **state)
{
	struct graph_delta_links	l;
	struct seen			s = {0};
	struct err			e;

	(void)state;
	assert_int_equal(graph_json_parse_delta_page(S("{\"value\":["
	    "{\"id\":\"o1\",\"deviceId\":\"d1\",\"accountEnabled\":true},"
	    "{\"id\":\"o2\",\"accountEnabled\":false},"
	    "{\"id\":\"o3\",\"@removed\":{\"reason\":\"changed\"}}],"
	    "\"@odata.nextLink\":\"https://graph.example/v1.0/devices/delta?"
	    "$skiptoken=abc\"}"), GRAPH_DEVICES, collect, &s, &l, &e), 0);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.removed, 1);
	assert_string_equal(s.last_id, "o3");
	assert_string_equal(s.last_reason, "changed");
	assert_string_equal(l.next_link,
	    "https://graph.example/v1.0/devices/delta?$skiptoken=abc");
	assert_null(l.delta_link);
	graph_delta_links_free(&l);
}

static void
delta_page_of_users_ends_with_delta_link(void **state)
{
	struct graph_delta_links	l;
	struct seen			s = {0};
	struct err			e;

	(void)state;
	assert_int_equal(graph_json_parse_delta_page(S("{\"value\":["
	    "{\"id\":\"u1\",\"userPrincipalName\":\"a@b\","
	    "\"accountEnabled\":true},"
	    "{\"id\":\"u2\",\"@removed\":{}}],"
	    "\"@odata.deltaLink\":\"https://g/v1.0/users/delta?$deltatoken=z\"}"),
	    GRAPH_USERS, collect, &s, &l, &e), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.last_reason, "deleted");	/* reason absent */
	assert_null(l.next_link);
	assert_string_equal(l.delta_link,
	    "https://g/v1.0/users/delta?$deltatoken=z");
	graph_delta_links_free(&l);
}

static void
malformed_delta_pages_are_refused(void **state)
{
	static const char *const bad[] = {
		"{}",
		"{\"value\":7}",
		"{\"value\":[1]}",
		"{\"value\":[{\"accountEnabled\":true}]}",
		"{\"value\":[{\"id\":\"a\",\"@removed\":\"deleted\"}]}",
		"{\"value\":[{\"id\":\"a\",\"accountEnabled\":1}]}",
		"{\"value\":[],\"@odata.deltaLink\":5}",
		"{\"value\":[],\"@odata.nextLink\":\"\"}",
	};
	struct graph_delta_links	l;
	struct seen			s = {0};
	struct err			e;
	size_t				i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(graph_json_parse_delta_page(S(bad[i]),
		    GRAPH_DEVICES, collect, &s, &l, &e), -1);
		assert_null(l.next_link);
		assert_null(l.delta_link);
	}
}

static void
delta_callback_can_stop_the_round(void **state)
{
	struct graph_delta_links	l;
	struct seen			s = { .stop_after = 1 };
	struct err			e;

	(void)state;
	assert_int_equal(graph_json_parse_delta_page(S("{\"value\":["
	    "{\"id\":\"a\"},{\"id\":\"b\"}],\"@odata.deltaLink\":\"x\"}"),
	    GRAPH_DEVICES, collect, &s, &l, &e), -1);
	assert_int_equal(s.n, 1);
	assert_int_equal(e.code, ERR_INTERNAL);
	assert_null(l.delta_link);
}

static void
graph_error_body_is_described(void **state)
{
	char	out[128], code[64];

	(void)state;
	graph_json_error(S("{\"error\":{\"code\":\"Request_ResourceNotFound\","
	    "\"message\":\"Resource 'x' does not exist\",\"innerError\":{}}}"),
	    out, sizeof(out), code, sizeof(code));
	assert_string_equal(code, "Request_ResourceNotFound");
	assert_string_equal(out, "Request_ResourceNotFound: Resource 'x' "
	    "does not exist");
	graph_json_error(S("<html>"), out, sizeof(out), code, sizeof(code));
	assert_string_equal(code, "");
	assert_string_equal(out, "no error details");
	graph_json_error(NULL, 0, out, sizeof(out), NULL, 0);
}

static void
guid_check_refuses_anything_that_could_change_a_url(void **state)
{
	(void)state;
	assert_true(graph_guid_valid("0a1b2c3d-1111-4000-8000-00000000000F"));
	assert_false(graph_guid_valid("0a1b2c3d-1111-4000-8000-00000000000"));
	assert_false(graph_guid_valid("0a1b2c3d-1111-4000-8000-0000000000001"));
	assert_false(graph_guid_valid("0a1b2c3d-1111-4000-8000-00000000000'"));
	assert_false(graph_guid_valid("0a1b2c3d/1111-4000-8000-000000000001"));
	assert_false(graph_guid_valid("0a1b2c3g-1111-4000-8000-000000000001"));
	assert_false(graph_guid_valid(""));
}

static void
url_encoding_escapes_everything_but_unreserved(void **state)
{
	struct buf	b = {0};

	(void)state;
	assert_int_equal(http_url_encode(&b, "a.b-c_d~e@f/g'h#EXT#+ =%"), 0);
	assert_string_equal(buf_cstr(&b),
	    "a.b-c_d~e%40f%2Fg%27h%23EXT%23%2B%20%3D%25");
	buf_free(&b);
}

static void
same_origin_check_blocks_other_hosts_and_userinfo_tricks(void **state)
{
	const char	*base = "https://graph.microsoft.com";

	(void)state;
	assert_true(http_url_same_origin(
	    "https://graph.microsoft.com/v1.0/devices/delta?$skiptoken=1", base));
	assert_true(http_url_same_origin(
	    "HTTPS://GRAPH.microsoft.com/v1.0/x", base));
	assert_false(http_url_same_origin(
	    "https://graph.microsoft.com.evil.example/v1.0", base));
	assert_false(http_url_same_origin(
	    "https://graph.microsoft.com@evil.example/v1.0", base));
	assert_false(http_url_same_origin(
	    "https://graph.microsoft.com:8443/v1.0", base));
	assert_false(http_url_same_origin(
	    "http://graph.microsoft.com/v1.0", base));
	assert_false(http_url_same_origin("/v1.0/devices", base));
	assert_true(http_url_same_origin("http://127.0.0.1:5000/v1.0/x?y",
	    "http://127.0.0.1:5000"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(device_answer_is_parsed),
		cmocka_unit_test(
		    device_answer_with_missing_or_mistyped_fields_is_refused),
		cmocka_unit_test(huge_strings_are_refused_not_truncated),
		cmocka_unit_test(user_and_managed_device_answers_are_parsed),
		cmocka_unit_test(endpoints_are_matched_case_insensitively),
		cmocka_unit_test(delta_page_gives_objects_removals_and_next_link),
		cmocka_unit_test(delta_page_of_users_ends_with_delta_link),
		cmocka_unit_test(malformed_delta_pages_are_refused),
		cmocka_unit_test(delta_callback_can_stop_the_round),
		cmocka_unit_test(graph_error_body_is_described),
		cmocka_unit_test(
		    guid_check_refuses_anything_that_could_change_a_url),
		cmocka_unit_test(url_encoding_escapes_everything_but_unreserved),
		cmocka_unit_test(
		    same_origin_check_blocks_other_hosts_and_userinfo_tricks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
