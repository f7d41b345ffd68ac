#include <stdio.h>
#include <string.h>
#include <json-c/json.h>

#include "buf.h"
#include "http.h"
#include "jsonb.h"
#include "model_template.h"
#include "stmts.h"
#include "template_sync.h"

#define SYNC_PAGE_LIMIT		100	/* templates per page asked for */
#define SYNC_PAGES_MAX		200	/* a WABA has at most a few thousand */
#define SYNC_PAGE_BYTES		(8L * 1024 * 1024)
#define SYNC_CURSOR_MAX		512

static int	sync_page(struct http_client *, const struct settings *,
		    const char *, struct db *, char *, char *, size_t);
static int	sync_cloud(struct db *, const struct settings *, char *,
		    size_t);

/*
 * One page of GET /{WABA id}/message_templates after cursor (""
 * for the first) into the table; the next page's cursor into next ("":
 * none).  The number of templates, or -1 with why in err.
 */
static int
sync_page(struct http_client *http, const struct settings *s,
    const char *cursor, struct db *db, char *next, char *err, size_t errsz)
{
	struct http_get		 g;
	struct json_object	*root = NULL, *paging, *v;
	struct buf		 url;
	const char		*after, *msg;
	size_t			 n, len;
	int			 count = -1;

	next[0] = '\0';
	buf_init(&url);
	n = strlen(s->cloudapi_base_url);
	while (n > 0 && s->cloudapi_base_url[n - 1] == '/')
		n--;
	buf_printf(&url, "%.*s/%s/%s/message_templates?limit=%d", (int)n,
	    s->cloudapi_base_url, s->cloudapi_version, s->waba_id,
	    SYNC_PAGE_LIMIT);
	if (*cursor != '\0') {
		buf_puts(&url, "&after=");
		/* A cursor is base64url-ish; anything else is escaped. */
		for (; *cursor != '\0'; cursor++)
			if (strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopq"
			    "rstuvwxyz0123456789-_.~", *cursor) != NULL)
				buf_putc(&url, *cursor);
			else
				buf_printf(&url, "%%%02X",
				    (unsigned char)*cursor);
	}
	buf_putc(&url, '\0');
	http_get_init(&g);
	g.url = url.data;
	g.bearer = s->cloudapi_token;
	g.max_bytes = SYNC_PAGE_BYTES;
	http_get(http, &g);
	if (g.status == 0) {
		snprintf(err, errsz, "the Cloud API could not be reached: %s",
		    g.error);
		goto out;
	}
	if (g.too_large) {
		snprintf(err, errsz, "a page of templates over %ld bytes",
		    SYNC_PAGE_BYTES);
		goto out;
	}
	if (g.status < 200 || g.status > 299) {
		msg = NULL;
		if (jsonb_parse(g.resp.data, g.resp.len, &root) == JSONB_OK &&
		    jsonb_get_type(root, "error", json_type_object, &v) ==
		    JSONB_GET_OK && jsonb_get_str(v, "message", &msg, &len) !=
		    JSONB_GET_OK)
			msg = NULL;
		snprintf(err, errsz, "the Cloud API answered %ld: %s",
		    g.status, msg != NULL ? msg : "(no message)");
		goto out;
	}
	if ((count = model_template_load_page(db, g.resp.data, g.resp.len,
	    err, errsz)) == -1)
		goto out;
	/* A next page only when WhatsApp says there is one. */
	if (jsonb_parse(g.resp.data, g.resp.len, &root) == JSONB_OK &&
	    jsonb_get_type(root, "paging", json_type_object, &paging) ==
	    JSONB_GET_OK && json_object_object_get_ex(paging, "next", &v) &&
	    json_object_is_type(v, json_type_string) &&
	    jsonb_get_type(paging, "cursors", json_type_object, &v) ==
	    JSONB_GET_OK && jsonb_get_str(v, "after", &after, &len) ==
	    JSONB_GET_OK && len > 0 && len < SYNC_CURSOR_MAX)
		snprintf(next, SYNC_CURSOR_MAX, "%s", after);
out:
	json_object_put(root);
	http_get_cleanup(&g);
	buf_cleanup(&url);
	return count;
}

/* Every page, in one transaction; the templates not listed are dropped. */
static int
sync_cloud(struct db *db, const struct settings *s, char *err, size_t errsz)
{
	struct http_client	*http;
	PGresult		*res = NULL;
	char			 cursor[SYNC_CURSOR_MAX], next[SYNC_CURSOR_MAX];
	int			 n, total = 0, pages;

	if (s->waba_id == NULL) {
		snprintf(err, errsz, "WADESK_WABA_ID is not set (the WhatsApp "
		    "Business Account whose templates to load)");
		return -1;
	}
	if (db_begin(db) != DB_OK) {
		snprintf(err, errsz, "no database");
		return -1;
	}
	http = http_client_new(1, s->cloudapi_timeout_ms);
	cursor[0] = '\0';
	for (pages = 0; pages < SYNC_PAGES_MAX; pages++) {
		if ((n = sync_page(http, s, cursor, db, next, err, errsz)) ==
		    -1)
			goto fail;
		total += n;
		if (next[0] == '\0' || strcmp(next, cursor) == 0)
			break;
		memcpy(cursor, next, sizeof(cursor));
	}
	if (db_exec(db, STMT_TEMPLATE_PRUNE, 0, NULL, &res) != DB_OK ||
	    db_commit(db) != DB_OK) {
		snprintf(err, errsz, "the database refused the sync");
		goto fail;
	}
	db_res_free(res);
	http_client_free(http);
	return total;
fail:
	db_rollback(db);
	db_res_free(res);
	http_client_free(http);
	return -1;
}

int
template_sync(struct db *db, const struct settings *s, char *err,
    size_t errsz)
{
	if (s->provider == PROVIDER_SIMULATED)
		return model_template_sync_catalog(db, err, errsz);
	return sync_cloud(db, s, err, errsz);
}
