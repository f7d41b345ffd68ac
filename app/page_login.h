/*
 * page_login — /admin/login and /admin/logout.
 *
 * The login form carries a token that must match the wadesk_login cookie
 * the form's page set (no login CSRF).  A successful login always starts a
 * new session (a new random token; the one the browser had is deleted),
 * sets the session cookie and answers 303 to ?next= when it is a path
 * under /admin/, else to /admin/.  Failures are logged with the user name
 * (never the password), recorded, and answered 401 with the form again.
 * Each attempt is recorded before it is counted, so parallel guesses count
 * each other: after ADMIN_LOGIN_MAX_FAILS failures of one user from one
 * address (an IPv6 address by its /64) within five minutes, or
 * ADMIN_LOGIN_MAX_USER_FAILS of one user from anywhere, logins are refused
 * with 429 and Retry-After.  Password hashes (argon2id, 64 MiB each) run
 * at most one per CPU at once on a host; a login beyond that gets 429.
 * nginx limits the rate per client address and in all.
 */
#ifndef WADESK_PAGE_LOGIN_H
#define WADESK_PAGE_LOGIN_H

#include "app.h"

#define ADMIN_LOGIN_MAX_FAILS		5
#define ADMIN_LOGIN_MAX_USER_FAILS	50

/* GET: the form (303 to next when already logged in). */
void	page_login_form(struct app *);
/* POST: 303 on success; 401/403/422/429 with the form otherwise. */
void	page_login_submit(struct app *);
/* POST with CSRF: deletes the session, clears the cookie, 303 to login. */
void	page_logout(struct app *);

#endif
