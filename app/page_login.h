/*
 * page_login — /admin/login and /admin/logout.
 *
 * The login form carries a token that must match the wadesk_login cookie
 * the form's page set (no login CSRF).  A successful login always starts a
 * new session (a new random token; the one the browser had is deleted),
 * sets the session cookie and answers 303 to ?next= when it is a path
 * under /admin/, else to /admin/.  Failures are logged with the user name
 * (never the password), recorded, and answered 401 with the form again;
 * after ADMIN_LOGIN_MAX_FAILS failures of one user within five minutes,
 * that user's logins are refused with 429 and Retry-After until the oldest
 * failure is five minutes old.  nginx limits the rate per client address.
 */
#ifndef WADESK_PAGE_LOGIN_H
#define WADESK_PAGE_LOGIN_H

#include "app.h"

#define ADMIN_LOGIN_MAX_FAILS	5

/* GET: the form (303 to next when already logged in). */
void	page_login_form(struct app *);
/* POST: 303 on success; 401/403/422/429 with the form otherwise. */
void	page_login_submit(struct app *);
/* POST with CSRF: deletes the session, clears the cookie, 303 to login. */
void	page_logout(struct app *);

#endif
