/*
 * Unit tests for app/ functions: the route table's policy and path matcher,
 * the post-login redirect guard, the validation of outbound messages and of
 * a contact's change.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "admin.h"
#include "arena.h"
#include "model_contact.h"
#include "model_message.h"
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
	{ "/admin/conversations/{id}/state", "/admin/conversations/9/state",
	    1, "9" },
	{ "/admin/conversations/{id}", "/admin/conversations/9/state", 0,
	    NULL },
	{ "/admin/conversations/{id}/assign",
	    "/admin/conversations/9/state", 0, NULL },
	{ "/admin/conversations/{id}", "/admin/conversations/34600012345", 1,
	    "34600012345" },
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

/* 1 when route i is one of the listed (ROUTE__MAX ends the list). */
static int
route_in(size_t i, const int *list)
{
	for (; *list != ROUTE__MAX; list++)
		if ((size_t)*list == i)
			return 1;
	return 0;
}

/*
 * The policy the table must keep, whatever rows are added: every admin
 * page needs a session (the login form aside), every state-changing admin
 * route a session, a form and its CSRF token (the login its own token),
 * every /api/ route an API key (the webhook, which is signed, and the
 * public documents aside), and the send route alone checks its key inside
 * its statement.
 */
static void
test_policy(void **state)
{
	static const int	 api_public[] = {
		ROUTE_OPENAPI, ROUTE_WEBHOOK_VERIFY, ROUTE__MAX
	};
	const struct route_def	*r;
	size_t			 i, j;
	unsigned		 f;
	int			 admin, api, changes;

	(void)state;
	for (i = 0; i < ROUTE__MAX; i++) {
		r = &routes[i];
		if (r->method == NULL || r->pattern == NULL ||
		    r->handler == NULL)
			fail_msg("route %zu has no row", i);
		f = r->flags;
		admin = strncmp(r->pattern, "/admin", 6) == 0;
		api = strncmp(r->pattern, "/api/", 5) == 0;
		changes = strcmp(r->method, "GET") != 0;
		if (admin && changes && i != ROUTE_ADMIN_LOGIN &&
		    (f & ROUTES_FORM) != ROUTES_FORM)
			fail_msg("%s %s changes state without session, form "
			    "and CSRF", r->method, r->pattern);
		if (i == ROUTE_ADMIN_LOGIN &&
		    (f & (ROUTE_FORM | ROUTE_LOGIN_CSRF)) !=
		    (ROUTE_FORM | ROUTE_LOGIN_CSRF))
			fail_msg("the login form is not checked");
		if (admin && !changes && i != ROUTE_ADMIN_LOGIN_FORM &&
		    !(f & ROUTE_SESSION))
			fail_msg("%s %s is open without a session", r->method,
			    r->pattern);
		if (admin && (f & (ROUTE_APIKEY | ROUTE_KEY_HASH |
		    ROUTE_JSON | ROUTE_SIGNED)))
			fail_msg("%s %s: an API flag on an admin page",
			    r->method, r->pattern);
		if (api && route_in(i, api_public) && f != 0)
			fail_msg("%s %s should be public", r->method,
			    r->pattern);
		if (api && i == ROUTE_WEBHOOK &&
		    (f & (ROUTE_SIGNED | ROUTE_JSON)) !=
		    (ROUTE_SIGNED | ROUTE_JSON))
			fail_msg("the webhook is not signed");
		if (api && !route_in(i, api_public) && i != ROUTE_WEBHOOK &&
		    !(f & (ROUTE_APIKEY | ROUTE_KEY_HASH)))
			fail_msg("%s %s is open without an API key", r->method,
			    r->pattern);
		if (api && (f & (ROUTE_SESSION | ROUTE_SESSION_OPT |
		    ROUTE_FORM | ROUTE_CSRF | ROUTE_LOGIN_CSRF |
		    ROUTE_MULTIPART)))
			fail_msg("%s %s: an admin flag on an API route",
			    r->method, r->pattern);
		if (api && changes && !(f & (ROUTE_JSON | ROUTE_KEY_HASH |
		    ROUTE_RAW)))
			fail_msg("%s %s takes no JSON body", r->method,
			    r->pattern);
		/* A raw body (an upload) only behind an API key. */
		if ((f & ROUTE_RAW) && (!api || !(f & ROUTE_APIKEY) ||
		    (f & (ROUTE_JSON | ROUTE_FORM))))
			fail_msg("%s %s: a raw body without an API key, or "
			    "with another body kind", r->method, r->pattern);
		/* Multipart forms are forms: session, form and CSRF. */
		if ((f & ROUTE_MULTIPART) && (!admin ||
		    (f & ROUTES_FORM) != ROUTES_FORM))
			fail_msg("%s %s: multipart without session, form and "
			    "CSRF", r->method, r->pattern);
		if ((f & ROUTE_KEY_HASH) && i != ROUTE_SEND_MESSAGE)
			fail_msg("%s %s: only the send route may check its "
			    "key in its statement", r->method, r->pattern);
		if ((f & ROUTE_KEY_HASH) && (f & ROUTE_APIKEY))
			fail_msg("%s %s: two key checks", r->method,
			    r->pattern);
		if ((f & ROUTE_CSRF) && (f & ROUTES_FORM) != ROUTES_FORM)
			fail_msg("%s %s: CSRF without session and form",
			    r->method, r->pattern);
		if ((f & ROUTE_LOGIN_CSRF) && !(f & ROUTE_FORM))
			fail_msg("%s %s: login CSRF without a form",
			    r->method, r->pattern);
		if ((f & ROUTE_JSON) && (f & ROUTE_FORM))
			fail_msg("%s %s: two body kinds", r->method,
			    r->pattern);
		if ((f & ROUTE_SESSION) && (f & ROUTE_SESSION_OPT))
			fail_msg("%s %s: two session kinds", r->method,
			    r->pattern);
		if ((f & (ROUTE_APIKEY | ROUTE_SESSION | ROUTE_FORM |
		    ROUTE_JSON | ROUTE_SIGNED | ROUTE_KEY_HASH)) &&
		    !(f & ROUTE_DB))
			fail_msg("%s %s needs the database but does not say "
			    "so", r->method, r->pattern);
		for (j = 0; j < i; j++)
			if (strcmp(routes[j].method, r->method) == 0 &&
			    strcmp(routes[j].pattern, r->pattern) == 0)
				fail_msg("%s %s twice", r->method, r->pattern);
	}
}

struct next_case {
	const char	*next;
	int		 ok;
};

static const struct next_case next_cases[] = {
	{ "/admin/", 1 },
	{ "/admin/messages/", 1 },
	{ "/admin/messages/?q=http://evil.example/", 1 },
	{ "/admin/messages/?q=a//b", 1 },
	{ "/admin/conversations/15550001111#end", 1 },
	{ "/admin/conversations/?filter=mine", 1 },
	{ "", 0 },
	{ "/", 0 },
	{ "/admin", 0 },
	{ "//evil.example/admin/", 0 },
	{ "https://evil.example/admin/", 0 },
	{ "/admin//evil.example", 0 },
	{ "/admin/\\evil.example", 0 },
	{ "/admin/../api/messages", 0 },
	{ "/admin/./x", 0 },
	{ "/admin/x/..", 0 },
	{ "/admin/%2e%2e/api", 0 },
	{ "/admin/%2E%2E/api", 0 },
	{ "/admin/%2fevil", 0 },
	{ "/admin/%5cevil", 0 },
	{ "/admin/x\r\nSet-Cookie: a=b", 0 },
	{ "/admin/x\ty", 0 },
	{ "/admin/\x7f", 0 },
	{ "/adminx/", 0 },
	{ "/api/messages/", 0 },
};

static void
test_next(void **state)
{
	char	long_next[1100];
	size_t	i;

	(void)state;
	for (i = 0; i < NELEM(next_cases); i++)
		if (admin_next_ok(next_cases[i].next) != next_cases[i].ok)
			fail_msg("next=%s: want %d", next_cases[i].next,
			    next_cases[i].ok);
	memset(long_next, 'a', sizeof(long_next) - 1);
	long_next[sizeof(long_next) - 1] = '\0';
	memcpy(long_next, "/admin/", 7);
	assert_int_equal(admin_next_ok(long_next), 0);
}

#define F_S	(1 << MSG_F_SENDER)
#define F_R	(1 << MSG_F_RECEIVER)
#define F_C	(1 << MSG_F_CONTENT)
#define F_K	(1 << MSG_F_CONTACT_ID)

struct validate_case {
	const char	*sender;	/* NULL: absent */
	const char	*receiver;
	const char	*content;
	size_t		 content_len;	/* 0: strlen */
	const char	*business;	/* the default sender */
	unsigned	 wrong;		/* F_* of the fields refused */
	const char	*want_sender;	/* when valid */
	const char	*want_receiver;
	const char	*contact_id;	/* NULL: absent */
};

static const struct validate_case validate_cases[] = {
	{ "+15550001111", "+15550002222", "hi", 0, "", 0, "+15550001111",
	    "+15550002222", NULL },
	{ "15550001111", "447700900123", "hi", 0, "", 0, "+15550001111",
	    "+447700900123", NULL },
	{ NULL, "+15550002222", "hi", 0, "+15550009999", 0, "+15550009999",
	    "+15550002222", NULL },
	{ NULL, "+15550002222", "hi", 0, "", F_S, NULL, NULL, NULL },
	{ "abc", "+15550002222", "hi", 0, "", F_S, NULL, NULL, NULL },
	{ "+0555000111", "+15550002222", "hi", 0, "", F_S, NULL, NULL, NULL },
	{ "+123456", "+15550002222", "hi", 0, "", F_S, NULL, NULL, NULL },
	{ "+1234567890123456", "+15550002222", "hi", 0, "", F_S, NULL, NULL,
	    NULL },
	{ "+15550001111", NULL, "hi", 0, "", F_R, NULL, NULL, NULL },
	{ "+15550001111", "+1 555 000", "hi", 0, "", F_R, NULL, NULL, NULL },
	{ "+15550001111", "+15550002222", NULL, 0, "", F_C, NULL, NULL, NULL },
	{ "+15550001111", "+15550002222", "", 0, "", F_C, NULL, NULL, NULL },
	{ "+15550001111", "+15550002222", "a\0b", 3, "", F_C, NULL, NULL,
	    NULL },
	{ "+15550001111", "+15550002222", "\xc3\x28", 0, "", F_C, NULL,
	    NULL, NULL },
	{ "x", NULL, "", 0, "", F_S | F_R | F_C, NULL, NULL, NULL },
	{ NULL, "y", NULL, 0, "", F_S | F_R | F_C, NULL, NULL, NULL },
	/* A BSUID receiver; a contact_id instead of a receiver. */
	{ "+15550001111", "US.13491208655302741918", "hi", 0, "", 0,
	    "+15550001111", "US.13491208655302741918", NULL },
	{ "+15550001111", "us.1349", "hi", 0, "", F_R, NULL, NULL, NULL },
	{ "+15550001111", NULL, "hi", 0, "", 0, "+15550001111", "", "42" },
	{ "+15550001111", NULL, "hi", 0, "", F_K, NULL, NULL, "0" },
	{ "+15550001111", NULL, "hi", 0, "", F_K, NULL, NULL, "x1" },
	{ "+15550001111", "+15550002222", "hi", 0, "", F_K, NULL, NULL,
	    "42" },
};

static void
test_validate(void **state)
{
	const struct validate_case	*c;
	struct message_raw		 raw;
	struct message_input		 in;
	struct message_err		 err;
	const char			*errs[MSG_F__MAX];
	unsigned			 wrong;
	size_t				 i;
	int				 f, n, nwrong;

	(void)state;
	for (i = 0; i < NELEM(validate_cases); i++) {
		c = &validate_cases[i];
		memset(&raw, 0, sizeof(raw));
		raw.v[MSG_F_SENDER] = c->sender;
		raw.v[MSG_F_RECEIVER] = c->receiver;
		raw.v[MSG_F_CONTENT] = c->content;
		for (f = 0; f < MSG_F__MAX; f++)
			raw.len[f] = raw.v[f] == NULL ? 0 : strlen(raw.v[f]);
		raw.v[MSG_F_CONTACT_ID] = c->contact_id;
		raw.len[MSG_F_CONTACT_ID] = c->contact_id == NULL ? 0 :
		    strlen(c->contact_id);
		if (c->content_len > 0)
			raw.len[MSG_F_CONTENT] = c->content_len;
		n = model_message_validate(&raw, c->business, &in, errs);
		wrong = 0;
		nwrong = 0;
		for (f = 0; f < MSG_F__MAX; f++)
			if (errs[f] != NULL) {
				wrong |= 1u << f;
				nwrong++;
			}
		if (wrong != c->wrong || n != nwrong)
			fail_msg("case %zu: fields %#x wrong (%d), want %#x",
			    i, wrong, n, c->wrong);
		if (c->wrong == 0) {
			assert_string_equal(in.sender, c->want_sender);
			assert_string_equal(in.receiver, c->want_receiver);
			assert_ptr_equal(in.content, c->content);
			assert_int_equal(model_message_check(&raw, c->business,
			    &in, &err), 0);
		} else {
			/* One error for the API: the first wrong field. */
			assert_int_equal(model_message_check(&raw, c->business,
			    &in, &err), -1);
			for (f = 0; !(c->wrong & (1u << f)); f++)
				continue;
			assert_string_equal(err.field, message_fields[f]);
			assert_string_equal(err.message, errs[f]);
		}
	}
}

static void
test_content_length(void **state)
{
	struct message_err	 err;
	char			*s;
	size_t			 i;

	(void)state;
	/* 4096 code points of three bytes each pass, one more does not. */
	s = malloc(3 * (MESSAGE_MAX_CHARS + 1) + 1);
	assert_non_null(s);
	for (i = 0; i <= MESSAGE_MAX_CHARS; i++)
		memcpy(s + 3 * i, "\xe2\x82\xac", 3);
	assert_int_equal(model_message_check_content(s,
	    3 * MESSAGE_MAX_CHARS, &err), 0);
	assert_int_equal(model_message_check_content(s,
	    3 * (MESSAGE_MAX_CHARS + 1), &err), -1);
	assert_string_equal(err.field, "content");
	free(s);
}

struct search_case {
	const char	*q;
	int		 ok;
};

static const struct search_case search_cases[] = {
	{ "", 0 },
	{ "a", 0 },
	{ "ab", 0 },
	{ "abc", 1 },
	{ "\xe2\x82\xac\xe2\x82\xac", 0 },	/* two code points */
	{ "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac", 1 },
	{ "ab\tc", 0 },
	{ "abc\x1f", 0 },
	{ "ab\x7f", 0 },
	{ "\xc3\x28" "ab", 0 },
	{ "order 42", 1 },
};

static void
test_search(void **state)
{
	char	longq[MESSAGE_SEARCH_MAX + 2];
	size_t	i;

	(void)state;
	for (i = 0; i < NELEM(search_cases); i++)
		if (model_message_search_valid(search_cases[i].q) !=
		    search_cases[i].ok)
			fail_msg("q=%s: want %d", search_cases[i].q,
			    search_cases[i].ok);
	memset(longq, 'a', sizeof(longq) - 1);
	longq[sizeof(longq) - 1] = '\0';
	assert_int_equal(model_message_search_valid(longq), 0);
	longq[MESSAGE_SEARCH_MAX] = '\0';
	assert_int_equal(model_message_search_valid(longq), 1);
}

struct change_case {
	const char	*body;
	int		 rc;
	const char	*field;		/* when refused */
	int		 set_state;
	const char	*state;
	int		 set_assignee;
	const char	*assignee;	/* NULL: unassign (with set_assignee) */
};

static const struct change_case change_cases[] = {
	{ "{}", 0, NULL, 0, NULL, 0, NULL },
	{ "{\"other\": 1, \"name\": \"x\"}", 0, NULL, 0, NULL, 0, NULL },
	{ "{\"state\": \"open\"}", 0, NULL, 1, "open", 0, NULL },
	{ "{\"state\": \"resolved\", \"assignee\": \"ana\"}", 0, NULL,
	    1, "resolved", 1, "ana" },
	{ "{\"assignee\": null}", 0, NULL, 0, NULL, 1, NULL },
	{ "{\"state\": \"closed\"}", -1, "state", 0, NULL, 0, NULL },
	{ "{\"state\": \"OPEN\"}", -1, "state", 0, NULL, 0, NULL },
	{ "{\"state\": \"\"}", -1, "state", 0, NULL, 0, NULL },
	{ "{\"state\": null}", -1, "state", 0, NULL, 0, NULL },
	{ "{\"state\": 1}", -1, "state", 0, NULL, 0, NULL },
	{ "{\"state\": \"open\\u0000\"}", -1, "state", 0, NULL, 0, NULL },
	{ "{\"assignee\": 5}", -1, "assignee", 0, NULL, 0, NULL },
	{ "{\"assignee\": false}", -1, "assignee", 0, NULL, 0, NULL },
	{ "{\"assignee\": []}", -1, "assignee", 0, NULL, 0, NULL },
	{ "{\"assignee\": \"\"}", -1, "assignee", 0, NULL, 0, NULL },
	{ "{\"assignee\": \"a\\u0000b\"}", -1, "assignee", 0, NULL, 0,
	    NULL },
	{ "{\"assignee\": \"a\\u0001b\"}", -1, "assignee", 0, NULL, 0,
	    NULL },
};

static void
test_contact_change(void **state)
{
	const struct change_case	*k;
	struct contact_change		 ch;
	struct json_object		*root;
	const char			*field = NULL, *msg = NULL;
	size_t				 i;
	int				 rc;

	(void)state;
	for (i = 0; i < NELEM(change_cases); i++) {
		k = &change_cases[i];
		if ((root = json_tokener_parse(k->body)) == NULL)
			fail_msg("case %zu: bad JSON %s", i, k->body);
		rc = model_contact_change_parse(root, &ch, &field, &msg);
		if (rc != k->rc)
			fail_msg("%s: %d, want %d", k->body, rc, k->rc);
		if (rc == -1) {
			assert_string_equal(field, k->field);
			assert_non_null(msg);
		} else {
			assert_int_equal(ch.set_state, k->set_state);
			assert_int_equal(ch.set_assignee, k->set_assignee);
			if (k->state != NULL)
				assert_string_equal(ch.state, k->state);
			if (k->assignee != NULL)
				assert_string_equal(ch.assignee, k->assignee);
			else
				assert_null(ch.assignee);
		}
		json_object_put(root);
	}
	assert_int_equal(model_contact_state_valid("resolved"), 1);
	assert_int_equal(model_contact_window_valid("closed"), 1);
	assert_int_equal(model_contact_window_valid("resolved"), 0);
	assert_int_equal(model_contact_assignee_valid("ana"), 1);
	assert_int_equal(model_contact_assignee_valid("\xc3\xa9"), 1);
	assert_int_equal(model_contact_assignee_valid(""), 0);
	assert_int_equal(model_contact_assignee_valid("\xc0\x80"), 0);
	assert_int_equal(model_contact_assignee_valid("a\tb"), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_policy),
		cmocka_unit_test(test_next),
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_content_length),
		cmocka_unit_test(test_search),
		cmocka_unit_test(test_contact_change),
	};

	return cmocka_run_group_tests_name("routes", tests, NULL, NULL);
}
