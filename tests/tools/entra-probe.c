/*
 * entra-probe - drives every Microsoft cloud client call from the command
 * line: for the integration tests, and for admins checking an app
 * registration (permissions, credentials, network path) before they point
 * scep-ca or FreeRADIUS at it.
 *
 * Output is one simple "key value" line per fact, for grep.  Exit status:
 * 0 success, 1 failure (one line on stderr), 2 a negative answer (object
 * not found, validation refused).  The secret never comes from argv: a
 * file (--secret-file) or the environment (ENTRA_CLIENT_SECRET).
 */
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/pem.h>

#include "base/buf.h"
#include "base/encode.h"
#include "base/err.h"
#include "base/log.h"
#include "msft/clients.h"
#include "msft/conf.h"

#define PROBE_ARGS_MAX	16

struct probe {
	struct entra_conf		*conf;
	struct msft_clients		 clients;	/* intune NULL: no intune_scope */
	int				 show_token;
	int				 threads;	/* concurrent runs */
};

struct probe_cmd {
	const char	*name;
	int		 min_args, max_args;
	int		(*run)(struct probe *, int, char **, struct err *);
	const char	*usage;
};

static int verbose;

static void
usage(FILE *fp)
{
	fprintf(fp,
"usage: entra-probe [options] COMMAND [ARGS]\n"
"options:\n"
"  --cloud global|usgov|dod|china|custom   --login-base URL  --graph-base URL\n"
"  --tenant T --client-id C\n"
"  --secret-file F | --secret-env VAR (default ENTRA_CLIENT_SECRET)\n"
"  --cert F --key F [--rs256]\n"
"  --ca-bundle F --timeout-ms N --max-retries N --graph-scope S\n"
"  --intune-scope S --caller-info S --show-token -v (library logs)\n"
"  --threads N   run the command N times at once on shared clients\n"
"commands:\n"
"  token graph|intune                   get a token, show its lifetime and roles\n"
"  discover                             Intune service URIs\n"
"  device DEVICE_ID                     Entra device by deviceId\n"
"  managed-device ID                    Intune managed device\n"
"  user ID|UPN                          Entra user\n"
"  delta devices|users [--latest] [--link URL]   one delta round\n"
"  validate TXID CSR                    Intune validateRequest (CSR: DER or PEM)\n"
"  notify-success TXID CSR CERT [CA_CONFIG [CA_NAME]]\n"
"  notify-failure TXID CSR HRESULT [DESCRIPTION...]\n"
"  revocations [MAX]                    download revocation requests\n"
"  upload-result CONTEXT ok|fail CODE [MESSAGE...]\n"
"  shell                                commands from stdin, one a line, caches\n"
"                                       kept between them; \"exit N\" after each\n"
"exit: 0 success, 1 failure, 2 negative answer (not found, refused)\n");
}

/* Library log lines reach stderr only with -v: failures print one line. */
static void
probe_log_sink(void *arg, enum log_level level, const char *line)
{
	(void)arg;
	(void)level;
	if (verbose)
		fprintf(stderr, "%s\n", line);
}

/* Reads a DER file, or the first PEM object of a PEM file, into der. */
static int
probe_read_der(const char *path, struct buf *der, struct err *e)
{
	struct buf	 raw = {0};
	unsigned char	*data = NULL;
	char		*name = NULL, *hdr = NULL;
	long		 len = 0;
	BIO		*bio = NULL;
	int		 rc = -1;

	if (buf_read_file(&raw, path, 1 << 20) == -1) {
		err_set(e, ERR_IO, "cannot read %s", path);
		goto out;
	}
	if (raw.len < 10 || memcmp(raw.data, "-----BEGIN", 10) != 0) {
		rc = buf_set(der, raw.data, raw.len);
		goto out;
	}
	if ((bio = BIO_new_mem_buf(raw.data, (int)raw.len)) == NULL ||
	    PEM_read_bio(bio, &name, &hdr, &data, &len) != 1) {
		err_set_ossl(e, ERR_PARSE, "%s is not PEM", path);
		goto out;
	}
	rc = buf_set(der, data, (size_t)len);
out:
	OPENSSL_free(name);
	OPENSSL_free(hdr);
	OPENSSL_free(data);
	BIO_free(bio);
	buf_free(&raw);
	return rc;
}

/* Prints the claims of a JWT access token that help check permissions. */
static void
probe_token_claims(const char *tok)
{
	const char	*d1 = strchr(tok, '.'), *d2;
	struct buf	 payload = {0};
	json_error_t	 je;
	json_t		*c = NULL, *roles, *v;
	size_t		 i;

	if (d1 == NULL || (d2 = strchr(d1 + 1, '.')) == NULL ||
	    b64_decode_lenient(&payload, d1 + 1, (size_t)(d2 - d1 - 1)) ==
	    -1 || (c = json_loadb((char *)payload.data, payload.len, 0,
	    &je)) == NULL)
		goto out;
	if (json_is_string(json_object_get(c, "aud")))
		printf("aud %s\n", json_string_value(json_object_get(c, "aud")));
	roles = json_object_get(c, "roles");
	printf("roles");
	json_array_foreach(roles, i, v)
		if (json_is_string(v))
			printf(" %s", json_string_value(v));
	printf("\n");
out:
	json_decref(c);
	buf_free(&payload);
}

static int
cmd_token(struct probe *p, int argc, char **argv, struct err *e)
{
	const char	*scope;
	struct buf	 tok = {0};
	long		 left = 0;
	int		 rc = 1;

	(void)argc;
	if (strcmp(argv[1], "graph") == 0)
		scope = p->conf->graph_scope;
	else if (strcmp(argv[1], "intune") == 0 && p->conf->intune_scope)
		scope = p->conf->intune_scope;
	else
		return err_set(e, ERR_USAGE, "token: graph or intune"), 1;
	if (entra_token_get(p->clients.tokens, scope, http_now_ms() +
	    p->conf->timeout_ms, &tok, &left, e) == -1)
		goto out;
	printf("token ok scope=%s expires_in=%ld length=%zu\n", scope, left,
	    tok.len);
	probe_token_claims(buf_cstr(&tok));
	if (p->show_token)
		printf("access_token %s\n", buf_cstr(&tok));
	rc = 0;
out:
	buf_wipe(&tok);
	return rc;
}

static int
cmd_discover(struct probe *p, int argc, char **argv, struct err *e)
{
	struct graph_endpoints	ep;

	(void)argc;
	(void)argv;
	if (graph_intune_endpoints_get(p->clients.graph, 0, &ep, e) == -1)
		return 1;
	printf("ScepRequestValidationFEService %s\n", ep.scep[0] ? ep.scep : "-");
	printf("PkiConnectorFEService %s\n", ep.pki[0] ? ep.pki : "-");
	return 0;
}

static const char *
tf(int v)
{
	return v < 0 ? "-" : v ? "true" : "false";
}

static int
cmd_device(struct probe *p, int argc, char **argv, struct err *e)
{
	struct graph_device	d;

	(void)argc;
	if (graph_device_get(p->clients.graph, argv[1], &d, e) == -1)
		return 1;
	if (!d.found) {
		printf("device not-found\n");
		return 2;
	}
	printf("device found id=%s deviceId=%s accountEnabled=%s\n", d.id,
	    d.device_id, tf(d.account_enabled));
	return 0;
}

static int
cmd_managed_device(struct probe *p, int argc, char **argv, struct err *e)
{
	struct graph_managed_device	d;

	(void)argc;
	if (graph_managed_device_get(p->clients.graph, argv[1], &d, e) == -1)
		return 1;
	if (!d.found) {
		printf("managed-device not-found\n");
		return 2;
	}
	printf("managed-device found id=%s azureADDeviceId=%s "
	    "complianceState=%s\n", d.id, d.azure_ad_device_id[0] ?
	    d.azure_ad_device_id : "-", d.compliance_state[0] ?
	    d.compliance_state : "-");
	return 0;
}

static int
cmd_user(struct probe *p, int argc, char **argv, struct err *e)
{
	struct graph_user	u;

	(void)argc;
	if (graph_user_get(p->clients.graph, argv[1], &u, e) == -1)
		return 1;
	if (!u.found) {
		printf("user not-found\n");
		return 2;
	}
	printf("user found id=%s userPrincipalName=%s accountEnabled=%s\n",
	    u.id, u.upn[0] ? u.upn : "-", tf(u.account_enabled));
	return 0;
}

static int
probe_delta_print(void *arg, const struct graph_delta_object *o)
{
	size_t	*count = arg;

	(*count)++;
	if (o->removed)
		printf("removed id=%s reason=%s\n", o->id, o->removed_reason);
	else if (o->kind == GRAPH_DEVICES)
		printf("device id=%s deviceId=%s accountEnabled=%s\n", o->id,
		    o->device_id ? o->device_id : "-", tf(o->account_enabled));
	else
		printf("user id=%s userPrincipalName=%s accountEnabled=%s\n",
		    o->id, o->upn ? o->upn : "-", tf(o->account_enabled));
	return 0;
}

static int
cmd_delta(struct probe *p, int argc, char **argv, struct err *e)
{
	const char	*link = NULL;
	char		*delta_link = NULL;
	size_t		 count = 0;
	int		 i, latest = 0, resync = 0;
	enum graph_kind	 kind;

	if (strcmp(argv[1], "devices") == 0)
		kind = GRAPH_DEVICES;
	else if (strcmp(argv[1], "users") == 0)
		kind = GRAPH_USERS;
	else
		return err_set(e, ERR_USAGE, "delta: devices or users"), 1;
	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--latest") == 0)
			latest = 1;
		else if (strcmp(argv[i], "--link") == 0 && i + 1 < argc)
			link = argv[++i];
		else
			return err_set(e, ERR_USAGE, "delta: unknown '%s'",
			    argv[i]), 1;
	}
	if (graph_delta_run(p->clients.graph, kind, link, latest, probe_delta_print,
	    &count, &delta_link, &resync, e) == -1) {
		if (resync)
			printf("resync-required\n");
		return 1;
	}
	printf("count %zu\n", count);
	printf("deltaLink %s\n", delta_link);
	free(delta_link);
	return 0;
}

static int
probe_need_intune(struct probe *p, struct err *e)
{
	if (p->clients.intune == NULL)
		return err_set(e, ERR_CONFIG, "no intune_scope for this cloud: "
		    "use --intune-scope");
	return 0;
}

static int
cmd_validate(struct probe *p, int argc, char **argv, struct err *e)
{
	struct intune_validation	v;
	struct buf			csr = {0};
	int				rc = 1;

	(void)argc;
	if (probe_need_intune(p, e) == -1 ||
	    probe_read_der(argv[2], &csr, e) == -1 ||
	    intune_scep_validate(p->clients.intune, argv[1], csr.data, csr.len, &v,
	    e) == -1)
		goto out;
	printf("code %s\n", v.code);
	printf("description %s\n", v.description);
	rc = v.success ? 0 : 2;
out:
	buf_free(&csr);
	return rc;
}

static int
cmd_notify_success(struct probe *p, int argc, char **argv, struct err *e)
{
	struct intune_success	n = {0};
	struct buf		csr = {0}, cert = {0};
	int			rc = 1;

	if (probe_need_intune(p, e) == -1 ||
	    probe_read_der(argv[2], &csr, e) == -1 ||
	    probe_read_der(argv[3], &cert, e) == -1)
		goto out;
	n.transaction_id = argv[1];
	n.csr_der = csr.data;
	n.csr_len = csr.len;
	n.cert_der = cert.data;
	n.cert_len = cert.len;
	n.ca_configuration = argc > 4 ? argv[4] : NULL;
	n.certificate_authority = argc > 5 ? argv[5] : NULL;
	if (intune_scep_notify_success(p->clients.intune, &n, e) == -1)
		goto out;
	printf("notified successNotification\n");
	rc = 0;
out:
	buf_free(&csr);
	buf_free(&cert);
	return rc;
}

/* Joins argv[from..] with spaces into out. */
static void
probe_join(int argc, char **argv, int from, struct buf *out)
{
	int	i;

	for (i = from; i < argc; i++)
		buf_printf(out, "%s%s", i > from ? " " : "", argv[i]);
	buf_cstr(out);
}

static int
cmd_notify_failure(struct probe *p, int argc, char **argv, struct err *e)
{
	struct intune_failure	n = {0};
	struct buf		csr = {0}, desc = {0};
	char			*end;
	int			rc = 1;

	if (probe_need_intune(p, e) == -1 ||
	    probe_read_der(argv[2], &csr, e) == -1)
		goto out;
	/* "0x80004005" or a signed decimal: HRESULTs are 32-bit. */
	n.hresult = (int32_t)(uint32_t)strtoll(argv[3], &end, 0);
	if (*end != '\0') {
		err_set(e, ERR_USAGE, "notify-failure: bad HRESULT '%s'",
		    argv[3]);
		goto out;
	}
	probe_join(argc, argv, 4, &desc);
	n.transaction_id = argv[1];
	n.csr_der = csr.data;
	n.csr_len = csr.len;
	n.description = desc.len > 0 ? (char *)desc.data : "";
	if (intune_scep_notify_failure(p->clients.intune, &n, e) == -1)
		goto out;
	printf("notified failureNotification\n");
	rc = 0;
out:
	buf_free(&csr);
	buf_free(&desc);
	return rc;
}

static int
cmd_revocations(struct probe *p, int argc, char **argv, struct err *e)
{
	struct intune_revocation_list	l = {0};
	size_t				i;

	if (probe_need_intune(p, e) == -1 ||
	    intune_revocation_download(p->clients.intune, argc > 1 ? atoi(argv[1]) :
	    100, &l, e) == -1)
		return 1;
	for (i = 0; i < l.n; i++)
		printf("revocation requestContext=%s serialNumber=%s "
		    "issuerName=%s caConfiguration=%s\n",
		    l.items[i].request_context, l.items[i].serial_number,
		    l.items[i].issuer_name ? l.items[i].issuer_name : "-",
		    l.items[i].ca_configuration ? l.items[i].ca_configuration :
		    "-");
	printf("count %zu\n", l.n);
	intune_revocation_list_free(&l);
	return 0;
}

static int
cmd_upload_result(struct probe *p, int argc, char **argv, struct err *e)
{
	struct intune_revocation_result	r = {0};
	struct buf			msg = {0};
	int				rc = 1;

	if (probe_need_intune(p, e) == -1)
		return 1;
	probe_join(argc, argv, 4, &msg);
	r.request_context = argv[1];
	r.succeeded = strcmp(argv[2], "ok") == 0;
	r.error_code = atoi(argv[3]);
	r.error_message = msg.len > 0 ? (char *)msg.data : "";
	if (intune_revocation_upload(p->clients.intune, &r, 1, e) == 0) {
		printf("uploaded 1 result\n");
		rc = 0;
	}
	buf_free(&msg);
	return rc;
}

static int cmd_shell(struct probe *, int, char **, struct err *);

static const struct probe_cmd cmds[] = {
	{ "token", 1, 1, cmd_token, "token graph|intune" },
	{ "discover", 0, 0, cmd_discover, "discover" },
	{ "device", 1, 1, cmd_device, "device DEVICE_ID" },
	{ "managed-device", 1, 1, cmd_managed_device, "managed-device ID" },
	{ "user", 1, 1, cmd_user, "user ID|UPN" },
	{ "delta", 1, 4, cmd_delta, "delta devices|users [--latest] [--link URL]" },
	{ "validate", 2, 2, cmd_validate, "validate TXID CSR" },
	{ "notify-success", 3, 5, cmd_notify_success,
	    "notify-success TXID CSR CERT [CA_CONFIG [CA_NAME]]" },
	{ "notify-failure", 3, PROBE_ARGS_MAX, cmd_notify_failure,
	    "notify-failure TXID CSR HRESULT [DESCRIPTION...]" },
	{ "revocations", 0, 1, cmd_revocations, "revocations [MAX]" },
	{ "upload-result", 3, PROBE_ARGS_MAX, cmd_upload_result,
	    "upload-result CONTEXT ok|fail CODE [MESSAGE...]" },
	{ "shell", 0, 0, cmd_shell, "shell" },
};

/* Runs one command line; prints its failure.  Returns the exit status. */
static int
probe_run(struct probe *p, int argc, char **argv)
{
	struct err	e = {0};
	size_t		i;
	int		rc;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[0], cmds[i].name) != 0)
			continue;
		if (argc - 1 < cmds[i].min_args || argc - 1 > cmds[i].max_args) {
			fprintf(stderr, "entra-probe: usage: %s\n",
			    cmds[i].usage);
			return 1;
		}
		if ((rc = cmds[i].run(p, argc, argv, &e)) == 1)
			fprintf(stderr, "entra-probe: %s\n", e.msg[0] ? e.msg :
			    err_text(e.code));
		return rc;
	}
	fprintf(stderr, "entra-probe: unknown command '%s'\n", argv[0]);
	return 1;
}

/* Commands from stdin, one a line, the caches kept between them. */
static int
cmd_shell(struct probe *p, int argc, char **argv, struct err *e)
{
	char	line[4096], *args[PROBE_ARGS_MAX + 1], *save = NULL;
	int	n, rc;

	(void)argc;
	(void)argv;
	(void)e;
	while (fgets(line, sizeof(line), stdin) != NULL) {
		n = 0;
		for (args[n] = strtok_r(line, " \t\r\n", &save);
		    args[n] != NULL && n < PROBE_ARGS_MAX;
		    args[n] = strtok_r(NULL, " \t\r\n", &save))
			n++;
		if (n == 0 || args[0][0] == '#')
			continue;
		rc = strcmp(args[0], "shell") == 0 ? 1 : probe_run(p, n, args);
		printf("exit %d\n", rc);
		fflush(stdout);
		fflush(stderr);
	}
	return 0;
}

static const struct option longopts[] = {
	{ "cloud", required_argument, NULL, 'C' },
	{ "login-base", required_argument, NULL, 'L' },
	{ "graph-base", required_argument, NULL, 'G' },
	{ "tenant", required_argument, NULL, 't' },
	{ "client-id", required_argument, NULL, 'c' },
	{ "secret-file", required_argument, NULL, 's' },
	{ "secret-env", required_argument, NULL, 'E' },
	{ "cert", required_argument, NULL, 'x' },
	{ "key", required_argument, NULL, 'k' },
	{ "rs256", no_argument, NULL, 'R' },
	{ "ca-bundle", required_argument, NULL, 'a' },
	{ "timeout-ms", required_argument, NULL, 'T' },
	{ "max-retries", required_argument, NULL, 'r' },
	{ "graph-scope", required_argument, NULL, 'g' },
	{ "intune-scope", required_argument, NULL, 'i' },
	{ "caller-info", required_argument, NULL, 'I' },
	{ "show-token", no_argument, NULL, 'S' },
	{ "threads", required_argument, NULL, 'N' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* Maps an option letter to its entra_conf setting name. */
static const char *
probe_opt_setting(int ch)
{
	switch (ch) {
	case 'C': return "cloud";
	case 'L': return "login_base";
	case 'G': return "graph_base";
	case 't': return "tenant";
	case 'c': return "client_id";
	case 's': return "client_secret_file";
	case 'E': return "client_secret_env";
	case 'x': return "client_cert";
	case 'k': return "client_key";
	case 'a': return "ca_bundle";
	case 'T': return "timeout_ms";
	case 'r': return "max_retries";
	case 'g': return "graph_scope";
	case 'i': return "intune_scope";
	case 'I': return "caller_info";
	default: return NULL;
	}
}

static int
probe_options(struct probe *p, int argc, char **argv, struct err *e)
{
	const char	*name;
	int		 ch;

	while ((ch = getopt_long(argc, argv, "+vh", longopts, NULL)) != -1) {
		if (ch == 'h') {
			usage(stdout);
			exit(0);
		} else if (ch == 'v') {
			verbose = 1;
		} else if (ch == 'S') {
			p->show_token = 1;
		} else if (ch == 'N') {
			if ((p->threads = atoi(optarg)) < 1 || p->threads > 256)
				return err_set(e, ERR_USAGE, "--threads 1..256");
		} else if (ch == 'R') {
			if (entra_conf_set(p->conf, "assertion_alg", "rs256",
			    e) == -1)
				return -1;
		} else if ((name = probe_opt_setting(ch)) != NULL) {
			if (entra_conf_set(p->conf, name, optarg, e) == -1)
				return -1;
		} else {
			return err_set(e, ERR_USAGE, "bad option (see --help)");
		}
	}
	if (optind >= argc)
		return err_set(e, ERR_USAGE, "no command (see --help)");
	return 0;
}

/* Builds the clients with the builder scep-ca and the module use. */
static int
probe_open(struct probe *p, struct err *e)
{
	if (entra_conf_validate(p->conf, e) == -1)
		return -1;
	return msft_clients_new(&p->clients, p->conf,
	    p->conf->intune_scope != NULL ? MSFT_CLIENTS_INTUNE : 0, e);
}

static void
probe_close(struct probe *p)
{
	msft_clients_free(&p->clients);
	entra_conf_free(p->conf);
}

struct probe_thread {
	pthread_t	 tid;
	struct probe	*p;
	int		 argc;
	char		**argv;
	int		 rc;
};

static void *
probe_thread_main(void *arg)
{
	struct probe_thread	*t = arg;

	t->rc = probe_run(t->p, t->argc, t->argv);
	return NULL;
}

/* Runs the command in p->threads threads at once: the clients are shared,
 * as FreeRADIUS worker threads share them.  Returns the worst status. */
static int
probe_run_threads(struct probe *p, int argc, char **argv)
{
	struct probe_thread	*t;
	int			 i, started = 0, rc = 0;

	if ((t = calloc((size_t)p->threads, sizeof(*t))) == NULL)
		return 1;
	for (i = 0; i < p->threads; i++, started++) {
		t[i].p = p;
		t[i].argc = argc;
		t[i].argv = argv;
		if (pthread_create(&t[i].tid, NULL, probe_thread_main,
		    &t[i]) != 0) {
			rc = 1;
			break;
		}
	}
	for (i = 0; i < started; i++) {
		pthread_join(t[i].tid, NULL);
		if (t[i].rc == 1 || (t[i].rc > rc && rc != 1))
			rc = t[i].rc;
	}
	free(t);
	return rc;
}

int
main(int argc, char **argv)
{
	struct probe	p = {0};
	struct err	e = {0};
	int		rc = 1;

	log_set_sink(probe_log_sink, NULL);
	log_set_level(LOGL_DEBUG);
	if ((p.conf = entra_conf_new()) == NULL) {
		fprintf(stderr, "entra-probe: out of memory\n");
		return 1;
	}
	if (probe_options(&p, argc, argv, &e) == -1 ||
	    probe_open(&p, &e) == -1) {
		fprintf(stderr, "entra-probe: %s\n", e.msg);
		goto out;
	}
	if (p.threads > 1)
		rc = probe_run_threads(&p, argc - optind, argv + optind);
	else
		rc = probe_run(&p, argc - optind, argv + optind);
out:
	probe_close(&p);
	return rc;
}
