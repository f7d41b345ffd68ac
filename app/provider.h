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

#endif
