#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"

static const char *const log_levels[LOG__MAX] = {
	[LOG_DEBUG] = "debug",
	[LOG_INFO] = "info",
	[LOG_WARN] = "warn",
	[LOG_ERROR] = "error",
	[LOG_FATAL] = "fatal",
};

static const char	*log_prog = "wadesk";
static char		 log_reqid[80];
static char		 log_remote[64];

static void	log_begin(struct buf *, enum log_level);
static void	log_end(struct buf *);

void
log_init(const char *prog)
{
	log_prog = prog;
}

void
log_context(const char *request_id, const char *remote)
{
	snprintf(log_reqid, sizeof(log_reqid), "%s",
	    request_id ? request_id : "");
	snprintf(log_remote, sizeof(log_remote), "%s", remote ? remote : "");
}

static void
log_begin(struct buf *b, enum log_level level)
{
	struct timeval	 tv;
	struct tm	 tm;
	char		 ts[32];

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	buf_printf(b, "{\"ts\":\"%s.%03ldZ\",\"level\":\"%s\",\"proc\":",
	    ts, (long)(tv.tv_usec / 1000), log_levels[level]);
	buf_json_str(b, log_prog, strlen(log_prog));
	buf_printf(b, ",\"pid\":%ld", (long)getpid());
	if (log_reqid[0] != '\0') {
		buf_puts(b, ",\"request_id\":");
		buf_json_str(b, log_reqid, strlen(log_reqid));
	}
	if (log_remote[0] != '\0') {
		buf_puts(b, ",\"remote\":");
		buf_json_str(b, log_remote, strlen(log_remote));
	}
}

static void
log_end(struct buf *b)
{
	buf_puts(b, "}\n");
	/* One write(2) per line keeps lines whole across processes. */
	if (write(STDERR_FILENO, b->data, b->len) < 0)
		return;
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	struct buf	 b, m;
	va_list		 ap;

	buf_init(&b);
	buf_init(&m);
	va_start(ap, fmt);
	buf_vprintf(&m, fmt, ap);
	va_end(ap);
	log_begin(&b, level);
	buf_puts(&b, ",\"msg\":");
	buf_json_str(&b, m.data, m.len);
	log_end(&b);
	buf_cleanup(&m);
	buf_cleanup(&b);
}

void
log_kv(enum log_level level, const char *msg, ...)
{
	struct buf	 b;
	va_list		 ap;
	const char	*k, *v;

	buf_init(&b);
	log_begin(&b, level);
	buf_puts(&b, ",\"msg\":");
	buf_json_str(&b, msg, strlen(msg));
	va_start(ap, msg);
	while ((k = va_arg(ap, const char *)) != NULL) {
		v = va_arg(ap, const char *);
		buf_putc(&b, ',');
		if (k[0] == '#') {
			buf_json_str(&b, k + 1, strlen(k + 1));
			buf_printf(&b, ":%s", v ? v : "null");
		} else {
			buf_json_str(&b, k, strlen(k));
			buf_putc(&b, ':');
			if (v == NULL)
				buf_puts(&b, "null");
			else
				buf_json_str(&b, v, strlen(v));
		}
	}
	va_end(ap);
	log_end(&b);
	buf_cleanup(&b);
}
