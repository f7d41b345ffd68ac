/*
 * api_contacts — the REST routes for contacts (Bearer API key on each).
 *
 * api_contacts_list:  GET /api/contacts/  200 {"data", "next"}, newest
 *   contact (highest id) first; 400 invalid_parameter (with its field),
 *   401, 503 (also a search that ran too long).
 * api_contact_get:    GET /api/contacts/{id}/  200 the contact; 401, 404
 *   not_found, 503.
 * api_contact_change: PATCH /api/contacts/{id}/ {"state", "assignee"}  200
 *   the changed contact; 400 invalid_json, 401, 404 not_found, 413, 415,
 *   422 validation_failed (field state or assignee), 503.
 */
#ifndef WADESK_API_CONTACTS_H
#define WADESK_API_CONTACTS_H

#include "app.h"

void	api_contacts_list(struct app *);
void	api_contact_get(struct app *);
void	api_contact_change(struct app *);

#endif
