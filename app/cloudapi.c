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

/*
 * A customer known by a BSUID gets "recipient"; a phone number gets "to",
 * its digits without the '+' (WhatsApp takes "to" first when both are
 * there, so only one is ever sent).
 */
struct json_object *
cloudapi_body(const struct job *j)
{
	struct json_object	*body, *text;
	const char		*r = j->receiver;

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
	json_object_object_add(body, "type", json_object_new_string("text"));
	text = json_object_new_object();
	json_object_object_add(text, "preview_url",
	    json_object_new_boolean(0));
	json_object_object_add(text, "body",
	    json_object_new_string(j->content));
	json_object_object_add(body, "text", text);
	return body;
}

void
cloudapi_send(struct cloudapi *c, struct job *jobs, size_t n)
{
	struct http_req		*reqs;
	struct json_object	**bodies;
	size_t			 i, len;

	reqs = mem_calloc(n ? n : 1, sizeof(*reqs));
	bodies = mem_calloc(n ? n : 1, sizeof(*bodies));
	for (i = 0; i < n; i++) {
		bodies[i] = cloudapi_body(&jobs[i]);
		http_req_init(&reqs[i]);
		reqs[i].url = c->url;
		reqs[i].bearer = c->cfg->cloudapi_token;
		reqs[i].body = json_object_to_json_string_length(bodies[i],
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
		    &len);
		reqs[i].body_len = len;
	}
	http_post_all(c->http, reqs, n);
	for (i = 0; i < n; i++) {
		cloudapi_result(&jobs[i], reqs[i].status, reqs[i].retry_after_s,
		    reqs[i].resp.data, reqs[i].resp.len, reqs[i].error);
		http_req_cleanup(&reqs[i]);
		json_object_put(bodies[i]);
	}
	mem_free(reqs);
	mem_free(bodies);
}
