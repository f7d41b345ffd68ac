#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "html.h"
#include "log.h"

static void	html_end_tag(struct html *);

void
html_text(struct buf *b, const char *s, size_t n)
{
	size_t	i, start = 0;

	for (i = 0; i < n; i++) {
		const char	*rep;

		switch (s[i]) {
		case '&':
			rep = "&amp;";
			break;
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '"':
			rep = "&quot;";
			break;
		case '\'':
			rep = "&#39;";
			break;
		default:
			continue;
		}
		buf_append(b, s + start, i - start);
		buf_puts(b, rep);
		start = i + 1;
	}
	buf_append(b, s + start, n - start);
}

void
html_puts(struct buf *b, const char *s)
{
	html_text(b, s, strlen(s));
}

void
html_init(struct html *h, struct buf *b)
{
	memset(h, 0, sizeof(*h));
	h->buf = b;
}

/* Finishes a start tag whose attributes are written. */
static void
html_end_tag(struct html *h)
{
	if (h->tag_open) {
		buf_putc(h->buf, '>');
		h->tag_open = 0;
	}
}

void
html_open_lit(struct html *h, const char *name)
{
	html_end_tag(h);
	if (h->depth == HTML_DEPTH_MAX) {
		log_kv(LOG_FATAL, "html: elements nested too deeply", NULL);
		abort();
	}
	h->stack[h->depth++] = name;
	buf_putc(h->buf, '<');
	buf_puts(h->buf, name);
	h->tag_open = 1;
}

void
html_void_lit(struct html *h, const char *name)
{
	html_end_tag(h);
	buf_putc(h->buf, '<');
	buf_puts(h->buf, name);
	h->tag_open = 1;
}

void
html_attr_lit(struct html *h, const char *name, const char *value)
{
	if (value == NULL || !h->tag_open)
		return;
	buf_putc(h->buf, ' ');
	buf_puts(h->buf, name);
	buf_puts(h->buf, "=\"");
	html_puts(h->buf, value);
	buf_putc(h->buf, '"');
}

void
html_flag_lit(struct html *h, const char *name)
{
	if (!h->tag_open)
		return;
	buf_putc(h->buf, ' ');
	buf_puts(h->buf, name);
}

void
html_attrf_lit(struct html *h, const char *name, const char *fmt, ...)
{
	struct buf	v;
	va_list		ap;

	buf_init(&v);
	va_start(ap, fmt);
	buf_vprintf(&v, fmt, ap);
	va_end(ap);
	html_attr_lit(h, name, v.data);
	buf_cleanup(&v);
}

void
html_raw_lit(struct html *h, const char *lit, size_t n)
{
	html_end_tag(h);
	buf_append(h->buf, lit, n);
}

void
html_elem_lit(struct html *h, const char *name, const char *cls,
    const char *s)
{
	html_open_lit(h, name);
	html_attr_lit(h, "class", cls);
	if (s != NULL)
		html_str(h, s);
	html_close(h);
}

void
html_str(struct html *h, const char *s)
{
	html_end_tag(h);
	html_puts(h->buf, s);
}

void
html_strn(struct html *h, const char *s, size_t n)
{
	html_end_tag(h);
	html_text(h->buf, s, n);
}

void
html_strf(struct html *h, const char *fmt, ...)
{
	struct buf	v;
	va_list		ap;

	buf_init(&v);
	va_start(ap, fmt);
	buf_vprintf(&v, fmt, ap);
	va_end(ap);
	html_strn(h, v.data, v.len);
	buf_cleanup(&v);
}

void
html_close(struct html *h)
{
	if (h->depth == 0)
		return;
	html_end_tag(h);
	h->depth--;
	buf_puts(h->buf, "</");
	buf_puts(h->buf, h->stack[h->depth]);
	buf_putc(h->buf, '>');
}

void
html_close_to(struct html *h, size_t depth)
{
	while (h->depth > depth)
		html_close(h);
}
