#include <string.h>

#include "job.h"
#include "utf8.h"

void
job_reset(struct job *j)
{
	j->provider_id[0] = '\0';
	j->err_code[0] = '\0';
	j->err_msg[0] = '\0';
	j->retry_after_ms = -1;
}

void
job_error(struct job *j, enum job_result r, const char *code,
    const char *msg)
{
	job_error_len(j, r, code, msg, strlen(msg));
}

void
job_error_len(struct job *j, enum job_result r, const char *code,
    const char *msg, size_t len)
{
	j->result = r;
	(void)utf8_clean(j->err_code, sizeof(j->err_code), code, strlen(code));
	(void)utf8_clean(j->err_msg, sizeof(j->err_msg), msg, len);
}

void
job_sent(struct job *j, const char *id, size_t len)
{
	j->result = JOB_SENT;
	(void)utf8_clean(j->provider_id, sizeof(j->provider_id), id, len);
}
