/*
 * Unit tests for lib/multipart: multipart/form-data bodies as browsers
 * send a form with a file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "arena.h"
#include "buf.h"
#include "multipart.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define CT		"multipart/form-data; boundary=XyZ"
#define TEXT_MAX	64
#define FILE_MAX	1024

struct boundary_case {
	const char	*ct;
	int		 rc;
	const char	*out;
};

static const struct boundary_case boundary_cases[] = {
	{ "multipart/form-data; boundary=abc", 0, "abc" },
	{ "Multipart/Form-Data;boundary=abc", 0, "abc" },
	{ "multipart/form-data; boundary=\"a b:c\"", 0, "a b:c" },
	{ "multipart/form-data; charset=utf-8; boundary=x1", 0, "x1" },
	{ "multipart/form-data; foo=\"a;boundary=no\"; boundary=yes", 0,
	    "yes" },
	{ "multipart/form-data; boundary=abc; charset=utf-8", 0, "abc" },
	{ "multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxk", 0,
	    "----WebKitFormBoundary7MA4YWxk" },
	{ "multipart/form-data", -1, NULL },
	{ "multipart/form-data; boundary=", -1, NULL },
	{ "multipart/form-data; boundary=\"\"", -1, NULL },
	{ "multipart/form-data; boundary=\"abc", -1, NULL },
	{ "multipart/form-data; boundary=\"a\\\"b\"", -1, NULL },
	{ "multipart/form-data; boundary=\"ends with space \"", -1, NULL },
	{ "multipart/form-data; boundary=a<b", -1, NULL },
	{ "multipart/form-data; boundary=abc junk", -1, NULL },
	{ "multipart/mixed; boundary=abc", -1, NULL },
	{ "application/x-www-form-urlencoded", -1, NULL },
	{ "multipart/form-data; boundary=12345678901234567890123456789012345"
	    "67890123456789012345678901234567890", 0,
	    "1234567890123456789012345678901234567890123456789012345678901234"
	    "567890" },
	{ "multipart/form-data; boundary=12345678901234567890123456789012345"
	    "678901234567890123456789012345678901", -1, NULL },
};

struct part_want {
	const char	*name;
	const char	*filename;
	const char	*type;
	const char	*data;
	size_t		 len;
};

struct parse_case {
	const char		*what;
	const char		*ct;
	const char		*body;
	enum multipart_err	 rc;
	size_t			 nparts;
	struct part_want	 parts[3];
};

#define P(s)	(s), sizeof(s) - 1

static const struct parse_case parse_cases[] = {
	{ "a field and a file", CT,
	    "--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n"
	    "abc\r\n"
	    "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; "
	    "filename=\"a b.png\"\r\nContent-Type: image/png\r\n\r\n"
	    "\x89PNG\r\n\r\n--Xy\r\n"
	    "--XyZ--\r\n", MULTIPART_OK, 2, {
	    { "csrf", NULL, NULL, P("abc") },
	    { "file", "a b.png", "image/png", P("\x89PNG\r\n\r\n--Xy") } } },
	{ "preamble, padding, epilogue, case", CT,
	    "ignored\r\n--XyZ \t\r\ncontent-disposition: FORM-DATA; "
	    "NAME=n\r\n\r\n1\r\n--XyZ--junk after", MULTIPART_OK, 1, {
	    { "n", NULL, NULL, P("1") } } },
	{ "quoted filename with escapes and a ';'", CT,
	    "--XyZ\r\nContent-Disposition: form-data; name=\"f\"; "
	    "filename=\"a\\\"b;c.txt\"\r\n\r\nx\r\n--XyZ--", MULTIPART_OK, 1, {
	    { "f", "a\"b;c.txt", NULL, P("x") } } },
	{ "empty file input", CT,
	    "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; "
	    "filename=\"\"\r\nContent-Type: application/octet-stream\r\n\r\n"
	    "\r\n--XyZ--", MULTIPART_OK, 1, {
	    { "file", "", "application/octet-stream", P("") } } },
	{ "no headers at all is a part without a name", CT,
	    "--XyZ\r\n\r\nabc\r\n--XyZ--", MULTIPART_NO_NAME, 0, { { 0 } } },
	{ "no boundary", "multipart/form-data",
	    "--XyZ\r\n\r\n--XyZ--", MULTIPART_NO_BOUNDARY, 0, { { 0 } } },
	{ "not multipart", "text/plain", "x", MULTIPART_NO_BOUNDARY, 0,
	    { { 0 } } },
	{ "no closing delimiter", CT,
	    "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n"
	    "abc", MULTIPART_MALFORMED, 0, { { 0 } } },
	{ "closing delimiter only", CT, "--XyZ--\r\n", MULTIPART_MALFORMED,
	    0, { { 0 } } },
	{ "empty body", CT, "", MULTIPART_MALFORMED, 0, { { 0 } } },
	{ "another boundary", CT,
	    "--abc\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n"
	    "x\r\n--abc--", MULTIPART_MALFORMED, 0, { { 0 } } },
	{ "headers never end", CT,
	    "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n"
	    "x\r\n--XyZ--", MULTIPART_MALFORMED, 0, { { 0 } } },
	{ "garbage after a delimiter", CT,
	    "--XyZjunk\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n"
	    "x\r\n--XyZ--", MULTIPART_MALFORMED, 0, { { 0 } } },
	{ "a header line without a colon", CT,
	    "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\nbogus\r\n"
	    "\r\nx\r\n--XyZ--", MULTIPART_MALFORMED, 0, { { 0 } } },
	{ "an unterminated quoted name", CT,
	    "--XyZ\r\nContent-Disposition: form-data; name=\"a\r\n\r\n"
	    "x\r\n--XyZ--", MULTIPART_MALFORMED, 0, { { 0 } } },
	{ "not form-data", CT,
	    "--XyZ\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\n"
	    "x\r\n--XyZ--", MULTIPART_NO_NAME, 0, { { 0 } } },
	{ "an empty name", CT,
	    "--XyZ\r\nContent-Disposition: form-data; name=\"\"\r\n\r\n"
	    "x\r\n--XyZ--", MULTIPART_NO_NAME, 0, { { 0 } } },
	{ "filename= is not name=", CT,
	    "--XyZ\r\nContent-Disposition: form-data; filename=\"a\"\r\n\r\n"
	    "x\r\n--XyZ--", MULTIPART_NO_NAME, 0, { { 0 } } },
	{ "a text field over its limit", CT,
	    "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n"
	    "0123456789012345678901234567890123456789012345678901234567890"
	    "12345\r\n--XyZ--", MULTIPART_TOO_LARGE, 0, { { 0 } } },
};

static void
test_boundary_table(void **state)
{
	char	out[MULTIPART_BOUNDARY_MAX + 1];
	size_t	i;
	int	rc;

	(void)state;
	for (i = 0; i < NELEM(boundary_cases); i++) {
		rc = multipart_boundary(boundary_cases[i].ct, out, sizeof(out));
		if (rc != boundary_cases[i].rc)
			fail_msg("boundary of %s: %d, expected %d",
			    boundary_cases[i].ct, rc, boundary_cases[i].rc);
		if (rc == 0 && strcmp(out, boundary_cases[i].out) != 0)
			fail_msg("boundary of %s: %s", boundary_cases[i].ct,
			    out);
	}
	/* The output buffer bounds it too. */
	assert_int_equal(multipart_boundary("multipart/form-data; "
	    "boundary=abcdef", out, 4), -1);
	assert_int_equal(multipart_boundary(NULL, out, sizeof(out)), -1);
}

static void
test_parse_table(void **state)
{
	const struct parse_case	*c;
	struct multipart	 mp;
	struct arena		 a;
	enum multipart_err	 rc;
	size_t			 i, k;

	(void)state;
	arena_init(&a, 4096);
	for (i = 0; i < NELEM(parse_cases); i++) {
		c = &parse_cases[i];
		rc = multipart_parse(&a, c->ct, c->body, strlen(c->body),
		    TEXT_MAX, FILE_MAX, &mp);
		if (rc != c->rc)
			fail_msg("%s: %s, expected %s", c->what,
			    multipart_strerror(rc), multipart_strerror(c->rc));
		if (rc != MULTIPART_OK)
			continue;
		if (mp.nparts != c->nparts)
			fail_msg("%s: %zu parts", c->what, mp.nparts);
		for (k = 0; k < c->nparts; k++) {
			assert_string_equal(mp.parts[k].name, c->parts[k].name);
			if (c->parts[k].filename == NULL)
				assert_null(mp.parts[k].filename);
			else
				assert_string_equal(mp.parts[k].filename,
				    c->parts[k].filename);
			if (c->parts[k].type == NULL)
				assert_null(mp.parts[k].type);
			else
				assert_string_equal(mp.parts[k].type,
				    c->parts[k].type);
			if (mp.parts[k].len != c->parts[k].len ||
			    memcmp(mp.parts[k].data, c->parts[k].data,
			    c->parts[k].len) != 0)
				fail_msg("%s: part %zu's data", c->what, k);
		}
		arena_reset(&a);
	}
	arena_cleanup(&a);
}

/* Binary data, NULs included, is taken as it is and never copied. */
static void
test_binary_file(void **state)
{
	struct multipart	 mp;
	struct arena		 a;
	struct buf		 b;
	char			 bin[FILE_MAX];
	size_t			 i, off;

	(void)state;
	for (i = 0; i < sizeof(bin); i++)
		bin[i] = (char)(i * 7);
	arena_init(&a, 4096);
	buf_init(&b);
	buf_puts(&b, "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; "
	    "filename=\"x.bin\"\r\n\r\n");
	off = b.len;
	buf_append(&b, bin, sizeof(bin));
	buf_puts(&b, "\r\n--XyZ--\r\n");
	assert_int_equal(multipart_parse(&a, CT, b.data, b.len, TEXT_MAX,
	    FILE_MAX, &mp), MULTIPART_OK);
	assert_int_equal(mp.nparts, 1);
	assert_ptr_equal(mp.parts[0].data, b.data + off);
	assert_int_equal(mp.parts[0].len, sizeof(bin));
	assert_memory_equal(mp.parts[0].data, bin, sizeof(bin));
	/* One byte over the file limit. */
	buf_reset(&b);
	buf_puts(&b, "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; "
	    "filename=\"x.bin\"\r\n\r\n");
	buf_append(&b, bin, sizeof(bin));
	buf_puts(&b, "!\r\n--XyZ--\r\n");
	assert_int_equal(multipart_parse(&a, CT, b.data, b.len, TEXT_MAX,
	    FILE_MAX, &mp), MULTIPART_TOO_LARGE);
	buf_cleanup(&b);
	arena_cleanup(&a);
}

static void
test_too_many_parts(void **state)
{
	struct multipart	 mp;
	struct arena		 a;
	struct buf		 b;
	size_t			 i;

	(void)state;
	arena_init(&a, 4096);
	buf_init(&b);
	for (i = 0; i < MULTIPART_MAX_PARTS; i++)
		buf_printf(&b, "--XyZ\r\nContent-Disposition: form-data; "
		    "name=\"f%zu\"\r\n\r\n%zu\r\n", i, i);
	buf_puts(&b, "--XyZ--");
	assert_int_equal(multipart_parse(&a, CT, b.data, b.len, TEXT_MAX,
	    FILE_MAX, &mp), MULTIPART_OK);
	assert_int_equal(mp.nparts, MULTIPART_MAX_PARTS);
	assert_non_null(multipart_get(&mp, "f31"));
	assert_null(multipart_get(&mp, "f32"));
	b.len -= 7;
	buf_puts(&b, "--XyZ\r\nContent-Disposition: form-data; "
	    "name=\"one-more\"\r\n\r\nx\r\n--XyZ--");
	assert_int_equal(multipart_parse(&a, CT, b.data, b.len, TEXT_MAX,
	    FILE_MAX, &mp), MULTIPART_TOO_MANY_PARTS);
	buf_cleanup(&b);
	arena_cleanup(&a);
}

static void
test_header_block_limit(void **state)
{
	struct multipart	 mp;
	struct arena		 a;
	struct buf		 b;
	size_t			 i;

	(void)state;
	arena_init(&a, 4096);
	buf_init(&b);
	buf_puts(&b, "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n");
	for (i = 0; i < MULTIPART_HEADER_MAX / 10; i++)
		buf_puts(&b, "X-Pad: 12\r\n");
	buf_puts(&b, "\r\nx\r\n--XyZ--");
	assert_int_equal(multipart_parse(&a, CT, b.data, b.len, TEXT_MAX,
	    FILE_MAX, &mp), MULTIPART_TOO_LARGE);
	buf_cleanup(&b);
	arena_cleanup(&a);
}

static void
test_strerror(void **state)
{
	int	e;

	(void)state;
	for (e = 0; e < MULTIPART__MAX; e++)
		assert_non_null(multipart_strerror((enum multipart_err)e));
	assert_string_equal(multipart_strerror(MULTIPART__MAX), "unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_boundary_table),
		cmocka_unit_test(test_parse_table),
		cmocka_unit_test(test_binary_file),
		cmocka_unit_test(test_too_many_parts),
		cmocka_unit_test(test_header_block_limit),
		cmocka_unit_test(test_strerror),
	};

	setvbuf(stdout, NULL, _IOLBF, 0);
	return cmocka_run_group_tests_name("multipart", tests, NULL, NULL);
}
