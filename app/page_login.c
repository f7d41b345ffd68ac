#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "admin.h"
#include "log.h"
#include "metrics.h"
#include "page_login.h"
#include "stmts.h"

#define LOGIN_USER_MAX	100	/* characters, as `wadesk user add` */
#define LOGIN_PW_MAX	1024	/* bytes */

static const char	*login_token(struct app *);
static void		 login_render(struct app *, int, const char *,
			    const char *, const char *);
static void		 login_cookie(struct app *, const char *,
			    const char *, long);
static void		 login_address(const char *, char[INET6_ADDRSTRLEN]);
static int		 login_hash_cap(void);
static int		 login_throttle(struct app *, const char *,
			    const char *, const char *, char[24]);
static int		 login_verify(const char *, const char *);

/* The login form's token: the browser's wadesk_login cookie, or a new one
 * (set on the form's page). */
static const char *
login_token(struct app *a)
{
	const char	*tok;
	char		*fresh;

	if (admin_token_ok(tok = admin_cookie(a, ADMIN_LOGIN_COOKIE)))
		return tok;
	fresh = arena_alloc(a->req->arena, ADMIN_TOKEN_HEX);
	crypto_token_hex(fresh, ADMIN_TOKEN_BYTES);
	return fresh;
}

/*
 * Set-Cookie name=value with our flags; max_age < 0: a browser session.
 * Over HTTPS the cookie is Secure and named with the __Host- prefix (which
 * requires Path=/), so no other host or plain-HTTP page can set it.
 */
static void
login_cookie(struct app *a, const char *name, const char *value,
    long max_age)
{
	struct buf	b;
	const char	*path;

	path = strcmp(name, ADMIN_COOKIE) == 0 ? "/admin" : "/admin/login";
	buf_init(&b);
	if (admin_secure(a))
		buf_printf(&b, "%s%s=%s; Path=/; Secure", ADMIN_COOKIE_SECURE,
		    name, value);
	else
		buf_printf(&b, "%s=%s; Path=%s", name, value, path);
	buf_puts(&b, "; HttpOnly; SameSite=Lax");
	if (max_age >= 0)
		buf_printf(&b, "; Max-Age=%ld", max_age);
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
	login_cookie(a, ADMIN_LOGIN_COOKIE, tok, -1);
	admin_page_begin(&p, a, "Log in", ADMIN_NAV_NONE);
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
	struct query	 q;
	const char	*next;

	query_parse(a->req->arena, a->req->query, &q);
	next = query_get(&q, "next");
	if (a->sess != NULL) {
		admin_redirect(a, next != NULL && admin_next_ok(next) ?
		    next : "/admin/");
		return;
	}
	login_render(a, 200, NULL, NULL, next);
}

/*
 * The client address a login is counted under: an IPv6 address by its /64
 * (one customer's whole prefix), anything else as it is.
 */
static void
login_address(const char *remote, char out[INET6_ADDRSTRLEN])
{
	struct in6_addr	 in6;

	if (remote != NULL && strchr(remote, ':') != NULL &&
	    inet_pton(AF_INET6, remote, &in6) == 1) {
		memset(&in6.s6_addr[8], 0, 8);
		if (inet_ntop(AF_INET6, &in6, out, INET6_ADDRSTRLEN) != NULL) {
			strncat(out, "/64", INET6_ADDRSTRLEN - strlen(out) - 1);
			return;
		}
	}
	snprintf(out, INET6_ADDRSTRLEN, "%s", remote != NULL ? remote : "-");
}

/* Password hashes at once per host: one per CPU. */
static int
login_hash_cap(void)
{
	long	n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > 64 ? 64 : (int)n;
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

/*
 * Records the attempt, then counts: -1 after answering 429 (too many
 * failures, or too many hashes at once) or 503/500, else 0 with the
 * attempt's row id in attempt.
 */
static int
login_throttle(struct app *a, const char *user, const char *addr,
    const char *next, char attempt[24])
{
	const char	*p[2] = { user, addr };
	PGresult	*res = NULL;
	enum db_rc	 rc;
	long long	 pair, all, wait_s;
	char		 wait[24], msg[128];

	if ((rc = db_exec(a->db, STMT_ADMIN_LOGIN_ATTEMPT, 2, p, &res)) !=
	    DB_OK)
		goto dberr;
	snprintf(attempt, 24, "%s", PQgetvalue(res, 0, 0));
	db_res_free(res);
	if ((rc = db_exec(a->db, STMT_ADMIN_LOGIN_THROTTLE, 2, p, &res)) !=
	    DB_OK)
		goto dberr;
	pair = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	all = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	wait_s = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
	db_res_free(res);
	res = NULL;
	/* This attempt is counted: more than the limit means over it. */
	if (pair > ADMIN_LOGIN_MAX_FAILS || all > ADMIN_LOGIN_MAX_USER_FAILS) {
		log_kv(LOG_WARN, "admin login refused: too many failures",
		    "user", user, NULL);
		snprintf(wait, sizeof(wait), "%lld", wait_s);
		snprintf(msg, sizeof(msg), "Too many failed attempts for this "
		    "user. Try again in %lld seconds.", wait_s);
		goto refuse;
	}
	if (metrics_hash_enter(login_hash_cap()) == -1) {
		log_kv(LOG_WARN, "admin login refused: too many at once",
		    "user", user, NULL);
		snprintf(wait, sizeof(wait), "1");
		snprintf(msg, sizeof(msg), "Too many logins are being checked "
		    "right now. Try again in a moment.");
		goto refuse;
	}
	return 0;
refuse:
	p[0] = attempt;
	if ((rc = db_exec(a->db, STMT_ADMIN_LOGIN_FORGET, 1, p, &res)) !=
	    DB_OK)
		goto dberr;
	db_res_free(res);
	req_header(a->req, "Retry-After", wait);
	login_render(a, 429, msg, user, next);
	return -1;
dberr:
	db_res_free(res);
	app_db_error(a, rc);
	return -1;
}

void
page_login_submit(struct app *a)
{
	const char	*user, *pw, *next, *old, *p[7];
	char		 token[ADMIN_TOKEN_HEX], csrf[ADMIN_TOKEN_HEX];
	char		 hash[CRYPTO_SHA256_HEX], oldhash[CRYPTO_SHA256_HEX];
	char		 uid[24], life[24], attempt[24];
	char		 addr[INET6_ADDRSTRLEN];
	PGresult	*res = NULL;
	size_t		 chars;
	enum db_rc	 rc;
	int		 ok;

	token[0] = '\0';
	user = query_get(&a->form, "username");
	pw = query_get(&a->form, "password");
	next = query_get(&a->form, "next");
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
	login_address(a->req->remote, addr);
	if (login_throttle(a, user, addr, next, attempt) == -1)
		return;
	p[0] = user;
	rc = db_exec(a->db, STMT_ADMIN_USER_GET, 1, p, &res);
	ok = rc == DB_OK && login_verify(PQntuples(res) == 1 ?
	    PQgetvalue(res, 0, 1) : NULL, pw) == 0;
	metrics_hash_leave();
	if (rc != DB_OK)
		goto dberr;
	if (!ok) {
		/* The attempt's row stays: it is the failure. */
		log_kv(LOG_WARN, "admin login failed", "user", user, NULL);
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
	p[6] = addr;
	if ((rc = db_exec(a->db, STMT_ADMIN_SESSION_NEW, 7, p, &res)) != DB_OK)
		goto dberr;
	log_kv(LOG_INFO, "admin login", "user", user, NULL);
	login_cookie(a, ADMIN_COOKIE, token, ADMIN_SESSION_S);
	login_cookie(a, ADMIN_LOGIN_COOKIE, "", 0);
	admin_redirect(a, next != NULL && admin_next_ok(next) ? next :
	    "/admin/");
	goto out;
dberr:
	app_db_error(a, rc);
out:
	sodium_memzero(token, sizeof(token));
	db_res_free(res);
}

void
page_logout(struct app *a)
{
	const char	*p[1];
	PGresult	*res = NULL;
	enum db_rc	 rc;

	p[0] = a->sess->token_hash;
	if ((rc = db_exec(a->db, STMT_ADMIN_SESSION_DELETE, 1, p, &res)) !=
	    DB_OK) {
		app_db_error(a, rc);
		return;
	}
	db_res_free(res);
	log_kv(LOG_INFO, "admin logout", "user", a->sess->username, NULL);
	login_cookie(a, ADMIN_COOKIE, "", 0);
	admin_redirect(a, "/admin/login?out=1");
}
