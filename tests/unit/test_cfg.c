/*
 * Unit tests for lib/cfg: typed reads of environment variables.
 *
 * Every test sets and unsets its own WADESK_TEST_* variable.  Error messages
 * must name the variable and must not repeat the value (it may be a secret).
 *
 * A test named *_known_bug checks documented behaviour that lib/ does not
 * have yet: while lib/ still shows the bug it is reported as SKIPPED with the
 * reason, once lib/ is fixed it passes, and any third outcome fails.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cfg.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define KNOWN_BUG(why)	do {						\
	print_message("known bug in lib/ (not fixed here): %s\n", (why)); \
	skip();								\
} while (0)

#define VAR	"WADESK_TEST_CFG_VALUE"

struct long_case {
	const char	*in;
	long		 min;
	long		 max;
	int		 rc;
	long		 out;
};

struct env_long_case {
	const char	*val;		/* NULL: unset */
	long		 def;
	long		 min;
	long		 max;
	int		 rc;
	long		 out;
};

struct env_double_case {
	const char	*val;		/* NULL: unset */
	double		 def;
	double		 min;
	double		 max;
	int		 rc;
	double		 out;
};

static void	set_var(const char *);
static void	check_msg(const struct cfg_err *, const char *);

static const struct long_case long_cases[] = {
	{ "0", 0, 10, 0, 0 },
	{ "5", 0, 10, 0, 5 },
	{ "10", 0, 10, 0, 10 },
	{ "11", 0, 10, -1, 0 },
	{ "4", 5, 10, -1, 0 },
	{ "-1", 0, 10, -1, 0 },
	{ "-5", -10, 10, 0, -5 },
	{ "-10", -10, 10, 0, -10 },
	{ "-11", -10, 10, -1, 0 },
	{ "007", 0, 10, 0, 7 },
	{ "65535", 1, 65535, 0, 65535 },
	{ "65536", 1, 65535, -1, 0 },
	{ "99999999999999999999", 0, LONG_MAX, -1, 0 },
	{ "-99999999999999999999", LONG_MIN, 0, -1, 0 },
	{ "", 0, 10, -1, 0 },
	{ "+5", 0, 10, -1, 0 },
	{ " 5", 0, 10, -1, 0 },
	{ "5 ", 0, 10, -1, 0 },
	{ "5\n", 0, 10, -1, 0 },
	{ "abc", 0, 10, -1, 0 },
	{ "5abc", 0, 10, -1, 0 },
	{ "0x10", 0, 100, -1, 0 },
	{ "1e3", 0, 10000, -1, 0 },
	{ "1.5", 0, 10, -1, 0 },
	{ "--5", -10, 10, -1, 0 },
	{ "- 5", -10, 10, -1, 0 },
	{ "-", -10, 10, -1, 0 },
	{ "1_000", 0, 10000, -1, 0 },
};

static const struct env_long_case env_long_cases[] = {
	{ NULL, 7, 0, 100, 0, 7 },
	{ "", 7, 0, 100, 0, 7 },
	{ "42", 7, 0, 100, 0, 42 },
	{ "0", 7, 0, 100, 0, 0 },
	{ "100", 7, 0, 100, 0, 100 },
	{ "101", 7, 0, 100, -1, 0 },
	{ "-1", 7, 0, 100, -1, 0 },
	{ "abc", 7, 0, 100, -1, 0 },
	{ "+5", 7, 0, 100, -1, 0 },
	{ " 5", 7, 0, 100, -1, 0 },
	{ "5s", 7, 0, 100, -1, 0 },
};

static const struct env_double_case env_double_cases[] = {
	{ NULL, 0.25, 0, 10, 0, 0.25 },
	{ "", 0.25, 0, 10, 0, 0.25 },
	{ "1.5", 0.25, 0, 10, 0, 1.5 },
	{ "0", 0.25, 0, 10, 0, 0 },
	{ "10", 0.25, 0, 10, 0, 10 },
	{ "2.5e-1", 1, 0, 10, 0, 0.25 },
	{ "-0.5", 0, -1, 1, 0, -0.5 },
	{ "10.5", 0.25, 0, 10, -1, 0 },
	{ "-0.5", 0.25, 0, 10, -1, 0 },
	{ "abc", 0.25, 0, 10, -1, 0 },
	{ "1.5x", 0.25, 0, 10, -1, 0 },
	{ "1.5 ", 0.25, 0, 10, -1, 0 },
	{ "1,5", 0.25, 0, 10, -1, 0 },
	{ "nan", 0.25, -1e300, 1e300, -1, 0 },
	{ "inf", 0.25, -1e300, 1e300, -1, 0 },
	{ "-inf", 0.25, -1e300, 1e300, -1, 0 },
	{ "1e400", 0.25, -1e300, 1e300, -1, 0 },
};

static void
set_var(const char *val)
{
	if (val == NULL)
		assert_int_equal(unsetenv(VAR), 0);
	else
		assert_int_equal(setenv(VAR, val, 1), 0);
}

/* The message names the variable and does not contain its value. */
static void
check_msg(const struct cfg_err *err, const char *val)
{
	if (memchr(err->msg, '\0', sizeof(err->msg)) == NULL)
		fail_msg("cfg error message is not terminated");
	if (strstr(err->msg, VAR) == NULL)
		fail_msg("cfg error \"%s\" does not name %s", err->msg, VAR);
	if (val != NULL && val[0] != '\0' && strstr(err->msg, val) != NULL)
		fail_msg("cfg error \"%s\" repeats the value \"%s\"",
		    err->msg, val);
}

static void
test_parse_long_table(void **state)
{
	const struct long_case	*c;
	long			 out;
	size_t			 i;
	int			 rc;

	(void)state;
	for (i = 0; i < NELEM(long_cases); i++) {
		c = &long_cases[i];
		out = -12345;
		rc = cfg_parse_long(c->in, c->min, c->max, &out);
		if (rc != c->rc)
			fail_msg("cfg_parse_long \"%s\" [%ld, %ld]: %d, "
			    "want %d", c->in, c->min, c->max, rc, c->rc);
		if (rc == 0 && out != c->out)
			fail_msg("cfg_parse_long \"%s\": got %ld, want %ld",
			    c->in, out, c->out);
	}
}

static void
test_parse_long_limits(void **state)
{
	char	s[64];
	long	out;

	(void)state;
	/* LONG_MAX and LONG_MIN themselves, then one digit too many. */
	snprintf(s, sizeof(s), "%ld", LONG_MAX);
	assert_int_equal(cfg_parse_long(s, LONG_MIN, LONG_MAX, &out), 0);
	assert_true(out == LONG_MAX);
	snprintf(s, sizeof(s), "%ld0", LONG_MAX);
	assert_int_equal(cfg_parse_long(s, LONG_MIN, LONG_MAX, &out), -1);
	snprintf(s, sizeof(s), "%ld", LONG_MIN);
	assert_int_equal(cfg_parse_long(s, LONG_MIN, LONG_MAX, &out), 0);
	assert_true(out == LONG_MIN);
	snprintf(s, sizeof(s), "%ld0", LONG_MIN);
	assert_int_equal(cfg_parse_long(s, LONG_MIN, LONG_MAX, &out), -1);
	/* Overflow is an error even when the range would clamp it. */
	snprintf(s, sizeof(s), "%ld9", LONG_MAX);
	assert_int_equal(cfg_parse_long(s, 0, LONG_MAX, &out), -1);
}

static void
test_parse_long_whitespace_known_bug(void **state)
{
	static const char *const	 in[] = {
		"\t5", "\n5", "\r5", "\v5", "\f5", "\t-5",
	};
	size_t				 i;
	long				 out;
	int				 buggy = 0;

	(void)state;
	/* " 5" is rejected; other leading white space must be too. */
	for (i = 0; i < NELEM(in); i++)
		if (cfg_parse_long(in[i], -10, 10, &out) == 0)
			buggy = 1;
	if (buggy)
		KNOWN_BUG("cfg_parse_long rejects \" 5\" but accepts "
		    "\"\\t5\", \"\\n5\", \"\\r5\", \"\\v5\", \"\\f5\" as 5 "
		    "(strtol skips any isspace)");
}

static void
test_long_env_table(void **state)
{
	const struct env_long_case	*c;
	struct cfg_err			 err;
	long				 out;
	size_t				 i;
	int				 rc;

	(void)state;
	for (i = 0; i < NELEM(env_long_cases); i++) {
		c = &env_long_cases[i];
		set_var(c->val);
		out = -12345;
		memset(&err, 0, sizeof(err));
		rc = cfg_long(VAR, c->def, c->min, c->max, &out, &err);
		if (rc != c->rc)
			fail_msg("cfg_long %s=\"%s\": %d, want %d", VAR,
			    c->val ? c->val : "(unset)", rc, c->rc);
		if (rc == 0 && out != c->out)
			fail_msg("cfg_long %s=\"%s\": got %ld, want %ld", VAR,
			    c->val ? c->val : "(unset)", out, c->out);
		if (rc == -1)
			check_msg(&err, c->val);
	}
	set_var(NULL);
}

static void
test_long_env_secret_not_echoed(void **state)
{
	struct cfg_err	err;
	long		out;

	(void)state;
	/* Someone pasted a token into a numeric setting. */
	set_var("sk_live_51HxYzSECRET");
	memset(&err, 0, sizeof(err));
	assert_int_equal(cfg_long(VAR, 1, 0, 10, &out, &err), -1);
	check_msg(&err, "sk_live_51HxYzSECRET");
	assert_null(strstr(err.msg, "SECRET"));
	set_var(NULL);
}

static void
test_str_required(void **state)
{
	struct cfg_err	 err;
	const char	*out;

	(void)state;
	set_var(NULL);
	memset(&err, 0, sizeof(err));
	out = NULL;
	assert_int_equal(cfg_str_required(VAR, &out, &err), -1);
	check_msg(&err, NULL);

	set_var("");
	memset(&err, 0, sizeof(err));
	assert_int_equal(cfg_str_required(VAR, &out, &err), -1);
	check_msg(&err, NULL);

	set_var("postgres://db/wadesk");
	assert_int_equal(cfg_str_required(VAR, &out, &err), 0);
	assert_non_null(out);
	assert_string_equal(out, "postgres://db/wadesk");
	set_var(NULL);
}

static void
test_str(void **state)
{
	(void)state;
	set_var(NULL);
	assert_string_equal(cfg_str(VAR, "fallback"), "fallback");
	assert_null(cfg_str(VAR, NULL));
	set_var("");
	assert_string_equal(cfg_str(VAR, "fallback"), "fallback");
	set_var("value");
	assert_string_equal(cfg_str(VAR, "fallback"), "value");
	set_var(NULL);
}

static void
test_double_env_table(void **state)
{
	const struct env_double_case	*c;
	struct cfg_err			 err;
	double				 out;
	size_t				 i;
	int				 rc;

	(void)state;
	for (i = 0; i < NELEM(env_double_cases); i++) {
		c = &env_double_cases[i];
		set_var(c->val);
		out = -12345;
		memset(&err, 0, sizeof(err));
		rc = cfg_double(VAR, c->def, c->min, c->max, &out, &err);
		if (rc != c->rc)
			fail_msg("cfg_double %s=\"%s\": %d, want %d", VAR,
			    c->val ? c->val : "(unset)", rc, c->rc);
		/* Every expected value is exact in binary. */
		if (rc == 0 && !(out == c->out))
			fail_msg("cfg_double %s=\"%s\": got %g, want %g", VAR,
			    c->val ? c->val : "(unset)", out, c->out);
		if (rc == -1)
			check_msg(&err, c->val);
	}
	set_var(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_long_table),
		cmocka_unit_test(test_parse_long_limits),
		cmocka_unit_test(test_parse_long_whitespace_known_bug),
		cmocka_unit_test(test_long_env_table),
		cmocka_unit_test(test_long_env_secret_not_echoed),
		cmocka_unit_test(test_str_required),
		cmocka_unit_test(test_str),
		cmocka_unit_test(test_double_env_table),
	};

	/* cmocka reports failures on stderr: keep stdout in step with it. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	return cmocka_run_group_tests_name("cfg", tests, NULL, NULL);
}
