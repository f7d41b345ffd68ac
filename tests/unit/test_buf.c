/*
 * Unit tests for lib/buf (growable buffer, JSON string writer) and
 * lib/arena (per-request bump allocator).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <json-c/json.h>

#include "arena.h"
#include "buf.h"

#define LIT(s)	(s), sizeof(s) - 1
#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

struct json_case {
	const char	*in;
	size_t		 len;
	const char	*out;
};

static void	check_pattern(const struct buf *, size_t);
static char	pattern(size_t);

static const struct json_case json_cases[] = {
	{ LIT(""), "\"\"" },
	{ LIT("abc"), "\"abc\"" },
	{ LIT("a\"b"), "\"a\\\"b\"" },
	{ LIT("a\\b"), "\"a\\\\b\"" },
	{ LIT("\\\""), "\"\\\\\\\"\"" },
	{ LIT("line1\nline2"), "\"line1\\nline2\"" },
	{ LIT("\t"), "\"\\t\"" },
	{ LIT("\r\n"), "\"\\r\\n\"" },
	{ LIT("\x01"), "\"\\u0001\"" },
	{ LIT("\x1f"), "\"\\u001f\"" },
	{ LIT("\x1b[31m"), "\"\\u001b[31m\"" },
	{ LIT("\0"), "\"\\u0000\"" },
	{ LIT("a\0b"), "\"a\\u0000b\"" },
	{ LIT("\x7f"), "\"\\u007f\"" },
	{ LIT("\b\f"), "\"\\u0008\\u000c\"" },
	{ LIT("caf\xc3\xa9 \xf0\x9f\x98\x80"),
	    "\"caf\xc3\xa9 \xf0\x9f\x98\x80\"" },
	{ LIT("</script> / 'x'"), "\"</script> / 'x'\"" },
	{ LIT(" !#$%&()*+,-./09:;<=>?@AZ[]^_`az{|}~"),
	    "\" !#$%&()*+,-./09:;<=>?@AZ[]^_`az{|}~\"" },
	/* A forged log line stays on one line. */
	{ LIT("ok\"}\n{\"level\":\"fatal"),
	    "\"ok\\\"}\\n{\\\"level\\\":\\\"fatal\"" },
	/* Only the given length is written. */
	{ "abc\"def", 3, "\"abc\"" },
};

static char
pattern(size_t i)
{
	return (char)('a' + (i * 7 + i / 26) % 26);
}

static void
check_pattern(const struct buf *b, size_t n)
{
	size_t	i;

	assert_int_equal(b->len, n);
	assert_true(b->cap > b->len);
	assert_int_equal(b->data[n], '\0');
	for (i = 0; i < n; i++)
		if (b->data[i] != pattern(i))
			fail_msg("buf byte %zu is '%c', want '%c'", i,
			    b->data[i], pattern(i));
}

static void
test_init(void **state)
{
	struct buf	b;

	(void)state;
	buf_init(&b);
	assert_non_null(b.data);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.data, "");
	buf_cleanup(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	/* Free functions accept NULL, and a second cleanup is harmless. */
	buf_cleanup(&b);
	buf_cleanup(NULL);
}

static void
test_append_growth(void **state)
{
	struct buf	 b;
	char		 chunk[997];
	size_t		 i, n, total;

	(void)state;
	/* Odd-sized chunks up to ~200 KiB, content checked at the end. */
	buf_init(&b);
	total = 0;
	for (n = 0; n < 200; n++) {
		for (i = 0; i < sizeof(chunk); i++)
			chunk[i] = pattern(total + i);
		buf_append(&b, chunk, sizeof(chunk));
		total += sizeof(chunk);
	}
	check_pattern(&b, total);
	buf_append(&b, "", 0);
	check_pattern(&b, total);
	buf_cleanup(&b);
}

static void
test_append_binary(void **state)
{
	struct buf	b;

	(void)state;
	buf_init(&b);
	buf_append(&b, "a\0b", 3);
	buf_append(&b, "\0", 1);
	assert_int_equal(b.len, 4);
	assert_memory_equal(b.data, "a\0b\0", 5);
	buf_cleanup(&b);
}

static void
test_puts_putc_growth(void **state)
{
	struct buf	 b;
	char		 s[2];
	size_t		 i, n;

	(void)state;
	/* 70000 single characters, alternating putc and puts. */
	n = 70000;
	buf_init(&b);
	for (i = 0; i < n; i++) {
		if (i % 2) {
			buf_putc(&b, pattern(i));
		} else {
			s[0] = pattern(i);
			s[1] = '\0';
			buf_puts(&b, s);
		}
	}
	check_pattern(&b, n);
	buf_puts(&b, "");
	check_pattern(&b, n);
	buf_cleanup(&b);
}

static void
test_printf(void **state)
{
	struct buf	b;

	(void)state;
	buf_init(&b);
	buf_printf(&b, "%d-%s-%c", 42, "x", 'y');
	assert_string_equal(b.data, "42-x-y");
	assert_int_equal(b.len, 6);
	buf_printf(&b, "%s", "");
	assert_int_equal(b.len, 6);
	buf_printf(&b, "|%05.1f|%zu", 3.14159, (size_t)7);
	assert_string_equal(b.data, "42-x-y|003.1|7");
	assert_int_equal(b.len, strlen(b.data));
	buf_cleanup(&b);
}

static void
test_printf_boundaries(void **state)
{
	static const size_t	 sizes[] = {
		0, 1, 253, 254, 255, 256, 257, 510, 511, 512, 513, 1023,
		1024, 4095, 4096, 4097, 65536, 100000,
	};
	static const size_t	 prefixes[] = { 0, 1, 200, 255, 300 };
	struct buf		 b;
	char			*s, *want;
	size_t			 i, j, k, n, p;

	(void)state;
	/* Outputs that just fit, just do not fit, or need many doublings. */
	for (i = 0; i < NELEM(sizes); i++) {
		for (j = 0; j < NELEM(prefixes); j++) {
			n = sizes[i];
			p = prefixes[j];
			s = malloc(n + 1);
			want = malloc(p + n + 8);
			assert_non_null(s);
			assert_non_null(want);
			memset(s, 's', n);
			s[n] = '\0';
			memset(want, 'p', p);
			memcpy(want + p, s, n);
			memcpy(want + p + n, "|42", 4);

			buf_init(&b);
			for (k = 0; k < p; k++)
				buf_putc(&b, 'p');
			buf_printf(&b, "%s|%d", s, 42);
			if (b.len != p + n + 3 || strcmp(b.data, want) != 0)
				fail_msg("buf_printf of %zu bytes after %zu: "
				    "length %zu, want %zu", n, p, b.len,
				    p + n + 3);
			assert_true(b.cap > b.len);
			buf_cleanup(&b);
			free(s);
			free(want);
		}
	}
}

static void
test_printf_many(void **state)
{
	struct buf	b;
	char		want[8];
	size_t		i;

	(void)state;
	buf_init(&b);
	for (i = 0; i < 5000; i++)
		buf_printf(&b, "%04zu,", i);
	assert_int_equal(b.len, 5000 * 5);
	for (i = 0; i < 5000; i++) {
		snprintf(want, sizeof(want), "%04zu,", i);
		assert_memory_equal(b.data + 5 * i, want, 5);
	}
	assert_int_equal(b.data[b.len], '\0');
	buf_cleanup(&b);
}

static void
test_reset_keeps_capacity(void **state)
{
	struct buf	 b;
	char		*data;
	size_t		 cap, i;

	(void)state;
	buf_init(&b);
	for (i = 0; i < 100000; i++)
		buf_putc(&b, pattern(i));
	cap = b.cap;
	data = b.data;
	assert_true(cap > 100000);

	buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.data, "");
	assert_int_equal(b.cap, cap);
	assert_ptr_equal(b.data, data);

	/* Refilling to the old size needs no new allocation. */
	for (i = 0; i < 100000; i++)
		buf_putc(&b, pattern(i));
	check_pattern(&b, 100000);
	assert_int_equal(b.cap, cap);
	assert_ptr_equal(b.data, data);

	buf_reset(&b);
	buf_printf(&b, "%s", "after reset");
	assert_string_equal(b.data, "after reset");
	buf_cleanup(&b);
}

static void
test_json_str_table(void **state)
{
	struct buf	b;
	size_t		i;

	(void)state;
	for (i = 0; i < NELEM(json_cases); i++) {
		buf_init(&b);
		buf_json_str(&b, json_cases[i].in, json_cases[i].len);
		if (b.len != strlen(json_cases[i].out) ||
		    strcmp(b.data, json_cases[i].out) != 0)
			fail_msg("buf_json_str \"%.*s\": got %s, want %s",
			    (int)json_cases[i].len, json_cases[i].in, b.data,
			    json_cases[i].out);
		buf_cleanup(&b);
	}
}

static void
test_json_str_round_trip(void **state)
{
	struct json_object	*o, *v;
	struct buf		 b;
	char			 in[64];
	unsigned long		 seed = 4242;
	size_t			 i, j, n;

	(void)state;
	/* Every byte 0x00-0x7f: json-c reads back exactly what went in. */
	buf_init(&b);
	for (i = 0; i < 2000; i++) {
		seed = seed * 1103515245 + 12345;
		n = (seed >> 16) % sizeof(in);
		for (j = 0; j < n; j++) {
			seed = seed * 1103515245 + 12345;
			in[j] = (char)((seed >> 16) % 128);
		}
		buf_reset(&b);
		buf_puts(&b, "{\"k\":");
		buf_json_str(&b, in, n);
		buf_putc(&b, '}');
		for (j = 0; j < b.len; j++)
			if ((unsigned char)b.data[j] < 0x20)
				fail_msg("buf_json_str wrote raw byte 0x%02x",
				    (unsigned char)b.data[j]);
		o = json_tokener_parse(b.data);
		if (o == NULL)
			fail_msg("buf_json_str output is not JSON: %s",
			    b.data);
		if (!json_object_object_get_ex(o, "k", &v) ||
		    (size_t)json_object_get_string_len(v) != n ||
		    memcmp(json_object_get_string(v), in, n) != 0) {
			json_object_put(o);
			fail_msg("buf_json_str round trip failed: %s", b.data);
		}
		json_object_put(o);
	}
	buf_cleanup(&b);
}

static void
test_arena_alignment(void **state)
{
	struct arena	 a;
	unsigned char	*p[200];
	size_t		 i, j;

	(void)state;
	/* Sizes 1..200 in a 1 KiB arena: aligned, usable, not overlapping. */
	arena_init(&a, 1024);
	for (i = 0; i < NELEM(p); i++) {
		p[i] = arena_alloc(&a, i + 1);
		assert_non_null(p[i]);
		if ((uintptr_t)p[i] % _Alignof(max_align_t) != 0)
			fail_msg("arena_alloc(%zu) is not aligned: %p", i + 1,
			    (void *)p[i]);
		memset(p[i], (int)(i & 0xff), i + 1);
	}
	for (i = 0; i < NELEM(p); i++)
		for (j = 0; j <= i; j++)
			if (p[i][j] != (unsigned char)(i & 0xff))
				fail_msg("arena block %zu was overwritten", i);
	arena_cleanup(&a);
}

static void
test_arena_typed_use(void **state)
{
	struct arena	 a;
	long double	*ld;
	double		*d;
	char		*c;
	size_t		 i;

	(void)state;
	/* An odd-sized allocation, then a type with the strictest alignment. */
	arena_init(&a, 1024);
	for (i = 0; i < 100; i++) {
		c = arena_alloc(&a, 3);
		memcpy(c, "ab", 3);
		ld = arena_alloc(&a, sizeof(*ld) * 2);
		ld[0] = (long double)i;
		ld[1] = 0.5L;
		d = arena_alloc(&a, sizeof(*d));
		*d = 1.25;
		assert_string_equal(c, "ab");
		assert_true(ld[0] == (long double)i && ld[1] == 0.5L);
		assert_true(*d == 1.25);
	}
	arena_cleanup(&a);
}

static void
test_arena_large(void **state)
{
	static const size_t	 sizes[] = {
		1024, 1025, 4096, 100000, 1 << 20,
	};
	struct arena		 a;
	unsigned char		*big, *small1, *small2;
	size_t			 i, j;

	(void)state;
	/* Allocations larger than the chunk size work and stay intact. */
	arena_init(&a, 1024);
	for (i = 0; i < NELEM(sizes); i++) {
		small1 = arena_alloc(&a, 10);
		memset(small1, 0x11, 10);
		big = arena_alloc(&a, sizes[i]);
		assert_true((uintptr_t)big % _Alignof(max_align_t) == 0);
		memset(big, 0x5a, sizes[i]);
		small2 = arena_alloc(&a, 10);
		memset(small2, 0x22, 10);
		for (j = 0; j < sizes[i]; j++)
			if (big[j] != 0x5a)
				fail_msg("arena block of %zu overwritten at "
				    "%zu", sizes[i], j);
		for (j = 0; j < 10; j++)
			assert_true(small1[j] == 0x11 && small2[j] == 0x22);
	}
	arena_reset(&a);
	big = arena_alloc(&a, 1 << 20);
	memset(big, 0x33, 1 << 20);
	arena_cleanup(&a);
}

static void
test_arena_reset_reuse(void **state)
{
	struct arena	 a;
	char		*first, *p;
	size_t		 round, i;

	(void)state;
	arena_init(&a, 4096);
	first = arena_alloc(&a, 16);
	for (round = 0; round < 5; round++) {
		/* A request that spills over many chunks ... */
		for (i = 0; i < 1000; i++) {
			p = arena_alloc(&a, 100);
			memset(p, 'r', 100);
		}
		p = arena_alloc(&a, 50000);
		memset(p, 'R', 50000);
		arena_reset(&a);
		/* ... and the next one starts again in the first chunk. */
		p = arena_alloc(&a, 16);
		assert_ptr_equal(p, first);
		memcpy(p, "fresh", 6);
		assert_string_equal(first, "fresh");
	}
	/* Resetting an arena that is already empty is harmless. */
	arena_reset(&a);
	arena_reset(&a);
	assert_ptr_equal(arena_alloc(&a, 1), first);
	arena_cleanup(&a);
	arena_cleanup(NULL);
}

static void
test_arena_strdup(void **state)
{
	static const char	 src[] = "hello world";
	struct arena		 a;
	char			*s, *t, *raw;

	(void)state;
	arena_init(&a, 1024);
	s = arena_strdup(&a, src);
	assert_string_equal(s, src);
	assert_ptr_not_equal(s, src);
	t = arena_strdup(&a, "");
	assert_string_equal(t, "");
	assert_ptr_not_equal(s, t);
	assert_string_equal(s, src);

	assert_string_equal(arena_strndup(&a, src, 5), "hello");
	assert_string_equal(arena_strndup(&a, src, 0), "");
	assert_string_equal(arena_strndup(&a, src, sizeof(src) - 1), src);

	/* A buffer with no NUL at the end, as from a request body. */
	raw = malloc(4);
	assert_non_null(raw);
	memcpy(raw, "abcd", 4);
	s = arena_strndup(&a, raw, 4);
	free(raw);
	assert_string_equal(s, "abcd");

	/* Copies are independent of the source. */
	raw = malloc(6);
	assert_non_null(raw);
	memcpy(raw, "mutate", 6);
	s = arena_strndup(&a, raw, 6);
	raw[0] = 'M';
	assert_string_equal(s, "mutate");
	free(raw);
	arena_cleanup(&a);
}

static void
test_arena_strdup_large(void **state)
{
	struct arena	 a;
	char		*src, *s;
	size_t		 n = 10000;

	(void)state;
	arena_init(&a, 1024);
	src = malloc(n + 1);
	assert_non_null(src);
	memset(src, 'z', n);
	src[n] = '\0';
	s = arena_strdup(&a, src);
	assert_int_equal(strlen(s), n);
	assert_memory_equal(s, src, n + 1);
	free(src);
	arena_cleanup(&a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_append_growth),
		cmocka_unit_test(test_append_binary),
		cmocka_unit_test(test_puts_putc_growth),
		cmocka_unit_test(test_printf),
		cmocka_unit_test(test_printf_boundaries),
		cmocka_unit_test(test_printf_many),
		cmocka_unit_test(test_reset_keeps_capacity),
		cmocka_unit_test(test_json_str_table),
		cmocka_unit_test(test_json_str_round_trip),
		cmocka_unit_test(test_arena_alignment),
		cmocka_unit_test(test_arena_typed_use),
		cmocka_unit_test(test_arena_large),
		cmocka_unit_test(test_arena_reset_reuse),
		cmocka_unit_test(test_arena_strdup),
		cmocka_unit_test(test_arena_strdup_large),
	};

	/* cmocka reports failures on stderr: keep stdout in step with it. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	return cmocka_run_group_tests_name("buf", tests, NULL, NULL);
}
