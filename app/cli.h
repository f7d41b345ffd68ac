/*
 * cli — operator commands.  Each returns a process exit status and prints
 * errors to stderr in plain words.
 *
 *   wadesk apikey create NAME   prints the new key once on stdout
 *   wadesk apikey revoke ID
 *   wadesk apikey list
 *   wadesk user add NAME        password on stdin (first line)
 *   wadesk templates sync       loads the message templates (WhatsApp's,
 *                               or the simulator's catalog)
 *   wadesk endpoint add URL [TYPE,...]  prints the new secret once on stdout
 *   wadesk endpoint list | disable ID
 *   wadesk media purge --older-than DAYS
 *                               removes the bytes of media files older
 *                               than DAYS (their rows stay, failed with
 *                               the reason); prints what it freed
 *   wadesk sql NAME             prints a route's SQL (auth, send, inbound,
 *                               status) so a benchmark can run exactly it
 */
#ifndef WADESK_CLI_H
#define WADESK_CLI_H

#include "settings.h"

int	cli_apikey(const struct settings *, int, char **);
int	cli_user(const struct settings *, int, char **);
int	cli_sql(int, char **);
int	cli_templates(const struct settings *, int, char **);

/* wadesk endpoint add URL [TYPE,...] | list | disable ID: 0, 1 (failed),
 * 2 (usage or a wrong argument). */
int	cli_endpoint(const struct settings *, int, char **);
int	cli_media(const struct settings *, int, char **);

#endif
