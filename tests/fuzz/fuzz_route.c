/*
 * fuzz_route — the path matcher: bytes (a NUL-terminated copy, as the
 * DOCUMENT_URI parameter arrives) -> routes_match() against every pattern
 * of the routes[] table, with a per-input arena.
 *
 * Invariants (abort() on a break):
 * - routes_match() returns 0 or 1 and writes no more captures than the
 *   pattern has "{id}"s;
 * - each "{id}" capture is 1-18 ASCII digits without a leading zero;
 * - on a match, the pattern with its captures put back equals the path
 *   with at most one trailing '/' removed (nothing else is accepted);
 * - no leaks (LeakSanitizer).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "buf.h"
#include "mem.h"
#include "routes.h"

#define FZ_ID_MAX	18

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	fz_fail(const char *) __attribute__((noreturn));
static void	fz_match(struct arena *, const char *, const char *);

static void
fz_fail(const char *what)
{
	fprintf(stderr, "fuzz_route: invariant broken: %s\n", what);
	abort();
}

static void
fz_match(struct arena *a, const char *pattern, const char *path)
{
	const char	*args[APP_MAX_ARGS + 1];
	const char	*p;
	struct buf	 b;
	size_t		 i, k, n, nids, plen;
	int		 rc;

	for (i = 0; i < APP_MAX_ARGS + 1; i++)
		args[i] = NULL;
	rc = routes_match(pattern, path, a, args);
	if (rc != 0 && rc != 1)
		fz_fail("routes_match returned neither 0 nor 1");
	if (args[APP_MAX_ARGS] != NULL)
		fz_fail("routes_match wrote past APP_MAX_ARGS");
	if (rc == 0)
		return;

	nids = 0;
	buf_init(&b);
	for (p = pattern; *p != '\0'; ) {
		if (strncmp(p, "{id}", 4) != 0) {
			buf_putc(&b, *p++);
			continue;
		}
		if (nids == APP_MAX_ARGS || args[nids] == NULL)
			fz_fail("match without a capture for an {id}");
		n = strlen(args[nids]);
		if (n < 1 || n > FZ_ID_MAX || args[nids][0] == '0')
			fz_fail("{id} capture has a bad length or leading 0");
		for (k = 0; k < n; k++)
			if (args[nids][k] < '0' || args[nids][k] > '9')
				fz_fail("{id} capture has a non-digit");
		buf_puts(&b, args[nids]);
		nids++;
		p += 4;
	}
	if (nids < APP_MAX_ARGS && args[nids] != NULL)
		fz_fail("more captures than {id}s");
	plen = strlen(path);
	if (!(plen == b.len && memcmp(path, b.data, plen) == 0) &&
	    !(plen == b.len + 1 && memcmp(path, b.data, b.len) == 0 &&
	    path[b.len] == '/'))
		fz_fail("matched path is not the pattern (+ one '/')");
	buf_cleanup(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena	 a;
	char		*path;
	size_t		 i;

	path = mem_alloc(size + 1);
	memcpy(path, data, size);
	path[size] = '\0';
	arena_init(&a, 1024);
	for (i = 0; i < ROUTE__MAX; i++) {
		if (routes[i].pattern == NULL || routes[i].method == NULL ||
		    routes[i].handler == NULL)
			fz_fail("hole in the routes[] table");
		fz_match(&a, routes[i].pattern, path);
	}
	arena_cleanup(&a);
	mem_free(path);
	return 0;
}
