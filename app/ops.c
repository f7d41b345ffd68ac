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
	struct buf	 b;
	PGresult	*res = NULL;
	int		 i, up;

	buf_init(&b);
	metrics_render(&b);
	/* No ROUTE_DB: a scrape reports the database down instead of 503. */
	up = db_ensure(a->db) == DB_OK &&
	    db_exec(a->db, STMT_METRICS, 0, NULL, &res) == DB_OK;
	buf_printf(&b, "# HELP wadesk_database_up Whether this worker reached "
	    "PostgreSQL for this scrape.\n# TYPE wadesk_database_up gauge\n"
	    "wadesk_database_up %d\n", up);
	if (up) {
		buf_puts(&b, "# HELP wadesk_messages Messages by direction and "
		    "status.\n# TYPE wadesk_messages gauge\n");
		for (i = 0; i < PQntuples(res); i++) {
			if (strcmp(PQgetvalue(res, i, 0), "m") != 0)
				continue;
			buf_printf(&b, "wadesk_messages{direction=\"%s\","
			    "status=\"%s\"} %s\n", PQgetvalue(res, i, 1),
			    PQgetvalue(res, i, 2), PQgetvalue(res, i, 3));
		}
		for (i = 0; i < PQntuples(res); i++) {
			if (strcmp(PQgetvalue(res, i, 0), "g") != 0)
				continue;
			buf_printf(&b, "# TYPE %s gauge\n%s %s\n",
			    PQgetvalue(res, i, 1), PQgetvalue(res, i, 1),
			    PQgetvalue(res, i, 3));
		}
	}
	db_res_free(res);
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
