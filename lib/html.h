/*
 * html — the one way to put text into HTML.
 *
 * html_text() escapes & < > " ' so a value is safe both as element text and
 * inside a double-quoted attribute.  Literal markup goes only through
 * HTML_RAW(), which accepts nothing but a string literal.
 */
#ifndef WADESK_HTML_H
#define WADESK_HTML_H

#include <stddef.h>

#include "buf.h"

void	html_text(struct buf *, const char *, size_t);
void	html_puts(struct buf *, const char *);

#define HTML_RAW(b, lit)	buf_append((b), "" lit, sizeof(lit) - 1)

#endif
