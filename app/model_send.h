/*
 * model_send — what a send may carry beyond text: a template, a quoted
 * message (reply_to), a reaction, reply buttons; and the 24-hour window
 * policy.  model_send_parse() checks the body's shape alone (no database);
 * model_send_prepare() looks up what it names and completes the message
 * input (type, structured parts, content) or refuses it.
 */
#ifndef WADESK_MODEL_SEND_H
#define WADESK_MODEL_SEND_H

#include <json-c/json.h>

#include "app.h"
#include "model_message.h"

#define SEND_BUTTONS_MAX	3
#define SEND_BUTTON_TITLE_MAX	20	/* characters */
#define SEND_BUTTON_ID_MAX	256	/* bytes */
#define SEND_EMOJI_MAX		16	/* code points of one emoji */

struct send_extras {
	/* "template": {"name", "language", "parameters"} (borrowed) */
	const char		*tname;
	const char		*tlang;
	struct json_object	*tparams;
	char			 reply_to[24];	/* "" none */
	char			 react_to[24];	/* "" none */
	const char		*emoji;		/* "" removes ours */
	struct json_object	*buttons;	/* borrowed, or NULL */
};

/*
 * The extras of a send body: 0, or -1 with a 422 in *e.  content_given
 * says whether the body had content: a template or a reaction brings its
 * own, buttons need one.
 */
int	model_send_parse(struct json_object *, int, struct send_extras *,
	    struct app_err *) __attribute__((warn_unused_result));
/* 1 when the send is plain text (nothing for model_send_prepare). */
int	model_send_plain(const struct send_extras *);
/* 1 when the content of the send comes from its extras (none given). */
int	model_send_brings_content(struct json_object *);
/*
 * Completes in from x: renders a template, checks the messages quoted or
 * reacted to belong to the same customer, and applies the 24-hour window
 * policy when a->cfg asks for it.  0; -1 with the client's error in *e;
 * -2 with a database error in *rc.  Strings go to the request's arena.
 */
int	model_send_prepare(struct app *, const struct send_extras *,
	    struct message_input *, struct app_err *, enum db_rc *)
	    __attribute__((warn_unused_result));

#endif
