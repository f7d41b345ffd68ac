#include <stdio.h>
#include <string.h>

#include "settings.h"

int
settings_load(struct settings *s, int need, struct cfg_err *err)
{
	const char	*bn;

	memset(s, 0, sizeof(*s));
	if ((need & NEED_DATABASE) &&
	    cfg_str_required("WADESK_DATABASE_URL", &s->database_url, err) == -1)
		return -1;
	if ((need & NEED_SECRETS) &&
	    cfg_str_required("WADESK_APP_SECRET", &s->app_secret, err) == -1)
		return -1;
	s->verify_token = cfg_str("WADESK_VERIFY_TOKEN", NULL);
	s->socket = cfg_str("WADESK_SOCKET", "127.0.0.1:9000");
	if (cfg_long("WADESK_WORKERS", 4, 1, 256, &s->workers, err) == -1)
		return -1;
	if (cfg_long("WADESK_STATEMENT_TIMEOUT_MS", 5000, 100, 600000,
	    &s->statement_timeout_ms, err) == -1)
		return -1;
	bn = cfg_str("WADESK_BUSINESS_NUMBER", NULL);
	if (bn != NULL &&
	    valid_phone(bn, strlen(bn), s->business_number) == -1) {
		snprintf(err->msg, sizeof(err->msg), "WADESK_BUSINESS_NUMBER "
		    "must be a phone number: optional +, 7-15 digits");
		return -1;
	}
	/*
	 * Every connection: UTC, a bound on any statement, and custom plans so
	 * the optional-filter list query uses the index that fits its values.
	 */
	snprintf(s->db_options, sizeof(s->db_options),
	    "-c statement_timeout=%ld -c TimeZone=UTC "
	    "-c plan_cache_mode=force_custom_plan", s->statement_timeout_ms);
	return 0;
}
