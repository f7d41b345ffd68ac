/*
 * log — one JSON object per line on stderr.
 *
 * Every line carries ts, level, pid and, while a request is being served,
 * its request_id and remote address.  Strings are JSON-escaped, so control
 * characters from clients cannot forge lines.  Never pass secrets.
 */
#ifndef WADESK_LOG_H
#define WADESK_LOG_H

enum log_level {
	LOG_DEBUG,
	LOG_INFO,
	LOG_WARN,
	LOG_ERROR,
	LOG_FATAL,
	LOG__MAX
};

void	log_init(const char *);
/* Sets (or with NULLs clears) the request context added to every line. */
void	log_context(const char *, const char *);
void	log_msg(enum log_level, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/*
 * Writes a line from key/value pairs: log_kv(level, msg, "key", "value", ...,
 * NULL).  A key starting with '#' marks a numeric value written unquoted
 * (the '#' is dropped).
 */
void	log_kv(enum log_level, const char *, ...)
	    __attribute__((sentinel));

#endif
