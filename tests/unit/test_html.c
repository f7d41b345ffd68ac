/*
 * Unit tests for lib/html: the escaping writer and HTML_RAW.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "buf.h"
#include "html.h"

#define LIT(s)	(s), sizeof(s) - 1
#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

struct html_case {
	const char	*in;
	size_t		 len;
	const char	*out;
};

static void	 unescape(const char *, size_t, struct buf *);

static const struct html_case html_cases[] = {
	{ LIT(""), "" },
	{ LIT("plain text"), "plain text" },
	{ LIT("&"), "&amp;" },
	{ LIT("<"), "&lt;" },
	{ LIT(">"), "&gt;" },
	{ LIT("\""), "&quot;" },
	{ LIT("'"), "&#39;" },
	{ LIT("&<>\"'"), "&amp;&lt;&gt;&quot;&#39;" },
	{ LIT("<<<"), "&lt;&lt;&lt;" },
	{ LIT("a&b<c>d\"e'f"), "a&amp;b&lt;c&gt;d&quot;e&#39;f" },
	{ LIT("<script>alert('x')</script>"),
	    "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" },
	{ LIT("\" onmouseover=\"alert(1)"),
	    "&quot; onmouseover=&quot;alert(1)" },
	{ LIT("&amp;"), "&amp;amp;" },
	{ LIT("&#39;"), "&amp;#39;" },
	{ LIT("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
	    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80" },
	{ LIT("<\xf0\x9f\x98\x80>"), "&lt;\xf0\x9f\x98\x80&gt;" },
	{ LIT("line1\nline2\ttab"), "line1\nline2\ttab" },
	{ LIT("50% off; a=b / c"), "50% off; a=b / c" },
	/* Only the given length is written. */
	{ "a<b", 1, "a" },
	{ "<<", 1, "&lt;" },
	{ "x&", 1, "x" },
	{ "hello", 0, "" },
};

/* The inverse of html_text, for round trips. */
static void
unescape(const char *s, size_t n, struct buf *b)
{
	static const struct {
		const char	*ent;
		char		 c;
	} ents[] = {
		{ "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' },
		{ "&quot;", '"' }, { "&#39;", '\'' },
	};
	size_t	i, k, elen;

	for (i = 0; i < n; ) {
		if (s[i] != '&') {
			buf_putc(b, s[i++]);
			continue;
		}
		for (k = 0; k < NELEM(ents); k++) {
			elen = strlen(ents[k].ent);
			if (n - i >= elen && memcmp(s + i, ents[k].ent,
			    elen) == 0)
				break;
		}
		if (k == NELEM(ents))
			fail_msg("html_text left a bare '&' at offset %zu", i);
		buf_putc(b, ents[k].c);
		i += strlen(ents[k].ent);
	}
}

static void
test_text_table(void **state)
{
	const struct html_case	*c;
	struct buf		 b;
	char			*p;
	size_t			 i;

	(void)state;
	for (i = 0; i < NELEM(html_cases); i++) {
		c = &html_cases[i];
		/* A copy with nothing after it: valgrind sees over-reads. */
		p = malloc(c->len == 0 ? 1 : c->len);
		assert_non_null(p);
		memcpy(p, c->in, c->len);
		buf_init(&b);
		html_text(&b, p, c->len);
		free(p);
		if (b.len != strlen(c->out) || strcmp(b.data, c->out) != 0) {
			fail_msg("html_text \"%.*s\" (%zu): got \"%s\", want "
			    "\"%s\"", (int)c->len, c->in, c->len, b.data,
			    c->out);
		}
		buf_cleanup(&b);
	}
}

static void
test_text_appends(void **state)
{
	struct buf	b;

	(void)state;
	buf_init(&b);
	buf_puts(&b, "<td>");
	html_text(&b, "1 < 2", 5);
	buf_puts(&b, "</td>");
	assert_string_equal(b.data, "<td>1 &lt; 2</td>");
	assert_int_equal(b.len, strlen("<td>1 &lt; 2</td>"));
	buf_cleanup(&b);
}

static void
test_puts(void **state)
{
	struct buf	b;

	(void)state;
	buf_init(&b);
	html_puts(&b, "<b>Tom & \"Jerry\"</b>");
	assert_string_equal(b.data,
	    "&lt;b&gt;Tom &amp; &quot;Jerry&quot;&lt;/b&gt;");
	html_puts(&b, "");
	assert_string_equal(b.data,
	    "&lt;b&gt;Tom &amp; &quot;Jerry&quot;&lt;/b&gt;");
	buf_cleanup(&b);
}

static void
test_raw(void **state)
{
	struct buf	b;

	(void)state;
	buf_init(&b);
	HTML_RAW(&b, "<p class=\"msg\">");
	html_puts(&b, "a<b & 'c'");
	HTML_RAW(&b, "</p>");
	HTML_RAW(&b, "");
	assert_string_equal(b.data,
	    "<p class=\"msg\">a&lt;b &amp; &#39;c&#39;</p>");
	assert_int_equal(b.len, strlen(b.data));
	buf_cleanup(&b);
}

static void
test_text_large(void **state)
{
	struct buf	 b;
	char		*in;
	size_t		 i, n;

	(void)state;
	/* 20000 '<' grow the buffer to 80000 bytes of "&lt;". */
	n = 20000;
	in = malloc(n);
	assert_non_null(in);
	memset(in, '<', n);
	buf_init(&b);
	html_text(&b, in, n);
	assert_int_equal(b.len, 4 * n);
	assert_int_equal(strlen(b.data), 4 * n);
	for (i = 0; i < n; i++)
		if (memcmp(b.data + 4 * i, "&lt;", 4) != 0)
			fail_msg("html_text: wrong output at entity %zu", i);
	buf_cleanup(&b);
	free(in);
}

static void
test_text_round_trip(void **state)
{
	static const char	 alphabet[] = "<>&\"'a; #\xc3\xa9\n";
	struct buf		 out, back;
	char			 in[64];
	unsigned long		 seed = 12345;
	size_t			 i, j, n;

	(void)state;
	/*
	 * For many generated strings: no raw < > " ' reaches the output,
	 * every & starts an entity, and unescaping gives the input back.
	 */
	buf_init(&out);
	buf_init(&back);
	for (i = 0; i < 2000; i++) {
		seed = seed * 1103515245 + 12345;
		n = (seed >> 16) % sizeof(in);
		for (j = 0; j < n; j++) {
			seed = seed * 1103515245 + 12345;
			in[j] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
		}
		buf_reset(&out);
		buf_reset(&back);
		html_text(&out, in, n);
		if (strpbrk(out.data, "<>\"'") != NULL)
			fail_msg("html_text let a special character through: "
			    "\"%s\"", out.data);
		unescape(out.data, out.len, &back);
		if (back.len != n || memcmp(back.data, in, n) != 0)
			fail_msg("html_text round trip failed for \"%.*s\"",
			    (int)n, in);
	}
	buf_cleanup(&back);
	buf_cleanup(&out);
}

static void
test_writer_elements(void **state)
{
	struct buf	b;
	struct html	h;

	(void)state;
	buf_init(&b);
	html_init(&h, &b);
	html_open(&h, "p");
	html_attr(&h, "class", "a\"b<c>&'d");
	html_attr(&h, "title", NULL);
	html_str(&h, "x<y & \"z\"");
	html_void(&h, "input");
	html_attr(&h, "value", "'v'");
	html_flag(&h, "required");
	html_open(&h, "em");
	html_strf(&h, "%d<%s", 1, "2");
	html_elemc(&h, "span", "c", "<t>");
	html_close_to(&h, 0);
	assert_string_equal(b.data, "<p class=\"a&quot;b&lt;c&gt;&amp;&#39;d\">"
	    "x&lt;y &amp; &quot;z&quot;<input value=\"&#39;v&#39;\" required>"
	    "<em>1&lt;2<span class=\"c\">&lt;t&gt;</span></em></p>");
	assert_int_equal(h.depth, 0);
	/* Closing with nothing open writes nothing; attributes after
	 * content are dropped, not written into the text. */
	html_close(&h);
	buf_reset(&b);
	html_open(&h, "b");
	html_str(&h, "t");
	html_attr(&h, "onclick", "x");
	html_attrf(&h, "x", "%d", 3);
	html_close(&h);
	assert_string_equal(b.data, "<b>t</b>");
	buf_reset(&b);
	html_raw(&h, "<!DOCTYPE html>");
	html_open(&h, "svg");
	html_attrf(&h, "viewBox", "0 0 %d %d", 10, 20);
	html_elem(&h, "title", NULL);
	html_close(&h);
	assert_string_equal(b.data, "<!DOCTYPE html><svg viewBox=\"0 0 10 20\">"
	    "<title></title></svg>");
	buf_cleanup(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_table),
		cmocka_unit_test(test_text_appends),
		cmocka_unit_test(test_puts),
		cmocka_unit_test(test_raw),
		cmocka_unit_test(test_text_large),
		cmocka_unit_test(test_text_round_trip),
		cmocka_unit_test(test_writer_elements),
	};

	/* cmocka reports failures on stderr: keep stdout in step with it. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	return cmocka_run_group_tests_name("html", tests, NULL, NULL);
}
