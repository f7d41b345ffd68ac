/*
 * page_conversations — /admin/conversations/: one row per contact (a
 * customer known by phone, BSUID or both), the latest customer message
 * first, filtered (open by default; mine, unassigned, resolved, all), with
 * the last message, the unread count, the state and the assignee; and one
 * contact's thread as chat bubbles (quoted replies, reactions, ticks up to
 * played) under the customer's identity, with the forms that resolve,
 * reopen and assign it and a reply box that posts to the send form (the
 * same path as the API) and comes back to the thread.
 *
 * Every route needs a session (else 303 to the login) and answers HTML; the
 * POST forms need their CSRF token (else 403, nothing changed).
 */
#ifndef WADESK_PAGE_CONVERSATIONS_H
#define WADESK_PAGE_CONVERSATIONS_H

#include "app.h"

/* GET /admin/conversations/?filter=open|mine|unassigned|resolved|all
 * &before_id=<contact id>: 400 on an unknown filter or a bad cursor. */
void	page_conversations_list(struct app *);
/*
 * GET /admin/conversations/{contact id}?before_id=<message id>: the thread;
 * opening it sets the contact's unread count to 0.  An id that is no
 * contact but the digits of a known contact's phone (the old URLs) answers
 * 303 to that contact's URL; anything else 404.
 */
void	page_conversations_show(struct app *);
/* POST /admin/conversations/{contact id}/state (state=open|resolved):
 * 303 back to the thread; 404 no such contact, 422 a bad state. */
void	page_conversations_state(struct app *);
/* POST /admin/conversations/{contact id}/assign (assignee=<admin user id>,
 * empty for nobody): 303 back; 404 no such contact, 422 no such user. */
void	page_conversations_assign(struct app *);
/* POST /admin/conversations/{contact id}/react (message_id, emoji: one of
 * those offered; sender): the reaction is sent, 303 back to the message;
 * 400 a reaction not offered, 404, 422 refused (another conversation's
 * message, the 24-hour window). */
void	page_conversations_react(struct app *);

#endif
