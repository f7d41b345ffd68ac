/*
 * utf8 — cutting and cleaning text that goes into bounded buffers and then
 * into PostgreSQL, which refuses a text value with a character cut in half
 * (SQLSTATE 22021) or a NUL.
 *
 * A "unit" below is one well-formed UTF-8 sequence (1-4 bytes: no overlong
 * form, no surrogate, nothing above U+10FFFF) or, in invalid input, one
 * byte that does not start such a sequence.
 */
#ifndef WADESK_UTF8_H
#define WADESK_UTF8_H

#include <stddef.h>

/* U+FFFD REPLACEMENT CHARACTER, what utf8_clean() writes for a bad byte. */
#define UTF8_REPLACEMENT	"\xef\xbf\xbd"

/*
 * The length of the longest prefix of s[0..len) that is at most max bytes
 * long and ends on a unit boundary: a well-formed character is never cut.
 */
size_t	utf8_truncate(const char *, size_t, size_t);
/*
 * Copies src[0..len) into dst (dstsz bytes, at least 1): well-formed
 * characters as they are, each byte that starts no well-formed character
 * as U+FFFD, NUL bytes dropped; stops before the first unit that does not
 * fit, so the copy is cut on a character boundary.  dst is always
 * NUL-terminated valid UTF-8 without other NULs.  Returns its length.
 */
size_t	utf8_clean(char *, size_t, const char *, size_t);

#endif
