/*
 * settings — the program's configuration, read once from WADESK_* variables.
 *
 * settings_load() checks everything up front so a bad value stops the program
 * at start with a message naming the variable.  Strings borrow from environ.
 */
#ifndef WADESK_SETTINGS_H
#define WADESK_SETTINGS_H

#include "cfg.h"
#include "valid.h"

enum settings_need {
	NEED_DATABASE = 1 << 0,		/* WADESK_DATABASE_URL */
	NEED_SECRETS = 1 << 1,		/* WADESK_APP_SECRET */
	NEED_PROVIDER = 1 << 2,		/* the dispatcher's provider settings */
};

#define SETTINGS_SECRET_MIN	32	/* bytes of WADESK_APP_SECRET */
/*
 * The default WADESK_CLOUDAPI_VERSION: a current Graph API version (each
 * lives about two years; v21.0 ends on 2027-01-21).
 */
#define SETTINGS_CLOUDAPI_VERSION	"v27.0"

enum provider_kind {
	PROVIDER_SIMULATED,
	PROVIDER_CLOUDAPI,
	PROVIDER__MAX
};

struct settings {
	const char	*database_url;
	const char	*app_secret;
	const char	*verify_token;		/* NULL: handshake always 403 */
	const char	*socket;
	/*
	 * WADESK_COOKIE_SECURE: whether the session cookie gets the Secure
	 * attribute.  -1 (auto, the default): when nginx says the request
	 * came over HTTPS (the HTTPS parameter); 0: never; 1: always (TLS
	 * ends before nginx).
	 */
	int		 cookie_secure;
	/*
	 * WADESK_DEV=1: the local stack (nginx/stack.sh sets it).  Lets the
	 * placeholder and short-secret checks pass; never set it elsewhere.
	 */
	int		 dev;
	long		 workers;
	long		 statement_timeout_ms;
	char		 business_number[VALID_PHONE_MAX];	/* "" if unset */
	char		 db_options[128];
	long		 db_deadline_ms;	/* for db_set_deadline() */

	/* The dispatcher and its provider. */
	enum provider_kind provider;
	long		 max_attempts;
	long		 concurrency;
	long		 batch;
	long		 backoff_base_ms;
	long		 backoff_max_ms;
	long		 lease_s;
	long		 sim_deliver_ms;
	long		 sim_read_ms;
	double		 sim_fail_rate;
	const char	*cloudapi_base_url;
	const char	*cloudapi_version;	/* vNN.N, checked */
	const char	*cloudapi_token;
	const char	*phone_number_id;
	long		 cloudapi_timeout_ms;

	/*
	 * The 24-hour window and templates (always read).  window_policy: a
	 * free-form send to a customer whose window is closed is refused
	 * (the cloudapi provider, or WADESK_SIM_WINDOW=1).
	 */
	int		 window_policy;
	int		 sim_window;		/* WADESK_SIM_WINDOW */
	/*
	 * A send's sender must be a business number (the cloudapi provider:
	 * WhatsApp sends only from a number it knows); else 422
	 * unknown_sender.
	 */
	int		 senders_known;
	long		 number_mps;		/* WADESK_NUMBER_MPS */
	int		 read_receipts;		/* WADESK_READ_RECEIPTS */
	const char	*waba_id;		/* WADESK_WABA_ID, or NULL */
	long		 template_sync_s;	/* 0: no periodic sync */
	/* Events to other systems (outbound webhooks). */
	/*
	 * WADESK_EVENTS_ALLOW_PRIVATE=1: endpoints may be http and on
	 * private or loopback addresses (the local stack); never in
	 * production.
	 */
	int		 events_allow_private;
	long		 events_timeout_ms;	/* per delivery, 10 s */
	long		 events_retry_base_ms;	/* the first retry, 5 s */
	long		 events_concurrency;	/* deliveries at once */
	/* Media (the dispatcher): the largest file fetched, a fetch's time. */
	long		 media_max_bytes;
	long		 media_timeout_ms;
};

/*
 * Reads and checks every setting `need` asks for; 0, or -1 with a message
 * naming the variable in err.  Outside the local stack (WADESK_DEV) it
 * refuses the placeholder secrets that example files used to ship and a
 * WADESK_APP_SECRET shorter than SETTINGS_SECRET_MIN bytes.
 */
int	settings_load(struct settings *, int, struct cfg_err *)
	    __attribute__((warn_unused_result));

#endif
