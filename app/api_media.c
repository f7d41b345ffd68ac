#include <stdio.h>
#include <string.h>

#include "api_media.h"
#include "log.h"
#include "model_media.h"
#include "query.h"

void
api_media_upload(struct app *a)
{
	struct query		 q;
	struct json_object	*o;
	PGresult		*res = NULL;
	const char		*ct, *fn, *kind;
	char			 type[MEDIA_TYPE_MAX + 1], msg[320];
	char			 fname[MEDIA_FILENAME_MAX + 1];
	enum db_rc		 rc;

	query_parse(a->req->arena, a->req->query, &q);
	if (q.invalid) {
		req_error(a->req, 400, "invalid_parameter",
		    "the query string is malformed", NULL);
		return;
	}
	ct = req_param(a->req, "CONTENT_TYPE");
	if (ct == NULL || media_type_norm(ct, type, sizeof(type)) == -1 ||
	    (kind = media_send_kind(type)) == NULL) {
		snprintf(msg, sizeof(msg), "Content-Type must be a type "
		    "WhatsApp accepts: %s", media_send_types());
		req_error(a->req, 415, "unsupported_media_type", msg, NULL);
		return;
	}
	if ((fn = query_get(&q, "filename")) != NULL && *fn != '\0') {
		if (media_filename_clean(fn, fname, sizeof(fname)) == -1) {
			req_error(a->req, 400, "invalid_parameter", "filename "
			    "must be 1-255 bytes of UTF-8 without control "
			    "characters", "filename");
			return;
		}
		fn = fname;
	} else
		fn = NULL;
	if (a->req->body_len == 0) {
		req_error(a->req, 422, "validation_failed",
		    "the body (the file) must not be empty", NULL);
		return;
	}
	if ((rc = media_store(a->db, type, fn, a->req->body,
	    a->req->body_len, &res)) != DB_OK) {
		app_db_error(a, rc);
		return;
	}
	log_kv(LOG_INFO, "media uploaded", "#media_id", PQgetvalue(res, 0, 0),
	    "type", type, "kind", kind, NULL);
	o = media_upload_json(res);
	req_json(a->req, 201, o);
	json_object_put(o);
	db_res_free(res);
}

void
api_media_get(struct app *a)
{
	media_serve(a);
}

void
page_media_get(struct app *a)
{
	media_serve(a);
}
