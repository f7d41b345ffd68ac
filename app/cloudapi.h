/*
 * cloudapi — the WhatsApp Cloud API client (libcurl via lib/http).
 *
 * POST {base}/{version}/{phone-number-id}/messages with the Bearer token and
 * a text message, addressed by "to" (a phone number's digits) or by
 * "recipient" (a BSUID); messages[0].id of a 2xx answer is the provider id.
 * 429, 5xx, network errors and the throttling codes 130429, 131056 and
 * 131000 are transient (JOB_RETRY, honouring Retry-After); other errors are
 * permanent (JOB_FAILED with WhatsApp's code and message, cleaned and cut on
 * a character boundary by job_error_len): 131047 outside the 24-hour window,
 * 131062 a message that cannot go to a BSUID, 2635 a Graph API version
 * WhatsApp has retired, and so on.  It knows nothing of provider.c, which
 * calls it.
 */
#ifndef WADESK_CLOUDAPI_H
#define WADESK_CLOUDAPI_H

#include <stddef.h>

#include "job.h"
#include "provider.h"
#include "settings.h"

struct cloudapi;
struct json_object;

struct cloudapi	*cloudapi_new(const struct settings *);
void		 cloudapi_free(struct cloudapi *);
void		 cloudapi_send(struct cloudapi *, struct job *, size_t);
/*
 * The request body for one job (owned by the caller: json_object_put):
 * "recipient" when the receiver is a BSUID, else "to" with the phone
 * number's digits; the message by its type (text, template, interactive
 * buttons, reaction) with "context" when it quotes one.  NULL, with the
 * job's result set, when the job cannot be sent yet.
 */
struct json_object	*cloudapi_body(struct job *);
/* Interprets one answer into the job (exposed for tests and the fuzzer). */
void		 cloudapi_result(struct job *, long, long, const char *, size_t,
		    const char *);

/*
 * Media.  cloudapi_media_fetch(): GET {base}/{version}/{media id} for the
 * file's url, type, sha256 and size, then GET the url with the token
 * (redirects only within its host; refused before reading when WhatsApp
 * states a size over max_bytes, cut off past it).  Network errors, 429
 * and 5xx are transient, and so is any other refusal (an id WhatsApp does
 * not know yet may be known a moment later; the dispatcher gives up after
 * WADESK_MAX_ATTEMPTS).  cloudapi_media_upload(): POST
 * {base}/{version}/{phone-number-id}/media as multipart (messaging_product,
 * type, file); its "id" goes to j->media_wa_id.
 */
enum provider_media_rc cloudapi_media_fetch(struct cloudapi *,
		    struct provider_fetch *);
enum provider_media_rc cloudapi_media_upload(struct cloudapi *, struct job *,
		    const void *, size_t, const char *, char *, char *);

#endif
