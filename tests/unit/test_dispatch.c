/*
 * Unit tests for app/dispatch: the retry delay (dispatch_backoff_ms).
 *
 * For each case and attempt the cap is computed here independently
 * (base * 2^(attempt-1), at most max) and many delays are drawn: each must
 * lie in [cap / 10, cap] and be at least 1 ms; the draws must come near
 * both ends (the jitter is real, over the upper nine tenths); and the caps
 * must never shrink from one attempt to the next.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "dispatch.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define DRAWS		2000

struct backoff_case {
	long	base_ms;
	long	max_ms;
	long	attempts;	/* attempts 1..attempts are checked */
};

static const struct backoff_case backoff_cases[] = {
	{ 1000, 300000, 20 },		/* the defaults */
	{ 50, 400, 10 },		/* the integration tests' */
	{ 1, 1, 5 },			/* no room at all: always 1 */
	{ 1, 86400000, 40 },		/* doubling up to the largest max */
	{ 3600000, 86400000, 100 },	/* WADESK_MAX_ATTEMPTS' limit */
	{ 5000, 1000, 3 },		/* base above max: max wins */
	{ 7, 100, 8 },			/* odd numbers: cap / 10 rounds down */
};

static long
want_cap(const struct backoff_case *c, long attempt)
{
	long	cap = c->base_ms, i;

	for (i = 1; i < attempt; i++) {
		if (cap >= c->max_ms)
			break;
		cap *= 2;
	}
	return cap < c->max_ms ? cap : c->max_ms;
}

static void
test_backoff(void **state)
{
	const struct backoff_case	*c;
	struct settings			 s;
	long				 a, cap, least, prev, d, lo, hi;
	size_t				 i, k;

	(void)state;
	for (i = 0; i < NELEM(backoff_cases); i++) {
		c = &backoff_cases[i];
		memset(&s, 0, sizeof(s));
		s.backoff_base_ms = c->base_ms;
		s.backoff_max_ms = c->max_ms;
		prev = 0;
		for (a = 1; a <= c->attempts; a++) {
			cap = want_cap(c, a);
			least = cap / 10 > 0 ? cap / 10 : 1;
			if (cap < prev)
				fail_msg("case %zu: cap of attempt %ld (%ld) "
				    "below attempt %ld's (%ld)", i, a, cap,
				    a - 1, prev);
			prev = cap;
			lo = cap;
			hi = 0;
			for (k = 0; k < DRAWS; k++) {
				d = dispatch_backoff_ms(&s, a);
				if (d < least || d > cap)
					fail_msg("case %zu attempt %ld: %ld ms "
					    "outside [%ld, %ld]", i, a, d,
					    least, cap);
				if (d < lo)
					lo = d;
				if (d > hi)
					hi = d;
			}
			/* Spread over the range, not a constant. */
			if (cap >= 100 && (hi < cap - cap / 10 ||
			    lo > cap / 10 + cap / 10))
				fail_msg("case %zu attempt %ld: %d draws only "
				    "in [%ld, %ld] of [%ld, %ld]", i, a, DRAWS,
				    lo, hi, cap / 10, cap);
		}
		/* The last attempts sit at the cap, which is max. */
		if (c->attempts >= 30 && prev != c->max_ms)
			fail_msg("case %zu: cap %ld never reached max %ld", i,
			    prev, c->max_ms);
	}
}

/* Attempt numbers past any doubling (or below 1) stay in range. */
static void
test_backoff_extremes(void **state)
{
	struct settings	s;
	long		d;

	(void)state;
	memset(&s, 0, sizeof(s));
	s.backoff_base_ms = 1000;
	s.backoff_max_ms = 300000;
	d = dispatch_backoff_ms(&s, 1000000);
	assert_true(d >= 30000 && d <= 300000);
	d = dispatch_backoff_ms(&s, 0);
	assert_true(d >= 100 && d <= 1000);
}

static int
setup(void **state)
{
	(void)state;
	return sodium_init() < 0 ? -1 : 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_backoff_extremes),
	};

	return cmocka_run_group_tests_name("dispatch", tests, setup, NULL);
}
