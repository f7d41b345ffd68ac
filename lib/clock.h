/*
 * clock — the monotonic clock in milliseconds, for timeouts, intervals and
 * durations: it never goes back when the wall clock is set.
 */
#ifndef WADESK_CLOCK_H
#define WADESK_CLOCK_H

/* Milliseconds since an arbitrary point (the machine's boot). */
long long	clock_ms(void);

/* The same, with the fraction (microseconds): for pacing and durations. */
double		clock_ms_precise(void);

#endif
