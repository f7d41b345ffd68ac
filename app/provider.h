/*
 * provider — where outbound messages go: the built-in simulator or the
 * WhatsApp Cloud API.  One small interface: provider_send() delivers a batch
 * of jobs (concurrently where the provider can) and fills each job's result
 * (struct job: app/job.h).
 */
#ifndef WADESK_PROVIDER_H
#define WADESK_PROVIDER_H

#include <stddef.h>

#include "job.h"
#include "settings.h"

struct provider;

struct provider	*provider_new(const struct settings *);
void		 provider_free(struct provider *);
const char	*provider_name(const struct provider *);
void		 provider_send(struct provider *, struct job *, size_t);

/* Media: an inbound file's fetch and an outbound file's upload. */
enum provider_media_rc {
	PROVIDER_MEDIA_OK,
	PROVIDER_MEDIA_RETRY,		/* transient: try again later */
	PROVIDER_MEDIA_FAILED,		/* permanent: error says why */
	PROVIDER_MEDIA__MAX
};

struct provider_fetch {
	/* in */
	const char	*wa_id;		/* WhatsApp's media id */
	const char	*kind;		/* the message type: image, ... */
	const char	*mime_hint;	/* the webhook's type, or NULL */
	long		 max_bytes;
	/* The file's bytes as they arrive: 0, or -1 to abort the fetch. */
	int		(*on_data)(void *, const char *, size_t);
	void		*arg;
	/* out */
	char		 mime_type[128];	/* the file's type, or "" */
	char		 sha256[130];	/* as WhatsApp states it, or "" */
	long long	 size;		/* as WhatsApp states it, or -1 */
	char		 error[256];	/* why it failed */
};

/*
 * Fetches one inbound file (Cloud API: GET /{media id}, then its url with
 * the token; the simulator: a small generated file of the right kind).
 */
enum provider_media_rc provider_media_fetch(struct provider *,
		    struct provider_fetch *);
/*
 * Uploads the file of job j (len bytes of type mime) so that it can be
 * sent: on PROVIDER_MEDIA_OK j->media_wa_id is set; otherwise err (256
 * bytes) and code (32 bytes) say why.
 */
enum provider_media_rc provider_media_upload(struct provider *, struct job *,
		    const void *, size_t, const char *, char *, char *);

#endif
