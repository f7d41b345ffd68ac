#include <dlfcn.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <curl/curl.h>

#include "http.h"
#include "log.h"
#include "mem.h"

/*
 * libcurl is loaded with dlopen() by the first http_client_new(), not linked:
 * only the dispatcher with the Cloud API provider sends HTTP, yet linked it
 * made every process of the binary, each FastCGI worker included, map
 * libcurl and what only it needs (libssh2, librtmp, libnghttp2, libpsl,
 * brotli, zlib, zstd) and run their relocations at start-up.  Measured on
 * Debian 12: worker RSS 9.2-9.4 MiB linked, 8.3-8.4 MiB loaded here.  (GnuTLS,
 * p11-kit, nettle and the like stay mapped: libpq needs them through
 * libldap.)  The library stays loaded until the process exits.
 */
#define HTTP_CURL_SONAME	"libcurl.so.4"

/* The libcurl functions this file calls, each named after curl_<field>. */
struct http_curl {
	CURLcode		 (*global_init)(long);
	void			 (*global_cleanup)(void);
	CURL			*(*easy_init)(void);
	void			 (*easy_cleanup)(CURL *);
	void			 (*easy_reset)(CURL *);
	CURLcode		 (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode		 (*easy_getinfo)(CURL *, CURLINFO, ...);
	const char		*(*easy_strerror)(CURLcode);
	CURLM			*(*multi_init)(void);
	CURLMcode		 (*multi_cleanup)(CURLM *);
	CURLMcode		 (*multi_setopt)(CURLM *, CURLMoption, ...);
	CURLMcode		 (*multi_add_handle)(CURLM *, CURL *);
	CURLMcode		 (*multi_remove_handle)(CURLM *, CURL *);
	CURLMcode		 (*multi_perform)(CURLM *, int *);
	CURLMcode		 (*multi_poll)(CURLM *, struct curl_waitfd *,
				    unsigned int, int, int *);
	CURLMsg			*(*multi_info_read)(CURLM *, int *);
	const char		*(*multi_strerror)(CURLMcode);
	struct curl_slist	*(*slist_append)(struct curl_slist *,
				    const char *);
	void			 (*slist_free_all)(struct curl_slist *);
	/* GET and multipart upload (http_get, http_upload). */
	CURLcode		 (*easy_perform)(CURL *);
	curl_mime		*(*mime_init)(CURL *);
	void			 (*mime_free)(curl_mime *);
	curl_mimepart		*(*mime_addpart)(curl_mime *);
	CURLcode		 (*mime_name)(curl_mimepart *, const char *);
	CURLcode		 (*mime_data)(curl_mimepart *, const char *,
				    size_t);
	CURLcode		 (*mime_type)(curl_mimepart *, const char *);
	CURLcode		 (*mime_filename)(curl_mimepart *,
				    const char *);
};

static struct http_curl	 http_curl;
static void		*http_curl_lib;	/* dlopen() handle; NULL until loaded */

/*
 * One row per function: its symbol and the field its address goes to.  The
 * sizeof operand is never evaluated (nothing refers to libcurl at link time);
 * it only makes the compiler check the field's type against the prototype
 * in <curl/curl.h>.
 */
#define HTTP_SYM(f)	{ "curl_" #f, offsetof(struct http_curl, f) + \
			    0 * sizeof(http_curl.f = curl_##f) }

static const struct {
	const char	*name;
	size_t		 off;
} http_syms[] = {
	HTTP_SYM(global_init),
	HTTP_SYM(global_cleanup),
	HTTP_SYM(easy_init),
	HTTP_SYM(easy_cleanup),
	HTTP_SYM(easy_reset),
	HTTP_SYM(easy_setopt),
	HTTP_SYM(easy_getinfo),
	HTTP_SYM(easy_strerror),
	HTTP_SYM(multi_init),
	HTTP_SYM(multi_cleanup),
	HTTP_SYM(multi_setopt),
	HTTP_SYM(multi_add_handle),
	HTTP_SYM(multi_remove_handle),
	HTTP_SYM(multi_perform),
	HTTP_SYM(multi_poll),
	HTTP_SYM(multi_info_read),
	HTTP_SYM(multi_strerror),
	HTTP_SYM(slist_append),
	HTTP_SYM(slist_free_all),
	HTTP_SYM(easy_perform),
	HTTP_SYM(mime_init),
	HTTP_SYM(mime_free),
	HTTP_SYM(mime_addpart),
	HTTP_SYM(mime_name),
	HTTP_SYM(mime_data),
	HTTP_SYM(mime_type),
	HTTP_SYM(mime_filename),
};

/* dlsym() returns an object pointer; POSIX guarantees this copy works. */
_Static_assert(sizeof(void *) == sizeof(void (*)(void)),
    "function pointers must be the size of void *");

struct http_client {
	CURLM		 *multi;
	CURL		**easy;
	size_t		  slots;
	long		  timeout_ms;
	/* http_post_start/_next: the request and headers of each slot. */
	struct http_req	**run;
	struct curl_slist **run_hdrs;
	size_t		  nrun;
};

static int	http_load(char *, size_t);
static void	http_fatal(const char *, const char *)
		    __attribute__((noreturn));
static size_t	http_on_body(char *, size_t, size_t, void *);
static size_t	http_on_header(char *, size_t, size_t, void *);
static struct curl_slist *http_hdr_add(struct curl_slist *, const char *);
static int	http_start(struct http_client *, size_t, struct http_req *,
		    struct curl_slist *);
static void	http_fail_running(struct http_client *, struct http_req *,
		    size_t *, size_t, CURLMcode);
static struct curl_slist *http_hdrs(const struct http_req *);
static curl_socket_t http_open_socket(void *, curlsocktype,
		    struct curl_sockaddr *);
static int	http_v4_public(const unsigned char *);
static void	http_finish(struct http_client *, CURL *, CURLcode,
		    struct http_req *);
static CURL	*http_easy(struct http_client *, char *, size_t);
static CURLcode	http_common(struct http_client *, CURL *, const char *,
		    char *, struct curl_slist *);
static size_t	http_get_body(char *, size_t, size_t, void *);
static size_t	http_get_header(char *, size_t, size_t, void *);
static size_t	http_origin(const char *);
static int	http_same_origin(const char *, const char *);

/*
 * Loads libcurl and fills http_curl, once.  Returns 0, or -1 with the
 * loader's reason (dlerror()) in err; nothing stays loaded then.
 */
static int
http_load(char *err, size_t len)
{
	void		*lib, *sym;
	const char	*why;
	size_t		 i;

	if (http_curl_lib != NULL)
		return 0;
	if ((lib = dlopen(HTTP_CURL_SONAME, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		why = dlerror();
		snprintf(err, len, "%s", why != NULL ? why :
		    HTTP_CURL_SONAME ": cannot load");
		return -1;
	}
	for (i = 0; i < sizeof(http_syms) / sizeof(http_syms[0]); i++) {
		(void)dlerror();
		if ((sym = dlsym(lib, http_syms[i].name)) == NULL) {
			why = dlerror();
			snprintf(err, len, "%s", why != NULL ? why :
			    http_syms[i].name);
			memset(&http_curl, 0, sizeof(http_curl));
			dlclose(lib);
			return -1;
		}
		memcpy((char *)&http_curl + http_syms[i].off, &sym,
		    sizeof(sym));
	}
	http_curl_lib = lib;
	return 0;
}

/* The client cannot work without libcurl: log why and end the process. */
static void
http_fatal(const char *msg, const char *cause)
{
	log_kv(LOG_FATAL, msg, "lib", HTTP_CURL_SONAME, "cause", cause, NULL);
	exit(EXIT_FAILURE);
}

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
	char			 err[512];
	CURLcode		 rc;

	if (http_load(err, sizeof(err)) == -1)
		http_fatal("cannot load libcurl (Debian package libcurl4)",
		    err);
	if ((rc = http_curl.global_init(CURL_GLOBAL_DEFAULT)) != CURLE_OK)
		http_fatal("curl_global_init failed",
		    http_curl.easy_strerror(rc));
	c = mem_calloc(1, sizeof(*c));
	if ((c->multi = http_curl.multi_init()) == NULL)
		http_fatal("curl_multi_init failed", "out of memory");
	c->slots = slots;
	c->timeout_ms = timeout_ms;
	c->easy = mem_calloc(slots, sizeof(*c->easy));
	c->run = mem_calloc(slots, sizeof(*c->run));
	c->run_hdrs = mem_calloc(slots, sizeof(*c->run_hdrs));
	/* Only a cache size: the client works without it. */
	if (http_curl.multi_setopt(c->multi, CURLMOPT_MAXCONNECTS,
	    (long)slots) != CURLM_OK)
		log_kv(LOG_WARN, "libcurl ignored CURLMOPT_MAXCONNECTS", NULL);
	return c;
}

void
http_client_free(struct http_client *c)
{
	size_t	i;

	if (c == NULL)
		return;
	for (i = 0; i < c->slots; i++) {
		if (c->easy[i] == NULL)
			continue;
		if (c->run[i] != NULL)
			(void)http_curl.multi_remove_handle(c->multi,
			    c->easy[i]);
		http_curl.easy_cleanup(c->easy[i]);
		if (c->run_hdrs[i] != NULL)
			http_curl.slist_free_all(c->run_hdrs[i]);
	}
	http_curl.multi_cleanup(c->multi);
	mem_free(c->run);
	mem_free(c->run_hdrs);
	mem_free(c->easy);
	mem_free(c);
	http_curl.global_cleanup();
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

/* Appends a header line; out of memory aborts, as in lib/mem. */
static struct curl_slist *
http_hdr_add(struct curl_slist *l, const char *line)
{
	struct curl_slist	*n;

	if ((n = http_curl.slist_append(l, line)) == NULL) {
		log_kv(LOG_FATAL, "out of memory", "in", "curl_slist_append",
		    NULL);
		abort();
	}
	return n;
}

/*
 * Sets up the slot's easy handle for r and adds it to the multi handle.
 * Returns 0, or -1 with r->status 0 and the reason in r->error.
 */
static int
http_start(struct http_client *c, size_t slot, struct http_req *r,
    struct curl_slist *hdrs)
{
	CURL		*e;
	CURLcode	 rc;
	CURLMcode	 mrc;

	r->status = 0;
	r->error[0] = '\0';
	r->refused = 0;
	r->duration_ms = 0;
	if (c->easy[slot] == NULL &&
	    (c->easy[slot] = http_curl.easy_init()) == NULL) {
		snprintf(r->error, sizeof(r->error), "curl_easy_init failed");
		return -1;
	}
	e = c->easy[slot];
	http_curl.easy_reset(e);
	if ((rc = http_curl.easy_setopt(e, CURLOPT_ERRORBUFFER,
	    r->error)) != CURLE_OK ||
	    (rc = http_curl.easy_setopt(e, CURLOPT_URL, r->url)) != CURLE_OK ||
	    (rc = http_curl.easy_setopt(e, CURLOPT_POST, 1L)) != CURLE_OK ||
	    (rc = http_curl.easy_setopt(e, CURLOPT_POSTFIELDS,
	    r->body)) != CURLE_OK ||
	    (rc = http_curl.easy_setopt(e, CURLOPT_POSTFIELDSIZE,
	    (long)r->body_len)) != CURLE_OK ||
	    (rc = http_curl.easy_setopt(e, CURLOPT_HTTPHEADER,
	    hdrs)) != CURLE_OK ||
	    (rc = http_curl.easy_setopt(e, CURLOPT_TIMEOUT_MS,
	    c->timeout_ms)) != CURLE_OK ||
	    (rc = http_curl.easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
	    c->timeout_ms)) != CURLE_OK ||
	    (rc = http_curl.easy_setopt(e, CURLOPT_NOSIGNAL, 1L)) != CURLE_OK ||
	    (rc = http_curl.easy_setopt(e, CURLOPT_SSL_VERIFYPEER,
	    1L)) != CURLE_OK ||
	    (rc = http_curl.easy_setopt(e, CURLOPT_SSL_VERIFYHOST,
	    2L)) != CURLE_OK ||
	    (rc = http_curl.easy_setopt(e, CURLOPT_PROTOCOLS_STR,
	    "http,https")) != CURLE_OK ||
	    (rc = http_curl.easy_setopt(e, CURLOPT_WRITEFUNCTION,
	    http_on_body)) != CURLE_OK ||
	    (rc = http_curl.easy_setopt(e, CURLOPT_WRITEDATA, r)) != CURLE_OK ||
	    (rc = http_curl.easy_setopt(e, CURLOPT_HEADERFUNCTION,
	    http_on_header)) != CURLE_OK ||
	    (rc = http_curl.easy_setopt(e, CURLOPT_HEADERDATA,
	    r)) != CURLE_OK ||
	    (r->public_only &&
	    ((rc = http_curl.easy_setopt(e, CURLOPT_PROTOCOLS_STR,
	    "https")) != CURLE_OK ||
	    (rc = http_curl.easy_setopt(e, CURLOPT_FOLLOWLOCATION,
	    0L)) != CURLE_OK ||
	    (rc = http_curl.easy_setopt(e, CURLOPT_PROXY, "")) != CURLE_OK ||
	    (rc = http_curl.easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION,
	    http_open_socket)) != CURLE_OK ||
	    (rc = http_curl.easy_setopt(e, CURLOPT_OPENSOCKETDATA,
	    r)) != CURLE_OK))) {
		snprintf(r->error, sizeof(r->error), "libcurl setup: %s",
		    http_curl.easy_strerror(rc));
		return -1;
	}
	if ((mrc = http_curl.multi_add_handle(c->multi, e)) != CURLM_OK) {
		snprintf(r->error, sizeof(r->error), "libcurl multi: %s",
		    http_curl.multi_strerror(mrc));
		return -1;
	}
	return 0;
}

/*
 * The multi handle failed (out of memory, an internal error): every request
 * still running ends as a transport error and its slot is freed.
 */
static void
http_fail_running(struct http_client *c, struct http_req *reqs, size_t *busy,
    size_t n, CURLMcode mrc)
{
	struct http_req	*r;
	size_t		 slot;

	for (slot = 0; slot < c->slots; slot++) {
		if (busy[slot] == n)
			continue;
		r = &reqs[busy[slot]];
		(void)http_curl.multi_remove_handle(c->multi, c->easy[slot]);
		r->status = 0;
		snprintf(r->error, sizeof(r->error), "libcurl multi: %s",
		    http_curl.multi_strerror(mrc));
		busy[slot] = n;
	}
}

void
http_post_all(struct http_client *c, struct http_req *reqs, size_t n)
{
	struct curl_slist	**hdrs;
	struct http_req		 *r;
	CURLMsg			 *msg;
	CURLMcode		  mrc;
	CURLcode		  res;
	CURL			 *e;
	char			  auth[1024];
	size_t			  next = 0, i, k, slot;
	int			  running = 0, left;
	size_t			 *busy;	/* request index per slot, or n */

	hdrs = mem_calloc(n ? n : 1, sizeof(*hdrs));
	busy = mem_calloc(c->slots, sizeof(*busy));
	for (i = 0; i < c->slots; i++)
		busy[i] = n;
	for (i = 0; i < n; i++) {
		hdrs[i] = http_hdr_add(NULL, "Content-Type: application/json");
		hdrs[i] = http_hdr_add(hdrs[i], "Expect:");
		if (reqs[i].bearer != NULL) {
			snprintf(auth, sizeof(auth), "Authorization: Bearer %s",
			    reqs[i].bearer);
			hdrs[i] = http_hdr_add(hdrs[i], auth);
		}
		for (k = 0; reqs[i].headers != NULL &&
		    reqs[i].headers[k] != NULL; k++)
			hdrs[i] = http_hdr_add(hdrs[i], reqs[i].headers[k]);
	}
	for (;;) {
		for (slot = 0; slot < c->slots && next < n; slot++) {
			if (busy[slot] != n)
				continue;
			/* A request that cannot start is done (r->error). */
			if (http_start(c, slot, &reqs[next], hdrs[next]) == 0) {
				busy[slot] = next;
				running++;
			}
			next++;
		}
		if (running == 0) {
			if (next == n)
				break;
			continue;
		}
		if ((mrc = http_curl.multi_perform(c->multi, &left)) !=
		    CURLM_OK) {
			http_fail_running(c, reqs, busy, n, mrc);
			running = 0;
			continue;
		}
		while ((msg = http_curl.multi_info_read(c->multi, &left)) !=
		    NULL) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			/* msg is gone once the handle is removed. */
			e = msg->easy_handle;
			res = msg->data.result;
			(void)http_curl.multi_remove_handle(c->multi, e);
			for (slot = 0; slot < c->slots; slot++)
				if (c->easy[slot] == e && busy[slot] != n)
					break;
			if (slot == c->slots)
				continue;	/* not ours: cannot happen */
			r = &reqs[busy[slot]];
			busy[slot] = n;
			running--;
			http_finish(c, e, res, r);
		}
		if (running > 0 && (mrc = http_curl.multi_poll(c->multi, NULL,
		    0, 100, NULL)) != CURLM_OK) {
			http_fail_running(c, reqs, busy, n, mrc);
			running = 0;
		}
	}
	for (i = 0; i < n; i++)
		http_curl.slist_free_all(hdrs[i]);
	mem_free(hdrs);
	mem_free(busy);
}

/* The outcome of a finished transfer into r. */
static void
http_finish(struct http_client *c, CURL *e, CURLcode res, struct http_req *r)
{
	curl_off_t	us = 0;

	(void)c;
	if (http_curl.easy_getinfo(e, CURLINFO_TOTAL_TIME_T, &us) == CURLE_OK)
		r->duration_ms = (long)(us / 1000);
	if (res != CURLE_OK) {
		r->status = 0;
		if (r->refused)
			snprintf(r->error, sizeof(r->error), "refused: the "
			    "address is not public (private, loopback, "
			    "link-local or reserved)");
		else if (r->error[0] == '\0')
			snprintf(r->error, sizeof(r->error), "%s",
			    http_curl.easy_strerror(res));
	} else if (http_curl.easy_getinfo(e, CURLINFO_RESPONSE_CODE,
	    &r->status) != CURLE_OK) {
		r->status = 0;
		snprintf(r->error, sizeof(r->error),
		    "no HTTP status from libcurl");
	}
}

/* Content-Type, no Expect, the bearer token and r's own header lines. */
static struct curl_slist *
http_hdrs(const struct http_req *r)
{
	struct curl_slist	*l;
	char			 auth[1024];
	size_t			 k;

	l = http_hdr_add(NULL, "Content-Type: application/json");
	l = http_hdr_add(l, "Expect:");
	if (r->bearer != NULL) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s",
		    r->bearer);
		l = http_hdr_add(l, auth);
	}
	for (k = 0; r->headers != NULL && r->headers[k] != NULL; k++)
		l = http_hdr_add(l, r->headers[k]);
	return l;
}

/*
 * libcurl's socket for each address it connects to: refused (and marked
 * in r->refused) when a public_only request meets a non-public address.
 */
static curl_socket_t
http_open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct http_req	*r = arg;

	if (purpose != CURLSOCKTYPE_IPCXN || !http_addr_public(&a->addr)) {
		r->refused = 1;
		return CURL_SOCKET_BAD;
	}
	return socket(a->family, a->socktype, a->protocol);
}

/* 1 when IPv4 address b (network order) is public. */
static int
http_v4_public(const unsigned char *b)
{
	if (b[0] == 0 ||				/* 0/8 this network */
	    b[0] == 10 ||				/* 10/8 */
	    b[0] == 127 ||				/* loopback */
	    (b[0] == 100 && (b[1] & 0xc0) == 64) ||	/* 100.64/10 CGNAT */
	    (b[0] == 169 && b[1] == 254) ||		/* link-local */
	    (b[0] == 172 && (b[1] & 0xf0) == 16) ||	/* 172.16/12 */
	    (b[0] == 192 && b[1] == 0 && b[2] == 0) ||	/* 192.0.0/24 */
	    (b[0] == 192 && b[1] == 0 && b[2] == 2) ||	/* TEST-NET-1 */
	    (b[0] == 192 && b[1] == 88 && b[2] == 99) ||	/* 6to4 relay */
	    (b[0] == 192 && b[1] == 168) ||		/* 192.168/16 */
	    (b[0] == 198 && (b[1] & 0xfe) == 18) ||	/* 198.18/15 */
	    (b[0] == 198 && b[1] == 51 && b[2] == 100) ||	/* TEST-NET-2 */
	    (b[0] == 203 && b[1] == 0 && b[2] == 113) ||	/* TEST-NET-3 */
	    b[0] >= 224)			/* multicast, reserved, bcast */
		return 0;
	return 1;
}

int
http_addr_public(const struct sockaddr *sa)
{
	const struct sockaddr_in	*s4;
	const struct sockaddr_in6	*s6;
	const unsigned char		*b;
	static const unsigned char	 zero[10];

	if (sa->sa_family == AF_INET) {
		s4 = (const struct sockaddr_in *)(const void *)sa;
		return http_v4_public(
		    (const unsigned char *)&s4->sin_addr.s_addr);
	}
	if (sa->sa_family != AF_INET6)
		return 0;
	s6 = (const struct sockaddr_in6 *)(const void *)sa;
	b = s6->sin6_addr.s6_addr;
	/* ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible, :: and ::1). */
	if (memcmp(b, zero, 10) == 0 &&
	    ((b[10] == 0xff && b[11] == 0xff) || (b[10] == 0 && b[11] == 0)))
		return http_v4_public(b + 12);
	/* 64:ff9b::a.b.c.d (NAT64) and 64:ff9b:1::/48 (local NAT64). */
	if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b) {
		if (b[4] == 0 && b[5] == 0x01)
			return 0;
		return http_v4_public(b + 12);
	}
	/* 2002:a.b.c.d::/48 (6to4). */
	if (b[0] == 0x20 && b[1] == 0x02)
		return http_v4_public(b + 2);
	if ((b[0] & 0xfe) == 0xfc ||			/* fc00::/7 ULA */
	    (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) ||	/* fe80::/10 */
	    (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) ||	/* fec0::/10 */
	    b[0] == 0xff ||				/* multicast */
	    (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d &&
	    b[3] == 0xb8) ||				/* 2001:db8::/32 */
	    (b[0] == 0x01 && b[1] == 0x00 && memcmp(b + 2, zero, 6) == 0) ||
							/* 100::/64 discard */
	    (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x00 &&
	    b[3] == 0x00) ||				/* 2001::/32 Teredo */
	    (b[0] & 0xe0) != 0x20)		/* outside 2000::/3 global */
		return 0;
	return 1;
}

int
http_post_start(struct http_client *c, struct http_req *r)
{
	size_t	slot;

	for (slot = 0; slot < c->slots; slot++)
		if (c->run[slot] == NULL)
			break;
	if (slot == c->slots) {
		r->status = 0;
		snprintf(r->error, sizeof(r->error), "no free slot");
		return -1;
	}
	c->run_hdrs[slot] = http_hdrs(r);
	if (http_start(c, slot, r, c->run_hdrs[slot]) == -1) {
		http_curl.slist_free_all(c->run_hdrs[slot]);
		c->run_hdrs[slot] = NULL;
		return -1;
	}
	c->run[slot] = r;
	c->nrun++;
	return 0;
}

size_t
http_client_busy(const struct http_client *c)
{
	return c->nrun;
}

struct http_req *
http_post_next(struct http_client *c, long wait_ms)
{
	struct http_req	*r;
	CURLMsg		*msg;
	CURLMcode	 mrc;
	CURLcode	 res;
	CURL		*e;
	size_t		 slot;
	int		 left, polled = 0;

	if (c->nrun == 0)
		return NULL;
	for (;;) {
		if ((mrc = http_curl.multi_perform(c->multi, &left)) !=
		    CURLM_OK)
			goto fail;
		while ((msg = http_curl.multi_info_read(c->multi, &left)) !=
		    NULL) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			e = msg->easy_handle;
			res = msg->data.result;
			for (slot = 0; slot < c->slots; slot++)
				if (c->easy[slot] == e && c->run[slot] != NULL)
					break;
			if (slot == c->slots)
				continue;	/* not ours: cannot happen */
			(void)http_curl.multi_remove_handle(c->multi, e);
			r = c->run[slot];
			http_finish(c, e, res, r);
			http_curl.slist_free_all(c->run_hdrs[slot]);
			c->run_hdrs[slot] = NULL;
			c->run[slot] = NULL;
			c->nrun--;
			return r;
		}
		if (polled || wait_ms <= 0)
			return NULL;
		if ((mrc = http_curl.multi_poll(c->multi, NULL, 0,
		    (int)wait_ms, NULL)) != CURLM_OK)
			goto fail;
		polled = 1;
	}
fail:
	/* The multi handle failed: the first running request ends so. */
	for (slot = 0; slot < c->slots; slot++) {
		if ((r = c->run[slot]) == NULL)
			continue;
		(void)http_curl.multi_remove_handle(c->multi, c->easy[slot]);
		r->status = 0;
		snprintf(r->error, sizeof(r->error), "libcurl multi: %s",
		    http_curl.multi_strerror(mrc));
		http_curl.slist_free_all(c->run_hdrs[slot]);
		c->run_hdrs[slot] = NULL;
		c->run[slot] = NULL;
		c->nrun--;
		return r;
	}
	return NULL;
}

/*
 * The synchronous requests (http_get, http_upload) use the first slot's
 * easy handle, reset; NULL with the reason in err when there is none.
 */
static CURL *
http_easy(struct http_client *c, char *err, size_t len)
{
	if (c->slots == 0) {
		snprintf(err, len, "no slot");
		return NULL;
	}
	if (c->easy[0] == NULL && (c->easy[0] = http_curl.easy_init()) ==
	    NULL) {
		snprintf(err, len, "curl_easy_init failed");
		return NULL;
	}
	http_curl.easy_reset(c->easy[0]);
	return c->easy[0];
}

/* What every synchronous request sets: URL, timeouts, TLS, no redirects. */
static CURLcode
http_common(struct http_client *c, CURL *e, const char *url, char *errbuf,
    struct curl_slist *hdrs)
{
	CURLcode	rc;

	if ((rc = http_curl.easy_setopt(e, CURLOPT_ERRORBUFFER,
	    errbuf)) != CURLE_OK ||
	    (rc = http_curl.easy_setopt(e, CURLOPT_URL, url)) != CURLE_OK ||
	    (rc = http_curl.easy_setopt(e, CURLOPT_HTTPHEADER,
	    hdrs)) != CURLE_OK ||
	    (rc = http_curl.easy_setopt(e, CURLOPT_TIMEOUT_MS,
	    c->timeout_ms)) != CURLE_OK ||
	    (rc = http_curl.easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
	    c->timeout_ms)) != CURLE_OK ||
	    (rc = http_curl.easy_setopt(e, CURLOPT_NOSIGNAL, 1L)) != CURLE_OK ||
	    (rc = http_curl.easy_setopt(e, CURLOPT_SSL_VERIFYPEER,
	    1L)) != CURLE_OK ||
	    (rc = http_curl.easy_setopt(e, CURLOPT_SSL_VERIFYHOST,
	    2L)) != CURLE_OK ||
	    (rc = http_curl.easy_setopt(e, CURLOPT_PROTOCOLS_STR,
	    "http,https")) != CURLE_OK ||
	    (rc = http_curl.easy_setopt(e, CURLOPT_FOLLOWLOCATION,
	    0L)) != CURLE_OK)
		return rc;
	return CURLE_OK;
}

/* The length of url's origin: "scheme://host[:port]". */
static size_t
http_origin(const char *url)
{
	const char	*p;

	if ((p = strstr(url, "://")) == NULL)
		return 0;
	p += 3;
	return (size_t)(p - url) + strcspn(p, "/?#");
}

static int
http_same_origin(const char *a, const char *b)
{
	size_t	n = http_origin(a);

	return n > 0 && n == http_origin(b) && strncasecmp(a, b, n) == 0;
}

void
http_get_init(struct http_get *g)
{
	memset(g, 0, sizeof(*g));
	buf_init(&g->resp);
}

void
http_get_cleanup(struct http_get *g)
{
	buf_cleanup(&g->resp);
}

static size_t
http_get_header(char *p, size_t size, size_t n, void *arg)
{
	struct http_get	*g = arg;
	size_t		 len = size * n, k;
	const char	*sp;

	/* A new status line: a redirect's headers are not the answer's. */
	if (len > 5 && strncmp(p, "HTTP/", 5) == 0) {
		sp = memchr(p, ' ', len);
		g->status = sp != NULL ? strtol(sp + 1, NULL, 10) : 0;
		g->content_type[0] = '\0';
	} else if (len > 13 && strncasecmp(p, "Content-Type:", 13) == 0) {
		p += 13;
		len -= 13;
		while (len > 0 && (*p == ' ' || *p == '\t')) {
			p++;
			len--;
		}
		while (len > 0 && (p[len - 1] == '\r' || p[len - 1] == '\n' ||
		    p[len - 1] == ' '))
			len--;
		k = len < sizeof(g->content_type) - 1 ? len :
		    sizeof(g->content_type) - 1;
		memcpy(g->content_type, p, k);
		g->content_type[k] = '\0';
	}
	return size * n;
}

static size_t
http_get_body(char *p, size_t size, size_t n, void *arg)
{
	struct http_get	*g = arg;
	size_t		 len = size * n;

	if (g->status < 200 || g->status >= 300) {
		/* An error's or a redirect's body: kept small, for the log. */
		if (g->resp.len < 64 * 1024)
			buf_append(&g->resp, p, len);
		return len;
	}
	if (g->received + (long long)len > g->max_bytes) {
		g->too_large = 1;
		return 0;	/* aborts the transfer */
	}
	g->received += (long long)len;
	if (g->on_data == NULL) {
		buf_append(&g->resp, p, len);
		return len;
	}
	return g->on_data(g->arg, p, len) == 0 ? len : 0;
}

void
http_get(struct http_client *c, struct http_get *g)
{
	struct curl_slist	*hdrs = NULL;
	CURL			*e;
	CURLcode		 rc;
	char			 auth[1024], *next = NULL, errbuf[CURL_ERROR_SIZE];
	const char		*url = g->url, *loc;
	int			 hops;

	g->status = 0;
	g->error[0] = '\0';
	if (g->bearer != NULL) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s",
		    g->bearer);
		hdrs = http_hdr_add(hdrs, auth);
	}
	for (hops = 0;; hops++) {
		errbuf[0] = '\0';
		g->status = 0;
		g->received = 0;
		buf_reset(&g->resp);
		if ((e = http_easy(c, g->error, sizeof(g->error))) == NULL)
			goto out;
		if ((rc = http_common(c, e, url, errbuf, hdrs)) != CURLE_OK ||
		    (rc = http_curl.easy_setopt(e, CURLOPT_HTTPGET,
		    1L)) != CURLE_OK ||
		    (rc = http_curl.easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE,
		    (curl_off_t)g->max_bytes)) != CURLE_OK ||
		    (rc = http_curl.easy_setopt(e, CURLOPT_WRITEFUNCTION,
		    http_get_body)) != CURLE_OK ||
		    (rc = http_curl.easy_setopt(e, CURLOPT_WRITEDATA,
		    g)) != CURLE_OK ||
		    (rc = http_curl.easy_setopt(e, CURLOPT_HEADERFUNCTION,
		    http_get_header)) != CURLE_OK ||
		    (rc = http_curl.easy_setopt(e, CURLOPT_HEADERDATA,
		    g)) != CURLE_OK) {
			snprintf(g->error, sizeof(g->error), "libcurl setup: "
			    "%s", http_curl.easy_strerror(rc));
			goto out;
		}
		rc = http_curl.easy_perform(e);
		if (rc == CURLE_FILESIZE_EXCEEDED)
			g->too_large = 1;
		if (g->too_large) {
			snprintf(g->error, sizeof(g->error), "larger than "
			    "%lld bytes", g->max_bytes);
			g->status = 0;
			goto out;
		}
		if (rc != CURLE_OK) {
			snprintf(g->error, sizeof(g->error), "%s", errbuf[0] ?
			    errbuf : http_curl.easy_strerror(rc));
			g->status = 0;
			goto out;
		}
		if (http_curl.easy_getinfo(e, CURLINFO_RESPONSE_CODE,
		    &g->status) != CURLE_OK) {
			snprintf(g->error, sizeof(g->error),
			    "no HTTP status from libcurl");
			g->status = 0;
			goto out;
		}
		if (g->status < 300 || g->status >= 400)
			goto out;
		loc = NULL;
		if (http_curl.easy_getinfo(e, CURLINFO_REDIRECT_URL, &loc) !=
		    CURLE_OK || loc == NULL) {
			snprintf(g->error, sizeof(g->error),
			    "a redirect without a location");
			g->status = 0;
			goto out;
		}
		if (!http_same_origin(g->url, loc)) {
			snprintf(g->error, sizeof(g->error),
			    "a redirect to another host, refused");
			g->status = 0;
			goto out;
		}
		if (hops + 1 >= HTTP_REDIRECTS_MAX) {
			snprintf(g->error, sizeof(g->error),
			    "too many redirects");
			g->status = 0;
			goto out;
		}
		mem_free(next);
		next = mem_strdup(loc);
		url = next;
	}
out:
	mem_free(next);
	http_curl.slist_free_all(hdrs);
}

void
http_upload_init(struct http_upload *u)
{
	memset(u, 0, sizeof(*u));
	u->retry_after_s = -1;
	buf_init(&u->resp);
}

void
http_upload_cleanup(struct http_upload *u)
{
	buf_cleanup(&u->resp);
}

void
http_upload(struct http_client *c, struct http_upload *u)
{
	struct curl_slist	*hdrs = NULL;
	struct http_req		 r;
	curl_mime		*mime = NULL;
	curl_mimepart		*part = NULL;
	CURL			*e = NULL;
	CURLcode		 rc = CURLE_OK;
	char			 auth[1024], errbuf[CURL_ERROR_SIZE];
	size_t			 i;

	u->status = 0;
	u->error[0] = '\0';
	errbuf[0] = '\0';
	http_req_init(&r);
	hdrs = http_hdr_add(hdrs, "Expect:");
	if (u->bearer != NULL) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s",
		    u->bearer);
		hdrs = http_hdr_add(hdrs, auth);
	}
	if ((e = http_easy(c, u->error, sizeof(u->error))) == NULL)
		goto out;
	if ((mime = http_curl.mime_init(e)) == NULL) {
		snprintf(u->error, sizeof(u->error), "curl_mime_init failed");
		goto out;
	}
	for (i = 0; u->fields != NULL && u->fields[i] != NULL &&
	    u->fields[i + 1] != NULL; i += 2) {
		if ((part = http_curl.mime_addpart(mime)) == NULL ||
		    (rc = http_curl.mime_name(part, u->fields[i])) !=
		    CURLE_OK ||
		    (rc = http_curl.mime_data(part, u->fields[i + 1],
		    CURL_ZERO_TERMINATED)) != CURLE_OK)
			goto setup;
	}
	if ((part = http_curl.mime_addpart(mime)) == NULL ||
	    (rc = http_curl.mime_name(part, u->file_field)) != CURLE_OK ||
	    (rc = http_curl.mime_data(part, u->data, u->len)) != CURLE_OK ||
	    (rc = http_curl.mime_type(part, u->type)) != CURLE_OK ||
	    (u->filename != NULL && (rc = http_curl.mime_filename(part,
	    u->filename)) != CURLE_OK))
		goto setup;
	if ((rc = http_common(c, e, u->url, errbuf, hdrs)) != CURLE_OK ||
	    (rc = http_curl.easy_setopt(e, CURLOPT_MIMEPOST,
	    mime)) != CURLE_OK ||
	    (rc = http_curl.easy_setopt(e, CURLOPT_WRITEFUNCTION,
	    http_on_body)) != CURLE_OK ||
	    (rc = http_curl.easy_setopt(e, CURLOPT_WRITEDATA, &r)) != CURLE_OK ||
	    (rc = http_curl.easy_setopt(e, CURLOPT_HEADERFUNCTION,
	    http_on_header)) != CURLE_OK ||
	    (rc = http_curl.easy_setopt(e, CURLOPT_HEADERDATA, &r)) != CURLE_OK)
		goto setup;
	if ((rc = http_curl.easy_perform(e)) != CURLE_OK) {
		snprintf(u->error, sizeof(u->error), "%s", errbuf[0] ? errbuf :
		    http_curl.easy_strerror(rc));
		goto out;
	}
	if (http_curl.easy_getinfo(e, CURLINFO_RESPONSE_CODE, &u->status) !=
	    CURLE_OK) {
		u->status = 0;
		snprintf(u->error, sizeof(u->error),
		    "no HTTP status from libcurl");
	}
	u->retry_after_s = r.retry_after_s;
	buf_append(&u->resp, r.resp.data, r.resp.len);
	goto out;
setup:
	snprintf(u->error, sizeof(u->error), "libcurl setup: %s",
	    part == NULL ? "out of memory" : http_curl.easy_strerror(rc));
out:
	/* The handle must not keep a pointer to the freed MIME structure. */
	if (e != NULL)
		http_curl.easy_reset(e);
	if (mime != NULL)
		http_curl.mime_free(mime);
	http_req_cleanup(&r);
	http_curl.slist_free_all(hdrs);
}
