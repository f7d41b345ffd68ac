/*
 * req — one FastCGI request: its parameters, its body, its response.
 *
 * req_init() borrows the FCGX_Request and the worker's arena; everything it
 * hands out lives until the worker resets the arena after FCGX_Finish_r().
 * A response is written once: the first req_send() wins, later calls are
 * ignored (and logged), so a handler cannot emit two status lines.
 */
#ifndef WADESK_REQ_H
#define WADESK_REQ_H

#include <stddef.h>
#include <time.h>
#include <fcgiapp.h>
#include <json-c/json.h>

#include "arena.h"
#include "buf.h"

#define REQ_MAX_BODY	65536

enum req_body {
	REQ_BODY_OK,
	REQ_BODY_TOO_LARGE,
	REQ_BODY_SHORT,		/* fewer bytes than Content-Length */
	REQ_BODY__MAX
};

struct req {
	FCGX_Request	*fcgx;
	struct arena	*arena;
	const char	*method;
	const char	*path;		/* decoded, normalised (nginx $uri) */
	const char	*query;		/* raw query string, "" when none */
	const char	*request_id;
	const char	*remote;
	char		*body;		/* NUL-terminated copy; NULL before read */
	size_t		 body_len;
	int		 status;	/* 0 until a response was sent */
	struct buf	 hdrs;		/* extra response header lines */
	struct timespec	 start;
};

void		 req_init(struct req *, FCGX_Request *, struct arena *);
void		 req_cleanup(struct req *);
/* A FastCGI parameter ("HTTP_AUTHORIZATION", ...), or NULL. */
const char	*req_param(const struct req *, const char *);
/* Reads the body, at most max bytes, into r->body. */
enum req_body	 req_read_body(struct req *, size_t)
		    __attribute__((warn_unused_result));
/*
 * 1 when the media type of Content-Type is type (compared without case;
 * parameters such as "; charset=utf-8" allowed).
 */
int		 req_content_type_is(const struct req *, const char *);
/* Adds a response header; values with CR or LF are dropped. */
void		 req_header(struct req *, const char *, const char *);
void		 req_send(struct req *, int, const char *, const char *, size_t);
/*
 * A response whose body follows in pieces: the status line and headers
 * with Content-Length len (the first response wins, as with req_send()),
 * then req_write() for each piece; the pieces must add up to len.
 * req_write() returns 0, or -1 once the FastCGI stream has failed (the
 * client or nginx went away): the caller stops writing.
 */
void		 req_send_head(struct req *, int, const char *, size_t);
int		 req_write(struct req *, const void *, size_t)
		    __attribute__((warn_unused_result));
/* Serialises obj (borrowed) as the JSON response body. */
void		 req_json(struct req *, int, struct json_object *);
/* {"error": {"code", "message", "field"}}; field may be NULL. */
void		 req_error(struct req *, int, const char *, const char *,
		    const char *);
const char	*req_status_text(int);
/* Milliseconds since req_init(). */
double		 req_elapsed_ms(const struct req *);

#endif
