#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <curl/curl.h>

#include "http.h"
#include "mem.h"

struct http_client {
	CURLM		 *multi;
	CURL		**easy;
	size_t		  slots;
	long		  timeout_ms;
};

static size_t	http_on_body(char *, size_t, size_t, void *);
static size_t	http_on_header(char *, size_t, size_t, void *);
static void	http_start(struct http_client *, size_t, struct http_req *,
		    struct curl_slist *);

static size_t
http_on_body(char *p, size_t size, size_t n, void *arg)
{
	struct http_req	*r = arg;

	/* Provider answers are small; cap what we keep. */
	if (r->resp.len < 256 * 1024)
		buf_append(&r->resp, p, size * n);
	return size * n;
}

static size_t
http_on_header(char *p, size_t size, size_t n, void *arg)
{
	struct http_req	*r = arg;
	size_t		 len = size * n;
	char		 v[32];
	size_t		 k;

	if (len > 12 && strncasecmp(p, "Retry-After:", 12) == 0) {
		k = len - 12 < sizeof(v) - 1 ? len - 12 : sizeof(v) - 1;
		memcpy(v, p + 12, k);
		v[k] = '\0';
		/* Seconds only (an HTTP date counts as absent), at most a day. */
		r->retry_after_s = strtol(v, NULL, 10);
		if (r->retry_after_s < 0)
			r->retry_after_s = -1;
		else if (r->retry_after_s > HTTP_RETRY_AFTER_MAX)
			r->retry_after_s = HTTP_RETRY_AFTER_MAX;
	}
	return len;
}

struct http_client *
http_client_new(size_t slots, long timeout_ms)
{
	struct http_client	*c;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	c = mem_calloc(1, sizeof(*c));
	c->multi = curl_multi_init();
	c->slots = slots;
	c->timeout_ms = timeout_ms;
	c->easy = mem_calloc(slots, sizeof(*c->easy));
	curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, (long)slots);
	return c;
}

void
http_client_free(struct http_client *c)
{
	size_t	i;

	if (c == NULL)
		return;
	for (i = 0; i < c->slots; i++)
		if (c->easy[i] != NULL)
			curl_easy_cleanup(c->easy[i]);
	curl_multi_cleanup(c->multi);
	mem_free(c->easy);
	mem_free(c);
	curl_global_cleanup();
}

void
http_req_init(struct http_req *r)
{
	memset(r, 0, sizeof(*r));
	r->retry_after_s = -1;
	buf_init(&r->resp);
}

void
http_req_cleanup(struct http_req *r)
{
	buf_cleanup(&r->resp);
}

static void
http_start(struct http_client *c, size_t slot, struct http_req *r,
    struct curl_slist *hdrs)
{
	CURL	*e;

	if (c->easy[slot] == NULL)
		c->easy[slot] = curl_easy_init();
	e = c->easy[slot];
	curl_easy_reset(e);
	curl_easy_setopt(e, CURLOPT_URL, r->url);
	curl_easy_setopt(e, CURLOPT_POST, 1L);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)r->body_len);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, c->timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, c->timeout_ms);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, http_on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, http_on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->error);
	curl_easy_setopt(e, CURLOPT_PRIVATE, r);
	r->error[0] = '\0';
	curl_multi_add_handle(c->multi, e);
}

void
http_post_all(struct http_client *c, struct http_req *reqs, size_t n)
{
	struct curl_slist	**hdrs;
	struct http_req		 *r;
	CURLMsg			 *msg;
	CURL			 *e;
	char			  auth[1024];
	size_t			  next = 0, i, slot;
	int			  running = 0, left;
	size_t			 *busy;	/* request index per slot, or n */

	hdrs = mem_calloc(n ? n : 1, sizeof(*hdrs));
	busy = mem_calloc(c->slots, sizeof(*busy));
	for (i = 0; i < c->slots; i++)
		busy[i] = n;
	for (i = 0; i < n; i++) {
		hdrs[i] = curl_slist_append(NULL,
		    "Content-Type: application/json");
		hdrs[i] = curl_slist_append(hdrs[i], "Expect:");
		if (reqs[i].bearer != NULL) {
			snprintf(auth, sizeof(auth), "Authorization: Bearer %s",
			    reqs[i].bearer);
			hdrs[i] = curl_slist_append(hdrs[i], auth);
		}
	}
	for (;;) {
		for (slot = 0; slot < c->slots && next < n; slot++) {
			if (busy[slot] != n)
				continue;
			busy[slot] = next;
			http_start(c, slot, &reqs[next], hdrs[next]);
			next++;
			running++;
		}
		if (running == 0)
			break;
		curl_multi_perform(c->multi, &left);
		while ((msg = curl_multi_info_read(c->multi, &left)) != NULL) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			e = msg->easy_handle;
			curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&r);
			if (msg->data.result == CURLE_OK)
				curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE,
				    &r->status);
			else {
				r->status = 0;
				if (r->error[0] == '\0')
					snprintf(r->error, sizeof(r->error),
					    "%s",
					    curl_easy_strerror(msg->data.result));
			}
			curl_multi_remove_handle(c->multi, e);
			for (slot = 0; slot < c->slots; slot++)
				if (c->easy[slot] == e)
					busy[slot] = n;
			running--;
		}
		if (running > 0)
			curl_multi_poll(c->multi, NULL, 0, 100, NULL);
	}
	for (i = 0; i < n; i++)
		curl_slist_free_all(hdrs[i]);
	mem_free(hdrs);
	mem_free(busy);
}
