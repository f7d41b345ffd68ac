#include <stdio.h>

#include "admin.h"
#include "app.h"
#include "buf.h"
#include "db.h"
#include "jsonb.h"

struct app_fail_def {
	int		 status;
	const char	*code;
	const char	*message;	/* JSON */
	const char	*title;		/* HTML */
	const char	*text;		/* HTML */
};

static const struct app_fail_def app_fails[APP_FAIL__MAX] = {
	[APP_FAIL_DB_UNAVAILABLE] = { 503, "database_unavailable",
	    "the database is unavailable; retry shortly",
	    "Database unavailable",
	    "The database cannot be reached right now. Retry in a moment." },
	[APP_FAIL_DB_BUSY] = { 503, "database_unavailable",
	    "the database is busy; retry shortly",
	    "Database busy", "The database is busy. Retry in a moment." },
	[APP_FAIL_SEARCH_TIMEOUT] = { 503, "database_unavailable",
	    "the search took too long; retry, or search for something more "
	    "specific", "Search too slow", "The search took too long. Retry, "
	    "or search for something more specific." },
	[APP_FAIL_CONFLICT] = { 409, "conflict",
	    "this conflicts with an existing record", "Conflict",
	    "This conflicts with an existing record." },
	[APP_FAIL_INTERNAL] = { 500, "internal_error",
	    "an internal error occurred", "Internal error",
	    "Something went wrong on our side; it has been logged." },
	[APP_FAIL_UNAUTHORIZED] = { 401, "unauthorized",
	    "a valid API key is required: Authorization: Bearer <key>",
	    "Log in", "You need to log in." },
	[APP_FAIL_BAD_SIGNATURE] = { 401, "unauthorized",
	    "X-Hub-Signature-256 is missing or does not match the body",
	    "Unauthorized", "The signature does not match." },
	[APP_FAIL_CSRF] = { 403, "forbidden", "the CSRF token is missing or "
	    "wrong", "Forbidden", "This form has expired or did not come "
	    "from this site. Go back, reload the page and try again." },
	[APP_FAIL_LOGIN_CSRF] = { 403, "forbidden", "the login form's token "
	    "is missing or wrong", "Forbidden", "This login form has expired "
	    "or did not come from this site. Reload the login page and try "
	    "again." },
	[APP_FAIL_NOT_JSON] = { 415, "unsupported_media_type",
	    "Content-Type must be application/json", "Unsupported form",
	    "This page accepts HTML form submissions only." },
	[APP_FAIL_NOT_FORM] = { 415, "unsupported_media_type",
	    "Content-Type must be application/x-www-form-urlencoded",
	    "Unsupported form",
	    "This page accepts HTML form submissions only." },
	[APP_FAIL_TOO_LARGE] = { 413, "payload_too_large",
	    "the body must be at most 64 KiB", "Too large",
	    "The form is larger than 64 KiB." },
	[APP_FAIL_BODY_SHORT] = { 400, "invalid_json",
	    "the body is shorter than its Content-Length", "Bad request",
	    "The form arrived incomplete." },
	[APP_FAIL_BAD_JSON] = { 400, "invalid_json",
	    "the body must be one JSON object", "Bad request",
	    "The request could not be decoded." },
	[APP_FAIL_BAD_FORM] = { 400, "invalid_parameter",
	    "the form could not be decoded", "Bad request",
	    "The form could not be decoded." },
	[APP_FAIL_NOT_FOUND] = { 404, "not_found", "no such route",
	    "Not found", "There is no such page." },
	[APP_FAIL_METHOD] = { 405, "method_not_allowed",
	    "this method is not allowed here", "Method not allowed",
	    "This page cannot be used that way." },
	[APP_FAIL_BUSY] = { 429, "rate_limited",
	    "too many requests of this kind at once; retry shortly",
	    "Too many attempts", "Too many logins are being checked right "
	    "now. Try again in a few seconds." },
	[APP_FAIL_UPLOAD_TOO_LARGE] = { 413, "payload_too_large",
	    "the body must be at most 16 MiB", "Too large",
	    "The file is larger than 16 MiB." },
};

void
app_fail(struct app *a, enum app_fail f, const char *message)
{
	const struct app_fail_def	*d = &app_fails[f];

	if (d->status == 503 || d->status == 429)
		req_header(a->req, "Retry-After", "1");
	if (f == APP_FAIL_UNAUTHORIZED)
		req_header(a->req, "WWW-Authenticate", "Bearer");
	if (a->html)
		admin_error(a, d->status, d->title, d->text);
	else
		req_error(a->req, d->status, d->code,
		    message != NULL ? message : d->message, NULL);
}

void
app_db_error(struct app *a, enum db_rc rc)
{
	switch (rc) {
	case DB_UNAVAILABLE:
		app_fail(a, APP_FAIL_DB_UNAVAILABLE, NULL);
		break;
	case DB_RETRY:
		app_fail(a, APP_FAIL_DB_BUSY, NULL);
		break;
	case DB_TIMEOUT:
		app_fail(a, APP_FAIL_SEARCH_TIMEOUT, NULL);
		break;
	case DB_CONFLICT:
		app_fail(a, APP_FAIL_CONFLICT, NULL);
		break;
	default:
		app_fail(a, APP_FAIL_INTERNAL, NULL);
		break;
	}
}

void
app_err_set(struct app_err *e, int status, const char *code,
    const char *message, const char *field)
{
	e->status = status;
	e->code = code;
	e->field = field;
	snprintf(e->message, sizeof(e->message), "%s", message);
}

void
app_err_answer(struct app *a, const struct app_err *e)
{
	req_error(a->req, e->status, e->code, e->message, e->field);
}

/* The body's read as a failure kind, or APP_FAIL__MAX when it was read. */
static enum app_fail
app_body(struct app *a)
{
	switch (req_read_body(a->req, REQ_MAX_BODY)) {
	case REQ_BODY_OK:
		return APP_FAIL__MAX;
	case REQ_BODY_TOO_LARGE:
		return APP_FAIL_TOO_LARGE;
	default:
		return APP_FAIL_BODY_SHORT;
	}
}

int
app_read_upload(struct app *a)
{
	switch (req_read_body(a->req, APP_UPLOAD_MAX)) {
	case REQ_BODY_OK:
		return 0;
	case REQ_BODY_TOO_LARGE:
		app_fail(a, APP_FAIL_UPLOAD_TOO_LARGE, NULL);
		return -1;
	default:
		app_fail(a, APP_FAIL_BODY_SHORT, "the body is shorter than "
		    "its Content-Length");
		return -1;
	}
}

int
app_read_body(struct app *a)
{
	enum app_fail	f;

	if ((f = app_body(a)) != APP_FAIL__MAX) {
		app_fail(a, f, NULL);
		return -1;
	}
	return 0;
}

int
app_parse_json_err(struct app *a, struct json_object **root,
    struct app_err *e)
{
	const struct app_fail_def	*d;
	enum app_fail			 f = APP_FAIL__MAX;
	enum jsonb_err			 je;

	*root = NULL;
	if (!req_content_type_is(a->req, "application/json"))
		f = APP_FAIL_NOT_JSON;
	else if (a->req->body == NULL)
		f = app_body(a);
	if (f != APP_FAIL__MAX) {
		d = &app_fails[f];
		app_err_set(e, d->status, d->code, d->message, NULL);
		return -1;
	}
	if ((je = jsonb_parse(a->req->body, a->req->body_len, root)) !=
	    JSONB_OK) {
		app_err_set(e, 400, "invalid_json", jsonb_strerror(je), NULL);
		return -1;
	}
	return 0;
}

int
app_parse_json(struct app *a, struct json_object **root)
{
	struct app_err	e;

	if (app_parse_json_err(a, root, &e) == -1) {
		app_err_answer(a, &e);
		return -1;
	}
	return 0;
}

void
app_list_answer(struct app *a, struct json_object *data, int more,
    const char *path, const struct query *q, const char *const *keep,
    long long limit, long long last)
{
	struct json_object	*root;
	struct buf		 b;
	const char		*v;
	size_t			 i;

	root = json_object_new_object();
	json_object_object_add(root, "data", data);
	if (more) {
		buf_init(&b);
		buf_printf(&b, "%s?", path);
		for (i = 0; keep[i] != NULL; i++) {
			if ((v = query_get(q, keep[i])) == NULL || *v == '\0')
				continue;
			buf_printf(&b, "%s=", keep[i]);
			query_encode(&b, v);
			buf_putc(&b, '&');
		}
		buf_printf(&b, "limit=%lld&before_id=%lld", limit, last);
		json_object_object_add(root, "next",
		    json_object_new_string(b.data));
		buf_cleanup(&b);
	} else
		json_object_object_add(root, "next", NULL);
	req_json(a->req, 200, root);
	json_object_put(root);
}

const char *
app_business_number(const struct app *a)
{
	return a->cfg->business_number[0] != '\0' ?
	    a->cfg->business_number : "Me";
}
