/*
 * Unit tests for lib/valid: UTF-8, phone numbers, Idempotency-Key, integers.
 *
 * Inputs are copied into heap buffers of exactly their length (no NUL after
 * them), so under valgrind any read past the length given is reported.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "valid.h"

/* A case whose input may hold NUL bytes: the length comes from the literal. */
#define LIT(s)	(s), sizeof(s) - 1

struct utf8_case {
	const char	*name;
	const char	*in;
	size_t		 len;
	int		 rc;
	size_t		 chars;
};

struct phone_case {
	const char	*in;
	size_t		 len;
	int		 rc;
	const char	*out;
};

struct idem_case {
	const char	*name;
	const char	*in;
	int		 rc;
};

struct uint_case {
	const char	*in;
	long long	 min;
	long long	 max;
	int		 rc;
	long long	 out;
};

static char	*exact_copy(const char *, size_t);
static char	*repeat(const char *, size_t, size_t, size_t *);

static const struct utf8_case utf8_cases[] = {
	{ "empty", LIT(""), 0, 0 },
	{ "ascii", LIT("hello, world"), 0, 12 },
	{ "ascii controls", LIT("a\tb\r\n\x1f\x7f"), 0, 7 },
	{ "2-byte e-acute", LIT("caf\xc3\xa9"), 0, 4 },
	{ "2-byte lowest U+0080", LIT("\xc2\x80"), 0, 1 },
	{ "2-byte highest U+07FF", LIT("\xdf\xbf"), 0, 1 },
	{ "3-byte euro", LIT("\xe2\x82\xac"), 0, 1 },
	{ "3-byte lowest U+0800", LIT("\xe0\xa0\x80"), 0, 1 },
	{ "3-byte U+D7FF below surrogates", LIT("\xed\x9f\xbf"), 0, 1 },
	{ "3-byte U+E000 above surrogates", LIT("\xee\x80\x80"), 0, 1 },
	{ "3-byte highest U+FFFF", LIT("\xef\xbf\xbf"), 0, 1 },
	{ "4-byte emoji", LIT("\xf0\x9f\x98\x80"), 0, 1 },
	{ "4-byte lowest U+10000", LIT("\xf0\x90\x80\x80"), 0, 1 },
	{ "4-byte highest U+10FFFF", LIT("\xf4\x8f\xbf\xbf"), 0, 1 },
	{ "mixed widths", LIT("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z"), 0, 5 },
	{ "overlong NUL C0 80", LIT("\xc0\x80"), -1, 0 },
	{ "overlong C1 BF", LIT("\xc1\xbf"), -1, 0 },
	{ "overlong 3-byte E0 80 80", LIT("\xe0\x80\x80"), -1, 0 },
	{ "overlong 3-byte E0 9F BF", LIT("\xe0\x9f\xbf"), -1, 0 },
	{ "overlong 4-byte F0 80 80 80", LIT("\xf0\x80\x80\x80"), -1, 0 },
	{ "overlong 4-byte F0 8F BF BF", LIT("\xf0\x8f\xbf\xbf"), -1, 0 },
	{ "surrogate ED A0 80", LIT("\xed\xa0\x80"), -1, 0 },
	{ "surrogate ED BF BF", LIT("\xed\xbf\xbf"), -1, 0 },
	{ "surrogate pair as CESU-8",
	    LIT("\xed\xa0\xbd\xed\xb8\x80"), -1, 0 },
	{ "above U+10FFFF F4 90 80 80", LIT("\xf4\x90\x80\x80"), -1, 0 },
	{ "lead F5", LIT("\xf5\x80\x80\x80"), -1, 0 },
	{ "lead F7", LIT("\xf7\xbf\xbf\xbf"), -1, 0 },
	{ "5-byte form", LIT("\xf8\x88\x80\x80\x80"), -1, 0 },
	{ "byte FE", LIT("\xfe"), -1, 0 },
	{ "byte FF", LIT("a\xff"), -1, 0 },
	{ "truncated 2-byte at end", LIT("abc\xc3"), -1, 0 },
	{ "truncated 3-byte at end", LIT("a\xe2\x82"), -1, 0 },
	{ "truncated 4-byte at end", LIT("\xf0\x9f\x98"), -1, 0 },
	{ "lead byte alone at end", LIT("ok\xf0"), -1, 0 },
	{ "lone continuation", LIT("\x80"), -1, 0 },
	{ "continuation inside ascii", LIT("a\xbf" "b"), -1, 0 },
	{ "two continuations after 2-byte", LIT("\xc3\xa9\xa9"), -1, 0 },
	{ "2-byte, ascii instead of continuation", LIT("\xc3(x"), -1, 0 },
	{ "3-byte, ascii in the middle", LIT("\xe2(\xa1"), -1, 0 },
	{ "4-byte, ascii at the end", LIT("\xf0\x9f\x98(x"), -1, 0 },
	{ "lead byte followed by lead byte", LIT("\xc3\xc3\xa9"), -1, 0 },
	{ "embedded NUL", LIT("a\0b"), -1, 0 },
	{ "only NUL", LIT("\0"), -1, 0 },
	{ "NUL after emoji", LIT("\xf0\x9f\x98\x80\0"), -1, 0 },
};

static const struct phone_case phone_cases[] = {
	{ LIT("+34600111222"), 0, "+34600111222" },
	{ LIT("34600111222"), 0, "+34600111222" },
	{ LIT("1234567"), 0, "+1234567" },
	{ LIT("+1234567"), 0, "+1234567" },
	{ LIT("123456789012345"), 0, "+123456789012345" },
	{ LIT("+123456789012345"), 0, "+123456789012345" },
	{ LIT("999999999999999"), 0, "+999999999999999" },
	{ LIT("123456"), -1, NULL },
	{ LIT("+123456"), -1, NULL },
	{ LIT("1234567890123456"), -1, NULL },
	{ LIT("+1234567890123456"), -1, NULL },
	{ LIT("0034600111222"), -1, NULL },
	{ LIT("+034600111222"), -1, NULL },
	{ LIT("0123456"), -1, NULL },
	{ LIT("+"), -1, NULL },
	{ LIT(""), -1, NULL },
	{ LIT("++1234567"), -1, NULL },
	{ LIT("+34abc600111"), -1, NULL },
	{ LIT("phone-number"), -1, NULL },
	{ LIT("34 600 111 222"), -1, NULL },
	{ LIT(" 34600111222"), -1, NULL },
	{ LIT("34600111222 "), -1, NULL },
	{ LIT("+34-600-111-222"), -1, NULL },
	{ LIT("34600111222+"), -1, NULL },
	{ LIT("3460011122\0"), -1, NULL },
	{ LIT("-34600111222"), -1, NULL },
	/* Only the given length counts: the rest of the buffer is ignored. */
	{ "34600111222XYZ", 11, 0, "+34600111222" },
	{ "+34600111222999999", 12, 0, "+34600111222" },
};

static const struct idem_case idem_cases[] = {
	{ "one char", "a", 0 },
	{ "typical uuid", "9b2f6c1e-3a4d-4e5f-8a7b-1c2d3e4f5a6b", 0 },
	{ "with spaces", "order 42 retry", 0 },
	{ "single space", " ", 0 },
	{ "printable punctuation", "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", 0 },
	{ "empty", "", -1 },
	{ "tab", "a\tb", -1 },
	{ "newline", "key\n", -1 },
	{ "carriage return", "\rkey", -1 },
	{ "0x01", "\x01", -1 },
	{ "0x1f", "a\x1f", -1 },
	{ "DEL 0x7f", "a\x7f", -1 },
	{ "only DEL", "\x7f", -1 },
	{ "e-acute UTF-8", "caf\xc3\xa9", -1 },
	{ "emoji", "\xf0\x9f\x98\x80", -1 },
	{ "byte 0x80", "\x80", -1 },
	{ "byte 0xff", "key\xff", -1 },
	{ "missing header", NULL, -1 },
};

static const struct uint_case uint_cases[] = {
	{ "0", 0, 10, 0, 0 },
	{ "7", 0, 10, 0, 7 },
	{ "10", 0, 10, 0, 10 },
	{ "11", 0, 10, -1, 0 },
	{ "5", 6, 10, -1, 0 },
	{ "6", 6, 10, 0, 6 },
	{ "1000000", 1, 1000000, 0, 1000000 },
	{ "1000001", 1, 1000000, -1, 0 },
	{ "9223372036854775807", 0, LLONG_MAX, 0, LLONG_MAX },
	{ "9223372036854775808", 0, LLONG_MAX, -1, 0 },
	{ "9223372036854775810", 0, LLONG_MAX, -1, 0 },
	{ "18446744073709551616", 0, LLONG_MAX, -1, 0 },
	{ "99999999999999999999", 0, LLONG_MAX, -1, 0 },
	{ "99999999999999999999999999999999", 0, LLONG_MAX, -1, 0 },
	{ "-1", 0, 10, -1, 0 },
	{ "-0", 0, 10, -1, 0 },
	{ "+1", 0, 10, -1, 0 },
	{ " 1", 0, 10, -1, 0 },
	{ "1 ", 0, 10, -1, 0 },
	{ "\t1", 0, 10, -1, 0 },
	{ "1\n", 0, 10, -1, 0 },
	{ "", 0, 10, -1, 0 },
	{ "abc", 0, 10, -1, 0 },
	{ "1a", 0, 10, -1, 0 },
	{ "a1", 0, 10, -1, 0 },
	{ "0x10", 0, 100, -1, 0 },
	{ "1.0", 0, 10, -1, 0 },
	{ "1e3", 0, 10000, -1, 0 },
	{ "1,000", 0, 10000, -1, 0 },
	{ NULL, 0, 10, -1, 0 },
};

static char *
exact_copy(const char *s, size_t len)
{
	char	*p;

	p = malloc(len == 0 ? 1 : len);
	assert_non_null(p);
	if (len > 0)
		memcpy(p, s, len);
	return p;
}

/* count copies of unit (ulen bytes) with no NUL after them. */
static char *
repeat(const char *unit, size_t ulen, size_t count, size_t *len)
{
	char	*p;
	size_t	 i;

	*len = ulen * count;
	p = malloc(*len == 0 ? 1 : *len);
	assert_non_null(p);
	for (i = 0; i < count; i++)
		memcpy(p + i * ulen, unit, ulen);
	return p;
}

static void
test_utf8_table(void **state)
{
	const struct utf8_case	*c;
	size_t			 i, chars;
	char			*p;
	int			 rc;

	(void)state;
	for (i = 0; i < sizeof(utf8_cases) / sizeof(utf8_cases[0]); i++) {
		c = &utf8_cases[i];
		p = exact_copy(c->in, c->len);
		chars = (size_t)-1;
		rc = valid_utf8(p, c->len, &chars);
		free(p);
		if (rc != c->rc)
			fail_msg("valid_utf8 \"%s\": rc %d, want %d",
			    c->name, rc, c->rc);
		if (rc == 0 && chars != c->chars)
			fail_msg("valid_utf8 \"%s\": %zu chars, want %zu",
			    c->name, chars, c->chars);
	}
}

static void
test_utf8_many_emoji(void **state)
{
	char	*p;
	size_t	 len, chars;

	(void)state;
	/* A 16 KiB message of 4096 emoji is 4096 characters, not 16384. */
	p = repeat("\xf0\x9f\x98\x80", 4, 4096, &len);
	assert_int_equal(len, 16384);
	chars = 0;
	assert_int_equal(valid_utf8(p, len, &chars), 0);
	assert_int_equal(chars, 4096);

	/* The same text cut in the middle of the last emoji is invalid. */
	assert_int_equal(valid_utf8(p, len - 1, &chars), -1);
	assert_int_equal(valid_utf8(p, len - 3, &chars), -1);
	/* Cut on a character boundary it is valid again. */
	assert_int_equal(valid_utf8(p, len - 4, &chars), 0);
	assert_int_equal(chars, 4095);
	free(p);
}

static void
test_utf8_mixed_long(void **state)
{
	/* 1 + 2 + 3 + 4 bytes: four characters per unit. */
	static const char	 unit[] =
	    "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";
	char			*p;
	size_t			 len, chars;

	(void)state;
	p = repeat(unit, sizeof(unit) - 1, 1000, &len);
	chars = 0;
	assert_int_equal(valid_utf8(p, len, &chars), 0);
	assert_int_equal(chars, 4000);

	/* One bad byte in the middle spoils the whole text. */
	p[len / 2] = '\xff';
	assert_int_equal(valid_utf8(p, len, &chars), -1);
	free(p);
}

static void
test_utf8_length_honoured(void **state)
{
	size_t	chars;

	(void)state;
	/* Bytes beyond the length are not looked at ... */
	chars = 0;
	assert_int_equal(valid_utf8("ab\xff", 2, &chars), 0);
	assert_int_equal(chars, 2);
	assert_int_equal(valid_utf8("ab\0cd", 2, &chars), 0);
	assert_int_equal(chars, 2);
	/* ... and a sequence is not completed from bytes past the end. */
	assert_int_equal(valid_utf8("\xc3\xa9", 1, &chars), -1);
	assert_int_equal(valid_utf8("x\xf0\x9f\x98\x80", 4, &chars), -1);
}

static void
test_phone_table(void **state)
{
	const struct phone_case	*c;
	char			 out[VALID_PHONE_MAX];
	char			*p;
	size_t			 i;
	int			 rc;

	(void)state;
	for (i = 0; i < sizeof(phone_cases) / sizeof(phone_cases[0]); i++) {
		c = &phone_cases[i];
		p = exact_copy(c->in, c->len);
		memset(out, 'X', sizeof(out));
		rc = valid_phone(p, c->len, out);
		free(p);
		if (rc != c->rc)
			fail_msg("valid_phone \"%.*s\": rc %d, want %d",
			    (int)c->len, c->in, rc, c->rc);
		if (rc == 0 && (memchr(out, '\0', sizeof(out)) == NULL ||
		    strcmp(out, c->out) != 0))
			fail_msg("valid_phone \"%.*s\": got \"%.*s\", want "
			    "\"%s\"", (int)c->len, c->in, (int)sizeof(out),
			    out, c->out);
	}
}

static void
test_idem_key_table(void **state)
{
	const struct idem_case	*c;
	size_t			 i;
	int			 rc;

	(void)state;
	for (i = 0; i < sizeof(idem_cases) / sizeof(idem_cases[0]); i++) {
		c = &idem_cases[i];
		rc = valid_idem_key(c->in);
		if (rc != c->rc)
			fail_msg("valid_idem_key \"%s\": rc %d, want %d",
			    c->name, rc, c->rc);
	}
}

static void
test_idem_key_length(void **state)
{
	char	key[300];
	size_t	n;

	(void)state;
	/* Every length from 1 to 255 is accepted, 256 and more are not. */
	for (n = 1; n < sizeof(key); n++) {
		memset(key, 'k', n);
		key[n] = '\0';
		if (valid_idem_key(key) != (n <= 255 ? 0 : -1))
			fail_msg("valid_idem_key of length %zu: wrong answer",
			    n);
	}
	/* A bad byte at the very end of a long key is still seen. */
	memset(key, 'k', 255);
	key[254] = '\x7f';
	key[255] = '\0';
	assert_int_equal(valid_idem_key(key), -1);
}

static void
test_idem_key_all_bytes(void **state)
{
	char	key[2];
	int	c;

	(void)state;
	for (c = 1; c < 256; c++) {
		key[0] = (char)c;
		key[1] = '\0';
		if (valid_idem_key(key) != ((c >= 0x20 && c <= 0x7e) ? 0 : -1))
			fail_msg("valid_idem_key of byte 0x%02x: wrong answer",
			    c);
	}
}

static void
test_uint_table(void **state)
{
	const struct uint_case	*c;
	long long		 out;
	size_t			 i;
	int			 rc;

	(void)state;
	for (i = 0; i < sizeof(uint_cases) / sizeof(uint_cases[0]); i++) {
		c = &uint_cases[i];
		out = -12345;
		rc = valid_uint(c->in, c->min, c->max, &out);
		if (rc != c->rc)
			fail_msg("valid_uint \"%s\" [%lld, %lld]: rc %d, "
			    "want %d", c->in ? c->in : "(null)", c->min,
			    c->max, rc, c->rc);
		if (rc == 0 && out != c->out)
			fail_msg("valid_uint \"%s\": got %lld, want %lld",
			    c->in, out, c->out);
	}
}

struct bsuid_case {
	const char	*in;
	int		 rc;	/* valid_bsuid */
	int		 phone;	/* valid_customer: 1 phone, 0 BSUID, -1 neither */
	const char	*out;
};

static const struct bsuid_case bsuid_cases[] = {
	{ "US.13491208655302741918", 0, 0, "US.13491208655302741918" },
	{ "US.ENT.5519", 0, 0, "US.ENT.5519" },
	{ "BR.abcDEF123", 0, 0, "BR.abcDEF123" },
	{ "US.1", 0, 0, "US.1" },
	{ "US.ENT.", -1, -1, NULL },
	{ "US.", -1, -1, NULL },
	{ "us.1349", -1, -1, NULL },
	{ "U.1349", -1, -1, NULL },
	{ "USA.1349", -1, -1, NULL },
	{ "US-1349", -1, -1, NULL },
	{ "US.13 49", -1, -1, NULL },
	{ "US.13.49", -1, -1, NULL },
	{ "US.\xc3\xa9" "1349", -1, -1, NULL },
	{ "", -1, -1, NULL },
	{ "+34600111222", -1, 1, "+34600111222" },
	{ "34600111222", -1, 1, "+34600111222" },
};

static void
test_bsuid_table(void **state)
{
	const struct bsuid_case	*c;
	char			 out[VALID_CUSTOMER_MAX], body[140];
	size_t			 i;
	int			 phone, rc;

	(void)state;
	for (i = 0; i < sizeof(bsuid_cases) / sizeof(bsuid_cases[0]); i++) {
		c = &bsuid_cases[i];
		if (valid_bsuid(c->in, strlen(c->in)) != c->rc)
			fail_msg("valid_bsuid \"%s\": want %d", c->in, c->rc);
		phone = -1;
		rc = valid_customer(c->in, strlen(c->in), out, &phone);
		if ((rc == 0 ? phone : -1) != c->phone)
			fail_msg("valid_customer \"%s\": %d, want %d", c->in,
			    rc == 0 ? phone : -1, c->phone);
		if (rc == 0)
			assert_string_equal(out, c->out);
	}
	/* 128 characters after the dot fit, 129 do not. */
	memset(body, '7', sizeof(body));
	memcpy(body, "US.ENT.", 7);
	assert_int_equal(valid_bsuid(body, 7 + 128), 0);
	assert_int_equal(valid_customer(body, 7 + 128, out, &phone), 0);
	assert_int_equal((int)strlen(out), 7 + 128);
	assert_int_equal(valid_bsuid(body, 7 + 129), -1);
	memset(body, '7', sizeof(body));
	memcpy(body, "US.", 3);
	assert_int_equal(valid_bsuid(body, 3 + 128), 0);
	assert_int_equal(valid_bsuid(body, 3 + 129), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utf8_table),
		cmocka_unit_test(test_utf8_many_emoji),
		cmocka_unit_test(test_utf8_mixed_long),
		cmocka_unit_test(test_utf8_length_honoured),
		cmocka_unit_test(test_phone_table),
		cmocka_unit_test(test_idem_key_table),
		cmocka_unit_test(test_idem_key_length),
		cmocka_unit_test(test_idem_key_all_bytes),
		cmocka_unit_test(test_uint_table),
		cmocka_unit_test(test_bsuid_table),
	};

	/* cmocka reports failures on stderr: keep stdout in step with it. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	return cmocka_run_group_tests_name("valid", tests, NULL, NULL);
}
