#include <string.h>

#include "metrics.h"
#include "ops.h"
#include "stmts.h"

extern const char	openapi_yaml[];

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

	if ((rc = db_exec(a->db, STMT_READY, 0, NULL, &res)) != DB_OK) {
		app_fail(a, APP_FAIL_DB_UNAVAILABLE, NULL);
		return;
	}
	db_res_free(res);
	req_send(a->req, 200, "application/json", body, sizeof(body) - 1);
}

void
ops_metrics(struct app *a)
{
	struct buf	b;

	buf_init(&b);
	metrics_render(&b);
	/* No ROUTE_DB: a scrape reports the database down instead of 503. */
	(void)metrics_render_db(&b, a->db);
	req_send(a->req, 200, "text/plain; version=0.0.4; charset=utf-8",
	    b.data, b.len);
	buf_cleanup(&b);
}

void
ops_openapi(struct app *a)
{
	req_send(a->req, 200, "application/yaml; charset=utf-8", openapi_yaml,
	    strlen(openapi_yaml));
}
