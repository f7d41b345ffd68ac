/*
 * db — one libpq connection and the enum-indexed statements it runs.
 *
 * The caller owns a struct db: db_init() records the URL and the enum-indexed
 * SQL table (nothing connects yet), db_ensure() connects lazily and notices a connection the server has closed (restart,
 * failover) before it is used, so a request never fails on a stale socket.
 * Reconnect attempts are throttled while the server is down.  Each statement
 * is prepared on the connection the first time it is executed, so a process
 * prepares only what it uses and `migrate` can run before the schema exists.
 * db->generation changes whenever a new connection is made, so a caller can
 * redo per-session set-up (LISTEN) after a reconnect.
 *
 * Results: every call that returns a PGresult gives ownership to the caller,
 * who releases it with db_res_free() (NULL is fine).
 */
#ifndef WADESK_DB_H
#define WADESK_DB_H

#include <stddef.h>
#include <libpq-fe.h>

enum db_rc {
	DB_OK,
	DB_UNAVAILABLE,		/* server unreachable, read-only, out of space */
	DB_CONFLICT,		/* unique violation (23505) */
	DB_RETRY,		/* serialization failure or deadlock */
	DB_TIMEOUT,		/* statement_timeout (57014) */
	DB_ERROR,		/* anything else: a bug, logged with detail */
	DB__MAX
};

struct db {
	PGconn			*conn;
	const char		*url;
	const char		*options;	/* libpq "options" (-c ...) */
	const char *const	*sql;
	const unsigned char	*generic;	/* per statement, or NULL */
	size_t			 nstmts;
	unsigned char		*prepared;	/* one flag per statement */
	unsigned long		 generation;	/* +1 on every new connection */
	long long		 next_try_ms;	/* clock_ms() */
	int			 failures;
	int			 unreplicated;	/* see db_notice() */
	long			 deadline_ms;	/* see db_set_deadline() */
};

/*
 * url, options, the SQL table, which statements to prepare, and the table's
 * size.  generic is NULL (prepare all) or one flag per statement: a flagged
 * statement is prepared on first use, and PostgreSQL switches it to a
 * generic plan when that costs no more, so it is not planned again on every
 * call; the others are planned on every call with their real parameters
 * (PQexecParams).
 */
void		db_init(struct db *, const char *, const char *,
		    const char *const *, const unsigned char *, size_t);
/*
 * A call still running ms milliseconds after it was sent is cancelled (0,
 * the default: no deadline).  Set it above statement_timeout: it is for
 * what that does not cover, a commit waiting for a synchronous standby.
 */
void		db_set_deadline(struct db *, long);
void		db_cleanup(struct db *);
/* Connected, prepared and idle: DB_OK, else DB_UNAVAILABLE. */
enum db_rc	db_ensure(struct db *) __attribute__((warn_unused_result));
/*
 * Runs statement stmt with NUL-terminated text parameters: prepared on
 * first use when the table flags it generic (or when generic is NULL),
 * else planned on every call.  Without a connection (db_ensure() not called
 * or failed) it returns DB_UNAVAILABLE.
 */
enum db_rc	db_exec(struct db *, int, int, const char *const *,
		    PGresult **) __attribute__((warn_unused_result));
/*
 * db_exec() with lens[i] bytes of parameter i sent in binary (formats[i]
 * 1; lens and formats may be NULL: all text) and the result in binary when
 * binary_result is set: for bytea, which as text doubles in size (hex).
 * Always planned per call (PQexecParams): these move files, not rows.
 */
enum db_rc	db_exec_bin(struct db *, int, int, const char *const *,
		    const int *, const int *, int, PGresult **)
		    __attribute__((warn_unused_result));
/* Runs constant SQL text (no parameters): BEGIN, COMMIT, migrations. */
enum db_rc	db_simple(struct db *, const char *, PGresult **)
		    __attribute__((warn_unused_result));
enum db_rc	db_begin(struct db *) __attribute__((warn_unused_result));
enum db_rc	db_commit(struct db *) __attribute__((warn_unused_result));
void		db_rollback(struct db *);
void		db_res_free(PGresult *);
const char	*db_strerror(enum db_rc);
/*
 * 1 when the same statement may well succeed if tried again later: the
 * server unreachable, a serialization failure or deadlock, a timeout (a
 * lock held too long).  Anything else fails again the same way.
 */
int		db_rc_transient(enum db_rc);
/* Maps a SQLSTATE to a result code. */
enum db_rc	db_sqlstate_rc(const char *);
/* A column as a string; NULL for SQL NULL. */
const char	*db_get(const PGresult *, int, int);
/*
 * Appends n strings as a PostgreSQL array literal ({"a","b"}), quoting
 * every element, for a $n::text[] or $n::bigint[] parameter.
 */
struct buf;
void		db_array(struct buf *, const char *const *, size_t);

#endif
