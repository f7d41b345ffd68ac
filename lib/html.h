/*
 * html — the one way to put text into HTML.
 *
 * html_text() escapes & < > " ' so a value is safe both as element text and
 * inside a double-quoted attribute.  Literal markup goes only through
 * HTML_RAW(), which accepts nothing but a string literal.
 *
 * On top of it, a small element writer: struct html wraps a caller-owned
 * buf and keeps a stack of open elements.  Element and attribute names are
 * string literals (the macros refuse anything else); every value, text node
 * and formatted number goes through html_text().  html_attr() is valid
 * right after html_open()/html_void(), before any content.
 */
#ifndef WADESK_HTML_H
#define WADESK_HTML_H

#include <stddef.h>

#include "buf.h"

#define HTML_DEPTH_MAX	32

struct html {
	struct buf	*buf;			/* borrowed */
	const char	*stack[HTML_DEPTH_MAX];	/* open elements (literals) */
	size_t		 depth;
	int		 tag_open;		/* "<name ..." awaits its '>' */
};

void	html_text(struct buf *, const char *, size_t);
void	html_puts(struct buf *, const char *);

#define HTML_RAW(b, lit)	buf_append((b), "" lit, sizeof(lit) - 1)

/* Starts writing into b (appended to; the caller owns and frees b). */
void	html_init(struct html *, struct buf *);
/* Opens <name>; attributes may follow.  Nesting deeper than the stack
 * aborts the program (a bug, not input). */
#define html_open(h, name)	html_open_lit((h), "" name)
/* A void element (<input>, <br>): attributes may follow, nothing closes it. */
#define html_void(h, name)	html_void_lit((h), "" name)
/* name="value", value escaped; NULL writes nothing. */
#define html_attr(h, name, v)	html_attr_lit((h), "" name, (v))
/* A boolean attribute (checked, required, selected). */
#define html_flag(h, name)	html_flag_lit((h), "" name)
/* name="printf(fmt, ...)", escaped. */
#define html_attrf(h, name, ...) html_attrf_lit((h), "" name, __VA_ARGS__)
/* Literal markup (a string literal only), e.g. a doctype. */
#define html_raw(h, lit)	html_raw_lit((h), "" lit, sizeof(lit) - 1)
/* <name>text</name> in one call; text NULL writes an empty element. */
#define html_elem(h, name, s)	html_elem_lit((h), "" name, NULL, (s))
/* <name class="cls">text</name>. */
#define html_elemc(h, name, cls, s) \
	html_elem_lit((h), "" name, "" cls, (s))

void	html_open_lit(struct html *, const char *);
void	html_void_lit(struct html *, const char *);
void	html_attr_lit(struct html *, const char *, const char *);
void	html_flag_lit(struct html *, const char *);
void	html_attrf_lit(struct html *, const char *, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
void	html_raw_lit(struct html *, const char *, size_t);
void	html_elem_lit(struct html *, const char *, const char *,
	    const char *);
/* Escaped text content: a NUL-terminated string, n bytes, or printf. */
void	html_str(struct html *, const char *);
void	html_strn(struct html *, const char *, size_t);
void	html_strf(struct html *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* Closes the innermost open element. */
void	html_close(struct html *);
/* Closes elements until depth is left open (0: all). */
void	html_close_to(struct html *, size_t);

#endif
