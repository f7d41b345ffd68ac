#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sodium.h>

#include "buf.h"
#include "dispatch.h"
#include "log.h"
#include "media_fetch.h"
#include "model_media.h"
#include "stmts.h"
#include "utf8.h"

/* One fetch on its way into media_chunks. */
struct fetch_ctx {
	struct db			*db;
	const char			*id;
	int				 seq;
	struct buf			 chunk;
	crypto_hash_sha256_state	 sha;
	long long			 size;
	int				 failed;	/* the database refused */
};

static int	fetch_flush(struct fetch_ctx *);
static int	fetch_on_data(void *, const char *, size_t);
static int	fetch_sha_ok(const char *, const unsigned char *);
static void	fetch_one(struct db *, struct provider *,
		    const struct settings *, const PGresult *, int);
static void	fetch_record(struct db *, const char *, const char *,
		    const char *);
static int	send_prepare_one(struct db *, struct provider *, struct job *);

static int
fetch_flush(struct fetch_ctx *f)
{
	PGresult	*res = NULL;
	const char	*p[3];
	int		 lens[3] = { 0, 0, 0 }, fmts[3] = { 0, 0, 1 };
	char		 seq[16];

	if (f->chunk.len == 0)
		return 0;
	snprintf(seq, sizeof(seq), "%d", f->seq);
	p[0] = f->id;
	p[1] = seq;
	p[2] = f->chunk.data;
	lens[2] = (int)f->chunk.len;
	if (db_exec_bin(f->db, STMT_MEDIA_CHUNK_PUT, 3, p, lens, fmts, 0,
	    &res) != DB_OK) {
		f->failed = 1;
		return -1;
	}
	db_res_free(res);
	f->seq++;
	buf_reset(&f->chunk);
	return 0;
}

static int
fetch_on_data(void *arg, const char *p, size_t n)
{
	struct fetch_ctx	*f = arg;
	size_t			 k;

	crypto_hash_sha256_update(&f->sha, (const unsigned char *)p, n);
	f->size += (long long)n;
	while (n > 0) {
		k = MEDIA_CHUNK - f->chunk.len;
		if (k > n)
			k = n;
		buf_append(&f->chunk, p, k);
		p += k;
		n -= k;
		if (f->chunk.len == MEDIA_CHUNK && fetch_flush(f) == -1)
			return -1;
	}
	return 0;
}

/*
 * 1 when the stated sha256 (hex, or base64 as some webhooks carry it)
 * is the digest.
 */
static int
fetch_sha_ok(const char *stated, const unsigned char *digest)
{
	unsigned char	bin[crypto_hash_sha256_BYTES];
	char		hex[crypto_hash_sha256_BYTES * 2 + 1];
	size_t		n;

	sodium_bin2hex(hex, sizeof(hex), digest, crypto_hash_sha256_BYTES);
	if (strlen(stated) == 64)
		return strcasecmp(stated, hex) == 0;
	if (sodium_base642bin(bin, sizeof(bin), stated, strlen(stated), NULL,
	    &n, NULL, sodium_base64_VARIANT_ORIGINAL) == 0 &&
	    n == sizeof(bin))
		return memcmp(bin, digest, n) == 0;
	return 0;
}

/* A failed attempt: tried again after delay ms (NULL: failed for good). */
static void
fetch_record(struct db *db, const char *id, const char *why,
    const char *delay)
{
	PGresult	*res = NULL;
	const char	*p[3];
	char		 msg[300];

	(void)utf8_clean(msg, sizeof(msg), why, strlen(why));
	p[0] = id;
	p[1] = msg;
	p[2] = delay;
	if (db_exec(db, STMT_MEDIA_FETCH_FAILED, 3, p, &res) != DB_OK)
		log_kv(LOG_ERROR, "could not record a media fetch's failure; "
		    "it is tried again when its lease ends", "#media_id", id,
		    NULL);
	db_res_free(res);
	log_kv(delay != NULL ? LOG_WARN : LOG_ERROR, "media fetch failed",
	    "#media_id", id, "cause", msg, "outcome", delay != NULL ?
	    "retry" : "failed", NULL);
}

/* Row i of STMT_MEDIA_CLAIM: fetched and stored, or its failure recorded. */
static void
fetch_one(struct db *db, struct provider *prov, const struct settings *s,
    const PGresult *claim, int i)
{
	struct provider_fetch	 f;
	struct fetch_ctx	 ctx;
	PGresult		*res = NULL;
	unsigned char		 digest[crypto_hash_sha256_BYTES];
	char			 hex[crypto_hash_sha256_BYTES * 2 + 1];
	char			 size[24], why[300], delay[24], mime[128];
	const char		*id, *p[4], *stated, *webhook_sha;
	long			 attempts;
	enum provider_media_rc	 rc;

	memset(&f, 0, sizeof(f));
	memset(&ctx, 0, sizeof(ctx));
	id = PQgetvalue(claim, i, 0);
	attempts = strtol(PQgetvalue(claim, i, 1), NULL, 10);
	webhook_sha = db_get(claim, i, 4);
	f.wa_id = PQgetvalue(claim, i, 2);
	f.mime_hint = db_get(claim, i, 3);
	f.kind = db_get(claim, i, 6);
	f.max_bytes = s->media_max_bytes;
	f.on_data = fetch_on_data;
	f.arg = &ctx;
	ctx.db = db;
	ctx.id = id;
	buf_init(&ctx.chunk);
	crypto_hash_sha256_init(&ctx.sha);
	why[0] = '\0';
	if (db_begin(db) != DB_OK ||
	    db_exec(db, STMT_MEDIA_CHUNKS_CLEAR, 1, &id, &res) != DB_OK) {
		snprintf(why, sizeof(why), "the database refused the file");
		rc = PROVIDER_MEDIA_RETRY;
		goto fail;
	}
	db_res_free(res);
	res = NULL;
	rc = provider_media_fetch(prov, &f);
	if (ctx.failed) {
		snprintf(why, sizeof(why), "the database refused the file");
		rc = PROVIDER_MEDIA_RETRY;
		goto fail;
	}
	if (rc != PROVIDER_MEDIA_OK) {
		snprintf(why, sizeof(why), "%s", f.error);
		goto fail;
	}
	if (fetch_flush(&ctx) == -1) {
		snprintf(why, sizeof(why), "the database refused the file");
		rc = PROVIDER_MEDIA_RETRY;
		goto fail;
	}
	crypto_hash_sha256_final(&ctx.sha, digest);
	sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
	stated = f.sha256[0] != '\0' ? f.sha256 : webhook_sha;
	if (stated != NULL && *stated != '\0' && !fetch_sha_ok(stated,
	    digest)) {
		snprintf(why, sizeof(why), "sha256 mismatch: WhatsApp stated "
		    "%.80s, the file has %s", stated, hex);
		rc = PROVIDER_MEDIA_FAILED;
		goto fail;
	}
	if (f.size >= 0 && f.size != ctx.size) {
		snprintf(why, sizeof(why), "size mismatch: WhatsApp stated "
		    "%lld bytes, the file has %lld", f.size, ctx.size);
		rc = PROVIDER_MEDIA_FAILED;
		goto fail;
	}
	snprintf(size, sizeof(size), "%lld", ctx.size);
	p[0] = id;
	p[1] = size;
	p[2] = hex;
	p[3] = NULL;
	if (f.mime_type[0] != '\0' &&
	    media_type_norm(f.mime_type, mime, sizeof(mime)) == 0)
		p[3] = mime;
	if (db_exec(db, STMT_MEDIA_STORED, 4, p, &res) != DB_OK ||
	    db_commit(db) != DB_OK) {
		snprintf(why, sizeof(why), "the database refused the file");
		rc = PROVIDER_MEDIA_RETRY;
		goto fail;
	}
	log_kv(LOG_INFO, "media fetched", "#media_id", id, "#size", size,
	    "type", p[3], NULL);
	goto out;
fail:
	db_rollback(db);
	if (rc == PROVIDER_MEDIA_RETRY && attempts < s->max_attempts) {
		snprintf(delay, sizeof(delay), "%ld",
		    dispatch_backoff_ms(s, attempts));
		fetch_record(db, id, why, delay);
	} else {
		if (rc == PROVIDER_MEDIA_RETRY) {
			char	last[sizeof(why)];

			snprintf(last, sizeof(last), "%s", why);
			snprintf(why, sizeof(why), "gave up after %ld "
			    "attempts: %.240s", attempts, last);
		}
		fetch_record(db, id, why, NULL);
	}
out:
	db_res_free(res);
	buf_cleanup(&ctx.chunk);
}

int
media_fetch_due(struct db *db, struct provider *prov,
    const struct settings *s, int max)
{
	PGresult	*res = NULL;
	const char	*p[2];
	char		 limit[16], lease[24];
	int		 i, n;

	snprintf(limit, sizeof(limit), "%d", max);
	/* Long enough for the slowest fetch of the batch. */
	snprintf(lease, sizeof(lease), "%ld",
	    (s->media_timeout_ms / 1000) * 2 * (long)max + 60);
	p[0] = limit;
	p[1] = lease;
	if (db_exec(db, STMT_MEDIA_CLAIM, 2, p, &res) != DB_OK)
		return -1;
	n = PQntuples(res);
	for (i = 0; i < n; i++)
		fetch_one(db, prov, s, res, i);
	db_res_free(res);
	return n;
}

/*
 * Job j's media: its upload id, looked up or uploaded now.  0 when j may
 * be sent; -1 with j's result set (JOB_RETRY or JOB_FAILED).
 */
static int
send_prepare_one(struct db *db, struct provider *prov, struct job *j)
{
	PGresult		*res = NULL, *chunk = NULL, *up = NULL;
	struct buf		 file;
	const char		*p[2], *v;
	char			 id[24], mid[24], seq[16], code[32], err[256];
	int			 fmt[2] = { 0, 0 }, k, rc = -1;
	long long		 size;
	enum provider_media_rc	 prc;

	buf_init(&file);
	snprintf(id, sizeof(id), "%lld", j->id);
	p[0] = id;
	if (db_exec(db, STMT_MEDIA_FOR_SEND, 1, p, &res) != DB_OK) {
		job_error(j, JOB_RETRY, "database",
		    "the message's media could not be read");
		goto out;
	}
	if (PQntuples(res) != 1 ||
	    strcmp(PQgetvalue(res, 0, 6), "stored") != 0) {
		job_error(j, JOB_FAILED, "media_unavailable",
		    "the message's file is no longer stored");
		goto out;
	}
	snprintf(mid, sizeof(mid), "%s", PQgetvalue(res, 0, 0));
	snprintf(j->media_kind, sizeof(j->media_kind), "%s",
	    PQgetvalue(res, 0, 5));
	v = db_get(res, 0, 2);
	snprintf(j->media_filename, sizeof(j->media_filename), "%s",
	    v != NULL ? v : "");
	if ((v = db_get(res, 0, 3)) != NULL && *v != '\0') {
		snprintf(j->media_wa_id, sizeof(j->media_wa_id), "%s", v);
		rc = 0;
		goto out;
	}
	size = strtoll(PQgetvalue(res, 0, 4), NULL, 10);
	p[0] = mid;
	p[1] = seq;
	for (k = 0; (long long)file.len < size; k++) {
		snprintf(seq, sizeof(seq), "%d", k);
		if (db_exec_bin(db, STMT_MEDIA_CHUNK_GET, 2, p, NULL, fmt, 1,
		    &chunk) != DB_OK) {
			job_error(j, JOB_RETRY, "database",
			    "the message's file could not be read");
			goto out;
		}
		if (PQntuples(chunk) != 1 || PQgetlength(chunk, 0, 0) == 0) {
			job_error(j, JOB_FAILED, "media_unavailable",
			    "the message's file is incomplete");
			goto out;
		}
		buf_append(&file, PQgetvalue(chunk, 0, 0),
		    (size_t)PQgetlength(chunk, 0, 0));
		db_res_free(chunk);
		chunk = NULL;
	}
	prc = provider_media_upload(prov, j, file.data, file.len,
	    PQgetvalue(res, 0, 1), code, err);
	if (prc != PROVIDER_MEDIA_OK) {
		job_error(j, prc == PROVIDER_MEDIA_RETRY ? JOB_RETRY :
		    JOB_FAILED, code[0] ? code : "upload", err[0] ? err :
		    "the upload failed");
		goto out;
	}
	/* Recorded at once: a retry of the send reuses it. */
	p[0] = mid;
	p[1] = j->media_wa_id;
	if (db_exec(db, STMT_MEDIA_WA_UPLOADED, 2, p, &up) != DB_OK)
		log_kv(LOG_WARN, "could not record a media upload id; a retry "
		    "uploads again", "#media_id", mid, NULL);
	log_kv(LOG_INFO, "media uploaded to the provider", "#media_id", mid,
	    "#message_id", id, NULL);
	rc = 0;
out:
	db_res_free(up);
	db_res_free(chunk);
	db_res_free(res);
	buf_cleanup(&file);
	return rc;
}

size_t
media_send_prepare(struct db *db, struct provider *prov, struct job *jobs,
    size_t n)
{
	struct job	tmp;
	size_t		i, k;

	for (i = 0, k = 0; i < n; i++) {
		if (jobs[i].media_id > 0 &&
		    send_prepare_one(db, prov, &jobs[i]) == -1)
			continue;
		if (k != i) {
			tmp = jobs[k];
			jobs[k] = jobs[i];
			jobs[i] = tmp;
		}
		k++;
	}
	return k;
}
