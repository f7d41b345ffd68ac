/*
 * events — events to other systems (outbound webhooks): the endpoints'
 * checks, creating an endpoint, and the delivery process.
 *
 * Events are written by triggers (sql/014) in the transaction of the change
 * they announce, one delivery per subscribed endpoint.  `wadesk dispatch`
 * forks one delivery process (events_main) that claims each enabled
 * endpoint's oldest due delivery (at most one in flight per endpoint, so
 * an endpoint hears its events in order as far as retries allow), renders
 * the event's snapshot with the API's renderers, signs it as Standard
 * Webhooks says and POSTs it with libcurl, up to WADESK_EVENTS_CONCURRENCY
 * endpoints at once.  A slow endpoint holds only its own slot; WhatsApp
 * sends run in the dispatcher's own process, untouched.
 *
 * A 2xx is delivered; anything else is retried after 1, 60, 360, 1440,
 * 3600, then 7200 times WADESK_EVENTS_RETRY_BASE_MS (5 s, 5 min, 30 min,
 * 2 h, 5 h, 10 h ...) until the delivery is 3 days old, then failed.  An
 * endpoint whose every attempt failed for 5 days is disabled.
 */
#ifndef WADESK_EVENTS_H
#define WADESK_EVENTS_H

#include <sys/types.h>
#include <json-c/json.h>
#include <libpq-fe.h>

#include "buf.h"
#include "crypto.h"
#include "db.h"
#include "settings.h"

#define EVENTS_URL_MAX		2000
#define EVENTS_MAX_AGE_MS	(3LL * 86400 * 1000)

enum event_type {
	EVENT_MESSAGE_RECEIVED,
	EVENT_MESSAGE_CREATED,
	EVENT_MESSAGE_UPDATED,
	EVENT_CONTACT_UPDATED,
	EVENT__MAX
};

extern const char *const event_types[EVENT__MAX];

/*
 * Checks an endpoint URL: 1-2000 printable ASCII characters, https://
 * (http:// only when allow_private), a host, no user information, a port
 * of 1-65535 when given; without allow_private, no host that is
 * localhost or an IP address that is not public (http_addr_public).
 * Names are checked again, resolved, at each connection.  0, or -1 with a
 * message for the client in *msg.
 */
int	events_url_check(const char *, int, const char **)
	    __attribute__((warn_unused_result));
/*
 * The types an endpoint receives, as a PostgreSQL text[] literal into out
 * (in enum order, each once): from a comma-separated list (NULL or "":
 * every type) or a JSON array of strings (NULL: every type).  0, or -1
 * with a message in *msg (an unknown type, an empty list).
 */
int	events_types_csv(const char *, struct buf *, const char **)
	    __attribute__((warn_unused_result));
int	events_types_json(struct json_object *, struct buf *, const char **)
	    __attribute__((warn_unused_result));
/*
 * A new endpoint with a new secret (written to secret; shown once, never
 * logged).  One row back: id, url, types (JSON text), enabled.
 */
enum db_rc events_endpoint_add(struct db *, const char *, const char *,
	    char [CRYPTO_WH_SECRET_MAX], PGresult **)
	    __attribute__((warn_unused_result));
/* Row row of STMT_ENDPOINT_ADD or _LIST as the API's endpoint (no secret). */
struct json_object *events_endpoint_json(const PGresult *, int);
/* The wait before retry number attempt (1: after the first failure). */
long	events_backoff_ms(const struct settings *, long);
/*
 * The delivery loop, in a process the dispatcher forks (app/child.h),
 * until child_stop; 0.
 */
int	events_main(const struct settings *);

#endif
