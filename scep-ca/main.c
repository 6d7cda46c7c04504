/*
 * main.c - scep-ca's entry point: picks the command, prints its error as
 * one line on stderr and sets the exit status.  The only file that exits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static const struct {
	const char	*name;
	int		(*fn)(int, char **, struct err *);
	const char	*what;
} commands[] = {
	{ "init", cmd_init, "create a CA directory" },
	{ "serve", cmd_serve, "run the SCEP/CRL/OCSP server" },
	{ "challenge", cmd_challenge, "print a new one-time challenge" },
	{ "list", cmd_list, "list certificates" },
	{ "show", cmd_show, "show one certificate" },
	{ "revoke", cmd_revoke, "revoke (or hold) a certificate" },
	{ "unrevoke", cmd_unrevoke, "release a certificate on hold" },
	{ "crl", cmd_crl, "sign a new CRL now" },
	{ "status", cmd_status, "show the sync jobs, outbox and CRL" },
	{ "approve", cmd_approve, "approve a pending request" },
	{ "deny", cmd_deny, "deny a pending request" },
	{ "inspect", cmd_inspect, "decode a pkiMessage with the CA's keys" },
};

#define NCOMMANDS	(sizeof(commands) / sizeof(commands[0]))

static void
usage(FILE *f)
{
	size_t	i;

	fprintf(f, "usage: scep-ca COMMAND [options]   (scep-ca COMMAND --help)\n");
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].what);
}

int
main(int argc, char **argv)
{
	struct err	e = {0};
	size_t		i;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	for (i = 0; i < NCOMMANDS; i++) {
		if (strcmp(argv[1], commands[i].name) != 0)
			continue;
		if (commands[i].fn(argc - 1, argv + 1, &e) == 0)
			return 0;
		fprintf(stderr, "scep-ca %s: %s\n", commands[i].name,
		    e.msg[0] ? e.msg : err_text(e.code));
		return e.code == ERR_USAGE ? 2 : 1;
	}
	fprintf(stderr, "scep-ca: unknown command '%s' (see scep-ca --help)\n",
	    argv[1]);
	return 2;
}
