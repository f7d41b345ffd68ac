#include <stdlib.h>
#include <json-c/json.h>

#include "api_templates.h"
#include "stmts.h"

void
api_templates_list(struct app *a)
{
	struct json_object	*o, *data, *names;
	PGresult		*res = NULL;
	enum db_rc		 rc;
	int			 i, n;

	if ((rc = db_exec(a->db, STMT_TEMPLATE_LIST, 0, NULL, &res)) !=
	    DB_OK) {
		app_db_error(a, rc);
		return;
	}
	data = json_object_new_array();
	n = PQntuples(res);
	for (i = 0; i < n; i++) {
		o = json_object_new_object();
		json_object_object_add(o, "name",
		    json_object_new_string(PQgetvalue(res, i, 0)));
		json_object_object_add(o, "language",
		    json_object_new_string(PQgetvalue(res, i, 1)));
		json_object_object_add(o, "category",
		    json_object_new_string(PQgetvalue(res, i, 2)));
		json_object_object_add(o, "status",
		    json_object_new_string(PQgetvalue(res, i, 3)));
		json_object_object_add(o, "body",
		    json_object_new_string(PQgetvalue(res, i, 4)));
		json_object_object_add(o, "parameters", json_object_new_int(
		    atoi(PQgetvalue(res, i, 5))));
		json_object_object_add(o, "parameter_format",
		    json_object_new_string(PQgetvalue(res, i, 6)));
		if ((names = json_tokener_parse(PQgetvalue(res, i, 7))) ==
		    NULL)
			names = json_object_new_array();
		json_object_object_add(o, "parameter_names", names);
		json_object_object_add(o, "header", *PQgetvalue(res, i, 8) ?
		    json_object_new_string(PQgetvalue(res, i, 8)) : NULL);
		json_object_array_add(data, o);
	}
	db_res_free(res);
	o = json_object_new_object();
	json_object_object_add(o, "data", data);
	req_json(a->req, 200, o);
	json_object_put(o);
}
