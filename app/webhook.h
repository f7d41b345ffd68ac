/*
 * webhook — what WhatsApp (or a test) calls.
 *
 * webhook_verify:  GET /api/webhook/?hub.mode=subscribe&hub.verify_token=T
 *   &hub.challenge=C  200 text/plain C when T is WADESK_VERIFY_TOKEN; 403
 *   forbidden otherwise; 400 invalid_parameter without a challenge.
 * webhook_receive: POST /api/webhook/  the signature (X-Hub-Signature-256)
 *   is checked over the raw bytes first: 401 and nothing stored when it is
 *   missing or wrong.  Then 415, 400 invalid_json, 422 validation_failed
 *   for an unknown shape or bad fields, 503; 200 once everything is committed.
 */
#ifndef WADESK_WEBHOOK_H
#define WADESK_WEBHOOK_H

#include "app.h"

void	webhook_verify(struct app *);
/* The route step ROUTE_SIGNED: reads the body and checks its signature;
 * -1 after answering 413, 400 or 401. */
int	webhook_signed(struct app *) __attribute__((warn_unused_result));
/* ROUTE_WEBHOOK's handler: a->json is the signed body. */
void	webhook_receive(struct app *);

#endif
