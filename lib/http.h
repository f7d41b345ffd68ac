/*
 * http — concurrent HTTPS POSTs of JSON with libcurl's multi interface.
 *
 * A struct http_client keeps one multi handle and a reusable easy handle per
 * slot, so connections to the provider stay alive between batches.  The
 * caller owns the client (http_client_new/_free) and the request structs;
 * http_post_all() fills each request's result fields.  TLS verification is
 * always on.
 *
 * libcurl is not linked: the first http_client_new() loads libcurl.so.4
 * (Debian package libcurl4) at run time, so processes that never create a
 * client do not map it.
 */
#ifndef WADESK_HTTP_H
#define WADESK_HTTP_H

#include <stddef.h>

#include "buf.h"

#define HTTP_RETRY_AFTER_MAX	86400	/* seconds */

struct http_client;

struct http_req {
	/* in */
	const char	*url;
	const char	*bearer;	/* Authorization: Bearer ..., or NULL */
	const char	*body;
	size_t		 body_len;
	/* out */
	long		 status;	/* HTTP status; 0 on a transport error */
	long		 retry_after_s;	/* Retry-After in seconds (capped), or -1 */
	struct buf	 resp;		/* response body (http_req_init'd) */
	char		 error[256];	/* transport error, "" otherwise */
};

/*
 * Returns a client with the given number of slots (requests at once) and
 * per-request timeout in milliseconds; never NULL.  When libcurl cannot be
 * loaded (missing library or symbol) or initialised, it logs a fatal line
 * with the loader's reason and exits the process with EXIT_FAILURE.
 */
struct http_client *http_client_new(size_t, long);
void		 http_client_free(struct http_client *);
void		 http_req_init(struct http_req *);
void		 http_req_cleanup(struct http_req *);
/* Runs up to the client's slot count of requests at once; returns when all
 * are done (each within the client's timeout).  A request that fails in
 * transport, or cannot be set up, ends with status 0 and error set. */
void		 http_post_all(struct http_client *, struct http_req *, size_t);

#endif
