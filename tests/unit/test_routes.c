/*
 * Unit tests for app/routes: the path matcher.
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
#include "routes.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

struct match_case {
	const char	*pattern;
	const char	*path;
	int		 match;
	const char	*arg0;		/* the first capture, when matched */
};

static const struct match_case match_cases[] = {
	{ "/api/messages", "/api/messages", 1, NULL },
	{ "/api/messages", "/api/messages/", 1, NULL },
	{ "/api/messages", "/api/messages//", 0, NULL },
	{ "/api/messages", "/api/message", 0, NULL },
	{ "/api/messages", "/api/messagesx", 0, NULL },
	{ "/api/messages", "/api/messages/1", 0, NULL },
	{ "/api/messages/{id}", "/api/messages/42", 1, "42" },
	{ "/api/messages/{id}", "/api/messages/42/", 1, "42" },
	{ "/api/messages/{id}", "/api/messages/0", 0, NULL },
	{ "/api/messages/{id}", "/api/messages/042", 0, NULL },
	{ "/api/messages/{id}", "/api/messages/-1", 0, NULL },
	{ "/api/messages/{id}", "/api/messages/1x", 0, NULL },
	{ "/api/messages/{id}", "/api/messages/", 0, NULL },
	{ "/api/messages/{id}", "/api/messages/999999999999999999", 1,
	    "999999999999999999" },
	{ "/api/messages/{id}", "/api/messages/1000000000000000000", 0, NULL },
	{ "/admin/messages/{id}/retry", "/admin/messages/7/retry", 1, "7" },
	{ "/admin/messages/{id}/retry", "/admin/messages/7/retry/", 1, "7" },
	{ "/admin/messages/{id}/retry", "/admin/messages/7", 0, NULL },
	{ "/admin", "/admin", 1, NULL },
	{ "/admin", "/admin/", 1, NULL },
	{ "/admin", "/administrator", 0, NULL },
};

static void
test_match(void **state)
{
	struct arena	 ar;
	const char	*args[APP_MAX_ARGS];
	size_t		 i;
	int		 got;

	(void)state;
	arena_init(&ar, 4096);
	for (i = 0; i < NELEM(match_cases); i++) {
		memset(args, 0, sizeof(args));
		got = routes_match(match_cases[i].pattern, match_cases[i].path,
		    &ar, args);
		if (got != match_cases[i].match)
			fail_msg("case %zu: %s against %s: %d, want %d", i,
			    match_cases[i].path, match_cases[i].pattern, got,
			    match_cases[i].match);
		if (got && match_cases[i].arg0 != NULL)
			assert_string_equal(args[0], match_cases[i].arg0);
	}
	arena_cleanup(&ar);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match),
	};

	return cmocka_run_group_tests_name("routes", tests, NULL, NULL);
}
