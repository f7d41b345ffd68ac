/*
 * template_sync — loads the message templates into the templates table:
 * with the cloudapi provider every page of WhatsApp's
 * GET /{WADESK_WABA_ID}/message_templates, with the simulated provider the
 * built-in catalog.  One transaction: a template WhatsApp no longer lists
 * is dropped, and a failed sync changes nothing.  Used by
 * `wadesk templates sync` and by the dispatcher (every
 * WADESK_TEMPLATE_SYNC_S).
 */
#ifndef WADESK_TEMPLATE_SYNC_H
#define WADESK_TEMPLATE_SYNC_H

#include <stddef.h>

#include "db.h"
#include "settings.h"

/* How many templates were loaded, or -1 with why in err. */
int	template_sync(struct db *, const struct settings *, char *, size_t);

#endif
