#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_messages.h"
#include "auth.h"
#include "crypto.h"
#include "jsonb.h"
#include "model_media.h"
#include "model_message.h"
#include "model_send.h"
#include "query.h"
#include "stmts.h"

#define LIST_DEFAULT	50
#define LIST_MAX	200

/* The filters the next page keeps. */
static const char *const list_keep[] = {
	"status", "direction", "contact", "contact_id", "q", NULL
};

static int	api_field(struct json_object *, enum msg_field,
		    struct message_raw *, struct app_err *);
static int	api_send_input(struct app *, struct json_object **,
		    struct message_input *, struct app_err *);
static int	api_send_media(struct app *, struct message_input *);
static void	api_send_plain(struct app *, const char *,
		    const struct message_input *);
static void	api_no_contact(struct app *);
static void	api_send_checked(struct app *, const struct message_input *);
static void	api_send_idempotent(struct app *, const char *,
		    const struct message_input *);
static void	api_bad_param(struct app *, const char *, const char *);

/*
 * A string field into raw: absent (or null) leaves it NULL; any other type
 * is kept in *e as 422 and -1.
 */
static int
api_field(struct json_object *root, enum msg_field f, struct message_raw *raw,
    struct app_err *e)
{
	struct json_object	*media;
	char			 msg[64];
	enum jsonb_get		 g;

	raw->v[f] = NULL;
	raw->len[f] = 0;
	/* media: {"id": N}, an uploaded file. */
	if (f == MSG_F_MEDIA) {
		g = jsonb_get_type(root, "media", json_type_object, &media);
		if (g == JSONB_GET_OK)
			g = jsonb_get_strnum(media, "id", &raw->v[f],
			    &raw->len[f]);
		if (g == JSONB_GET_OK)
			return 0;
		if (g == JSONB_GET_TYPE || json_object_object_get_ex(root,
		    "media", &media)) {
			app_err_set(e, 422, "validation_failed", "media must "
			    "be {\"id\": N}, N an uploaded file's id",
			    "media.id");
			return -1;
		}
		return 0;
	}
	/* contact_id: a number (or its digits as a string). */
	g = f == MSG_F_CONTACT_ID ?
	    jsonb_get_strnum(root, message_fields[f], &raw->v[f], &raw->len[f]) :
	    jsonb_get_str(root, message_fields[f], &raw->v[f], &raw->len[f]);
	if (g == JSONB_GET_TYPE) {
		snprintf(msg, sizeof(msg), f == MSG_F_CONTACT_ID ?
		    "%s must be an integer" : "%s must be a string",
		    message_fields[f]);
		app_err_set(e, 422, "validation_failed", msg,
		    message_fields[f]);
		return -1;
	}
	return 0;
}

/* The body of a send, checked into *in; -1 with the error kept in *e. */
static int
api_send_input(struct app *a, struct json_object **root,
    struct message_input *in, struct app_err *e)
{
	struct message_raw	 raw;
	struct message_err	 err;
	int			 f;

	if (app_parse_json_err(a, root, e) == -1)
		return -1;
	for (f = 0; f < MSG_F__MAX; f++)
		if (api_field(*root, f, &raw, e) == -1)
			return -1;
	/* A template or a reaction brings its own content (checked there). */
	if (raw.v[MSG_F_CONTENT] == NULL && model_send_brings_content(*root)) {
		raw.v[MSG_F_CONTENT] = "-";
		raw.len[MSG_F_CONTENT] = 1;
	}
	if (model_message_check(&raw, a->cfg->business_number, in, &err) ==
	    -1) {
		app_err_set(e, 422, "validation_failed", err.message,
		    err.field == message_fields[MSG_F_MEDIA] ? "media.id" :
		    err.field);
		return -1;
	}
	return 0;
}

/*
 * The media of a send (in->media_id set): an uploaded, stored file; its
 * message type goes to in->media_type.  0, or -1 after answering (422,
 * or 503/500 when the database failed).
 */
static int
api_send_media(struct app *a, struct message_input *in)
{
	const char	*field, *msg;
	enum db_rc	 rc;

	switch (media_for_send(a->db, in, &field, &msg, &rc)) {
	case 0:
		return 0;
	case 1:
		req_error(a->req, 422, "validation_failed", msg, field);
		return -1;
	default:
		app_db_error(a, rc);
		return -1;
	}
}

/*
 * The route's one exception to the table's policy (ROUTE_KEY_HASH): the
 * common case, a valid body without Idempotency-Key, costs one round trip,
 * the statement checking the key itself.  Anything else checks the key
 * first, so a request without a valid key gets 401 whatever its body.
 */
void
api_send_message(struct app *a)
{
	struct json_object	*root = NULL;
	struct message_input	 in;
	struct app_err		 err;
	struct send_extras	 x;
	const char		*idem, *content;
	size_t			 len;
	enum db_rc		 rc;
	int			 valid, prep;

	idem = req_param(a->req, "HTTP_IDEMPOTENCY_KEY");
	valid = api_send_input(a, &root, &in, &err) == 0 &&
	    model_send_parse(root, jsonb_get_str(root, "content", &content,
	    &len) == JSONB_GET_OK, &x, &err) == 0;
	if (valid && in.media_id[0] != '\0' && (x.tname != NULL ||
	    x.react_to[0] != '\0' || x.buttons != NULL)) {
		app_err_set(&err, 422, "validation_failed", "media cannot go "
		    "with a template, a reaction or buttons", "media");
		valid = 0;
	}
	if (valid && idem == NULL && in.contact_id[0] == '\0' &&
	    in.media_id[0] == '\0' && model_send_plain(&x) &&
	    !a->cfg->window_policy) {
		api_send_plain(a, a->key_hash, &in);
		goto out;
	}
	if (auth_key_lookup(a, a->key_hash) == -1)
		goto out;
	if (idem != NULL && valid_idem_key(idem) == -1)
		req_error(a->req, 400, "invalid_idempotency_key",
		    "Idempotency-Key must be 1-255 printable ASCII characters",
		    NULL);
	else if (!valid)
		app_err_answer(a, &err);
	else if ((prep = model_send_prepare(a, &x, &in, &err, &rc)) == -2)
		app_db_error(a, rc);
	else if (prep == -1)
		app_err_answer(a, &err);
	else if (in.media_id[0] != '\0' && api_send_media(a, &in) == -1)
		;	/* answered */
	else if (idem == NULL)
		api_send_checked(a, &in);
	else
		api_send_idempotent(a, idem, &in);
out:
	json_object_put(root);
}

static void
api_send_plain(struct app *a, const char *key_hash,
    const struct message_input *in)
{
	struct message		 m;
	struct json_object	*o;
	PGresult		*res = NULL;
	enum db_rc		 rc;

	if ((rc = model_message_send_keyed(a->db, in, key_hash, &res)) !=
	    DB_OK) {
		app_db_error(a, rc);
		return;
	}
	if (PQntuples(res) != 1) {
		app_fail(a, APP_FAIL_UNAUTHORIZED, NULL);
		db_res_free(res);
		return;
	}
	model_message_fill(&m, res, 0);
	o = model_message_json(&m);
	req_json(a->req, 201, o);
	json_object_put(o);
	db_res_free(res);
}

static void
api_no_contact(struct app *a)
{
	req_error(a->req, 422, "validation_failed", "no contact has this "
	    "contact_id", "contact_id");
}

/* A send whose key is already checked (a message to a contact_id). */
static void
api_send_checked(struct app *a, const struct message_input *in)
{
	struct message		 m;
	struct json_object	*o;
	PGresult		*res = NULL;
	enum db_rc		 rc;

	if ((rc = model_message_send(a->db, in, &res)) != DB_OK) {
		app_db_error(a, rc);
		return;
	}
	if (PQntuples(res) != 1)
		api_no_contact(a);
	else {
		model_message_fill(&m, res, 0);
		o = model_message_json(&m);
		req_json(a->req, 201, o);
		json_object_put(o);
	}
	db_res_free(res);
}

/*
 * The IETF Idempotency-Key semantics, in one transaction: a transaction-level
 * advisory lock on (api key, key) marks the key in flight (a second request
 * meanwhile gets 409), a stored response younger than 24 hours is replayed
 * when the body is the same (422 when it is not), otherwise the message and
 * the stored response commit together.
 */
static void
api_send_idempotent(struct app *a, const char *key,
    const struct message_input *in)
{
	char			 kid[24], hash[CRYPTO_SHA256_HEX];
	const char		*p[5], *body;
	struct message		 m;
	struct json_object	*o = NULL;
	PGresult		*res = NULL;
	enum db_rc		 rc;
	size_t			 len;

	snprintf(kid, sizeof(kid), "%lld", a->api_key_id);
	crypto_sha256_hex(a->req->body, a->req->body_len, hash);
	p[0] = kid;
	p[1] = key;
	if ((rc = db_begin(a->db)) != DB_OK)
		goto fail;
	if ((rc = db_exec(a->db, STMT_IDEM_LOCK, 2, p, &res)) != DB_OK)
		goto fail;
	if (strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
		db_rollback(a->db);
		req_error(a->req, 409, "idempotency_in_flight", "a request with "
		    "this Idempotency-Key is still being processed", NULL);
		goto out;
	}
	db_res_free(res);
	if ((rc = db_exec(a->db, STMT_IDEM_GET, 2, p, &res)) != DB_OK)
		goto fail;
	if (PQntuples(res) == 1) {
		db_rollback(a->db);
		if (strcmp(PQgetvalue(res, 0, 0), hash) != 0) {
			req_error(a->req, 422, "idempotency_key_reused",
			    "this Idempotency-Key was used with a different "
			    "body", NULL);
			goto out;
		}
		req_header(a->req, "Idempotent-Replayed", "true");
		body = PQgetvalue(res, 0, 2);
		req_send(a->req, atoi(PQgetvalue(res, 0, 1)),
		    "application/json", body, strlen(body));
		goto out;
	}
	db_res_free(res);
	if ((rc = model_message_send(a->db, in, &res)) != DB_OK)
		goto fail;
	if (PQntuples(res) != 1) {
		/* Nothing is stored, the key neither: it may be used again. */
		db_rollback(a->db);
		api_no_contact(a);
		goto out;
	}
	model_message_fill(&m, res, 0);
	o = model_message_json(&m);
	body = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	db_res_free(res);
	p[2] = hash;
	p[3] = "201";
	p[4] = body;
	if ((rc = db_exec(a->db, STMT_IDEM_PUT, 5, p, &res)) != DB_OK)
		goto fail;
	if ((rc = db_commit(a->db)) != DB_OK)
		goto fail;
	req_send(a->req, 201, "application/json", body, len);
	goto out;
fail:
	db_rollback(a->db);
	app_db_error(a, rc);
out:
	json_object_put(o);
	db_res_free(res);
}

static void
api_bad_param(struct app *a, const char *field, const char *message)
{
	req_error(a->req, 400, "invalid_parameter", message, field);
}


void
api_messages_list(struct app *a)
{
	struct query		 q;
	struct message		 m;
	struct json_object	*data;
	struct buf		 next;
	PGresult		*res = NULL;
	const char		*p[7] = { NULL, NULL, NULL, NULL, NULL, NULL,
				    NULL };
	const char		*v;
	char			 contact[VALID_CUSTOMER_MAX], lim[24];
	long long		 limit = LIST_DEFAULT, before = 0, cid;
	int			 i, n, is_phone;
	enum db_rc		 rc;

	query_parse(a->req->arena, a->req->query, &q);
	if (q.invalid) {
		api_bad_param(a, NULL, "the query string is malformed");
		return;
	}
	if ((v = query_get(&q, "status")) != NULL && *v != '\0') {
		if (!model_message_status_valid(v)) {
			buf_init(&next);
			buf_puts(&next, "status must be one of ");
			model_message_status_names(&next);
			api_bad_param(a, "status", next.data);
			buf_cleanup(&next);
			return;
		}
		p[0] = v;
	}
	if ((v = query_get(&q, "direction")) != NULL && *v != '\0') {
		if (!model_message_direction_valid(v)) {
			api_bad_param(a, "direction",
			    "direction must be inbound or outbound");
			return;
		}
		p[1] = v;
	}
	/*
	 * contact: a phone (either form) or a BSUID; contact_id: a contact's
	 * id.  Both go to $3 (MSG_CONTACT in stmts.c): a phone always with
	 * its '+', so digits alone are an id.
	 */
	if ((v = query_get(&q, "contact")) != NULL && *v != '\0') {
		if (valid_customer(v, strlen(v), contact, &is_phone) == -1) {
			api_bad_param(a, "contact", "contact must be "
			    MESSAGE_PHONE_RULE ", or a WhatsApp user id "
			    "(BSUID) such as US.13491208655302741918");
			return;
		}
		p[2] = contact;
	}
	if ((v = query_get(&q, "contact_id")) != NULL && *v != '\0') {
		if (valid_uint(v, 1, APP_ID_MAX, &cid) == -1) {
			api_bad_param(a, "contact_id",
			    "contact_id must be a positive integer");
			return;
		}
		if (p[2] != NULL) {
			api_bad_param(a, "contact_id",
			    "give contact or contact_id, not both");
			return;
		}
		snprintf(contact, sizeof(contact), "%lld", cid);
		p[2] = contact;
	}
	if ((v = query_get(&q, "q")) != NULL && *v != '\0') {
		if (!model_message_search_valid(v)) {
			api_bad_param(a, "q", "q must be 3-200 characters "
			    "of UTF-8 text, without control characters");
			return;
		}
		p[3] = model_message_like(a->req->arena, v);
	}
	if ((v = query_get(&q, "before_id")) != NULL && *v != '\0') {
		if (valid_uint(v, 1, APP_ID_MAX, &before) == -1) {
			api_bad_param(a, "before_id",
			    "before_id must be a positive integer");
			return;
		}
		p[4] = v;
	}
	if ((v = query_get(&q, "limit")) != NULL && *v != '\0' &&
	    valid_uint(v, 1, LIST_MAX, &limit) == -1) {
		api_bad_param(a, "limit", "limit must be from 1 to 200");
		return;
	}
	/* One row more than asked tells whether there is a next page. */
	snprintf(lim, sizeof(lim), "%lld", limit + 1);
	p[5] = lim;
	if ((rc = model_message_list(a->db, STMT_MSG_LIST, p, &res)) !=
	    DB_OK) {
		app_db_error(a, rc);
		return;
	}
	data = json_object_new_array();
	n = PQntuples(res);
	for (i = 0; i < n && i < limit; i++) {
		model_message_fill(&m, res, i);
		json_object_array_add(data, model_message_json(&m));
	}
	app_list_answer(a, data, n > limit, "/api/messages/", &q, list_keep,
	    limit, m.id);
	db_res_free(res);
}

void
api_message_get(struct app *a)
{
	struct message		 m;
	struct json_object	*o, *events, *ev;
	PGresult		*res = NULL, *evres = NULL;
	const char		*p[1];
	const char		*detail;
	enum db_rc		 rc;
	int			 i;

	p[0] = a->args[0];
	if ((rc = db_exec(a->db, STMT_MSG_GET, 1, p, &res)) != DB_OK) {
		app_db_error(a, rc);
		return;
	}
	if (PQntuples(res) == 0) {
		req_error(a->req, 404, "not_found", "no such message", NULL);
		goto out;
	}
	if ((rc = db_exec(a->db, STMT_MSG_EVENTS, 1, p, &evres)) != DB_OK) {
		app_db_error(a, rc);
		goto out;
	}
	model_message_fill(&m, res, 0);
	o = model_message_json(&m);
	events = json_object_new_array();
	for (i = 0; i < PQntuples(evres); i++) {
		ev = json_object_new_object();
		json_object_object_add(ev, "status",
		    json_object_new_string(PQgetvalue(evres, i, 0)));
		json_object_object_add(ev, "timestamp",
		    json_object_new_string(PQgetvalue(evres, i, 1)));
		detail = db_get(evres, i, 2);
		json_object_object_add(ev, "detail",
		    detail ? json_tokener_parse(detail) : NULL);
		json_object_array_add(events, ev);
	}
	json_object_object_add(o, "events", events);
	req_json(a->req, 200, o);
	json_object_put(o);
out:
	db_res_free(evres);
	db_res_free(res);
}
