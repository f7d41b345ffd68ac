#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "crypto.h"
#include "jsonb.h"
#include "log.h"
#include "model_media.h"
#include "query.h"
#include "stmts.h"
#include "utf8.h"
#include "valid.h"

/* What WhatsApp takes (WHATSAPP.md "Media"), and the message type. */
static const struct {
	const char	*type;
	const char	*kind;
} media_send[] = {
	{ "image/jpeg", "image" },
	{ "image/png", "image" },
	{ "image/webp", "sticker" },
	{ "audio/aac", "audio" },
	{ "audio/amr", "audio" },
	{ "audio/mpeg", "audio" },
	{ "audio/mp4", "audio" },
	{ "audio/ogg", "audio" },
	{ "video/mp4", "video" },
	{ "video/3gpp", "video" },
	{ "text/plain", "document" },
	{ "application/pdf", "document" },
	{ "application/msword", "document" },
	{ "application/vnd.ms-excel", "document" },
	{ "application/vnd.ms-powerpoint", "document" },
	{ "application/vnd.openxmlformats-officedocument.wordprocessingml."
	    "document", "document" },
	{ "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	    "document" },
	{ "application/vnd.openxmlformats-officedocument.presentationml."
	    "presentation", "document" },
};

/*
 * The types served as themselves: none of them runs script in a browser
 * (no HTML, SVG, XML, JavaScript).  Everything else is a download.
 */
static const char *const media_safe[] = {
	"image/jpeg", "image/png", "image/webp", "image/gif",
	"audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg",
	"video/mp4", "video/3gpp", "application/pdf", "text/plain",
};

static const char *const media_inline_types[] = {
	"image/jpeg", "image/png", "image/webp", "image/gif",
};

static int	media_in(const char *, const char *const *, size_t);
static int	media_etag_match(const char *, const char *);
static void	media_disposition(struct buf *, long long, const char *,
		    const char *, int);
static const char *media_ext(const char *);

static int
media_in(const char *type, const char *const *list, size_t n)
{
	char	t[MEDIA_TYPE_MAX + 1];
	size_t	i;

	if (type == NULL || media_type_norm(type, t, sizeof(t)) == -1)
		return 0;
	for (i = 0; i < n; i++)
		if (strcmp(t, list[i]) == 0)
			return 1;
	return 0;
}

int
media_type_norm(const char *in, char *out, size_t len)
{
	size_t	i, n, slash = 0;

	while (*in == ' ' || *in == '\t')
		in++;
	n = strcspn(in, "; \t");
	if (n == 0 || n > MEDIA_TYPE_MAX || n >= len)
		return -1;
	for (i = 0; i < n; i++) {
		if (in[i] == '/') {
			if (slash++ > 0 || i == 0 || i == n - 1)
				return -1;
		} else if (!isalnum((unsigned char)in[i]) &&
		    strchr("!#$&^_.+-", in[i]) == NULL)
			return -1;
		out[i] = (char)tolower((unsigned char)in[i]);
	}
	out[n] = '\0';
	return slash == 1 ? 0 : -1;
}

const char *
media_send_kind(const char *type)
{
	char	t[MEDIA_TYPE_MAX + 1];
	size_t	i;

	if (type == NULL || media_type_norm(type, t, sizeof(t)) == -1)
		return NULL;
	for (i = 0; i < sizeof(media_send) / sizeof(media_send[0]); i++)
		if (strcmp(t, media_send[i].type) == 0)
			return media_send[i].kind;
	return NULL;
}

const char *
media_send_types(void)
{
	return "image/jpeg image/png image/webp audio/aac audio/amr "
	    "audio/mpeg audio/mp4 audio/ogg video/mp4 video/3gpp text/plain "
	    "application/pdf and the Word, Excel and PowerPoint types";
}

const char *
media_serve_type(const char *type)
{
	size_t	i;
	char	t[MEDIA_TYPE_MAX + 1];

	if (type == NULL || media_type_norm(type, t, sizeof(t)) == -1)
		return "application/octet-stream";
	for (i = 0; i < sizeof(media_safe) / sizeof(media_safe[0]); i++)
		if (strcmp(t, media_safe[i]) == 0)
			return media_safe[i];
	return "application/octet-stream";
}

int
media_inline(const char *type)
{
	return media_in(type, media_inline_types,
	    sizeof(media_inline_types) / sizeof(media_inline_types[0]));
}

int
media_filename_clean(const char *in, char *out, size_t len)
{
	const char	*p, *base = in;
	size_t		 n, chars;

	for (p = in; *p != '\0'; p++)
		if (*p == '/' || *p == '\\')
			base = p + 1;
	n = strlen(base);
	if (n == 0 || n > MEDIA_FILENAME_MAX || n >= len ||
	    strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
		return -1;
	if (valid_utf8(base, n, &chars) == -1)
		return -1;
	for (p = base; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return -1;
	memcpy(out, base, n + 1);
	return 0;
}

enum db_rc
media_store(struct db *db, const char *type, const char *filename,
    const void *data, size_t len, PGresult **res)
{
	PGresult	*r = NULL;
	const char	*p[4];
	int		 lens[3], fmts[3];
	char		 size[24], sha[CRYPTO_SHA256_HEX], id[24], seq[16];
	size_t		 off, n;
	enum db_rc	 rc;
	int		 k;

	*res = NULL;
	snprintf(size, sizeof(size), "%zu", len);
	crypto_sha256_hex(data, len, sha);
	p[0] = type;
	p[1] = size;
	p[2] = sha;
	p[3] = filename;
	if ((rc = db_begin(db)) != DB_OK)
		return rc;
	if ((rc = db_exec(db, STMT_MEDIA_UPLOAD, 4, p, res)) != DB_OK)
		goto fail;
	snprintf(id, sizeof(id), "%s", PQgetvalue(*res, 0, 0));
	fmts[0] = fmts[1] = 0;
	fmts[2] = 1;
	lens[0] = lens[1] = 0;
	for (off = 0, k = 0; off < len; off += n, k++) {
		n = len - off < MEDIA_CHUNK ? len - off : MEDIA_CHUNK;
		snprintf(seq, sizeof(seq), "%d", k);
		p[0] = id;
		p[1] = seq;
		p[2] = (const char *)data + off;
		lens[2] = (int)n;
		if ((rc = db_exec_bin(db, STMT_MEDIA_CHUNK_PUT, 3, p, lens,
		    fmts, 0, &r)) != DB_OK)
			goto fail;
		db_res_free(r);
		r = NULL;
	}
	if ((rc = db_commit(db)) == DB_OK)
		return DB_OK;
fail:
	db_rollback(db);
	db_res_free(*res);
	*res = NULL;
	return rc;
}

int
media_for_send(struct db *db, struct message_input *in, const char **field,
    const char **msg, enum db_rc *rc)
{
	PGresult	*res = NULL;
	const char	*p[1], *kind = NULL;
	int		 ret = 1;

	p[0] = in->media_id;
	if ((*rc = db_exec(db, STMT_MEDIA_GET, 1, p, &res)) != DB_OK)
		return -1;
	*field = "media.id";
	if (PQntuples(res) != 1 || strcmp(PQgetvalue(res, 0,
	    MEDIA_COL_DIRECTION), "outbound") != 0 || strcmp(PQgetvalue(res,
	    0, MEDIA_COL_STATUS), "stored") != 0 ||
	    (kind = media_send_kind(PQgetvalue(res, 0, MEDIA_COL_MIME))) ==
	    NULL)
		*msg = "media.id must be the id of a file uploaded with POST "
		    "/api/media/";
	else if (in->content != NULL && in->content[0] != '\0' &&
	    (strcmp(kind, "audio") == 0 || strcmp(kind, "sticker") == 0)) {
		*field = "content";
		*msg = "an audio file or a sticker takes no caption: leave "
		    "content out";
	} else {
		/* kind is one of media_send's static strings. */
		in->media_type = kind;
		ret = 0;
	}
	db_res_free(res);
	return ret;
}

struct json_object *
media_upload_json(const PGresult *res)
{
	struct json_object	*o;
	const char		*fn;

	o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_int64(
	    strtoll(PQgetvalue(res, 0, 0), NULL, 10)));
	json_object_object_add(o, "mime_type",
	    json_object_new_string(PQgetvalue(res, 0, 1)));
	json_object_object_add(o, "size", json_object_new_int64(
	    strtoll(PQgetvalue(res, 0, 2), NULL, 10)));
	json_object_object_add(o, "sha256",
	    json_object_new_string(PQgetvalue(res, 0, 3)));
	fn = db_get(res, 0, 4);
	json_object_object_add(o, "filename", fn != NULL ?
	    json_object_new_string(fn) : NULL);
	return o;
}

enum db_rc
media_inbound(struct db *db, const char *msg_id, const char *type,
    struct json_object *item)
{
	struct json_object	*obj;
	PGresult		*res = NULL;
	const char		*p[5], *v;
	char			 mime[MEDIA_TYPE_MAX + 1];
	char			 fname[MEDIA_FILENAME_MAX + 1];
	size_t			 len;
	enum db_rc		 rc;

	if (strcmp(type, "image") != 0 && strcmp(type, "audio") != 0 &&
	    strcmp(type, "video") != 0 && strcmp(type, "document") != 0 &&
	    strcmp(type, "sticker") != 0)
		return DB_OK;
	if (jsonb_get_type(item, type, json_type_object, &obj) !=
	    JSONB_GET_OK || jsonb_get_str(obj, "id", &v, &len) !=
	    JSONB_GET_OK || len == 0 || len > 256 ||
	    memchr(v, '\0', len) != NULL)
		return DB_OK;
	p[0] = msg_id;
	p[1] = v;
	p[2] = NULL;
	p[3] = NULL;
	p[4] = NULL;
	if (jsonb_get_str(obj, "mime_type", &v, &len) == JSONB_GET_OK &&
	    media_type_norm(v, mime, sizeof(mime)) == 0)
		p[2] = mime;
	if (jsonb_get_str(obj, "sha256", &v, &len) == JSONB_GET_OK &&
	    len > 0 && len <= 128 && memchr(v, '\0', len) == NULL)
		p[3] = v;
	if (jsonb_get_str(obj, "filename", &v, &len) == JSONB_GET_OK &&
	    memchr(v, '\0', len) == NULL &&
	    media_filename_clean(v, fname, sizeof(fname)) == 0)
		p[4] = fname;
	rc = db_exec(db, STMT_MEDIA_INBOUND, 5, p, &res);
	db_res_free(res);
	return rc;
}

/* 1 when If-None-Match (a list of entity tags, or "*") names etag. */
static int
media_etag_match(const char *inm, const char *etag)
{
	const char	*p = inm;
	size_t		 n, elen = strlen(etag);

	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '*')
			return 1;
		if (strncmp(p, "W/", 2) == 0)
			p += 2;
		n = strcspn(p, ",");
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n == elen && memcmp(p, etag, n) == 0)
			return 1;
		p += strcspn(p, ",");
	}
	return 0;
}

static const char *
media_ext(const char *type)
{
	static const char *const exts[][2] = {
		{ "image/jpeg", "jpg" }, { "image/png", "png" },
		{ "image/webp", "webp" }, { "image/gif", "gif" },
		{ "audio/ogg", "ogg" }, { "audio/mpeg", "mp3" },
		{ "audio/mp4", "m4a" }, { "audio/aac", "aac" },
		{ "audio/amr", "amr" }, { "video/mp4", "mp4" },
		{ "video/3gpp", "3gp" }, { "application/pdf", "pdf" },
		{ "text/plain", "txt" },
	};
	char	t[MEDIA_TYPE_MAX + 1];
	size_t	i;

	if (type != NULL && media_type_norm(type, t, sizeof(t)) == 0)
		for (i = 0; i < sizeof(exts) / sizeof(exts[0]); i++)
			if (strcmp(t, exts[i][0]) == 0)
				return exts[i][1];
	return "bin";
}

/*
 * Content-Disposition: inline or attachment, an ASCII filename (anything
 * but letters, digits, '.', '-' and '_' becomes '_') and, when the name
 * has more, filename* with the UTF-8 name percent-encoded (RFC 6266).
 */
static void
media_disposition(struct buf *b, long long id, const char *filename,
    const char *type, int inl)
{
	const char	*p;
	int		 plain = 1;

	buf_puts(b, inl ? "inline" : "attachment");
	if (filename == NULL || *filename == '\0') {
		buf_printf(b, "; filename=\"media-%lld.%s\"", id,
		    media_ext(type));
		return;
	}
	buf_puts(b, "; filename=\"");
	for (p = filename; *p != '\0'; p++) {
		if (isalnum((unsigned char)*p) || *p == '.' || *p == '-' ||
		    *p == '_')
			buf_putc(b, *p);
		else {
			/* One '_' per character, not per byte. */
			if (((unsigned char)*p & 0xc0) != 0x80)
				buf_putc(b, '_');
			plain = 0;
		}
	}
	buf_putc(b, '"');
	if (!plain) {
		buf_puts(b, "; filename*=UTF-8''");
		query_encode(b, filename);
	}
}

void
media_serve(struct app *a)
{
	PGresult	*res = NULL, *chunk = NULL;
	const char	*p[2], *status, *type, *sha, *inm;
	char		 etag[CRYPTO_SHA256_HEX + 2], seq[16];
	struct buf	 cd;
	long long	 id, size, sent = 0;
	int		 k, fmt[2] = { 0, 0 }, head, inl;
	enum db_rc	 rc;

	buf_init(&cd);
	p[0] = a->args[0];
	if ((rc = db_exec(a->db, STMT_MEDIA_GET, 1, p, &res)) != DB_OK) {
		app_db_error(a, rc);
		goto out;
	}
	if (PQntuples(res) != 1) {
		app_fail(a, APP_FAIL_NOT_FOUND, "no such media");
		goto out;
	}
	status = PQgetvalue(res, 0, MEDIA_COL_STATUS);
	if (strcmp(status, "stored") != 0) {
		app_fail(a, APP_FAIL_NOT_FOUND, strcmp(status, "pending") == 0 ?
		    "this media has not been fetched yet" :
		    "this media could not be fetched or was removed");
		goto out;
	}
	id = strtoll(PQgetvalue(res, 0, MEDIA_COL_ID), NULL, 10);
	size = strtoll(PQgetvalue(res, 0, MEDIA_COL_SIZE), NULL, 10);
	type = media_serve_type(PQgetvalue(res, 0, MEDIA_COL_MIME));
	sha = PQgetvalue(res, 0, MEDIA_COL_SHA256);
	snprintf(etag, sizeof(etag), "\"%s\"", sha);
	inl = media_inline(type);
	media_disposition(&cd, id, db_get(res, 0, MEDIA_COL_FILENAME), type,
	    inl);
	/* Whatever the type, never a document of this origin. */
	req_header(a->req, "Content-Security-Policy",
	    "sandbox; default-src 'none'");
	req_header(a->req, "ETag", etag);
	req_header(a->req, "Cache-Control", "private, max-age=86400");
	if ((inm = req_param(a->req, "HTTP_IF_NONE_MATCH")) != NULL &&
	    media_etag_match(inm, etag)) {
		req_send(a->req, 304, type, NULL, 0);
		goto out;
	}
	req_header(a->req, "Content-Disposition", cd.data);
	head = strcmp(a->req->method, "HEAD") == 0;
	/* The first chunk before the headers: a failure is still a 503. */
	snprintf(seq, sizeof(seq), "0");
	p[1] = seq;
	if (size > 0 && !head && (rc = db_exec_bin(a->db, STMT_MEDIA_CHUNK_GET,
	    2, p, NULL, fmt, 1, &chunk)) != DB_OK) {
		app_db_error(a, rc);
		goto out;
	}
	req_send_head(a->req, 200, type, (size_t)size);
	if (head)
		goto out;
	for (k = 0; sent < size; k++) {
		if (chunk == NULL) {
			snprintf(seq, sizeof(seq), "%d", k);
			if ((rc = db_exec_bin(a->db, STMT_MEDIA_CHUNK_GET, 2, p,
			    NULL, fmt, 1, &chunk)) != DB_OK)
				break;
		}
		if (PQntuples(chunk) != 1 || PQgetlength(chunk, 0, 0) == 0 ||
		    sent + PQgetlength(chunk, 0, 0) > size) {
			log_kv(LOG_ERROR, "media chunk missing or too long",
			    "media", a->args[0], "chunk", seq, NULL);
			break;
		}
		if (req_write(a->req, PQgetvalue(chunk, 0, 0),
		    (size_t)PQgetlength(chunk, 0, 0)) == -1)
			break;
		sent += PQgetlength(chunk, 0, 0);
		db_res_free(chunk);
		chunk = NULL;
	}
	if (sent < size)
		log_kv(LOG_WARN, "media answer cut short", "media",
		    a->args[0], NULL);
out:
	db_res_free(chunk);
	db_res_free(res);
	buf_cleanup(&cd);
}
