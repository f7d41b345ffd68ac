#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "crypto.h"
#include "jsonb.h"
#include "model_message.h"
#include "query.h"
#include "stmts.h"
#include "utf8.h"
#include "webhook.h"

#define WEBHOOK_ID_MAX		256
#define WEBHOOK_DB_TRIES	3
#define WEBHOOK_TITLE_MAX	200

/* What one Cloud API payload held, for the answer and the log. */
struct cloud_counts {
	int	messages;
	int	statuses;
	int	skipped;
};

static void	webhook_simple(struct app *, struct json_object *);
static void	webhook_cloud(struct app *, struct json_object *);
static enum db_rc webhook_cloud_tx(struct app *, struct json_object *,
		    struct cloud_counts *);
static enum db_rc webhook_cloud_value(struct app *, struct json_object *,
		    struct cloud_counts *);
static enum db_rc webhook_cloud_message(struct app *, struct json_object *,
		    const char *, struct json_object *, struct cloud_counts *);
static enum db_rc webhook_cloud_status(struct app *, struct json_object *,
		    struct cloud_counts *);
static enum db_rc wh_item_begin(struct app *);
static enum db_rc wh_item_end(struct app *, enum db_rc, const char *,
		    struct json_object *, struct cloud_counts *);
static const char *wh_str(struct json_object *, ...)
		    __attribute__((sentinel));
static const char *wh_unix_ts(struct json_object *, const char *, char *,
		    size_t);
static void	wh_content(struct buf *, struct json_object *, const char *);
static void	wh_error_text(char *, size_t, struct json_object *);

void
webhook_verify(struct app *a)
{
	struct query	 q;
	const char	*mode, *token, *challenge;

	query_parse(a->req->arena, a->req->query, &q);
	mode = query_get(&q, "hub.mode");
	token = query_get(&q, "hub.verify_token");
	challenge = query_get(&q, "hub.challenge");
	if (mode == NULL || strcmp(mode, "subscribe") != 0 ||
	    a->cfg->verify_token == NULL ||
	    !crypto_streq(token, a->cfg->verify_token)) {
		req_error(a->req, 403, "forbidden",
		    "the verify token does not match", NULL);
		return;
	}
	if (challenge == NULL || *challenge == '\0' || q.invalid ||
	    strlen(challenge) > 256) {
		req_error(a->req, 400, "invalid_parameter",
		    "hub.challenge is required", "hub.challenge");
		return;
	}
	req_send(a->req, 200, "text/plain; charset=utf-8", challenge,
	    strlen(challenge));
}

int
webhook_signed(struct app *a)
{
	if (app_read_body(a) == -1)
		return -1;
	if (crypto_sig_check(req_param(a->req, "HTTP_X_HUB_SIGNATURE_256"),
	    a->cfg->app_secret, a->req->body, a->req->body_len) == -1) {
		app_fail(a, APP_FAIL_BAD_SIGNATURE, NULL);
		return -1;
	}
	return 0;
}

void
webhook_receive(struct app *a)
{
	if (json_object_object_get_ex(a->json, "object", NULL) ||
	    json_object_object_get_ex(a->json, "entry", NULL))
		webhook_cloud(a, a->json);
	else if (!json_object_object_get_ex(a->json, "sender", NULL) &&
	    !json_object_object_get_ex(a->json, "content", NULL))
		req_error(a->req, 422, "validation_failed", "unknown payload "
		    "shape: expected {\"sender\", \"content\"}", NULL);
	else
		webhook_simple(a, a->json);
}

/* The seed's shape: {"sender", "content", optional "id"}. */
static void
webhook_simple(struct app *a, struct json_object *root)
{
	struct json_object	*out, *data;
	struct message_err	 err;
	struct message		 m;
	const char		*sender, *content, *id = NULL, *p[13];
	char			 from[VALID_PHONE_MAX];
	size_t			 slen, clen, idlen;
	PGresult		*res = NULL;
	enum db_rc		 rc;
	enum jsonb_get		 g;

	if (jsonb_get_str(root, "sender", &sender, &slen) != JSONB_GET_OK ||
	    valid_phone(sender, slen, from) == -1) {
		req_error(a->req, 422, "validation_failed",
		    "sender must be " MESSAGE_PHONE_RULE, "sender");
		return;
	}
	if ((g = jsonb_get_str(root, "content", &content, &clen)) !=
	    JSONB_GET_OK) {
		req_error(a->req, 422, "validation_failed",
		    g == JSONB_GET_ABSENT ? "content is required" :
		    "content must be a string", "content");
		return;
	}
	if (model_message_check_content(content, clen, &err) == -1) {
		req_error(a->req, 422, "validation_failed", err.message,
		    err.field);
		return;
	}
	g = jsonb_get_strnum(root, "id", &id, &idlen);
	if (g == JSONB_GET_TYPE || (g == JSONB_GET_OK && (idlen == 0 ||
	    idlen > WEBHOOK_ID_MAX || valid_utf8(id, idlen, NULL) == -1))) {
		req_error(a->req, 422, "validation_failed", "id must be a "
		    "non-empty string of at most 256 characters", "id");
		return;
	}
	p[0] = from;
	p[1] = app_business_number(a);
	p[2] = content;
	p[3] = g == JSONB_GET_OK ? id : NULL;
	p[4] = NULL;
	p[5] = NULL;
	p[6] = from;
	p[7] = p[8] = p[9] = p[10] = p[11] = p[12] = NULL;
	rc = db_exec(a->db, STMT_MSG_INBOUND, 13, p, &res);
	/* A re-delivery of a known id: answer with the stored message. */
	if (rc == DB_OK && PQntuples(res) == 0 && p[3] != NULL) {
		db_res_free(res);
		rc = db_exec(a->db, STMT_MSG_BY_PROVIDER_ID, 1, p + 3, &res);
	}
	if (rc == DB_OK && PQntuples(res) == 0) {
		/* The id is an outbound message's provider id. */
		req_error(a->req, 422, "validation_failed", "id is already "
		    "used by another message", "id");
		db_res_free(res);
		return;
	}
	if (rc != DB_OK || PQntuples(res) != 1) {
		app_db_error(a, rc == DB_OK ? DB_ERROR : rc);
		db_res_free(res);
		return;
	}
	model_message_fill(&m, res, 0);
	out = json_object_new_object();
	data = json_object_new_object();
	json_object_object_add(out, "message",
	    json_object_new_string("Webhook received asynchronously"));
	json_object_object_add(data, "sender", json_object_new_string(m.sender));
	json_object_object_add(data, "receiver",
	    json_object_new_string(m.receiver));
	json_object_object_add(data, "content",
	    json_object_new_string(m.content));
	json_object_object_add(data, "timestamp",
	    json_object_new_string(m.timestamp));
	json_object_object_add(out, "data", data);
	req_json(a->req, 200, out);
	json_object_put(out);
	db_res_free(res);
}

/* A string at a path of object keys, or NULL. */
static const char *
wh_str(struct json_object *o, ...)
{
	va_list		 ap;
	const char	*k;

	va_start(ap, o);
	while (o != NULL && (k = va_arg(ap, const char *)) != NULL) {
		if (!json_object_is_type(o, json_type_object) ||
		    !json_object_object_get_ex(o, k, &o))
			o = NULL;
	}
	va_end(ap);
	if (o == NULL || !json_object_is_type(o, json_type_string))
		return NULL;
	return json_object_get_string(o);
}

/* WhatsApp's timestamp (Unix seconds, a string or a number), or NULL. */
static const char *
wh_unix_ts(struct json_object *o, const char *key, char *out, size_t len)
{
	const char	*s;
	size_t		 n;
	long long	 v;

	if (jsonb_get_strnum(o, key, &s, &n) != JSONB_GET_OK ||
	    valid_uint(s, 0, 99999999999LL, &v) == -1)
		return NULL;
	snprintf(out, len, "%lld", v);
	return out;
}

/*
 * Readable content for any message type: text as is, other types as
 * "[type]" plus whatever caption, title, emoji or name they carry.
 */
static void
wh_content(struct buf *b, struct json_object *m, const char *type)
{
	const char	*extra = NULL, *lat, *lon;
	struct json_object *arr;
	char		 pos[96];

	if (strcmp(type, "text") == 0 &&
	    (extra = wh_str(m, "text", "body", NULL)) != NULL) {
		buf_puts(b, extra);
		return;
	}
	if (strcmp(type, "image") == 0 || strcmp(type, "video") == 0 ||
	    strcmp(type, "sticker") == 0 || strcmp(type, "audio") == 0)
		extra = wh_str(m, type, "caption", NULL);
	else if (strcmp(type, "document") == 0) {
		if ((extra = wh_str(m, type, "caption", NULL)) == NULL)
			extra = wh_str(m, type, "filename", NULL);
	} else if (strcmp(type, "reaction") == 0)
		extra = wh_str(m, "reaction", "emoji", NULL);
	else if (strcmp(type, "location") == 0) {
		if ((extra = wh_str(m, "location", "name", NULL)) == NULL &&
		    (extra = wh_str(m, "location", "address", NULL)) == NULL) {
			lat = json_object_get_string(json_object_object_get(
			    json_object_object_get(m, "location"), "latitude"));
			lon = json_object_get_string(json_object_object_get(
			    json_object_object_get(m, "location"), "longitude"));
			if (lat != NULL && lon != NULL) {
				snprintf(pos, sizeof(pos), "%.40s,%.40s", lat,
				    lon);
				extra = pos;
			}
		}
	} else if (strcmp(type, "contacts") == 0) {
		if (jsonb_get_type(m, "contacts", json_type_array, &arr) ==
		    JSONB_GET_OK && json_object_array_length(arr) > 0)
			extra = wh_str(json_object_array_get_idx(arr, 0),
			    "name", "formatted_name", NULL);
	} else if (strcmp(type, "interactive") == 0) {
		if ((extra = wh_str(m, "interactive", "button_reply", "title",
		    NULL)) == NULL)
			extra = wh_str(m, "interactive", "list_reply", "title",
			    NULL);
	} else if (strcmp(type, "button") == 0)
		extra = wh_str(m, "button", "text", NULL);
	buf_printf(b, "[%s]", type);
	if (extra != NULL && *extra != '\0') {
		buf_putc(b, ' ');
		buf_puts(b, extra);
	}
}

/*
 * "title: details" of one errors[] item, as the message's error text:
 * NULs dropped, the title cut to WEBHOOK_TITLE_MAX bytes and the whole to
 * len, both on character boundaries (WhatsApp's texts may be localised).
 */
static void
wh_error_text(char *out, size_t len, struct json_object *e)
{
	struct buf	 b;
	const char	*title, *details;
	size_t		 tlen, dlen;

	buf_init(&b);
	if (jsonb_get_str(e, "title", &title, &tlen) != JSONB_GET_OK) {
		title = "failed";
		tlen = strlen(title);
	}
	buf_append(&b, title, utf8_truncate(title, tlen, WEBHOOK_TITLE_MAX));
	if (jsonb_get_str(json_object_object_get(e, "error_data"), "details",
	    &details, &dlen) == JSONB_GET_OK) {
		buf_puts(&b, ": ");
		buf_append(&b, details, dlen);
	}
	(void)utf8_clean(out, len, b.data, b.len);
	if (*out == '\0')
		(void)utf8_clean(out, len, "failed", 6);
	buf_cleanup(&b);
}

static enum db_rc
webhook_cloud_message(struct app *a, struct json_object *m,
    const char *receiver, struct json_object *contacts,
    struct cloud_counts *n)
{
	struct message_err	 err;
	struct buf		 content;
	struct json_object	*c;
	PGresult		*res = NULL;
	const char		*from, *id, *type, *name = NULL, *p[13];
	char			 phone[VALID_PHONE_MAX], ts[24];
	size_t			 i, chars;
	enum db_rc		 rc;

	from = wh_str(m, "from", NULL);
	if (from == NULL || valid_phone(from, strlen(from), phone) == -1) {
		log_kv(LOG_WARN, "webhook: message without a usable sender "
		    "skipped", "id", wh_str(m, "id", NULL), NULL);
		n->skipped++;
		return DB_OK;
	}
	id = wh_str(m, "id", NULL);
	if (id != NULL && (*id == '\0' || strlen(id) > WEBHOOK_ID_MAX))
		id = NULL;
	if ((type = wh_str(m, "type", NULL)) == NULL || *type == '\0' ||
	    strlen(type) > 32)
		type = "unknown";
	for (i = 0; contacts != NULL &&
	    i < json_object_array_length(contacts); i++) {
		c = json_object_array_get_idx(contacts, i);
		if (json_object_array_length(contacts) == 1 ||
		    (wh_str(c, "wa_id", NULL) != NULL &&
		    strcmp(wh_str(c, "wa_id", NULL), from) == 0)) {
			name = wh_str(c, "profile", "name", NULL);
			break;
		}
	}
	buf_init(&content);
	wh_content(&content, m, type);
	/* Whatever arrives, store something valid and readable. */
	if (model_message_check_content(content.data, content.len, &err) ==
	    -1) {
		if (valid_utf8(content.data, content.len, &chars) == 0 &&
		    chars > MESSAGE_MAX_CHARS) {
			/* Keep the first 4096 characters. */
			size_t	k, cp = 0;

			for (k = 0; k < content.len && cp <= MESSAGE_MAX_CHARS;
			    k++)
				if (((unsigned char)content.data[k] & 0xc0) !=
				    0x80)
					cp++;
			content.len = k - 1;
			content.data[content.len] = '\0';
		} else {
			buf_reset(&content);
			buf_printf(&content, "[%s]", type);
		}
	}
	if (name != NULL && (strlen(name) > 256 ||
	    valid_utf8(name, strlen(name), NULL) == -1))
		name = NULL;
	p[0] = phone;
	p[1] = receiver;
	p[2] = content.data;
	p[3] = id;
	p[4] = wh_unix_ts(m, "timestamp", ts, sizeof(ts));
	p[5] = name;
	p[6] = phone;
	p[7] = p[8] = p[9] = p[10] = p[11] = p[12] = NULL;
	rc = db_exec(a->db, STMT_MSG_INBOUND, 13, p, &res);
	db_res_free(res);
	buf_cleanup(&content);
	if (rc == DB_OK)
		n->messages++;
	return rc;
}

static enum db_rc
webhook_cloud_status(struct app *a, struct json_object *st,
    struct cloud_counts *n)
{
	struct json_object	*detail = NULL, *errors = NULL, *e0, *v;
	PGresult		*res = NULL;
	const char		*id, *status, *p[6], *cs;
	char			 ts[24], code[32], msg[512];
	enum db_rc		 rc;

	id = wh_str(st, "id", NULL);
	status = wh_str(st, "status", NULL);
	if (id == NULL || *id == '\0' || strlen(id) > WEBHOOK_ID_MAX ||
	    status == NULL || !model_message_status_reported(status)) {
		log_kv(LOG_WARN, "webhook: status without a usable id or "
		    "status skipped", "status", status, NULL);
		n->skipped++;
		return DB_OK;
	}
	p[4] = p[5] = NULL;
	if (jsonb_get_type(st, "errors", json_type_array, &errors) ==
	    JSONB_GET_OK) {
		detail = json_object_new_object();
		json_object_object_add(detail, "errors",
		    json_object_get(errors));
		if (json_object_array_length(errors) > 0) {
			e0 = json_object_array_get_idx(errors, 0);
			if (json_object_object_get_ex(e0, "code", &v) &&
			    v != NULL) {
				cs = json_object_get_string(v);
				(void)utf8_clean(code, sizeof(code), cs,
				    strlen(cs));
				p[4] = code;
			}
			wh_error_text(msg, sizeof(msg), e0);
			p[5] = msg;
		}
	}
	if (json_object_object_get_ex(st, "conversation", &v) ||
	    json_object_object_get_ex(st, "pricing", NULL)) {
		if (detail == NULL)
			detail = json_object_new_object();
		if (json_object_object_get_ex(st, "conversation", &v))
			json_object_object_add(detail, "conversation",
			    json_object_get(v));
		if (json_object_object_get_ex(st, "pricing", &v))
			json_object_object_add(detail, "pricing",
			    json_object_get(v));
	}
	if (p[5] == NULL && strcmp(status, "failed") == 0)
		p[5] = "failed";
	/* PostgreSQL's jsonb refuses \u0000, which WhatsApp may send. */
	if (detail != NULL)
		jsonb_scrub(detail);
	p[0] = id;
	p[1] = status;
	p[2] = detail ? json_object_to_json_string_ext(detail,
	    JSON_C_TO_STRING_PLAIN) : NULL;
	p[3] = wh_unix_ts(st, "timestamp", ts, sizeof(ts));
	rc = db_exec(a->db, STMT_STATUS_APPLY, 6, p, &res);
	db_res_free(res);
	json_object_put(detail);
	if (rc == DB_OK)
		n->statuses++;
	return rc;
}

/* Each item is stored under a savepoint of its own (wh_item_end). */
static enum db_rc
wh_item_begin(struct app *a)
{
	return db_simple(a->db, "SAVEPOINT webhook_item", NULL);
}

/*
 * After an item: kept (rc DB_OK), or, when the database refused it for a
 * reason that trying again cannot cure (a constraint, a value it will not
 * take), rolled back alone, logged with its id and counted as skipped:
 * WhatsApp re-delivers a batch it got no 2xx for, for days, so one such
 * item must not hold back the rest.  Connection loss, serialization
 * failures and timeouts end the whole transaction (rc returned), which is
 * then retried or answered 503.
 */
static enum db_rc
wh_item_end(struct app *a, enum db_rc rc, const char *kind,
    struct json_object *item, struct cloud_counts *n)
{
	if (rc == DB_OK)
		return db_simple(a->db, "RELEASE SAVEPOINT webhook_item", NULL);
	if (db_rc_transient(rc))
		return rc;
	log_kv(LOG_WARN, "webhook: an item the database refused was skipped",
	    "kind", kind, "id", wh_str(item, "id", NULL),
	    "cause", db_strerror(rc), NULL);
	n->skipped++;
	if ((rc = db_simple(a->db, "ROLLBACK TO SAVEPOINT webhook_item",
	    NULL)) != DB_OK)
		return rc;
	return db_simple(a->db, "RELEASE SAVEPOINT webhook_item", NULL);
}

static enum db_rc
webhook_cloud_value(struct app *a, struct json_object *value,
    struct cloud_counts *n)
{
	struct json_object	*contacts = NULL, *arr, *item;
	const char		*disp;
	char			 receiver[VALID_PHONE_MAX];
	const char		*recv;
	size_t			 i;
	enum db_rc		 rc;

	disp = wh_str(value, "metadata", "display_phone_number", NULL);
	if (disp != NULL && valid_phone(disp, strlen(disp), receiver) == 0)
		recv = receiver;
	else
		recv = app_business_number(a);
	if (jsonb_get_type(value, "contacts", json_type_array, &contacts) !=
	    JSONB_GET_OK)
		contacts = NULL;
	if (jsonb_get_type(value, "messages", json_type_array, &arr) ==
	    JSONB_GET_OK)
		for (i = 0; i < json_object_array_length(arr); i++) {
			item = json_object_array_get_idx(arr, i);
			if ((rc = wh_item_begin(a)) != DB_OK ||
			    (rc = wh_item_end(a, webhook_cloud_message(a, item,
			    recv, contacts, n), "message", item, n)) != DB_OK)
				return rc;
		}
	if (jsonb_get_type(value, "statuses", json_type_array, &arr) ==
	    JSONB_GET_OK)
		for (i = 0; i < json_object_array_length(arr); i++) {
			item = json_object_array_get_idx(arr, i);
			if ((rc = wh_item_begin(a)) != DB_OK ||
			    (rc = wh_item_end(a, webhook_cloud_status(a, item,
			    n), "status", item, n)) != DB_OK)
				return rc;
		}
	return DB_OK;
}

/* Every entry[], every changes[] of field "messages", in one transaction. */
static enum db_rc
webhook_cloud_tx(struct app *a, struct json_object *root,
    struct cloud_counts *n)
{
	struct json_object	*entries, *changes, *ch, *value;
	const char		*field;
	size_t			 i, k;
	enum db_rc		 rc;

	memset(n, 0, sizeof(*n));
	if ((rc = db_begin(a->db)) != DB_OK)
		return rc;
	(void)jsonb_get_type(root, "entry", json_type_array, &entries);
	for (i = 0; i < json_object_array_length(entries); i++) {
		if (jsonb_get_type(json_object_array_get_idx(entries, i),
		    "changes", json_type_array, &changes) != JSONB_GET_OK)
			continue;
		for (k = 0; k < json_object_array_length(changes); k++) {
			ch = json_object_array_get_idx(changes, k);
			field = wh_str(ch, "field", NULL);
			if (field == NULL || strcmp(field, "messages") != 0 ||
			    jsonb_get_type(ch, "value", json_type_object,
			    &value) != JSONB_GET_OK)
				continue;
			if ((rc = webhook_cloud_value(a, value, n)) != DB_OK) {
				db_rollback(a->db);
				return rc;
			}
		}
	}
	if ((rc = db_commit(a->db)) != DB_OK)
		db_rollback(a->db);
	return rc;
}

/*
 * The WhatsApp Cloud API shape.  Nothing in it is rejected for being
 * optional or unknown; only a payload that is not WhatsApp's at all is 422.
 * An item the database refuses is skipped (wh_item_end) and the rest
 * commit: 200 with the counts.  Deadlocks between concurrent deliveries are
 * retried; a database that is down is 503.
 */
static void
webhook_cloud(struct app *a, struct json_object *root)
{
	struct json_object	*out, *data, *entries;
	struct cloud_counts	 n;
	const char		*object;
	enum db_rc		 rc = DB_ERROR;
	int			 tries;

	object = wh_str(root, "object", NULL);
	if (object == NULL || strcmp(object, "whatsapp_business_account") !=
	    0) {
		req_error(a->req, 422, "validation_failed", "object must be "
		    "\"whatsapp_business_account\"", "object");
		return;
	}
	if (jsonb_get_type(root, "entry", json_type_array, &entries) !=
	    JSONB_GET_OK) {
		req_error(a->req, 422, "validation_failed",
		    "entry must be an array", "entry");
		return;
	}
	for (tries = 0; tries < WEBHOOK_DB_TRIES; tries++)
		if ((rc = webhook_cloud_tx(a, root, &n)) != DB_RETRY)
			break;
	if (rc != DB_OK) {
		app_db_error(a, rc);
		return;
	}
	out = json_object_new_object();
	data = json_object_new_object();
	json_object_object_add(out, "message",
	    json_object_new_string("Webhook received asynchronously"));
	json_object_object_add(data, "messages",
	    json_object_new_int(n.messages));
	json_object_object_add(data, "statuses",
	    json_object_new_int(n.statuses));
	json_object_object_add(data, "skipped", json_object_new_int(n.skipped));
	json_object_object_add(out, "data", data);
	req_json(a->req, 200, out);
	json_object_put(out);
}
