#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "model_message.h"
#include "stmts.h"

const char *const message_statuses[MSG_ST__MAX] = {
	[MSG_ST_QUEUED] = "queued",
	[MSG_ST_SENT] = "sent",
	[MSG_ST_DELIVERED] = "delivered",
	[MSG_ST_READ] = "read",
	[MSG_ST_PLAYED] = "played",
	[MSG_ST_FAILED] = "failed",
	[MSG_ST_RECEIVED] = "received",
};

const char *const message_fields[MSG_F__MAX] = {
	[MSG_F_SENDER] = "sender",
	[MSG_F_RECEIVER] = "receiver",
	[MSG_F_CONTACT_ID] = "contact_id",
	[MSG_F_CONTENT] = "content",
	[MSG_F_MEDIA] = "media",
};

/*
 * One validator per field (kcgi's kvalid): the raw value (NULL: absent)
 * into in; NULL when right, else the message for the client.
 */
typedef const char *(*message_validator)(const char *, size_t, const char *,
    struct message_input *);

static struct json_object	*model_json_str(const char *);
static void		 model_message_params(const struct message_input *,
			    const char *[10]);
static const char	*model_valid_sender(const char *, size_t, const char *,
			    struct message_input *);
static const char	*model_valid_receiver(const char *, size_t,
			    const char *, struct message_input *);
static const char	*model_valid_contact(const char *, size_t,
			    const char *, struct message_input *);
static const char	*model_valid_content(const char *, size_t,
			    const char *, struct message_input *);
static const char	*model_valid_media(const char *, size_t,
			    const char *, struct message_input *);

static const message_validator message_validators[MSG_F__MAX] = {
	[MSG_F_SENDER] = model_valid_sender,
	[MSG_F_RECEIVER] = model_valid_receiver,
	[MSG_F_CONTACT_ID] = model_valid_contact,
	[MSG_F_CONTENT] = model_valid_content,
	[MSG_F_MEDIA] = model_valid_media,
};

void
model_message_fill(struct message *m, const PGresult *res, int row)
{
	m->id = strtoll(PQgetvalue(res, row, MSG_COL_ID), NULL, 10);
	m->direction = db_get(res, row, MSG_COL_DIRECTION);
	m->sender = db_get(res, row, MSG_COL_SENDER);
	m->receiver = db_get(res, row, MSG_COL_RECEIVER);
	m->content = db_get(res, row, MSG_COL_CONTENT);
	m->timestamp = db_get(res, row, MSG_COL_TIMESTAMP);
	m->status = db_get(res, row, MSG_COL_STATUS);
	m->provider_message_id = db_get(res, row, MSG_COL_PROVIDER_ID);
	m->contact_name = db_get(res, row, MSG_COL_CONTACT_NAME);
	m->error_code = db_get(res, row, MSG_COL_ERROR_CODE);
	m->error_message = db_get(res, row, MSG_COL_ERROR_MESSAGE);
	m->contact_id = strtoll(PQgetvalue(res, row, MSG_COL_CONTACT_ID),
	    NULL, 10);
	m->type = db_get(res, row, MSG_COL_TYPE);
	m->reply_to = PQgetisnull(res, row, MSG_COL_REPLY_TO) ? 0 :
	    strtoll(PQgetvalue(res, row, MSG_COL_REPLY_TO), NULL, 10);
	m->reactions = db_get(res, row, MSG_COL_REACTIONS);
	m->tmpl = db_get(res, row, MSG_COL_TEMPLATE);
	m->media = db_get(res, row, MSG_COL_MEDIA);
	m->number_id = PQgetisnull(res, row, MSG_COL_NUMBER_ID) ? 0 :
	    strtoll(PQgetvalue(res, row, MSG_COL_NUMBER_ID), NULL, 10);
}

static struct json_object *
model_json_str(const char *s)
{
	return s == NULL ? NULL : json_object_new_string(s);
}

struct json_object *
model_message_json(const struct message *m)
{
	struct json_object	*o, *err = NULL, *reactions = NULL, *t = NULL;
	struct json_object	*media = NULL;

	o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_int64(m->id));
	json_object_object_add(o, "direction", model_json_str(m->direction));
	json_object_object_add(o, "sender", model_json_str(m->sender));
	json_object_object_add(o, "receiver", model_json_str(m->receiver));
	json_object_object_add(o, "content", model_json_str(m->content));
	json_object_object_add(o, "timestamp", model_json_str(m->timestamp));
	json_object_object_add(o, "status", model_json_str(m->status));
	json_object_object_add(o, "provider_message_id",
	    model_json_str(m->provider_message_id));
	json_object_object_add(o, "contact_name",
	    model_json_str(m->contact_name));
	if (m->error_code != NULL || m->error_message != NULL) {
		err = json_object_new_object();
		json_object_object_add(err, "code",
		    model_json_str(m->error_code));
		json_object_object_add(err, "message",
		    model_json_str(m->error_message));
	}
	json_object_object_add(o, "error", err);
	json_object_object_add(o, "contact_id",
	    json_object_new_int64(m->contact_id));
	json_object_object_add(o, "type", model_json_str(m->type != NULL ?
	    m->type : "text"));
	json_object_object_add(o, "reply_to", m->reply_to > 0 ?
	    json_object_new_int64(m->reply_to) : NULL);
	if (m->reactions == NULL ||
	    (reactions = json_tokener_parse(m->reactions)) == NULL ||
	    !json_object_is_type(reactions, json_type_array)) {
		json_object_put(reactions);
		reactions = json_object_new_array();
	}
	json_object_object_add(o, "reactions", reactions);
	/* The API's media object: MSG_MEDIA without the failure's reason. */
	if (m->media != NULL &&
	    ((media = json_tokener_parse(m->media)) == NULL ||
	    !json_object_is_type(media, json_type_object))) {
		json_object_put(media);
		media = NULL;
	}
	if (media != NULL)
		json_object_object_del(media, "error");
	json_object_object_add(o, "media", media);
	/* An outbound template message: {"name", "language", "parameters"}. */
	if (m->tmpl != NULL && ((t = json_tokener_parse(m->tmpl)) == NULL ||
	    !json_object_is_type(t, json_type_object))) {
		json_object_put(t);
		t = NULL;
	}
	json_object_object_add(o, "template", t);
	json_object_object_add(o, "number_id", m->number_id > 0 ?
	    json_object_new_int64(m->number_id) : NULL);
	return o;
}

int
model_message_status_valid(const char *s)
{
	size_t	i;

	for (i = 0; i < MSG_ST__MAX; i++)
		if (strcmp(s, message_statuses[i]) == 0)
			return 1;
	return 0;
}

void
model_message_status_array(struct buf *b)
{
	db_array(b, message_statuses, MSG_ST__MAX);
}

int
model_message_status_reported(const char *s)
{
	int	i;

	for (i = MSG_ST_SENT; i <= MSG_ST_FAILED; i++)
		if (strcmp(s, message_statuses[i]) == 0)
			return 1;
	return 0;
}

int
model_message_direction_valid(const char *s)
{
	return strcmp(s, "inbound") == 0 || strcmp(s, "outbound") == 0;
}

int
model_message_check_content(const char *content, size_t len,
    struct message_err *err)
{
	size_t	chars;

	err->field = "content";
	if (len == 0) {
		err->message = "content must not be empty";
		return -1;
	}
	if (memchr(content, '\0', len) != NULL) {
		err->message = "content must not contain NUL characters";
		return -1;
	}
	if (valid_utf8(content, len, &chars) == -1) {
		err->message = "content must be valid UTF-8";
		return -1;
	}
	if (chars > MESSAGE_MAX_CHARS) {
		err->message = "content must be at most 4096 characters";
		return -1;
	}
	return 0;
}

static const char *
model_valid_sender(const char *v, size_t len, const char *default_sender,
    struct message_input *in)
{
	if (v == NULL) {
		if (default_sender == NULL || default_sender[0] == '\0')
			return "sender is required";
		snprintf(in->sender, sizeof(in->sender), "%s", default_sender);
		return NULL;
	}
	if (valid_phone(v, len, in->sender) == -1)
		return "sender must be " MESSAGE_PHONE_RULE;
	return NULL;
}

/* Runs after model_valid_contact(): a contact_id may stand instead. */
static const char *
model_valid_receiver(const char *v, size_t len, const char *default_sender,
    struct message_input *in)
{
	(void)default_sender;
	if (v == NULL)
		return in->contact_id[0] != '\0' ? NULL :
		    "receiver (or contact_id) is required";
	if (valid_customer(v, len, in->receiver, &in->receiver_phone) == -1)
		return "receiver must be " MESSAGE_PHONE_RULE ", or a "
		    "WhatsApp user id (BSUID) such as US.13491208655302741918";
	return NULL;
}

static const char *
model_valid_contact(const char *v, size_t len, const char *default_sender,
    struct message_input *in)
{
	long long	id;

	(void)default_sender;
	if (v == NULL)
		return NULL;
	if (len >= sizeof(in->contact_id) || memchr(v, '\0', len) != NULL ||
	    valid_uint(v, 1, APP_ID_MAX, &id) == -1)
		return "contact_id must be a positive integer";
	snprintf(in->contact_id, sizeof(in->contact_id), "%lld", id);
	return NULL;
}

static const char *
model_valid_content(const char *v, size_t len, const char *default_sender,
    struct message_input *in)
{
	struct message_err	err;

	(void)default_sender;
	/* With media, the content is its caption, and optional. */
	if (v == NULL && in->media_id[0] != '\0') {
		in->content = "";
		return NULL;
	}
	if (v == NULL)
		return "content is required";
	if (model_message_check_content(v, len, &err) == -1)
		return err.message;
	in->content = v;
	return NULL;
}

static const char *
model_valid_media(const char *v, size_t len, const char *default_sender,
    struct message_input *in)
{
	long long	id;

	(void)default_sender;
	if (v == NULL)
		return NULL;
	if (len >= sizeof(in->media_id) || memchr(v, '\0', len) != NULL ||
	    valid_uint(v, 1, APP_ID_MAX, &id) == -1)
		return "media.id must be the id of an uploaded file";
	snprintf(in->media_id, sizeof(in->media_id), "%lld", id);
	return NULL;
}

int
model_message_validate(const struct message_raw *raw,
    const char *default_sender, struct message_input *in,
    const char *errs[MSG_F__MAX])
{
	static const int	 order[MSG_F__MAX] = {
		MSG_F_SENDER, MSG_F_CONTACT_ID, MSG_F_RECEIVER, MSG_F_MEDIA,
		MSG_F_CONTENT
	};
	int			 i, f, n = 0;

	memset(in, 0, sizeof(*in));
	/* contact_id first: the receiver's check needs to know of it. */
	for (i = 0; i < MSG_F__MAX; i++) {
		f = order[i];
		if ((errs[f] = message_validators[f](raw->v[f], raw->len[f],
		    default_sender, in)) != NULL)
			n++;
	}
	/* A contact_id that is wrong is the error, not a missing receiver. */
	if (raw->v[MSG_F_RECEIVER] == NULL && raw->v[MSG_F_CONTACT_ID] != NULL &&
	    errs[MSG_F_RECEIVER] != NULL) {
		errs[MSG_F_RECEIVER] = NULL;
		n--;
	}
	if (errs[MSG_F_RECEIVER] == NULL && errs[MSG_F_CONTACT_ID] == NULL &&
	    raw->v[MSG_F_RECEIVER] != NULL && in->contact_id[0] != '\0') {
		errs[MSG_F_CONTACT_ID] = "give receiver or contact_id, not both";
		n++;
	}
	return n;
}

int
model_message_check(const struct message_raw *raw,
    const char *default_sender, struct message_input *in,
    struct message_err *err)
{
	const char	*errs[MSG_F__MAX];
	int		 f;

	if (model_message_validate(raw, default_sender, in, errs) == 0)
		return 0;
	for (f = 0; errs[f] == NULL; f++)
		continue;
	err->field = message_fields[f];
	err->message = errs[f];
	return -1;
}

int
model_message_search_valid(const char *s)
{
	size_t	chars, i;

	for (i = 0; s[i] != '\0'; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return valid_utf8(s, i, &chars) == 0 &&
	    chars >= MESSAGE_SEARCH_MIN && chars <= MESSAGE_SEARCH_MAX;
}

char *
model_message_like(struct arena *arena, const char *s)
{
	char	*p, *o;

	p = o = arena_alloc(arena, strlen(s) * 2 + 3);
	*o++ = '%';
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '%' || *s == '_')
			*o++ = '\\';
		*o++ = *s;
	}
	*o++ = '%';
	*o = '\0';
	return p;
}

/*
 * The send statements' parameters: sender, receiver (NULL for a
 * contact_id), content, contact_id (or NULL), the receiver as a phone or
 * as a BSUID (the other NULL); then the type (NULL: text), the structured
 * parts (JSON or NULL) and the message quoted (or NULL), which only
 * STMT_MSG_SEND takes.
 */
static void
model_message_params(const struct message_input *in, const char *p[10])
{
	int	to_contact = in->contact_id[0] != '\0';

	p[0] = in->sender;
	p[1] = to_contact ? NULL : in->receiver;
	p[2] = in->content;
	p[3] = to_contact ? in->contact_id : NULL;
	p[4] = !to_contact && in->receiver_phone ? in->receiver : NULL;
	p[5] = !to_contact && !in->receiver_phone ? in->receiver : NULL;
	p[6] = in->media_id[0] != '\0' && in->media_type != NULL ?
	    in->media_type : in->type;
	p[7] = in->spec;
	p[8] = in->reply_to[0] != '\0' ? in->reply_to : NULL;
	p[9] = in->media_id[0] != '\0' ? in->media_id : NULL;
}

enum db_rc
model_message_list(struct db *db, int stmt, const char *const p[7],
    PGresult **res)
{
	const char	*t[1] = { MESSAGE_SEARCH_TIMEOUT };
	const char	*q[8];
	PGresult	*set = NULL;
	enum db_rc	 rc;
	int		 i;

	*res = NULL;
	if (p[3] == NULL)
		return db_exec(db, stmt, 7, p, res);
	for (i = 0; i < 7; i++)
		q[i] = p[i];
	stmt = stmt == STMT_MSG_LIST_NEWER ? STMT_MSG_SEARCH_NEWER :
	    STMT_MSG_SEARCH;
	if ((rc = db_begin(db)) != DB_OK)
		return rc;
	/* How far the search index is complete: search_progress.upto. */
	if ((rc = db_exec(db, STMT_SEARCH_BEGIN, 1, t, &set)) == DB_OK &&
	    PQntuples(set) != 1)
		rc = DB_ERROR;
	if (rc == DB_OK)
		q[7] = PQgetvalue(set, 0, 1);
	if (rc != DB_OK ||
	    (rc = db_exec(db, stmt, 8, q, res)) != DB_OK ||
	    (rc = db_commit(db)) != DB_OK) {
		db_rollback(db);
		db_res_free(*res);
		*res = NULL;
	}
	db_res_free(set);
	return rc;
}

void
model_message_status_names(struct buf *b)
{
	int	i;

	for (i = 0; i < MSG_ST__MAX; i++)
		buf_printf(b, "%s%s", i > 0 ? ", " : "", message_statuses[i]);
}

enum db_rc
model_message_send(struct db *db, const struct message_input *in,
    PGresult **res)
{
	const char	*p[10];

	model_message_params(in, p);
	return db_exec(db, STMT_MSG_SEND, 10, p, res);
}

enum db_rc
model_message_send_keyed(struct db *db, const struct message_input *in,
    const char *key_hash, PGresult **res)
{
	const char	*p[10];

	model_message_params(in, p);
	p[6] = key_hash;
	return db_exec(db, STMT_MSG_SEND_KEYED, 7, p, res);
}
