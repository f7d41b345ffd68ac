/*
 * Unit tests for lib/utf8: cutting on character boundaries and cleaning
 * text for PostgreSQL.
 *
 * Inputs are copied into heap buffers of exactly their length (no NUL after
 * them), so under valgrind any read past the length given is reported.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "utf8.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
/* A literal that may hold NUL bytes: the length comes from the literal. */
#define LIT(s)		(s), sizeof(s) - 1
#define FFFD		UTF8_REPLACEMENT

struct trunc_case {
	const char	*name;
	const char	*in;
	size_t		 len;
	size_t		 max;
	size_t		 want;
};

struct clean_case {
	const char	*name;
	const char	*in;
	size_t		 len;
	size_t		 dstsz;
	const char	*want;
};

static const struct trunc_case trunc_cases[] = {
	{ "empty", LIT(""), 10, 0 },
	{ "ascii fits", LIT("abc"), 10, 3 },
	{ "ascii exact", LIT("abc"), 3, 3 },
	{ "ascii cut", LIT("abcdef"), 4, 4 },
	{ "max 0", LIT("abc"), 0, 0 },
	/* 2 bytes: é = c3 a9 */
	{ "2-byte whole", LIT("a\xc3\xa9"), 3, 3 },
	{ "2-byte cut", LIT("a\xc3\xa9"), 2, 1 },
	/* 3 bytes: € = e2 82 ac */
	{ "3-byte whole", LIT("\xe2\x82\xac\xe2\x82\xac"), 6, 6 },
	{ "3-byte cut after 1", LIT("\xe2\x82\xac\xe2\x82\xac"), 4, 3 },
	{ "3-byte cut after 2", LIT("\xe2\x82\xac\xe2\x82\xac"), 5, 3 },
	{ "3-byte max 2", LIT("\xe2\x82\xac"), 2, 0 },
	/* 4 bytes: 😀 = f0 9f 98 80 */
	{ "4-byte whole", LIT("x\xf0\x9f\x98\x80"), 5, 5 },
	{ "4-byte cut after 1", LIT("x\xf0\x9f\x98\x80"), 2, 1 },
	{ "4-byte cut after 3", LIT("x\xf0\x9f\x98\x80"), 4, 1 },
	{ "mixed", LIT("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z"), 9, 6 },
	/* Invalid input: each bad byte is a unit of its own. */
	{ "lone continuation", LIT("\x80\x80\x80"), 2, 2 },
	{ "truncated sequence", LIT("a\xe2\x82"), 2, 2 },
	{ "truncated at end", LIT("a\xe2\x82"), 10, 3 },
	{ "overlong", LIT("\xc0\xaf" "b"), 2, 2 },
	{ "surrogate", LIT("\xed\xa0\x80"), 1, 1 },
	{ "above U+10FFFF", LIT("\xf4\x90\x80\x80"), 3, 3 },
	{ "0xff", LIT("\xff" "a"), 1, 1 },
	{ "NUL is a unit", LIT("a\0b"), 2, 2 },
};

static const struct clean_case clean_cases[] = {
	{ "empty", LIT(""), 1, "" },
	{ "ascii", LIT("hello"), 16, "hello" },
	{ "ascii cut", LIT("hello"), 4, "hel" },
	{ "dstsz 1", LIT("hello"), 1, "" },
	{ "2-byte cut", LIT("\xc3\xa9\xc3\xa9"), 4, "\xc3\xa9" },
	{ "3-byte exact", LIT("\xe2\x82\xac\xe2\x82\xac"), 7,
	    "\xe2\x82\xac\xe2\x82\xac" },
	{ "3-byte cut", LIT("\xe2\x82\xac\xe2\x82\xac"), 6, "\xe2\x82\xac" },
	{ "4-byte cut", LIT("\xf0\x9f\x98\x80\xf0\x9f\x98\x80"), 8,
	    "\xf0\x9f\x98\x80" },
	{ "4-byte whole", LIT("\xf0\x9f\x98\x80"), 5, "\xf0\x9f\x98\x80" },
	{ "NUL dropped", LIT("a\0b\0\0c"), 16, "abc" },
	{ "only NULs", LIT("\0\0\0"), 16, "" },
	{ "lone continuation", LIT("a\x80" "b"), 16, "a" FFFD "b" },
	{ "truncated sequence", LIT("a\xe2\x82"), 16, "a" FFFD FFFD },
	{ "overlong", LIT("\xc0\xaf"), 16, FFFD FFFD },
	{ "surrogate", LIT("\xed\xa0\x80"), 16, FFFD FFFD FFFD },
	{ "above U+10FFFF", LIT("\xf4\x90\x80\x80"), 16,
	    FFFD FFFD FFFD FFFD },
	{ "0xfe 0xff", LIT("\xfe\xff"), 16, FFFD FFFD },
	{ "replacement does not fit", LIT("ab\xff"), 5, "ab" },
	{ "control characters kept", LIT("a\tb\n"), 16, "a\tb\n" },
};

static char *
heap_copy(const char *s, size_t len)
{
	char	*p;

	p = malloc(len ? len : 1);
	assert_non_null(p);
	memcpy(p, s, len);
	return p;
}

static void
test_truncate(void **state)
{
	const struct trunc_case	*c;
	char			*in;
	size_t			 i, got;

	(void)state;
	for (i = 0; i < NELEM(trunc_cases); i++) {
		c = &trunc_cases[i];
		in = heap_copy(c->in, c->len);
		got = utf8_truncate(in, c->len, c->max);
		if (got != c->want)
			fail_msg("%s: utf8_truncate(max %zu) = %zu, want %zu",
			    c->name, c->max, got, c->want);
		free(in);
	}
}

static void
test_clean(void **state)
{
	const struct clean_case	*c;
	char			*in, out[64];
	size_t			 i, got;

	(void)state;
	for (i = 0; i < NELEM(clean_cases); i++) {
		c = &clean_cases[i];
		in = heap_copy(c->in, c->len);
		memset(out, 'Z', sizeof(out));
		got = utf8_clean(out, c->dstsz, in, c->len);
		if (got != strlen(c->want) || strcmp(out, c->want) != 0)
			fail_msg("%s: utf8_clean(dstsz %zu) = %zu \"%s\", "
			    "want \"%s\"", c->name, c->dstsz, got, out,
			    c->want);
		/* Nothing written past dstsz. */
		if (c->dstsz < sizeof(out) && out[c->dstsz] != 'Z')
			fail_msg("%s: wrote past dstsz", c->name);
		free(in);
	}
}

/* 300 "€" (900 bytes) into 512: 170 whole characters, never a cut one. */
static void
test_clean_long_error_text(void **state)
{
	char	in[900], out[512];
	size_t	i, got;

	(void)state;
	for (i = 0; i < 300; i++)
		memcpy(in + i * 3, "\xe2\x82\xac", 3);
	got = utf8_clean(out, sizeof(out), in, sizeof(in));
	assert_int_equal(got, 510);
	assert_int_equal(utf8_truncate(in, sizeof(in), 511), 510);
	assert_memory_equal(out, in, 510);
	assert_int_equal(out[510], '\0');
}

/* dstsz 0 writes nothing. */
static void
test_clean_zero(void **state)
{
	char	out[1] = { 'Z' };

	(void)state;
	assert_int_equal(utf8_clean(out, 0, "abc", 3), 0);
	assert_int_equal(out[0], 'Z');
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_truncate),
		cmocka_unit_test(test_clean),
		cmocka_unit_test(test_clean_long_error_text),
		cmocka_unit_test(test_clean_zero),
	};

	return cmocka_run_group_tests_name("utf8", tests, NULL, NULL);
}
