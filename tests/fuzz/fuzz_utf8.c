/*
 * fuzz_utf8 — the validators in lib/valid: bytes -> valid_utf8() and
 * valid_phone(), and the NUL-terminated copy -> valid_uint() and
 * valid_idem_key(), each checked against a plain reference written here.
 *
 * The UTF-8 reference follows the table of well-formed byte sequences in
 * the Unicode Standard (chapter 3, table 3-7) byte range by byte range, an
 * approach independent of valid_utf8()'s decode-then-range-check: it
 * rejects overlong forms, surrogates, anything above U+10FFFF and NUL, and
 * counts code points.
 *
 * Invariants (abort() on a break): each validator's verdict (and output:
 * code point count, E.164 string, number) equals the reference's.
 */
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "valid.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	fz_fail(const char *) __attribute__((noreturn));
static int	fz_utf8(const uint8_t *, size_t, size_t *);
static int	fz_phone(const char *, size_t, char *);
static int	fz_uint(const char *, long long, long long, long long *);
static int	fz_idem(const char *);

static void
fz_fail(const char *what)
{
	fprintf(stderr, "fuzz_utf8: invariant broken: %s\n", what);
	abort();
}

/* Unicode table 3-7; 0 and the code point count, or -1. */
static int
fz_utf8(const uint8_t *p, size_t len, size_t *chars)
{
	size_t	i = 0, n = 0, need, k;
	uint8_t	lo, hi;

	while (i < len) {
		uint8_t	b = p[i];

		lo = 0x80;
		hi = 0xbf;
		if (b == 0x00)
			return -1;
		else if (b <= 0x7f)
			need = 0;
		else if (b >= 0xc2 && b <= 0xdf)
			need = 1;
		else if (b == 0xe0) {
			need = 2;
			lo = 0xa0;
		} else if ((b >= 0xe1 && b <= 0xec) || b == 0xee || b == 0xef)
			need = 2;
		else if (b == 0xed) {
			need = 2;
			hi = 0x9f;
		} else if (b == 0xf0) {
			need = 3;
			lo = 0x90;
		} else if (b >= 0xf1 && b <= 0xf3)
			need = 3;
		else if (b == 0xf4) {
			need = 3;
			hi = 0x8f;
		} else
			return -1;
		if (len - i - 1 < need)
			return -1;
		for (k = 1; k <= need; k++) {
			/* Only the second byte has a narrowed range. */
			if (p[i + k] < (k == 1 ? lo : 0x80) ||
			    p[i + k] > (k == 1 ? hi : 0xbf))
				return -1;
		}
		i += need + 1;
		n++;
	}
	*chars = n;
	return 0;
}

/* Optional '+', then 7-15 ASCII digits, the first not '0'. */
static int
fz_phone(const char *s, size_t len, char *out)
{
	size_t	i, start = 0;

	if (len > 0 && s[0] == '+')
		start = 1;
	if (len - start < 7 || len - start > 15 || s[start] == '0')
		return -1;
	for (i = start; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return -1;
	out[0] = '+';
	memcpy(out + 1, s + start, len - start);
	out[len - start + 1] = '\0';
	return 0;
}

static int
fz_uint(const char *s, long long min, long long max, long long *out)
{
	unsigned long long	v = 0;
	size_t			i;

	if (*s == '\0')
		return -1;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (__builtin_mul_overflow(v, 10ULL, &v) ||
		    __builtin_add_overflow(v, (unsigned long long)(s[i] - '0'),
		    &v) || v > (unsigned long long)LLONG_MAX)
			return -1;
	}
	if ((long long)v < min || (long long)v > max)
		return -1;
	*out = (long long)v;
	return 0;
}

static int
fz_idem(const char *s)
{
	size_t	n = strlen(s), i;

	if (n < 1 || n > 255)
		return -1;
	for (i = 0; i < n; i++)
		if (s[i] < ' ' || s[i] > '~')
			return -1;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const long long	 ranges[][2] = {
		{ 0, 99999999999LL }, { 1, 200 }, { 1, LLONG_MAX },
		{ 0, LLONG_MAX },
	};
	char			 ph[VALID_PHONE_MAX];
	char			 rph[VALID_PHONE_MAX + 16];
	char			*s;
	size_t			 chars = (size_t)-1, rchars = (size_t)-2;
	size_t			 i;
	long long		 v, rv;
	int			 rc, rrc;

	rc = valid_utf8((const char *)data, size, &chars);
	rrc = fz_utf8(data, size, &rchars);
	if (rc != rrc)
		fz_fail("valid_utf8 verdict differs from the reference");
	if (rc == 0 && chars != rchars)
		fz_fail("valid_utf8 code point count differs");
	if (rc == 0 && valid_utf8((const char *)data, size, NULL) != 0)
		fz_fail("valid_utf8 differs with chars == NULL");

	memset(ph, 0x5a, sizeof(ph));
	rc = valid_phone((const char *)data, size, ph);
	rrc = fz_phone((const char *)data, size, rph);
	if (rc != rrc)
		fz_fail("valid_phone verdict differs from the reference");
	if (rc == 0 && (memchr(ph, '\0', sizeof(ph)) == NULL ||
	    strcmp(ph, rph) != 0))
		fz_fail("valid_phone output differs from the reference");

	s = mem_alloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	for (i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
		v = rv = -7;
		rc = valid_uint(s, ranges[i][0], ranges[i][1], &v);
		rrc = fz_uint(s, ranges[i][0], ranges[i][1], &rv);
		if (rc != rrc || (rc == 0 && v != rv))
			fz_fail("valid_uint differs from the reference");
	}
	if (valid_idem_key(s) != fz_idem(s))
		fz_fail("valid_idem_key differs from the reference");
	mem_free(s);
	return 0;
}
