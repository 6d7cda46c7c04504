/*
 * libFuzzer target: every decoder of Microsoft cloud answers (token
 * endpoint, Graph objects and delta pages, Intune answers).
 */
#include <stddef.h>
#include <stdint.h>

#include "msft/graph.h"
#include "msft/intune.h"
#include "msft/token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
count_object(void *arg, const struct graph_delta_object *o)
{
	(void)o;
	++*(int *)arg;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char			*j = (const char *)data;
	struct graph_device		 d;
	struct graph_managed_device	 md;
	struct graph_user		 u;
	struct graph_endpoints		 ep;
	struct graph_delta_links	 links = {0};
	struct intune_validation	 v;
	struct intune_revocation_list	 rl = {0};
	struct buf			 token = {0};
	struct err			 e;
	char				 line[256], code[64];
	long				 expires;
	int				 n = 0;

	graph_json_parse_device(j, size, &d, &e);
	graph_json_parse_managed_device(j, size, &md, &e);
	graph_json_parse_user(j, size, &u, &e);
	graph_json_parse_endpoints(j, size, &ep, &e);
	graph_json_parse_delta_page(j, size, GRAPH_DEVICES, count_object, &n,
	    &links, &e);
	graph_delta_links_free(&links);
	graph_json_error(j, size, line, sizeof(line), code, sizeof(code));
	intune_json_parse_validation(j, size, &v, &e);
	if (intune_json_parse_revocations(j, size, &rl, &e) == 0)
		intune_revocation_list_free(&rl);
	intune_json_parse_upload(j, size, &e);
	entra_token_json_parse(j, size, &token, &expires, &e);
	buf_wipe(&token);
	entra_token_json_error(j, size, line, sizeof(line));
	return 0;
}
