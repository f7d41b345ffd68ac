#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sodium.h>

#include "admin.h"
#include "multipart.h"
#include "log.h"
#include "model_media.h"
#include "stmts.h"

#define ADMIN_NEXT_MAX	1024

static const char *const admin_nav_items[ADMIN_NAV__MAX][2] = {
	[ADMIN_NAV_NONE] = { NULL, NULL },
	[ADMIN_NAV_DASHBOARD] = { "/admin/", "Dashboard" },
	[ADMIN_NAV_MESSAGES] = { "/admin/messages/", "Messages" },
	[ADMIN_NAV_CONVERSATIONS] = { "/admin/conversations/",
	    "Conversations" },
	[ADMIN_NAV_ENDPOINTS] = { "/admin/endpoints/", "Endpoints" },
};

static void	admin_send(struct app *, int, const struct buf *);

int
admin_is_path(const char *path)
{
	return strncmp(path, "/admin", 6) == 0 &&
	    (path[6] == '\0' || path[6] == '/');
}

void
admin_headers(struct app *a)
{
	req_header(a->req, "Content-Security-Policy",
	    "default-src 'self'; img-src 'self' data:; style-src 'self'; "
	    "script-src 'self'; frame-ancestors 'none'; form-action 'self'; "
	    "base-uri 'none'");
	req_header(a->req, "X-Frame-Options", "DENY");
	req_header(a->req, "Referrer-Policy", "same-origin");
	req_header(a->req, "Cache-Control", "no-store");
}

static void
admin_send(struct app *a, int status, const struct buf *b)
{
	admin_headers(a);
	req_send(a->req, status, "text/html; charset=utf-8", b->data, b->len);
}

int
admin_secure(const struct app *a)
{
	const char	*v;

	if (a->cfg->cookie_secure >= 0)
		return a->cfg->cookie_secure;
	if ((v = req_param(a->req, "REQUEST_SCHEME")) != NULL &&
	    strcasecmp(v, "https") == 0)
		return 1;
	return (v = req_param(a->req, "HTTPS")) != NULL &&
	    strcasecmp(v, "on") == 0;
}

const char *
admin_cookie(const struct app *a, const char *name)
{
	const char	*h, *p, *end, *eq;
	char		 full[64];
	size_t		 n;

	if ((h = req_param(a->req, "HTTP_COOKIE")) == NULL)
		return NULL;
	snprintf(full, sizeof(full), "%s%s", admin_secure(a) ?
	    ADMIN_COOKIE_SECURE : "", name);
	name = full;
	n = strlen(name);
	for (p = h; *p != '\0'; p = *end ? end + 1 : end) {
		while (*p == ' ' || *p == '\t')
			p++;
		if ((end = strchr(p, ';')) == NULL)
			end = p + strlen(p);
		eq = memchr(p, '=', (size_t)(end - p));
		if (eq != NULL && (size_t)(eq - p) == n &&
		    strncmp(p, name, n) == 0)
			return arena_strndup(a->req->arena, eq + 1,
			    (size_t)(end - eq - 1));
	}
	return NULL;
}

int
admin_token_ok(const char *s)
{
	unsigned char	 bin[ADMIN_TOKEN_BYTES];
	const char	*end;
	size_t		 n, i;

	if (s == NULL || strlen(s) != ADMIN_TOKEN_HEX - 1)
		return 0;
	/* Our tokens are lowercase; sodium_hex2bin takes either case. */
	for (i = 0; s[i] != '\0'; i++)
		if (s[i] >= 'A' && s[i] <= 'F')
			return 0;
	return sodium_hex2bin(bin, sizeof(bin), s, ADMIN_TOKEN_HEX - 1, NULL,
	    &n, &end) == 0 && n == sizeof(bin) && *end == '\0';
}

int
admin_session_find(struct app *a)
{
	struct admin_session	*s = &a->sess_buf;
	const char		*tok, *p[1];
	PGresult		*res = NULL;
	enum db_rc		 rc;
	int			 ret = -1;

	a->sess = NULL;
	memset(s, 0, sizeof(*s));
	if ((tok = admin_cookie(a, ADMIN_COOKIE)) == NULL ||
	    !admin_token_ok(tok))
		return 0;
	if (db_ensure(a->db) != DB_OK) {
		app_fail(a, APP_FAIL_DB_UNAVAILABLE, NULL);
		return -1;
	}
	crypto_sha256_hex(tok, strlen(tok), s->token_hash);
	p[0] = s->token_hash;
	if ((rc = db_exec(a->db, STMT_ADMIN_SESSION_GET, 1, p, &res)) !=
	    DB_OK) {
		app_db_error(a, rc);
		goto out;
	}
	ret = 0;
	if (PQntuples(res) != 1)
		goto out;
	s->user_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	s->username = arena_strdup(a->req->arena, PQgetvalue(res, 0, 1));
	s->csrf = arena_strdup(a->req->arena, PQgetvalue(res, 0, 2));
	a->sess = s;
out:
	db_res_free(res);
	return ret;
}

int
admin_session_require(struct app *a)
{
	struct buf	 b, next;

	if (admin_session_find(a) == -1)
		return -1;
	if (a->sess != NULL)
		return 0;
	buf_init(&b);
	buf_init(&next);
	buf_puts(&b, "/admin/login");
	if (strcmp(a->req->method, "GET") == 0 ||
	    strcmp(a->req->method, "HEAD") == 0) {
		buf_puts(&next, a->req->path);
		if (a->req->query[0] != '\0') {
			buf_putc(&next, '?');
			buf_puts(&next, a->req->query);
		}
		if (admin_next_ok(next.data) &&
		    strcmp(next.data, "/admin/") != 0) {
			buf_puts(&b, "?next=");
			query_encode(&b, next.data);
		}
	}
	admin_redirect(a, b.data);
	buf_cleanup(&next);
	buf_cleanup(&b);
	return -1;
}

int
admin_form(struct app *a)
{
	struct query	*q = &a->form;
	const char	*cl;

	memset(q, 0, sizeof(*q));
	/* No body at all is an empty form (its CSRF check fails: 403). */
	if ((cl = req_param(a->req, "CONTENT_LENGTH")) == NULL || *cl == '\0' ||
	    strcmp(cl, "0") == 0)
		return 0;
	if (!req_content_type_is(a->req,
	    "application/x-www-form-urlencoded")) {
		app_fail(a, APP_FAIL_NOT_FORM, NULL);
		return -1;
	}
	if (app_read_body(a) == -1)
		return -1;
	query_parse(a->req->arena, a->req->body, q);
	if (q->invalid) {
		app_fail(a, APP_FAIL_BAD_FORM, NULL);
		return -1;
	}
	return 0;
}

int
admin_multipart(struct app *a)
{
	struct multipart	*mp;
	struct query		*q = &a->form;
	enum multipart_err	 e;
	size_t			 i;

	memset(q, 0, sizeof(*q));
	switch (req_read_body(a->req, APP_UPLOAD_MAX + REQ_MAX_BODY)) {
	case REQ_BODY_OK:
		break;
	case REQ_BODY_TOO_LARGE:
		app_fail(a, APP_FAIL_UPLOAD_TOO_LARGE, NULL);
		return -1;
	default:
		app_fail(a, APP_FAIL_BODY_SHORT, NULL);
		return -1;
	}
	mp = arena_alloc(a->req->arena, sizeof(*mp));
	if ((e = multipart_parse(a->req->arena, req_param(a->req,
	    "CONTENT_TYPE"), a->req->body, a->req->body_len, REQ_MAX_BODY,
	    APP_UPLOAD_MAX, mp)) != MULTIPART_OK) {
		log_kv(LOG_WARN, "admin multipart form refused", "cause",
		    multipart_strerror(e), NULL);
		app_fail(a, e == MULTIPART_TOO_LARGE ?
		    APP_FAIL_UPLOAD_TOO_LARGE : APP_FAIL_BAD_FORM, NULL);
		return -1;
	}
	/* Text fields, as a urlencoded form would give them. */
	for (i = 0; i < mp->nparts; i++) {
		if (mp->parts[i].filename != NULL)
			continue;
		if (memchr(mp->parts[i].data, '\0', mp->parts[i].len) !=
		    NULL) {
			app_fail(a, APP_FAIL_BAD_FORM, NULL);
			return -1;
		}
		if (q->npairs == QUERY_MAX_PAIRS) {
			q->truncated = 1;
			continue;
		}
		q->pairs[q->npairs].key = mp->parts[i].name;
		q->pairs[q->npairs].val = arena_strndup(a->req->arena,
		    mp->parts[i].data, mp->parts[i].len);
		q->pairs[q->npairs].val_len = mp->parts[i].len;
		q->npairs++;
	}
	a->files = mp;
	return 0;
}

int
admin_csrf_check(struct app *a)
{
	if (a->sess != NULL && a->sess->csrf != NULL &&
	    crypto_streq(query_get(&a->form, "csrf"), a->sess->csrf))
		return 0;
	log_kv(LOG_WARN, "admin CSRF check failed", "path", a->req->path,
	    NULL);
	app_fail(a, APP_FAIL_CSRF, NULL);
	return -1;
}

int
admin_login_csrf_check(struct app *a)
{
	const char	*tok;

	tok = admin_cookie(a, ADMIN_LOGIN_COOKIE);
	if (admin_token_ok(tok) &&
	    crypto_streq(query_get(&a->form, "csrf"), tok))
		return 0;
	log_kv(LOG_WARN, "admin login form without a valid token", NULL);
	app_fail(a, APP_FAIL_LOGIN_CSRF, NULL);
	return -1;
}

int
admin_next_ok(const char *s)
{
	size_t	i, n, path;

	n = strlen(s);
	if (n > ADMIN_NEXT_MAX || strncmp(s, "/admin/", 7) != 0)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	/* The path (the query and fragment may hold anything else). */
	path = strcspn(s, "?#");
	for (i = 0; i < path; i++) {
		if (s[i] == '\\' || (s[i] == '/' && (s[i + 1] == '/' ||
		    (s[i + 1] == '.' && (i + 2 == path || s[i + 2] == '/' ||
		    (s[i + 2] == '.' && (i + 3 == path || s[i + 3] == '/')))))))
			return 0;
		/* Encoded dots and slashes ("%2e%2e" is ".." to a browser). */
		if (s[i] == '%' && i + 2 < path &&
		    ((s[i + 1] == '2' && strchr("eEfF", s[i + 2]) != NULL) ||
		    (s[i + 1] == '5' && strchr("cC", s[i + 2]) != NULL)))
			return 0;
	}
	return 1;
}

void
admin_redirect(struct app *a, const char *location)
{
	static const char	body[] = "See Other\n";

	admin_headers(a);
	req_header(a->req, "Location", location);
	req_send(a->req, 303, "text/plain; charset=utf-8", body,
	    sizeof(body) - 1);
}

void
admin_error(struct app *a, int status, const char *title,
    const char *message)
{
	struct admin_page		 p;
	const struct admin_session	*sess = a->sess;

	/* An error page shows no user: it may answer a failed session. */
	a->sess = NULL;
	admin_page_begin(&p, a, title, ADMIN_NAV_NONE);
	html_open(&p.h, "section");
	html_attr(&p.h, "class", "error-page");
	html_elem(&p.h, "h1", title);
	html_elem(&p.h, "p", message);
	html_open(&p.h, "p");
	html_open(&p.h, "a");
	html_attr(&p.h, "href", "/admin/");
	html_str(&p.h, "Back to the dashboard");
	html_close_to(&p.h, 0);
	admin_page_end(&p, status);
	a->sess = sess;
}

void
admin_page_begin(struct admin_page *p, struct app *a, const char *title,
    enum admin_nav nav)
{
	const struct admin_session	*s = a->sess;
	struct html			*h = &p->h;
	int				 i;

	p->app = a;
	p->sess = s;
	buf_init(&p->buf);
	html_init(h, &p->buf);
	html_raw(h, "<!DOCTYPE html>\n");
	html_open(h, "html");
	html_attr(h, "lang", "en");
	html_open(h, "head");
	html_void(h, "meta");
	html_attr(h, "charset", "utf-8");
	html_void(h, "meta");
	html_attr(h, "name", "viewport");
	html_attr(h, "content", "width=device-width, initial-scale=1");
	html_open(h, "title");
	html_str(h, title);
	html_str(h, " \xc2\xb7 wadesk");
	html_close(h);
	html_void(h, "link");
	html_attr(h, "rel", "stylesheet");
	html_attr(h, "href", "/admin/static/admin.css");
	html_void(h, "link");
	html_attr(h, "rel", "icon");
	html_attr(h, "href", "data:,");
	html_close(h);			/* head */
	html_open(h, "body");
	html_open(h, "header");
	html_attr(h, "class", "top");
	html_open(h, "a");
	html_attr(h, "class", "brand");
	html_attr(h, "href", "/admin/");
	html_str(h, "wadesk");
	html_close(h);
	if (s != NULL) {
		html_open(h, "nav");
		for (i = ADMIN_NAV_NONE + 1; i < ADMIN_NAV__MAX; i++) {
			html_open(h, "a");
			html_attr(h, "href", admin_nav_items[i][0]);
			if ((int)nav == i)
				html_attr(h, "aria-current", "page");
			html_str(h, admin_nav_items[i][1]);
			html_close(h);
		}
		html_close(h);
		html_open(h, "form");
		html_attr(h, "class", "logout");
		html_attr(h, "method", "post");
		html_attr(h, "action", "/admin/logout");
		admin_csrf_field(p);
		html_elemc(h, "span", "user", s->username);
		admin_submit(h, NULL, "Log out");
		html_close(h);		/* form */
	}
	html_close(h);			/* header */
	html_open(h, "main");
}

void
admin_page_end(struct admin_page *p, int status)
{
	html_close_to(&p->h, 0);
	buf_putc(&p->buf, '\n');
	admin_send(p->app, status, &p->buf);
	buf_cleanup(&p->buf);
}

void
admin_post_form(struct admin_page *p, const char *action, const char *cls)
{
	html_open(&p->h, "form");
	html_attr(&p->h, "method", "post");
	html_attr(&p->h, "action", action);
	html_attr(&p->h, "class", cls);
	admin_csrf_field(p);
}

void
admin_csrf_field(struct admin_page *p)
{
	if (p->sess != NULL)
		admin_hidden(&p->h, "csrf", p->sess->csrf);
}

void
admin_hidden(struct html *h, const char *name, const char *value)
{
	html_void(h, "input");
	html_attr(h, "type", "hidden");
	html_attr(h, "name", name);
	html_attr(h, "value", value);
}

void
admin_submit(struct html *h, const char *cls, const char *label)
{
	html_open(h, "button");
	html_attr(h, "type", "submit");
	if (cls != NULL)
		html_attr(h, "class", cls);
	html_str(h, label);
	html_close(h);
}

void
admin_time(struct html *h, const char *ts)
{
	char	show[20];
	size_t	n;

	if (ts == NULL)
		return;
	n = strlen(ts) < 19 ? strlen(ts) : 19;
	memcpy(show, ts, n);
	show[n] = '\0';
	if (n > 10 && show[10] == 'T')
		show[10] = ' ';
	html_open(h, "time");
	html_attr(h, "datetime", ts);
	html_str(h, show);
	html_close(h);
}

void
admin_page_head(struct html *h, const char *title)
{
	html_open(h, "div");
	html_attr(h, "class", "page-head");
	html_elem(h, "h1", title);
	html_open(h, "a");
	html_attr(h, "class", "button primary");
	html_attr(h, "id", "send-message");
	html_attr(h, "href", "/admin/messages/new");
	html_str(h, "Send Message");
	html_close(h);
	html_close(h);
}

void
admin_badge(struct html *h, const char *status)
{
	html_open(h, "span");
	html_attrf(h, "class", "badge badge-%s", status ? status : "none");
	html_str(h, status ? status : "-");
	html_close(h);
}

void
admin_notice(struct html *h, int error, const char *msg)
{
	html_open(h, "p");
	html_attr(h, "class", error ? "notice error" : "notice");
	html_attr(h, "role", error ? "alert" : "status");
	html_str(h, msg);
	html_close(h);
}

void
admin_short(struct html *h, const char *s, size_t max)
{
	size_t	i, chars = 0;

	if (s == NULL)
		return;
	for (i = 0; s[i] != '\0'; i++) {
		if (((unsigned char)s[i] & 0xc0) != 0x80 && chars++ == max) {
			html_strn(h, s, i);
			html_str(h, "\xe2\x80\xa6");
			return;
		}
	}
	html_str(h, s);
}

void
admin_url(struct buf *b, const char *path, ...)
{
	va_list		 ap;
	const char	*k, *v;
	int		 first = 1;

	buf_puts(b, path);
	va_start(ap, path);
	while ((k = va_arg(ap, const char *)) != NULL) {
		v = va_arg(ap, const char *);
		if (v == NULL || *v == '\0')
			continue;
		buf_putc(b, first ? '?' : '&');
		first = 0;
		buf_puts(b, k);
		buf_putc(b, '=');
		query_encode(b, v);
	}
	va_end(ap);
}

int
admin_numbers(struct app *a, PGresult **res)
{
	enum db_rc	rc;

	if ((rc = db_exec(a->db, STMT_NUMBER_LIST, 0, NULL, res)) != DB_OK) {
		app_db_error(a, rc);
		return -1;
	}
	return 0;
}

void
admin_number_label(struct html *h, const PGresult *res, int i)
{
	html_str(h, PQgetisnull(res, i, 2) ? PQgetvalue(res, i, 1) :
	    PQgetvalue(res, i, 2));
	if (!PQgetisnull(res, i, 3)) {
		html_str(h, " (");
		html_str(h, PQgetvalue(res, i, 3));
		html_str(h, ")");
	}
}

void
admin_number_select(struct html *h, const PGresult *res, const char *name,
    const char *id, const char *any, const char *sel, int by_display)
{
	const char	*v;
	int		 i;

	html_open(h, "select");
	html_attr(h, "name", name);
	html_attr(h, "id", id);
	if (any != NULL) {
		html_open(h, "option");
		html_attr(h, "value", "");
		html_str(h, any);
		html_close(h);
	}
	for (i = 0; i < PQntuples(res); i++) {
		if (by_display && PQgetisnull(res, i, 2))
			continue;
		v = PQgetvalue(res, i, by_display ? 2 : 0);
		html_open(h, "option");
		html_attr(h, "value", v);
		if (sel != NULL && strcmp(sel, v) == 0)
			html_flag(h, "selected");
		admin_number_label(h, res, i);
		html_close(h);
	}
	html_close(h);
}

int
admin_counts(struct app *a, struct admin_counts *c)
{
	char		 cap[24];
	const char	*p[2];
	struct buf	 st;
	PGresult	*res = NULL;
	enum db_rc	 rc;
	long long	 est;
	int		 i;

	memset(c, 0, sizeof(*c));
	snprintf(cap, sizeof(cap), "%d", ADMIN_COUNT_CAP);
	buf_init(&st);
	model_message_status_array(&st);
	p[0] = cap;
	p[1] = st.data;
	rc = db_exec(a->db, STMT_ADMIN_STATUS_COUNTS, 2, p, &res);
	buf_cleanup(&st);
	if (rc != DB_OK) {
		app_db_error(a, rc);
		return -1;
	}
	for (i = 0; i < MSG_ST__MAX && i < PQntuples(res); i++) {
		c->n[i] = strtoll(PQgetvalue(res, i, 1), NULL, 10);
		if (c->n[i] < ADMIN_COUNT_CAP)
			continue;
		est = strtoll(PQgetvalue(res, i, 2), NULL, 10);
		c->n[i] = est > ADMIN_COUNT_CAP ? est : ADMIN_COUNT_CAP;
		c->approx[i] = 1;
	}
	db_res_free(res);
	return 0;
}

void
admin_count(struct html *h, long long n, int approx)
{
	char		digits[32], out[48];
	size_t		i, len, o = 0;
	long long	scale = 1;

	if (n < 0)
		n = 0;
	if (approx) {
		while (n / scale >= 1000)
			scale *= 10;
		n = (n + scale / 2) / scale * scale;
		out[o++] = '~';
	}
	snprintf(digits, sizeof(digits), "%lld", n);
	len = strlen(digits);
	for (i = 0; i < len; i++) {
		if (i > 0 && (len - i) % 3 == 0)
			out[o++] = ',';
		out[o++] = digits[i];
	}
	out[o] = '\0';
	html_open(h, "span");
	if (approx)
		html_attr(h, "title", "an estimate");
	html_str(h, out);
	html_close(h);
}

void
admin_media(struct html *h, const char *json)
{
	struct json_object	*o, *v;
	const char		*status = "", *mime = "", *fn = NULL, *err = NULL;
	const char		*type;
	long long		 id = 0, size = 0;
	char			 href[48];

	if (json == NULL || (o = json_tokener_parse(json)) == NULL)
		return;
	if (json_object_object_get_ex(o, "id", &v))
		id = json_object_get_int64(v);
	if (json_object_object_get_ex(o, "size", &v))
		size = json_object_get_int64(v);
	if (json_object_object_get_ex(o, "status", &v) && v != NULL)
		status = json_object_get_string(v);
	if (json_object_object_get_ex(o, "mime_type", &v) && v != NULL)
		mime = json_object_get_string(v);
	if (json_object_object_get_ex(o, "filename", &v) && v != NULL)
		fn = json_object_get_string(v);
	if (json_object_object_get_ex(o, "error", &v) && v != NULL)
		err = json_object_get_string(v);
	snprintf(href, sizeof(href), "/admin/media/%lld", id);
	type = media_serve_type(mime);
	html_open(h, "div");
	html_attr(h, "class", "media");
	if (strcmp(status, "pending") == 0)
		html_elemc(h, "p", "media-state", "Fetching the file\xe2\x80\xa6");
	else if (strcmp(status, "stored") != 0) {
		html_open(h, "p");
		html_attr(h, "class", "media-state media-failed");
		html_str(h, "The file could not be fetched: ");
		html_str(h, err != NULL ? err : "unknown reason");
		html_close(h);
	} else if (media_inline(type)) {
		html_open(h, "a");
		html_attr(h, "href", href);
		html_attr(h, "class", "media-link");
		html_void(h, "img");
		html_attr(h, "src", href);
		html_attr(h, "class", "media-thumb");
		html_attr(h, "alt", fn != NULL ? fn : "Image");
		html_attr(h, "loading", "lazy");
		html_close(h);
	} else if (strncmp(type, "audio/", 6) == 0) {
		html_open(h, "audio");
		html_flag(h, "controls");
		html_attr(h, "preload", "none");
		html_attr(h, "src", href);
		html_attr(h, "class", "media-audio");
		html_close(h);
	} else if (strncmp(type, "video/", 6) == 0) {
		html_open(h, "video");
		html_flag(h, "controls");
		html_attr(h, "preload", "metadata");
		html_attr(h, "src", href);
		html_attr(h, "class", "media-video");
		html_close(h);
	}
	/* Always a link to the file itself, with its name and size. */
	if (strcmp(status, "stored") == 0) {
		html_open(h, "p");
		html_attr(h, "class", "media-file");
		html_open(h, "a");
		html_attr(h, "href", href);
		html_attr(h, "class", "media-doc");
		html_flag(h, "download");
		html_str(h, fn != NULL ? fn : mime);
		html_close(h);
		if (size >= 1024 * 1024)
			html_strf(h, " (%.1f MiB)", (double)size / 1048576.0);
		else if (size >= 1024)
			html_strf(h, " (%.1f KiB)", (double)size / 1024.0);
		else
			html_strf(h, " (%lld bytes)", size);
		html_close(h);
	}
	html_close(h);
	json_object_put(o);
}

void
admin_file_input(struct html *h, const char *id)
{
	html_void(h, "input");
	html_attr(h, "type", "file");
	html_attr(h, "id", id);
	html_attr(h, "name", "file");
	html_attr(h, "class", "file-input");
	html_attr(h, "accept", "image/jpeg,image/png,image/webp,audio/aac,"
	    "audio/amr,audio/mpeg,audio/mp4,audio/ogg,video/mp4,video/3gpp,"
	    "text/plain,application/pdf,.doc,.docx,.xls,.xlsx,.ppt,.pptx");
}
