/*
 * admin — what every admin page shares: the security headers, the session
 * (cookie -> admin_sessions), CSRF tokens, form bodies, the page frame,
 * redirects and HTML error pages.
 *
 * Sessions: the cookie carries a random 256-bit token (64 hex digits); only
 * its SHA-256 is stored, with an expiry.  Each session has its own CSRF
 * token, carried by every POST form and compared in constant time.
 *
 * Every answer under /admin/ is HTML and goes out with admin_headers().
 * Strings a session or a page hands out live in the request arena.
 */
#ifndef WADESK_ADMIN_H
#define WADESK_ADMIN_H

#include "app.h"
#include "crypto.h"
#include "html.h"
#include "query.h"

#define ADMIN_COOKIE		"wadesk_session"
#define ADMIN_LOGIN_COOKIE	"wadesk_login"	/* login form's CSRF token */
#define ADMIN_SESSION_S		43200		/* 12 hours */
#define ADMIN_TOKEN_BYTES	32
#define ADMIN_TOKEN_HEX		(ADMIN_TOKEN_BYTES * 2 + 1)

struct admin_session {
	long long	 user_id;
	const char	*username;
	const char	*csrf;
	char		 token_hash[CRYPTO_SHA256_HEX];
};

enum admin_nav {
	ADMIN_NAV_NONE,
	ADMIN_NAV_DASHBOARD,
	ADMIN_NAV_MESSAGES,
	ADMIN_NAV_CONVERSATIONS,
	ADMIN_NAV__MAX
};

/* Message statuses in display order (the order of STMT_ADMIN_STATUS_COUNTS). */
enum admin_status {
	ADMIN_ST_QUEUED,
	ADMIN_ST_SENT,
	ADMIN_ST_DELIVERED,
	ADMIN_ST_READ,
	ADMIN_ST_FAILED,
	ADMIN_ST_RECEIVED,
	ADMIN_ST__MAX
};

/*
 * Exact counts stop at this many, so pages stay quick at any table size;
 * beyond it the planner's estimate (pg_stats) is shown, marked as such.
 */
#define ADMIN_COUNT_CAP		1000

struct admin_counts {
	long long	n[ADMIN_ST__MAX];
	int		approx[ADMIN_ST__MAX];	/* n is an estimate */
};

extern const char *const admin_statuses[ADMIN_ST__MAX];

/* A page being written: admin_page_begin() ... admin_page_end(). */
struct admin_page {
	struct app			*app;
	const struct admin_session	*sess;	/* NULL: not logged in */
	struct buf			 buf;
	struct html			 h;
};

/* 1 when path is /admin or below it. */
int	admin_is_path(const char *);
/* The security headers of every admin answer (CSP, frame, referrer,
 * no-store).  Called by every function below that answers. */
void	admin_headers(struct app *);
/* 1 when the request came over HTTPS (nginx's $scheme / $https). */
int	admin_secure(const struct app *);
/* The value of cookie name (arena copy), or NULL. */
const char *admin_cookie(const struct app *, const char *);
/*
 * Finds the session the request's cookie names.  0 with *s filled, 1 when
 * there is none (no cookie, unknown or expired), -1 after answering 503 or
 * 500 (database).
 */
int	admin_session_find(struct app *, struct admin_session *)
	    __attribute__((warn_unused_result));
/*
 * As admin_session_find(), but without a session it answers 303 to
 * /admin/login?next=<this path> (GET) and returns -1.
 */
int	admin_session_require(struct app *, struct admin_session *)
	    __attribute__((warn_unused_result));
/*
 * Reads an application/x-www-form-urlencoded body into q.  -1 after
 * answering 415 (another type), 413 (over 64 KiB) or 400 (undecodable).
 */
int	admin_form(struct app *, struct query *)
	    __attribute__((warn_unused_result));
/* The form's "csrf" against the session's token, in constant time; -1
 * after answering 403 (missing or wrong: nothing is changed). */
int	admin_csrf_check(struct app *, const struct admin_session *,
	    const struct query *) __attribute__((warn_unused_result));
/* 1 when s may be a post-login target: a path under /admin/ of this site
 * whose path part has no "//", "\", "." or ".." segment, encoded dot,
 * slash or backslash, and no control characters anywhere. */
int	admin_next_ok(const char *);
/* 303 See Other to a same-site location (a constant or a checked path). */
void	admin_redirect(struct app *, const char *);
/* A whole HTML error page with this status, title and message. */
void	admin_error(struct app *, int, const char *, const char *);
/* 503 with Retry-After for DB_UNAVAILABLE, else 500. */
void	admin_db_error(struct app *, enum db_rc);

/* Starts a page: doctype, head, the top bar (with the user and a logout
 * form when sess is set), <main>.  title is text (escaped). */
void	admin_page_begin(struct admin_page *, struct app *,
	    const struct admin_session *, const char *, enum admin_nav);
/* Closes the page, sends it with status and the security headers, and
 * frees it. */
void	admin_page_end(struct admin_page *, int);
/* The hidden CSRF input of a POST form. */
void	admin_csrf_field(struct admin_page *);
/* <input type="hidden" name value>. */
void	admin_hidden(struct html *, const char *, const char *);
/* <button type="submit" class=cls>label</button>; cls may be NULL. */
void	admin_submit(struct html *, const char *, const char *);
/* <time datetime="ts">YYYY-MM-DD HH:MM:SS</time> from an RFC 3339 value. */
void	admin_time(struct html *, const char *);
/*
 * The page heading: <h1>title</h1> (escaped) beside the Send Message
 * button, as on the dashboard, the message list and the conversations.
 */
void	admin_page_head(struct html *, const char *);
/* A status badge: <span class="badge badge-STATUS">STATUS</span>. */
void	admin_badge(struct html *, const char *);
/* A notice box (class "notice" or "notice error"). */
void	admin_notice(struct html *, int, const char *);
/* Text cut to at most n code points, with an ellipsis when cut. */
void	admin_short(struct html *, const char *, size_t);
/* Messages per status (exact up to ADMIN_COUNT_CAP, else estimated).  -1
 * after answering 503/500. */
int	admin_counts(struct app *, struct admin_counts *)
	    __attribute__((warn_unused_result));
/* A count with thousands separators; an estimate (approx set) is rounded
 * to three significant digits and marked with "~". */
void	admin_count(struct html *, long long, int);
/* Appends path with the query given as key/value pairs (NULL-terminated;
 * NULL or empty values are left out), percent-encoded, to b. */
void	admin_url(struct buf *, const char *, ...)
	    __attribute__((sentinel));

#endif
