/*
 * cli — operator commands.  Each returns a process exit status and prints
 * errors to stderr in plain words.
 *
 *   wadesk apikey create NAME   prints the new key once on stdout
 *   wadesk apikey revoke ID
 *   wadesk apikey list
 *   wadesk user add NAME        password on stdin (first line)
 */
#ifndef WADESK_CLI_H
#define WADESK_CLI_H

#include "settings.h"

int	cli_apikey(const struct settings *, int, char **);
int	cli_user(const struct settings *, int, char **);

#endif
