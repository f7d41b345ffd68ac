/*
 * model_contact — contacts (customers, known by a phone number, a BSUID or
 * both): the typed row, its JSON form, the checks of the list's filters and
 * of a change, and the statements that read and change them.
 *
 * A struct contact borrows every string from the PGresult it was filled
 * from; it is valid until that result is freed.
 */
#ifndef WADESK_MODEL_CONTACT_H
#define WADESK_MODEL_CONTACT_H

#include <json-c/json.h>
#include <libpq-fe.h>

#include "db.h"

/* The value of the list's assignee filter that means "nobody". */
#define CONTACT_UNASSIGNED	"none"

/* Column order of CONTACT_COLS in stmts.c. */
enum contact_col {
	CONTACT_COL_ID,
	CONTACT_COL_PHONE,
	CONTACT_COL_USER_ID,
	CONTACT_COL_PARENT_USER_ID,
	CONTACT_COL_USERNAME,
	CONTACT_COL_NAME,
	CONTACT_COL_LAST_INBOUND_AT,
	CONTACT_COL_WINDOW_EXPIRES_AT,
	CONTACT_COL_STATE,
	CONTACT_COL_ASSIGNEE,
	CONTACT_COL_UNREAD,
	CONTACT_COL__MAX
};

struct contact {
	long long	 id;
	const char	*phone;			/* E.164 with '+', or NULL */
	const char	*user_id;		/* BSUID, or NULL */
	const char	*parent_user_id;
	const char	*username;
	const char	*name;
	const char	*last_inbound_at;	/* RFC 3339, or NULL */
	const char	*window_expires_at;	/* + 24 h, or NULL */
	const char	*state;			/* open | resolved */
	const char	*assignee;		/* admin user name, or NULL */
	long long	 unread;
};

/* The parameters of STMT_CONTACT_LIST, in order ($1 ... $7). */
enum contact_list_param {
	CONTACT_P_Q,		/* ILIKE pattern (model_message_like) */
	CONTACT_P_STATE,	/* open | resolved */
	CONTACT_P_ASSIGNEE,	/* an admin user name */
	CONTACT_P_UNASSIGNED,	/* "true": nobody's only */
	CONTACT_P_WINDOW,	/* open | closed */
	CONTACT_P_BEFORE,	/* ids below this one */
	CONTACT_P_LIMIT,
	CONTACT_P__MAX
};

/*
 * A change of a contact (PATCH): each part is set only when its flag is.
 * assignee NULL with set_assignee unassigns.  Strings borrow from the body.
 */
struct contact_change {
	int		 set_state;
	const char	*state;
	int		 set_assignee;
	const char	*assignee;
};

void	model_contact_fill(struct contact *, const PGresult *, int);
/* A new JSON object (caller puts it) in the API's contact shape. */
struct json_object *model_contact_json(const struct contact *);
/* 1 when s is a conversation state (open, resolved). */
int	model_contact_state_valid(const char *);
/*
 * 1 when s may be an admin user's name: valid UTF-8, 1-200 characters, no
 * control characters.
 */
#define CONTACT_ASSIGNEE_MAX	200
int	model_contact_assignee_valid(const char *);
/* 1 when s is a window filter value (open, closed). */
int	model_contact_window_valid(const char *);
/*
 * Reads a PATCH body into *ch: "state" (a string, open or resolved) and
 * "assignee" (a string or null), each optional; other members are
 * ignored.  0, or -1 with the wrong field and a message for the client.
 */
int	model_contact_change_parse(struct json_object *,
	    struct contact_change *, const char **, const char **)
	    __attribute__((warn_unused_result));
/*
 * Runs STMT_CONTACT_LIST.  A search (CONTACT_P_Q set) runs in a
 * transaction of its own with statement_timeout MESSAGE_SEARCH_TIMEOUT
 * (DB_TIMEOUT when it ends early), as the messages' search does.
 */
enum db_rc model_contact_list(struct db *, const char *const[CONTACT_P__MAX],
	    PGresult **) __attribute__((warn_unused_result));
/* Contact id (decimal text): one row, none when there is no such contact. */
enum db_rc model_contact_get(struct db *, const char *, PGresult **)
	    __attribute__((warn_unused_result));
/*
 * Applies *ch to contact id: one row (the changed contact) back, none when
 * the contact does not exist or the assignee is no admin user.
 */
enum db_rc model_contact_change(struct db *, const char *,
	    const struct contact_change *, PGresult **)
	    __attribute__((warn_unused_result));

#endif
