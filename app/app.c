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

int
app_read_body(struct app *a)
{
	switch (req_read_body(a->req, REQ_MAX_BODY)) {
	case REQ_BODY_OK:
		return 0;
	case REQ_BODY_TOO_LARGE:
		req_error(a->req, 413, "payload_too_large",
		    "the body must be at most 64 KiB", NULL);
		return -1;
	default:
		req_error(a->req, 400, "invalid_json",
		    "the body is shorter than its Content-Length", NULL);
		return -1;
	}
}

int
app_parse_json(struct app *a, struct json_object **root)
{
	enum jsonb_err	e;

	*root = NULL;
	if (!req_is_json(a->req)) {
		req_error(a->req, 415, "unsupported_media_type",
		    "Content-Type must be application/json", NULL);
		return -1;
	}
	if (app_read_body(a) == -1)
		return -1;
	if ((e = jsonb_parse(a->req->body, a->req->body_len, root)) !=
	    JSONB_OK) {
		req_error(a->req, 400, "invalid_json", jsonb_strerror(e), NULL);
		return -1;
	}
	return 0;
}
