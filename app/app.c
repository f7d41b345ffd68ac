#include <stdio.h>

#include "app.h"
#include "db.h"
#include "jsonb.h"

void
app_db_unavailable(struct app *a)
{
	req_header(a->req, "Retry-After", "1");
	req_error(a->req, 503, "database_unavailable",
	    "the database is unavailable; retry shortly", NULL);
}

void
app_db_error(struct app *a, int rc)
{
	if (rc == DB_UNAVAILABLE)
		app_db_unavailable(a);
	else
		req_error(a->req, 500, "internal_error",
		    "an internal error occurred", NULL);
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

int
app_read_body_err(struct app *a, struct app_err *e)
{
	switch (req_read_body(a->req, REQ_MAX_BODY)) {
	case REQ_BODY_OK:
		return 0;
	case REQ_BODY_TOO_LARGE:
		app_err_set(e, 413, "payload_too_large",
		    "the body must be at most 64 KiB", NULL);
		return -1;
	default:
		app_err_set(e, 400, "invalid_json",
		    "the body is shorter than its Content-Length", NULL);
		return -1;
	}
}

int
app_read_body(struct app *a)
{
	struct app_err	e;

	if (app_read_body_err(a, &e) == -1) {
		app_err_answer(a, &e);
		return -1;
	}
	return 0;
}

int
app_parse_json_err(struct app *a, struct json_object **root,
    struct app_err *e)
{
	enum jsonb_err	je;

	*root = NULL;
	if (!req_is_json(a->req)) {
		app_err_set(e, 415, "unsupported_media_type",
		    "Content-Type must be application/json", NULL);
		return -1;
	}
	if (app_read_body_err(a, e) == -1)
		return -1;
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
