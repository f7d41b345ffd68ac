/*
 * fuzz_cloudapi — Cloud API answers: an HTTP status, a Retry-After value and
 * a body -> cloudapi_result().
 *
 * Input layout: byte 0 picks the status (bits 0-1: 200, 400, 429, 500) and
 * whether a Retry-After header came (bit 2).  With one, the bytes up to the
 * first '\n' are the header value and become retry_after_s the way
 * lib/http.c's header callback makes it (at most 31 bytes, strtol(),
 * negative -> -1), so any value http.c can hand over is possible.  The rest
 * is the body.  The job is prepared as provider_send() prepares it.
 *
 * Invariants (abort() on a break):
 * - result is JOB_SENT, JOB_RETRY or JOB_FAILED;
 * - provider_id is non-empty exactly for JOB_SENT; err_code and err_msg
 *   are set exactly for the others;
 * - provider_id, err_code and err_msg are NUL-terminated inside their
 *   arrays;
 * - 2xx is never JOB_RETRY; 429 and 5xx are always JOB_RETRY;
 * - retry_after_ms is -1 without Retry-After, retry_after_s * 1000 for a
 *   value up to a day (30000 at least for the pair rate limit 131056), and
 *   never negative for a larger one (a cap would be fine, an overflow is
 *   UBSan's);
 * - no leaks (LeakSanitizer; cloudapi_result puts its json-c root).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloudapi.h"
#include "mem.h"
#include "provider.h"

#define FZ_DAY_S	86400L

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	fz_fail(const char *) __attribute__((noreturn));
static int	fz_terminated(const char *, size_t);

static const long	fz_statuses[] = { 200, 400, 429, 500 };

static void
fz_fail(const char *what)
{
	fprintf(stderr, "fuzz_cloudapi: invariant broken: %s\n", what);
	abort();
}

static int
fz_terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct job	 j;
	const uint8_t	*nl;
	char		 v[32], *body;
	long		 status, retry_after_s = -1;
	size_t		 k, blen;
	int		 pair;

	if (size == 0)
		return 0;
	status = fz_statuses[data[0] & 3];
	data++;
	size--;
	if (data[-1] & 4) {
		/* lib/http.c http_on_header(), after "Retry-After:". */
		nl = memchr(data, '\n', size);
		k = nl ? (size_t)(nl - data) : size;
		blen = k < sizeof(v) - 1 ? k : sizeof(v) - 1;
		memcpy(v, data, blen);
		v[blen] = '\0';
		retry_after_s = strtol(v, NULL, 10);
		if (retry_after_s < 0)
			retry_after_s = -1;
		k = nl ? k + 1 : k;
		data += k;
		size -= k;
	}
	/* The body as lib/http.c keeps it: a buf, so a private copy. */
	body = mem_alloc(size + 1);
	memcpy(body, data, size);
	body[size] = '\0';

	memset(&j, 'Z', sizeof(j));
	j.id = 1;
	j.attempts = 1;
	j.sender = "+15550001111";
	j.receiver = "+34600111222";
	j.content = "hello";
	j.result = JOB__MAX;
	j.provider_id[0] = '\0';
	j.err_code[0] = '\0';
	j.err_msg[0] = '\0';
	j.retry_after_ms = -1;

	cloudapi_result(&j, status, retry_after_s, body, size, NULL);

	if (j.result != JOB_SENT && j.result != JOB_RETRY &&
	    j.result != JOB_FAILED)
		fz_fail("result is not a job_result");
	if (!fz_terminated(j.provider_id, sizeof(j.provider_id)) ||
	    !fz_terminated(j.err_code, sizeof(j.err_code)) ||
	    !fz_terminated(j.err_msg, sizeof(j.err_msg)))
		fz_fail("a result field is not NUL-terminated");
	if ((j.provider_id[0] != '\0') != (j.result == JOB_SENT))
		fz_fail("provider_id set without JOB_SENT or missing with it");
	if ((j.err_code[0] != '\0') != (j.result != JOB_SENT) ||
	    (j.err_msg[0] != '\0') != (j.result != JOB_SENT))
		fz_fail("error fields do not match the result");
	if (status < 300 && j.result == JOB_RETRY)
		fz_fail("a 2xx answer became JOB_RETRY");
	if ((status == 429 || status >= 500) && j.result != JOB_RETRY)
		fz_fail("429/5xx did not become JOB_RETRY");
	pair = strcmp(j.err_code, "131056") == 0;
	if (retry_after_s < 0) {
		if (j.retry_after_ms != (pair ? 30000 : -1))
			fz_fail("retry_after_ms set without Retry-After");
	} else if (retry_after_s <= FZ_DAY_S) {
		/* Sane values are honoured exactly. */
		if (j.retry_after_ms != (pair && retry_after_s < 30 ? 30000 :
		    retry_after_s * 1000))
			fz_fail("retry_after_ms is not Retry-After in ms");
	} else if (j.retry_after_ms < 0)
		/* Huge ones may be capped, but must stay a delay. */
		fz_fail("a Retry-After became a negative retry_after_ms");
	mem_free(body);
	return 0;
}
