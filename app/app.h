/*
 * app — what a handler sees: the request, the worker's database connection,
 * the settings, and what the route table's policy found (routes.h): the API
 * key, the admin session, the decoded body.
 *
 * A handler runs only after routes_dispatch() has done every step its route
 * row asks for; it starts with those fields filled and answers the rest
 * itself.  Every failure answer goes through app_fail(): a JSON error under
 * /api/ and for the operations routes, a whole HTML page under /admin/.
 */
#ifndef WADESK_APP_H
#define WADESK_APP_H

#include <json-c/json.h>

#include "crypto.h"
#include "db.h"
#include "query.h"
#include "req.h"
#include "settings.h"

#define APP_MAX_ARGS	2
/* The largest id a route or a parameter accepts (18 digits). */
#define APP_ID_MAX	999999999999999999LL
#define APP_ID_DIGITS	18
/* The largest body of ROUTE_RAW (an upload) and of a ROUTE_MULTIPART file. */
#define APP_UPLOAD_MAX	(16 * 1024 * 1024)

struct multipart;

/* A logged-in admin user (cookie -> admin_sessions). */
struct admin_session {
	long long	 user_id;
	const char	*username;
	const char	*csrf;
	char		 token_hash[CRYPTO_SHA256_HEX];
};

struct app {
	struct req		*req;
	struct db		*db;
	const struct settings	*cfg;
	const char		*route;		/* pattern, for logs */
	int			 route_id;	/* enum route; ROUTE__MAX: none */
	int			 html;		/* answers are admin pages */
	const char		*args[APP_MAX_ARGS];	/* {id} captures */
	/* Filled by routes_dispatch() as the route's flags ask: */
	long long		 api_key_id;	/* ROUTE_APIKEY */
	char			 key_hash[CRYPTO_SHA256_HEX]; /* ROUTE_KEY_HASH */
	const struct admin_session *sess;	/* ROUTE_SESSION(_OPT); else NULL */
	struct admin_session	 sess_buf;
	struct json_object	*json;		/* ROUTE_JSON: owned by dispatch */
	struct query		 form;		/* ROUTE_FORM */
	struct multipart	*files;		/* ROUTE_MULTIPART, or NULL */
};

/*
 * The failures routes_dispatch() and handlers answer the same way on every
 * route: a status, a JSON code and message, and an HTML title and message.
 */
enum app_fail {
	APP_FAIL_DB_UNAVAILABLE,	/* 503 + Retry-After */
	APP_FAIL_DB_BUSY,		/* 503 + Retry-After: serialization */
	APP_FAIL_SEARCH_TIMEOUT,	/* 503 + Retry-After: a slow search */
	APP_FAIL_CONFLICT,		/* 409: a unique row already exists */
	APP_FAIL_INTERNAL,		/* 500: logged with detail */
	APP_FAIL_UNAUTHORIZED,		/* 401 + WWW-Authenticate: Bearer */
	APP_FAIL_BAD_SIGNATURE,		/* 401 */
	APP_FAIL_CSRF,			/* 403 */
	APP_FAIL_LOGIN_CSRF,		/* 403: the login form's own token */
	APP_FAIL_NOT_JSON,		/* 415 */
	APP_FAIL_NOT_FORM,		/* 415 */
	APP_FAIL_TOO_LARGE,		/* 413 */
	APP_FAIL_BODY_SHORT,		/* 400 */
	APP_FAIL_BAD_JSON,		/* 400 */
	APP_FAIL_BAD_FORM,		/* 400 */
	APP_FAIL_NOT_FOUND,		/* 404: no such route */
	APP_FAIL_METHOD,		/* 405: the caller sets Allow */
	APP_FAIL_BUSY,			/* 429 + Retry-After: too many at once */
	APP_FAIL_UPLOAD_TOO_LARGE,	/* 413: over APP_UPLOAD_MAX */
	APP_FAIL__MAX
};

/*
 * Answers failure f: JSON {"error": {code, message}} or an HTML page,
 * whichever the request's area takes.  message, when not NULL, replaces the
 * JSON message (e.g. what exactly is wrong with the JSON).
 */
void	app_fail(struct app *, enum app_fail, const char *);
/*
 * A database result code as its answer: DB_UNAVAILABLE and DB_RETRY 503,
 * DB_CONFLICT 409, anything else 500 (the detail is logged by lib/db).
 */
void	app_db_error(struct app *, enum db_rc);
/*
 * Reads a raw body of APP_UPLOAD_MAX bytes at most (ROUTE_RAW); -1 after
 * answering 413 or 400.
 */
int	app_read_upload(struct app *) __attribute__((warn_unused_result));
/* Reads the body (64 KiB at most); -1 after answering 413 or 400. */
int	app_read_body(struct app *) __attribute__((warn_unused_result));
/*
 * Requires Content-Type application/json and a body that is one JSON object;
 * -1 after answering 415, 413 or 400 invalid_json.  The caller puts *root.
 */
int	app_parse_json(struct app *, struct json_object **)
	    __attribute__((warn_unused_result));

/*
 * An error found before it may be answered: a route that must check its
 * credentials first keeps it, and answers it (app_err_answer) only once the
 * credentials are known to be good.
 */
struct app_err {
	int		 status;
	const char	*code;		/* static */
	const char	*field;		/* static or NULL */
	char		 message[160];
};

void	app_err_set(struct app_err *, int, const char *, const char *,
	    const char *);
void	app_err_answer(struct app *, const struct app_err *);
/* app_parse_json() that keeps the error in *e instead. */
int	app_parse_json_err(struct app *, struct json_object **,
	    struct app_err *) __attribute__((warn_unused_result));
/*
 * Answers 200 {"data": data, "next": link or null} for a list (data is
 * taken over).  With more set, the link is path + "?" + the query's
 * filters named in keep (a NULL-terminated list; empty ones left out),
 * percent-encoded, then limit and before_id=last (the last id shown).
 */
void	app_list_answer(struct app *, struct json_object *, int, const char *,
	    const struct query *, const char *const *, long long, long long);
/*
 * The business's side of a message when the payload names none:
 * WADESK_BUSINESS_NUMBER, or "Me" when that is unset.
 */
const char *app_business_number(const struct app *);

#endif
