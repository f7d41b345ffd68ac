#include <stdlib.h>
#include <string.h>

#include "model_message.h"
#include "stmts.h"

static const char *const message_statuses[] = {
	"queued", "sent", "delivered", "read", "failed", "received", NULL
};

static struct json_object	*model_json_str(const char *);

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
}

static struct json_object *
model_json_str(const char *s)
{
	return s == NULL ? NULL : json_object_new_string(s);
}

struct json_object *
model_message_json(const struct message *m)
{
	struct json_object	*o, *err = NULL;

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
	return o;
}

int
model_message_status_valid(const char *s)
{
	size_t	i;

	for (i = 0; message_statuses[i] != NULL; i++)
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

int
model_message_check(const char *sender, size_t sender_len,
    const char *receiver, size_t receiver_len, const char *content,
    size_t content_len, const char *default_sender, struct message_input *in,
    struct message_err *err)
{
	if (sender == NULL) {
		if (default_sender == NULL || default_sender[0] == '\0') {
			err->field = "sender";
			err->message = "sender is required";
			return -1;
		}
		memcpy(in->sender, default_sender, VALID_PHONE_MAX);
	} else if (valid_phone(sender, sender_len, in->sender) == -1) {
		err->field = "sender";
		err->message = "sender must be a phone number: optional +, "
		    "then 7-15 digits, the first not 0";
		return -1;
	}
	if (receiver == NULL) {
		err->field = "receiver";
		err->message = "receiver is required";
		return -1;
	}
	if (valid_phone(receiver, receiver_len, in->receiver) == -1) {
		err->field = "receiver";
		err->message = "receiver must be a phone number: optional +, "
		    "then 7-15 digits, the first not 0";
		return -1;
	}
	if (content == NULL) {
		err->field = "content";
		err->message = "content is required";
		return -1;
	}
	if (model_message_check_content(content, content_len, err) == -1)
		return -1;
	in->content = content;
	return 0;
}

int
model_message_search_valid(const char *s)
{
	size_t	chars, i;

	for (i = 0; s[i] != '\0'; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return valid_utf8(s, i, &chars) == 0 && chars >= 1 &&
	    chars <= MESSAGE_SEARCH_MAX;
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

enum db_rc
model_message_send(struct db *db, const struct message_input *in,
    PGresult **res)
{
	const char	*p[3] = { in->sender, in->receiver, in->content };

	return db_exec(db, STMT_MSG_SEND, 3, p, res);
}

enum db_rc
model_message_send_keyed(struct db *db, const struct message_input *in,
    const char *key_hash, PGresult **res)
{
	const char	*p[4] = {
		in->sender, in->receiver, in->content, key_hash
	};

	return db_exec(db, STMT_MSG_SEND_KEYED, 4, p, res);
}
