/*
 * radius_decide.c - the cost of one rlm_entra_match decision in process,
 * without FreeRADIUS: the engine the module builds (store read-only, Graph
 * client, status cache with its delta thread) against a store and Graph
 * (tests/fake-entra in the benchmark), then T threads calling
 * entra_match_engine_decide() for one certificate on a warm cache.
 *
 *   radius_decide --store DB --serial HEX --issuer "/CN=..." --aki HEX:..
 *       [--san TEXT] [--tenant T --client-id C --secret-file F --login-base URL
 *        --graph-base URL] [--requests N] [--threads T] [--check-user]
 *
 * Prints one line:
 *   decisions=N threads=T result=accept us_per_decision=2.1
 *   per_thread_us=4.2 graph_lookups=1
 * Exit 0 when every decision was the first one's result.
 */
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "entra_match.h"
#include "msft/conf.h"
#include "msft/http.h"

struct opts {
	const char	*store, *serial, *issuer, *aki, *san;
	const char	*tenant, *client_id, *secret_file, *login_base, *graph_base;
	long		 requests;
	int		 threads, check_user;
};

struct worker {
	struct entra_match_engine	*eng;
	const struct opts		*o;
	long				 n;
	enum entra_match_result		 want;
	long				 wrong;
	int64_t				 ms;
};

static void
usage(void)
{
	fputs("usage: radius_decide --store DB --serial HEX --issuer NAME "
	    "--aki KEYID [--san TEXT]\n"
	    "    [--tenant T --client-id C --secret-file F --login-base URL "
	    "--graph-base URL]\n"
	    "    [--requests N] [--threads T] [--check-user]\n", stderr);
}

static int
parse(int argc, char **argv, struct opts *o)
{
	static const struct option long_opts[] = {
		{ "store", required_argument, NULL, 's' },
		{ "serial", required_argument, NULL, 'n' },
		{ "issuer", required_argument, NULL, 'i' },
		{ "san", required_argument, NULL, 'a' },
		{ "aki", required_argument, NULL, 'k' },
		{ "tenant", required_argument, NULL, 't' },
		{ "client-id", required_argument, NULL, 'c' },
		{ "secret-file", required_argument, NULL, 'f' },
		{ "login-base", required_argument, NULL, 'l' },
		{ "graph-base", required_argument, NULL, 'g' },
		{ "requests", required_argument, NULL, 'r' },
		{ "threads", required_argument, NULL, 'T' },
		{ "check-user", no_argument, NULL, 'u' },
		{ NULL, 0, NULL, 0 },
	};
	int	ch;

	memset(o, 0, sizeof(*o));
	o->requests = 200000;
	o->threads = 1;
	while ((ch = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
		switch (ch) {
		case 's': o->store = optarg; break;
		case 'n': o->serial = optarg; break;
		case 'i': o->issuer = optarg; break;
		case 'a': o->san = optarg; break;
		case 'k': o->aki = optarg; break;
		case 't': o->tenant = optarg; break;
		case 'c': o->client_id = optarg; break;
		case 'f': o->secret_file = optarg; break;
		case 'l': o->login_base = optarg; break;
		case 'g': o->graph_base = optarg; break;
		case 'r': o->requests = strtol(optarg, NULL, 10); break;
		case 'T': o->threads = atoi(optarg); break;
		case 'u': o->check_user = 1; break;
		default: return -1;
		}
	}
	if (o->store == NULL || o->serial == NULL || o->issuer == NULL ||
	    o->requests <= 0 || o->threads <= 0 || o->threads > 64)
		return -1;
	return 0;
}

/* The Entra settings, as the module builds them; NULL without a tenant. */
static struct entra_conf *
conf_make(const struct opts *o, struct err *e)
{
	struct entra_conf	*c;

	if (o->tenant == NULL)
		return NULL;
	if ((c = entra_conf_new()) == NULL ||
	    entra_conf_set(c, "tenant", o->tenant, e) == -1 ||
	    entra_conf_set(c, "client_id", o->client_id ? o->client_id : "",
	    e) == -1 ||
	    (o->secret_file != NULL && entra_conf_set(c, "client_secret_file",
	    o->secret_file, e) == -1) ||
	    (o->login_base != NULL && entra_conf_set(c, "login_base",
	    o->login_base, e) == -1) ||
	    (o->graph_base != NULL && entra_conf_set(c, "graph_base",
	    o->graph_base, e) == -1) ||
	    entra_conf_set(c, "timeout", "2", e) == -1 ||
	    entra_conf_validate(c, e) == -1) {
		entra_conf_free(c);
		return NULL;
	}
	return c;
}

static void *
worker_run(void *arg)
{
	struct worker			*w = arg;
	struct entra_match_cert		 cert;
	struct entra_match_verdict	 v;
	int64_t				 t0 = http_now_ms();
	long				 i;

	memset(&cert, 0, sizeof(cert));
	cert.serial = w->o->serial;
	cert.issuer = w->o->issuer;
	cert.aki = w->o->aki;
	cert.san = w->o->san;

	for (i = 0; i < w->n; i++)
		if (entra_match_engine_decide(w->eng, &cert, &v) != w->want)
			w->wrong++;
	w->ms = http_now_ms() - t0;
	return NULL;
}

int
main(int argc, char **argv)
{
	struct opts			 o;
	struct entra_match_engine_opts	 eo;
	struct entra_match_engine	*eng;
	struct entra_match_cert		 cert;
	struct entra_match_verdict	 v;
	struct status_cache_stats	 st;
	struct worker			 w[64];
	pthread_t			 t[64];
	struct err			 e;
	int64_t				 t0, wall;
	long				 wrong = 0;
	double				 per_thread = 0;
	int				 i;

	if (parse(argc, argv, &o) == -1) {
		usage();
		return 2;
	}
	log_set_level(LOGL_WARN);
	memset(&eo, 0, sizeof(eo));
	err_clear(&e);
	eo.store_path = o.store;
	eo.conf = conf_make(&o, &e);
	if (o.tenant != NULL && eo.conf == NULL) {
		fprintf(stderr, "radius_decide: %s\n", e.msg);
		return 1;
	}
	eo.policy.check_user = o.check_user;
	eo.policy.max_age_ms = 300000;
	eo.policy.fail_open_max_age_ms = 3600000;
	eo.timeout_ms = 2000;
	eo.delta_interval_ms = 2000;
	eo.start_delta = 1;
	if ((eng = entra_match_engine_new(&eo, &e)) == NULL) {
		fprintf(stderr, "radius_decide: %s\n", e.msg);
		return 1;
	}

	/* The first decision warms the cache (a live lookup on a miss). */
	memset(&cert, 0, sizeof(cert));
	cert.serial = o.serial;
	cert.issuer = o.issuer;
	cert.aki = o.aki;
	cert.san = o.san;
	entra_match_engine_decide(eng, &cert, &v);
	for (i = 0; i < o.threads; i++) {
		w[i].eng = eng;
		w[i].o = &o;
		w[i].n = o.requests / o.threads;
		w[i].want = v.result;
		w[i].wrong = 0;
	}
	t0 = http_now_ms();
	for (i = 0; i < o.threads; i++)
		pthread_create(&t[i], NULL, worker_run, &w[i]);
	for (i = 0; i < o.threads; i++) {
		pthread_join(t[i], NULL);
		wrong += w[i].wrong;
		per_thread += (double)w[i].ms * 1000.0 / (double)w[i].n;
	}
	wall = http_now_ms() - t0;
	memset(&st, 0, sizeof(st));
	if (entra_match_engine_cache(eng) != NULL)
		status_cache_stats(entra_match_engine_cache(eng), &st);
	printf("decisions=%ld threads=%d result=%s us_per_decision=%.2f "
	    "per_thread_us=%.2f graph_lookups=%llu wrong=%ld\n",
	    w[0].n * o.threads, o.threads, entra_match_result_name(v.result),
	    (double)wall * 1000.0 / (double)(w[0].n * o.threads),
	    per_thread / o.threads, (unsigned long long)st.live_calls, wrong);
	entra_match_engine_free(eng);
	return wrong == 0 ? 0 : 1;
}
