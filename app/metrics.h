/*
 * metrics — counters shared by the master and every worker, for /metrics.
 *
 * The master creates one shared memory segment (memfd) before forking; its
 * descriptor survives the workers' exec and is named in WADESK_METRICS_FD.
 * Workers add to it with atomic operations; nothing is locked.  It also
 * holds the slots that cap concurrent password hashes per host.  When the
 * segment is absent (a worker started by hand) the calls do nothing.
 */
#ifndef WADESK_METRICS_H
#define WADESK_METRICS_H

#include "buf.h"
#include "db.h"

/* Database counts at most this high are exact; past it, estimated. */
#define METRICS_COUNT_CAP	1000

/* Master: creates the segment and exports WADESK_METRICS_FD.  0 or -1. */
int	metrics_create(void) __attribute__((warn_unused_result));
/* Worker: maps the segment named by WADESK_METRICS_FD, if any. */
void	metrics_attach(void);
/* One finished request: its route index (routes.h), status, duration. */
void	metrics_request(int, int, double);
/* Master: a worker exited; crashed when it died of a signal or too young. */
void	metrics_worker_exit(int);
/*
 * Password hashes running at once on this host, at most max: 0 with a slot
 * taken (give it back with metrics_hash_leave()), -1 when all are busy.  A
 * slot whose worker died is taken back.  Without the segment: always 0.
 */
int	metrics_hash_enter(int) __attribute__((warn_unused_result));
void	metrics_hash_leave(void);
/* Appends the counters in Prometheus text format. */
void	metrics_render(struct buf *);
/*
 * Appends the database figures (wadesk_database_up, messages by direction
 * and status, outbox depth, parked statuses) in Prometheus text format,
 * with one query whose cost does not grow with the tables: counts are
 * exact up to METRICS_COUNT_CAP, past it PostgreSQL's estimate (and
 * wadesk_messages_estimated says so).  Returns 1 when the database
 * answered, else 0 (then only wadesk_database_up 0 is written).
 */
int	metrics_render_db(struct buf *, struct db *);

#endif
