/*
 * model_template — WhatsApp message templates: loading them (a page of
 * WhatsApp's GET /{WABA id}/message_templates answer, or the simulated
 * provider's built-in catalog in the same shape), their placeholders, and
 * the text a send with parameters renders to.
 */
#ifndef WADESK_MODEL_TEMPLATE_H
#define WADESK_MODEL_TEMPLATE_H

#include <stddef.h>
#include <json-c/json.h>

#include "buf.h"
#include "db.h"

#define TEMPLATE_PARAMS_MAX	32	/* placeholders a body may have */
#define TEMPLATE_PARAM_MAX	1024	/* characters of one parameter */

/* The simulated provider's catalog: a message_templates answer. */
extern const char template_catalog[];

/*
 * The placeholders of body ({{1}}, {{first_name}}) in the order they first
 * appear, each once, appended to arr (a JSON array of strings).  -1 when
 * there are more than TEMPLATE_PARAMS_MAX.
 */
int	model_template_placeholders(const char *, struct json_object *);
/*
 * body with its placeholders filled from params: a JSON array (positional:
 * {{1}} is params[0]) or object (named), as a send gives them; names is the
 * template's placeholder list.  0, or -1 with why in *err (the parameter
 * count, a missing name, a parameter that is not a string or is too long).
 */
int	model_template_render(const char *, struct json_object *,
	    struct json_object *, struct buf *, const char **);
/*
 * Stores every template of one page ({"data": [...]}) in the current
 * transaction; returns how many, or -1 (a database error, or a page that
 * is not such an answer) with why in err.
 */
int	model_template_load_page(struct db *, const char *, size_t, char *,
	    size_t);
/*
 * Loads the built-in catalog in one transaction, dropping templates it does
 * not hold; returns how many, or -1.
 */
int	model_template_sync_catalog(struct db *, char *, size_t);

#endif
