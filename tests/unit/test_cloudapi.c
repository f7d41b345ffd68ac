/*
 * Unit tests for app/cloudapi and the setting it is built from: the request
 * body (cloudapi_body: "recipient" for a BSUID, "to" with the digits for a
 * phone number, never both), the reading of an answer (cloudapi_result:
 * what is retried and what fails at once, with which code), and the form of
 * WADESK_CLOUDAPI_VERSION (settings_load: its default and the values it
 * refuses at start).
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

#include "cloudapi.h"
#include "settings.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

extern char	**environ;

struct body_case {
	const char	*receiver;
	const char	*field;		/* "to" or "recipient" */
	const char	*value;
};

static const struct body_case body_cases[] = {
	{ "+34600111222", "to", "34600111222" },
	{ "34600111222", "to", "34600111222" },
	{ "+15550001111", "to", "15550001111" },
	{ "US.13491208655302741918", "recipient", "US.13491208655302741918" },
	{ "US.ENT.5519", "recipient", "US.ENT.5519" },
	{ "BR.abcDEF123", "recipient", "BR.abcDEF123" },
};

static void
test_body(void **state)
{
	struct json_object	*b, *v, *text;
	struct job		 j;
	const char		*other;
	size_t			 i;

	(void)state;
	for (i = 0; i < NELEM(body_cases); i++) {
		memset(&j, 0, sizeof(j));
		j.receiver = body_cases[i].receiver;
		j.content = "Hi Ana, checking now.";
		b = cloudapi_body(&j);
		assert_non_null(b);
		assert_true(json_object_object_get_ex(b, body_cases[i].field,
		    &v));
		assert_string_equal(json_object_get_string(v),
		    body_cases[i].value);
		other = strcmp(body_cases[i].field, "to") == 0 ?
		    "recipient" : "to";
		if (json_object_object_get_ex(b, other, &v))
			fail_msg("%s: both \"to\" and \"recipient\"",
			    body_cases[i].receiver);
		assert_true(json_object_object_get_ex(b, "messaging_product",
		    &v));
		assert_string_equal(json_object_get_string(v), "whatsapp");
		assert_true(json_object_object_get_ex(b, "recipient_type",
		    &v));
		assert_string_equal(json_object_get_string(v), "individual");
		assert_true(json_object_object_get_ex(b, "type", &v));
		assert_string_equal(json_object_get_string(v), "text");
		assert_true(json_object_object_get_ex(b, "text", &text));
		assert_true(json_object_object_get_ex(text, "body", &v));
		assert_string_equal(json_object_get_string(v), j.content);
		json_object_put(b);
	}
}

struct result_case {
	long			 status;
	const char		*body;
	enum job_result		 result;
	const char		*code;
	const char		*msg;	/* NULL: not checked */
};

#define WA_ERR(c, m)	"{\"error\":{\"message\":\"" m "\",\"type\":" \
			"\"OAuthException\",\"code\":" #c ",\"fbtrace_id\":" \
			"\"Ax\"}}"

static const struct result_case result_cases[] = {
	{ 200, "{\"messaging_product\":\"whatsapp\",\"contacts\":[{\"input\":"
	    "\"US.1349\",\"user_id\":\"US.1349\"}],\"messages\":[{\"id\":"
	    "\"wamid.CCC333\"}]}", JOB_SENT, "", NULL },
	{ 400, WA_ERR(131062, "(#131062) This message cannot be sent to a "
	    "business-scoped user ID"), JOB_FAILED, "131062",
	    "(#131062) This message cannot be sent to a business-scoped "
	    "user ID" },
	{ 400, WA_ERR(131047, "(#131047) Re-engagement message"), JOB_FAILED,
	    "131047", "(#131047) Re-engagement message" },
	{ 400, WA_ERR(2635, "(#2635) You are calling a deprecated version of "
	    "the Graph API. Please update to the latest version: v27.0."),
	    JOB_FAILED, "2635", "(#2635) You are calling a deprecated "
	    "version of the Graph API. Please update to the latest version: "
	    "v27.0." },
	{ 400, WA_ERR(100, "(#100) Invalid parameter"), JOB_FAILED, "100",
	    NULL },
	{ 400, WA_ERR(131056, "(#131056) pair rate limit hit"), JOB_RETRY,
	    "131056", NULL },
	{ 400, WA_ERR(130429, "(#130429) Rate limit hit"), JOB_RETRY,
	    "130429", NULL },
	{ 429, WA_ERR(130429, "(#130429) Rate limit hit"), JOB_RETRY,
	    "130429", NULL },
	{ 500, "{}", JOB_RETRY, "http_500", NULL },
	{ 400, "not json", JOB_FAILED, "http_400", NULL },
};

static void
test_result(void **state)
{
	const struct result_case	*c;
	struct job			 j;
	size_t				 i;

	(void)state;
	for (i = 0; i < NELEM(result_cases); i++) {
		c = &result_cases[i];
		memset(&j, 0, sizeof(j));
		job_reset(&j);
		cloudapi_result(&j, c->status, -1, c->body, strlen(c->body),
		    NULL);
		if (j.result != c->result)
			fail_msg("case %zu (%ld %s): result %d, expected %d",
			    i, c->status, c->code, (int)j.result,
			    (int)c->result);
		assert_string_equal(j.err_code, c->code);
		if (c->msg != NULL)
			assert_string_equal(j.err_msg, c->msg);
		if (c->result == JOB_SENT)
			assert_string_equal(j.provider_id, "wamid.CCC333");
		else
			assert_string_equal(j.provider_id, "");
	}
}

struct version_case {
	const char	*value;		/* NULL: unset */
	int		 ok;
	const char	*loaded;
};

static const struct version_case version_cases[] = {
	{ NULL, 1, SETTINGS_CLOUDAPI_VERSION },
	{ "", 1, SETTINGS_CLOUDAPI_VERSION },
	{ "v27.0", 1, "v27.0" },
	{ "v26.0", 1, "v26.0" },
	{ "v21.0", 1, "v21.0" },	/* retired: WhatsApp says so */
	{ "v2.12", 1, "v2.12" },
	{ "v100.0", 1, "v100.0" },
	{ "27.0", 0, NULL },
	{ "V27.0", 0, NULL },
	{ "v27", 0, NULL },
	{ "v27.", 0, NULL },
	{ "v.0", 0, NULL },
	{ "v027.0", 0, NULL },
	{ "v0.1", 0, NULL },
	{ "v1000.0", 0, NULL },
	{ "v27.000", 0, NULL },
	{ "v27.0/", 0, NULL },
	{ "v27.0 ", 0, NULL },
	{ " v27.0", 0, NULL },
	{ "v27.0/x/../v21.0", 0, NULL },
	{ "v27.0?a=b", 0, NULL },
	{ "v27.-1", 0, NULL },
	{ "latest", 0, NULL },
};

/* Drops every WADESK_ variable, so the cases see only their own. */
static void
clear_wadesk_env(void)
{
	char	name[256];
	size_t	n;
	int	again = 1;

	while (again) {
		again = 0;
		for (n = 0; environ[n] != NULL; n++) {
			if (strncmp(environ[n], "WADESK_", 7) != 0)
				continue;
			snprintf(name, sizeof(name), "%.*s",
			    (int)strcspn(environ[n], "="), environ[n]);
			unsetenv(name);
			again = 1;
			break;
		}
	}
}

static void
test_version(void **state)
{
	const struct version_case	*c;
	struct settings			 s;
	struct cfg_err			 err;
	size_t				 i;
	int				 rc;

	(void)state;
	assert_string_equal(SETTINGS_CLOUDAPI_VERSION, "v27.0");
	for (i = 0; i < NELEM(version_cases); i++) {
		c = &version_cases[i];
		clear_wadesk_env();
		setenv("WADESK_PROVIDER", "cloudapi", 1);
		setenv("WADESK_CLOUDAPI_TOKEN", "t", 1);
		setenv("WADESK_PHONE_NUMBER_ID", "110000000000001", 1);
		if (c->value != NULL)
			setenv("WADESK_CLOUDAPI_VERSION", c->value, 1);
		err.msg[0] = '\0';
		rc = settings_load(&s, NEED_PROVIDER, &err);
		if (c->ok) {
			if (rc != 0)
				fail_msg("\"%s\" refused: %s", c->value,
				    err.msg);
			assert_string_equal(s.cloudapi_version, c->loaded);
		} else {
			if (rc != -1)
				fail_msg("\"%s\" accepted", c->value);
			assert_non_null(strstr(err.msg,
			    "WADESK_CLOUDAPI_VERSION"));
			assert_non_null(strstr(err.msg,
			    SETTINGS_CLOUDAPI_VERSION));
		}
	}
	clear_wadesk_env();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_body),
		cmocka_unit_test(test_result),
		cmocka_unit_test(test_version),
	};

	return cmocka_run_group_tests_name("cloudapi", tests, NULL, NULL);
}
