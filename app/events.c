#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sodium.h>

#include "child.h"
#include "clock.h"
#include "events.h"
#include "http.h"
#include "log.h"
#include "mem.h"
#include "model_contact.h"
#include "model_message.h"
#include "stmts.h"

#define EVENTS_POLL_MS		200	/* looks for due deliveries */
#define EVENTS_PURGE_S		300
#define EVENTS_ERROR_MAX	200	/* characters of an attempt's error */

const char *const event_types[EVENT__MAX] = {
	[EVENT_MESSAGE_RECEIVED] = "message.received",
	[EVENT_MESSAGE_CREATED] = "message.created",
	[EVENT_MESSAGE_UPDATED] = "message.updated",
	[EVENT_CONTACT_UPDATED] = "contact.updated",
};

/* Multiples of WADESK_EVENTS_RETRY_BASE_MS: 5 s, 5 min, 30 min, 2 h, 5 h,
 * then 10 h. */
static const long events_backoff[] = { 1, 60, 360, 1440, 3600, 7200 };

/* One delivery in flight. */
struct events_job {
	int		 busy;
	struct http_req	 req;
	char		 delivery_id[24];
	char		 endpoint_id[16];
	char		 attempt[16];
	const char	*type;		/* event_types[] */
	long long	 age_ms;
	char		*url;
	char		*body;
	char		 hdr_id[128];
	char		 hdr_ts[48];
	char		 hdr_sig[32 + CRYPTO_WH_SIG_MAX];
	const char	*hdrs[4];
};

static int	events_types_add(const char *, size_t, int *, const char **);
static void	events_types_out(const int *, struct buf *);
static char	*events_render(struct db *, const char *, const char *,
		    const char *, size_t *);
static int	events_claim(struct db *, const struct settings *,
		    struct http_client *, struct events_job *, size_t);
static int	events_start(struct db *, const struct settings *,
		    struct http_client *, struct events_job *, PGresult *, int);
static void	events_record(struct db *, const struct settings *,
		    struct events_job *);
static void	events_job_clear(struct events_job *);

int
events_url_check(const char *url, int allow_private, const char **msg)
{
	struct sockaddr_in	 s4;
	struct sockaddr_in6	 s6;
	const char		*h, *end, *p;
	char			 host[256];
	size_t			 len, n;
	long			 port;

	len = strlen(url);
	if (len == 0 || len > EVENTS_URL_MAX) {
		*msg = "url must be 1-2000 characters";
		return -1;
	}
	for (p = url; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f) {
			*msg = "url must be printable ASCII without spaces "
			    "(percent-encode the rest)";
			return -1;
		}
	if (strncasecmp(url, "https://", 8) == 0)
		h = url + 8;
	else if (strncasecmp(url, "http://", 7) == 0) {
		if (!allow_private) {
			*msg = "url must be https (http only with "
			    "WADESK_EVENTS_ALLOW_PRIVATE=1)";
			return -1;
		}
		h = url + 7;
	} else {
		*msg = "url must start with https://";
		return -1;
	}
	end = h + strcspn(h, "/?#");
	if (memchr(h, '@', (size_t)(end - h)) != NULL) {
		*msg = "url must not hold a user name or password";
		return -1;
	}
	memset(&s4, 0, sizeof(s4));
	memset(&s6, 0, sizeof(s6));
	s4.sin_family = AF_INET;
	s6.sin6_family = AF_INET6;
	if (*h == '[') {
		if ((p = memchr(h, ']', (size_t)(end - h))) == NULL ||
		    (n = (size_t)(p - h - 1)) == 0 || n >= sizeof(host))
			goto bad_host;
		memcpy(host, h + 1, n);
		host[n] = '\0';
		if (inet_pton(AF_INET6, host, &s6.sin6_addr) != 1)
			goto bad_host;
		p++;
	} else {
		p = h + strcspn(h, ":/?#");
		if ((n = (size_t)(p - h)) == 0 || n >= sizeof(host))
			goto bad_host;
		memcpy(host, h, n);
		host[n] = '\0';
	}
	if (p < end) {
		if (*p != ':' || p + 1 == end || (size_t)(end - p - 1) > 5 ||
		    strspn(p + 1, "0123456789") != (size_t)(end - p - 1))
			goto bad_port;
		port = strtol(p + 1, NULL, 10);
		if (port < 1 || port > 65535)
			goto bad_port;
	}
	if (allow_private)
		return 0;
	n = strlen(host);
	if (strcasecmp(host, "localhost") == 0 || (n > 10 &&
	    strcasecmp(host + n - 10, ".localhost") == 0) ||
	    (h[0] == '[' && !http_addr_public((struct sockaddr *)&s6)) ||
	    (h[0] != '[' && inet_aton(host, &s4.sin_addr) == 1 &&
	    !http_addr_public((struct sockaddr *)&s4))) {
		*msg = "url must not point to a private, loopback or "
		    "link-local address (allowed only with "
		    "WADESK_EVENTS_ALLOW_PRIVATE=1)";
		return -1;
	}
	return 0;
bad_host:
	*msg = "url must name a host";
	return -1;
bad_port:
	*msg = "url's port must be 1-65535";
	return -1;
}

/* Marks type s (n bytes) in want; -1 with *msg when it is unknown. */
static int
events_types_add(const char *s, size_t n, int *want, const char **msg)
{
	int	i;

	for (i = 0; i < EVENT__MAX; i++)
		if (strlen(event_types[i]) == n &&
		    memcmp(event_types[i], s, n) == 0) {
			want[i] = 1;
			return 0;
		}
	*msg = "types must be among message.received, message.created, "
	    "message.updated, contact.updated";
	return -1;
}

static void
events_types_out(const int *want, struct buf *out)
{
	const char	*v[EVENT__MAX];
	size_t		 n = 0;
	int		 i;

	for (i = 0; i < EVENT__MAX; i++)
		if (want[i])
			v[n++] = event_types[i];
	db_array(out, v, n);
}

int
events_types_csv(const char *csv, struct buf *out, const char **msg)
{
	int		 want[EVENT__MAX] = { 0 };
	const char	*p = csv;
	size_t		 n;
	int		 i;

	if (csv == NULL || *csv == '\0') {
		for (i = 0; i < EVENT__MAX; i++)
			want[i] = 1;
		events_types_out(want, out);
		return 0;
	}
	for (;;) {
		n = strcspn(p, ",");
		if (events_types_add(p, n, want, msg) == -1)
			return -1;
		if (p[n] == '\0')
			break;
		p += n + 1;
	}
	events_types_out(want, out);
	return 0;
}

int
events_types_json(struct json_object *arr, struct buf *out, const char **msg)
{
	struct json_object	*v;
	int			 want[EVENT__MAX] = { 0 };
	size_t			 i, n;

	if (arr == NULL) {
		for (i = 0; i < EVENT__MAX; i++)
			want[i] = 1;
		events_types_out(want, out);
		return 0;
	}
	if (!json_object_is_type(arr, json_type_array) ||
	    (n = json_object_array_length(arr)) == 0) {
		*msg = "types must be a non-empty array of event types";
		return -1;
	}
	for (i = 0; i < n; i++) {
		v = json_object_array_get_idx(arr, i);
		if (!json_object_is_type(v, json_type_string)) {
			*msg = "types must be a non-empty array of event types";
			return -1;
		}
		if (events_types_add(json_object_get_string(v),
		    (size_t)json_object_get_string_len(v), want, msg) == -1)
			return -1;
	}
	events_types_out(want, out);
	return 0;
}

enum db_rc
events_endpoint_add(struct db *db, const char *url, const char *types,
    char secret[CRYPTO_WH_SECRET_MAX], PGresult **res)
{
	const char	*p[3];

	crypto_wh_secret_new(secret);
	p[0] = url;
	p[1] = types;
	p[2] = secret;
	return db_exec(db, STMT_ENDPOINT_ADD, 3, p, res);
}

struct json_object *
events_endpoint_json(const PGresult *res, int row)
{
	struct json_object	*o, *types;

	o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_int64(
	    strtoll(PQgetvalue(res, row, 0), NULL, 10)));
	json_object_object_add(o, "url",
	    json_object_new_string(PQgetvalue(res, row, 1)));
	if ((types = json_tokener_parse(PQgetvalue(res, row, 2))) == NULL)
		types = json_object_new_array();
	json_object_object_add(o, "types", types);
	json_object_object_add(o, "enabled", json_object_new_boolean(
	    PQgetvalue(res, row, 3)[0] == 't'));
	return o;
}

long
events_backoff_ms(const struct settings *s, long attempt)
{
	size_t	n = sizeof(events_backoff) / sizeof(events_backoff[0]);
	long	d;

	if (attempt < 1)
		attempt = 1;
	d = s->events_retry_base_ms *
	    events_backoff[(size_t)attempt - 1 < n ? (size_t)attempt - 1 :
	    n - 1];
	/* Up to a tenth later, so that retries spread out. */
	return d + (long)randombytes_uniform((uint32_t)(d / 10) + 1);
}

/*
 * Event event_id's body {"type", "timestamp", "data"}, data rendered from
 * its snapshot by the API's own renderer; a mem_alloc'd string, or NULL
 * when the database failed or the event has no snapshot.
 */
static char *
events_render(struct db *db, const char *event_id, const char *type,
    const char *ts, size_t *len)
{
	struct json_object	*o, *data;
	struct message		 m;
	struct contact		 c;
	PGresult		*res = NULL;
	const char		*p[1] = { event_id }, *s;
	char			*body = NULL;
	int			 is_msg;

	is_msg = strncmp(type, "message.", 8) == 0;
	if (db_exec(db, is_msg ? STMT_EVENTS_MESSAGE : STMT_EVENTS_CONTACT, 1,
	    p, &res) != DB_OK || PQntuples(res) != 1)
		goto out;
	if (is_msg) {
		model_message_fill(&m, res, 0);
		data = model_message_json(&m);
	} else {
		model_contact_fill(&c, res, 0);
		data = model_contact_json(&c);
	}
	o = json_object_new_object();
	json_object_object_add(o, "type", json_object_new_string(type));
	json_object_object_add(o, "timestamp", json_object_new_string(ts));
	json_object_object_add(o, "data", data);
	s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE, len);
	body = mem_strndup(s, *len);
	json_object_put(o);
out:
	db_res_free(res);
	return body;
}

static void
events_job_clear(struct events_job *j)
{
	mem_free(j->url);
	mem_free(j->body);
	http_req_cleanup(&j->req);
	sodium_memzero(j->hdr_sig, sizeof(j->hdr_sig));
	memset(j, 0, sizeof(*j));
}

/*
 * Sets up job j for claimed row i of res and starts it.  0, or -1 when it
 * cannot start (j->req.error says why; the caller records the failure).
 */
static int
events_start(struct db *db, const struct settings *s, struct http_client *c,
    struct events_job *j, PGresult *res, int i)
{
	char		 sig[CRYPTO_WH_SIG_MAX];
	const char	*type, *secret;
	size_t		 len = 0;
	long long	 now;
	int		 k;

	memset(j, 0, sizeof(*j));
	j->busy = 1;
	http_req_init(&j->req);
	snprintf(j->delivery_id, sizeof(j->delivery_id), "%s",
	    PQgetvalue(res, i, 0));
	snprintf(j->attempt, sizeof(j->attempt), "%s", PQgetvalue(res, i, 1));
	snprintf(j->endpoint_id, sizeof(j->endpoint_id), "%s",
	    PQgetvalue(res, i, 2));
	j->url = mem_strdup(PQgetvalue(res, i, 3));
	secret = PQgetvalue(res, i, 4);
	type = PQgetvalue(res, i, 7);
	j->type = "unknown";
	for (k = 0; k < EVENT__MAX; k++)
		if (strcmp(type, event_types[k]) == 0)
			j->type = event_types[k];
	j->age_ms = strtoll(PQgetvalue(res, i, 9), NULL, 10);
	if ((j->body = events_render(db, PQgetvalue(res, i, 5), j->type,
	    PQgetvalue(res, i, 8), &len)) == NULL) {
		snprintf(j->req.error, sizeof(j->req.error),
		    "the event could not be rendered");
		return -1;
	}
	now = (long long)time(NULL);
	if (crypto_wh_sign(secret, PQgetvalue(res, i, 6), now, j->body, len,
	    sig) == -1) {
		snprintf(j->req.error, sizeof(j->req.error),
		    "the endpoint's secret is not valid base64");
		return -1;
	}
	snprintf(j->hdr_id, sizeof(j->hdr_id), "webhook-id: %s",
	    PQgetvalue(res, i, 6));
	snprintf(j->hdr_ts, sizeof(j->hdr_ts), "webhook-timestamp: %lld",
	    now);
	snprintf(j->hdr_sig, sizeof(j->hdr_sig), "webhook-signature: %s",
	    sig);
	sodium_memzero(sig, sizeof(sig));
	j->hdrs[0] = j->hdr_id;
	j->hdrs[1] = j->hdr_ts;
	j->hdrs[2] = j->hdr_sig;
	j->hdrs[3] = NULL;
	j->req.url = j->url;
	j->req.body = j->body;
	j->req.body_len = len;
	j->req.headers = j->hdrs;
	j->req.public_only = !s->events_allow_private;
	return http_post_start(c, &j->req);
}

/*
 * Claims due deliveries for the free slots among jobs and starts them;
 * the number claimed, or -1 when the database failed.
 */
static int
events_claim(struct db *db, const struct settings *s, struct http_client *c,
    struct events_job *jobs, size_t njobs)
{
	PGresult	*res = NULL;
	const char	*p[2];
	char		 limit[24], lease[24];
	size_t		 k, free_slots = 0;
	int		 i, n;

	for (k = 0; k < njobs; k++)
		if (!jobs[k].busy)
			free_slots++;
	if (free_slots == 0)
		return 0;
	snprintf(limit, sizeof(limit), "%zu", free_slots);
	/* Well past the timeout: a live process records long before. */
	snprintf(lease, sizeof(lease), "%ld", 2 * s->events_timeout_ms / 1000 +
	    10);
	p[0] = limit;
	p[1] = lease;
	if (db_exec(db, STMT_EVENTS_CLAIM, 2, p, &res) != DB_OK)
		return -1;
	n = PQntuples(res);
	for (i = 0, k = 0; i < n; i++) {
		while (k < njobs && jobs[k].busy)
			k++;
		if (k == njobs)
			break;	/* cannot happen: at most free_slots rows */
		if (events_start(db, s, c, &jobs[k], res, i) == -1)
			events_record(db, s, &jobs[k]);
	}
	db_res_free(res);
	return n;
}

/* Records job j's outcome and frees its slot. */
static void
events_record(struct db *db, const struct settings *s, struct events_job *j)
{
	PGresult	*res = NULL;
	const char	*p[6], *outcome;
	char		 delay[24], status[16], ms[24], err[EVENTS_ERROR_MAX + 8];
	long		 d = 0;
	int		 ok;

	ok = j->req.status >= 200 && j->req.status <= 299;
	if (ok)
		outcome = "delivered";
	else {
		d = events_backoff_ms(s, strtol(j->attempt, NULL, 10));
		outcome = j->age_ms + d > EVENTS_MAX_AGE_MS ? "failed" :
		    "pending";
	}
	snprintf(delay, sizeof(delay), "%ld", d);
	snprintf(status, sizeof(status), "%ld", j->req.status);
	snprintf(ms, sizeof(ms), "%ld", j->req.duration_ms);
	if (j->req.error[0] != '\0')
		snprintf(err, sizeof(err), "%.*s", EVENTS_ERROR_MAX,
		    j->req.error);
	else if (!ok)
		snprintf(err, sizeof(err), "HTTP %ld", j->req.status);
	else
		err[0] = '\0';
	p[0] = j->delivery_id;
	p[1] = outcome;
	p[2] = delay;
	p[3] = j->req.status > 0 ? status : NULL;
	p[4] = ms;
	p[5] = err[0] != '\0' ? err : NULL;
	/* The URL and the signature stay out of the log. */
	log_kv(ok ? LOG_INFO : LOG_WARN, "event delivery",
	    "#delivery_id", j->delivery_id, "#endpoint_id", j->endpoint_id,
	    "type", j->type, "#attempt", j->attempt,
	    "#http_status", status, "outcome", outcome,
	    "error", p[5], "#duration_ms", ms, NULL);
	if (db_ensure(db) != DB_OK ||
	    db_exec(db, STMT_EVENTS_RECORD, 6, p, &res) != DB_OK)
		log_kv(LOG_ERROR, "could not record an event delivery; it is "
		    "sent again when its lease ends", "#delivery_id",
		    j->delivery_id, NULL);
	else if (PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] == 'f')
		log_kv(LOG_WARN, "event endpoint disabled after 5 days of "
		    "failures", "#endpoint_id", j->endpoint_id, NULL);
	db_res_free(res);
	events_job_clear(j);
}

int
events_main(const struct settings *s)
{
	struct http_client	*c;
	struct events_job	*jobs, *j;
	struct http_req		*r;
	struct db		 db;
	PGresult		*res = NULL;
	long long		 next_claim = 0, stop_by = 0, now;
	time_t			 last_purge = 0;
	size_t			 njobs, k;
	int			 n;
	char			 opts[sizeof(s->db_options) + 40];

	signal(SIGPIPE, SIG_IGN);
	njobs = (size_t)s->events_concurrency;
	jobs = mem_calloc(njobs, sizeof(*jobs));
	c = http_client_new(njobs, s->events_timeout_ms);
	/*
	 * Claims and outcomes commit without waiting for the disk: a crash
	 * can only lose a lease (the delivery falls due again) or a recorded
	 * success (the event goes out once more, with the same webhook-id,
	 * which at-least-once delivery allows).  Each event costs two
	 * commits, so this is most of an endpoint's throughput.
	 */
	snprintf(opts, sizeof(opts), "%s -c synchronous_commit=off",
	    s->db_options);
	db_init(&db, s->database_url, opts, stmts_sql, stmts_generic,
	    STMT__MAX);
	db_set_deadline(&db, s->db_deadline_ms);
	for (;;) {
		now = clock_ms();
		/* At most 2 s: what is still in flight then is sent again
		 * when its lease ends. */
		if (child_stop && stop_by == 0)
			stop_by = now + (s->events_timeout_ms < 2000 ?
			    s->events_timeout_ms : 2000);
		/* Stopping: no new claims; what is in flight ends first. */
		if (child_stop && (http_client_busy(c) == 0 || now > stop_by))
			break;
		if (!child_stop && now >= next_claim) {
			if (db_ensure(&db) != DB_OK)
				n = -1;
			else
				n = events_claim(&db, s, c, jobs, njobs);
			/* Rows left: claim again as soon as a slot frees. */
			next_claim = now + (n > 0 ? 0 : EVENTS_POLL_MS);
			if (n > 0 && http_client_busy(c) == njobs)
				next_claim = now + EVENTS_POLL_MS;
		}
		if (http_client_busy(c) == 0) {
			if (!child_stop && next_claim > clock_ms())
				usleep((useconds_t)(next_claim -
				    clock_ms()) * 1000);
		} else if ((r = http_post_next(c, next_claim > now ?
		    next_claim - now : 0)) != NULL) {
			for (k = 0; k < njobs; k++) {
				j = &jobs[k];
				if (j->busy && &j->req == r) {
					events_record(&db, s, j);
					break;
				}
			}
			/* The endpoint's next delivery is due now. */
			next_claim = 0;
		}
		if (time(NULL) - last_purge >= EVENTS_PURGE_S &&
		    db.conn != NULL) {
			last_purge = time(NULL);
			if (db_exec(&db, STMT_EVENTS_PURGE, 0, NULL, &res) ==
			    DB_OK)
				db_res_free(res);
			res = NULL;
		}
	}
	for (k = 0; k < njobs; k++)
		if (jobs[k].busy) {
			mem_free(jobs[k].url);
			mem_free(jobs[k].body);
			http_req_cleanup(&jobs[k].req);
		}
	http_client_free(c);
	mem_free(jobs);
	db_cleanup(&db);
	log_kv(LOG_INFO, "event delivery stopped", NULL);
	return 0;
}
