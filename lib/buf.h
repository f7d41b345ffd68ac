/*
 * buf — a growable byte buffer, always NUL-terminated.
 *
 * Caller-owned: buf_init() on a struct, buf_cleanup() when done.  buf_reset()
 * keeps the allocation for reuse (a worker reuses its buffers across requests).
 */
#ifndef WADESK_BUF_H
#define WADESK_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char	*data;
	size_t	 len;
	size_t	 cap;
};

void	buf_init(struct buf *);
void	buf_cleanup(struct buf *);
void	buf_reset(struct buf *);
void	buf_append(struct buf *, const void *, size_t);
void	buf_puts(struct buf *, const char *);
void	buf_putc(struct buf *, char);
void	buf_printf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	buf_vprintf(struct buf *, const char *, va_list)
	    __attribute__((format(printf, 2, 0)));
/* Appends s as a JSON string literal, quotes included; control bytes escaped. */
void	buf_json_str(struct buf *, const char *, size_t);

#endif
