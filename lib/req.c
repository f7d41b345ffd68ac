#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "req.h"

static const char	*req_param_or(const struct req *, const char *,
			    const char *);

static const char *
req_param_or(const struct req *r, const char *name, const char *def)
{
	const char	*v;

	v = FCGX_GetParam(name, r->fcgx->envp);
	return v != NULL ? v : def;
}

void
req_init(struct req *r, FCGX_Request *fcgx, struct arena *arena)
{
	r->fcgx = fcgx;
	r->arena = arena;
	clock_gettime(CLOCK_MONOTONIC, &r->start);
	r->method = req_param_or(r, "REQUEST_METHOD", "GET");
	r->path = req_param_or(r, "DOCUMENT_URI", "/");
	r->query = req_param_or(r, "QUERY_STRING", "");
	r->request_id = req_param_or(r, "REQUEST_ID", "");
	r->remote = req_param_or(r, "REMOTE_ADDR", "");
	r->body = NULL;
	r->body_len = 0;
	r->status = 0;
	buf_init(&r->hdrs);
}

void
req_cleanup(struct req *r)
{
	buf_cleanup(&r->hdrs);
}

const char *
req_param(const struct req *r, const char *name)
{
	return FCGX_GetParam(name, r->fcgx->envp);
}

enum req_body
req_read_body(struct req *r, size_t max)
{
	const char	*cl;
	char		*end;
	unsigned long	 want;
	size_t		 got = 0;
	int		 n;

	if (r->body != NULL)
		return REQ_BODY_OK;
	cl = req_param(r, "CONTENT_LENGTH");
	want = 0;
	if (cl != NULL && *cl != '\0') {
		want = strtoul(cl, &end, 10);
		if (*end != '\0')
			return REQ_BODY_SHORT;
		if (want > max)
			return REQ_BODY_TOO_LARGE;
	}
	r->body = arena_alloc(r->arena, want + 1);
	while (got < want) {
		n = FCGX_GetStr(r->body + got, (int)(want - got), r->fcgx->in);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	r->body[got] = '\0';
	r->body_len = got;
	return got == want ? REQ_BODY_OK : REQ_BODY_SHORT;
}

int
req_content_type_is(const struct req *r, const char *type)
{
	const char	*ct;
	size_t		 n = strlen(type);

	ct = req_param(r, "CONTENT_TYPE");
	if (ct == NULL || strncasecmp(ct, type, n) != 0)
		return 0;
	return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

void
req_header(struct req *r, const char *name, const char *value)
{
	if (strpbrk(value, "\r\n") != NULL) {
		log_kv(LOG_WARN, "header dropped", "name", name, NULL);
		return;
	}
	buf_printf(&r->hdrs, "%s: %s\r\n", name, value);
}

const char *
req_status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 302: return "Found";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "Unknown";
	}
}

void
req_send(struct req *r, int status, const char *ctype, const char *body,
    size_t len)
{
	struct buf	head;

	if (r->status != 0) {
		log_kv(LOG_ERROR, "second response suppressed", NULL);
		return;
	}
	r->status = status;
	/* libfcgi's own printf knows no %zu: format here, write raw. */
	buf_init(&head);
	buf_printf(&head, "Status: %d %s\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\n%s\r\n", status,
	    req_status_text(status), ctype, len, r->hdrs.data);
	FCGX_PutStr(head.data, (int)head.len, r->fcgx->out);
	if (len > 0)
		FCGX_PutStr(body, (int)len, r->fcgx->out);
	buf_cleanup(&head);
}

void
req_send_head(struct req *r, int status, const char *ctype, size_t len)
{
	struct buf	head;

	if (r->status != 0) {
		log_kv(LOG_ERROR, "second response suppressed", NULL);
		return;
	}
	r->status = status;
	buf_init(&head);
	buf_printf(&head, "Status: %d %s\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\n%s\r\n", status,
	    req_status_text(status), ctype, len, r->hdrs.data);
	FCGX_PutStr(head.data, (int)head.len, r->fcgx->out);
	buf_cleanup(&head);
}

int
req_write(struct req *r, const void *p, size_t len)
{
	const char	*c = p;
	int		 n;

	while (len > 0) {
		n = len > 65536 ? 65536 : (int)len;
		if (FCGX_PutStr(c, n, r->fcgx->out) != n)
			return -1;
		c += n;
		len -= (size_t)n;
	}
	return FCGX_GetError(r->fcgx->out) == 0 ? 0 : -1;
}

void
req_json(struct req *r, int status, struct json_object *obj)
{
	const char	*s;
	size_t		 len;

	s = json_object_to_json_string_length(obj, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	req_send(r, status, "application/json", s, len);
}

void
req_error(struct req *r, int status, const char *code, const char *message,
    const char *field)
{
	struct json_object	*root, *err;

	root = json_object_new_object();
	err = json_object_new_object();
	json_object_object_add(err, "code", json_object_new_string(code));
	json_object_object_add(err, "message",
	    json_object_new_string(message));
	if (field != NULL)
		json_object_object_add(err, "field",
		    json_object_new_string(field));
	json_object_object_add(root, "error", err);
	req_json(r, status, root);
	json_object_put(root);
}

double
req_elapsed_ms(const struct req *r)
{
	struct timespec	now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - r->start.tv_sec) * 1e3 +
	    (double)(now.tv_nsec - r->start.tv_nsec) / 1e6;
}
