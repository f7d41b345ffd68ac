/*
 * api_messages — the REST routes for messages (Bearer API key on each).
 *
 * api_send_message:  POST /api/send-message/  201 with the message; 400
 *   invalid_json / invalid_idempotency_key, 401, 409 idempotency_in_flight,
 *   413, 415, 422 validation_failed / idempotency_key_reused, 503.
 * api_messages_list: GET /api/messages/  200 {"data", "next"}; filters
 *   status, direction, contact (a phone, with or without '+', or a BSUID),
 *   contact_id (not with contact), q, before_id, limit; 400
 *   invalid_parameter, 401, 503.
 * api_message_get:   GET /api/messages/{id}/  200 the message with its
 *   events; 401, 404, 503.
 */
#ifndef WADESK_API_MESSAGES_H
#define WADESK_API_MESSAGES_H

#include "app.h"

void	api_send_message(struct app *);
void	api_messages_list(struct app *);
void	api_message_get(struct app *);

#endif
