#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "cloudapi.h"
#include "http.h"
#include "jsonb.h"
#include "mem.h"
#include "utf8.h"
#include "valid.h"

/* 131056 (too many messages to one user) wants a longer pause. */
#define CLOUDAPI_PAIR_LIMIT_MS	30000
/* A send's URL: {base}/{version}/{phone number id}/messages. */
#define CLOUDAPI_URL_MAX	1100

struct cloudapi {
	const struct settings	*cfg;
	struct http_client	*http;
	char			 url[1024];
	/* Media: its own client, with the longer WADESK_MEDIA_TIMEOUT_MS. */
	struct http_client	*media_http;
	char			 base[1024];	/* {base}/{version} */
};

static int	cloudapi_transient(long);
static void	cloudapi_media_body(struct json_object *, const struct job *);
static void	cloudapi_graph_error(const struct buf *, long, char *, size_t,
		    char *, size_t);

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
	snprintf(c->base, sizeof(c->base), "%.*s/%s", (int)n,
	    cfg->cloudapi_base_url, cfg->cloudapi_version);
	return c;
}

void
cloudapi_free(struct cloudapi *c)
{
	if (c == NULL)
		return;
	http_client_free(c->http);
	http_client_free(c->media_http);
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
	if (status >= 200 && status < 300 && j->type != NULL &&
	    strcmp(j->type, JOB_READ_RECEIPT) == 0) {
		/* {"success": true}: no message id to keep. */
		j->result = JOB_SENT;
		goto out;
	}
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
	/* A read receipt: no message, only WhatsApp's id of the one read. */
	if (strcmp(type, JOB_READ_RECEIPT) == 0) {
		body = json_object_new_object();
		json_object_object_add(body, "messaging_product",
		    json_object_new_string("whatsapp"));
		json_object_object_add(body, "status",
		    json_object_new_string("read"));
		json_object_object_add(body, "message_id",
		    json_object_new_string(j->context_id != NULL ?
		    j->context_id : ""));
		return body;
	}
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
	if (j->media_id > 0 && j->media_wa_id[0] != '\0')
		cloudapi_media_body(body, j);
	else if (strcmp(type, "template") == 0 &&
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
	char			*urls;
	size_t			*which, i, k = 0, len;

	reqs = mem_calloc(n ? n : 1, sizeof(*reqs));
	urls = mem_calloc(n ? n : 1, CLOUDAPI_URL_MAX);
	bodies = mem_calloc(n ? n : 1, sizeof(*bodies));
	which = mem_calloc(n ? n : 1, sizeof(*which));
	/* A job without a body already has its result (cloudapi_body). */
	for (i = 0; i < n; i++) {
		if ((bodies[k] = cloudapi_body(&jobs[i])) == NULL)
			continue;
		which[k] = i;
		http_req_init(&reqs[k]);
		/* Each number's own URL; a message without one: the
		 * WADESK_PHONE_NUMBER_ID's. */
		if (jobs[i].phone_number_id != NULL) {
			snprintf(urls + k * CLOUDAPI_URL_MAX, CLOUDAPI_URL_MAX,
			    "%s/%s/messages", c->base, jobs[i].phone_number_id);
			reqs[k].url = urls + k * CLOUDAPI_URL_MAX;
		} else
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
	mem_free(urls);
	mem_free(reqs);
	mem_free(bodies);
}

/*
 * A media message: "type" and an object of that name with WhatsApp's
 * upload id, the caption (image, video, document; not audio or sticker)
 * and a document's filename.
 */
static void
cloudapi_media_body(struct json_object *body, const struct job *j)
{
	struct json_object	*m;
	const char		*k = j->media_kind;

	json_object_object_add(body, "type", json_object_new_string(k));
	m = json_object_new_object();
	json_object_object_add(m, "id", json_object_new_string(j->media_wa_id));
	if (j->content != NULL && j->content[0] != '\0' &&
	    (strcmp(k, "image") == 0 || strcmp(k, "video") == 0 ||
	    strcmp(k, "document") == 0))
		json_object_object_add(m, "caption",
		    json_object_new_string(j->content));
	if (strcmp(k, "document") == 0 && j->media_filename[0] != '\0')
		json_object_object_add(m, "filename",
		    json_object_new_string(j->media_filename));
	json_object_object_add(body, k, m);
}

/* WhatsApp's error code and message of an answer, or the HTTP status. */
static void
cloudapi_graph_error(const struct buf *resp, long status, char *code,
    size_t clen, char *msg, size_t mlen)
{
	struct json_object	*root = NULL, *err, *v;
	const char		*m = NULL;
	size_t			 n = 0;
	long			 ecode = 0;

	if (resp->len > 0 && jsonb_parse(resp->data, resp->len, &root) ==
	    JSONB_OK && jsonb_get_type(root, "error", json_type_object,
	    &err) == JSONB_GET_OK) {
		if (json_object_object_get_ex(err, "code", &v))
			ecode = json_object_get_int64(v);
		if (jsonb_get_str(err, "message", &m, &n) != JSONB_GET_OK)
			m = NULL;
	}
	if (ecode != 0)
		snprintf(code, clen, "%ld", ecode);
	else
		snprintf(code, clen, "http_%ld", status);
	if (m != NULL && n > 0)
		(void)utf8_clean(msg, mlen, m, n);
	else
		snprintf(msg, mlen, "the Cloud API answered %ld", status);
	json_object_put(root);
}

enum provider_media_rc
cloudapi_media_fetch(struct cloudapi *c, struct provider_fetch *f)
{
	struct http_get		 g;
	struct json_object	*root = NULL, *v;
	const char		*url = NULL, *s;
	char			 meta[1400], code[32], msg[200];
	size_t			 n, i;
	enum provider_media_rc	 rc = PROVIDER_MEDIA_RETRY;

	for (i = 0; f->wa_id[i] != '\0'; i++)
		if (!isalnum((unsigned char)f->wa_id[i]) &&
		    strchr("._-", f->wa_id[i]) == NULL) {
			snprintf(f->error, sizeof(f->error),
			    "the media id is not one WhatsApp gives");
			return PROVIDER_MEDIA_FAILED;
		}
	if (c->media_http == NULL)
		c->media_http = http_client_new(1, c->cfg->media_timeout_ms);
	snprintf(meta, sizeof(meta), "%s/%s", c->base, f->wa_id);
	http_get_init(&g);
	g.url = meta;
	g.bearer = c->cfg->cloudapi_token;
	g.max_bytes = 64 * 1024;
	http_get(c->media_http, &g);
	if (g.status == 0) {
		snprintf(f->error, sizeof(f->error), "media metadata: %.200s",
		    g.error);
		goto out;
	}
	if (g.status < 200 || g.status >= 300) {
		cloudapi_graph_error(&g.resp, g.status, code, sizeof(code), msg,
		    sizeof(msg));
		snprintf(f->error, sizeof(f->error), "media metadata: %.32s %.180s",
		    code, msg);
		goto out;
	}
	if (jsonb_parse(g.resp.data, g.resp.len, &root) != JSONB_OK ||
	    jsonb_get_str(root, "url", &url, &n) != JSONB_GET_OK ||
	    n == 0 || memchr(url, '\0', n) != NULL ||
	    (strncmp(url, "https://", 8) != 0 &&
	    strncmp(url, "http://", 7) != 0)) {
		snprintf(f->error, sizeof(f->error),
		    "media metadata without a usable url");
		goto out;
	}
	if (jsonb_get_str(root, "mime_type", &s, &n) == JSONB_GET_OK &&
	    n < sizeof(f->mime_type) && memchr(s, '\0', n) == NULL)
		snprintf(f->mime_type, sizeof(f->mime_type), "%s", s);
	if (jsonb_get_str(root, "sha256", &s, &n) == JSONB_GET_OK &&
	    n < sizeof(f->sha256) && memchr(s, '\0', n) == NULL)
		snprintf(f->sha256, sizeof(f->sha256), "%s", s);
	if (json_object_object_get_ex(root, "file_size", &v) &&
	    (json_object_is_type(v, json_type_int) ||
	    json_object_is_type(v, json_type_string)))
		f->size = json_object_get_int64(v);
	if (f->size > f->max_bytes) {
		snprintf(f->error, sizeof(f->error), "the file is %lld bytes, "
		    "over WADESK_MEDIA_MAX_BYTES (%ld)", f->size,
		    f->max_bytes);
		rc = PROVIDER_MEDIA_FAILED;
		goto out;
	}
	http_get_cleanup(&g);
	http_get_init(&g);
	g.url = url;
	g.bearer = c->cfg->cloudapi_token;
	g.max_bytes = f->max_bytes;
	g.on_data = f->on_data;
	g.arg = f->arg;
	http_get(c->media_http, &g);
	if (g.too_large) {
		snprintf(f->error, sizeof(f->error), "the file is over "
		    "WADESK_MEDIA_MAX_BYTES (%ld bytes)", f->max_bytes);
		rc = PROVIDER_MEDIA_FAILED;
		goto out;
	}
	if (g.status == 0) {
		snprintf(f->error, sizeof(f->error), "media download: %.200s",
		    g.error);
		goto out;
	}
	if (g.status < 200 || g.status >= 300) {
		snprintf(f->error, sizeof(f->error), "media download: HTTP %ld",
		    g.status);
		goto out;
	}
	if (f->mime_type[0] == '\0' && g.content_type[0] != '\0')
		snprintf(f->mime_type, sizeof(f->mime_type), "%s",
		    g.content_type);
	rc = PROVIDER_MEDIA_OK;
out:
	json_object_put(root);
	http_get_cleanup(&g);
	return rc;
}

enum provider_media_rc
cloudapi_media_upload(struct cloudapi *c, struct job *j, const void *data,
    size_t len, const char *mime, char *code, char *err)
{
	struct http_upload	 u;
	struct json_object	*root = NULL;
	const char		*fields[5], *id;
	char			 url[1100];
	size_t			 n;
	enum provider_media_rc	 rc = PROVIDER_MEDIA_RETRY;

	if (c->media_http == NULL)
		c->media_http = http_client_new(1, c->cfg->media_timeout_ms);
	snprintf(url, sizeof(url), "%s/%s/media", c->base,
	    c->cfg->phone_number_id);
	fields[0] = "messaging_product";
	fields[1] = "whatsapp";
	fields[2] = "type";
	fields[3] = mime;
	fields[4] = NULL;
	http_upload_init(&u);
	u.url = url;
	u.bearer = c->cfg->cloudapi_token;
	u.fields = fields;
	u.file_field = "file";
	u.data = data;
	u.len = len;
	u.type = mime;
	u.filename = j->media_filename[0] != '\0' ? j->media_filename :
	    "file";
	http_upload(c->media_http, &u);
	if (u.status == 0) {
		snprintf(code, 32, "network");
		(void)utf8_clean(err, 256, u.error, strlen(u.error));
		goto out;
	}
	if (u.status < 200 || u.status >= 300) {
		cloudapi_graph_error(&u.resp, u.status, code, 32, err, 256);
		if (u.status != 429 && u.status < 500 &&
		    !cloudapi_transient(strtol(code, NULL, 10)))
			rc = PROVIDER_MEDIA_FAILED;
		goto out;
	}
	if (jsonb_parse(u.resp.data, u.resp.len, &root) != JSONB_OK ||
	    jsonb_get_str(root, "id", &id, &n) != JSONB_GET_OK || n == 0 ||
	    n >= sizeof(j->media_wa_id) || memchr(id, '\0', n) != NULL) {
		snprintf(code, 32, "invalid_response");
		snprintf(err, 256, "the Cloud API accepted the upload but "
		    "returned no media id");
		rc = PROVIDER_MEDIA_FAILED;
		goto out;
	}
	memcpy(j->media_wa_id, id, n);
	j->media_wa_id[n] = '\0';
	rc = PROVIDER_MEDIA_OK;
out:
	json_object_put(root);
	http_upload_cleanup(&u);
	return rc;
}
