/*
 * wadesk — WhatsApp for customer-support teams.
 *
 *   wadesk serve              FastCGI worker pool (master + workers)
 *   wadesk dispatch           deliver queued messages
 *   wadesk migrate            apply database migrations
 *   wadesk apikey create NAME | revoke ID | list
 *   wadesk user add NAME      admin user, password on stdin
 *   wadesk templates sync
 *   wadesk endpoint add URL [TYPE,...] | list | disable ID
 *   wadesk media purge --older-than DAYS
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "crypto.h"
#include "dispatch.h"
#include "log.h"
#include "migrate.h"
#include "serve.h"
#include "settings.h"

static void	usage(void);

static void
usage(void)
{
	fprintf(stderr,
	    "usage: wadesk serve\n"
	    "       wadesk dispatch\n"
	    "       wadesk migrate\n"
	    "       wadesk apikey create NAME | revoke ID | list\n"
	    "       wadesk user add NAME   (password on stdin)\n"
	    "       wadesk templates sync\n"
	    "       wadesk endpoint add URL [TYPE,...] | list | disable ID\n"
	    "       wadesk number add PHONE_NUMBER_ID +DISPLAY [NAME] | list\n"
	    "       wadesk media purge --older-than DAYS\n");
}

int
main(int argc, char *argv[])
{
	struct settings	 s;
	struct cfg_err	 err;
	const char	*cmd;
	int		 need;

	if (argc < 2) {
		usage();
		return 2;
	}
	cmd = argv[1];
	if (strcmp(cmd, "sql") == 0)
		return cli_sql(argc - 2, argv + 2);
	if (strcmp(cmd, "serve") == 0)
		need = NEED_DATABASE | NEED_SECRETS;
	else if (strcmp(cmd, "dispatch") == 0 || strcmp(cmd, "templates") == 0)
		need = NEED_DATABASE | NEED_PROVIDER;
	else if (strcmp(cmd, "migrate") == 0 || strcmp(cmd, "apikey") == 0 ||
	    strcmp(cmd, "user") == 0 || strcmp(cmd, "endpoint") == 0 ||
	    strcmp(cmd, "media") == 0 || strcmp(cmd, "number") == 0)
		need = NEED_DATABASE;
	else {
		usage();
		return 2;
	}
	log_init(argc > 2 && strcmp(argv[2], "--worker") == 0 ?
	    "wadesk-worker" : "wadesk");
	if (settings_load(&s, need, &err) == -1) {
		fprintf(stderr, "wadesk: %s\n", err.msg);
		return 1;
	}
	if (crypto_init() == -1) {
		fprintf(stderr, "wadesk: libsodium failed to initialise\n");
		return 1;
	}
	if (strcmp(cmd, "serve") == 0) {
		if (argc > 2 && strcmp(argv[2], "--worker") == 0)
			return serve_worker(&s);
		return serve_master(&s);
	}
	if (strcmp(cmd, "dispatch") == 0)
		return dispatch_main(&s);
	if (strcmp(cmd, "migrate") == 0)
		return migrate_run(&s) == 0 && cli_number_shortcut(&s) == 0 ?
		    0 : 1;
	if (strcmp(cmd, "apikey") == 0)
		return cli_apikey(&s, argc - 2, argv + 2);
	if (strcmp(cmd, "templates") == 0)
		return cli_templates(&s, argc - 2, argv + 2);
	if (strcmp(cmd, "endpoint") == 0)
		return cli_endpoint(&s, argc - 2, argv + 2);
	if (strcmp(cmd, "number") == 0)
		return cli_number(&s, argc - 2, argv + 2);
	if (strcmp(cmd, "media") == 0)
		return cli_media(&s, argc - 2, argv + 2);
	return cli_user(&s, argc - 2, argv + 2);
}
