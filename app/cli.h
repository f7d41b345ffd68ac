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
 *   wadesk number add PHONE_NUMBER_ID +DISPLAY [NAME]
 *                               a business number (prints its id); one
 *                               known by either value gets the other
 *   wadesk number list
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
/* wadesk number add PHONE_NUMBER_ID +DISPLAY [NAME] | list. */
int	cli_number(const struct settings *, int, char **);
/*
 * The one-number shortcut: WADESK_BUSINESS_NUMBER (with
 * WADESK_PHONE_NUMBER_ID when set) is a number of the numbers table.  Run
 * by `wadesk migrate`; 0, or 1 when the database refused.
 */
int	cli_number_shortcut(const struct settings *);

#endif
