/*
 * page_messages — the message pages of /admin/: the list (filters, search,
 * keyset pagination, counts per status), the send form, one message with
 * its history, and the retry of a failed outbound message.
 *
 * Every handler needs a session (else 303 to the login) and answers HTML:
 * 400 for a bad query parameter, 404 for an unknown id, 403 for a POST
 * without the session's CSRF token, 503/500 for the database.
 */
#ifndef WADESK_PAGE_MESSAGES_H
#define WADESK_PAGE_MESSAGES_H

#include "app.h"

/* GET /admin/messages/?status=&direction=&q=&before_id=&after_id= */
void	page_messages_list(struct app *);
/* GET /admin/messages/new?to=: the send form. */
void	page_messages_new(struct app *);
/*
 * POST /admin/messages/new: the API's checks (model_message_check); 422
 * with the form, the errors next to their fields and the values kept; else
 * model_message_send() and 303 to the message (or, with back=conversation,
 * to the conversation) with ?sent=1.
 */
void	page_messages_send(struct app *);
/* GET /admin/messages/{id} */
void	page_messages_show(struct app *);
/* POST /admin/messages/{id}/retry: 303 back with ?retried=1; 409 when the
 * message is not a failed outbound one. */
void	page_messages_retry(struct app *);

#endif
