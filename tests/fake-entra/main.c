/*
 * main.c - fake-entra's command line: parse options, load the TLS pair,
 * serve until SIGTERM or SIGINT, then stop cleanly and exit 0.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include "base/buf.h"
#include "base/log.h"
#include "fake.h"
#include "state.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: fake-entra --listen 127.0.0.1:PORT [--public-url URL]\n"
	    "                  [--token-lifetime SECONDS] [--page-size N]\n"
	    "                  [--tls-cert FILE --tls-key FILE] [--debug]\n"
	    "\n"
	    "Emulates Microsoft's cloud for tests: the Entra ID token endpoint,\n"
	    "Microsoft Graph (devices, users, delta, Intune discovery) and the\n"
	    "Intune SCEP validation and PKI connector endpoints, all on one\n"
	    "loopback port, plus an admin API under /_admin/ (tests/README.md).\n"
	    "\n"
	    "  --listen ADDR:PORT     loopback address to serve on (required)\n"
	    "  --public-url URL       base URL in links it hands out\n"
	    "                         (default http(s)://ADDR:PORT)\n"
	    "  --token-lifetime SEC   access token lifetime (default 3599)\n"
	    "  --page-size N          objects per Graph delta page (default 100)\n"
	    "  --tls-cert, --tls-key  PEM files: serve HTTPS instead of HTTP\n"
	    "  --debug                log debug lines too\n"
	    "  --help                 this text\n");
}

/* Parses a decimal in [min, max].  Returns 0 or -1. */
static int
parse_long(const char *s, long min, long max, long *out)
{
	char	*end;
	long	 v;

	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/*
 * Parses "127.0.0.1:PORT", "[::1]:PORT" or "localhost:PORT" into cfg,
 * refusing anything but a loopback address: the admin API has no
 * authentication, so it must never be reachable from elsewhere.
 */
static int
parse_listen(const char *s, struct fe_config *cfg)
{
	const char	*colon = strrchr(s, ':');
	unsigned char	 a[16];
	long		 port;
	size_t		 hl;

	if (colon == NULL || strlen(s) >= sizeof(cfg->listen) ||
	    parse_long(colon + 1, 1, 65535, &port) == -1)
		return -1;
	snprintf(cfg->listen, sizeof(cfg->listen), "%s", s);
	cfg->port = (unsigned short)port;
	hl = (size_t)(colon - s);
	if (hl >= 2 && s[0] == '[' && s[hl - 1] == ']') {
		snprintf(cfg->host, sizeof(cfg->host), "%.*s", (int)hl - 2, s + 1);
		cfg->ipv6 = 1;
		return inet_pton(AF_INET6, cfg->host, a) == 1 &&
		    memcmp(a, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16) == 0 ?
		    0 : -1;
	}
	snprintf(cfg->host, sizeof(cfg->host), "%.*s", (int)hl, s);
	if (strcmp(cfg->host, "localhost") == 0)
		snprintf(cfg->host, sizeof(cfg->host), "127.0.0.1");
	return inet_pton(AF_INET, cfg->host, a) == 1 && a[0] == 127 ? 0 : -1;
}

/* Sets public_url from the option or the listen address. */
static int
set_public_url(struct fe_config *cfg, const char *given)
{
	struct buf	b = {0};
	size_t		n;

	if (given != NULL) {
		if (strncmp(given, "http://", 7) != 0 &&
		    strncmp(given, "https://", 8) != 0)
			return -1;
		buf_append_str(&b, given);
	} else
		buf_printf(&b, "%s://%s", cfg->tls_cert != NULL ? "https" :
		    "http", cfg->listen);
	if ((cfg->public_url = buf_steal(&b, &n)) == NULL)
		return -1;
	while (n > 0 && cfg->public_url[n - 1] == '/')
		cfg->public_url[--n] = '\0';
	return 0;
}

enum { OPT_LISTEN = 1, OPT_PUBLIC, OPT_LIFETIME, OPT_PAGE, OPT_CERT, OPT_KEY,
    OPT_DEBUG, OPT_HELP };

static const struct option options[] = {
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "public-url", required_argument, NULL, OPT_PUBLIC },
	{ "token-lifetime", required_argument, NULL, OPT_LIFETIME },
	{ "page-size", required_argument, NULL, OPT_PAGE },
	{ "tls-cert", required_argument, NULL, OPT_CERT },
	{ "tls-key", required_argument, NULL, OPT_KEY },
	{ "debug", no_argument, NULL, OPT_DEBUG },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

/*
 * Fills cfg from argv.  Returns 0, 1 after --help, or -1 with a message
 * printed.
 */
static int
parse_args(int argc, char **argv, struct fe_config *cfg)
{
	const char	*public = NULL, *listen = NULL;
	int		 c;

	cfg->token_lifetime = 3599;
	cfg->page_size = 100;
	while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (c) {
		case OPT_LISTEN:
			listen = optarg;
			break;
		case OPT_PUBLIC:
			public = optarg;
			break;
		case OPT_LIFETIME:
			if (parse_long(optarg, 1, 31536000,
			    &cfg->token_lifetime) == -1)
				goto bad;
			break;
		case OPT_PAGE:
			if (parse_long(optarg, 1, 100000, &cfg->page_size) == -1)
				goto bad;
			break;
		case OPT_CERT:
			cfg->tls_cert = optarg;
			break;
		case OPT_KEY:
			cfg->tls_key = optarg;
			break;
		case OPT_DEBUG:
			log_set_level(LOGL_DEBUG);
			break;
		case OPT_HELP:
			usage(stdout);
			return 1;
		default:
			goto bad;
		}
	}
	if (optind != argc || listen == NULL ||
	    (cfg->tls_cert == NULL) != (cfg->tls_key == NULL))
		goto bad;
	if (parse_listen(listen, cfg) == -1) {
		fprintf(stderr, "fake-entra: --listen needs a loopback "
		    "ADDR:PORT, not '%s'\n", listen);
		return -1;
	}
	if (set_public_url(cfg, public) == -1) {
		fprintf(stderr, "fake-entra: --public-url must be an http(s) "
		    "URL\n");
		return -1;
	}
	return 0;
bad:
	usage(stderr);
	return -1;
}

/* Reads a PEM file into b as a C string.  Returns 0 or -1. */
static int
read_pem(const char *path, struct buf *b)
{
	if (buf_read_file(b, path, 1024 * 1024) == -1 || buf_cstr(b) == NULL) {
		fprintf(stderr, "fake-entra: cannot read %s\n", path);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct fe_config	 cfg;
	struct fe_ctx		 ctx;
	struct buf		 cert = {0}, key = {0};
	sigset_t		 set;
	void			*server = NULL;
	int			 rc, sig, status = 1;

	memset(&cfg, 0, sizeof(cfg));
	memset(&ctx, 0, sizeof(ctx));
	if ((rc = parse_args(argc, argv, &cfg)) != 0) {
		status = rc == 1 ? 0 : 2;
		goto out;
	}
	if (cfg.tls_cert != NULL && (read_pem(cfg.tls_cert, &cert) == -1 ||
	    read_pem(cfg.tls_key, &key) == -1))
		goto out;
	/* Block the stop signals before any thread exists; main sigwaits. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	ctx.cfg = &cfg;
	atomic_init(&ctx.stopping, 0);
	if ((ctx.st = fe_state_new()) == NULL)
		goto out;
	if ((server = fe_server_start(&ctx, cfg.tls_cert != NULL ?
	    buf_cstr(&cert) : NULL, cfg.tls_key != NULL ? buf_cstr(&key) :
	    NULL)) == NULL)
		goto out;
	log_info(FE_LOG, "serving on %s (%s), public URL %s", cfg.listen,
	    cfg.tls_cert != NULL ? "https" : "http", cfg.public_url);
	if (sigwait(&set, &sig) != 0)
		goto out;
	log_info(FE_LOG, "signal %d: stopping", sig);
	status = 0;
out:
	atomic_store(&ctx.stopping, 1);
	fe_server_stop(server);
	fe_state_free(ctx.st);
	buf_wipe(&key);
	buf_free(&cert);
	free(cfg.public_url);
	return status;
}
