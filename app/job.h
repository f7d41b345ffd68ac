/*
 * job — one outbound message on its way through a provider: what the
 * dispatcher claimed (in) and what the provider made of it (out).  Shared by
 * the dispatcher, the provider front (provider.c) and the providers
 * themselves (cloudapi.c), so that none of them calls into another for it.
 *
 * The out fields are always NUL-terminated valid UTF-8 without NULs, cut on
 * a character boundary (lib/utf8), so PostgreSQL accepts whatever a
 * provider answered.
 */
#ifndef WADESK_JOB_H
#define WADESK_JOB_H

#include <stddef.h>

enum job_result {
	JOB_SENT,	/* accepted; provider_id set */
	JOB_RETRY,	/* transient: try again later */
	JOB_FAILED,	/* permanent: err_code/err_msg say why */
	JOB__MAX
};

/* A job that tells WhatsApp message context_id was read (no message). */
#define JOB_READ_RECEIPT	"read_receipt"

struct job {
	/* in: borrowed from the claim result */
	long long	 id;
	long		 attempts;	/* including this one */
	const char	*sender;
	const char	*receiver;
	const char	*content;
	const char	*type;		/* text, template, interactive, ...,
					 * or JOB_READ_RECEIPT */
	const char	*spec;		/* structured parts (JSON), or NULL */
	const char	*context_id;	/* WhatsApp id of the quoted, or NULL */
	const char	*reaction_id;	/* WhatsApp id reacted to, or NULL */
	int		 window;	/* 24-hour window: 1 open, 0 closed,
					 * -1 not looked at */
	long long	 number_id;	/* the business number; 0: none */
	const char	*phone_number_id;	/* its WhatsApp id, or NULL:
						 * WADESK_PHONE_NUMBER_ID */
	/* out */
	enum job_result	 result;
	char		 provider_id[160];
	char		 err_code[32];
	char		 err_msg[512];
	long		 retry_after_ms;	/* -1: use the backoff */
	double		 duration_ms;
	/*
	 * in: a message with media (media_id > 0): what the dispatcher
	 * looked up and uploaded before the send (media_fetch.h).
	 */
	long long	 media_id;
	char		 media_kind[16];	/* image, audio, video, ... */
	char		 media_wa_id[160];	/* WhatsApp's upload id */
	char		 media_filename[256];	/* "" when none */
};

/* Clears the out fields before a send (retry_after_ms -1). */
void	job_reset(struct job *);
/* Sets the result and the error code and message (NUL-terminated). */
void	job_error(struct job *, enum job_result, const char *, const char *);
/*
 * The same with a message of len bytes from a provider, which may hold NUL
 * bytes (dropped) or invalid UTF-8 (replaced): it is cut to fit err_msg on
 * a character boundary.
 */
void	job_error_len(struct job *, enum job_result, const char *,
	    const char *, size_t);
/* Sets the provider id (cleaned like the error fields). */
void	job_sent(struct job *, const char *, size_t);

#endif
