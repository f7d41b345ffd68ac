#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_contact.h"
#include "model_message.h"
#include "stmts.h"
#include "valid.h"

static struct json_object	*model_contact_str(const char *);

void
model_contact_fill(struct contact *c, const PGresult *res, int row)
{
	c->id = strtoll(PQgetvalue(res, row, CONTACT_COL_ID), NULL, 10);
	c->phone = db_get(res, row, CONTACT_COL_PHONE);
	c->user_id = db_get(res, row, CONTACT_COL_USER_ID);
	c->parent_user_id = db_get(res, row, CONTACT_COL_PARENT_USER_ID);
	c->username = db_get(res, row, CONTACT_COL_USERNAME);
	c->name = db_get(res, row, CONTACT_COL_NAME);
	c->last_inbound_at = db_get(res, row, CONTACT_COL_LAST_INBOUND_AT);
	c->window_expires_at = db_get(res, row,
	    CONTACT_COL_WINDOW_EXPIRES_AT);
	c->state = db_get(res, row, CONTACT_COL_STATE);
	c->assignee = db_get(res, row, CONTACT_COL_ASSIGNEE);
	c->unread = strtoll(PQgetvalue(res, row, CONTACT_COL_UNREAD), NULL,
	    10);
}

static struct json_object *
model_contact_str(const char *s)
{
	return s == NULL ? NULL : json_object_new_string(s);
}

struct json_object *
model_contact_json(const struct contact *c)
{
	struct json_object	*o;

	o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_int64(c->id));
	json_object_object_add(o, "phone", model_contact_str(c->phone));
	json_object_object_add(o, "user_id", model_contact_str(c->user_id));
	json_object_object_add(o, "parent_user_id",
	    model_contact_str(c->parent_user_id));
	json_object_object_add(o, "username", model_contact_str(c->username));
	json_object_object_add(o, "name", model_contact_str(c->name));
	json_object_object_add(o, "last_inbound_at",
	    model_contact_str(c->last_inbound_at));
	json_object_object_add(o, "window_expires_at",
	    model_contact_str(c->window_expires_at));
	json_object_object_add(o, "state", model_contact_str(c->state));
	json_object_object_add(o, "assignee", model_contact_str(c->assignee));
	json_object_object_add(o, "unread", json_object_new_int64(c->unread));
	return o;
}

int
model_contact_state_valid(const char *s)
{
	return strcmp(s, "open") == 0 || strcmp(s, "resolved") == 0;
}

int
model_contact_assignee_valid(const char *s)
{
	size_t	chars, i;

	for (i = 0; s[i] != '\0'; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return valid_utf8(s, i, &chars) == 0 && chars >= 1 &&
	    chars <= CONTACT_ASSIGNEE_MAX;
}

int
model_contact_window_valid(const char *s)
{
	return strcmp(s, "open") == 0 || strcmp(s, "closed") == 0;
}

int
model_contact_change_parse(struct json_object *root,
    struct contact_change *ch, const char **field, const char **message)
{
	struct json_object	*v;

	memset(ch, 0, sizeof(*ch));
	if (json_object_object_get_ex(root, "state", &v)) {
		*field = "state";
		*message = "state must be open or resolved";
		if (!json_object_is_type(v, json_type_string))
			return -1;
		ch->state = json_object_get_string(v);
		/* A string with a NUL is no state either: strcmp stops. */
		if ((size_t)json_object_get_string_len(v) !=
		    strlen(ch->state) || !model_contact_state_valid(ch->state))
			return -1;
		ch->set_state = 1;
	}
	if (json_object_object_get_ex(root, "assignee", &v)) {
		*field = "assignee";
		*message = "assignee must be an admin user's name or null";
		if (v != NULL && !json_object_is_type(v, json_type_string))
			return -1;
		ch->assignee = v == NULL ? NULL : json_object_get_string(v);
		if (ch->assignee != NULL &&
		    ((size_t)json_object_get_string_len(v) !=
		    strlen(ch->assignee) ||
		    !model_contact_assignee_valid(ch->assignee)))
			return -1;
		ch->set_assignee = 1;
	}
	return 0;
}

enum db_rc
model_contact_list(struct db *db, const char *const p[CONTACT_P__MAX],
    PGresult **res)
{
	const char	*t[1] = { MESSAGE_SEARCH_TIMEOUT };
	PGresult	*set = NULL;
	enum db_rc	 rc;

	*res = NULL;
	if (p[CONTACT_P_Q] == NULL)
		return db_exec(db, STMT_CONTACT_LIST, CONTACT_P__MAX, p, res);
	if ((rc = db_begin(db)) != DB_OK)
		return rc;
	if ((rc = db_exec(db, STMT_LOCAL_TIMEOUT, 1, t, &set)) != DB_OK ||
	    (rc = db_exec(db, STMT_CONTACT_LIST, CONTACT_P__MAX, p, res)) !=
	    DB_OK || (rc = db_commit(db)) != DB_OK) {
		db_rollback(db);
		db_res_free(*res);
		*res = NULL;
	}
	db_res_free(set);
	return rc;
}

enum db_rc
model_contact_get(struct db *db, const char *id, PGresult **res)
{
	const char	*p[1];

	p[0] = id;
	return db_exec(db, STMT_CONTACT_GET, 1, p, res);
}

enum db_rc
model_contact_change(struct db *db, const char *id,
    const struct contact_change *ch, PGresult **res)
{
	const char	*p[4];

	p[0] = id;
	p[1] = ch->set_state ? ch->state : NULL;
	p[2] = ch->set_assignee ? "true" : "false";
	p[3] = ch->set_assignee ? ch->assignee : NULL;
	return db_exec(db, STMT_CONTACT_CHANGE, 4, p, res);
}
