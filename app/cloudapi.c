#include <stdio.h>
#include <string.h>
#include <json-c/json.h>

#include "cloudapi.h"
#include "http.h"
#include "jsonb.h"
#include "mem.h"
#include "valid.h"

/* 131056 (too many messages to one user) wants a longer pause. */
#define CLOUDAPI_PAIR_LIMIT_MS	30000

struct cloudapi {
	const struct settings	*cfg;
	struct http_client	*http;
	char			 url[1024];
};

static int	cloudapi_transient(long);

struct cloudapi *
cloudapi_new(const struct settings *cfg)
{
	struct cloudapi	*c;
	size_t		 n;

	c = mem_calloc(1, sizeof(*c));
	c->cfg = cfg;
	c->http = http_client_new((size_t)cfg->concurrency,
	    cfg->cloudapi_timeout_ms);
	n = strlen(cfg->cloudapi_base_url);
	while (n > 0 && cfg->cloudapi_base_url[n - 1] == '/')
		n--;
	snprintf(c->url, sizeof(c->url), "%.*s/%s/%s/messages", (int)n,
	    cfg->cloudapi_base_url, cfg->cloudapi_version,
	    cfg->phone_number_id);
	return c;
}

void
cloudapi_free(struct cloudapi *c)
{
	if (c == NULL)
		return;
	http_client_free(c->http);
	mem_free(c);
}

static int
cloudapi_transient(long code)
{
	return code == 130429 || code == 131056 || code == 131000;
}

void
cloudapi_result(struct job *j, long status, long retry_after_s,
    const char *body, size_t len, const char *transport_error)
{
	struct json_object	*root = NULL, *arr, *err, *v;
	const char		*id = NULL, *msg = NULL;
	char			 code[32];
	size_t			 idlen = 0, msglen = 0;
	long			 ecode = 0;

	if (retry_after_s > HTTP_RETRY_AFTER_MAX)
		retry_after_s = HTTP_RETRY_AFTER_MAX;
	j->retry_after_ms = retry_after_s >= 0 ? retry_after_s * 1000 : -1;
	if (status == 0) {
		job_error(j, JOB_RETRY, "network",
		    transport_error && *transport_error ? transport_error :
		    "no answer");
		return;
	}
	if (len > 0 && jsonb_parse(body, len, &root) != JSONB_OK)
		root = NULL;
	if (status >= 200 && status < 300) {
		if (jsonb_get_type(root, "messages", json_type_array, &arr) ==
		    JSONB_GET_OK && json_object_array_length(arr) > 0 &&
		    (v = json_object_array_get_idx(arr, 0)) != NULL &&
		    jsonb_get_str(v, "id", &id, &idlen) != JSONB_GET_OK)
			id = NULL;
		j->provider_id[0] = '\0';
		if (id != NULL && idlen < sizeof(j->provider_id))
			job_sent(j, id, idlen);
		if (j->provider_id[0] == '\0')
			job_error(j, JOB_FAILED, "invalid_response",
			    "the Cloud API accepted the message but returned "
			    "no message id");
		goto out;
	}
	if (jsonb_get_type(root, "error", json_type_object, &err) ==
	    JSONB_GET_OK) {
		if (json_object_object_get_ex(err, "code", &v))
			ecode = json_object_get_int64(v);
		if (jsonb_get_str(err, "message", &msg, &msglen) !=
		    JSONB_GET_OK)
			msg = NULL;
	}
	if (ecode != 0)
		snprintf(code, sizeof(code), "%ld", ecode);
	else
		snprintf(code, sizeof(code), "http_%ld", status);
	/* WhatsApp's (often localised) text, cleaned and cut by job. */
	job_error_len(j, JOB_FAILED, code, msg ? msg : "", msg ? msglen : 0);
	if (j->err_msg[0] == '\0')
		job_error(j, JOB_FAILED, code,
		    "the Cloud API refused the message");
	if (status == 429 || status >= 500 || cloudapi_transient(ecode)) {
		j->result = JOB_RETRY;
		if (ecode == 131056 &&
		    j->retry_after_ms < CLOUDAPI_PAIR_LIMIT_MS)
			j->retry_after_ms = CLOUDAPI_PAIR_LIMIT_MS;
	}
out:
	json_object_put(root);
}

/* WhatsApp's template shape from our spec {"name", "language",
 * "parameters"} (a list, or an object of named ones). */
static struct json_object *
cloudapi_template(struct json_object *t)
{
	struct json_object	*o, *lang, *params = NULL, *list, *p, *comp;
	struct json_object	*comps;
	size_t			 i, n;

	o = json_object_new_object();
	if (json_object_object_get_ex(t, "name", &p))
		json_object_object_add(o, "name", json_object_get(p));
	lang = json_object_new_object();
	if (json_object_object_get_ex(t, "language", &p))
		json_object_object_add(lang, "code", json_object_get(p));
	json_object_object_add(o, "language", lang);
	if (!json_object_object_get_ex(t, "parameters", &params))
		return o;
	list = json_object_new_array();
	if (json_object_is_type(params, json_type_array)) {
		n = json_object_array_length(params);
		for (i = 0; i < n; i++) {
			p = json_object_new_object();
			json_object_object_add(p, "type",
			    json_object_new_string("text"));
			json_object_object_add(p, "text", json_object_get(
			    json_object_array_get_idx(params, i)));
			json_object_array_add(list, p);
		}
	} else if (json_object_is_type(params, json_type_object)) {
		json_object_object_foreach(params, key, val) {
			p = json_object_new_object();
			json_object_object_add(p, "type",
			    json_object_new_string("text"));
			json_object_object_add(p, "parameter_name",
			    json_object_new_string(key));
			json_object_object_add(p, "text", json_object_get(val));
			json_object_array_add(list, p);
		}
	}
	if (json_object_array_length(list) == 0) {
		json_object_put(list);
		return o;
	}
	comp = json_object_new_object();
	json_object_object_add(comp, "type", json_object_new_string("body"));
	json_object_object_add(comp, "parameters", list);
	comps = json_object_new_array();
	json_object_array_add(comps, comp);
	json_object_object_add(o, "components", comps);
	return o;
}

/* Reply buttons: {"type": "button", "body", "action": {"buttons"}}. */
static struct json_object *
cloudapi_buttons(const char *text, struct json_object *buttons)
{
	struct json_object	*o, *body, *action, *list, *b, *reply, *v;
	size_t			 i, n;

	o = json_object_new_object();
	json_object_object_add(o, "type", json_object_new_string("button"));
	body = json_object_new_object();
	json_object_object_add(body, "text", json_object_new_string(text));
	json_object_object_add(o, "body", body);
	list = json_object_new_array();
	n = json_object_array_length(buttons);
	for (i = 0; i < n; i++) {
		b = json_object_array_get_idx(buttons, i);
		reply = json_object_new_object();
		if (json_object_object_get_ex(b, "id", &v))
			json_object_object_add(reply, "id", json_object_get(v));
		if (json_object_object_get_ex(b, "title", &v))
			json_object_object_add(reply, "title",
			    json_object_get(v));
		b = json_object_new_object();
		json_object_object_add(b, "type",
		    json_object_new_string("reply"));
		json_object_object_add(b, "reply", reply);
		json_object_array_add(list, b);
	}
	action = json_object_new_object();
	json_object_object_add(action, "buttons", list);
	json_object_object_add(o, "action", action);
	return o;
}

/*
 * A customer known by a BSUID gets "recipient"; a phone number gets "to",
 * its digits without the '+' (WhatsApp takes "to" first when both are
 * there, so only one is ever sent).  The message itself by type: text,
 * template, interactive reply buttons or a reaction, with "context" when
 * it quotes a message.  NULL (and an error on j) when it cannot be sent
 * yet: a reaction to a message WhatsApp has no id for.
 */
struct json_object *
cloudapi_body(struct job *j)
{
	struct json_object	*body, *text, *spec = NULL, *v, *o;
	const char		*r = j->receiver, *type;

	type = j->type != NULL ? j->type : "text";
	if (j->spec != NULL && ((spec = json_tokener_parse(j->spec)) ==
	    NULL || !json_object_is_type(spec, json_type_object))) {
		json_object_put(spec);
		spec = NULL;
	}
	if (strcmp(type, "reaction") == 0 && j->reaction_id == NULL) {
		json_object_put(spec);
		job_error(j, JOB_RETRY, "not_ready", "the message reacted to "
		    "has no WhatsApp id yet");
		return NULL;
	}
	body = json_object_new_object();
	json_object_object_add(body, "messaging_product",
	    json_object_new_string("whatsapp"));
	json_object_object_add(body, "recipient_type",
	    json_object_new_string("individual"));
	if (valid_bsuid(r, strlen(r)) == 0)
		json_object_object_add(body, "recipient",
		    json_object_new_string(r));
	else
		json_object_object_add(body, "to",
		    json_object_new_string(r[0] == '+' ? r + 1 : r));
	if (j->context_id != NULL) {
		o = json_object_new_object();
		json_object_object_add(o, "message_id",
		    json_object_new_string(j->context_id));
		json_object_object_add(body, "context", o);
	}
	if (strcmp(type, "template") == 0 &&
	    json_object_object_get_ex(spec, "template", &v)) {
		json_object_object_add(body, "type",
		    json_object_new_string("template"));
		json_object_object_add(body, "template", cloudapi_template(v));
	} else if (strcmp(type, "interactive") == 0 &&
	    json_object_object_get_ex(spec, "buttons", &v)) {
		json_object_object_add(body, "type",
		    json_object_new_string("interactive"));
		json_object_object_add(body, "interactive",
		    cloudapi_buttons(j->content, v));
	} else if (strcmp(type, "reaction") == 0 &&
	    json_object_object_get_ex(spec, "reaction", &v)) {
		json_object_object_add(body, "type",
		    json_object_new_string("reaction"));
		o = json_object_new_object();
		json_object_object_add(o, "message_id",
		    json_object_new_string(j->reaction_id));
		json_object_object_add(o, "emoji",
		    json_object_object_get_ex(v, "emoji", &text) ?
		    json_object_get(text) : json_object_new_string(""));
		json_object_object_add(body, "reaction", o);
	} else {
		json_object_object_add(body, "type",
		    json_object_new_string("text"));
		text = json_object_new_object();
		json_object_object_add(text, "preview_url",
		    json_object_new_boolean(0));
		json_object_object_add(text, "body",
		    json_object_new_string(j->content));
		json_object_object_add(body, "text", text);
	}
	json_object_put(spec);
	return body;
}

void
cloudapi_send(struct cloudapi *c, struct job *jobs, size_t n)
{
	struct http_req		*reqs;
	struct json_object	**bodies;
	size_t			*which, i, k = 0, len;

	reqs = mem_calloc(n ? n : 1, sizeof(*reqs));
	bodies = mem_calloc(n ? n : 1, sizeof(*bodies));
	which = mem_calloc(n ? n : 1, sizeof(*which));
	/* A job without a body already has its result (cloudapi_body). */
	for (i = 0; i < n; i++) {
		if ((bodies[k] = cloudapi_body(&jobs[i])) == NULL)
			continue;
		which[k] = i;
		http_req_init(&reqs[k]);
		reqs[k].url = c->url;
		reqs[k].bearer = c->cfg->cloudapi_token;
		reqs[k].body = json_object_to_json_string_length(bodies[k],
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
		    &len);
		reqs[k].body_len = len;
		k++;
	}
	http_post_all(c->http, reqs, k);
	for (i = 0; i < k; i++) {
		cloudapi_result(&jobs[which[i]], reqs[i].status,
		    reqs[i].retry_after_s, reqs[i].resp.data, reqs[i].resp.len,
		    reqs[i].error);
		http_req_cleanup(&reqs[i]);
		json_object_put(bodies[i]);
	}
	mem_free(which);
	mem_free(reqs);
	mem_free(bodies);
}
