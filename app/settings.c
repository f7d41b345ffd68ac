#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "settings.h"

static int	settings_provider(struct settings *, struct cfg_err *);
static long	settings_default_workers(void);
static int	settings_placeholder(const char *);
static int	settings_secrets(const struct settings *, struct cfg_err *);
static int	settings_cookie(struct settings *, struct cfg_err *);
static int	settings_graph_version(const char *);
static int	settings_window(struct settings *, struct cfg_err *);
static int	settings_events(struct settings *, struct cfg_err *);

/*
 * Values that example files (docker-compose.yml, the README) shipped as
 * defaults at one time or another: whoever copied them has secrets that
 * everybody knows.  Compared without regard to case.
 */
static const char *const settings_placeholders[] = {
	"change-me-app-secret",
	"change-me-verify-token",
	"wadesk-dev-password",
	"change-me",
	"changeme",
	"secret",
	"password",
};

/*
 * Four workers per core (at most 128): a worker waits on PostgreSQL for
 * most of a request, so one per core leaves the cores idle.  On two cores
 * make bench measured 8 workers ahead of 4 (about 5-10 % more sends and
 * webhooks) and 16 no better than 8.
 */
static long
settings_default_workers(void)
{
	long	n;

	if ((n = sysconf(_SC_NPROCESSORS_ONLN)) < 1)
		n = 1;
	if (n > 32)
		n = 32;
	return 4 * n;
}

/*
 * A Graph API version as it stands in the path: 'v', a number without a
 * leading zero (at most three digits), '.', one or two digits ("v27.0").
 * 0 or -1.
 */
static int
settings_graph_version(const char *v)
{
	size_t	n;

	if (v[0] != 'v' || v[1] < '1' || v[1] > '9')
		return -1;
	n = strspn(v + 1, "0123456789");
	if (n > 3 || v[1 + n] != '.')
		return -1;
	v += 1 + n + 1;
	n = strspn(v, "0123456789");
	return n >= 1 && n <= 2 && v[n] == '\0' ? 0 : -1;
}

static int
settings_provider(struct settings *s, struct cfg_err *err)
{
	const char	*p;

	p = cfg_str("WADESK_PROVIDER", "simulated");
	if (strcmp(p, "simulated") == 0)
		s->provider = PROVIDER_SIMULATED;
	else if (strcmp(p, "cloudapi") == 0)
		s->provider = PROVIDER_CLOUDAPI;
	else {
		snprintf(err->msg, sizeof(err->msg),
		    "WADESK_PROVIDER must be simulated or cloudapi");
		return -1;
	}
	if (cfg_long("WADESK_MAX_ATTEMPTS", 8, 1, 100, &s->max_attempts,
	    err) == -1 ||
	    cfg_long("WADESK_DISPATCH_CONCURRENCY", 16, 1, 256,
	    &s->concurrency, err) == -1 ||
	    cfg_long("WADESK_DISPATCH_BATCH", 64, 1, 1000, &s->batch,
	    err) == -1 ||
	    cfg_long("WADESK_BACKOFF_BASE_MS", 1000, 1, 3600000,
	    &s->backoff_base_ms, err) == -1 ||
	    cfg_long("WADESK_BACKOFF_MAX_MS", 300000, 1, 86400000,
	    &s->backoff_max_ms, err) == -1 ||
	    cfg_long("WADESK_LEASE_S", 60, 1, 3600, &s->lease_s, err) == -1 ||
	    cfg_long("WADESK_SIM_DELIVER_MS", 1000, 0, 86400000,
	    &s->sim_deliver_ms, err) == -1 ||
	    cfg_long("WADESK_SIM_READ_MS", 3000, 0, 86400000,
	    &s->sim_read_ms, err) == -1 ||
	    cfg_double("WADESK_SIM_FAIL_RATE", 0, 0, 1, &s->sim_fail_rate,
	    err) == -1 ||
	    cfg_long("WADESK_CLOUDAPI_TIMEOUT_MS", 10000, 100, 120000,
	    &s->cloudapi_timeout_ms, err) == -1 ||
	    cfg_long("WADESK_MEDIA_MAX_BYTES", 100L * 1024 * 1024, 1024,
	    1024L * 1024 * 1024, &s->media_max_bytes, err) == -1 ||
	    cfg_long("WADESK_MEDIA_TIMEOUT_MS", 120000, 1000, 3600000,
	    &s->media_timeout_ms, err) == -1)
		return -1;
	s->cloudapi_base_url = cfg_str("WADESK_CLOUDAPI_BASE_URL",
	    "https://graph.facebook.com");
	s->cloudapi_version = cfg_str("WADESK_CLOUDAPI_VERSION",
	    SETTINGS_CLOUDAPI_VERSION);
	if (settings_graph_version(s->cloudapi_version) == -1) {
		snprintf(err->msg, sizeof(err->msg), "WADESK_CLOUDAPI_VERSION "
		    "must be a Graph API version such as %s ('v', a number, "
		    "'.', a number)", SETTINGS_CLOUDAPI_VERSION);
		return -1;
	}
	if (s->provider == PROVIDER_CLOUDAPI &&
	    (cfg_str_required("WADESK_CLOUDAPI_TOKEN", &s->cloudapi_token,
	    err) == -1 ||
	    cfg_str_required("WADESK_PHONE_NUMBER_ID", &s->phone_number_id,
	    err) == -1))
		return -1;
	return 0;
}

/*
 * The window policy and templates, for the workers as for the dispatcher:
 * the provider is only named here (settings_provider checks it).
 */
static int
settings_window(struct settings *s, struct cfg_err *err)
{
	long	v;

	if (cfg_long("WADESK_SIM_WINDOW", 0, 0, 1, &v, err) == -1)
		return -1;
	s->sim_window = (int)v;
	s->senders_known =
	    strcmp(cfg_str("WADESK_PROVIDER", "simulated"), "cloudapi") == 0;
	s->window_policy = s->sim_window || s->senders_known;
	if (cfg_long("WADESK_NUMBER_MPS", 80, 1, 100000, &s->number_mps,
	    err) == -1)
		return -1;
	if (cfg_long("WADESK_READ_RECEIPTS", 1, 0, 1, &v, err) == -1)
		return -1;
	s->read_receipts = (int)v;
	s->waba_id = cfg_str("WADESK_WABA_ID", NULL);
	if (s->waba_id != NULL && (*s->waba_id == '\0' ||
	    strspn(s->waba_id, "0123456789") != strlen(s->waba_id))) {
		snprintf(err->msg, sizeof(err->msg),
		    "WADESK_WABA_ID must be the WhatsApp Business Account id "
		    "(digits)");
		return -1;
	}
	return cfg_long("WADESK_TEMPLATE_SYNC_S", 3600, 0, 604800,
	    &s->template_sync_s, err);
}

/* 1 when v is, or starts with, a known placeholder ("change-me-..."). */
static int
settings_placeholder(const char *v)
{
	size_t	i;

	if (v == NULL)
		return 0;
	if (strncasecmp(v, "change-me", 9) == 0 ||
	    strncasecmp(v, "changeme", 8) == 0)
		return 1;
	for (i = 0; i < sizeof(settings_placeholders) /
	    sizeof(settings_placeholders[0]); i++)
		if (strcasecmp(v, settings_placeholders[i]) == 0)
			return 1;
	return 0;
}

/*
 * Outside the local stack: no placeholder secret, no placeholder database
 * password (looked for as ":PLACEHOLDER@" or "password=PLACEHOLDER" in the
 * URL), and an app secret of SETTINGS_SECRET_MIN bytes at least.  The
 * messages name the variable, never its value.
 */
static int
settings_secrets(const struct settings *s, struct cfg_err *err)
{
	const char	*u, *p;
	char		 pw[64];
	size_t		 n;

	if (s->dev)
		return 0;
	if (settings_placeholder(s->app_secret)) {
		snprintf(err->msg, sizeof(err->msg), "WADESK_APP_SECRET is a "
		    "published placeholder: set a random secret of at least "
		    "%d bytes (e.g. openssl rand -hex 32)",
		    SETTINGS_SECRET_MIN);
		return -1;
	}
	if (s->app_secret != NULL &&
	    strlen(s->app_secret) < SETTINGS_SECRET_MIN) {
		snprintf(err->msg, sizeof(err->msg),
		    "WADESK_APP_SECRET must be at least %d bytes "
		    "(e.g. openssl rand -hex 32)",
		    SETTINGS_SECRET_MIN);
		return -1;
	}
	if (settings_placeholder(s->verify_token)) {
		snprintf(err->msg, sizeof(err->msg), "WADESK_VERIFY_TOKEN is a "
		    "published placeholder: set a random token");
		return -1;
	}
	if ((u = s->database_url) == NULL)
		return 0;
	/* postgresql://user:PASSWORD@host/... */
	if ((p = strstr(u, "://")) != NULL) {
		p += 3;
		n = strcspn(p, "@/");
		if (p[n] == '@' && (p = memchr(p, ':', n)) != NULL) {
			n = (size_t)(strchr(p, '@') - p) - 1;
			snprintf(pw, sizeof(pw), "%.*s", (int)n, p + 1);
			if (n < sizeof(pw) && settings_placeholder(pw))
				goto bad;
		}
	}
	/* ... password=PASSWORD (a query parameter or a keyword string) */
	if ((p = strstr(u, "password=")) != NULL) {
		p += 9;
		n = strcspn(p, "& ");
		snprintf(pw, sizeof(pw), "%.*s", (int)n, p);
		if (n < sizeof(pw) && settings_placeholder(pw))
			goto bad;
	}
	return 0;
bad:
	snprintf(err->msg, sizeof(err->msg), "WADESK_DATABASE_URL has a "
	    "published placeholder password: set a random one");
	return -1;
}

static int
settings_cookie(struct settings *s, struct cfg_err *err)
{
	const char	*v;

	v = cfg_str("WADESK_COOKIE_SECURE", "auto");
	if (strcmp(v, "auto") == 0)
		s->cookie_secure = -1;
	else if (strcmp(v, "0") == 0)
		s->cookie_secure = 0;
	else if (strcmp(v, "1") == 0)
		s->cookie_secure = 1;
	else {
		snprintf(err->msg, sizeof(err->msg),
		    "WADESK_COOKIE_SECURE must be 0, 1 or auto");
		return -1;
	}
	return 0;
}

/* The events' settings, read by every command (the API and the CLI check
 * endpoints' URLs; the dispatcher delivers). */
static int
settings_events(struct settings *s, struct cfg_err *err)
{
	const char	*v;

	v = cfg_str("WADESK_EVENTS_ALLOW_PRIVATE", "0");
	if (strcmp(v, "0") != 0 && strcmp(v, "1") != 0) {
		snprintf(err->msg, sizeof(err->msg),
		    "WADESK_EVENTS_ALLOW_PRIVATE must be 0 or 1");
		return -1;
	}
	s->events_allow_private = strcmp(v, "1") == 0;
	if (cfg_long("WADESK_EVENTS_TIMEOUT_MS", 10000, 100, 60000,
	    &s->events_timeout_ms, err) == -1 ||
	    cfg_long("WADESK_EVENTS_RETRY_BASE_MS", 5000, 10, 3600000,
	    &s->events_retry_base_ms, err) == -1 ||
	    cfg_long("WADESK_EVENTS_CONCURRENCY", 16, 1, 256,
	    &s->events_concurrency, err) == -1)
		return -1;
	return 0;
}

int
settings_load(struct settings *s, int need, struct cfg_err *err)
{
	const char	*bn, *dev;

	memset(s, 0, sizeof(*s));
	dev = cfg_str("WADESK_DEV", "0");
	if (strcmp(dev, "0") != 0 && strcmp(dev, "1") != 0) {
		snprintf(err->msg, sizeof(err->msg),
		    "WADESK_DEV must be 0 or 1");
		return -1;
	}
	s->dev = strcmp(dev, "1") == 0;
	if ((need & NEED_DATABASE) &&
	    cfg_str_required("WADESK_DATABASE_URL", &s->database_url, err) == -1)
		return -1;
	if ((need & NEED_SECRETS) &&
	    cfg_str_required("WADESK_APP_SECRET", &s->app_secret, err) == -1)
		return -1;
	s->verify_token = cfg_str("WADESK_VERIFY_TOKEN", NULL);
	if (settings_secrets(s, err) == -1 || settings_cookie(s, err) == -1)
		return -1;
	s->socket = cfg_str("WADESK_SOCKET", "127.0.0.1:9000");
	if (cfg_long("WADESK_WORKERS", settings_default_workers(), 1, 256,
	    &s->workers, err) == -1)
		return -1;
	if (cfg_long("WADESK_STATEMENT_TIMEOUT_MS", 5000, 100, 600000,
	    &s->statement_timeout_ms, err) == -1)
		return -1;
	/* The one-number shortcut's id (required by the cloudapi provider). */
	s->phone_number_id = cfg_str("WADESK_PHONE_NUMBER_ID", NULL);
	bn = cfg_str("WADESK_BUSINESS_NUMBER", NULL);
	if (bn != NULL &&
	    valid_phone(bn, strlen(bn), s->business_number) == -1) {
		snprintf(err->msg, sizeof(err->msg), "WADESK_BUSINESS_NUMBER "
		    "must be a phone number: optional +, 7-15 digits");
		return -1;
	}
	if ((need & NEED_PROVIDER) && settings_provider(s, err) == -1)
		return -1;
	if (settings_window(s, err) == -1 || settings_events(s, err) == -1)
		return -1;
	/*
	 * Every connection: UTC and a bound on any statement.  (Statements
	 * whose best plan depends on their values are planned per call: see
	 * stmts_generic.)
	 */
	snprintf(s->db_options, sizeof(s->db_options),
	    "-c statement_timeout=%ld -c TimeZone=UTC", s->statement_timeout_ms);
	/* A commit can wait past statement_timeout (see db_set_deadline). */
	s->db_deadline_ms = s->statement_timeout_ms + 2000;
	return 0;
}
