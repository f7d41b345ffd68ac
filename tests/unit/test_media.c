/*
 * Unit tests for app/model_media's pure parts: MIME types (normalised,
 * which WhatsApp takes, which are served as themselves, which inline),
 * client file names, and the simulator's files.
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
#include "media_sim.h"
#include "model_media.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

struct type_case {
	const char	*in;
	const char	*norm;		/* NULL: refused */
	const char	*kind;		/* media_send_kind */
	const char	*served;	/* media_serve_type */
	int		 inl;
};

static const struct type_case type_cases[] = {
	{ "image/jpeg", "image/jpeg", "image", "image/jpeg", 1 },
	{ "IMAGE/PNG; charset=binary", "image/png", "image", "image/png", 1 },
	{ " image/webp", "image/webp", "sticker", "image/webp", 1 },
	{ "image/gif", "image/gif", NULL, "image/gif", 1 },
	{ "audio/ogg; codecs=opus", "audio/ogg", "audio", "audio/ogg", 0 },
	{ "video/mp4", "video/mp4", "video", "video/mp4", 0 },
	{ "application/pdf", "application/pdf", "document", "application/pdf",
	    0 },
	{ "text/plain;charset=utf-8", "text/plain", "document", "text/plain",
	    0 },
	{ "image/svg+xml", "image/svg+xml", NULL, "application/octet-stream",
	    0 },
	{ "text/html", "text/html", NULL, "application/octet-stream", 0 },
	{ "application/xhtml+xml", "application/xhtml+xml", NULL,
	    "application/octet-stream", 0 },
	{ "text/javascript", "text/javascript", NULL,
	    "application/octet-stream", 0 },
	{ "", NULL, NULL, "application/octet-stream", 0 },
	{ "image", NULL, NULL, "application/octet-stream", 0 },
	{ "/png", NULL, NULL, "application/octet-stream", 0 },
	{ "image/", NULL, NULL, "application/octet-stream", 0 },
	{ "image/p/ng", NULL, NULL, "application/octet-stream", 0 },
	{ "image/p\"ng", NULL, NULL, "application/octet-stream", 0 },
	{ "image/png\r\nX-Evil: 1", NULL, NULL, "application/octet-stream",
	    0 },
};

static void
test_types(void **state)
{
	const struct type_case	*c;
	char			 out[MEDIA_TYPE_MAX + 1];
	const char		*k;
	size_t			 i;
	int			 rc;

	(void)state;
	for (i = 0; i < NELEM(type_cases); i++) {
		c = &type_cases[i];
		rc = media_type_norm(c->in, out, sizeof(out));
		if ((rc == 0) != (c->norm != NULL))
			fail_msg("norm %s: %d", c->in, rc);
		if (rc == 0 && strcmp(out, c->norm) != 0)
			fail_msg("norm %s: %s", c->in, out);
		k = media_send_kind(c->in);
		if ((k == NULL) != (c->kind == NULL) ||
		    (k != NULL && strcmp(k, c->kind) != 0))
			fail_msg("kind %s: %s", c->in, k ? k : "(null)");
		assert_string_equal(media_serve_type(c->in), c->served);
		assert_int_equal(media_inline(c->in), c->inl);
	}
	assert_null(media_send_kind(NULL));
	assert_string_equal(media_serve_type(NULL), "application/octet-stream");
}

static void
test_filenames(void **state)
{
	char	out[MEDIA_FILENAME_MAX + 1], big[400];

	(void)state;
	assert_int_equal(media_filename_clean("invoice.pdf", out, sizeof(out)),
	    0);
	assert_string_equal(out, "invoice.pdf");
	assert_int_equal(media_filename_clean("C:\\Users\\a\\b.pdf", out,
	    sizeof(out)), 0);
	assert_string_equal(out, "b.pdf");
	assert_int_equal(media_filename_clean("../../etc/passwd", out,
	    sizeof(out)), 0);
	assert_string_equal(out, "passwd");
	assert_int_equal(media_filename_clean("Fa\xc3\xa7tura 7.pdf", out,
	    sizeof(out)), 0);
	assert_int_equal(media_filename_clean("", out, sizeof(out)), -1);
	assert_int_equal(media_filename_clean("dir/", out, sizeof(out)), -1);
	assert_int_equal(media_filename_clean("..", out, sizeof(out)), -1);
	assert_int_equal(media_filename_clean("a\nb", out, sizeof(out)), -1);
	assert_int_equal(media_filename_clean("a\x7f", out, sizeof(out)), -1);
	assert_int_equal(media_filename_clean("\xff.pdf", out, sizeof(out)),
	    -1);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(media_filename_clean(big, out, sizeof(out)), -1);
	big[MEDIA_FILENAME_MAX] = '\0';
	assert_int_equal(media_filename_clean(big, out, sizeof(out)), 0);
}

static void
test_sim_files(void **state)
{
	static const struct {
		const char	*kind;
		const char	*hint;
		const char	*type;
		const char	*magic;
		size_t		 mlen;
	} cases[] = {
		{ "image", "image/jpeg", "image/png", "\x89PNG\r\n\x1a\n", 8 },
		{ "sticker", NULL, "image/webp", "RIFF", 4 },
		{ "audio", "audio/ogg", "audio/ogg", "OggS", 4 },
		{ "video", NULL, "video/mp4", "\0\0\0\x18" "ftyp", 8 },
		{ "document", NULL, "application/pdf", "%PDF-", 5 },
		{ "document", "text/plain", "text/plain", "A simulated", 11 },
		{ NULL, NULL, "application/pdf", "%PDF-", 5 },
	};
	struct buf	b;
	char		type[64];
	size_t		i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		buf_init(&b);
		media_sim_file(cases[i].kind, cases[i].hint, &b, type,
		    sizeof(type));
		assert_string_equal(type, cases[i].type);
		assert_true(b.len >= cases[i].mlen);
		assert_memory_equal(b.data, cases[i].magic, cases[i].mlen);
		buf_cleanup(&b);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_filenames),
		cmocka_unit_test(test_sim_files),
	};

	setvbuf(stdout, NULL, _IOLBF, 0);
	return cmocka_run_group_tests_name("media", tests, NULL, NULL);
}
