/*
 * Unit tests for lib/query: URL-encoded query strings and form bodies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "arena.h"
#include "buf.h"
#include "query.h"

#define LIT(s)	(s), sizeof(s) - 1
#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define MAXP	4

struct kv {
	const char	*key;
	const char	*val;
	size_t		 len;
};

struct parse_case {
	const char	*in;
	size_t		 npairs;
	struct kv	 pairs[MAXP];
	int		 invalid;
};

struct decode_case {
	const char	*in;
	size_t		 len;
	int		 rc;
	const char	*out;
	size_t		 outlen;
};

struct encode_case {
	const char	*in;
	const char	*out;
};

static void	check_query(const struct query *, const struct parse_case *);

static const struct parse_case parse_cases[] = {
	{ "a=1&b=x%20y+z", 2, { { "a", LIT("1") }, { "b", LIT("x y z") } },
	    0 },
	{ "&&a=1&", 1, { { "a", LIT("1") } }, 0 },
	{ "", 0, { { NULL, NULL, 0 } }, 0 },
	{ "&", 0, { { NULL, NULL, 0 } }, 0 },
	{ "&&&", 0, { { NULL, NULL, 0 } }, 0 },
	{ "flag", 1, { { "flag", LIT("") } }, 0 },
	{ "flag&b=2", 2, { { "flag", LIT("") }, { "b", LIT("2") } }, 0 },
	{ "a=", 1, { { "a", LIT("") } }, 0 },
	{ "a=1=2", 1, { { "a", LIT("1=2") } }, 0 },
	{ "a=1&a=2", 2, { { "a", LIT("1") }, { "a", LIT("2") } }, 0 },
	{ "q=%E2%82%AC", 1, { { "q", LIT("\xe2\x82\xac") } }, 0 },
	{ "q=caf%c3%a9", 1, { { "q", LIT("caf\xc3\xa9") } }, 0 },
	{ "k%20ey=v&k+2=w", 2, { { "k ey", LIT("v") }, { "k 2", LIT("w") } },
	    0 },
	{ "to=%2B34600111222", 1, { { "to", LIT("+34600111222") } }, 0 },
	{ "a=%26&b=%3D&c=%25", 3,
	    { { "a", LIT("&") }, { "b", LIT("=") }, { "c", LIT("%") } }, 0 },
	{ "a=%zz", 1, { { "a", LIT("") } }, 1 },
	{ "a=%4", 1, { { "a", LIT("") } }, 1 },
	{ "a=%", 1, { { "a", LIT("") } }, 1 },
	{ "a=x%", 1, { { "a", LIT("") } }, 1 },
	{ "a=%00", 1, { { "a", LIT("") } }, 1 },
	{ "a=x%00y&b=2", 2, { { "a", LIT("") }, { "b", LIT("2") } }, 1 },
	{ "a=%g1&b=%1g&c=ok", 3,
	    { { "a", LIT("") }, { "b", LIT("") }, { "c", LIT("ok") } }, 1 },
	{ "a=%4&b=2", 2, { { "a", LIT("") }, { "b", LIT("2") } }, 1 },
};

static const struct decode_case decode_cases[] = {
	{ LIT(""), 0, "", 0 },
	{ LIT("abc"), 0, "abc", 3 },
	{ LIT("a+b"), 0, "a b", 3 },
	{ LIT("+++"), 0, "   ", 3 },
	{ LIT("%41"), 0, "A", 1 },
	{ LIT("%4a%4A"), 0, "JJ", 2 },
	{ LIT("%2B"), 0, "+", 1 },
	{ LIT("%25"), 0, "%", 1 },
	{ LIT("%2525"), 0, "%25", 3 },
	{ LIT("%20x%20"), 0, " x ", 3 },
	{ LIT("%e2%82%ac"), 0, "\xe2\x82\xac", 3 },
	{ LIT("%FF"), 0, "\xff", 1 },
	{ LIT("%01"), 0, "\x01", 1 },
	{ LIT("%zz"), -1, NULL, 0 },
	{ LIT("%4"), -1, NULL, 0 },
	{ LIT("%"), -1, NULL, 0 },
	{ LIT("a%"), -1, NULL, 0 },
	{ LIT("100%"), -1, NULL, 0 },
	{ LIT("%%41"), -1, NULL, 0 },
	{ LIT("%g1"), -1, NULL, 0 },
	{ LIT("%1g"), -1, NULL, 0 },
	{ LIT("% 1"), -1, NULL, 0 },
	{ LIT("%00"), -1, NULL, 0 },
	{ LIT("ab%00cd"), -1, NULL, 0 },
	/* Only the given length is decoded. */
	{ "abc%41", 3, 0, "abc", 3 },
	{ "%41", 2, -1, NULL, 0 },
	{ "%41", 1, -1, NULL, 0 },
};

static const struct encode_case encode_cases[] = {
	{ "+34 600&x", "%2B34%20600%26x" },
	{ "", "" },
	{ "AZaz09-_.~", "AZaz09-_.~" },
	{ "a b", "a%20b" },
	{ "caf\xc3\xa9", "caf%C3%A9" },
	{ "\xf0\x9f\x98\x80", "%F0%9F%98%80" },
	{ "/?#[]@!$&'()*+,;=%",
	    "%2F%3F%23%5B%5D%40%21%24%26%27%28%29%2A%2B%2C%3B%3D%25" },
	{ "\"<>\\^`{|}", "%22%3C%3E%5C%5E%60%7B%7C%7D" },
	{ "\x01\t\n\x7f", "%01%09%0A%7F" },
};

static void
check_query(const struct query *q, const struct parse_case *c)
{
	size_t	i;

	if (q->npairs != c->npairs)
		fail_msg("query_parse \"%s\": %zu pairs, want %zu", c->in,
		    q->npairs, c->npairs);
	for (i = 0; i < c->npairs; i++) {
		assert_non_null(q->pairs[i].key);
		assert_non_null(q->pairs[i].val);
		if (strcmp(q->pairs[i].key, c->pairs[i].key) != 0 ||
		    q->pairs[i].val_len != c->pairs[i].len ||
		    memcmp(q->pairs[i].val, c->pairs[i].val,
		    c->pairs[i].len + 1) != 0)
			fail_msg("query_parse \"%s\": pair %zu is \"%s\"=\"%s\""
			    " (%zu), want \"%s\"=\"%s\" (%zu)", c->in, i,
			    q->pairs[i].key, q->pairs[i].val,
			    q->pairs[i].val_len, c->pairs[i].key,
			    c->pairs[i].val, c->pairs[i].len);
	}
	if (q->invalid != c->invalid)
		fail_msg("query_parse \"%s\": invalid %d, want %d", c->in,
		    q->invalid, c->invalid);
	assert_int_equal(q->truncated, 0);
}

static void
test_parse_table(void **state)
{
	struct arena	a;
	struct query	q;
	size_t		i;

	(void)state;
	/* A small arena, so longer runs spill into more chunks. */
	arena_init(&a, 1024);
	for (i = 0; i < NELEM(parse_cases); i++) {
		memset(&q, 0xa5, sizeof(q));
		query_parse(&a, parse_cases[i].in, &q);
		check_query(&q, &parse_cases[i]);
		arena_reset(&a);
	}
	arena_cleanup(&a);
}

static void
test_parse_bad_key(void **state)
{
	struct arena	 a;
	struct query	 q;
	size_t		 i;

	(void)state;
	/* A key that does not decode is flagged; the good pairs remain. */
	arena_init(&a, 1024);
	query_parse(&a, "%zz=1&b=2&x%00=3", &q);
	assert_int_equal(q.invalid, 1);
	assert_string_equal(query_get(&q, "b"), "2");
	for (i = 0; i < q.npairs; i++)
		assert_string_not_equal(q.pairs[i].val, "1");
	assert_null(query_get(&q, "x"));
	arena_cleanup(&a);
}

static void
test_get(void **state)
{
	struct arena	 a;
	struct query	 q;

	(void)state;
	arena_init(&a, 1024);
	query_parse(&a, "page=2&sort=date&page=3&empty=&flag", &q);
	assert_string_equal(query_get(&q, "page"), "2");
	assert_string_equal(query_get(&q, "sort"), "date");
	assert_string_equal(query_get(&q, "empty"), "");
	assert_string_equal(query_get(&q, "flag"), "");
	assert_null(query_get(&q, "missing"));
	assert_null(query_get(&q, "Page"));
	assert_null(query_get(&q, "pag"));
	assert_null(query_get(&q, ""));

	query_parse(&a, "", &q);
	assert_int_equal(q.npairs, 0);
	assert_null(query_get(&q, "page"));
	arena_cleanup(&a);
}

static void
test_parse_truncated(void **state)
{
	struct arena	 a;
	struct query	 q;
	struct buf	 qs;
	char		 key[16], val[16];
	size_t		 i;

	(void)state;
	arena_init(&a, 1024);
	buf_init(&qs);

	/* Exactly QUERY_MAX_PAIRS pairs (and empty ones) fit. */
	for (i = 0; i < QUERY_MAX_PAIRS; i++)
		buf_printf(&qs, "%sk%zu=%zu", i ? "&" : "", i, i);
	buf_puts(&qs, "&&&");
	query_parse(&a, qs.data, &q);
	assert_int_equal(q.npairs, QUERY_MAX_PAIRS);
	assert_int_equal(q.truncated, 0);
	assert_int_equal(q.invalid, 0);
	arena_reset(&a);

	/* One more is dropped and flagged. */
	buf_printf(&qs, "k%d=%d&k%d=%d", QUERY_MAX_PAIRS, QUERY_MAX_PAIRS,
	    QUERY_MAX_PAIRS + 1, QUERY_MAX_PAIRS + 1);
	query_parse(&a, qs.data, &q);
	assert_int_equal(q.npairs, QUERY_MAX_PAIRS);
	assert_int_equal(q.truncated, 1);
	for (i = 0; i < QUERY_MAX_PAIRS; i++) {
		snprintf(key, sizeof(key), "k%zu", i);
		snprintf(val, sizeof(val), "%zu", i);
		assert_string_equal(query_get(&q, key), val);
	}
	snprintf(key, sizeof(key), "k%d", QUERY_MAX_PAIRS);
	assert_null(query_get(&q, key));

	buf_cleanup(&qs);
	arena_cleanup(&a);
}

static void
test_parse_long_value(void **state)
{
	struct arena	 a;
	struct query	 q;
	struct buf	 qs;
	size_t		 i;

	(void)state;
	/* A 6000-byte value, much larger than an arena chunk. */
	arena_init(&a, 1024);
	buf_init(&qs);
	buf_puts(&qs, "x=1&text=");
	for (i = 0; i < 2000; i++)
		buf_puts(&qs, "%41+");
	buf_puts(&qs, "&y=2");
	query_parse(&a, qs.data, &q);
	assert_int_equal(q.npairs, 3);
	assert_int_equal(q.invalid, 0);
	assert_int_equal(q.pairs[1].val_len, 4000);
	for (i = 0; i < 2000; i++)
		assert_memory_equal(q.pairs[1].val + 2 * i, "A ", 2);
	assert_int_equal(q.pairs[1].val[4000], '\0');
	assert_string_equal(query_get(&q, "y"), "2");
	buf_cleanup(&qs);
	arena_cleanup(&a);
}

static void
test_decode_table(void **state)
{
	const struct decode_case	*c;
	char				 out[64];
	char				*in;
	size_t				 i, outlen;
	int				 rc;

	(void)state;
	for (i = 0; i < NELEM(decode_cases); i++) {
		c = &decode_cases[i];
		in = malloc(c->len == 0 ? 1 : c->len);
		assert_non_null(in);
		memcpy(in, c->in, c->len);
		memset(out, 'X', sizeof(out));
		outlen = 999;
		rc = query_decode(in, c->len, out, &outlen);
		free(in);
		if (rc != c->rc)
			fail_msg("query_decode \"%.*s\": %d, want %d",
			    (int)c->len, c->in, rc, c->rc);
		if (rc != 0)
			continue;
		if (outlen != c->outlen || memcmp(out, c->out,
		    c->outlen + 1) != 0)
			fail_msg("query_decode \"%.*s\": got \"%.*s\" (%zu), "
			    "want \"%s\"", (int)c->len, c->in, (int)outlen,
			    out, outlen, c->out);
	}
}

static void
test_decode_stops_at_length(void **state)
{
	char	out[8];
	size_t	outlen;

	(void)state;
	/* The byte after the length would complete the escape: not used. */
	assert_int_equal(query_decode("%41", 2, out, &outlen), -1);
	assert_int_equal(query_decode("x%41", 3, out, &outlen), -1);
	assert_int_equal(query_decode("%41%42", 4, out, &outlen), -1);
	assert_int_equal(query_decode("%41%42", 3, out, &outlen), 0);
	assert_string_equal(out, "A");
	assert_int_equal(outlen, 1);
}

static void
test_encode_table(void **state)
{
	struct buf	b;
	size_t		i;

	(void)state;
	for (i = 0; i < NELEM(encode_cases); i++) {
		buf_init(&b);
		query_encode(&b, encode_cases[i].in);
		if (strcmp(b.data, encode_cases[i].out) != 0 ||
		    b.len != strlen(encode_cases[i].out))
			fail_msg("query_encode \"%s\": got \"%s\", want \"%s\"",
			    encode_cases[i].in, b.data, encode_cases[i].out);
		buf_cleanup(&b);
	}
}

static void
test_encode_appends(void **state)
{
	struct buf	b;

	(void)state;
	buf_init(&b);
	buf_puts(&b, "/messages?to=");
	query_encode(&b, "+34 600");
	buf_puts(&b, "&q=");
	query_encode(&b, "a&b=c");
	assert_string_equal(b.data, "/messages?to=%2B34%20600&q=a%26b%3Dc");
	buf_cleanup(&b);
}

static void
test_encode_parse_round_trip(void **state)
{
	struct arena	 a;
	struct query	 q;
	struct buf	 qs;
	char		 val[48];
	unsigned long	 seed = 777;
	size_t		 i, j, n;

	(void)state;
	/* Any value without NUL survives encode then parse unchanged. */
	arena_init(&a, 1024);
	buf_init(&qs);
	for (i = 0; i < 1000; i++) {
		seed = seed * 1103515245 + 12345;
		n = (seed >> 16) % (sizeof(val) - 1);
		for (j = 0; j < n; j++) {
			seed = seed * 1103515245 + 12345;
			val[j] = (char)(1 + (seed >> 16) % 255);
		}
		val[n] = '\0';
		buf_reset(&qs);
		buf_puts(&qs, "k=");
		query_encode(&qs, val);
		buf_puts(&qs, "&z=1");
		query_parse(&a, qs.data, &q);
		if (q.npairs != 2 || q.invalid ||
		    q.pairs[0].val_len != n ||
		    memcmp(q.pairs[0].val, val, n + 1) != 0)
			fail_msg("round trip failed for %s", qs.data);
		arena_reset(&a);
	}
	buf_cleanup(&qs);
	arena_cleanup(&a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_table),
		cmocka_unit_test(test_parse_bad_key),
		cmocka_unit_test(test_get),
		cmocka_unit_test(test_parse_truncated),
		cmocka_unit_test(test_parse_long_value),
		cmocka_unit_test(test_decode_table),
		cmocka_unit_test(test_decode_stops_at_length),
		cmocka_unit_test(test_encode_table),
		cmocka_unit_test(test_encode_appends),
		cmocka_unit_test(test_encode_parse_round_trip),
	};

	/* cmocka reports failures on stderr: keep stdout in step with it. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	return cmocka_run_group_tests_name("query", tests, NULL, NULL);
}
