/*
 * api_endpoints — the REST routes for event endpoints (Bearer API key).
 *
 * api_endpoints_list:   GET /api/endpoints/  200 {"data": [{"id", "url",
 *   "types", "enabled"}]}, oldest first, never a secret; 401, 503.
 * api_endpoints_create: POST /api/endpoints/ {"url", "types"?}  201 {"id",
 *   "url", "types", "enabled", "secret"} (the only answer that shows the
 *   secret); 400 invalid_json, 401, 413, 415, 422 validation_failed (field
 *   url: not https, a private address without WADESK_EVENTS_ALLOW_PRIVATE,
 *   malformed; field types: not a non-empty array of known types), 503.
 */
#ifndef WADESK_API_ENDPOINTS_H
#define WADESK_API_ENDPOINTS_H

#include "app.h"

void	api_endpoints_list(struct app *);
void	api_endpoints_create(struct app *);

#endif
