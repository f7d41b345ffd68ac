/*
 * valid — typed validators for values that arrive from clients.
 *
 * Each returns 0 when the input is acceptable (filling the out-parameter with
 * the parsed or normalised form) and -1 otherwise.  None allocates.
 */
#ifndef WADESK_VALID_H
#define WADESK_VALID_H

#include <stddef.h>

/* Room for "+" + 15 digits + NUL. */
#define VALID_PHONE_MAX	17

/*
 * Strict UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF);
 * *chars gets the number of code points.  NUL bytes are rejected too.
 */
int	valid_utf8(const char *, size_t, size_t *)
	    __attribute__((warn_unused_result));
/*
 * A phone number: optional '+', then 7-15 digits, the first not 0.  out gets
 * the E.164 form with a leading '+'.
 */
int	valid_phone(const char *, size_t, char out[VALID_PHONE_MAX])
	    __attribute__((warn_unused_result));
/* An Idempotency-Key: 1-255 printable ASCII characters (0x21-0x7e and space). */
int	valid_idem_key(const char *) __attribute__((warn_unused_result));
/* A whole decimal number in [min, max], no sign, no spaces, no leading junk. */
int	valid_uint(const char *, long long, long long, long long *)
	    __attribute__((warn_unused_result));

#endif
