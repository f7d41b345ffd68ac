/*
 * routes — the table of every route: method, path pattern, the per-request
 * policy the route needs, and the handler.
 *
 * Patterns are written without a trailing slash and match a path with or
 * without one ("/api/messages" and "/api/messages/" are the same route).
 * "{id}" matches a positive decimal integer of at most 18 digits and is
 * captured into app->args.
 *
 * Policy: routes_dispatch() does the steps a row's flags ask for, always in
 * this order, and answers any failure itself (app_fail(): JSON under /api/
 * and for the operations routes, HTML pages under /admin/):
 *   1. what the request alone decides: a missing or malformed API key
 *      (ROUTE_APIKEY, ROUTE_KEY_HASH: 401), the webhook's signature over
 *      the raw body (ROUTE_SIGNED: 401), no session cookie (ROUTE_SESSION:
 *      303 to the login page; a cookie is looked up, which connects);
 *   2. ROUTE_DB: a connection (503 + Retry-After);
 *   3. ROUTE_APIKEY: the key is active (401);
 *   4. ROUTE_JSON, ROUTE_FORM (+ ROUTE_MULTIPART) or ROUTE_RAW: the
 *      body, read and decoded (415, 413, 400);
 *   5. ROUTE_CSRF, ROUTE_LOGIN_CSRF: the form's token (403).
 * The handler then starts with a->api_key_id, a->sess, a->json or a->form
 * filled, and answers everything else.
 */
#ifndef WADESK_ROUTES_H
#define WADESK_ROUTES_H

#include "app.h"

enum route {
	ROUTE_HEALTHZ,
	ROUTE_READYZ,
	ROUTE_METRICS,
	ROUTE_OPENAPI,
	ROUTE_SEND_MESSAGE,
	ROUTE_MESSAGES,
	ROUTE_MESSAGE,
	ROUTE_CONTACTS,
	ROUTE_CONTACT,
	ROUTE_CONTACT_CHANGE,
	ROUTE_TEMPLATES,
	ROUTE_WEBHOOK_VERIFY,
	ROUTE_WEBHOOK,
	ROUTE_ADMIN_DASHBOARD,
	ROUTE_ADMIN_LOGIN_FORM,
	ROUTE_ADMIN_LOGIN,
	ROUTE_ADMIN_LOGOUT,
	ROUTE_ADMIN_MESSAGES,
	ROUTE_ADMIN_MESSAGE_NEW,
	ROUTE_ADMIN_MESSAGE_SEND,
	ROUTE_ADMIN_MESSAGE,
	ROUTE_ADMIN_MESSAGE_RETRY,
	ROUTE_ADMIN_CONVERSATIONS,
	ROUTE_ADMIN_CONVERSATION,
	ROUTE_ADMIN_CONVERSATION_STATE,
	ROUTE_ADMIN_CONVERSATION_ASSIGN,
	/* Appended: events to other systems. */
	ROUTE_ENDPOINTS,
	ROUTE_ENDPOINT_CREATE,
	ROUTE_ADMIN_ENDPOINTS,
	ROUTE_ADMIN_ENDPOINT_ADD,
	ROUTE_ADMIN_ENDPOINT_DISABLE,
	ROUTE_ADMIN_DELIVERY_RESEND,
	ROUTE_MEDIA_UPLOAD,
	ROUTE_MEDIA,
	ROUTE_ADMIN_MEDIA,
	ROUTE_ADMIN_CONVERSATION_REACT,
	/* Appended: business numbers. */
	ROUTE_NUMBERS,
	ROUTE__MAX
};

enum route_flag {
	ROUTE_DB = 1 << 0,		/* a database connection */
	ROUTE_APIKEY = 1 << 1,		/* an active API key: api_key_id */
	/*
	 * Only a well-formed "Authorization: Bearer <key>" (key_hash): the
	 * handler's own statement checks the key in the same round trip.
	 * The send route alone, where that round trip was measured.
	 */
	ROUTE_KEY_HASH = 1 << 2,
	ROUTE_SIGNED = 1 << 3,		/* X-Hub-Signature-256 of the body */
	ROUTE_SESSION = 1 << 4,		/* an admin session: sess */
	ROUTE_SESSION_OPT = 1 << 5,	/* sess when logged in, else NULL */
	ROUTE_JSON = 1 << 6,		/* one JSON object: json */
	ROUTE_FORM = 1 << 7,		/* a urlencoded form: form */
	ROUTE_CSRF = 1 << 8,		/* form "csrf" = the session's token */
	ROUTE_LOGIN_CSRF = 1 << 9,	/* form "csrf" = the login cookie */
	/* The body as raw bytes, up to APP_UPLOAD_MAX: req->body. */
	ROUTE_RAW = 1 << 10,
	/*
	 * With ROUTE_FORM: a multipart/form-data body is taken too (up to
	 * APP_UPLOAD_MAX and a form's worth): its text fields go to form (so
	 * ROUTE_CSRF reads the token from it), its files to files.
	 */
	ROUTE_MULTIPART = 1 << 11
};

/* Shorthands for the common rows. */
#define ROUTES_API	(ROUTE_DB | ROUTE_APIKEY)
#define ROUTES_API_JSON	(ROUTE_DB | ROUTE_APIKEY | ROUTE_JSON)
#define ROUTES_PAGE	(ROUTE_DB | ROUTE_SESSION)
#define ROUTES_FORM	(ROUTE_DB | ROUTE_SESSION | ROUTE_FORM | ROUTE_CSRF)

struct route_def {
	const char	*method;
	const char	*pattern;
	unsigned	 flags;		/* enum route_flag */
	void		(*handler)(struct app *);
};

extern const struct route_def routes[ROUTE__MAX];

/*
 * Finds the route, does its policy steps and runs its handler; answers 404
 * (no such path) or 405 with Allow (path known, method not) itself.
 */
void	routes_dispatch(struct app *);
/*
 * Matches path against pattern; 1 on a match with captures stored in args
 * (arena copies).
 */
int	routes_match(const char *, const char *, struct arena *,
	    const char *[APP_MAX_ARGS]);

#endif
