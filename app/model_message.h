/*
 * model_message — messages: the typed row, its JSON form, the checks an
 * outbound message must pass, and the statements that write them.
 *
 * A struct message borrows every string from the PGresult it was filled
 * from; it is valid until that result is freed.
 */
#ifndef WADESK_MODEL_MESSAGE_H
#define WADESK_MODEL_MESSAGE_H

#include <stddef.h>
#include <json-c/json.h>
#include <libpq-fe.h>

#include "arena.h"
#include "buf.h"
#include "db.h"
#include "valid.h"

#define MESSAGE_MAX_CHARS	4096
/* The longest WhatsApp phone number id taken (digits). */
#define NUMBER_ID_MAX		32
#define MESSAGE_SEARCH_MIN	3	/* shorter texts match too much */
#define MESSAGE_SEARCH_MAX	200
/* What a phone number must be, for every message that refuses one. */
#define MESSAGE_PHONE_RULE	"a phone number: optional +, then 7-15 " \
				"digits, the first not 0"

/* Message statuses, in display order (also the admin's counts' order). */
enum msg_status {
	MSG_ST_QUEUED,
	MSG_ST_SENT,
	MSG_ST_DELIVERED,
	MSG_ST_READ,
	MSG_ST_PLAYED,
	MSG_ST_FAILED,
	MSG_ST_RECEIVED,
	MSG_ST__MAX
};

extern const char *const message_statuses[MSG_ST__MAX];

/* The fields of an outbound message a client fills in. */
enum msg_field {
	MSG_F_SENDER,
	MSG_F_RECEIVER,
	MSG_F_CONTACT_ID,
	MSG_F_CONTENT,
	MSG_F_MEDIA,		/* an uploaded media id (digits) */
	MSG_F__MAX
};

extern const char *const message_fields[MSG_F__MAX];

/* Column order of MSG_COLS in stmts.c. */
enum msg_col {
	MSG_COL_ID,
	MSG_COL_DIRECTION,
	MSG_COL_SENDER,
	MSG_COL_RECEIVER,
	MSG_COL_CONTENT,
	MSG_COL_TIMESTAMP,
	MSG_COL_STATUS,
	MSG_COL_PROVIDER_ID,
	MSG_COL_CONTACT_NAME,
	MSG_COL_ERROR_CODE,
	MSG_COL_ERROR_MESSAGE,
	MSG_COL_CONTACT_ID,
	MSG_COL_TYPE,
	MSG_COL_REPLY_TO,
	MSG_COL_REACTIONS,
	MSG_COL_TEMPLATE,
	MSG_COL_MEDIA,
	MSG_COL_NUMBER_ID,
	MSG_COL__MAX
};

struct message {
	long long	 id;
	const char	*direction;
	const char	*sender;
	const char	*receiver;
	const char	*content;
	const char	*timestamp;
	const char	*status;
	const char	*provider_message_id;
	const char	*contact_name;
	const char	*error_code;
	const char	*error_message;
	long long	 contact_id;
	const char	*type;
	long long	 reply_to;	/* 0: none */
	const char	*reactions;	/* JSON array text, or NULL */
	const char	*tmpl;		/* outbound template: JSON, or NULL */
	const char	*media;		/* JSON object text (MSG_MEDIA), or NULL */
	long long	 number_id;	/* the business number (numbers.id);
					 * 0: not known */
};

/*
 * A validated outbound message, ready for model_message_send(): to the
 * customer receiver (a phone in E.164 form or a BSUID), or, receiver
 * empty, to contact contact_id.
 */
struct message_input {
	char		 sender[VALID_PHONE_MAX];
	char		 receiver[VALID_CUSTOMER_MAX];
	int		 receiver_phone;	/* receiver is a phone */
	char		 contact_id[24];	/* "" or a decimal id */
	const char	*content;	/* borrowed */
	/*
	 * Beyond plain text (model_send.c): the type (NULL: text), the
	 * structured parts kept in messages.raw for the provider
	 * ({"template"}, {"buttons"}, {"reaction"}; NULL: none) and the id
	 * of the message quoted ("" none).
	 */
	const char	*type;
	const char	*spec;
	char		 reply_to[24];
	char		 media_id[24];	/* "" or an uploaded media's id */
	const char	*media_type;	/* its message type (set by the caller
					 * once the media is looked up) */
};

/* Why an input was refused: the field and a message for the client. */
struct message_err {
	const char	*field;
	const char	*message;
};

/* The raw fields of a send (NULL: absent); they may hold NUL bytes. */
struct message_raw {
	const char	*v[MSG_F__MAX];
	size_t		 len[MSG_F__MAX];
};

void	model_message_fill(struct message *, const PGresult *, int);
/* A new JSON object (caller puts it) in the API's message shape. */
struct json_object *model_message_json(const struct message *);
/* 1 when s is a known status / direction name. */
int	model_message_status_valid(const char *);
/*
 * The message statuses as a PostgreSQL array literal, in display order, for
 * statements that list every status.
 */
void	model_message_status_array(struct buf *);
int	model_message_direction_valid(const char *);
/* 1 when s is a status a provider reports for an outbound message (one
 * after queued: sent, delivered, read, failed). */
int	model_message_status_reported(const char *);
/*
 * Checks content: 1-4096 code points of valid UTF-8 without NUL.  0 or -1
 * with err filled.
 */
int	model_message_check_content(const char *, size_t, struct message_err *)
	    __attribute__((warn_unused_result));
/*
 * Checks every field of an outbound message, each with its own validator,
 * into in.  sender may be absent when default_sender (the business number,
 * "" when unset) is set.  Returns the number of wrong fields; errs[f] is
 * the message for field f, or NULL when it is right.
 */
int	model_message_validate(const struct message_raw *, const char *,
	    struct message_input *, const char *[MSG_F__MAX])
	    __attribute__((warn_unused_result));
/*
 * model_message_validate() for a client that takes one error: 0, or -1
 * with the first wrong field (in enum order) in err.
 */
int	model_message_check(const struct message_raw *, const char *,
	    struct message_input *, struct message_err *)
	    __attribute__((warn_unused_result));
/*
 * A search text (q): valid UTF-8, 3-200 characters, no control characters
 * (the search joins fields with U+001F).  1 when acceptable.
 */
int	model_message_search_valid(const char *);
/*
 * The ILIKE pattern the list statements take for a search text: '%' + s
 * with \ % _ escaped + '%', allocated from arena.
 */
char	*model_message_like(struct arena *, const char *);
/*
 * Runs a list statement (STMT_MSG_LIST or STMT_MSG_LIST_NEWER) with its
 * seven parameters.  A search (p[3] set) runs its search twin
 * (STMT_MSG_SEARCH, STMT_MSG_SEARCH_NEWER) in a transaction of its own with
 * statement_timeout MESSAGE_SEARCH_TIMEOUT, so one slow search ends early
 * (DB_TIMEOUT) instead of holding a worker for the general timeout.
 */
#define MESSAGE_SEARCH_TIMEOUT	"3s"
enum db_rc model_message_list(struct db *, int, const char *const[7],
	    PGresult **) __attribute__((warn_unused_result));
/* "queued, sent, ..." into b: the statuses for an error message. */
void	model_message_status_names(struct buf *);
/*
 * Writes the message and its outbox row; one row back, none when the
 * message was for a contact_id that does not exist.  A message with media
 * (in->media_id and in->media_type set) is written with it.
 */
enum db_rc model_message_send(struct db *, const struct message_input *,
	    PGresult **) __attribute__((warn_unused_result));
/* The same, only when key_hash is an active API key's: else no row back.
 * Only for a message to a receiver (not to a contact_id). */
enum db_rc model_message_send_keyed(struct db *, const struct message_input *,
	    const char *, PGresult **) __attribute__((warn_unused_result));

#endif
