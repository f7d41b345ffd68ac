/*
 * page_compose — the template part of the admin's sending forms (the
 * conversation's reply area and the Send Message page), without
 * JavaScript: a GET form chooses an approved template and fills its
 * parameters ("p.NAME" fields, one per placeholder, labelled by it), the
 * page renders the text the customer will read, and a POST form sends
 * exactly that to /admin/messages/new ("template" = "NAME/LANGUAGE").
 */
#ifndef WADESK_PAGE_COMPOSE_H
#define WADESK_PAGE_COMPOSE_H

#include <json-c/json.h>

#include "admin.h"
#include "model_send.h"
#include "query.h"

/* Where a composed message goes, as the POST form's hidden fields. */
struct compose_to {
	const char	*back;		/* "conversation" or NULL */
	const char	*receiver;	/* or NULL */
	const char	*contact_id;	/* or NULL */
	const char	*sender;	/* or NULL: the business number */
	const char	*reply_to;	/* or NULL */
};

/*
 * The template chooser and, once one is chosen (q's "template"), its
 * parameter fields, preview and send button.  self is the page's own path
 * (the GET form's action); keep names a query field the GET form carries
 * along (e.g. "to"), or NULL.  -1 after answering a database error.
 */
int	compose_template(struct admin_page *, const char *, const char *,
	    const struct compose_to *, const struct query *)
	    __attribute__((warn_unused_result));
/*
 * A POST form's template ("template", "p.NAME") into x: 0 (x->tname NULL
 * when the form has none); -1 with why in err; -2 with a database error
 * in *rc.  *owned (put by the caller) holds the parameters.
 */
int	compose_extras(struct app *, const struct query *,
	    struct send_extras *, struct json_object **, char *, size_t,
	    enum db_rc *) __attribute__((warn_unused_result));

#endif
