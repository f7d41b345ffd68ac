/*
 * fuzz_html — the escaping writer.
 *
 * 1. bytes -> html_text(), and the NUL-terminated copy -> html_puts().
 *    Invariants: the output holds no raw < > " ' ; every & starts one of
 *    &amp; &lt; &gt; &quot; &#39; ; un-escaping it gives back the input
 *    bytes exactly (NUL included); it is appended after what the buffer
 *    held and NUL-terminated at its length.
 * 2. the same bytes as a small program for the element writer (struct
 *    html): open / void / attr / flag / text / printf text / elem / close,
 *    with values taken from the input.  Invariants: the output tokenizes
 *    as markup made only of the writer's literals, with every attribute
 *    value and text run escaped as in 1; elements close in stack order and
 *    all are closed after html_close_to(0); the text and attribute values,
 *    un-escaped, are exactly the ones passed in (attributes only where a
 *    start tag was still open).
 * No leaks (LeakSanitizer).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "html.h"
#include "log.h"
#include "mem.h"

#define FZ_PREFIX	"<p class=\"x\">"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	fz_fail(const char *) __attribute__((noreturn));
static void	fz_check(const struct buf *, const char *, size_t);
static size_t	fz_unescape(const char *, size_t, struct buf *, int);
static size_t	fz_value(const uint8_t *, size_t, size_t *, const char **);
static int	fz_known(const char *, size_t, const char *const *, int);
static void	fz_program(const uint8_t *, size_t);
static void	fz_tokenize(const struct buf *, const struct buf *,
		    const struct buf *, size_t);

static const struct {
	const char	*ent;
	size_t		 len;
	char		 c;
} fz_ents[] = {
	{ "&amp;", 5, '&' },
	{ "&lt;", 4, '<' },
	{ "&gt;", 4, '>' },
	{ "&quot;", 6, '"' },
	{ "&#39;", 5, '\'' },
};

static void
fz_fail(const char *what)
{
	fprintf(stderr, "fuzz_html: invariant broken: %s\n", what);
	abort();
}

/* b holds FZ_PREFIX and then the escaped form of in[0..n). */
static void
fz_check(const struct buf *b, const char *in, size_t n)
{
	const char	*o;
	size_t		 olen, i, k, e;

	if (b->len < sizeof(FZ_PREFIX) - 1 ||
	    memcmp(b->data, FZ_PREFIX, sizeof(FZ_PREFIX) - 1) != 0)
		fz_fail("html_text changed what the buffer held");
	if (b->data[b->len] != '\0')
		fz_fail("buffer not NUL-terminated at its length");
	o = b->data + sizeof(FZ_PREFIX) - 1;
	olen = b->len - (sizeof(FZ_PREFIX) - 1);
	for (i = 0, k = 0; i < olen; i++, k++) {
		switch (o[i]) {
		case '<':
		case '>':
		case '"':
		case '\'':
			fz_fail("raw < > \" or ' in the output");
		case '&':
			for (e = 0; e < sizeof(fz_ents) / sizeof(fz_ents[0]);
			    e++)
				if (olen - i >= fz_ents[e].len &&
				    memcmp(o + i, fz_ents[e].ent,
				    fz_ents[e].len) == 0)
					break;
			if (e == sizeof(fz_ents) / sizeof(fz_ents[0]))
				fz_fail("& that starts no known entity");
			if (k >= n || in[k] != fz_ents[e].c)
				fz_fail("entity does not stand for the input");
			i += fz_ents[e].len - 1;
			break;
		default:
			if (k >= n || in[k] != o[i])
				fz_fail("output byte differs from the input");
		}
	}
	if (k != n)
		fz_fail("output holds fewer characters than the input");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf	 b;
	char		*s;

	buf_init(&b);
	HTML_RAW(&b, FZ_PREFIX);
	html_text(&b, (const char *)data, size);
	fz_check(&b, (const char *)data, size);

	s = mem_alloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	buf_reset(&b);
	HTML_RAW(&b, FZ_PREFIX);
	html_puts(&b, s);
	fz_check(&b, s, strlen(s));
	mem_free(s);
	buf_cleanup(&b);

	fz_program(data, size);
	return 0;
}

/*
 * Un-escapes text from s until '<' (text) or '"' (an attribute value),
 * appending to out; returns the bytes consumed.  Refuses raw < > " ' and
 * an & that starts no known entity.
 */
static size_t
fz_unescape(const char *s, size_t n, struct buf *out, int attr)
{
	size_t	i, e;

	for (i = 0; i < n; i++) {
		if (s[i] == (attr ? '"' : '<'))
			break;
		switch (s[i]) {
		case '<':
		case '>':
		case '"':
		case '\'':
			fz_fail("raw < > \" or ' in writer output");
		case '&':
			for (e = 0; e < sizeof(fz_ents) / sizeof(fz_ents[0]);
			    e++)
				if (n - i >= fz_ents[e].len &&
				    memcmp(s + i, fz_ents[e].ent,
				    fz_ents[e].len) == 0)
					break;
			if (e == sizeof(fz_ents) / sizeof(fz_ents[0]))
				fz_fail("writer output: unknown entity");
			buf_putc(out, fz_ents[e].c);
			i += fz_ents[e].len - 1;
			break;
		default:
			buf_putc(out, s[i]);
		}
	}
	return i;
}

static const char *const fz_elems[] = { "div", "p", "span", "td" };
static const char *const fz_voids[] = { "input", "br" };

/* The index of s[0..n) in names, or -1. */
static int
fz_known(const char *s, size_t n, const char *const *names, int count)
{
	int	i;

	for (i = 0; i < count; i++)
		if (strlen(names[i]) == n && memcmp(s, names[i], n) == 0)
			return i;
	return -1;
}

/*
 * Tokenizes the writer's output; text and attribute values (each value
 * followed by a 0x01 separator) must equal what was passed in.
 */
static void
fz_tokenize(const struct buf *b, const struct buf *want_text,
    const struct buf *want_attr, size_t depth_left)
{
	struct buf	 text, attr;
	const char	*stack[HTML_DEPTH_MAX];
	const char	*s = b->data;
	size_t		 n = b->len, i = 0, depth = 0, k;
	int		 e;

	buf_init(&text);
	buf_init(&attr);
	while (i < n) {
		if (s[i] != '<') {
			i += fz_unescape(s + i, n - i, &text, 0);
			continue;
		}
		i++;
		if (i < n && s[i] == '/') {
			i++;
			for (k = i; k < n && s[k] >= 'a' && s[k] <= 'z'; k++)
				;
			if (depth == 0 || k == n || s[k] != '>' ||
			    strlen(stack[depth - 1]) != k - i ||
			    memcmp(s + i, stack[depth - 1], k - i) != 0)
				fz_fail("writer output: end tag out of order");
			depth--;
			i = k + 1;
			continue;
		}
		for (k = i; k < n && s[k] >= 'a' && s[k] <= 'z'; k++)
			;
		if ((e = fz_known(s + i, k - i, fz_elems, 4)) != -1) {
			if (depth == HTML_DEPTH_MAX)
				fz_fail("writer output: too deep");
			stack[depth++] = fz_elems[e];
		} else if (fz_known(s + i, k - i, fz_voids, 2) == -1)
			fz_fail("writer output: unknown element");
		i = k;
		/* Attributes: ' ' name, or ' ' name '="' value '"'. */
		while (i < n && s[i] == ' ') {
			for (k = ++i; k < n && s[k] >= 'a' && s[k] <= 'z'; k++)
				;
			if (k == i)
				fz_fail("writer output: empty attribute name");
			i = k;
			if (i < n && s[i] == '=') {
				if (i + 1 >= n || s[i + 1] != '"')
					fz_fail("writer output: bare value");
				i += 2;
				i += fz_unescape(s + i, n - i, &attr, 1);
				if (i >= n)
					fz_fail("writer output: open value");
				buf_putc(&attr, '\x01');
				i++;
			}
		}
		/* The last start tag may still await its '>'. */
		if (i < n && s[i] != '>')
			fz_fail("writer output: junk in a start tag");
		i++;
	}
	if (depth != depth_left)
		fz_fail("writer output: elements left open");
	if (text.len != want_text->len ||
	    memcmp(text.data, want_text->data, text.len) != 0)
		fz_fail("writer output: text differs from what was written");
	if (attr.len != want_attr->len ||
	    memcmp(attr.data, want_attr->data, attr.len) != 0)
		fz_fail("writer output: attributes differ from what was set");
	buf_cleanup(&text);
	buf_cleanup(&attr);
}

/* Reads a length-prefixed value (at most 63 bytes) from the program. */
static size_t
fz_value(const uint8_t *p, size_t n, size_t *at, const char **v)
{
	size_t	len;

	if (*at >= n) {
		*v = "";
		return 0;
	}
	len = p[(*at)++] & 63;
	if (len > n - *at)
		len = n - *at;
	*v = (const char *)p + *at;
	*at += len;
	return len;
}

static void
fz_program(const uint8_t *p, size_t n)
{
	struct buf	 out, want_text, want_attr;
	struct html	 h;
	const char	*v;
	char		*z;
	size_t		 at = 0, len, depth = 0;
	int		 tag_open = 0;
	uint8_t		 op;

	buf_init(&out);
	buf_init(&want_text);
	buf_init(&want_attr);
	html_init(&h, &out);
	while (at < n) {
		op = p[at++];
		len = fz_value(p, n, &at, &v);
		z = mem_strndup(v, len);	/* stops at a NUL */
		switch (op % 10) {
		case 0:
			if (depth == HTML_DEPTH_MAX - 1)
				break;
			switch (op / 10 % 4) {
			case 0:
				html_open(&h, "div");
				break;
			case 1:
				html_open(&h, "p");
				break;
			case 2:
				html_open(&h, "span");
				break;
			default:
				html_open(&h, "td");
				break;
			}
			depth++;
			tag_open = 1;
			break;
		case 1:
			if (op & 0x80)
				html_void(&h, "br");
			else
				html_void(&h, "input");
			tag_open = 1;
			break;
		case 2:
			if (op & 0x80)
				html_attr(&h, "title", z);
			else
				html_attr(&h, "value", z);
			if (tag_open) {
				buf_puts(&want_attr, z);
				buf_putc(&want_attr, '\x01');
			}
			break;
		case 3:
			if (op & 0x80)
				html_attr(&h, "name", NULL);
			else
				html_flag(&h, "checked");
			break;
		case 4:
			html_strn(&h, v, len);
			buf_append(&want_text, v, len);
			tag_open = 0;
			break;
		case 5:
			html_str(&h, z);
			buf_puts(&want_text, z);
			tag_open = 0;
			break;
		case 6:
			html_strf(&h, "%s:%zu", z, len);
			buf_printf(&want_text, "%s:%zu", z, len);
			tag_open = 0;
			break;
		case 7:
			html_attrf(&h, "data", "%s%d", z, op);
			if (tag_open) {
				buf_printf(&want_attr, "%s%d", z, op);
				buf_putc(&want_attr, '\x01');
			}
			break;
		case 8:
			if (op & 0x80)
				html_elemc(&h, "td", "c", z);
			else
				html_elem(&h, "span", (op & 0x40) ? NULL : z);
			if (op & 0x80)
				buf_puts(&want_attr, "c\x01");
			if ((op & 0x80) || !(op & 0x40))
				buf_puts(&want_text, z);
			tag_open = 0;
			break;
		default:
			if (depth > 0) {
				depth--;
				tag_open = 0;
			}
			html_close(&h);
			break;
		}
		mem_free(z);
	}
	if (h.depth != depth)
		fz_fail("html depth differs from the opens and closes");
	fz_tokenize(&out, &want_text, &want_attr, depth);
	html_close_to(&h, 0);
	if (h.depth != 0)
		fz_fail("html_close_to(0) left elements open");
	fz_tokenize(&out, &want_text, &want_attr, 0);
	buf_cleanup(&out);
	buf_cleanup(&want_text);
	buf_cleanup(&want_attr);
}
