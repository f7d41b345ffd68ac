#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "clock.h"
#include "db.h"
#include "log.h"
#include "mem.h"

#define DB_RETRY_MS	200
#define DB_CANCEL_MS	2000

static const char *const db_errs[DB__MAX] = {
	[DB_OK] = "ok",
	[DB_UNAVAILABLE] = "database unavailable",
	[DB_CONFLICT] = "unique violation",
	[DB_RETRY] = "serialization failure",
	[DB_TIMEOUT] = "statement timeout",
	[DB_ERROR] = "database error",
};

static enum db_rc	db_connect(struct db *);
static void		db_drop(struct db *);
static enum db_rc	db_result(struct db *, PGresult *, const char *);
static enum db_rc	db_prepare(struct db *, int, const char *);
static int		db_alive(struct db *);
static void		db_notice(void *, const PGresult *);
static PGresult		*db_wait(struct db *, int);

const char *
db_strerror(enum db_rc rc)
{
	return rc < DB__MAX ? db_errs[rc] : "unknown";
}

int
db_rc_transient(enum db_rc rc)
{
	return rc == DB_UNAVAILABLE || rc == DB_RETRY || rc == DB_TIMEOUT;
}

void
db_init(struct db *db, const char *url, const char *options,
    const char *const *sql, const unsigned char *generic, size_t nstmts)
{
	memset(db, 0, sizeof(*db));
	db->url = url;
	db->options = options;
	db->sql = sql;
	db->generic = generic;
	db->nstmts = nstmts;
	db->prepared = mem_calloc(nstmts ? nstmts : 1, 1);
}

void
db_cleanup(struct db *db)
{
	if (db == NULL)
		return;
	db_drop(db);
	mem_free(db->prepared);
	db->prepared = NULL;
}

static void
db_drop(struct db *db)
{
	if (db->conn != NULL)
		PQfinish(db->conn);
	db->conn = NULL;
	memset(db->prepared, 0, db->nstmts);
}

static enum db_rc
db_connect(struct db *db)
{
	/*
	 * Before dbname, defaults the URL may change: a primary that vanished
	 * without closing its sockets (a dead machine) fails a call after 5 s
	 * of unacknowledged data, and an idle connection after about 16 s.
	 */
	const char	*keys[] = { "tcp_user_timeout", "keepalives_idle",
			    "keepalives_interval", "keepalives_count", "dbname",
			    "options", "application_name", "connect_timeout",
			    NULL };
	const char	*vals[] = { "5000", "10", "2", "3", db->url,
			    db->options, "wadesk", "3", NULL };
	if (clock_ms() < db->next_try_ms)
		return DB_UNAVAILABLE;
	db->conn = PQconnectdbParams(keys, vals, 1);
	if (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK) {
		/* The first failure in a row is worth a line; not every retry. */
		if (db->failures++ == 0)
			log_kv(LOG_ERROR, "database connect failed", "cause",
			    db->conn ? PQerrorMessage(db->conn) : "no memory",
			    NULL);
		goto fail;
	}
	PQsetNoticeReceiver(db->conn, db_notice, db);
	if (db->failures > 0)
		log_kv(LOG_INFO, "database connected", NULL);
	db->failures = 0;
	db->generation++;
	return DB_OK;
fail:
	db_drop(db);
	db->next_try_ms = clock_ms() + DB_RETRY_MS;
	return DB_UNAVAILABLE;
}

/*
 * Messages the server sends beside a result.  Warnings become log lines
 * (libpq would print them raw on stderr); the rest is dropped.  One of
 * them matters: with synchronous replication, a commit whose wait for the
 * standby was cancelled (statement_timeout) is committed on the primary
 * alone.  It has no SQLSTATE of its own, so it is known by its (English)
 * text; db_result then reports the call DB_UNAVAILABLE, not done.
 */
static void
db_notice(void *arg, const PGresult *res)
{
	struct db	*db = arg;
	const char	*sev, *msg;

	sev = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
	msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	if (sev == NULL || strcmp(sev, "WARNING") != 0 || msg == NULL)
		return;
	if (strncmp(msg, "canceling wait for synchronous replication",
	    strlen("canceling wait for synchronous replication")) == 0)
		db->unreplicated = 1;
	log_kv(LOG_WARN, "database warning", "cause", msg, NULL);
}

/*
 * A server that shut down or restarted has closed our socket (and usually
 * sent a FATAL message first), so the socket polls readable.  Consume that
 * input: if libpq then reports the connection bad, it is.
 */
static int
db_alive(struct db *db)
{
	struct pollfd	pfd;
	PGnotify	*n;

	if (PQstatus(db->conn) != CONNECTION_OK)
		return 0;
	pfd.fd = PQsocket(db->conn);
	pfd.events = POLLIN;
	pfd.revents = 0;
	if (pfd.fd < 0)
		return 0;
	if (poll(&pfd, 1, 0) > 0) {
		if (PQconsumeInput(db->conn) == 0 ||
		    PQstatus(db->conn) != CONNECTION_OK)
			return 0;
		while ((n = PQnotifies(db->conn)) != NULL)
			PQfreemem(n);
	}
	return 1;
}

enum db_rc
db_ensure(struct db *db)
{
	if (db->conn != NULL && !db_alive(db)) {
		log_kv(LOG_WARN, "database connection lost", NULL);
		db_drop(db);
	}
	if (db->conn == NULL && db_connect(db) != DB_OK)
		return DB_UNAVAILABLE;
	if (PQtransactionStatus(db->conn) != PQTRANS_IDLE)
		db_rollback(db);
	return DB_OK;
}

enum db_rc
db_sqlstate_rc(const char *state)
{
	if (state == NULL)
		return DB_ERROR;
	if (strcmp(state, "23505") == 0)
		return DB_CONFLICT;
	if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0)
		return DB_RETRY;
	if (strcmp(state, "57014") == 0)
		return DB_TIMEOUT;
	/* connection exceptions, shutdown/crash, resources, read-only */
	if (strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0 ||
	    strncmp(state, "53", 2) == 0 || strcmp(state, "25006") == 0 ||
	    strcmp(state, "58030") == 0)
		return DB_UNAVAILABLE;
	return DB_ERROR;
}

static enum db_rc
db_result(struct db *db, PGresult *res, const char *what)
{
	ExecStatusType	 st;
	enum db_rc	 rc;
	const char	*state;
	int		 unreplicated;

	unreplicated = db->unreplicated;
	db->unreplicated = 0;
	if (res == NULL) {
		rc = PQstatus(db->conn) == CONNECTION_OK ? DB_ERROR :
		    DB_UNAVAILABLE;
		log_kv(LOG_ERROR, "database call failed", "stmt", what,
		    "cause", PQerrorMessage(db->conn), NULL);
		if (rc == DB_UNAVAILABLE)
			db_drop(db);
		return rc;
	}
	st = PQresultStatus(res);
	if ((st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) && unreplicated) {
		log_kv(LOG_ERROR, "commit not confirmed by the synchronous "
		    "standby", "stmt", what, NULL);
		return DB_UNAVAILABLE;
	}
	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
		return DB_OK;
	state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	rc = db_sqlstate_rc(state);
	if (PQstatus(db->conn) != CONNECTION_OK)
		rc = DB_UNAVAILABLE;
	if (rc != DB_CONFLICT)
		log_kv(rc == DB_RETRY ? LOG_WARN : LOG_ERROR, "database error",
		    "stmt", what, "sqlstate", state,
		    "cause", PQresultErrorMessage(res), NULL);
	/* A server that accepts no writes (a standby): find the primary. */
	if (PQstatus(db->conn) != CONNECTION_OK ||
	    (state != NULL && strcmp(state, "25006") == 0))
		db_drop(db);
	return rc;
}

void
db_set_deadline(struct db *db, long ms)
{
	db->deadline_ms = ms;
}

/*
 * The result of the command just sent (sent: what PQsend* returned), as
 * PQexec would return it: the first error, else the last result.  With a
 * deadline (db_set_deadline), a call still running when it passes is
 * cancelled: statement_timeout does not cover everything, e.g. a commit
 * waiting for a synchronous standby that is gone.  If the server does not
 * answer the cancel within DB_CANCEL_MS either, the connection is dropped.
 * NULL when the call failed or the connection was dropped.
 */
static PGresult *
db_wait(struct db *db, int sent)
{
	struct pollfd	 pfd;
	PGcancel	*cancel;
	PGresult	*res, *out = NULL;
	char		 err[256];
	long long	 end, left;
	int		 cancelled = 0, n;

	if (!sent)
		return NULL;
	end = clock_ms() + db->deadline_ms;
	while (PQisBusy(db->conn)) {
		pfd.fd = PQsocket(db->conn);
		pfd.events = POLLIN;
		pfd.revents = 0;
		left = end - clock_ms();
		n = poll(&pfd, 1, db->deadline_ms <= 0 ? -1 :
		    left > 0 ? (int)left : 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n > 0) {
			if (PQconsumeInput(db->conn) == 0)
				break;
			continue;
		}
		if (n < 0 || cancelled) {
			log_kv(LOG_ERROR, "database call not answered after "
			    "its cancel; dropping the connection", NULL);
			db_drop(db);
			return NULL;
		}
		/* The deadline passed: cancel, and wait a little more. */
		log_kv(LOG_WARN, "database call past its deadline; cancelling",
		    NULL);
		cancelled = 1;
		if ((cancel = PQgetCancel(db->conn)) != NULL) {
			(void)PQcancel(cancel, err, sizeof(err));
			PQfreeCancel(cancel);
		}
		end = clock_ms() + DB_CANCEL_MS;
	}
	while ((res = PQgetResult(db->conn)) != NULL) {
		if (out != NULL && PQresultStatus(out) == PGRES_FATAL_ERROR) {
			PQclear(res);	/* the first error is the answer */
			continue;
		}
		PQclear(out);
		out = res;
	}
	return out;
}

/* Prepares statement stmt as name on this connection, once. */
static enum db_rc
db_prepare(struct db *db, int stmt, const char *name)
{
	PGresult	*res;
	enum db_rc	 rc;

	if (db->prepared[stmt])
		return DB_OK;
	res = db_wait(db, PQsendPrepare(db->conn, name, db->sql[stmt], 0,
	    NULL));
	rc = db_result(db, res, name);
	db_res_free(res);
	if (rc == DB_OK)
		db->prepared[stmt] = 1;
	return rc;
}

enum db_rc
db_exec(struct db *db, int stmt, int nparams, const char *const *params,
    PGresult **out)
{
	PGresult	*res;
	char		 name[16];
	enum db_rc	 rc;

	*out = NULL;
	if (db->conn == NULL)
		return DB_UNAVAILABLE;
	if (stmt < 0 || (size_t)stmt >= db->nstmts)
		return DB_ERROR;
	snprintf(name, sizeof(name), "s%d", stmt);
	if (db->generic != NULL && !db->generic[stmt])
		res = db_wait(db, PQsendQueryParams(db->conn, db->sql[stmt],
		    nparams, NULL, params, NULL, NULL, 0));
	else if ((rc = db_prepare(db, stmt, name)) != DB_OK)
		return rc;
	else
		res = db_wait(db, PQsendQueryPrepared(db->conn, name, nparams,
		    params, NULL, NULL, 0));
	if ((rc = db_result(db, res, name)) != DB_OK) {
		db_res_free(res);
		return rc;
	}
	*out = res;
	return DB_OK;
}

enum db_rc
db_exec_bin(struct db *db, int stmt, int nparams, const char *const *params,
    const int *lens, const int *formats, int binary_result, PGresult **out)
{
	PGresult	*res;
	char		 name[16];
	enum db_rc	 rc;

	*out = NULL;
	if (db->conn == NULL)
		return DB_UNAVAILABLE;
	if (stmt < 0 || (size_t)stmt >= db->nstmts)
		return DB_ERROR;
	snprintf(name, sizeof(name), "s%d", stmt);
	res = db_wait(db, PQsendQueryParams(db->conn, db->sql[stmt], nparams,
	    NULL, params, lens, formats, binary_result ? 1 : 0));
	if ((rc = db_result(db, res, name)) != DB_OK) {
		db_res_free(res);
		return rc;
	}
	*out = res;
	return DB_OK;
}

enum db_rc
db_simple(struct db *db, const char *sql, PGresult **out)
{
	PGresult	*res;
	enum db_rc	 rc;

	if (out != NULL)
		*out = NULL;
	if (db->conn == NULL)
		return DB_UNAVAILABLE;
	res = db_wait(db, PQsendQuery(db->conn, sql));
	if ((rc = db_result(db, res, "simple")) != DB_OK || out == NULL) {
		db_res_free(res);
		return rc;
	}
	*out = res;
	return DB_OK;
}

enum db_rc
db_begin(struct db *db)
{
	return db_simple(db, "BEGIN", NULL);
}

enum db_rc
db_commit(struct db *db)
{
	return db_simple(db, "COMMIT", NULL);
}

void
db_rollback(struct db *db)
{
	if (db->conn != NULL &&
	    PQtransactionStatus(db->conn) != PQTRANS_IDLE &&
	    db_simple(db, "ROLLBACK", NULL) != DB_OK)
		db_drop(db);
}

void
db_res_free(PGresult *res)
{
	if (res != NULL)
		PQclear(res);
}

const char *
db_get(const PGresult *res, int row, int col)
{
	if (PQgetisnull(res, row, col))
		return NULL;
	return PQgetvalue(res, row, col);
}

void
db_array(struct buf *b, const char *const *v, size_t n)
{
	const char	*c;
	size_t		 i;

	buf_putc(b, '{');
	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_putc(b, ',');
		buf_putc(b, '"');
		for (c = v[i]; *c != '\0'; c++) {
			if (*c == '"' || *c == '\\')
				buf_putc(b, '\\');
			buf_putc(b, *c);
		}
		buf_putc(b, '"');
	}
	buf_putc(b, '}');
}
