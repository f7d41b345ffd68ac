#include <string.h>

#include "auth.h"
#include "crypto.h"
#include "jsonb.h"
#include "model_message.h"
#include "query.h"
#include "stmts.h"
#include "webhook.h"

#define WEBHOOK_ID_MAX	256

static void	webhook_simple(struct app *, struct json_object *);

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

void
webhook_receive(struct app *a)
{
	struct json_object	*root = NULL;
	const char		*sig;

	if (app_read_body(a) == -1)
		return;
	sig = req_param(a->req, "HTTP_X_HUB_SIGNATURE_256");
	if (crypto_sig_check(sig, a->cfg->app_secret, a->req->body,
	    a->req->body_len) == -1) {
		req_error(a->req, 401, "unauthorized", "X-Hub-Signature-256 is "
		    "missing or does not match the body", NULL);
		return;
	}
	if (app_parse_json(a, &root) == -1)
		return;
	if (json_object_object_get_ex(root, "object", NULL) ||
	    json_object_object_get_ex(root, "entry", NULL)) {
		req_error(a->req, 422, "validation_failed", "the WhatsApp Cloud "
		    "API payload shape is not supported yet", "object");
		goto out;
	}
	if (!json_object_object_get_ex(root, "sender", NULL) &&
	    !json_object_object_get_ex(root, "content", NULL)) {
		req_error(a->req, 422, "validation_failed", "unknown payload "
		    "shape: expected {\"sender\", \"content\"}", NULL);
		goto out;
	}
	webhook_simple(a, root);
out:
	json_object_put(root);
}

/* The seed's shape: {"sender", "content", optional "id"}. */
static void
webhook_simple(struct app *a, struct json_object *root)
{
	struct json_object	*out, *data;
	struct message_err	 err;
	struct message		 m;
	const char		*sender, *content, *id = NULL, *p[6];
	char			 from[VALID_PHONE_MAX];
	size_t			 slen, clen, idlen;
	PGresult		*res = NULL;
	enum db_rc		 rc;
	enum jsonb_get		 g;

	if (jsonb_get_str(root, "sender", &sender, &slen) != JSONB_GET_OK ||
	    valid_phone(sender, slen, from) == -1) {
		req_error(a->req, 422, "validation_failed", "sender must be a "
		    "phone number: optional +, then 7-15 digits", "sender");
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
	if (auth_db_ready(a) == -1)
		return;
	p[0] = from;
	p[1] = a->cfg->business_number[0] ? a->cfg->business_number : "Me";
	p[2] = content;
	p[3] = g == JSONB_GET_OK ? id : NULL;
	p[4] = NULL;
	p[5] = NULL;
	rc = db_exec(a->db, STMT_MSG_INBOUND, 6, p, &res);
	/* A re-delivery of a known id: answer with the stored message. */
	if (rc == DB_OK && PQntuples(res) == 0 && p[3] != NULL) {
		db_res_free(res);
		rc = db_exec(a->db, STMT_MSG_BY_PROVIDER_ID, 1, p + 3, &res);
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
