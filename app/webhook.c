#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "crypto.h"
#include "mem.h"
#include "jsonb.h"
#include "model_media.h"
#include "model_message.h"
#include "query.h"
#include "stmts.h"
#include "utf8.h"
#include "webhook.h"

#define WEBHOOK_ID_MAX		256
#define WEBHOOK_DB_TRIES	3
#define WEBHOOK_TITLE_MAX	200
#define WEBHOOK_NAME_MAX	256	/* bytes of a name or username */
#define WEBHOOK_TYPE_MAX	32

/* What a message item says about its customer ("" where it says nothing). */
struct wh_customer {
	char	phone[VALID_PHONE_MAX];		/* E.164, with '+' */
	char	user_id[VALID_BSUID_MAX];	/* BSUID */
	char	parent[VALID_BSUID_MAX];	/* parent BSUID */
	char	username[WEBHOOK_NAME_MAX + 1];
	char	name[WEBHOOK_NAME_MAX + 1];
};

/* The message types WhatsApp documents; any other is stored "unsupported". */
static const char *const wh_types[] = {
	"text", "image", "audio", "video", "document", "sticker", "location",
	"contacts", "interactive", "button", "reaction", "order", "system",
	"unsupported", NULL
};

/* What one Cloud API payload held, for the answer and the log. */
struct cloud_counts {
	int	messages;
	int	statuses;
	int	skipped;
	int	careful;	/* each item under a savepoint */
};

static void	webhook_simple(struct app *, struct json_object *);
static void	webhook_cloud(struct app *, struct json_object *);
static enum db_rc webhook_cloud_tx(struct app *, struct json_object *,
		    struct cloud_counts *, int);
static enum db_rc webhook_cloud_value(struct app *, struct json_object *,
		    struct cloud_counts *);
static enum db_rc webhook_cloud_message(struct app *, struct json_object *,
		    const char *, const char *, struct json_object *,
		    struct cloud_counts *);
static enum db_rc webhook_cloud_status(struct app *, struct json_object *,
		    struct cloud_counts *);
static enum db_rc wh_item_begin(struct app *, const struct cloud_counts *);
static enum db_rc wh_item_end(struct app *, enum db_rc, const char *,
		    struct json_object *, struct cloud_counts *);
static const char *wh_str(struct json_object *, ...)
		    __attribute__((sentinel));
static const char *wh_unix_ts(struct json_object *, const char *, char *,
		    size_t);
static const char *wh_id(struct json_object *, const char *, const char *);
static int	wh_phone(const char *, char *);
static int	wh_bsuid(const char *, char *);
static const char *wh_text(char *, size_t, const char *);
static int	wh_customer(struct wh_customer *, struct json_object *,
		    struct json_object *);
static const char *wh_type(const char *);
static void	wh_content(struct buf *, struct json_object *, const char *);
static void	wh_content_fit(struct buf *, const char *);
static int	wh_body_phone(const char *, char *);
static enum db_rc wh_system_change(struct app *, struct json_object *,
		    const struct wh_customer *);
static const char *wh_error_code(char *, size_t, struct json_object *);
static void	wh_error_text(char *, size_t, struct json_object *);
static void	wh_value_errors(struct json_object *);

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
	const char		*sender, *content, *id = NULL, *p[14];
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
	p[7] = p[8] = p[9] = p[10] = p[11] = p[12] = p[13] = NULL;
	rc = db_exec(a->db, STMT_MSG_INBOUND, 14, p, &res);
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

/*
 * A string at a path of object keys, or NULL; NULL too for one with a NUL
 * inside (\u0000), which would read as a shorter id or number than sent.
 */
static const char *
wh_str(struct json_object *o, ...)
{
	va_list		 ap;
	const char	*k, *s;

	va_start(ap, o);
	while (o != NULL && (k = va_arg(ap, const char *)) != NULL) {
		if (!json_object_is_type(o, json_type_object) ||
		    !json_object_object_get_ex(o, k, &o))
			o = NULL;
	}
	va_end(ap);
	if (o == NULL || !json_object_is_type(o, json_type_string))
		return NULL;
	s = json_object_get_string(o);
	if (strlen(s) != (size_t)json_object_get_string_len(o))
		return NULL;
	return s;
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
 * An id at m.key (or m.key.sub when sub is not NULL): a non-empty string of
 * at most WEBHOOK_ID_MAX bytes, or NULL.
 */
static const char *
wh_id(struct json_object *m, const char *key, const char *sub)
{
	const char	*s;

	s = sub == NULL ? wh_str(m, key, NULL) : wh_str(m, key, sub, NULL);
	if (s == NULL || *s == '\0' || strlen(s) > WEBHOOK_ID_MAX)
		return NULL;
	return s;
}

/* s as an E.164 phone number into out (VALID_PHONE_MAX): 0, or -1. */
static int
wh_phone(const char *s, char *out)
{
	char	tmp[VALID_PHONE_MAX];

	if (s == NULL || valid_phone(s, strlen(s), tmp) == -1)
		return -1;
	memcpy(out, tmp, sizeof(tmp));
	return 0;
}

/* s as a BSUID into out (VALID_BSUID_MAX): 0, or -1 (out untouched). */
static int
wh_bsuid(const char *s, char *out)
{
	size_t	len;

	if (s == NULL || (len = strlen(s)) >= VALID_BSUID_MAX ||
	    valid_bsuid(s, len) == -1)
		return -1;
	memcpy(out, s, len + 1);
	return 0;
}

/*
 * s cleaned into out (len bytes, cut on a character boundary); out, or NULL
 * when s is NULL or nothing of it is left.
 */
static const char *
wh_text(char *out, size_t len, const char *s)
{
	if (s == NULL || utf8_clean(out, len, s, strlen(s)) == 0) {
		*out = '\0';
		return NULL;
	}
	return out;
}

/*
 * The customer of message item m: `from` (a phone number; a BSUID there is
 * taken too) and `from_user_id` (a BSUID), completed from their contacts[]
 * entry: the one whose wa_id or user_id is the item's, else the only one
 * when it does not contradict the item.  That entry gives the profile name,
 * the username, the parent BSUID and whichever of phone and BSUID the item
 * left out.  0, or -1 when the item names no customer at all.
 */
static int
wh_customer(struct wh_customer *cu, struct json_object *m,
    struct json_object *contacts)
{
	struct json_object	*c = NULL, *ci;
	const char		*from, *s;
	char			 ph[VALID_PHONE_MAX], uid[VALID_BSUID_MAX];
	size_t			 i, n;

	memset(cu, 0, sizeof(*cu));
	from = wh_str(m, "from", NULL);
	(void)wh_phone(from, cu->phone);
	if (wh_bsuid(wh_str(m, "from_user_id", NULL), cu->user_id) == -1 &&
	    cu->phone[0] == '\0')
		(void)wh_bsuid(from, cu->user_id);
	if (cu->phone[0] == '\0' && cu->user_id[0] == '\0')
		return -1;
	n = contacts == NULL ? 0 : json_object_array_length(contacts);
	for (i = 0; i < n && c == NULL; i++) {
		ci = json_object_array_get_idx(contacts, i);
		if ((cu->phone[0] != '\0' &&
		    wh_phone(wh_str(ci, "wa_id", NULL), ph) == 0 &&
		    strcmp(ph, cu->phone) == 0) ||
		    (cu->user_id[0] != '\0' &&
		    (s = wh_str(ci, "user_id", NULL)) != NULL &&
		    strcmp(s, cu->user_id) == 0))
			c = ci;
	}
	if (c == NULL && n == 1) {
		ci = json_object_array_get_idx(contacts, 0);
		if (!(cu->phone[0] != '\0' &&
		    wh_phone(wh_str(ci, "wa_id", NULL), ph) == 0 &&
		    strcmp(ph, cu->phone) != 0) &&
		    !(cu->user_id[0] != '\0' &&
		    wh_bsuid(wh_str(ci, "user_id", NULL), uid) == 0 &&
		    strcmp(uid, cu->user_id) != 0))
			c = ci;
	}
	if (c == NULL)
		return 0;
	if (cu->phone[0] == '\0')
		(void)wh_phone(wh_str(c, "wa_id", NULL), cu->phone);
	if (cu->user_id[0] == '\0')
		(void)wh_bsuid(wh_str(c, "user_id", NULL), cu->user_id);
	(void)wh_bsuid(wh_str(c, "parent_user_id", NULL), cu->parent);
	(void)wh_text(cu->name, sizeof(cu->name),
	    wh_str(c, "profile", "name", NULL));
	(void)wh_text(cu->username, sizeof(cu->username),
	    wh_str(c, "profile", "username", NULL));
	return 0;
}

/* The type a message is stored as: t when WhatsApp documents it. */
static const char *
wh_type(const char *t)
{
	size_t	i;

	for (i = 0; t != NULL && wh_types[i] != NULL; i++)
		if (strcmp(t, wh_types[i]) == 0)
			return wh_types[i];
	return "unsupported";
}

/*
 * Readable content for any message type: text as is, other types as
 * "[type]" plus whatever caption, title, emoji, name or body they carry
 * (type is the type as sent, so an unknown one still shows what it was).
 */
static void
wh_content(struct buf *b, struct json_object *m, const char *type)
{
	const char	*extra = NULL, *more = NULL, *lat, *lon;
	struct json_object *arr;
	size_t		 k;
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
	} else if (strcmp(type, "reaction") == 0) {
		extra = wh_str(m, "reaction", "emoji", NULL);
		if (extra == NULL || *extra == '\0')
			extra = "(removed)";
	} else if (strcmp(type, "location") == 0) {
		if ((extra = wh_str(m, "location", "name", NULL)) == NULL &&
		    (extra = wh_str(m, "location", "address", NULL)) == NULL) {
			lat = json_object_get_string(json_object_object_get(
			    json_object_object_get(m, "location"), "latitude"));
			lon = json_object_get_string(json_object_object_get(
			    json_object_object_get(m, "location"),
			    "longitude"));
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
		    NULL)) == NULL &&
		    (extra = wh_str(m, "interactive", "list_reply", "title",
		    NULL)) == NULL)
			extra = wh_str(m, "interactive", "nfm_reply", "body",
			    NULL);
	} else if (strcmp(type, "button") == 0) {
		if ((extra = wh_str(m, "button", "text", NULL)) == NULL)
			extra = wh_str(m, "button", "payload", NULL);
	} else if (strcmp(type, "system") == 0)
		extra = wh_str(m, "system", "body", NULL);
	else if (strcmp(type, "order") == 0) {
		if (jsonb_get_type(json_object_object_get(m, "order"),
		    "product_items", json_type_array, &arr) == JSONB_GET_OK) {
			k = json_object_array_length(arr);
			snprintf(pos, sizeof(pos), "%zu item%s", k,
			    k == 1 ? "" : "s");
			extra = pos;
		}
		more = wh_str(m, "order", "text", NULL);
	} else if (strcmp(type, "unsupported") == 0) {
		/* What it was (newer payloads say), else WhatsApp's error. */
		if ((extra = wh_str(m, "unsupported", "type", NULL)) == NULL &&
		    jsonb_get_type(m, "errors", json_type_array, &arr) ==
		    JSONB_GET_OK && json_object_array_length(arr) > 0 &&
		    (extra = wh_str(json_object_array_get_idx(arr, 0),
		    "message", NULL)) == NULL)
			extra = wh_str(json_object_array_get_idx(arr, 0),
			    "title", NULL);
	}
	buf_printf(b, "[%s]", type);
	if (extra != NULL && *extra != '\0') {
		buf_putc(b, ' ');
		buf_puts(b, extra);
	}
	if (more != NULL && *more != '\0') {
		buf_puts(b, extra != NULL ? ": " : " ");
		buf_puts(b, more);
	}
}

/*
 * Makes content storable whatever arrived: valid UTF-8 without NULs, cut to
 * its first MESSAGE_MAX_CHARS characters; "[type]" when nothing is left.
 */
static void
wh_content_fit(struct buf *b, const char *type)
{
	struct message_err	 err;
	char			*clean;
	size_t			 len, chars;

	if (model_message_check_content(b->data, b->len, &err) == 0)
		return;
	if (valid_utf8(b->data, b->len, &chars) == -1) {
		clean = mem_alloc(b->len * 3 + 1);
		len = utf8_clean(clean, b->len * 3 + 1, b->data, b->len);
		buf_reset(b);
		buf_append(b, clean, len);
		mem_free(clean);
		if (valid_utf8(b->data, b->len, &chars) == -1)
			chars = 0;
	}
	/*
	 * Cutting the excess in bytes cuts at least one and at most that many
	 * characters: never below the limit, and done in a few rounds.
	 */
	len = b->len;
	while (len > 0 && chars > MESSAGE_MAX_CHARS) {
		len = utf8_truncate(b->data, len,
		    len - (chars - MESSAGE_MAX_CHARS));
		if (valid_utf8(b->data, len, &chars) == -1)
			len = 0;
	}
	if (len == 0) {
		buf_reset(b);
		buf_printf(b, "[%s]", type);
		return;
	}
	b->len = len;
	b->data[len] = '\0';
}

/*
 * The new number of a user_changed_number body ("User A changed from
 * +1 555 0100 to +1 555 0111"): the digits after the last " to ", into out
 * (VALID_PHONE_MAX).  0, or -1.
 */
static int
wh_body_phone(const char *body, char *out)
{
	const char	*p, *q;
	char		 digits[VALID_PHONE_MAX + 1];
	size_t		 n = 0;

	if (body == NULL || (p = strstr(body, " to ")) == NULL)
		return -1;
	while ((q = strstr(p + 1, " to ")) != NULL)
		p = q;
	for (p += 4; *p != '\0'; p++) {
		if (isdigit((unsigned char)*p)) {
			if (n + 1 >= sizeof(digits))
				return -1;
			digits[n++] = *p;
		} else if (strchr("+ -().", *p) == NULL)
			break;
	}
	digits[n] = '\0';
	return n == 0 ? -1 : wh_phone(digits, out);
}

/*
 * A system item user_changed_number or user_changed_user_id, once stored
 * on the customer's contact: that contact, known by the old identifiers
 * (cu: the sender, system.previous_user_id), takes the new ones
 * (system.wa_id or the number the body ends with; system.user_id), so the
 * customer keeps one contact and one thread (wadesk_contact_change, which
 * merges a contact the new identifiers already had).
 */
static enum db_rc
wh_system_change(struct app *a, struct json_object *m,
    const struct wh_customer *cu)
{
	PGresult	*res = NULL;
	const char	*kind, *p[4];
	char		 phone[VALID_PHONE_MAX], uid[VALID_BSUID_MAX];
	enum db_rc	 rc;

	phone[0] = uid[0] = '\0';
	if ((kind = wh_str(m, "system", "type", NULL)) == NULL)
		return DB_OK;
	if (strcmp(kind, "user_changed_number") == 0) {
		if (wh_phone(wh_str(m, "system", "wa_id", NULL), phone) == -1)
			(void)wh_body_phone(wh_str(m, "system", "body", NULL),
			    phone);
	} else if (strcmp(kind, "user_changed_user_id") != 0)
		return DB_OK;
	(void)wh_bsuid(wh_str(m, "system", "user_id", NULL), uid);
	if (phone[0] == '\0' && uid[0] == '\0') {
		log_kv(LOG_WARN, "webhook: a system message without the new "
		    "number or user id", "id", wh_str(m, "id", NULL),
		    "type", kind, NULL);
		return DB_OK;
	}
	p[0] = cu->phone[0] != '\0' ? cu->phone : NULL;
	p[1] = cu->user_id[0] != '\0' ? cu->user_id : NULL;
	p[2] = phone[0] != '\0' ? phone : NULL;
	p[3] = uid[0] != '\0' ? uid : NULL;
	rc = db_exec(a->db, STMT_CONTACT_RENUMBER, 4, p, &res);
	db_res_free(res);
	return rc;
}

/* The code of errors[] item e (a number or a string) into code, or NULL. */
static const char *
wh_error_code(char *code, size_t len, struct json_object *e)
{
	struct json_object	*v;
	const char		*cs;

	if (!json_object_is_type(e, json_type_object) ||
	    !json_object_object_get_ex(e, "code", &v) || v == NULL ||
	    (cs = json_object_get_string(v)) == NULL)
		return NULL;
	return wh_text(code, len, cs);
}

/*
 * "title: details" of one errors[] item (its message when it has no
 * title), as the message's error text:
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
	if (jsonb_get_str(e, "title", &title, &tlen) != JSONB_GET_OK &&
	    jsonb_get_str(e, "message", &title, &tlen) != JSONB_GET_OK) {
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

/*
 * One value.messages[] item, whatever its type, as an inbound message of
 * its customer (wh_customer); skipped only when it names no customer.
 * Stored with it: its type (an unknown one as "unsupported"), the item
 * itself (raw: referral, ctwa_clid and all), the message it replies to
 * (context.id); a reaction also sets the customer's reaction on the
 * message reacted to, a system item may change the contact's number or
 * BSUID, and the item's errors[] go on the message (error_code and
 * error_message, the first error's).  A re-delivery changes nothing.
 */
static enum db_rc
webhook_cloud_message(struct app *a, struct json_object *m,
    const char *receiver, const char *number, struct json_object *contacts,
    struct cloud_counts *n)
{
	struct wh_customer	 cu;
	struct buf		 content;
	struct json_object	*errors, *raw = NULL;
	PGresult		*res = NULL;
	const char		*sent, *type, *emoji, *p[16];
	char			 ts[24], code[32], msg[512], row[24];
	enum stmt		 stmt = STMT_MSG_INBOUND;
	int			 np = 14;
	enum db_rc		 rc;

	if (wh_customer(&cu, m, contacts) == -1) {
		log_kv(LOG_WARN, "webhook: message without a usable sender "
		    "skipped", "id", wh_str(m, "id", NULL), NULL);
		n->skipped++;
		return DB_OK;
	}
	/*
	 * Ids and numbers come from the item as sent; what is shown and kept
	 * comes from a copy PostgreSQL takes (no \u0000, no broken UTF-8).
	 */
	if (json_object_deep_copy(m, &raw, NULL) != 0)
		abort();	/* json-c could not allocate */
	jsonb_scrub(raw);
	sent = wh_str(raw, "type", NULL);
	type = wh_type(sent);
	if (sent == NULL || *sent == '\0' || strlen(sent) > WEBHOOK_TYPE_MAX)
		sent = type;
	/* A changed BSUID: the message goes to the contact of the old one. */
	if (strcmp(type, "system") == 0)
		(void)wh_bsuid(wh_str(m, "system", "previous_user_id", NULL),
		    cu.user_id);
	buf_init(&content);
	wh_content(&content, raw, sent);
	wh_content_fit(&content, sent);
	p[0] = cu.phone[0] != '\0' ? cu.phone : cu.user_id;
	p[1] = receiver;
	p[2] = content.data;
	p[3] = wh_id(m, "id", NULL);
	p[4] = wh_unix_ts(m, "timestamp", ts, sizeof(ts));
	p[5] = cu.name[0] != '\0' ? cu.name : NULL;
	p[6] = cu.phone[0] != '\0' ? cu.phone : NULL;
	p[7] = cu.user_id[0] != '\0' ? cu.user_id : NULL;
	p[8] = cu.parent[0] != '\0' ? cu.parent : NULL;
	p[9] = cu.username[0] != '\0' ? cu.username : NULL;
	p[10] = type;
	p[11] = json_object_to_json_string_ext(raw, JSON_C_TO_STRING_PLAIN);
	p[12] = wh_id(m, "context", "id");
	p[13] = number;
	if (strcmp(type, "reaction") == 0 &&
	    (p[14] = wh_id(m, "reaction", "message_id")) != NULL) {
		emoji = wh_str(raw, "reaction", "emoji", NULL);
		p[15] = emoji != NULL && *emoji != '\0' ? emoji : NULL;
		stmt = STMT_MSG_INBOUND_REACTION;
		np = 16;
	}
	if ((rc = db_exec(a->db, stmt, np, p, &res)) != DB_OK)
		goto out;
	n->messages++;
	/* No row: a re-delivery, all of it done the first time. */
	if (PQntuples(res) != 1)
		goto out;
	/* A media item: its file, pending until the dispatcher fetches it. */
	snprintf(row, sizeof(row), "%s", PQgetvalue(res, 0, MSG_COL_ID));
	if ((rc = media_inbound(a->db, row, type, raw)) != DB_OK)
		goto out;
	if (jsonb_get_type(raw, "errors", json_type_array, &errors) ==
	    JSONB_GET_OK && json_object_array_length(errors) > 0) {
		snprintf(row, sizeof(row), "%s",
		    PQgetvalue(res, 0, MSG_COL_ID));
		p[0] = row;
		p[1] = wh_error_code(code, sizeof(code),
		    json_object_array_get_idx(errors, 0));
		wh_error_text(msg, sizeof(msg),
		    json_object_array_get_idx(errors, 0));
		p[2] = msg;
		log_kv(LOG_INFO, "webhook: a message came with errors", "id",
		    p[3], "code", p[1], NULL);
		db_res_free(res);
		res = NULL;
		if ((rc = db_exec(a->db, STMT_MSG_INBOUND_ERROR, 3, p,
		    &res)) != DB_OK)
			goto out;
	}
	if (strcmp(type, "system") == 0)
		rc = wh_system_change(a, m, &cu);
out:
	db_res_free(res);
	buf_cleanup(&content);
	json_object_put(raw);
	return rc;
}

static enum db_rc
webhook_cloud_status(struct app *a, struct json_object *st,
    struct cloud_counts *n)
{
	struct json_object	*detail = NULL, *errors = NULL, *e0, *v;
	PGresult		*res = NULL;
	const char		*id, *status, *p[6];
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
			p[4] = wh_error_code(code, sizeof(code), e0);
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

/*
 * In careful mode each item is stored under a savepoint of its own
 * (wh_item_end); see webhook_cloud() for when.
 */
static enum db_rc
wh_item_begin(struct app *a, const struct cloud_counts *n)
{
	if (!n->careful)
		return DB_OK;
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
	if (!n->careful)
		return rc;
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

/*
 * value.errors[]: WhatsApp could not hand us something (a message it could
 * not process, a webhook it could not build).  No message of ours stands
 * for it and nothing in it can be stored as one, so each error is logged
 * with its code (act on the code, never on the title), its title and
 * details, and the rest of the value is stored and answered 200 as
 * usual: refusing the batch would only make WhatsApp deliver it again.
 */
static void
wh_value_errors(struct json_object *value)
{
	struct json_object	*errors, *e;
	char			 code[32], text[512];
	size_t			 i;

	if (jsonb_get_type(value, "errors", json_type_array, &errors) !=
	    JSONB_GET_OK)
		return;
	for (i = 0; i < json_object_array_length(errors); i++) {
		e = json_object_array_get_idx(errors, i);
		wh_error_text(text, sizeof(text), e);
		log_kv(LOG_WARN, "webhook: WhatsApp reported an error",
		    "code", wh_error_code(code, sizeof(code), e),
		    "error", text, NULL);
	}
}

/*
 * The business number a value's messages are with (numbers.id into out,
 * NULL when the metadata names no phone number id): the number of
 * metadata.phone_number_id, recorded when new with display disp (NULL:
 * none).  Once per value, one index lookup when the number is known.
 */
static enum db_rc
wh_number(struct app *a, struct json_object *value, const char *disp,
    char out[24], const char **number)
{
	PGresult	*res = NULL;
	const char	*p[2];
	size_t		 i;
	enum db_rc	 rc;

	*number = NULL;
	p[0] = wh_id(value, "metadata", "phone_number_id");
	if (p[0] == NULL || strlen(p[0]) > NUMBER_ID_MAX)
		return DB_OK;
	for (i = 0; p[0][i] != '\0'; i++)
		if (p[0][i] < '0' || p[0][i] > '9')
			return DB_OK;
	p[1] = disp;
	if ((rc = db_exec(a->db, STMT_NUMBER_OF_WEBHOOK, 2, p, &res)) ==
	    DB_OK && PQntuples(res) == 1 && !PQgetisnull(res, 0, 0)) {
		snprintf(out, 24, "%s", PQgetvalue(res, 0, 0));
		*number = out;
	}
	db_res_free(res);
	return rc;
}

static enum db_rc
webhook_cloud_value(struct app *a, struct json_object *value,
    struct cloud_counts *n)
{
	struct json_object	*contacts = NULL, *arr, *item;
	const char		*disp, *number = NULL;
	char			 receiver[VALID_PHONE_MAX], num[24];
	const char		*recv;
	size_t			 i;
	enum db_rc		 rc;

	disp = wh_str(value, "metadata", "display_phone_number", NULL);
	if (disp != NULL && valid_phone(disp, strlen(disp), receiver) == 0)
		recv = receiver;
	else
		recv = app_business_number(a);
	wh_value_errors(value);
	if (jsonb_get_type(value, "contacts", json_type_array, &contacts) !=
	    JSONB_GET_OK)
		contacts = NULL;
	if (jsonb_get_type(value, "messages", json_type_array, &arr) ==
	    JSONB_GET_OK && json_object_array_length(arr) > 0 &&
	    (rc = wh_number(a, value, recv == receiver ? receiver : NULL, num,
	    &number)) != DB_OK)
		return rc;
	if (jsonb_get_type(value, "messages", json_type_array, &arr) ==
	    JSONB_GET_OK)
		for (i = 0; i < json_object_array_length(arr); i++) {
			item = json_object_array_get_idx(arr, i);
			if ((rc = wh_item_begin(a, n)) != DB_OK ||
			    (rc = wh_item_end(a, webhook_cloud_message(a, item,
			    recv, number, contacts, n), "message", item,
			    n)) != DB_OK)
				return rc;
		}
	if (jsonb_get_type(value, "statuses", json_type_array, &arr) ==
	    JSONB_GET_OK)
		for (i = 0; i < json_object_array_length(arr); i++) {
			item = json_object_array_get_idx(arr, i);
			if ((rc = wh_item_begin(a, n)) != DB_OK ||
			    (rc = wh_item_end(a, webhook_cloud_status(a, item,
			    n), "status", item, n)) != DB_OK)
				return rc;
		}
	return DB_OK;
}

/*
 * A change of field message_template_status_update: a template's new
 * status (REINSTATED: approved again), found by WhatsApp's template id,
 * else by name and language.  Nothing to match is no error.
 */
static enum db_rc
webhook_template_status(struct app *a, struct json_object *value)
{
	PGresult	*res = NULL;
	const char	*p[4];
	size_t		 len;
	enum db_rc	 rc;

	if (jsonb_get_strnum(value, "message_template_id", &p[0], &len) !=
	    JSONB_GET_OK || strlen(p[0]) != len)
		p[0] = NULL;
	p[1] = wh_str(value, "message_template_name", NULL);
	p[2] = wh_str(value, "message_template_language", NULL);
	if ((p[3] = wh_str(value, "event", NULL)) == NULL ||
	    (p[0] == NULL && (p[1] == NULL || p[2] == NULL)))
		return DB_OK;
	if (strcmp(p[3], "REINSTATED") == 0)
		p[3] = "APPROVED";
	rc = db_exec(a->db, STMT_TEMPLATE_STATUS, 4, p, &res);
	db_res_free(res);
	return rc;
}

/* Every entry[], every changes[] of field "messages" (and template
 * status changes), in one transaction. */
static enum db_rc
webhook_cloud_tx(struct app *a, struct json_object *root,
    struct cloud_counts *n, int careful)
{
	struct json_object	*entries, *changes, *ch, *value;
	const char		*field;
	size_t			 i, k;
	enum db_rc		 rc;

	memset(n, 0, sizeof(*n));
	n->careful = careful;
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
			if (field == NULL || jsonb_get_type(ch, "value",
			    json_type_object, &value) != JSONB_GET_OK)
				continue;
			if (strcmp(field, "message_template_status_update") ==
			    0)
				rc = webhook_template_status(a, value);
			else if (strcmp(field, "messages") == 0)
				rc = webhook_cloud_value(a, value, n);
			else
				continue;
			if (rc != DB_OK) {
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
	int			 tries, careful = 0;

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
	/*
	 * First the whole payload in one transaction, no savepoints (two
	 * round trips an item saved); if the database refuses something for
	 * good, again in careful mode, where that item alone is skipped.
	 */
	for (tries = 0; tries < WEBHOOK_DB_TRIES; tries++) {
		rc = webhook_cloud_tx(a, root, &n, careful);
		if (rc == DB_RETRY)
			continue;
		if (rc == DB_OK || db_rc_transient(rc) || careful)
			break;
		careful = 1;
	}
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
