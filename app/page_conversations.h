/*
 * page_conversations — /admin/conversations/: one row per customer number
 * (latest activity first, with the last message and the unread count:
 * inbound messages newer than the last outbound reply), and one customer's
 * thread as chat bubbles with a reply box that posts to the send form
 * (the same path as the API) and comes back to the thread.
 *
 * Both need a session (else 303 to the login) and answer HTML; an unknown
 * number shows an empty thread (a new conversation can start there).
 */
#ifndef WADESK_PAGE_CONVERSATIONS_H
#define WADESK_PAGE_CONVERSATIONS_H

#include "app.h"

/* GET /admin/conversations/?before_id= */
void	page_conversations_list(struct app *);
/* GET /admin/conversations/{number}?before_id= (digits, no '+'). */
void	page_conversations_show(struct app *);

#endif
