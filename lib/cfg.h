/*
 * cfg — typed reads of environment variables.
 *
 * Every function returns 0 on success and -1 with a message in errbuf naming
 * the variable (never its value: it may be a secret).
 */
#ifndef WADESK_CFG_H
#define WADESK_CFG_H

#include <stddef.h>

struct cfg_err {
	char	msg[256];
};

/* A required non-empty string; *out borrows from the environment. */
int	cfg_str_required(const char *, const char **, struct cfg_err *)
	    __attribute__((warn_unused_result));
/* An optional string: def when unset or empty. */
const char *cfg_str(const char *, const char *);
/* An optional integer in [min, max]: def when unset; -1 when malformed. */
int	cfg_long(const char *, long, long, long, long *, struct cfg_err *)
	    __attribute__((warn_unused_result));
/* An optional decimal number in [min, max]. */
int	cfg_double(const char *, double, double, double, double *,
	    struct cfg_err *) __attribute__((warn_unused_result));
/* Parses a whole decimal integer; 0 or -1.  Used by cfg_long and tests. */
int	cfg_parse_long(const char *, long, long, long *)
	    __attribute__((warn_unused_result));

#endif
