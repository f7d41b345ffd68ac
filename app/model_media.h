/*
 * model_media — media files (sql/013): which types WhatsApp takes and
 * which may be shown, storing a file in chunks, serving one chunk by chunk,
 * and the pending row the webhook writes for an inbound media item.
 *
 * A file's bytes live in media_chunks, MEDIA_CHUNK bytes a row, so neither
 * a worker serving it nor the dispatcher fetching it holds a whole file.
 */
#ifndef WADESK_MODEL_MEDIA_H
#define WADESK_MODEL_MEDIA_H

#include <stddef.h>
#include <json-c/json.h>
#include <libpq-fe.h>

#include "app.h"
#include "db.h"
#include "model_message.h"

#define MEDIA_CHUNK		(256 * 1024)
#define MEDIA_UPLOAD_MAX	(16 * 1024 * 1024)	/* POST /api/media/ */
#define MEDIA_FILENAME_MAX	255			/* bytes */
#define MEDIA_TYPE_MAX		127			/* bytes of a MIME type */

/* Columns of STMT_MEDIA_GET. */
enum media_col {
	MEDIA_COL_ID,
	MEDIA_COL_STATUS,
	MEDIA_COL_MIME,
	MEDIA_COL_SIZE,
	MEDIA_COL_SHA256,
	MEDIA_COL_FILENAME,
	MEDIA_COL_ERROR,
	MEDIA_COL_DIRECTION,
	MEDIA_COL__MAX
};

/*
 * The WhatsApp message type a file of this MIME type is sent as (image,
 * audio, video, document, sticker), or NULL when WhatsApp takes no such
 * file.  type is compared without case and without parameters.
 */
const char	*media_send_kind(const char *);
/* A space-separated list of the types media_send_kind() takes. */
const char	*media_send_types(void);
/*
 * The Content-Type a stored file is served with: its own when it is on
 * the allowlist (images, audio, video WhatsApp carries, PDF, plain text),
 * else application/octet-stream.
 */
const char	*media_serve_type(const char *);
/* 1 when a file of this type may be shown inline: jpeg, png, webp, gif. */
int		 media_inline(const char *);
/*
 * The media type of a Content-Type value, lowercased, without parameters
 * or spaces, into out (MEDIA_TYPE_MAX + 1 bytes); -1 when it is empty,
 * too long or not "type/subtype" of token characters.
 */
int		 media_type_norm(const char *, char *, size_t);
/*
 * A filename as a client gave it: only its last path component is kept;
 * 0, or -1 when it is empty, longer than MEDIA_FILENAME_MAX, not UTF-8 or
 * holds control characters.  out: MEDIA_FILENAME_MAX + 1 bytes.
 */
int		 media_filename_clean(const char *, char *, size_t);
/*
 * Stores an uploaded file (type, filename or NULL, bytes) in one
 * transaction; on DB_OK *res is STMT_MEDIA_UPLOAD's row (the caller frees
 * it).
 */
enum db_rc	 media_store(struct db *, const char *, const char *,
		    const void *, size_t, PGresult **)
		    __attribute__((warn_unused_result));
/*
 * The media of a send (in->media_id set) looked up: an uploaded, stored
 * file of a type WhatsApp takes, its caption allowed.  0 with
 * in->media_type set; 1 when refused (*field and *msg say why, for the
 * client); -1 when the database failed (*rc).
 */
int		 media_for_send(struct db *, struct message_input *,
		    const char **, const char **, enum db_rc *)
		    __attribute__((warn_unused_result));
/* STMT_MEDIA_UPLOAD's row as the API's upload answer (caller puts it). */
struct json_object *media_upload_json(const PGresult *);
/*
 * The webhook's part: when message msg_id (decimal) of this type carries a
 * media object (item[type].id), its pending media row.  DB_OK also when
 * there is nothing to record.
 */
enum db_rc	 media_inbound(struct db *, const char *, const char *,
		    struct json_object *) __attribute__((warn_unused_result));
/*
 * Answers GET /api/media/{id} and /admin/media/{id}: the stored bytes,
 * chunk by chunk, with the headers DESIGN.md asks for (ETag and 304, the
 * allowlisted type, inline or attachment, the sandbox CSP); 404 for an
 * unknown id or a file not stored (pending or failed).
 */
void		 media_serve(struct app *);

#endif
