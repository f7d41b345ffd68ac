#include <stdlib.h>

#include "api_numbers.h"
#include "stmts.h"

static struct json_object *
api_numbers_str(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL :
	    json_object_new_string(PQgetvalue(res, row, col));
}

void
api_numbers_list(struct app *a)
{
	struct json_object	*root, *data, *o;
	PGresult		*res = NULL;
	enum db_rc		 rc;
	int			 i;

	if ((rc = db_exec(a->db, STMT_NUMBER_LIST, 0, NULL, &res)) != DB_OK) {
		app_db_error(a, rc);
		return;
	}
	data = json_object_new_array();
	for (i = 0; i < PQntuples(res); i++) {
		o = json_object_new_object();
		json_object_object_add(o, "id", json_object_new_int64(
		    strtoll(PQgetvalue(res, i, 0), NULL, 10)));
		json_object_object_add(o, "phone_number_id",
		    api_numbers_str(res, i, 1));
		json_object_object_add(o, "display",
		    api_numbers_str(res, i, 2));
		json_object_object_add(o, "name", api_numbers_str(res, i, 3));
		json_object_array_add(data, o);
	}
	root = json_object_new_object();
	json_object_object_add(root, "data", data);
	req_json(a->req, 200, root);
	json_object_put(root);
	db_res_free(res);
}
