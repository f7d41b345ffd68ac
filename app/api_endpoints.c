#include <string.h>
#include <sodium.h>

#include "api_endpoints.h"
#include "events.h"
#include "stmts.h"

void
api_endpoints_list(struct app *a)
{
	struct json_object	*root, *data;
	PGresult		*res = NULL;
	enum db_rc		 rc;
	int			 i;

	if ((rc = db_exec(a->db, STMT_ENDPOINT_LIST, 0, NULL, &res)) !=
	    DB_OK) {
		app_db_error(a, rc);
		return;
	}
	data = json_object_new_array();
	for (i = 0; i < PQntuples(res); i++)
		json_object_array_add(data, events_endpoint_json(res, i));
	root = json_object_new_object();
	json_object_object_add(root, "data", data);
	req_json(a->req, 200, root);
	json_object_put(root);
	db_res_free(res);
}

void
api_endpoints_create(struct app *a)
{
	struct json_object	*url = NULL, *types = NULL, *o;
	struct buf		 tb;
	PGresult		*res = NULL;
	char			 secret[CRYPTO_WH_SECRET_MAX];
	const char		*msg;
	enum db_rc		 rc;

	buf_init(&tb);
	if (!json_object_object_get_ex(a->json, "url", &url) ||
	    !json_object_is_type(url, json_type_string)) {
		req_error(a->req, 422, "validation_failed",
		    "url is required: an https URL", "url");
		goto out;
	}
	if (events_url_check(json_object_get_string(url),
	    a->cfg->events_allow_private, &msg) == -1 ||
	    strlen(json_object_get_string(url)) !=
	    (size_t)json_object_get_string_len(url)) {
		req_error(a->req, 422, "validation_failed",
		    strlen(json_object_get_string(url)) !=
		    (size_t)json_object_get_string_len(url) ?
		    "url must not hold NUL" : msg, "url");
		goto out;
	}
	(void)json_object_object_get_ex(a->json, "types", &types);
	if (json_object_is_type(types, json_type_null))
		types = NULL;
	if (events_types_json(types, &tb, &msg) == -1) {
		req_error(a->req, 422, "validation_failed", msg, "types");
		goto out;
	}
	if ((rc = events_endpoint_add(a->db, json_object_get_string(url),
	    tb.data, secret, &res)) != DB_OK) {
		app_db_error(a, rc);
		goto out;
	}
	o = events_endpoint_json(res, 0);
	json_object_object_add(o, "secret", json_object_new_string(secret));
	sodium_memzero(secret, sizeof(secret));
	req_json(a->req, 201, o);
	json_object_put(o);
out:
	db_res_free(res);
	buf_cleanup(&tb);
}
