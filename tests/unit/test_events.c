/*
 * Unit tests for app/events: the endpoint URL check (with and without
 * WADESK_EVENTS_ALLOW_PRIVATE), the event types lists, the backoff.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "buf.h"
#include "events.h"
#include "settings.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

struct url_case {
	const char	*url;
	int		 strict;	/* 0 or -1 without the setting */
	int		 allowed;	/* 0 or -1 with it */
};

static const struct url_case url_cases[] = {
	{ "https://example.com/hook", 0, 0 },
	{ "https://example.com", 0, 0 },
	{ "HTTPS://Example.COM:8443/a?b=c#d", 0, 0 },
	{ "https://93.184.216.34/x", 0, 0 },
	{ "https://[2606:4700::1111]:443/x", 0, 0 },
	{ "https://svc.internal/x", 0, 0 },	/* names: at connect time */
	{ "http://example.com/hook", -1, 0 },
	{ "http://127.0.0.1:8080/hook", -1, 0 },
	{ "https://127.0.0.1/", -1, 0 },
	{ "https://127.1/", -1, 0 },
	{ "https://2130706433/", -1, 0 },
	{ "https://0x7f000001/", -1, 0 },
	{ "https://10.0.0.1/", -1, 0 },
	{ "https://169.254.169.254/latest", -1, 0 },
	{ "https://100.64.1.1/", -1, 0 },
	{ "https://localhost/", -1, 0 },
	{ "https://LOCALHOST:9/", -1, 0 },
	{ "https://a.b.localhost/", -1, 0 },
	{ "https://[::1]/", -1, 0 },
	{ "https://[::ffff:127.0.0.1]/", -1, 0 },
	{ "https://[fd00::5]:8443/", -1, 0 },
	{ "", -1, -1 },
	{ "ftp://example.com/", -1, -1 },
	{ "example.com/hook", -1, -1 },
	{ "https://", -1, -1 },
	{ "https:///path", -1, -1 },
	{ "https://:443/", -1, -1 },
	{ "https://user@example.com/", -1, -1 },
	{ "https://u:p@example.com/", -1, -1 },
	{ "https://example.com:/", -1, -1 },
	{ "https://example.com:0/", -1, -1 },
	{ "https://example.com:65536/", -1, -1 },
	{ "https://example.com:12a/", -1, -1 },
	{ "https://exa mple.com/", -1, -1 },
	{ "https://example.com/\x01", -1, -1 },
	{ "https://example.com/\xc3\xa9", -1, -1 },
	{ "https://[::1/", -1, -1 },
	{ "https://[nope]/", -1, -1 },
	{ "https://[]/", -1, -1 },
};

static void
test_url_table(void **state)
{
	const char	*msg;
	size_t		 i;
	int		 got;

	(void)state;
	for (i = 0; i < NELEM(url_cases); i++) {
		msg = NULL;
		got = events_url_check(url_cases[i].url, 0, &msg);
		if (got != url_cases[i].strict)
			fail_msg("%s strict: %d, want %d", url_cases[i].url,
			    got, url_cases[i].strict);
		if (got == -1 && msg == NULL)
			fail_msg("%s: no message", url_cases[i].url);
		got = events_url_check(url_cases[i].url, 1, &msg);
		if (got != url_cases[i].allowed)
			fail_msg("%s allowed: %d, want %d", url_cases[i].url,
			    got, url_cases[i].allowed);
	}
}

static void
test_url_length(void **state)
{
	char		 url[EVENTS_URL_MAX + 2];
	const char	*msg;
	size_t		 n = strlen("https://e.x/");

	(void)state;
	memcpy(url, "https://e.x/", n);
	memset(url + n, 'a', EVENTS_URL_MAX - n);
	url[EVENTS_URL_MAX] = '\0';
	assert_int_equal(events_url_check(url, 0, &msg), 0);
	url[EVENTS_URL_MAX] = 'a';
	url[EVENTS_URL_MAX + 1] = '\0';
	assert_int_equal(events_url_check(url, 0, &msg), -1);
}

static void
test_types(void **state)
{
	struct buf	 b;
	const char	*msg;

	(void)state;
	buf_init(&b);
	assert_int_equal(events_types_csv(NULL, &b, &msg), 0);
	assert_string_equal(b.data, "{\"message.received\",\"message.created\","
	    "\"message.updated\",\"contact.updated\"}");
	buf_reset(&b);
	/* Enum order, each once. */
	assert_int_equal(events_types_csv("contact.updated,message.received,"
	    "contact.updated", &b, &msg), 0);
	assert_string_equal(b.data,
	    "{\"message.received\",\"contact.updated\"}");
	buf_reset(&b);
	assert_int_equal(events_types_csv("message.deleted", &b, &msg), -1);
	assert_int_equal(events_types_csv("message.received,", &b, &msg), -1);
	assert_int_equal(events_types_csv(",", &b, &msg), -1);
	assert_int_equal(events_types_csv("message.received ", &b, &msg), -1);
	buf_cleanup(&b);
}

static void
test_types_json(void **state)
{
	struct json_object	*a;
	struct buf		 b;
	const char		*msg;

	(void)state;
	buf_init(&b);
	a = json_tokener_parse("[\"message.updated\"]");
	assert_int_equal(events_types_json(a, &b, &msg), 0);
	assert_string_equal(b.data, "{\"message.updated\"}");
	json_object_put(a);
	a = json_tokener_parse("[]");
	assert_int_equal(events_types_json(a, &b, &msg), -1);
	json_object_put(a);
	a = json_tokener_parse("[\"message.updated\", 1]");
	assert_int_equal(events_types_json(a, &b, &msg), -1);
	json_object_put(a);
	a = json_tokener_parse("\"message.updated\"");
	assert_int_equal(events_types_json(a, &b, &msg), -1);
	json_object_put(a);
	a = json_tokener_parse("[\"message.updated\\u0000x\"]");
	assert_int_equal(events_types_json(a, &b, &msg), -1);
	json_object_put(a);
	buf_reset(&b);
	assert_int_equal(events_types_json(NULL, &b, &msg), 0);
	assert_non_null(strstr(b.data, "contact.updated"));
	buf_cleanup(&b);
}

/* 5 s, 5 min, 30 min, 2 h, 5 h, then 10 h; up to a tenth later. */
static void
test_backoff(void **state)
{
	static const long want[] = { 5000, 300000, 1800000, 7200000,
		18000000, 36000000, 36000000, 36000000 };
	struct settings	s;
	long		d;
	size_t		i;

	(void)state;
	memset(&s, 0, sizeof(s));
	s.events_retry_base_ms = 5000;
	for (i = 0; i < NELEM(want); i++) {
		d = events_backoff_ms(&s, (long)i + 1);
		assert_true(d >= want[i] && d <= want[i] + want[i] / 10);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_table),
		cmocka_unit_test(test_url_length),
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_types_json),
		cmocka_unit_test(test_backoff),
	};

	return cmocka_run_group_tests_name("events", tests, NULL, NULL);
}
