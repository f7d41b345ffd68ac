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
	/* in (http_req_init: none, any address) */
	const char *const *headers;	/* more "Name: value" lines, NULL-ended */
	/*
	 * Only https, no proxy, no redirect, and only public addresses
	 * (http_addr_public), checked on each address as it is connected
	 * to, so a name that resolves elsewhere later cannot bypass it.
	 */
	int		 public_only;
	/* out */
	long		 duration_ms;	/* the whole exchange */
	int		 refused;	/* an address was not public */
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

/*
 * The same one request at a time, without waiting for the others: for a
 * caller that keeps several slow peers in flight and records each answer as
 * it comes.  http_post_start() starts r in a free slot (r must stay valid
 * until http_post_next() hands it back): 0, or -1 with r->error set when no
 * slot is free or it cannot start.  http_post_next() runs the transfers for
 * up to wait_ms and returns one finished request (status and error filled
 * as http_post_all() does), or NULL when none finished meanwhile.  Do not
 * mix with http_post_all() on one client.
 */
int		 http_post_start(struct http_client *, struct http_req *)
		    __attribute__((warn_unused_result));
struct http_req	*http_post_next(struct http_client *, long);
/* Requests started and not yet handed back by http_post_next(). */
size_t		 http_client_busy(const struct http_client *);

struct sockaddr;
/*
 * 1 when an address (AF_INET or AF_INET6) may be reached by a public_only
 * request: not unspecified, loopback, private (RFC 1918), shared (CGNAT,
 * 100.64/10), link-local, unique-local (fc00::/7), site-local,
 * multicast, broadcast, reserved, documentation or benchmarking; an
 * IPv4-mapped, -compatible, NAT64 (64:ff9b::/96) or 6to4 (2002::/16)
 * address is judged by the IPv4 address it carries.  0 otherwise.
 */
int		 http_addr_public(const struct sockaddr *);

/*
 * One GET, synchronously (the client's first slot): a media file or its
 * metadata.  Redirects are followed only within the same origin (scheme,
 * host and port; at most HTTP_REDIRECTS_MAX), so the Bearer token never
 * reaches another host; any other redirect fails.  The body goes to
 * on_data (which returns 0, or -1 to abort) or, without one, to resp;
 * either way at most max_bytes: a larger Content-Length fails before any
 * byte is read, and a body that grows past it is cut off (too_large set).
 * Bodies of non-2xx answers go to resp (capped), never to on_data.
 */
#define HTTP_REDIRECTS_MAX	3

struct http_get {
	/* in */
	const char	*url;
	const char	*bearer;	/* or NULL */
	long long	 max_bytes;
	int		(*on_data)(void *, const char *, size_t);
	void		*arg;
	/* out */
	long		 status;	/* 0: transport error (error set) */
	int		 too_large;	/* over max_bytes */
	long long	 received;	/* body bytes of the 2xx answer */
	char		 content_type[128];
	struct buf	 resp;		/* see above (http_get_init'd) */
	char		 error[256];
};

void	http_get_init(struct http_get *);
void	http_get_cleanup(struct http_get *);
/* Runs g; its result is in its out fields. */
void	http_get(struct http_client *, struct http_get *);

/*
 * One multipart/form-data POST, synchronously (libcurl's MIME API): the
 * text fields (names and values, NULL-terminated pairs) and one file
 * part.  The answer is in status, resp and error as for http_req.
 */
struct http_upload {
	/* in */
	const char		*url;
	const char		*bearer;
	const char *const	*fields;	/* name, value, ..., NULL */
	const char		*file_field;	/* e.g. "file" */
	const void		*data;
	size_t			 len;
	const char		*type;		/* the file's Content-Type */
	const char		*filename;	/* or NULL */
	/* out: see struct http_req */
	long			 status;
	long			 retry_after_s;
	struct buf		 resp;
	char			 error[256];
};

void	http_upload_init(struct http_upload *);
void	http_upload_cleanup(struct http_upload *);
void	http_upload(struct http_client *, struct http_upload *);

#endif
