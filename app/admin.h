/*
 * admin — what every admin page shares: the security headers, the session
 * (cookie -> admin_sessions), CSRF tokens, form bodies, the page frame,
 * redirects and HTML error pages.
 *
 * Sessions: the cookie carries a random 256-bit token (64 hex digits); only
 * its SHA-256 is stored, with an expiry.  Each session has its own CSRF
 * token, carried by every POST form and compared in constant time.  The
 * route table decides which pages need a session, a form and its token.
 *
 * Every answer under /admin/ is HTML and goes out with admin_headers().
 * Strings a session or a page hands out live in the request arena.
 */
#ifndef WADESK_ADMIN_H
#define WADESK_ADMIN_H

#include "app.h"
#include "crypto.h"
#include "html.h"
#include "model_message.h"
#include "query.h"

/* Cookie names; over HTTPS they carry the __Host- prefix. */
#define ADMIN_COOKIE_SECURE	"__Host-"
#define ADMIN_COOKIE		"wadesk_session"
#define ADMIN_LOGIN_COOKIE	"wadesk_login"	/* login form's CSRF token */
#define ADMIN_SESSION_S		43200		/* 12 hours */
#define ADMIN_TOKEN_BYTES	32
#define ADMIN_TOKEN_HEX		(ADMIN_TOKEN_BYTES * 2 + 1)

enum admin_nav {
	ADMIN_NAV_NONE,
	ADMIN_NAV_DASHBOARD,
	ADMIN_NAV_MESSAGES,
	ADMIN_NAV_CONVERSATIONS,
	ADMIN_NAV_ENDPOINTS,
	ADMIN_NAV__MAX
};

/*
 * Exact counts stop at this many, so pages stay quick at any table size;
 * beyond it the planner's estimate (pg_stats) is shown, marked as such.
 */
#define ADMIN_COUNT_CAP		1000

/* Messages per status, in the order of enum msg_status. */
struct admin_counts {
	long long	n[MSG_ST__MAX];
	int		approx[MSG_ST__MAX];	/* n is an estimate */
};

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
/*
 * 1 when cookies must be Secure: WADESK_COOKIE_SECURE=1, or with the
 * default (auto) when the request came over HTTPS (nginx's $scheme or
 * $https; never a client's header).
 */
int	admin_secure(const struct app *);
/* The value of cookie name (arena copy; "__Host-" + name over HTTPS), or
 * NULL. */
const char *admin_cookie(const struct app *, const char *);
/*
 * 1 when s has the shape of our tokens (ADMIN_TOKEN_BYTES as lowercase
 * hex), checked with sodium_hex2bin.
 */
int	admin_token_ok(const char *);
/*
 * The route steps (routes.h).  admin_session_find() sets a->sess to the
 * session the request's cookie names (NULL when none: no cookie, unknown
 * or expired); admin_session_require() answers 303 to /admin/login (with
 * ?next=<this path> for a GET) when there is none.  admin_form() reads an
 * application/x-www-form-urlencoded body into a->form (no body: an empty
 * form); admin_csrf_check() compares the form's "csrf" with the session's
 * token, admin_login_csrf_check() with the login form's cookie, both in
 * constant time.  Each returns 0, or -1 after answering (503/500, 303, 415,
 * 413, 400, 403: nothing is changed).
 */
int	admin_session_find(struct app *) __attribute__((warn_unused_result));
int	admin_session_require(struct app *)
	    __attribute__((warn_unused_result));
int	admin_form(struct app *) __attribute__((warn_unused_result));
int	admin_csrf_check(struct app *) __attribute__((warn_unused_result));
/*
 * ROUTE_MULTIPART's body step: a multipart/form-data body (up to
 * APP_UPLOAD_MAX plus REQ_MAX_BODY) parsed with lib/multipart; its text
 * fields into a->form (as admin_form() would, so admin_csrf_check() finds
 * the token), the whole parse into a->files.  0, or -1 after answering
 * 413 or 400.
 */
int	admin_multipart(struct app *) __attribute__((warn_unused_result));
int	admin_login_csrf_check(struct app *)
	    __attribute__((warn_unused_result));
/* 1 when s may be a post-login target: a path under /admin/ of this site
 * whose path part has no "//", "\", "." or ".." segment, encoded dot,
 * slash or backslash, and no control characters anywhere. */
int	admin_next_ok(const char *);
/* 303 See Other to a same-site location (a constant or a checked path). */
void	admin_redirect(struct app *, const char *);
/* A whole HTML error page with this status, title and message. */
void	admin_error(struct app *, int, const char *, const char *);

/* Starts a page: doctype, head, the top bar (with the user and a logout
 * form when a->sess is set), <main>.  title is text (escaped). */
void	admin_page_begin(struct admin_page *, struct app *, const char *,
	    enum admin_nav);
/* Closes the page, sends it with status and the security headers, and
 * frees it. */
void	admin_page_end(struct admin_page *, int);
/*
 * Opens <form method="post" action=action class=cls> with the session's
 * CSRF input; the caller closes it.
 */
void	admin_post_form(struct admin_page *, const char *, const char *);
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
/*
 * A message's media (its MSG_MEDIA JSON text; NULL writes nothing): an
 * image as a thumbnail linking to the full file, audio and video with the
 * browser's player, anything else as a download link with its name and
 * size; "Fetching the file..." while pending, the reason when it failed.
 * Every URL is /admin/media/{id}.
 */
void	admin_media(struct html *, const char *);
/*
 * <input type="file" name="file" id=id> accepting the types WhatsApp
 * takes (the send form and the reply box).
 */
void	admin_file_input(struct html *, const char *);
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
/*
 * The business numbers (STMT_NUMBER_LIST: id, phone number id, display,
 * name) into *res: 0, or -1 with the error answered.
 */
int	admin_numbers(struct app *, PGresult **)
	    __attribute__((warn_unused_result));
/* How number row i of res reads: its display (else its phone number id),
 * then its name. */
void	admin_number_label(struct html *, const PGresult *, int);
/*
 * A labelled <select name=name id=id> of the numbers of res: each option's
 * value is the number's id (by_display 0) or its display (numbers without
 * one left out); any (NULL: none) is the first option's text, value "";
 * sel the value selected (NULL: none).
 */
void	admin_number_select(struct html *, const PGresult *, const char *,
	    const char *, const char *, const char *, int);
/* Appends path with the query given as key/value pairs (NULL-terminated;
 * NULL or empty values are left out), percent-encoded, to b. */
void	admin_url(struct buf *, const char *, ...)
	    __attribute__((sentinel));

#endif
