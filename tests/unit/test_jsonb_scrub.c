/*
 * Unit tests for jsonb_scrub (lib/jsonb): trees made storable as
 * PostgreSQL jsonb (no \u0000, valid UTF-8), everything else untouched.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "jsonb.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

struct scrub_case {
	const char	*in;		/* a JSON object as WhatsApp sends it */
	const char	*want;		/* serialised (plain) afterwards */
};

static const struct scrub_case scrub_cases[] = {
	{ "{\"a\":\"x\\u0000y\"}", "{\"a\":\"xy\"}" },
	{ "{\"a\":\"\\u0000\"}", "{\"a\":\"\"}" },
	{ "{\"errors\":[{\"code\":131026,\"title\":\"t\\u0000\","
	    "\"error_data\":{\"details\":\"\\u0000d\\u0000\"}}]}",
	    "{\"errors\":[{\"code\":131026,\"title\":\"t\","
	    "\"error_data\":{\"details\":\"d\"}}]}" },
	{ "{\"a\":[[\"\\u0000\",1,null,true],{\"b\":\"\\u20ac\\u0000\"}]}",
	    "{\"a\":[[\"\",1,null,true],{\"b\":\"\xe2\x82\xac\"}]}" },
	/* Nothing to do: unchanged. */
	{ "{\"a\":\"\\u20ac \\ud83d\\ude00\",\"n\":1.5}",
	    "{\"a\":\"\xe2\x82\xac \xf0\x9f\x98\x80\",\"n\":1.5}" },
	{ "{}", "{}" },
};

static void
test_scrub(void **state)
{
	struct json_object	*root;
	const char		*got;
	size_t			 i;

	(void)state;
	for (i = 0; i < NELEM(scrub_cases); i++) {
		if (jsonb_parse(scrub_cases[i].in, strlen(scrub_cases[i].in),
		    &root) != JSONB_OK)
			fail_msg("case %zu: does not parse", i);
		jsonb_scrub(root);
		got = json_object_to_json_string_ext(root,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
		if (strcmp(got, scrub_cases[i].want) != 0)
			fail_msg("case %zu: got %s, want %s", i, got,
			    scrub_cases[i].want);
		json_object_put(root);
	}
}

/* A string built in the program with bad bytes: U+FFFD for each. */
static void
test_scrub_invalid_utf8(void **state)
{
	struct json_object	*o;

	(void)state;
	o = json_object_new_object();
	json_object_object_add(o, "m",
	    json_object_new_string_len("a\xe2\x82" "b\0c", 6));
	jsonb_scrub(o);
	assert_string_equal(json_object_get_string(json_object_object_get(o,
	    "m")), "a\xef\xbf\xbd\xef\xbf\xbd" "bc");
	assert_int_equal(json_object_get_string_len(json_object_object_get(o,
	    "m")), 9);
	json_object_put(o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scrub),
		cmocka_unit_test(test_scrub_invalid_utf8),
	};

	return cmocka_run_group_tests_name("jsonb_scrub", tests, NULL, NULL);
}
