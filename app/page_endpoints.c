#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "admin.h"
#include "events.h"
#include "log.h"
#include "page_endpoints.h"
#include "stmts.h"

#define PAGE_ENDPOINTS_ATTEMPTS	20	/* latest attempts per endpoint */

/* What the list says after a redirect (?done=...). */
static const char *const page_endpoints_done[][2] = {
	{ "disabled", "The endpoint was disabled." },
	{ "resent", "The event is queued to be sent again." },
};

static void	page_endpoints_render(struct app *, int, const char *, int,
		    const char *, const char *);
static void	page_endpoints_form(struct admin_page *, const char *,
		    const char *);
static void	page_endpoints_one(struct admin_page *, const PGresult *, int,
		    const PGresult *, int *);
static void	page_endpoints_attempts(struct admin_page *,
		    const PGresult *, int *, const char *);

/* The add form: url (kept after an error) and a checkbox per type. */
static void
page_endpoints_form(struct admin_page *p, const char *url, const char *err)
{
	struct html	*h = &p->h;
	int		 i;

	html_open(h, "section");
	html_attr(h, "class", "panel");
	html_elem(h, "h2", "Add an endpoint");
	html_open(h, "form");
	html_attr(h, "method", "post");
	html_attr(h, "action", "/admin/endpoints/");
	html_attr(h, "class", "stack");
	html_attr(h, "novalidate", "");
	admin_csrf_field(p);
	html_open(h, "div");
	html_attr(h, "class", err ? "field invalid" : "field");
	html_open(h, "label");
	html_attr(h, "for", "field-url");
	html_str(h, "URL");
	html_close(h);
	html_void(h, "input");
	html_attr(h, "type", "url");
	html_attr(h, "id", "field-url");
	html_attr(h, "name", "url");
	html_attr(h, "value", url ? url : "");
	html_attr(h, "placeholder", "https://support.example.com/hooks/wadesk");
	html_attr(h, "autocomplete", "off");
	if (err != NULL) {
		html_attr(h, "aria-invalid", "true");
		html_attr(h, "aria-describedby", "url-error");
		html_open(h, "p");
		html_attr(h, "class", "field-error");
		html_attr(h, "id", "url-error");
		html_str(h, err);
		html_close(h);
	}
	html_close(h);
	html_open(h, "fieldset");
	html_elem(h, "legend", "Events");
	for (i = 0; i < EVENT__MAX; i++) {
		html_open(h, "label");
		html_void(h, "input");
		html_attr(h, "type", "checkbox");
		html_attr(h, "name", event_types[i]);
		html_attr(h, "value", "1");
		html_flag(h, "checked");
		html_str(h, " ");
		html_str(h, event_types[i]);
		html_close(h);
	}
	html_close(h);
	html_open(h, "div");
	html_attr(h, "class", "actions");
	admin_submit(h, "primary", "Add endpoint");
	html_close(h);
	html_close(h);			/* form */
	html_close(h);			/* section */
}

/* The latest attempts of endpoint id (rows from *at on, in order). */
static void
page_endpoints_attempts(struct admin_page *p, const PGresult *att, int *at,
    const char *id)
{
	struct html	*h = &p->h;
	char		 url[64];
	int		 n = PQntuples(att), any = 0;

	for (; *at < n && strcmp(PQgetvalue(att, *at, 0), id) == 0; (*at)++) {
		if (!any) {
			html_open(h, "div");
			html_attr(h, "class", "table-wrap");
			html_open(h, "table");
			html_attr(h, "class", "list deliveries");
			html_open(h, "thead");
			html_open(h, "tr");
			html_elem(h, "th", "Time (UTC)");
			html_elem(h, "th", "Event");
			html_elem(h, "th", "HTTP status");
			html_elem(h, "th", "Duration");
			html_elem(h, "th", "Attempt");
			html_elem(h, "th", "Result");
			html_elem(h, "th", "Action");
			html_close(h);
			html_close(h);
			html_open(h, "tbody");
			any = 1;
		}
		html_open(h, "tr");
		html_open(h, "td");
		html_attr(h, "class", "time");
		admin_time(h, PQgetvalue(att, *at, 2));
		html_close(h);
		html_elem(h, "td", PQgetvalue(att, *at, 3));
		html_elemc(h, "td", "num", PQgetisnull(att, *at, 4) ? "-" :
		    PQgetvalue(att, *at, 4));
		html_open(h, "td");
		html_attr(h, "class", "num");
		html_strf(h, "%s ms", PQgetvalue(att, *at, 5));
		html_close(h);
		html_elemc(h, "td", "num", PQgetvalue(att, *at, 6));
		html_open(h, "td");
		html_str(h, PQgetvalue(att, *at, 8));
		if (!PQgetisnull(att, *at, 7)) {
			html_str(h, ": ");
			html_str(h, PQgetvalue(att, *at, 7));
		}
		html_close(h);
		html_open(h, "td");
		snprintf(url, sizeof(url), "/admin/deliveries/%s/resend",
		    PQgetvalue(att, *at, 1));
		admin_post_form(p, url, "inline");
		admin_submit(h, NULL, "Send again");
		html_close(h);		/* form */
		html_close(h);		/* td */
		html_close(h);		/* tr */
	}
	if (any) {
		html_close(h);		/* tbody */
		html_close(h);		/* table */
		html_close(h);		/* div */
	} else {
		html_open(h, "p");
		html_attr(h, "class", "hint");
		html_str(h, "No deliveries yet.");
		html_close(h);
	}
}

/* Endpoint row i of eps, then its attempts. */
static void
page_endpoints_one(struct admin_page *p, const PGresult *eps, int i,
    const PGresult *att, int *at)
{
	struct html	*h = &p->h;
	const char	*id = PQgetvalue(eps, i, 0);
	char		 url[64];
	int		 enabled = PQgetvalue(eps, i, 3)[0] == 't';

	html_open(h, "section");
	html_attr(h, "class", "panel endpoint");
	html_attrf(h, "id", "endpoint-%s", id);
	html_open(h, "h2");
	html_strf(h, "#%s ", id);
	html_elem(h, "code", PQgetvalue(eps, i, 1));
	html_close(h);
	html_open(h, "p");
	html_open(h, "span");
	html_attr(h, "class", enabled ? "badge badge-delivered" :
	    "badge badge-failed");
	html_str(h, enabled ? "enabled" : "disabled");
	html_close(h);
	if (!enabled && !PQgetisnull(eps, i, 4)) {
		html_str(h, " ");
		html_str(h, PQgetvalue(eps, i, 4));
		if (!PQgetisnull(eps, i, 5)) {
			html_str(h, " (");
			admin_time(h, PQgetvalue(eps, i, 5));
			html_str(h, ")");
		}
	}
	if (enabled && !PQgetisnull(eps, i, 6)) {
		html_str(h, " failing since ");
		admin_time(h, PQgetvalue(eps, i, 6));
	}
	html_close(h);
	html_open(h, "p");
	html_str(h, "Events: ");
	html_str(h, PQgetvalue(eps, i, 2));
	html_strf(h, " · %s waiting", PQgetvalue(eps, i, 7));
	html_close(h);
	if (enabled) {
		snprintf(url, sizeof(url), "/admin/endpoints/%s/disable", id);
		admin_post_form(p, url, "inline");
		admin_submit(h, "danger", "Disable");
		html_close(h);
	}
	page_endpoints_attempts(p, att, at, id);
	html_close(h);			/* section */
}

/*
 * The page: a notice (error or not), the new secret once, every endpoint
 * with its attempts, the add form (url kept, form_err beside it).
 */
static void
page_endpoints_render(struct app *a, int status, const char *notice,
    int error, const char *secret, const char *form_err)
{
	struct admin_page	 p;
	struct html		*h;
	PGresult		*eps = NULL, *att = NULL;
	const char		*prm[1];
	char			 lim[16];
	enum db_rc		 rc;
	int			 i, at = 0;

	snprintf(lim, sizeof(lim), "%d", PAGE_ENDPOINTS_ATTEMPTS);
	prm[0] = lim;
	if ((rc = db_exec(a->db, STMT_ADMIN_ENDPOINTS, 0, NULL, &eps)) !=
	    DB_OK || (rc = db_exec(a->db, STMT_ADMIN_DELIVERIES, 1, prm,
	    &att)) != DB_OK) {
		app_db_error(a, rc);
		goto out;
	}
	admin_page_begin(&p, a, "Event endpoints", ADMIN_NAV_ENDPOINTS);
	h = &p.h;
	html_elem(h, "h1", "Event endpoints");
	if (notice != NULL)
		admin_notice(h, error, notice);
	if (secret != NULL) {
		html_open(h, "p");
		html_attr(h, "class", "notice");
		html_attr(h, "role", "status");
		html_str(h, "Its signing secret, shown only this once: ");
		html_open(h, "code");
		html_attr(h, "id", "endpoint-secret");
		html_str(h, secret);
		html_close(h);
		html_close(h);
	}
	if (PQntuples(eps) == 0) {
		html_open(h, "p");
		html_attr(h, "class", "hint");
		html_str(h, "No endpoints yet: add one to have messages and "
		    "status changes sent to another system, signed as "
		    "Standard Webhooks says.");
		html_close(h);
	}
	for (i = 0; i < PQntuples(eps); i++)
		page_endpoints_one(&p, eps, i, att, &at);
	page_endpoints_form(&p, form_err != NULL ?
	    query_get(&a->form, "url") : NULL, form_err);
	admin_page_end(&p, status);
out:
	db_res_free(att);
	db_res_free(eps);
}

void
page_endpoints_list(struct app *a)
{
	struct query	 q;
	const char	*done, *notice = NULL;
	size_t		 i;

	query_parse(a->req->arena, a->req->query, &q);
	done = q.invalid ? NULL : query_get(&q, "done");
	for (i = 0; done != NULL && i < sizeof(page_endpoints_done) /
	    sizeof(page_endpoints_done[0]); i++)
		if (strcmp(done, page_endpoints_done[i][0]) == 0)
			notice = page_endpoints_done[i][1];
	page_endpoints_render(a, 200, notice, 0, NULL, NULL);
}

void
page_endpoints_add(struct app *a)
{
	struct buf	 tb, csv;
	PGresult	*res = NULL;
	char		 secret[CRYPTO_WH_SECRET_MAX], msg[96];
	const char	*url, *err = NULL, *terr;
	enum db_rc	 rc;
	int		 i;

	buf_init(&tb);
	buf_init(&csv);
	url = query_get(&a->form, "url");
	if (url == NULL || *url == '\0')
		err = "url is required: an https URL";
	else if (events_url_check(url, a->cfg->events_allow_private,
	    &err) == 0)
		err = NULL;
	for (i = 0; i < EVENT__MAX; i++)
		if (query_get(&a->form, event_types[i]) != NULL) {
			if (csv.len > 0)
				buf_putc(&csv, ',');
			buf_puts(&csv, event_types[i]);
		}
	if (err == NULL && csv.len == 0)
		err = "choose at least one event";
	if (err == NULL && events_types_csv(csv.data, &tb, &terr) == -1)
		err = terr;
	if (err != NULL) {
		page_endpoints_render(a, 422, "The endpoint was not added: "
		    "please correct the form below.", 1, NULL, err);
		goto out;
	}
	if ((rc = events_endpoint_add(a->db, url, tb.data, secret, &res)) !=
	    DB_OK) {
		app_db_error(a, rc);
		goto out;
	}
	log_kv(LOG_INFO, "admin endpoint added", "user", a->sess->username,
	    "#endpoint_id", PQgetvalue(res, 0, 0), NULL);
	snprintf(msg, sizeof(msg), "Endpoint #%s added.",
	    PQgetvalue(res, 0, 0));
	page_endpoints_render(a, 200, msg, 0, secret, NULL);
	sodium_memzero(secret, sizeof(secret));
out:
	db_res_free(res);
	buf_cleanup(&csv);
	buf_cleanup(&tb);
}

void
page_endpoints_disable(struct app *a)
{
	PGresult	*res = NULL;
	const char	*p[2];
	char		 why[160];
	enum db_rc	 rc;

	snprintf(why, sizeof(why), "disabled by %s", a->sess->username);
	p[0] = a->args[0];
	p[1] = why;
	if ((rc = db_exec(a->db, STMT_ENDPOINT_DISABLE, 2, p, &res)) !=
	    DB_OK) {
		app_db_error(a, rc);
		return;
	}
	if (PQntuples(res) == 0)
		admin_error(a, 404, "Not found",
		    "There is no enabled endpoint with this id.");
	else {
		log_kv(LOG_INFO, "admin endpoint disabled", "user",
		    a->sess->username, "#endpoint_id", a->args[0], NULL);
		admin_redirect(a, "/admin/endpoints/?done=disabled");
	}
	db_res_free(res);
}

void
page_deliveries_resend(struct app *a)
{
	PGresult	*res = NULL;
	const char	*p[1] = { a->args[0] };
	enum db_rc	 rc;

	if ((rc = db_exec(a->db, STMT_DELIVERY_RESEND, 1, p, &res)) !=
	    DB_OK) {
		app_db_error(a, rc);
		return;
	}
	if (PQntuples(res) == 0)
		admin_error(a, 404, "Not found", "There is no such delivery.");
	else {
		log_kv(LOG_INFO, "admin delivery sent again", "user",
		    a->sess->username, "#delivery_id", a->args[0],
		    "#new_delivery_id", PQgetvalue(res, 0, 0), NULL);
		admin_redirect(a, "/admin/endpoints/?done=resent");
	}
	db_res_free(res);
}
