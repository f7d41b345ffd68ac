/*
 * fuzz_query — query strings and form bodies: bytes (a NUL-terminated copy,
 * as FastCGI hands QUERY_STRING over) -> query_parse() with an arena.
 *
 * Invariants (abort() on a break):
 * - at most QUERY_MAX_PAIRS pairs; truncated only when that many were kept;
 * - every kept key and value is NUL-terminated with val_len == strlen(val)
 *   (an invalid value is kept as "", length 0);
 * - query_get(key) returns the value of the first pair with that key;
 * - query_encode() of every key and value, then query_decode(), gives back
 *   the same bytes, and only unreserved characters and %XX are emitted;
 * - when nothing was invalid, re-encoding all pairs as k=v&... and parsing
 *   again gives the same pairs;
 * - no leaks (LeakSanitizer): the arena is created and cleared per input,
 *   as h2o's driver_url.cc does with its pool.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "buf.h"
#include "mem.h"
#include "query.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	fz_fail(const char *) __attribute__((noreturn));
static void	fz_roundtrip(const char *, size_t);

static const char *const fz_keys[] = {
	"hub.mode", "hub.verify_token", "hub.challenge", "limit", "before",
	"status", "q", "", NULL
};

static void
fz_fail(const char *what)
{
	fprintf(stderr, "fuzz_query: invariant broken: %s\n", what);
	abort();
}

static void
fz_roundtrip(const char *s, size_t len)
{
	struct buf	 b;
	char		*out;
	size_t		 i, n;
	unsigned char	 c;

	buf_init(&b);
	query_encode(&b, s);
	for (i = 0; i < b.len; i++) {
		c = (unsigned char)b.data[i];
		if (c == '%') {
			if (i + 2 >= b.len || strchr("0123456789ABCDEF",
			    b.data[i + 1]) == NULL || strchr("0123456789ABCDEF",
			    b.data[i + 2]) == NULL)
				fz_fail("query_encode wrote a bad %-escape");
			i += 2;
		} else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    c == '.' || c == '~'))
			fz_fail("query_encode kept a reserved character");
	}
	out = mem_alloc(b.len + 1);
	if (query_decode(b.data, b.len, out, &n) == -1)
		fz_fail("query_decode refused query_encode's output");
	if (n != len || memcmp(out, s, len) != 0 || out[n] != '\0')
		fz_fail("query_encode/query_decode round trip differs");
	mem_free(out);
	buf_cleanup(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena	 a;
	struct query	 q, q2;
	struct buf	 b;
	char		*qs;
	const char	*v;
	size_t		 i, j, k;

	qs = mem_alloc(size + 1);
	memcpy(qs, data, size);
	qs[size] = '\0';

	arena_init(&a, 4096);
	memset(&q, 0xa5, sizeof(q));
	query_parse(&a, qs, &q);
	if (q.npairs > QUERY_MAX_PAIRS)
		fz_fail("more pairs than QUERY_MAX_PAIRS");
	if (q.truncated && q.npairs != QUERY_MAX_PAIRS)
		fz_fail("truncated with room left");
	for (i = 0; i < q.npairs; i++) {
		if (q.pairs[i].key == NULL || q.pairs[i].val == NULL)
			fz_fail("kept pair with a NULL key or value");
		if (q.pairs[i].val_len != strlen(q.pairs[i].val))
			fz_fail("val_len != strlen(val)");
		/* The first pair with this key is the one query_get finds. */
		for (j = 0; j < i; j++)
			if (strcmp(q.pairs[j].key, q.pairs[i].key) == 0)
				break;
		v = query_get(&q, q.pairs[i].key);
		if (v != q.pairs[j].val)
			fz_fail("query_get did not return the first value");
		fz_roundtrip(q.pairs[i].key, strlen(q.pairs[i].key));
		fz_roundtrip(q.pairs[i].val, q.pairs[i].val_len);
	}
	/* Keys the handlers ask for, present or not. */
	for (k = 0; fz_keys[k] != NULL; k++) {
		for (j = 0; j < q.npairs; j++)
			if (strcmp(q.pairs[j].key, fz_keys[k]) == 0)
				break;
		if (query_get(&q, fz_keys[k]) !=
		    (j < q.npairs ? q.pairs[j].val : NULL))
			fz_fail("query_get disagrees with a linear search");
	}

	if (!q.invalid) {
		buf_init(&b);
		for (i = 0; i < q.npairs; i++) {
			if (i > 0)
				buf_putc(&b, '&');
			query_encode(&b, q.pairs[i].key);
			buf_putc(&b, '=');
			query_encode(&b, q.pairs[i].val);
		}
		query_parse(&a, b.data, &q2);
		if (q2.invalid || q2.npairs != q.npairs)
			fz_fail("re-encoded query parses differently");
		for (i = 0; i < q.npairs; i++)
			if (strcmp(q.pairs[i].key, q2.pairs[i].key) != 0 ||
			    q.pairs[i].val_len != q2.pairs[i].val_len ||
			    strcmp(q.pairs[i].val, q2.pairs[i].val) != 0)
				fz_fail("re-encoded pair differs");
		buf_cleanup(&b);
	}
	arena_cleanup(&a);
	mem_free(qs);
	return 0;
}
