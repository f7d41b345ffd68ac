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
/*
 * Room for a business-scoped user id (BSUID): a country code, '.', an
 * optional "ENT." (a parent id) and up to 128 letters and digits, + NUL.
 */
#define VALID_BSUID_MAX	(2 + 1 + 4 + 128 + 1)
/* A customer: a phone number in E.164 form or a BSUID, + NUL. */
#define VALID_CUSTOMER_MAX	VALID_BSUID_MAX

/*
 * A BSUID as WhatsApp writes it: two capital letters, '.', optionally
 * "ENT.", then 1-128 ASCII letters and digits (US.13491208655302741918,
 * US.ENT.5519).  0 or -1.
 */
int	valid_bsuid(const char *, size_t) __attribute__((warn_unused_result));
/*
 * A customer's address: a phone number (out gets its E.164 form, *phone 1)
 * or a BSUID (copied, *phone 0).  0 or -1.
 */
int	valid_customer(const char *, size_t, char out[VALID_CUSTOMER_MAX],
	    int *) __attribute__((warn_unused_result));
/* An Idempotency-Key: 1-255 printable ASCII characters (0x21-0x7e and space). */
int	valid_idem_key(const char *) __attribute__((warn_unused_result));
/* A whole decimal number in [min, max], no sign, no spaces, no leading junk. */
int	valid_uint(const char *, long long, long long, long long *)
	    __attribute__((warn_unused_result));

#endif
