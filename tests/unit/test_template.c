/*
 * Unit tests for app/model_template: the placeholders of a template body
 * (in order of first appearance, each once, malformed ones left as text)
 * and the rendering of a send's parameters into it (positional by number,
 * named by name, every wrong count or type refused).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "buf.h"
#include "model_template.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

struct ph_case {
	const char	*body;
	const char	*names;		/* the JSON array expected */
};

static const struct ph_case ph_cases[] = {
	{ "Hi {{1}}, your order {{2}} is {{3}}.", "[\"1\",\"2\",\"3\"]" },
	{ "{{2}} then {{1}} then {{2}}", "[\"2\",\"1\"]" },
	{ "Hello {{first_name}}, {{from}}-{{to}}",
	    "[\"first_name\",\"from\",\"to\"]" },
	{ "no placeholders", "[]" },
	{ "{{}} {{ 1}} {{1 }} {{1} {1}} {{a-b}}", "[]" },
	{ "{{{1}}}", "[\"1\"]" },
	{ "", "[]" },
};

static void
test_placeholders(void **state)
{
	struct json_object	*arr;
	size_t			 i;

	(void)state;
	for (i = 0; i < NELEM(ph_cases); i++) {
		arr = json_object_new_array();
		assert_int_equal(model_template_placeholders(ph_cases[i].body,
		    arr), 0);
		assert_string_equal(json_object_to_json_string_ext(arr,
		    JSON_C_TO_STRING_PLAIN), ph_cases[i].names);
		json_object_put(arr);
	}
}

static void
test_too_many_placeholders(void **state)
{
	struct json_object	*arr;
	struct buf		 b;
	int			 i;

	(void)state;
	buf_init(&b);
	for (i = 1; i <= TEMPLATE_PARAMS_MAX + 1; i++)
		buf_printf(&b, "{{%d}} ", i);
	buf_putc(&b, '\0');
	arr = json_object_new_array();
	assert_int_equal(model_template_placeholders(b.data, arr), -1);
	json_object_put(arr);
	buf_cleanup(&b);
}

struct render_case {
	const char	*body;
	const char	*params;	/* JSON, or NULL: none given */
	const char	*want;		/* NULL: refused */
};

static const struct render_case render_cases[] = {
	{ "Hi {{1}}, your order {{2}} is {{3}}.", "[\"Ana\",\"A-1\",\"ready\"]",
	    "Hi Ana, your order A-1 is ready." },
	/* {{1}} is the first value wherever it stands. */
	{ "{{2}} after {{1}}", "[\"one\",\"two\"]", "two after one" },
	{ "{{1}} and {{1}}", "[\"x\"]", "x and x" },
	{ "Hello {{name}} at {{t}}", "{\"t\":\"9:00\",\"name\":\"Kai\"}",
	    "Hello Kai at 9:00" },
	{ "fixed", NULL, "fixed" },
	{ "fixed", "[]", "fixed" },
	{ "left {{ 1}} alone {{1}}", "[\"v\"]", "left {{ 1}} alone v" },
	/* A value is put in as it is, never read as a placeholder. */
	{ "{{1}}{{2}}", "[\"{{2}}\",\"b\"]", "{{2}}b" },
	{ "Hi {{1}}", NULL, NULL },
	{ "Hi {{1}}", "[]", NULL },
	{ "Hi {{1}}", "[\"a\",\"b\"]", NULL },
	{ "Hi {{1}}", "[1]", NULL },
	{ "Hi {{1}}", "[\"\"]", NULL },
	{ "Hi {{1}}", "[null]", NULL },
	{ "Hi {{name}}", "{\"other\":\"x\"}", NULL },
	/* A list for named placeholders: the names are not numbers. */
	{ "Hi {{name}}", "[\"x\"]", NULL },
	{ "Hi {{name}}", "{\"name\":\"x\",\"extra\":\"y\"}", NULL },
	{ "Hi {{1}}", "\"Ana\"", NULL },
	{ "{{2}} only", "[\"a\"]", NULL },
};

static void
test_render(void **state)
{
	struct json_object	*names, *params;
	struct buf		 out;
	const char		*why;
	size_t			 i;
	int			 rc;

	(void)state;
	for (i = 0; i < NELEM(render_cases); i++) {
		names = json_object_new_array();
		assert_int_equal(model_template_placeholders(
		    render_cases[i].body, names), 0);
		params = render_cases[i].params != NULL ?
		    json_tokener_parse(render_cases[i].params) : NULL;
		buf_init(&out);
		why = NULL;
		rc = model_template_render(render_cases[i].body, names,
		    params, &out, &why);
		if (render_cases[i].want == NULL) {
			if (rc != -1)
				fail_msg("case %zu rendered", i);
			assert_non_null(why);
		} else {
			if (rc != 0)
				fail_msg("case %zu: %s", i, why);
			buf_putc(&out, '\0');
			assert_string_equal(out.data, render_cases[i].want);
		}
		buf_cleanup(&out);
		json_object_put(params);
		json_object_put(names);
	}
}

static void
test_long_parameter(void **state)
{
	struct json_object	*names, *params;
	struct buf		 out;
	const char		*why;
	char			 v[TEMPLATE_PARAM_MAX + 2];

	(void)state;
	names = json_object_new_array();
	assert_int_equal(model_template_placeholders("{{1}}", names), 0);
	memset(v, 'x', sizeof(v) - 1);
	v[sizeof(v) - 1] = '\0';
	params = json_object_new_array();
	json_object_array_add(params, json_object_new_string(v));
	buf_init(&out);
	assert_int_equal(model_template_render("{{1}}", names, params, &out,
	    &why), -1);
	/* Exactly the limit is fine. */
	v[TEMPLATE_PARAM_MAX] = '\0';
	json_object_array_put_idx(params, 0, json_object_new_string(v));
	buf_reset(&out);
	assert_int_equal(model_template_render("{{1}}", names, params, &out,
	    &why), 0);
	buf_cleanup(&out);
	json_object_put(params);
	json_object_put(names);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_placeholders),
		cmocka_unit_test(test_too_many_placeholders),
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_long_parameter),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
