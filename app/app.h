/*
 * app — what a handler sees: the request, the worker's database connection,
 * the settings, and what routing and authentication found.
 */
#ifndef WADESK_APP_H
#define WADESK_APP_H

#include "db.h"
#include "req.h"
#include "settings.h"

#define APP_MAX_ARGS	2

struct app {
	struct req		*req;
	struct db		*db;
	const struct settings	*cfg;
	const char		*route;		/* pattern, for logs */
	int			 route_id;	/* enum route; ROUTE__MAX: none */
	const char		*args[APP_MAX_ARGS];	/* {id} captures */
	long long		 api_key_id;	/* set by auth_api_key() */
};

/* 503 database_unavailable with Retry-After. */
void	app_db_unavailable(struct app *);
/* 503 for DB_UNAVAILABLE, 500 otherwise (the detail is already logged). */
void	app_db_error(struct app *, int);
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
/* app_read_body() and app_parse_json() that keep the error in *e instead. */
int	app_read_body_err(struct app *, struct app_err *)
	    __attribute__((warn_unused_result));
int	app_parse_json_err(struct app *, struct json_object **,
	    struct app_err *) __attribute__((warn_unused_result));

#endif
