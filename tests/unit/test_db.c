/*
 * Unit tests for lib/db: what each SQLSTATE means to a caller.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "db.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

struct state_case {
	const char	*state;
	enum db_rc	 rc;
};

static const struct state_case state_cases[] = {
	{ NULL, DB_ERROR },
	{ "23505", DB_CONFLICT },	/* unique_violation */
	{ "23503", DB_ERROR },		/* foreign_key_violation */
	{ "40001", DB_RETRY },		/* serialization_failure */
	{ "40P01", DB_RETRY },		/* deadlock_detected */
	{ "57014", DB_TIMEOUT },	/* query_canceled: statement_timeout */
	{ "08006", DB_UNAVAILABLE },	/* connection_failure */
	{ "57P01", DB_UNAVAILABLE },	/* admin_shutdown */
	{ "53100", DB_UNAVAILABLE },	/* disk_full */
	{ "25006", DB_UNAVAILABLE },	/* read_only_sql_transaction */
	{ "58030", DB_UNAVAILABLE },	/* io_error */
	{ "22021", DB_ERROR },		/* character_not_in_repertoire */
	{ "22P05", DB_ERROR },		/* untranslatable_character */
	{ "42P01", DB_ERROR },		/* undefined_table */
};

static void
test_sqlstate(void **state)
{
	size_t	i;

	(void)state;
	for (i = 0; i < NELEM(state_cases); i++)
		if (db_sqlstate_rc(state_cases[i].state) != state_cases[i].rc)
			fail_msg("%s: %s, want %s", state_cases[i].state ?
			    state_cases[i].state : "NULL",
			    db_strerror(db_sqlstate_rc(state_cases[i].state)),
			    db_strerror(state_cases[i].rc));
}

/* What a caller may try again: only what another try can cure. */
static void
test_transient(void **state)
{
	(void)state;
	assert_true(db_rc_transient(DB_UNAVAILABLE));
	assert_true(db_rc_transient(DB_RETRY));
	assert_true(db_rc_transient(DB_TIMEOUT));
	assert_false(db_rc_transient(DB_OK));
	assert_false(db_rc_transient(DB_CONFLICT));
	assert_false(db_rc_transient(DB_ERROR));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sqlstate),
		cmocka_unit_test(test_transient),
	};

	return cmocka_run_group_tests_name("db", tests, NULL, NULL);
}
