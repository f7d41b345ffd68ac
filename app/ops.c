#include "auth.h"
#include "ops.h"
#include "stmts.h"

void
ops_healthz(struct app *a)
{
	static const char	body[] = "{\"status\":\"ok\"}";

	req_send(a->req, 200, "application/json", body, sizeof(body) - 1);
}

void
ops_readyz(struct app *a)
{
	static const char	 body[] = "{\"status\":\"ready\"}";
	PGresult		*res = NULL;
	enum db_rc		 rc;

	if (auth_db_ready(a) == -1)
		return;
	if ((rc = db_exec(a->db, STMT_READY, 0, NULL, &res)) != DB_OK) {
		app_db_unavailable(a);
		return;
	}
	db_res_free(res);
	req_send(a->req, 200, "application/json", body, sizeof(body) - 1);
}
