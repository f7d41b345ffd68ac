#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sodium.h>

#include "clock.h"
#include "cloudapi.h"
#include "buf.h"
#include "crypto.h"
#include "job.h"
#include "media_sim.h"
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
	double	a, b;
	size_t	i;

	a = clock_ms_precise();
	for (i = 0; i < n; i++)
		job_reset(&jobs[i]);
	if (p->cfg->provider == PROVIDER_CLOUDAPI)
		cloudapi_send(p->cloud, jobs, n);
	else
		provider_sim_send(p, jobs, n);
	b = clock_ms_precise();
	for (i = 0; i < n; i++)
		if (jobs[i].duration_ms == 0)
			jobs[i].duration_ms = b - a;
}

enum provider_media_rc
provider_media_fetch(struct provider *p, struct provider_fetch *f)
{
	struct buf	b;
	size_t		off, n;
	int		rc = 0;

	f->mime_type[0] = '\0';
	f->sha256[0] = '\0';
	f->size = -1;
	f->error[0] = '\0';
	if (p->cfg->provider == PROVIDER_CLOUDAPI)
		return cloudapi_media_fetch(p->cloud, f);
	/* The simulator: a generated file, in pieces as a download comes. */
	buf_init(&b);
	media_sim_file(f->kind, f->mime_hint, &b, f->mime_type,
	    sizeof(f->mime_type));
	crypto_sha256_hex(b.data, b.len, f->sha256);
	f->size = (long long)b.len;
	for (off = 0; off < b.len && rc == 0; off += n) {
		n = b.len - off < 4096 ? b.len - off : 4096;
		rc = f->on_data(f->arg, b.data + off, n);
	}
	buf_cleanup(&b);
	if (rc != 0) {
		snprintf(f->error, sizeof(f->error), "storing the file failed");
		return PROVIDER_MEDIA_RETRY;
	}
	return PROVIDER_MEDIA_OK;
}

enum provider_media_rc
provider_media_upload(struct provider *p, struct job *j, const void *data,
    size_t len, const char *mime, char *code, char *err)
{
	code[0] = '\0';
	err[0] = '\0';
	if (p->cfg->provider == PROVIDER_CLOUDAPI)
		return cloudapi_media_upload(p->cloud, j, data, len, mime, code,
		    err);
	(void)data;
	(void)len;
	(void)mime;
	memcpy(j->media_wa_id, "sim.media.", 10);
	crypto_token_hex(j->media_wa_id + 10, 16);
	return PROVIDER_MEDIA_OK;
}
