/*
 * routes — the table of every route: method, path pattern, handler.
 *
 * Patterns are written without a trailing slash and match a path with or
 * without one ("/api/messages" and "/api/messages/" are the same route).
 * "{id}" matches a positive decimal integer of at most 18 digits and is
 * captured into app->args.
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
	ROUTE__MAX
};

struct route_def {
	const char	*method;
	const char	*pattern;
	void		(*handler)(struct app *);
};

extern const struct route_def routes[ROUTE__MAX];

/*
 * Finds and runs the handler for the request; answers 404 (no such path) or
 * 405 with Allow (path known, method not) itself, as HTML pages under
 * /admin, else as JSON errors.
 */
void	routes_dispatch(struct app *);
/*
 * Matches path against pattern; 1 on a match with captures stored in args.
 * Exposed for tests and the fuzzer.
 */
int	routes_match(const char *, const char *, struct arena *,
	    const char *[APP_MAX_ARGS]);

#endif
