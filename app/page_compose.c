#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "model_template.h"
#include "page_compose.h"
#include "stmts.h"

#define COMPOSE_BODY_SHORT	60	/* characters of a body in the chooser */

static void	compose_field(struct html *, const char *, const char *,
		    const char *, const char *, const char *, int);
static int	compose_split(struct arena *, const char *, const char **,
		    const char **);
static struct json_object *compose_params(struct json_object *,
		    const struct query *);
static void	compose_chooser(struct admin_page *, const char *,
		    const char *, const struct query *, const PGresult *);
static void	compose_send_form(struct admin_page *,
		    const struct compose_to *, const char *,
		    struct json_object *, const struct query *);

/*
 * <div class="field"><label>label</label><input ...></div>.  A template
 * parameter has a maxlength; the sender and receiver (maxlength 0) are
 * not for the browser to autofill.
 */
static void
compose_field(struct html *h, const char *id, const char *label,
    const char *type, const char *name, const char *value, int maxlength)
{
	html_open(h, "div");
	html_attr(h, "class", "field");
	html_open(h, "label");
	html_attr(h, "for", id);
	html_str(h, label);
	html_close(h);
	html_void(h, "input");
	html_attr(h, "type", type);
	html_attr(h, "id", id);
	html_attr(h, "name", name);
	html_attr(h, "value", value);
	if (maxlength > 0)
		html_attrf(h, "maxlength", "%d", maxlength);
	else
		html_attr(h, "autocomplete", "off");
	html_close(h);
}

/* "NAME/LANGUAGE" into its parts (from arena); -1 when it is not that. */
static int
compose_split(struct arena *arena, const char *v, const char **name,
    const char **lang)
{
	const char	*slash;

	if (v == NULL || (slash = strrchr(v, '/')) == NULL || slash == v ||
	    slash[1] == '\0')
		return -1;
	*name = arena_strndup(arena, v, (size_t)(slash - v));
	*lang = arena_strdup(arena, slash + 1);
	return 0;
}

/*
 * The values of a template's placeholders (names, a JSON array) from the
 * "p.NAME" fields of q: a list when they are numbered ({{1}} first), else
 * an object.  A missing field is "" (refused when rendered).
 */
static struct json_object *
compose_params(struct json_object *names, const struct query *q)
{
	struct json_object	*out;
	const char		*name, *v;
	char			 key[96];
	size_t			 i, n;
	long			 k;
	int			 numbered = 1;

	n = json_object_array_length(names);
	for (i = 0; i < n; i++) {
		name = json_object_get_string(json_object_array_get_idx(names,
		    i));
		if (strspn(name, "0123456789") != strlen(name))
			numbered = 0;
	}
	out = numbered ? json_object_new_array() : json_object_new_object();
	for (i = 0; i < n; i++) {
		if (numbered)
			json_object_array_add(out, json_object_new_string(""));
	}
	for (i = 0; i < n; i++) {
		name = json_object_get_string(json_object_array_get_idx(names,
		    i));
		snprintf(key, sizeof(key), "p.%s", name);
		if ((v = query_get(q, key)) == NULL)
			v = "";
		if (!numbered)
			json_object_object_add(out, name,
			    json_object_new_string(v));
		else if ((k = strtol(name, NULL, 10)) >= 1 && (size_t)k <= n)
			json_object_array_put_idx(out, (size_t)k - 1,
			    json_object_new_string(v));
	}
	return out;
}

/* The GET form: the approved templates, and the chosen one's fields. */
static void
compose_chooser(struct admin_page *p, const char *self, const char *keep,
    const struct query *q, const PGresult *list)
{
	struct html	*h = &p->h;
	struct buf	 val;
	const char	*chosen, *v;
	int		 i;

	chosen = query_get(q, "template");
	html_open(h, "form");
	html_attr(h, "method", "get");
	html_attr(h, "action", self);
	html_attr(h, "class", "stack compose-choose");
	/* The Send Message page: sender and receiver travel with it. */
	if (keep != NULL) {
		v = query_get(q, "from");
		compose_field(h, "template-from", "Sender (your business number)",
		    "tel", "from", v != NULL ? v : p->app->cfg->business_number,
		    0);
		v = query_get(q, keep);
		compose_field(h, "template-to", "Receiver (phone number or BSUID)",
		    "text", keep, v != NULL ? v : "", 0);
	}
	html_open(h, "div");
	html_attr(h, "class", "field");
	html_open(h, "label");
	html_attr(h, "for", "template-choose");
	html_str(h, "Template");
	html_close(h);
	html_open(h, "select");
	html_attr(h, "id", "template-choose");
	html_attr(h, "name", "template");
	html_open(h, "option");
	html_attr(h, "value", "");
	html_str(h, "Choose a template\xe2\x80\xa6");
	html_close(h);
	buf_init(&val);
	for (i = 0; i < PQntuples(list); i++) {
		if (strcmp(PQgetvalue(list, i, 3), "APPROVED") != 0)
			continue;
		buf_reset(&val);
		buf_printf(&val, "%s/%s", PQgetvalue(list, i, 0),
		    PQgetvalue(list, i, 1));
		buf_putc(&val, '\0');
		html_open(h, "option");
		html_attr(h, "value", val.data);
		if (chosen != NULL && strcmp(chosen, val.data) == 0)
			html_flag(h, "selected");
		html_strf(h, "%s (%s): ", PQgetvalue(list, i, 0),
		    PQgetvalue(list, i, 1));
		admin_short(h, PQgetvalue(list, i, 4), COMPOSE_BODY_SHORT);
		html_close(h);
	}
	buf_cleanup(&val);
	html_close(h);			/* select */
	html_close(h);			/* div */
}

/* The POST form that sends the previewed template as it is. */
static void
compose_send_form(struct admin_page *p, const struct compose_to *to,
    const char *tmpl, struct json_object *names, const struct query *q)
{
	struct html	*h = &p->h;
	const char	*name, *v;
	char		 key[96];
	size_t		 i;

	admin_post_form(p, "/admin/messages/new", "compose-send");
	if (to->back != NULL)
		admin_hidden(h, "back", to->back);
	if (to->receiver != NULL)
		admin_hidden(h, "receiver", to->receiver);
	if (to->contact_id != NULL)
		admin_hidden(h, "contact_id", to->contact_id);
	if (to->sender != NULL)
		admin_hidden(h, "sender", to->sender);
	if (to->reply_to != NULL)
		admin_hidden(h, "reply_to", to->reply_to);
	admin_hidden(h, "template", tmpl);
	for (i = 0; i < json_object_array_length(names); i++) {
		name = json_object_get_string(json_object_array_get_idx(names,
		    i));
		snprintf(key, sizeof(key), "p.%s", name);
		if ((v = query_get(q, key)) != NULL)
			admin_hidden(h, key, v);
	}
	admin_submit(h, "primary", "Send template");
	html_close(h);
}

int
compose_template(struct admin_page *p, const char *self, const char *keep,
    const struct compose_to *to, const struct query *q)
{
	struct app		*a = p->app;
	struct html		*h = &p->h;
	struct json_object	*names = NULL, *params = NULL;
	PGresult		*list = NULL, *t = NULL;
	const char		*chosen, *tp[2], *why, *name, *v;
	char			 key[96], id[128], label[128];
	struct buf		 out;
	enum db_rc		 rc;
	size_t			 i;
	int			 filled = 1, ret = -1;

	buf_init(&out);
	if ((rc = db_exec(a->db, STMT_TEMPLATE_LIST, 0, NULL, &list)) !=
	    DB_OK)
		goto dberr;
	chosen = query_get(q, "template");
	if (chosen != NULL && *chosen != '\0' &&
	    compose_split(a->req->arena, chosen, &tp[0], &tp[1]) == 0) {
		if ((rc = db_exec(a->db, STMT_TEMPLATE_GET, 2, tp, &t)) !=
		    DB_OK)
			goto dberr;
	}
	html_open(h, "section");
	html_attr(h, "class", "panel compose-template");
	html_attr(h, "id", "template");
	html_attr(h, "aria-labelledby", "template-head");
	html_open(h, "h2");
	html_attr(h, "id", "template-head");
	html_str(h, "Send a template");
	html_close(h);
	compose_chooser(p, self, keep, q, list);
	if (t != NULL && PQntuples(t) == 1 &&
	    strcmp(PQgetvalue(t, 0, 0), "APPROVED") == 0)
		names = json_tokener_parse(PQgetvalue(t, 0, 2));
	for (i = 0; names != NULL && i < json_object_array_length(names);
	    i++) {
		name = json_object_get_string(json_object_array_get_idx(names,
		    i));
		snprintf(key, sizeof(key), "p.%s", name);
		snprintf(id, sizeof(id), "tp-%s", name);
		v = query_get(q, key);
		if (v == NULL || *v == '\0')
			filled = 0;
		snprintf(label, sizeof(label), "{{%s}}", name);
		compose_field(h, id, label, "text", key, v != NULL ? v : "",
		    TEMPLATE_PARAM_MAX);
	}
	html_open(h, "div");
	html_attr(h, "class", "actions");
	admin_submit(h, NULL, names != NULL &&
	    json_object_array_length(names) > 0 ? "Preview" : "Choose");
	html_close(h);
	html_close(h);			/* the GET form */
	if (chosen != NULL && *chosen != '\0' && names == NULL)
		admin_notice(h, 1, t != NULL && PQntuples(t) == 1 ?
		    "This template is not approved: it cannot be sent." :
		    "There is no such template.");
	else if (names != NULL) {
		params = compose_params(names, q);
		if (!filled && json_object_array_length(names) > 0)
			html_elemc(h, "p", "hint", "Fill in every field, then "
			    "preview what the customer will read.");
		else if (model_template_render(PQgetvalue(t, 0, 1), names,
		    params, &out, &why) == -1)
			admin_notice(h, 1, why);
		else {
			buf_putc(&out, '\0');
			html_open(h, "div");
			html_attr(h, "class", "compose-preview");
			html_elemc(h, "p", "preview-label",
			    "The customer will read:");
			html_elemc(h, "p", "bubble-text preview-text", out.data);
			html_close(h);
			compose_send_form(p, to, chosen, names, q);
		}
	}
	html_close(h);			/* section */
	ret = 0;
	goto out;
dberr:
	app_db_error(a, rc);
out:
	json_object_put(params);
	json_object_put(names);
	db_res_free(t);
	db_res_free(list);
	buf_cleanup(&out);
	return ret;
}

int
compose_extras(struct app *a, const struct query *form,
    struct send_extras *x, struct json_object **owned, char *err,
    size_t errsz, enum db_rc *rc)
{
	struct json_object	*names;
	PGresult		*t = NULL;
	const char		*tp[2];

	*owned = NULL;
	x->tname = NULL;
	if (query_get(form, "template") == NULL ||
	    *query_get(form, "template") == '\0')
		return 0;
	if (compose_split(a->req->arena, query_get(form, "template"), &tp[0],
	    &tp[1]) == -1) {
		snprintf(err, errsz, "Choose a template.");
		return -1;
	}
	if ((*rc = db_exec(a->db, STMT_TEMPLATE_GET, 2, tp, &t)) != DB_OK)
		return -2;
	/* Unknown or not approved: the send's own checks say so. */
	if (PQntuples(t) == 1 &&
	    (names = json_tokener_parse(PQgetvalue(t, 0, 2))) != NULL) {
		*owned = compose_params(names, form);
		json_object_put(names);
	}
	db_res_free(t);
	x->tname = tp[0];
	x->tlang = tp[1];
	x->tparams = *owned;
	return 0;
}
