/*
 * serve.c - `scep-ca serve`: the daemon.  Runs in the foreground
 * until SIGTERM or SIGINT, then drains requests in progress and exits 0.
 */
#include <sys/prctl.h>
#include <sys/types.h>

#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <libgen.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "ca/ca.h"
#include "cli/cli.h"
#include "enroll/enroll.h"
#include "http/httpd.h"
#include "intune/intune_ca.h"
#include "revocation/crl.h"
#include "revocation/ocsp.h"
#include "scep/msg.h"
#include "sync/sync.h"

static const char usage[] =
"usage: scep-ca serve --dir DIR [--listen HOST:PORT] [--log-level LEVEL]\n"
"                     [--user NAME]\n"
"Serves SCEP, CRL, OCSP and /healthz in the foreground.  SIGTERM or SIGINT\n"
"drains requests in progress and exits 0.  The CA key passphrase (when the\n"
"key is encrypted) comes from [ca] key_passphrase_file or the environment\n"
"variable SCEP_CA_KEY_PASSPHRASE.\n"
"Started as root, serve refuses to run unless --user NAME says whom to\n"
"become: it reads the configuration, the passphrase and the CA keys and\n"
"binds the listener as root, then takes NAME's uid, gid and groups for\n"
"good before opening the store.  NAME must be able to write DIR, the\n"
"store and the CRL directory, and read the files used while serving\n"
"(the Entra/Intune credentials and CA bundle).  Started as another user\n"
"(systemd's User=scep-ca), --user is not needed.\n";

/* Everything the daemon holds, released by serve_free(). */
struct serve {
	struct scep_conf	 conf;
	struct scep_ctx		 ctx;
	struct http_server	*http;
	struct store_flusher	*flusher;
	struct cli_providers	 providers;
	char			*public_url;
	struct ocsp_responder	*ocsp;
};

static void
serve_free(struct serve *sv)
{
	http_stop(sv->http, 10);
	cloud_stop_sync(&sv->ctx);	/* it tells the CRL service */
	ocsp_responder_stop(sv->ocsp);
	crl_service_stop(sv->ctx.crl);	/* joined before the store closes */
	cloud_stop(&sv->ctx);		/* joins the sender before the store closes */
	scep_codec_free(sv->ctx.codec);
	ca_free(sv->ctx.ca);
	store_flusher_stop(sv->flusher);
	store_close(sv->ctx.store);
	cli_unload_legacy(&sv->providers);
	free(sv->public_url);
	conf_free(&sv->conf);
}

/* Single DES and MD5 need OpenSSL's legacy provider: only on request. */
static int
load_legacy(struct serve *sv, struct err *e)
{
	int	i, want = 0;

	for (i = 0; i < sv->conf.nprofiles; i++)
		want |= sv->conf.profiles[i].allow_legacy;
	if (!want)
		return 0;
	if (cli_load_legacy(&sv->providers, e) == -1)
		return -1;
	log_warn("serve", "legacy algorithms (DES, MD5) are allowed by a"
	    " profile");
	return 0;
}

/* CRL and OCSP services (after the store opens); http/ serves them. */
static int
serve_revocation(struct serve *sv, struct err *e)
{
	if ((sv->ctx.crl = crl_service_start(&sv->ctx, e)) == NULL ||
	    (sv->ocsp = ocsp_responder_start(&sv->ctx, e)) == NULL)
		return -1;
	return 0;
}

/* The user --user names: who serve becomes after binding. */
struct run_as {
	const char	*name;
	uid_t		 uid;
	gid_t		 gid;
	int		 drop;		/* 0: nothing to drop */
};

/*
 * Root without --user: refused.  With --user NAME the user must exist and
 * not be root; a non-root caller may only name itself.
 */
static int
serve_check_user(const char *user, struct run_as *ra, struct err *e)
{
	struct passwd	*pw;

	memset(ra, 0, sizeof(*ra));
	if (user == NULL) {
		if (geteuid() == 0)
			return err_set(e, ERR_USAGE, "refusing to run as root:"
			    " pass --user NAME (e.g. --user scep-ca) to serve as"
			    " that user");
		return 0;
	}
	if ((pw = getpwnam(user)) == NULL)
		return err_set(e, ERR_USAGE, "--user %s: no such user", user);
	if (pw->pw_uid == 0)
		return err_set(e, ERR_USAGE, "--user %s: that is root", user);
	if (geteuid() != 0 && pw->pw_uid != geteuid())
		return err_set(e, ERR_USAGE, "--user %s: only root can change"
		    " users", user);
	*ra = (struct run_as){ user, pw->pw_uid, pw->pw_gid, geteuid() == 0 };
	return 0;
}

/*
 * Becomes pw's user for good (after the listener is bound, before any
 * thread starts): supplementary groups, gid, uid, all three ids each;
 * then checks that root cannot be regained.
 */
static int
serve_drop_root(const struct run_as *ra, struct err *e)
{
	if (initgroups(ra->name, ra->gid) == -1 ||
	    setresgid(ra->gid, ra->gid, ra->gid) == -1 ||
	    setresuid(ra->uid, ra->uid, ra->uid) == -1)
		return err_set(e, ERR_INTERNAL, "cannot become user %s: %s",
		    ra->name, strerror(errno));
	/* No exec'd helper may gain privileges either. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return err_set(e, ERR_INTERNAL, "PR_SET_NO_NEW_PRIVS: %s",
		    strerror(errno));
	if (setuid(0) != -1 || seteuid(0) != -1 || setgid(0) != -1 ||
	    getuid() != ra->uid || geteuid() != ra->uid ||
	    getgid() != ra->gid || getegid() != ra->gid)
		return err_set(e, ERR_INTERNAL, "root could be regained after"
		    " becoming user %s", ra->name);
	log_info("serve", "running as user %s (uid %ld, gid %ld)", ra->name,
	    (long)ra->uid, (long)ra->gid);
	return 0;
}

/* After the drop: the directories the daemon writes in are writable. */
static int
serve_check_access(const struct serve *sv, const char *user, struct err *e)
{
	char		*copy;
	const char	*dirs[2];
	int		 i, bad = 0;

	if ((copy = strdup(sv->conf.store)) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	dirs[0] = dirname(copy);	/* the store's -wal and -shm files */
	dirs[1] = sv->conf.dir;
	for (i = 0; i < 2 && !bad; i++)
		if (access(dirs[i], W_OK | X_OK) == -1) {
			err_set(e, ERR_CONFIG, "user %s cannot write %s (%s):"
			    " chown -R %s %s", user, dirs[i], strerror(errno),
			    user, sv->conf.dir);
			bad = 1;
		}
	if (!bad && access(sv->conf.store, R_OK | W_OK) == -1 &&
	    errno != ENOENT) {
		err_set(e, ERR_CONFIG, "user %s cannot write %s (%s): chown -R"
		    " %s %s", user, sv->conf.store, strerror(errno), user,
		    sv->conf.dir);
		bad = 1;
	}
	free(copy);
	return bad ? -1 : 0;
}

/*
 * As root: the configuration, the passphrase and the CA's keys are read
 * and the listener bound; then root is dropped (ra), and the store and
 * the services that write files start as the user.
 */
static int
serve_setup(struct serve *sv, const char *dir, const char *listen,
    const char *level, const struct run_as *ra, struct err *e)
{
	enum log_level	 lvl;
	char		*pass = NULL;
	int		 rc = -1;

	if (conf_load(&sv->conf, dir, e) == -1)
		return -1;
	if (listen != NULL) {
		free(sv->conf.listen);
		if ((sv->conf.listen = strdup(listen)) == NULL)
			return err_set(e, ERR_NOMEM, "out of memory");
	}
	if (log_level_parse(level ? level : sv->conf.log_level, &lvl) == -1)
		return err_set(e, ERR_USAGE, "bad log level");
	log_set_level(lvl);
	/* URLs in certificates default to where we listen. */
	if (asprintf(&sv->public_url, "%s%s", sv->conf.public_url[0] ? "" :
	    "http://", sv->conf.public_url[0] ? sv->conf.public_url :
	    sv->conf.listen) == -1)
		return err_set(e, ERR_NOMEM, "out of memory");
	if (load_legacy(sv, e) == -1 ||
	    cli_passphrase(sv->conf.key_passphrase_file, &pass, e) == -1)
		return -1;
	sv->ctx.conf = &sv->conf;
	sv->ctx.public_url = sv->public_url;
	if ((sv->ctx.ca = ca_load(sv->conf.dir, pass, e)) == NULL ||
	    (sv->http = http_listen(&sv->conf, e)) == NULL ||
	    (ra->drop && (serve_drop_root(ra, e) == -1 ||
	    serve_check_access(sv, ra->name, e) == -1)) ||
	    (sv->ctx.store = store_open(sv->conf.store, sv->conf.store_sync_full ?
	    STORE_SYNC_FULL : 0, e)) == NULL ||
	    (!sv->conf.store_sync_full && (sv->flusher = store_flusher_start(
	    sv->ctx.store, sv->conf.flush_interval_ms, e)) == NULL) ||
	    (sv->ctx.codec = scep_codec_new(e)) == NULL ||
	    cloud_start(&sv->ctx, e) == -1)
		goto out;
	rc = 0;
out:
	cli_passphrase_free(pass);
	return rc;
}

int
cmd_serve(int argc, char **argv, struct err *e)
{
	static const struct option longopts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "listen", required_argument, NULL, 'l' },
		{ "log-level", required_argument, NULL, 'L' },
		{ "user", required_argument, NULL, 'u' },
		{ NULL, 0, NULL, 0 },
	};
	struct serve	 sv;
	struct run_as	 ra;
	const char	*dir = NULL, *listen = NULL, *level = NULL;
	const char	*user = NULL;
	sigset_t	 set;
	int		 ch, sig = 0, rc = -1;

	if (cli_help(argc, argv, usage))
		return 0;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': dir = optarg; break;
		case 'l': listen = optarg; break;
		case 'L': level = optarg; break;
		case 'u': user = optarg; break;
		default: return err_set(e, ERR_USAGE, "bad option (see --help)");
		}
	}
	if (dir == NULL)
		return err_set(e, ERR_USAGE, "--dir DIR is required");
	if (serve_check_user(user, &ra, e) == -1)
		return -1;
	memset(&sv, 0, sizeof(sv));
	/* Block the stop signals before any thread exists; sigwait below. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (serve_setup(&sv, dir, listen, level, &ra, e) == -1 ||
	    serve_revocation(&sv, e) == -1 ||
	    cloud_start_sync(&sv.ctx, e) == -1 ||
	    http_start(sv.http, &sv.ctx, sv.ocsp, e) == -1)
		goto out;
	log_info("serve", "scep-ca ready: %d profile(s), URLs under %s",
	    sv.conf.nprofiles, sv.public_url);
	sigwait(&set, &sig);
	log_info("serve", "signal %d: draining and stopping", sig);
	rc = 0;
out:
	serve_free(&sv);
	return rc;
}
