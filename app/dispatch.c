#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>

#include "buf.h"
#include "clock.h"
#include "db.h"
#include "dispatch.h"
#include "child.h"
#include "events.h"
#include "indexer.h"
#include "job.h"
#include "log.h"
#include "media_fetch.h"
#include "mem.h"
#include "provider.h"
#include "stmts.h"
#include "template_sync.h"
#include "utf8.h"

#define DISPATCH_SWEEP_MS	1000
#define DISPATCH_SIM_TICK_MS	100
#define DISPATCH_PURGE_S	300
#define DISPATCH_MIN_WAIT_MS	5
#define DISPATCH_MEDIA_BATCH	4	/* inbound files per idle round */

static volatile sig_atomic_t	dispatch_stop;
/* Read receipts sent per round. */
#define DISPATCH_RECEIPTS_BATCH	32

/*
 * Pacing per business number (WADESK_NUMBER_MPS): a virtual schedule
 * (GCRA, a token bucket by another name) per number this dispatcher sends
 * for.  tat: when the number's next send is due, in monotonic ms; a send
 * may run DISPATCH_PACE_BURST_MS ahead of it.  A message over its number's
 * budget is not sent: it goes back to the outbox due at a slot of its own
 * (defer_at, one interval after the last one handed out), so the numbers
 * with budget left are claimed in the meantime.  The pace is per
 * dispatcher: N dispatchers send up to N times WADESK_NUMBER_MPS per
 * number.  Messages without a number are not paced.
 */
#define DISPATCH_PACE_MAX	256
#define DISPATCH_PACE_BURST_MS	100.0
struct dispatch_pace {
	long long	 number_id;
	double		 tat;
	double		 defer_at;
};
static struct dispatch_pace	dispatch_paces[DISPATCH_PACE_MAX];
static size_t			dispatch_npaces;

/* When the templates were last synced (0: not yet). */
static time_t			dispatch_synced;

static void	dispatch_on_signal(int);
static struct dispatch_pace *dispatch_pace_of(long long, double);
static int	dispatch_pace_take(const struct settings *,
		    const struct job *, double, long *);
static int	dispatch_pace(struct db *, const struct settings *,
		    struct job *, int);
static int	dispatch_mark(struct db *, enum stmt, const char *);
static int	dispatch_listen(struct db *);
static int	dispatch_batch(struct db *, struct provider *,
		    const struct settings *);
static int	dispatch_record(struct db *, const struct settings *,
		    struct job *, size_t);
static enum db_rc dispatch_record_retry(struct db *, const struct settings *,
		    struct job *, size_t, int *);
static enum db_rc dispatch_record_tx(struct db *, const struct settings *,
		    struct job *, size_t);
static enum db_rc dispatch_record_one(struct db *, const struct settings *,
		    struct job *);
static enum db_rc dispatch_record_sent(struct db *, struct job *, size_t);
static void	dispatch_fallback(struct job *, enum db_rc);
static void	dispatch_give_up(const struct settings *, struct job *);
static enum db_rc dispatch_apply_pending(struct db *, const char *);
static void	dispatch_log(const struct job *, const char *);
static void	dispatch_wait(struct db *, long);
static void	dispatch_receipts(struct db *, struct provider *,
		    const struct settings *);
static void	dispatch_housekeeping(struct db *, const struct settings *,
		    time_t *);

/* Number id's pacing state: found, or a new one (or one long idle). */
static struct dispatch_pace *
dispatch_pace_of(long long id, double now)
{
	struct dispatch_pace	*p, *idle = NULL;
	size_t			 i;

	for (i = 0; i < dispatch_npaces; i++) {
		p = &dispatch_paces[i];
		if (p->number_id == id)
			return p;
		if (idle == NULL && p->tat < now && p->defer_at < now)
			idle = p;
	}
	if (dispatch_npaces < DISPATCH_PACE_MAX)
		idle = &dispatch_paces[dispatch_npaces++];
	else if (idle == NULL)
		return NULL;	/* every number busy: this one unpaced */
	idle->number_id = id;
	idle->tat = idle->defer_at = now;
	return idle;
}

/*
 * Whether job j may be sent now under its number's pace: 1 (its slot
 * taken), or 0 with *wait_ms, when it is due again.
 */
static int
dispatch_pace_take(const struct settings *s, const struct job *j,
    double now, long *wait_ms)
{
	struct dispatch_pace	*p;
	double			 interval, at;

	if (j->number_id <= 0 ||
	    (p = dispatch_pace_of(j->number_id, now)) == NULL)
		return 1;
	interval = 1000.0 / (double)s->number_mps;
	if (p->tat < now)
		p->tat = now;
	if (p->tat - now <= DISPATCH_PACE_BURST_MS) {
		p->tat += interval;
		return 1;
	}
	at = p->defer_at > p->tat - DISPATCH_PACE_BURST_MS ? p->defer_at :
	    p->tat - DISPATCH_PACE_BURST_MS;
	p->defer_at = at + interval;
	*wait_ms = (long)(at - now) + 1;
	return 0;
}

/*
 * Jobs [0, n) over their number's pace go to the end, back to the outbox
 * (their claim not counted as an attempt); returns how many are left to
 * send.  On a database error the deferred rows fall due again when their
 * lease ends.
 */
static int
dispatch_pace(struct db *db, const struct settings *s, struct job *jobs,
    int n)
{
	struct buf	 ids, waits;
	struct job	 tmp;
	PGresult	*res = NULL;
	const char	*p[2];
	double		 now;
	long		 wait;
	long		*w;
	int		 i, k, m = n;

	now = clock_ms_precise();
	w = mem_calloc((size_t)(n ? n : 1), sizeof(*w));
	for (i = 0, k = 0; i < n; i++) {
		if (!dispatch_pace_take(s, &jobs[i], now, &wait)) {
			w[i] = wait;
			continue;
		}
		if (k != i) {
			tmp = jobs[k];
			jobs[k] = jobs[i];
			jobs[i] = tmp;
			wait = w[k];
			w[k] = w[i];
			w[i] = wait;
		}
		k++;
	}
	m = k;
	if (m == n) {
		mem_free(w);
		return n;
	}
	buf_init(&ids);
	buf_init(&waits);
	buf_putc(&ids, '{');
	buf_putc(&waits, '{');
	for (i = m; i < n; i++) {
		buf_printf(&ids, "%s%lld", i > m ? "," : "", jobs[i].id);
		buf_printf(&waits, "%s%ld", i > m ? "," : "", w[i]);
	}
	buf_putc(&ids, '}');
	buf_putc(&waits, '}');
	p[0] = ids.data;
	p[1] = waits.data;
	if (db_exec(db, STMT_OUTBOX_DEFER, 2, p, &res) != DB_OK)
		log_kv(LOG_WARN, "could not defer the messages over their "
		    "number's pace; they fall due when their lease ends",
		    NULL);
	db_res_free(res);
	buf_cleanup(&ids);
	buf_cleanup(&waits);
	mem_free(w);
	return m;
}

/* Records this dispatcher as idle or busy (STMT_DISPATCH_IDLE/BUSY). */
static int
dispatch_mark(struct db *db, enum stmt which, const char *name)
{
	PGresult	*res = NULL;
	const char	*p[1] = { name };
	enum db_rc	 rc;

	rc = db_exec(db, which, 1, p, &res);
	db_res_free(res);
	return rc == DB_OK ? 0 : -1;
}

static void
dispatch_on_signal(int sig)
{
	(void)sig;
	dispatch_stop = 1;
}

long
dispatch_backoff_ms(const struct settings *s, long attempt)
{
	long	cap = s->backoff_base_ms, least;
	long	i;

	for (i = 1; i < attempt && cap < s->backoff_max_ms; i++)
		cap *= 2;
	if (cap > s->backoff_max_ms)
		cap = s->backoff_max_ms;
	/*
	 * Jitter over the upper nine tenths: uniform in [cap/10, cap], and at
	 * least 1 ms.  Not "full jitter" ([0, cap]): a retry never comes at
	 * once, yet retries still spread out.
	 */
	if ((least = cap / 10) < 1)
		least = 1;
	return least + (long)randombytes_uniform((uint32_t)(cap - least) + 1);
}

static int
dispatch_listen(struct db *db)
{
	return db_simple(db, "LISTEN wadesk_outbox", NULL) == DB_OK ? 0 : -1;
}

static void
dispatch_log(const struct job *j, const char *outcome)
{
	char	id[24], attempt[16], ms[32];

	snprintf(id, sizeof(id), "%lld", j->id);
	snprintf(attempt, sizeof(attempt), "%ld", j->attempts);
	snprintf(ms, sizeof(ms), "%.3f", j->duration_ms);
	log_kv(j->result == JOB_SENT ? LOG_INFO : LOG_WARN, "dispatch",
	    "#message_id", id, "#attempt", attempt, "outcome", outcome,
	    "provider_id", j->provider_id[0] ? j->provider_id : NULL,
	    "error_code", j->err_code[0] ? j->err_code : NULL,
	    "error", j->err_msg[0] ? j->err_msg : NULL,
	    "#duration_ms", ms, NULL);
}

/* A transient failure on the last allowed attempt is final. */
static void
dispatch_give_up(const struct settings *s, struct job *j)
{
	char	code[sizeof(j->err_code)], msg[sizeof(j->err_msg) + 64];

	if (j->result != JOB_RETRY || j->attempts < s->max_attempts)
		return;
	/* job_error cuts the longer text on a character boundary. */
	snprintf(msg, sizeof(msg), "gave up after %ld attempts: %s",
	    j->attempts, j->err_msg);
	memcpy(code, j->err_code, sizeof(code));
	job_error(j, JOB_FAILED, code, msg);
}

/* Statuses that arrived before this provider id was known. */
static enum db_rc
dispatch_apply_pending(struct db *db, const char *pid)
{
	PGresult	*res = NULL, *r2 = NULL;
	const char	*p[6];
	enum db_rc	 rc;
	int		 i;

	p[0] = pid;
	if ((rc = db_exec(db, STMT_PENDING_TAKE, 1, p, &res)) != DB_OK)
		return rc;
	for (i = 0; i < PQntuples(res); i++) {
		p[1] = db_get(res, i, 0);
		p[2] = db_get(res, i, 1);
		p[3] = db_get(res, i, 2);
		p[4] = db_get(res, i, 3);
		p[5] = db_get(res, i, 4);
		if ((rc = db_exec(db, STMT_STATUS_APPLY, 6, p, &r2)) != DB_OK)
			goto out;
		db_res_free(r2);
		r2 = NULL;
	}
	rc = DB_OK;
out:
	db_res_free(res);
	return rc;
}

static enum db_rc
dispatch_record_one(struct db *db, const struct settings *s, struct job *j)
{
	PGresult	*res = NULL;
	const char	*p[3];
	char		 id[24], delay[24], both[sizeof(j->err_code) +
			    sizeof(j->err_msg) + 2], msg[sizeof(j->err_msg)];
	enum db_rc	 rc;
	long		 d;

	snprintf(id, sizeof(id), "%lld", j->id);
	p[0] = id;
	if (j->result == JOB_RETRY) {
		d = dispatch_backoff_ms(s, j->attempts);
		if (j->retry_after_ms > d)
			d = j->retry_after_ms;
		snprintf(delay, sizeof(delay), "%ld", d);
		snprintf(both, sizeof(both), "%s: %s", j->err_code,
		    j->err_msg);
		(void)utf8_clean(msg, sizeof(msg), both, strlen(both));
		p[1] = delay;
		p[2] = msg;
		rc = db_exec(db, STMT_OUTBOX_RETRY, 3, p, &res);
	} else {
		p[1] = j->err_code;
		p[2] = j->err_msg;
		rc = db_exec(db, STMT_OUTBOX_FAIL, 3, p, &res);
	}
	db_res_free(res);
	return rc;
}

/* Every sent job of the batch in one statement, then early statuses. */
static enum db_rc
dispatch_record_sent(struct db *db, struct job *jobs, size_t n)
{
	PGresult	 *res = NULL;
	struct buf	  ids, pids;
	const char	**idv, **pidv, *p[2];
	char		(*idbuf)[24];
	size_t		  i, k = 0;
	enum db_rc	  rc = DB_OK;
	int		  r;

	idv = mem_calloc(n, sizeof(*idv));
	pidv = mem_calloc(n, sizeof(*pidv));
	idbuf = mem_calloc(n, sizeof(*idbuf));
	for (i = 0; i < n; i++) {
		if (jobs[i].result != JOB_SENT)
			continue;
		snprintf(idbuf[k], sizeof(idbuf[k]), "%lld", jobs[i].id);
		idv[k] = idbuf[k];
		pidv[k] = jobs[i].provider_id;
		k++;
	}
	buf_init(&ids);
	buf_init(&pids);
	if (k == 0)
		goto out;
	db_array(&ids, idv, k);
	db_array(&pids, pidv, k);
	p[0] = ids.data;
	p[1] = pids.data;
	if ((rc = db_exec(db, STMT_OUTBOX_SENT, 2, p, &res)) != DB_OK)
		goto out;
	for (r = 0; r < PQntuples(res); r++)
		if ((rc = dispatch_apply_pending(db,
		    PQgetvalue(res, r, 0))) != DB_OK)
			goto out;
out:
	db_res_free(res);
	buf_cleanup(&ids);
	buf_cleanup(&pids);
	mem_free(idbuf);
	mem_free(pidv);
	mem_free(idv);
	return rc;
}

/* One transaction recording n jobs. */
static enum db_rc
dispatch_record_tx(struct db *db, const struct settings *s, struct job *jobs,
    size_t n)
{
	enum db_rc	rc;
	size_t		i;

	if ((rc = db_ensure(db)) != DB_OK || (rc = db_begin(db)) != DB_OK)
		return rc;
	if ((rc = dispatch_record_sent(db, jobs, n)) != DB_OK)
		goto fail;
	for (i = 0; i < n; i++)
		if (jobs[i].result != JOB_SENT &&
		    (rc = dispatch_record_one(db, s, &jobs[i])) != DB_OK)
			goto fail;
	if ((rc = db_commit(db)) == DB_OK)
		return DB_OK;
fail:
	db_rollback(db);
	return rc;
}

/*
 * dispatch_record_tx until it succeeds or fails for a reason that trying
 * again cannot cure.  While the database is unreachable nobody can claim
 * these rows, so keep trying until it is back: giving up would send them
 * twice.  Serialization failures, deadlocks and timeouts (a lock held
 * too long) are tried again too.  Only a
 * stop request bounds the wait (by the lease, counted in *waited across
 * calls).  Returns DB_OK, the lasting error (DB_CONFLICT, DB_ERROR), or
 * DB_UNAVAILABLE when the stop came first.
 */
static enum db_rc
dispatch_record_retry(struct db *db, const struct settings *s,
    struct job *jobs, size_t n, int *waited)
{
	enum db_rc	rc;
	int		tries;

	for (tries = 0;; tries++) {
		if (tries > 0) {
			if (dispatch_stop && ++*waited >= s->lease_s)
				return DB_UNAVAILABLE;
			if (tries == 1)
				log_kv(LOG_WARN, "recording a batch failed; "
				    "retrying until the database answers",
				    NULL);
			sleep(1);
		}
		rc = dispatch_record_tx(db, s, jobs, n);
		if (!db_rc_transient(rc))
			return rc;
	}
}

/*
 * A job whose outcome the database refuses for good (a provider id another
 * message already has, a text it will not take): it was handed to the
 * provider, so it must not stay queued, or it would be sent again after
 * its lease.  It fails with a plain ASCII error that any database accepts;
 * the log keeps what the provider said.
 */
static void
dispatch_fallback(struct job *j, enum db_rc rc)
{
	static const char *const outcomes[JOB__MAX] = {
		[JOB_SENT] = "sent", [JOB_RETRY] = "retry",
		[JOB_FAILED] = "failed",
	};
	char	id[24];

	snprintf(id, sizeof(id), "%lld", j->id);
	log_kv(LOG_ERROR, "could not record a message's outcome; failing it "
	    "so that it is not sent again", "#message_id", id,
	    "outcome", outcomes[j->result], "cause", db_strerror(rc),
	    "provider_id", j->provider_id[0] ? j->provider_id : NULL,
	    "error_code", j->err_code[0] ? j->err_code : NULL,
	    "error", j->err_msg[0] ? j->err_msg : NULL, NULL);
	j->provider_id[0] = '\0';
	job_error(j, JOB_FAILED, "unrecordable", j->result == JOB_SENT ?
	    "the provider accepted the message, but its answer could not "
	    "be recorded (see the dispatcher's log)" :
	    "the provider's answer could not be recorded (see the "
	    "dispatcher's log)");
}

/*
 * One transaction for the batch.  The sends already happened, so a failure
 * here is retried (the rows stay leased meanwhile) rather than dropped; a
 * failure that retrying cannot cure stalls nothing: the jobs are recorded
 * one by one, and a job the database still refuses is failed
 * (dispatch_fallback).  -1 when the database stayed unreachable until a stop
 * request ended the wait (the rows fall due again after the lease).
 */
static int
dispatch_record(struct db *db, const struct settings *s, struct job *jobs,
    size_t n)
{
	enum db_rc	rc;
	size_t		i;
	int		waited = 0;

	if ((rc = dispatch_record_retry(db, s, jobs, n, &waited)) == DB_OK)
		return 0;
	if (rc == DB_UNAVAILABLE)
		goto stopped;
	if (n > 1)
		log_kv(LOG_WARN, "the database refused a batch's outcomes; "
		    "recording them one by one", "cause", db_strerror(rc),
		    NULL);
	for (i = 0; i < n; i++) {
		if (n > 1 && (rc = dispatch_record_retry(db, s, &jobs[i], 1,
		    &waited)) == DB_OK)
			continue;
		if (rc == DB_UNAVAILABLE)
			goto stopped;
		dispatch_fallback(&jobs[i], rc);
		if ((rc = dispatch_record_retry(db, s, &jobs[i], 1,
		    &waited)) == DB_UNAVAILABLE)
			goto stopped;
		if (rc != DB_OK)
			log_kv(LOG_ERROR, "could not record a message's "
			    "failure; it falls due again when the lease ends",
			    NULL);
	}
	return 0;
stopped:
	log_kv(LOG_ERROR, "could not record a batch before stopping; its rows "
	    "fall due again when the lease ends", NULL);
	return -1;
}

/* Returns the number of rows claimed, or -1 when the database failed. */
static int
dispatch_batch(struct db *db, struct provider *prov, const struct settings *s)
{
	PGresult	*res = NULL;
	struct job	*jobs;
	const char	*p[3];
	char		 limit[16], lease[16];
	static const char *const outcomes[JOB__MAX] = {
		[JOB_SENT] = "sent", [JOB_RETRY] = "retry",
		[JOB_FAILED] = "failed",
	};
	struct job	 tmp;
	int		 i, k, n, recorded, claimed;

	snprintf(limit, sizeof(limit), "%ld", s->batch);
	snprintf(lease, sizeof(lease), "%ld", s->lease_s);
	p[0] = limit;
	p[1] = lease;
	p[2] = s->provider == PROVIDER_SIMULATED && s->sim_window ? "t" : "f";
	if (db_exec(db, STMT_OUTBOX_CLAIM, 3, p, &res) != DB_OK)
		return -1;
	if ((n = PQntuples(res)) == 0) {
		db_res_free(res);
		return 0;
	}
	jobs = mem_calloc((size_t)n, sizeof(*jobs));
	for (i = 0; i < n; i++) {
		jobs[i].id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
		jobs[i].attempts = strtol(PQgetvalue(res, i, 1), NULL, 10);
		jobs[i].sender = PQgetvalue(res, i, 2);
		jobs[i].receiver = PQgetvalue(res, i, 3);
		jobs[i].content = PQgetvalue(res, i, 4);
		jobs[i].media_id = PQgetisnull(res, i, 5) ? 0 :
		    strtoll(PQgetvalue(res, i, 5), NULL, 10);
		jobs[i].type = PQgetvalue(res, i, 6);
		jobs[i].spec = db_get(res, i, 7);
		jobs[i].context_id = db_get(res, i, 8);
		jobs[i].reaction_id = db_get(res, i, 9);
		jobs[i].window = PQgetisnull(res, i, 10) ? -1 :
		    strcmp(PQgetvalue(res, i, 10), "t") == 0;
		jobs[i].number_id = PQgetisnull(res, i, 11) ? 0 :
		    strtoll(PQgetvalue(res, i, 11), NULL, 10);
		jobs[i].phone_number_id = db_get(res, i, 12);
	}
	/*
	 * Over its number's pace: back to the outbox, out of this batch (all
	 * of it: claim again at once, for the rows behind it).
	 */
	claimed = n;
	if ((n = dispatch_pace(db, s, jobs, n)) == 0) {
		mem_free(jobs);
		db_res_free(res);
		return claimed;
	}
	/*
	 * A row claimed more often than allowed (its dispatcher died after
	 * claiming it) fails without another send; the others go out.
	 */
	for (i = 0, k = 0; i < n; i++) {
		if (jobs[i].attempts > s->max_attempts) {
			job_error(&jobs[i], JOB_FAILED, "gave_up",
			    "gave up: claimed more often than "
			    "WADESK_MAX_ATTEMPTS");
			continue;
		}
		if (k != i) {
			tmp = jobs[k];
			jobs[k] = jobs[i];
			jobs[i] = tmp;
		}
		k++;
	}
	/* Media first: a job whose file cannot be uploaded is not sent. */
	k = (int)media_send_prepare(db, prov, jobs, (size_t)k);
	provider_send(prov, jobs, (size_t)k);
	for (i = 0; i < n; i++)
		dispatch_give_up(s, &jobs[i]);
	recorded = dispatch_record(db, s, jobs, (size_t)n) == 0;
	for (i = 0; i < n; i++)
		dispatch_log(&jobs[i], recorded ? outcomes[jobs[i].result] :
		    "unrecorded");
	mem_free(jobs);
	db_res_free(res);
	return n;
}

/* Sleeps until a NOTIFY arrives or ms pass. */
static void
dispatch_wait(struct db *db, long ms)
{
	struct pollfd	 pfd;
	PGnotify	*note;

	if (db->conn == NULL) {
		usleep((useconds_t)ms * 1000);
		return;
	}
	pfd.fd = PQsocket(db->conn);
	pfd.events = POLLIN;
	if (poll(&pfd, 1, (int)ms) > 0 && PQconsumeInput(db->conn) == 1)
		while ((note = PQnotifies(db->conn)) != NULL)
			PQfreemem(note);
}

/*
 * Read receipts agents' visits asked for (sql/016): told to WhatsApp
 * through the provider; retried with the messages' backoff until
 * WADESK_MAX_ATTEMPTS, then dropped (a receipt is a courtesy, not a
 * message).
 */
static void
dispatch_receipts(struct db *db, struct provider *prov,
    const struct settings *s)
{
	PGresult	*res = NULL, *r2;
	struct job	*jobs;
	const char	*p[3];
	char		 limit[16], lease[16], delay[24];
	enum db_rc	 rc;
	int		 i, n;

	snprintf(limit, sizeof(limit), "%d", DISPATCH_RECEIPTS_BATCH);
	snprintf(lease, sizeof(lease), "%ld", s->lease_s);
	p[0] = limit;
	p[1] = lease;
	if (db_exec(db, STMT_RECEIPT_CLAIM, 2, p, &res) != DB_OK)
		return;
	if ((n = PQntuples(res)) == 0) {
		db_res_free(res);
		return;
	}
	jobs = mem_calloc((size_t)n, sizeof(*jobs));
	for (i = 0; i < n; i++) {
		jobs[i].id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
		jobs[i].attempts = strtol(PQgetvalue(res, i, 1), NULL, 10);
		jobs[i].type = JOB_READ_RECEIPT;
		jobs[i].context_id = PQgetvalue(res, i, 2);
		jobs[i].receiver = jobs[i].sender = jobs[i].content = "";
		jobs[i].window = -1;
		jobs[i].phone_number_id = db_get(res, i, 3);
	}
	provider_send(prov, jobs, (size_t)n);
	for (i = 0; i < n; i++) {
		p[0] = PQgetvalue(res, i, 0);
		r2 = NULL;
		if (jobs[i].result == JOB_RETRY &&
		    jobs[i].attempts < s->max_attempts) {
			snprintf(delay, sizeof(delay), "%ld",
			    jobs[i].retry_after_ms >= 0 ?
			    jobs[i].retry_after_ms :
			    dispatch_backoff_ms(s, jobs[i].attempts));
			p[1] = delay;
			p[2] = jobs[i].err_msg;
			rc = db_exec(db, STMT_RECEIPT_RETRY, 3, p, &r2);
		} else {
			if (jobs[i].result != JOB_SENT)
				log_kv(LOG_WARN, "read receipt dropped",
				    "#message_id", p[0], "code",
				    jobs[i].err_code, "error", jobs[i].err_msg,
				    NULL);
			rc = db_exec(db, STMT_RECEIPT_DONE, 1, p, &r2);
		}
		/* Not recorded: the lease runs out and it goes again. */
		if (rc != DB_OK)
			log_kv(LOG_WARN, "read receipt not recorded",
			    "#message_id", p[0], NULL);
		db_res_free(r2);
	}
	mem_free(jobs);
	db_res_free(res);
}

static void
dispatch_housekeeping(struct db *db, const struct settings *s, time_t *last)
{
	PGresult	*res = NULL;
	const char	*p[2];
	char		 deliver[24], readms[24], err[256], num[16];
	time_t		 now;
	int		 n;

	if (s->provider == PROVIDER_SIMULATED) {
		snprintf(deliver, sizeof(deliver), "%ld", s->sim_deliver_ms);
		snprintf(readms, sizeof(readms), "%ld", s->sim_read_ms);
		p[0] = deliver;
		p[1] = readms;
		if (db_exec(db, STMT_SIM_ADVANCE, 2, p, &res) == DB_OK)
			db_res_free(res);
	}
	now = time(NULL);
	/* The templates: at start, then every WADESK_TEMPLATE_SYNC_S. */
	if (s->template_sync_s > 0 && (dispatch_synced == 0 ||
	    now - dispatch_synced >= s->template_sync_s)) {
		dispatch_synced = now;
		if ((n = template_sync(db, s, err, sizeof(err))) == -1)
			log_kv(LOG_WARN, "templates sync failed", "error", err,
			    NULL);
		else {
			snprintf(num, sizeof(num), "%d", n);
			log_kv(LOG_INFO, "templates synced", "#templates", num,
			    NULL);
		}
	}
	if (now - *last >= DISPATCH_PURGE_S) {
		*last = now;
		if (db_exec(db, STMT_HOUSEKEEPING, 0, NULL, &res) == DB_OK)
			db_res_free(res);
		if (db_exec(db, STMT_PENDING_PURGE, 0, NULL, &res) == DB_OK)
			db_res_free(res);
	}
}

int
dispatch_main(const struct settings *s)
{
	struct sigaction	 sa;
	struct provider		*prov;
	struct db		 db;
	PGresult		*res = NULL;
	unsigned long		 listening = 0;
	time_t			 last_purge = 0;
	long long		 last_tick = 0, idle_at = 0;
	int			 idle = 0;
	char			 name[300], host[256];
	long			 wait_ms;
	int			 n;
	char			 conc[16];
	struct child		 events = { "event delivery", events_main, -1,
				    0 };
	struct child		 indexer = { "search indexer", indexer_main,
				    -1, 0 };

	/* Events to other systems, the search index: processes of their own. */
	child_start(&events, s);
	child_start(&indexer, s);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = dispatch_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (gethostname(host, sizeof(host)) == -1)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	snprintf(name, sizeof(name), "%s:%ld", host, (long)getpid());
	prov = provider_new(s);
	db_init(&db, s->database_url, s->db_options, stmts_sql, stmts_generic,
	    STMT__MAX);
	db_set_deadline(&db, s->db_deadline_ms);
	snprintf(conc, sizeof(conc), "%ld", s->concurrency);
	log_kv(LOG_INFO, "dispatching", "provider", provider_name(prov),
	    "#concurrency", conc, NULL);
	/* A batch must finish well inside its lease, or rows go out twice. */
	if (s->provider == PROVIDER_CLOUDAPI &&
	    ((s->batch + s->concurrency - 1) / s->concurrency) *
	    s->cloudapi_timeout_ms >= s->lease_s * 1000L)
		log_kv(LOG_WARN, "WADESK_LEASE_S is shorter than a slow batch "
		    "can take (batch / concurrency x timeout); raise it or "
		    "messages may be sent twice", NULL);
	while (!dispatch_stop) {
		child_watch(&events, s, 0);
		child_watch(&indexer, s, 0);
		if (db_ensure(&db) != DB_OK) {
			listening = 0;
			dispatch_wait(&db, DISPATCH_SWEEP_MS);
			continue;
		}
		/* A new connection needs its LISTEN again. */
		if (listening != db.generation) {
			if (dispatch_listen(&db) == -1)
				continue;
			listening = db.generation;
		}
		if ((n = dispatch_batch(&db, prov, s)) > 0) {
			if (idle && dispatch_mark(&db, STMT_DISPATCH_BUSY,
			    name) == 0)
				idle = 0;
			/* Busy: the simulator's clock still ticks. */
			if (clock_ms() - last_tick >= DISPATCH_SIM_TICK_MS) {
				last_tick = clock_ms();
				dispatch_housekeeping(&db, s, &last_purge);
				dispatch_receipts(&db, prov, s);
				/* One file: sends are waiting. */
				(void)media_fetch_due(&db, prov, s, 1);
			}
			continue;
		}
		if (n == -1) {
			dispatch_wait(&db, DISPATCH_SWEEP_MS);
			continue;
		}
		/*
		 * Nothing due: say so (sends notify only while a dispatcher
		 * is idle), then claim once more before sleeping, for rows
		 * committed before the announcement was visible.
		 */
		if (!idle || clock_ms() - idle_at >= DISPATCH_SWEEP_MS) {
			if (dispatch_mark(&db, STMT_DISPATCH_IDLE, name) == 0) {
				idle_at = clock_ms();
				if (!idle) {
					idle = 1;
					continue;
				}
			}
		}
		last_tick = clock_ms();
		dispatch_housekeeping(&db, s, &last_purge);
		dispatch_receipts(&db, prov, s);
		/* Inbound media waiting: fetch, then look for work again. */
		if (media_fetch_due(&db, prov, s, DISPATCH_MEDIA_BATCH) > 0)
			continue;
		wait_ms = DISPATCH_SWEEP_MS;
		if (db_exec(&db, STMT_OUTBOX_NEXT_MS, 0, NULL, &res) == DB_OK &&
		    !PQgetisnull(res, 0, 0))
			wait_ms = strtol(PQgetvalue(res, 0, 0), NULL, 10);
		db_res_free(res);
		res = NULL;
		if (wait_ms > DISPATCH_SWEEP_MS)
			wait_ms = DISPATCH_SWEEP_MS;
		if (s->provider == PROVIDER_SIMULATED &&
		    wait_ms > DISPATCH_SIM_TICK_MS)
			wait_ms = DISPATCH_SIM_TICK_MS;
		/*
		 * Rows due yet not claimable are held by another dispatcher's
		 * claim for an instant: pause briefly rather than spin.
		 */
		if (wait_ms < DISPATCH_MIN_WAIT_MS)
			wait_ms = DISPATCH_MIN_WAIT_MS;
		if (!dispatch_stop)
			dispatch_wait(&db, wait_ms);
	}
	if (idle && db.conn != NULL)
		(void)dispatch_mark(&db, STMT_DISPATCH_BUSY, name);
	child_watch(&events, s, 1);
	child_watch(&indexer, s, 1);
	log_kv(LOG_INFO, "dispatcher stopped", NULL);
	db_cleanup(&db);
	provider_free(prov);
	return 0;
}
