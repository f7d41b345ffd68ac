/*
 * dispatch — the outbox dispatcher (`wadesk dispatch`).
 *
 * Claims due outbox rows with FOR UPDATE SKIP LOCKED under a lease, sends
 * them through the provider, and records each outcome in one transaction per
 * batch: sent (+ provider id, + any status that arrived early), a retry with
 * capped exponential backoff and jitter (dispatch_backoff_ms), or failed
 * after WADESK_MAX_ATTEMPTS.  Recording is retried while the database is
 * unreachable or reports a serialization failure or deadlock; an outcome it
 * refuses for good (a duplicate provider id, ...) fails that message alone
 * with the error "unrecordable", so nothing stalls and nothing goes out
 * twice.  Wakes on LISTEN wadesk_outbox, sweeps at least once a second.
 * Housekeeping when it starts and every 5 minutes: expired idempotency keys
 * and admin sessions, and statuses parked more than 7 days for a provider id
 * no message got.  Between batches it fetches inbound media
 * (media_fetch.h): up to 4 files a round when idle, one while sends are
 * queued, so a large download delays sends by at most its own time.  Any
 * number may run against one database.
 * SIGTERM/SIGINT: the batch in hand is sent and recorded, then it exits 0.
 */
#ifndef WADESK_DISPATCH_H
#define WADESK_DISPATCH_H

#include "settings.h"

int	dispatch_main(const struct settings *);
/*
 * The retry delay in ms after attempt n (1-based): the cap is
 * WADESK_BACKOFF_BASE_MS doubled n - 1 times, at most WADESK_BACKOFF_MAX_MS;
 * the delay is drawn uniformly from [cap / 10, cap] (jitter over the upper
 * nine tenths), and is at least 1.
 */
long	dispatch_backoff_ms(const struct settings *, long);

#endif
