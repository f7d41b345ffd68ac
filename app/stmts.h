/*
 * stmts — every SQL statement of the program, indexed by enum.
 *
 * app/stmts.c is the only file with SQL.  lib/db prepares the whole table on
 * each connection; callers execute by enum with $n parameters only.
 */
#ifndef WADESK_STMTS_H
#define WADESK_STMTS_H

enum stmt {
	STMT_READY,
	STMT_LOCAL_TIMEOUT,
	STMT_APIKEY_AUTH,
	STMT_APIKEY_CREATE,
	STMT_APIKEY_REVOKE,
	STMT_APIKEY_LIST,
	STMT_MSG_SEND,
	STMT_MSG_SEND_KEYED,
	STMT_MSG_INBOUND,
	STMT_MSG_BY_PROVIDER_ID,
	STMT_MSG_GET,
	STMT_MSG_EVENTS,
	STMT_MSG_LIST,
	STMT_IDEM_LOCK,
	STMT_IDEM_GET,
	STMT_IDEM_PUT,
	STMT_STATUS_APPLY,
	STMT_PENDING_TAKE,
	STMT_OUTBOX_CLAIM,
	STMT_OUTBOX_SENT,
	STMT_OUTBOX_RETRY,
	STMT_OUTBOX_FAIL,
	STMT_DISPATCH_IDLE,
	STMT_DISPATCH_BUSY,
	STMT_OUTBOX_NEXT_MS,
	STMT_SIM_ADVANCE,
	STMT_HOUSEKEEPING,
	/* The admin pages. */
	STMT_ADMIN_USER_GET,
	STMT_ADMIN_LOGIN_ATTEMPT,
	STMT_ADMIN_LOGIN_THROTTLE,
	STMT_ADMIN_LOGIN_FORGET,
	STMT_ADMIN_SESSION_NEW,
	STMT_ADMIN_SESSION_GET,
	STMT_ADMIN_SESSION_DELETE,
	STMT_ADMIN_STATUS_COUNTS,
	STMT_ADMIN_HOURLY,
	STMT_MSG_LIST_NEWER,
	STMT_MSG_RETRY,
	/* Appended: `wadesk user add` and /metrics. */
	STMT_USER_ADD_RESET,
	STMT_METRICS_CAPPED,
	STMT_PENDING_PURGE,
	/* The contacts API. */
	STMT_CONTACT_LIST,
	STMT_CONTACT_GET,
	STMT_CONTACT_CHANGE,
	/* The webhook's reactions, message errors, number changes. */
	STMT_MSG_INBOUND_REACTION,
	STMT_MSG_INBOUND_ERROR,
	STMT_CONTACT_RENUMBER,
	/* Appended: the admin's conversations (contacts). */
	STMT_ADMIN_CONTACTS,
	STMT_ADMIN_CONTACT_OPEN,
	STMT_ADMIN_CONTACT_THREAD,
	STMT_ADMIN_CONTACT_BY_PHONE,
	STMT_ADMIN_CONTACT_STATE,
	STMT_ADMIN_CONTACT_ASSIGN,
	STMT_ADMIN_USERS,
	STMT_ADMIN_CONTACT_COUNTS,
	STMT__MAX
};

/* Statements of `wadesk migrate`, which runs before the schema exists. */
enum mig_stmt {
	MIG_LOCK,
	MIG_TABLE,
	MIG_APPLIED,
	MIG_RECORD,
	MIG__MAX
};

extern const char *const stmts_sql[STMT__MAX];
extern const unsigned char stmts_generic[STMT__MAX];
extern const char *const stmts_mig_sql[MIG__MAX];

#endif
