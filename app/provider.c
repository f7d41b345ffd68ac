#include <string.h>
#include <time.h>
#include <sodium.h>

#include "cloudapi.h"
#include "crypto.h"
#include "job.h"
#include "mem.h"
#include "provider.h"

struct provider {
	const struct settings	*cfg;
	struct cloudapi		*cloud;		/* PROVIDER_CLOUDAPI only */
};

static const char *const provider_names[PROVIDER__MAX] = {
	[PROVIDER_SIMULATED] = "simulated",
	[PROVIDER_CLOUDAPI] = "cloudapi",
};

static void	provider_sim_send(struct provider *, struct job *, size_t);

struct provider *
provider_new(const struct settings *cfg)
{
	struct provider	*p;

	p = mem_calloc(1, sizeof(*p));
	p->cfg = cfg;
	if (cfg->provider == PROVIDER_CLOUDAPI)
		p->cloud = cloudapi_new(cfg);
	return p;
}

void
provider_free(struct provider *p)
{
	if (p == NULL)
		return;
	cloudapi_free(p->cloud);
	mem_free(p);
}

const char *
provider_name(const struct provider *p)
{
	return provider_names[p->cfg->provider];
}

/*
 * No network: a generated "sim." id, or, for WADESK_SIM_FAIL_RATE of the
 * sends, a transient failure (WhatsApp's 131000) to exercise retries.
 * delivered/read follow later (the dispatcher's sweep, by age).  The
 * receiver, a phone number or a BSUID, is never looked at.  With
 * WADESK_SIM_WINDOW=1 a message other than a template to a customer whose
 * window is closed fails with 131047, as on WhatsApp.
 */
static void
provider_sim_send(struct provider *p, struct job *jobs, size_t n)
{
	size_t		i;
	uint32_t	threshold;

	threshold = (uint32_t)(p->cfg->sim_fail_rate * 1000000.0);
	for (i = 0; i < n; i++) {
		/* WADESK_SIM_WINDOW=1: WhatsApp's answer outside the window. */
		if (jobs[i].window == 0 && (jobs[i].type == NULL ||
		    strcmp(jobs[i].type, "template") != 0)) {
			job_error(&jobs[i], JOB_FAILED, "131047",
			    "Re-engagement message: more than 24 hours have "
			    "passed since the customer last replied");
			continue;
		}
		if (randombytes_uniform(1000000) < threshold) {
			job_error(&jobs[i], JOB_RETRY, "131000",
			    "simulated transient failure");
			continue;
		}
		jobs[i].result = JOB_SENT;
		memcpy(jobs[i].provider_id, "sim.", 4);
		crypto_token_hex(jobs[i].provider_id + 4, 16);
	}
}

void
provider_send(struct provider *p, struct job *jobs, size_t n)
{
	struct timespec	a, b;
	size_t		i;

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < n; i++)
		job_reset(&jobs[i]);
	if (p->cfg->provider == PROVIDER_CLOUDAPI)
		cloudapi_send(p->cloud, jobs, n);
	else
		provider_sim_send(p, jobs, n);
	clock_gettime(CLOCK_MONOTONIC, &b);
	for (i = 0; i < n; i++)
		if (jobs[i].duration_ms == 0)
			jobs[i].duration_ms =
			    (double)(b.tv_sec - a.tv_sec) * 1e3 +
			    (double)(b.tv_nsec - a.tv_nsec) / 1e6;
}
