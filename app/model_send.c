#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonb.h"
#include "model_send.h"
#include "model_template.h"
#include "stmts.h"
#include "valid.h"

static int	send_id(struct json_object *, const char *, const char *,
		    char[24], struct app_err *);
static int	send_text(const char *, size_t, size_t, size_t);
static int	send_template(struct json_object *, struct send_extras *,
		    struct app_err *);
static int	send_buttons(struct json_object *, struct app_err *);
static int	send_target(struct app *, const char *, const char *,
		    const struct message_input *, struct app_err *,
		    enum db_rc *);
static int	send_sender(struct app *, const struct message_input *,
		    struct app_err *, enum db_rc *);
static int	send_window(struct app *, const struct message_input *,
		    struct app_err *, enum db_rc *);
static int	send_render(struct app *, const struct send_extras *,
		    struct message_input *, struct json_object *,
		    struct app_err *, enum db_rc *);

/* A message id member (a number or its digits) into out; "" when absent. */
static int
send_id(struct json_object *o, const char *key, const char *field,
    char out[24], struct app_err *e)
{
	const char	*v;
	size_t		 len;
	long long	 id;
	char		 msg[96];

	out[0] = '\0';
	switch (jsonb_get_strnum(o, key, &v, &len)) {
	case JSONB_GET_ABSENT:
		return 0;
	case JSONB_GET_OK:
		if (len < 24 && strlen(v) == len &&
		    valid_uint(v, 1, APP_ID_MAX, &id) == 0) {
			snprintf(out, 24, "%lld", id);
			return 0;
		}
		break;
	default:
		break;
	}
	snprintf(msg, sizeof(msg), "%s must be the id of a message", field);
	app_err_set(e, 422, "validation_failed", msg, field);
	return -1;
}

/* 1 when s (len bytes) is valid UTF-8 of min-max code points, no control
 * character among them. */
static int
send_text(const char *s, size_t len, size_t min, size_t max)
{
	size_t	chars, i;

	if (strlen(s) != len || valid_utf8(s, len, &chars) == -1 ||
	    chars < min || chars > max)
		return 0;
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

static int
send_template(struct json_object *t, struct send_extras *x,
    struct app_err *e)
{
	size_t	len;

	if (jsonb_get_str(t, "name", &x->tname, &len) != JSONB_GET_OK ||
	    !send_text(x->tname, len, 1, 512)) {
		app_err_set(e, 422, "validation_failed", "template.name must "
		    "be the name of a template", "template.name");
		return -1;
	}
	if (jsonb_get_str(t, "language", &x->tlang, &len) != JSONB_GET_OK ||
	    !send_text(x->tlang, len, 2, 15)) {
		app_err_set(e, 422, "validation_failed", "template.language "
		    "must be a language code such as en or en_US",
		    "template.language");
		return -1;
	}
	if (!json_object_object_get_ex(t, "parameters", &x->tparams) ||
	    json_object_is_type(x->tparams, json_type_null))
		x->tparams = NULL;
	else if (!json_object_is_type(x->tparams, json_type_array) &&
	    !json_object_is_type(x->tparams, json_type_object)) {
		app_err_set(e, 422, "validation_failed", "template.parameters "
		    "must be a list (or an object for named parameters)",
		    "template.parameters");
		return -1;
	}
	return 0;
}

static int
send_buttons(struct json_object *arr, struct app_err *e)
{
	struct json_object	*b;
	const char		*id, *title, *other;
	size_t			 i, k, n, len, olen;

	n = json_object_array_length(arr);
	if (n < 1 || n > SEND_BUTTONS_MAX) {
		app_err_set(e, 422, "validation_failed", "buttons must hold 1 "
		    "to 3 buttons", "buttons");
		return -1;
	}
	for (i = 0; i < n; i++) {
		b = json_object_array_get_idx(arr, i);
		if (!json_object_is_type(b, json_type_object) ||
		    jsonb_get_str(b, "id", &id, &len) != JSONB_GET_OK ||
		    !send_text(id, len, 1, SEND_BUTTON_ID_MAX)) {
			app_err_set(e, 422, "validation_failed", "each button "
			    "needs an id of 1-256 characters", "buttons");
			return -1;
		}
		if (jsonb_get_str(b, "title", &title, &len) != JSONB_GET_OK ||
		    !send_text(title, len, 1, SEND_BUTTON_TITLE_MAX)) {
			app_err_set(e, 422, "validation_failed", "each button "
			    "needs a title of 1-20 characters", "buttons");
			return -1;
		}
		for (k = 0; k < i; k++) {
			(void)jsonb_get_str(json_object_array_get_idx(arr, k),
			    "id", &other, &olen);
			if (strcmp(other, id) == 0) {
				app_err_set(e, 422, "validation_failed",
				    "button ids must differ", "buttons");
				return -1;
			}
		}
	}
	return 0;
}

int
model_send_brings_content(struct json_object *root)
{
	struct json_object	*v;

	return (json_object_object_get_ex(root, "template", &v) &&
	    !json_object_is_type(v, json_type_null)) ||
	    (json_object_object_get_ex(root, "reaction", &v) &&
	    !json_object_is_type(v, json_type_null));
}

int
model_send_parse(struct json_object *root, int content_given,
    struct send_extras *x, struct app_err *e)
{
	struct json_object	*t = NULL, *r = NULL;
	size_t			 len;

	memset(x, 0, sizeof(*x));
	if (jsonb_get_type(root, "template", json_type_object, &t) ==
	    JSONB_GET_TYPE) {
		app_err_set(e, 422, "validation_failed", "template must be an "
		    "object {\"name\", \"language\", \"parameters\"}",
		    "template");
		return -1;
	}
	if (jsonb_get_type(root, "reaction", json_type_object, &r) ==
	    JSONB_GET_TYPE) {
		app_err_set(e, 422, "validation_failed", "reaction must be an "
		    "object {\"message_id\", \"emoji\"}", "reaction");
		return -1;
	}
	if (jsonb_get_type(root, "buttons", json_type_array, &x->buttons) ==
	    JSONB_GET_TYPE) {
		app_err_set(e, 422, "validation_failed", "buttons must be a "
		    "list of {\"id\", \"title\"}", "buttons");
		return -1;
	}
	if (send_id(root, "reply_to", "reply_to", x->reply_to, e) == -1)
		return -1;
	if ((t != NULL || r != NULL) && content_given) {
		app_err_set(e, 422, "validation_failed", t != NULL ?
		    "content is not taken with a template: its text is the "
		    "template's" : "content is not taken with a reaction",
		    "content");
		return -1;
	}
	if ((t != NULL) + (r != NULL) + (x->buttons != NULL) > 1) {
		app_err_set(e, 422, "validation_failed", "give one of template, "
		    "reaction and buttons", t != NULL ? "template" : "reaction");
		return -1;
	}
	if (r != NULL && x->reply_to[0] != '\0') {
		app_err_set(e, 422, "validation_failed", "a reaction cannot "
		    "quote a message", "reply_to");
		return -1;
	}
	if (t != NULL && send_template(t, x, e) == -1)
		return -1;
	if (x->buttons != NULL && send_buttons(x->buttons, e) == -1)
		return -1;
	if (r != NULL) {
		if (send_id(r, "message_id", "reaction.message_id", x->react_to,
		    e) == -1)
			return -1;
		if (x->react_to[0] == '\0') {
			app_err_set(e, 422, "validation_failed",
			    "reaction.message_id must be the id of a message",
			    "reaction.message_id");
			return -1;
		}
		if (jsonb_get_str(r, "emoji", &x->emoji, &len) ==
		    JSONB_GET_ABSENT)
			x->emoji = "";
		else if (x->emoji == NULL || !send_text(x->emoji, len, 0,
		    SEND_EMOJI_MAX)) {
			app_err_set(e, 422, "validation_failed", "reaction.emoji "
			    "must be one emoji (\"\" removes the reaction)",
			    "reaction.emoji");
			return -1;
		}
	}
	return 0;
}

int
model_send_plain(const struct send_extras *x)
{
	return x->tname == NULL && x->reply_to[0] == '\0' &&
	    x->react_to[0] == '\0' && x->buttons == NULL;
}

/*
 * Message id must exist and belong to the customer of in: 0, or -1 with
 * a 422 for field, or -2 with *rc.
 */
static int
send_target(struct app *a, const char *id, const char *field,
    const struct message_input *in, struct app_err *e, enum db_rc *rc)
{
	PGresult	*res = NULL;
	const char	*p[1] = { id };
	int		 same, ret = 0;

	if ((*rc = db_exec(a->db, STMT_MSG_TARGET, 1, p, &res)) != DB_OK)
		return -2;
	if (PQntuples(res) != 1) {
		app_err_set(e, 422, "validation_failed", "no message has this "
		    "id", field);
		ret = -1;
		goto out;
	}
	if (in->contact_id[0] != '\0')
		same = strcmp(PQgetvalue(res, 0, 0), in->contact_id) == 0;
	else
		same = strcmp(PQgetvalue(res, 0, in->receiver_phone ? 1 : 2),
		    in->receiver) == 0;
	if (!same) {
		app_err_set(e, 422, "validation_failed", "the message must be "
		    "one of this customer's conversation", field);
		ret = -1;
	}
out:
	db_res_free(res);
	return ret;
}

/*
 * The sender must be a business number (settings senders_known): 0, or -1
 * with a 422 unknown_sender, or -2 with *rc.
 */
static int
send_sender(struct app *a, const struct message_input *in,
    struct app_err *e, enum db_rc *rc)
{
	PGresult	*res = NULL;
	const char	*p[1] = { in->sender };
	int		 ret = 0;

	if ((*rc = db_exec(a->db, STMT_NUMBER_BY_DISPLAY, 1, p, &res)) !=
	    DB_OK)
		return -2;
	if (PQntuples(res) != 1) {
		app_err_set(e, 422, "unknown_sender", "sender must be one of "
		    "the business numbers (GET /api/numbers/)", "sender");
		ret = -1;
	}
	db_res_free(res);
	return ret;
}

/* The 24-hour window: 0 open, -1 closed (422 in *e), -2 *rc. */
static int
send_window(struct app *a, const struct message_input *in,
    struct app_err *e, enum db_rc *rc)
{
	PGresult	*res = NULL;
	const char	*p[3];
	char		 msg[160];
	int		 ret = 0;

	p[0] = in->contact_id[0] != '\0' ? in->contact_id : NULL;
	p[1] = p[0] == NULL && in->receiver_phone ? in->receiver : NULL;
	p[2] = p[0] == NULL && !in->receiver_phone ? in->receiver : NULL;
	if ((*rc = db_exec(a->db, STMT_CONTACT_WINDOW, 3, p, &res)) != DB_OK)
		return -2;
	/* No contact for a contact_id: the send itself says so. */
	if (PQntuples(res) == 0 && p[0] != NULL)
		goto out;
	if (PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0)
		goto out;
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 1))
		snprintf(msg, sizeof(msg), "the customer's 24-hour window "
		    "closed at %s: only a template can be sent now",
		    PQgetvalue(res, 0, 1));
	else
		snprintf(msg, sizeof(msg), "the customer has never written: "
		    "only a template can be sent");
	app_err_set(e, 422, "outside_service_window", msg, NULL);
	ret = -1;
out:
	db_res_free(res);
	return ret;
}

/* The template send: its body filled in becomes the content; spec. */
static int
send_render(struct app *a, const struct send_extras *x,
    struct message_input *in, struct json_object *spec, struct app_err *e,
    enum db_rc *rc)
{
	struct json_object	*names = NULL, *t;
	PGresult		*res = NULL;
	const char		*p[2] = { x->tname, x->tlang }, *why;
	struct buf		 out;
	size_t			 chars;
	int			 ret = -1;

	buf_init(&out);
	if ((*rc = db_exec(a->db, STMT_TEMPLATE_GET, 2, p, &res)) != DB_OK) {
		ret = -2;
		goto out;
	}
	if (PQntuples(res) != 1) {
		app_err_set(e, 422, "unknown_template", "no template has this "
		    "name and language (GET /api/templates/ lists them)",
		    "template.name");
		goto out;
	}
	if (strcmp(PQgetvalue(res, 0, 0), "APPROVED") != 0) {
		char	msg[96];

		snprintf(msg, sizeof(msg), "the template is %s, not APPROVED",
		    PQgetvalue(res, 0, 0));
		app_err_set(e, 422, "template_not_approved", msg,
		    "template.name");
		goto out;
	}
	names = json_tokener_parse(PQgetvalue(res, 0, 2));
	if (model_template_render(PQgetvalue(res, 0, 1), names, x->tparams,
	    &out, &why) == -1) {
		app_err_set(e, 422, "validation_failed", why,
		    "template.parameters");
		goto out;
	}
	buf_putc(&out, '\0');
	if (valid_utf8(out.data, out.len - 1, &chars) == -1 ||
	    chars < 1 || chars > MESSAGE_MAX_CHARS) {
		app_err_set(e, 422, "validation_failed", "the template with "
		    "these parameters is longer than 4096 characters",
		    "template.parameters");
		goto out;
	}
	in->content = arena_strdup(a->req->arena, out.data);
	t = json_object_new_object();
	json_object_object_add(t, "name", json_object_new_string(x->tname));
	json_object_object_add(t, "language",
	    json_object_new_string(x->tlang));
	json_object_object_add(t, "parameters", x->tparams != NULL ?
	    json_object_get(x->tparams) : json_object_new_array());
	json_object_object_add(t, "parameter_format",
	    json_object_new_string(PQgetvalue(res, 0, 3)));
	json_object_object_add(spec, "template", t);
	ret = 0;
out:
	json_object_put(names);
	db_res_free(res);
	buf_cleanup(&out);
	return ret;
}

int
model_send_prepare(struct app *a, const struct send_extras *x,
    struct message_input *in, struct app_err *e, enum db_rc *rc)
{
	struct json_object	*spec, *r;
	char			 content[96];
	int			 ret = 0;

	spec = json_object_new_object();
	if (a->cfg->senders_known && (ret = send_sender(a, in, e, rc)) != 0)
		goto out;
	if (x->reply_to[0] != '\0' &&
	    (ret = send_target(a, x->reply_to, "reply_to", in, e, rc)) != 0)
		goto out;
	if (x->react_to[0] != '\0' && (ret = send_target(a, x->react_to,
	    "reaction.message_id", in, e, rc)) != 0)
		goto out;
	/* Only a template may go out when the window is closed. */
	if (x->tname == NULL && a->cfg->window_policy &&
	    (ret = send_window(a, in, e, rc)) != 0)
		goto out;
	if (x->tname != NULL) {
		if ((ret = send_render(a, x, in, spec, e, rc)) != 0)
			goto out;
		in->type = "template";
	} else if (x->react_to[0] != '\0') {
		r = json_object_new_object();
		json_object_object_add(r, "message_id",
		    json_object_new_int64(strtoll(x->react_to, NULL, 10)));
		json_object_object_add(r, "emoji",
		    json_object_new_string(x->emoji));
		json_object_object_add(spec, "reaction", r);
		if (*x->emoji != '\0')
			snprintf(content, sizeof(content), "[reaction] %s",
			    x->emoji);
		else
			snprintf(content, sizeof(content), "[reaction removed]");
		in->content = arena_strdup(a->req->arena, content);
		in->type = "reaction";
	} else if (x->buttons != NULL) {
		json_object_object_add(spec, "buttons",
		    json_object_get(x->buttons));
		in->type = "interactive";
	}
	snprintf(in->reply_to, sizeof(in->reply_to), "%s", x->reply_to);
	if (json_object_object_length(spec) > 0)
		in->spec = arena_strdup(a->req->arena,
		    json_object_to_json_string_ext(spec,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
out:
	json_object_put(spec);
	return ret;
}
