#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "admin.h"
#include "log.h"
#include "page_login.h"
#include "stmts.h"

#define LOGIN_USER_MAX	100	/* characters, as `wadesk user add` */
#define LOGIN_PW_MAX	1024	/* bytes */

static const char	*login_token(struct app *);
static void		 login_render(struct app *, int, const char *,
			    const char *, const char *);
static void		 login_cookie(struct app *, const char *,
			    const char *, const char *, long);
static int		 login_verify(const char *, const char *);

/* The login form's token: the browser's wadesk_login cookie, or a new one
 * (set on the form's page). */
static const char *
login_token(struct app *a)
{
	const char	*tok;
	char		*fresh;
	size_t		 i;

	if ((tok = admin_cookie(a, ADMIN_LOGIN_COOKIE)) != NULL &&
	    strlen(tok) == ADMIN_TOKEN_HEX - 1) {
		for (i = 0; tok[i] != '\0'; i++)
			if (strchr("0123456789abcdef", tok[i]) == NULL)
				break;
		if (tok[i] == '\0')
			return tok;
	}
	fresh = arena_alloc(a->req->arena, ADMIN_TOKEN_HEX);
	crypto_token_hex(fresh, ADMIN_TOKEN_BYTES);
	return fresh;
}

/* Set-Cookie name=value with our flags; max_age < 0: a browser session. */
static void
login_cookie(struct app *a, const char *name, const char *value,
    const char *path, long max_age)
{
	struct buf	b;

	buf_init(&b);
	buf_printf(&b, "%s=%s; Path=%s; HttpOnly; SameSite=Lax", name, value,
	    path);
	if (max_age >= 0)
		buf_printf(&b, "; Max-Age=%ld", max_age);
	if (admin_secure(a))
		buf_puts(&b, "; Secure");
	req_header(a->req, "Set-Cookie", b.data);
	buf_cleanup(&b);
}

/*
 * The form, with an error (NULL: none) and the typed user name.  A GET
 * after logout (?out=1) shows a notice.
 */
static void
login_render(struct app *a, int status, const char *error,
    const char *username, const char *next)
{
	struct admin_page	 p;
	struct html		*h = &p.h;
	struct query		 q;
	const char		*tok;

	tok = login_token(a);
	login_cookie(a, ADMIN_LOGIN_COOKIE, tok, "/admin/login", -1);
	admin_page_begin(&p, a, NULL, "Log in", ADMIN_NAV_NONE);
	html_open(h, "section");
	html_attr(h, "class", "login");
	html_elem(h, "h1", "Log in");
	if (error != NULL)
		admin_notice(h, 1, error);
	else if (strcmp(a->req->method, "POST") != 0) {
		query_parse(a->req->arena, a->req->query, &q);
		if (query_get(&q, "out") != NULL)
			admin_notice(h, 0, "You are logged out.");
	}
	html_open(h, "form");
	html_attr(h, "method", "post");
	html_attr(h, "action", "/admin/login");
	html_attr(h, "class", "stack");
	admin_hidden(h, "csrf", tok);
	if (next != NULL && admin_next_ok(next))
		admin_hidden(h, "next", next);
	html_open(h, "label");
	html_attr(h, "for", "username");
	html_str(h, "Username");
	html_close(h);
	html_void(h, "input");
	html_attr(h, "id", "username");
	html_attr(h, "name", "username");
	html_attr(h, "autocomplete", "username");
	html_attr(h, "value", username ? username : "");
	html_flag(h, "required");
	html_flag(h, "autofocus");
	html_open(h, "label");
	html_attr(h, "for", "password");
	html_str(h, "Password");
	html_close(h);
	html_void(h, "input");
	html_attr(h, "id", "password");
	html_attr(h, "name", "password");
	html_attr(h, "type", "password");
	html_attr(h, "autocomplete", "current-password");
	html_flag(h, "required");
	admin_submit(h, "primary", "Log in");
	admin_page_end(&p, status);
}

void
page_login_form(struct app *a)
{
	struct admin_session	 s;
	struct query		 q;
	const char		*next;
	int			 rc;

	query_parse(a->req->arena, a->req->query, &q);
	next = query_get(&q, "next");
	if ((rc = admin_session_find(a, &s)) == -1)
		return;
	if (rc == 0) {
		admin_redirect(a, next != NULL && admin_next_ok(next) ?
		    next : "/admin/");
		return;
	}
	login_render(a, 200, NULL, NULL, next);
}

/*
 * 0 when pw matches stored; with stored NULL (no such user) a fixed hash is
 * checked anyway so that the answer takes as long.
 */
static int
login_verify(const char *stored, const char *pw)
{
	static char	dummy[CRYPTO_PWHASH_MAX];

	if (stored != NULL)
		return crypto_pw_verify(stored, pw);
	if (dummy[0] == '\0' &&
	    crypto_pw_hash("wadesk-no-such-user", dummy) == -1)
		return -1;
	if (crypto_pw_verify(dummy, pw) == 0)
		return -1;
	return -1;
}

void
page_login_submit(struct app *a)
{
	struct query	 f;
	const char	*user, *pw, *next, *tok, *old, *p[6];
	char		 token[ADMIN_TOKEN_HEX], csrf[ADMIN_TOKEN_HEX];
	char		 hash[CRYPTO_SHA256_HEX], oldhash[CRYPTO_SHA256_HEX];
	char		 uid[24], life[24], msg[128];
	PGresult	*res = NULL;
	size_t		 chars;
	enum db_rc	 rc;
	long long	 fails, wait_s;

	if (admin_form(a, &f) == -1)
		return;
	user = query_get(&f, "username");
	pw = query_get(&f, "password");
	next = query_get(&f, "next");
	tok = admin_cookie(a, ADMIN_LOGIN_COOKIE);
	if (tok == NULL || strlen(tok) != ADMIN_TOKEN_HEX - 1 ||
	    !crypto_streq(query_get(&f, "csrf"), tok)) {
		log_kv(LOG_WARN, "admin login form without a valid token",
		    NULL);
		admin_error(a, 403, "Forbidden", "This login form has expired "
		    "or did not come from this site. Reload the login page "
		    "and try again.");
		return;
	}
	if (user == NULL || pw == NULL || *user == '\0' || *pw == '\0') {
		login_render(a, 422, "Enter your username and password.",
		    user, next);
		return;
	}
	if (valid_utf8(user, strlen(user), &chars) == -1 ||
	    chars > LOGIN_USER_MAX || strlen(pw) > LOGIN_PW_MAX) {
		log_kv(LOG_WARN, "admin login failed", "reason", "malformed",
		    NULL);
		login_render(a, 401, "Wrong username or password.", NULL, next);
		return;
	}
	if (db_ensure(a->db) != DB_OK) {
		admin_db_error(a, DB_UNAVAILABLE);
		return;
	}
	p[0] = user;
	if ((rc = db_exec(a->db, STMT_ADMIN_LOGIN_THROTTLE, 1, p, &res)) !=
	    DB_OK)
		goto dberr;
	fails = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	wait_s = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	db_res_free(res);
	res = NULL;
	if (fails >= ADMIN_LOGIN_MAX_FAILS) {
		log_kv(LOG_WARN, "admin login refused: too many failures",
		    "user", user, NULL);
		snprintf(uid, sizeof(uid), "%lld", wait_s);
		req_header(a->req, "Retry-After", uid);
		snprintf(msg, sizeof(msg), "Too many failed attempts for this "
		    "user. Try again in %lld seconds.", wait_s);
		login_render(a, 429, msg, user, next);
		return;
	}
	if ((rc = db_exec(a->db, STMT_ADMIN_USER_GET, 1, p, &res)) != DB_OK)
		goto dberr;
	if (login_verify(PQntuples(res) == 1 ? PQgetvalue(res, 0, 1) : NULL,
	    pw) == -1) {
		db_res_free(res);
		res = NULL;
		log_kv(LOG_WARN, "admin login failed", "user", user, NULL);
		p[1] = a->req->remote;
		if ((rc = db_exec(a->db, STMT_ADMIN_LOGIN_FAIL, 2, p, &res)) !=
		    DB_OK)
			goto dberr;
		login_render(a, 401, "Wrong username or password.", user,
		    next);
		goto out;
	}
	snprintf(uid, sizeof(uid), "%s", PQgetvalue(res, 0, 0));
	db_res_free(res);
	res = NULL;
	/* A new token on every login: a planted cookie is never promoted. */
	crypto_token_hex(token, ADMIN_TOKEN_BYTES);
	crypto_token_hex(csrf, ADMIN_TOKEN_BYTES);
	crypto_sha256_hex(token, strlen(token), hash);
	old = admin_cookie(a, ADMIN_COOKIE);
	if (old != NULL)
		crypto_sha256_hex(old, strlen(old), oldhash);
	snprintf(life, sizeof(life), "%d", ADMIN_SESSION_S);
	p[0] = hash;
	p[1] = uid;
	p[2] = csrf;
	p[3] = old != NULL ? oldhash : NULL;
	p[4] = user;
	p[5] = life;
	if ((rc = db_exec(a->db, STMT_ADMIN_SESSION_NEW, 6, p, &res)) != DB_OK)
		goto dberr;
	log_kv(LOG_INFO, "admin login", "user", user, NULL);
	login_cookie(a, ADMIN_COOKIE, token, "/admin", ADMIN_SESSION_S);
	login_cookie(a, ADMIN_LOGIN_COOKIE, "", "/admin/login", 0);
	admin_redirect(a, next != NULL && admin_next_ok(next) ? next :
	    "/admin/");
	goto out;
dberr:
	admin_db_error(a, rc);
out:
	sodium_memzero(token, sizeof(token));
	db_res_free(res);
}

void
page_logout(struct app *a)
{
	struct admin_session	 s;
	struct query		 f;
	const char		*p[1];
	PGresult		*res = NULL;
	enum db_rc		 rc;
	int			 found;

	if ((found = admin_session_find(a, &s)) == -1)
		return;
	if (found == 1) {
		admin_redirect(a, "/admin/login");
		return;
	}
	if (admin_form(a, &f) == -1 || admin_csrf_check(a, &s, &f) == -1)
		return;
	p[0] = s.token_hash;
	if ((rc = db_exec(a->db, STMT_ADMIN_SESSION_DELETE, 1, p, &res)) !=
	    DB_OK) {
		admin_db_error(a, rc);
		return;
	}
	db_res_free(res);
	log_kv(LOG_INFO, "admin logout", "user", s.username, NULL);
	login_cookie(a, ADMIN_COOKIE, "", "/admin", 0);
	admin_redirect(a, "/admin/login?out=1");
}
