/*
 * media_fetch — the dispatcher's media work.
 *
 * media_fetch_due(): claims pending inbound media (FOR UPDATE SKIP LOCKED,
 * under a lease) and fetches each through the provider, writing its chunks
 * as the bytes arrive inside one transaction that commits only once the
 * whole file is there and its size and sha256 are what WhatsApp stated.
 * A failure is recorded with its reason: retried with the dispatcher's
 * backoff while it may pass (network, 5xx, an unknown id), failed at once
 * when it cannot (sha256 mismatch, over WADESK_MEDIA_MAX_BYTES), failed
 * after WADESK_MAX_ATTEMPTS otherwise.  The message itself is never
 * touched: it was stored when it arrived.
 *
 * media_send_prepare(): for each job that carries media, its file's
 * WhatsApp upload id: the one recorded (valid 30 days, so a retry does not
 * upload again), else a new upload, recorded at once.
 */
#ifndef WADESK_MEDIA_FETCH_H
#define WADESK_MEDIA_FETCH_H

#include <stddef.h>

#include "db.h"
#include "job.h"
#include "provider.h"
#include "settings.h"

/*
 * Fetches up to max files that are due, one after another (the outbox
 * waits meanwhile: the dispatcher asks for one at a time while sends are
 * queued); the number of files handled, -1 when the database failed.
 */
int	media_fetch_due(struct db *, struct provider *,
	    const struct settings *, int);
/*
 * Prepares the media of jobs[0..n): returns k, the jobs ready to send,
 * moved to jobs[0..k); jobs[k..n) have their result set (JOB_RETRY or
 * JOB_FAILED) and must not be sent.
 */
size_t	media_send_prepare(struct db *, struct provider *, struct job *,
	    size_t);

#endif
