/*
 * provider — where outbound messages go: the built-in simulator or the
 * WhatsApp Cloud API.  One small interface: provider_send() delivers a batch
 * of jobs (concurrently where the provider can) and fills each job's result.
 */
#ifndef WADESK_PROVIDER_H
#define WADESK_PROVIDER_H

#include <stddef.h>

#include "settings.h"

enum job_result {
	JOB_SENT,	/* accepted; provider_id set */
	JOB_RETRY,	/* transient: try again later */
	JOB_FAILED,	/* permanent: err_code/err_msg say why */
	JOB__MAX
};

struct job {
	/* in: borrowed from the claim result */
	long long	 id;
	long		 attempts;	/* including this one */
	const char	*sender;
	const char	*receiver;
	const char	*content;
	/* out */
	enum job_result	 result;
	char		 provider_id[160];
	char		 err_code[32];
	char		 err_msg[512];
	long		 retry_after_ms;	/* -1: use the backoff */
	double		 duration_ms;
};

struct provider;

struct provider	*provider_new(const struct settings *);
void		 provider_free(struct provider *);
const char	*provider_name(const struct provider *);
void		 provider_send(struct provider *, struct job *, size_t);
/* Fills a job's error fields (also used by the dispatcher). */
void		 provider_job_error(struct job *, enum job_result, const char *,
		    const char *);

#endif
