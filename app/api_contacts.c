#include <stdio.h>
#include <string.h>

#include "api_contacts.h"
#include "model_contact.h"
#include "model_message.h"
#include "query.h"
#include "valid.h"

#define LIST_DEFAULT	50
#define LIST_MAX	200

/* The filters the next page keeps. */
static const char *const list_keep[] = {
	"q", "state", "assignee", "window", NULL
};

static int	api_contacts_filters(struct app *, const struct query *,
		    const char *[CONTACT_P__MAX], long long *);
static void	api_contact_answer(struct app *, PGresult *, int);

/*
 * The list's query parameters into p (NULL: no such filter) and *limit;
 * -1 after answering 400 invalid_parameter with the field.
 */
static int
api_contacts_filters(struct app *a, const struct query *q,
    const char *p[CONTACT_P__MAX], long long *limit)
{
	const char	*v, *field = NULL, *msg = NULL;
	long long	 n;

	*limit = LIST_DEFAULT;
	if ((v = query_get(q, "q")) != NULL && *v != '\0') {
		if (!model_message_search_valid(v)) {
			field = "q";
			msg = "q must be 3-200 characters of UTF-8 text, "
			    "without control characters";
			goto bad;
		}
		p[CONTACT_P_Q] = model_message_like(a->req->arena, v);
	}
	if ((v = query_get(q, "state")) != NULL && *v != '\0') {
		if (!model_contact_state_valid(v)) {
			field = "state";
			msg = "state must be open or resolved";
			goto bad;
		}
		p[CONTACT_P_STATE] = v;
	}
	if ((v = query_get(q, "assignee")) != NULL && *v != '\0') {
		if (!model_contact_assignee_valid(v)) {
			field = "assignee";
			msg = "assignee must be an admin user's name (1-200 "
			    "characters of UTF-8 text) or none";
			goto bad;
		}
		if (strcmp(v, CONTACT_UNASSIGNED) == 0)
			p[CONTACT_P_UNASSIGNED] = "true";
		else
			p[CONTACT_P_ASSIGNEE] = v;
	}
	if ((v = query_get(q, "window")) != NULL && *v != '\0') {
		if (!model_contact_window_valid(v)) {
			field = "window";
			msg = "window must be open or closed";
			goto bad;
		}
		p[CONTACT_P_WINDOW] = v;
	}
	if ((v = query_get(q, "before_id")) != NULL && *v != '\0') {
		if (valid_uint(v, 1, APP_ID_MAX, &n) == -1) {
			field = "before_id";
			msg = "before_id must be a positive integer";
			goto bad;
		}
		p[CONTACT_P_BEFORE] = v;
	}
	if ((v = query_get(q, "limit")) != NULL && *v != '\0' &&
	    valid_uint(v, 1, LIST_MAX, limit) == -1) {
		field = "limit";
		msg = "limit must be from 1 to 200";
		goto bad;
	}
	return 0;
bad:
	req_error(a->req, 400, "invalid_parameter", msg, field);
	return -1;
}


void
api_contacts_list(struct app *a)
{
	struct query		 q;
	struct contact		 c;
	struct json_object	*data;
	PGresult		*res = NULL;
	const char		*p[CONTACT_P__MAX];
	char			 lim[24];
	long long		 limit;
	int			 i, n;
	enum db_rc		 rc;

	memset(p, 0, sizeof(p));
	query_parse(a->req->arena, a->req->query, &q);
	if (q.invalid) {
		req_error(a->req, 400, "invalid_parameter",
		    "the query string is malformed", NULL);
		return;
	}
	if (api_contacts_filters(a, &q, p, &limit) == -1)
		return;
	/* One row more than asked tells whether there is a next page. */
	snprintf(lim, sizeof(lim), "%lld", limit + 1);
	p[CONTACT_P_LIMIT] = lim;
	if ((rc = model_contact_list(a->db, p, &res)) != DB_OK) {
		app_db_error(a, rc);
		return;
	}
	data = json_object_new_array();
	n = PQntuples(res);
	c.id = 0;
	for (i = 0; i < n && i < limit; i++) {
		model_contact_fill(&c, res, i);
		json_object_array_add(data, model_contact_json(&c));
	}
	app_list_answer(a, data, n > limit, "/api/contacts/", &q, list_keep,
	    limit, c.id);
	db_res_free(res);
}

/* Answers the contact in res (status 200), or 404 when res has none. */
static void
api_contact_answer(struct app *a, PGresult *res, int status)
{
	struct contact		 c;
	struct json_object	*o;

	if (PQntuples(res) != 1) {
		req_error(a->req, 404, "not_found", "no such contact", NULL);
		return;
	}
	model_contact_fill(&c, res, 0);
	o = model_contact_json(&c);
	req_json(a->req, status, o);
	json_object_put(o);
}

void
api_contact_get(struct app *a)
{
	PGresult	*res = NULL;
	enum db_rc	 rc;

	if ((rc = model_contact_get(a->db, a->args[0], &res)) != DB_OK) {
		app_db_error(a, rc);
		return;
	}
	api_contact_answer(a, res, 200);
	db_res_free(res);
}

/*
 * One statement does the change; only when it changed nothing is the
 * contact looked up, to tell 404 (no such contact) from 422 (no such
 * admin user).
 */
void
api_contact_change(struct app *a)
{
	struct contact_change	 ch;
	PGresult		*res = NULL;
	const char		*field, *msg;
	enum db_rc		 rc;

	if (model_contact_change_parse(a->json, &ch, &field, &msg) == -1) {
		req_error(a->req, 422, "validation_failed", msg, field);
		return;
	}
	if ((rc = model_contact_change(a->db, a->args[0], &ch, &res)) !=
	    DB_OK) {
		app_db_error(a, rc);
		return;
	}
	if (PQntuples(res) == 1) {
		api_contact_answer(a, res, 200);
		goto out;
	}
	db_res_free(res);
	res = NULL;
	if ((rc = model_contact_get(a->db, a->args[0], &res)) != DB_OK) {
		app_db_error(a, rc);
		return;
	}
	if (PQntuples(res) == 0)
		req_error(a->req, 404, "not_found", "no such contact", NULL);
	else
		req_error(a->req, 422, "validation_failed",
		    "no admin user has this name", "assignee");
out:
	db_res_free(res);
}
