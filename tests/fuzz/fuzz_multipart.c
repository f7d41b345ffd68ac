/*
 * fuzz_multipart — multipart/form-data bodies: the input's first line is
 * the Content-Type value, the rest the body -> multipart_parse() with an
 * arena.
 *
 * Invariants (abort() on a break):
 * - multipart_boundary() and multipart_parse() agree on whether the
 *   Content-Type has a boundary, which is 1-70 characters;
 * - on success: 1 to MULTIPART_MAX_PARTS parts, each with a non-empty
 *   name, its data inside the body and within its limit (text or file),
 *   and no delimiter inside any part's data;
 * - parts written out again (when their names and filenames need no
 *   escaping) parse to the same parts;
 * - no leaks (LeakSanitizer): the arena is created and cleared per input.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "buf.h"
#include "mem.h"
#include "multipart.h"

#define FZ_TEXT_MAX	256
#define FZ_FILE_MAX	4096

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	fz_fail(const char *) __attribute__((noreturn));
static int	fz_plain(const char *);

static void
fz_fail(const char *what)
{
	fprintf(stderr, "fuzz_multipart: invariant broken: %s\n", what);
	abort();
}

/* A name that goes into a quoted string unescaped. */
static int
fz_plain(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s == '"' || *s == '\\' || (unsigned char)*s < 0x20)
			return 0;
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena		 a;
	struct multipart	 mp, mp2;
	struct buf		 b;
	char			*ct, bnd[MULTIPART_BOUNDARY_MAX + 1], delim[80];
	const char		*body;
	const uint8_t		*nl;
	size_t			 clen, blen, i, dlen;
	enum multipart_err	 e;
	int			 has_b, plain = 1;

	nl = memchr(data, '\n', size);
	clen = nl != NULL ? (size_t)(nl - data) : size;
	ct = mem_alloc(clen + 1);
	memcpy(ct, data, clen);
	ct[clen] = '\0';
	body = nl != NULL ? (const char *)nl + 1 : (const char *)data + size;
	blen = size - (size_t)(body - (const char *)data);

	arena_init(&a, 4096);
	has_b = multipart_boundary(ct, bnd, sizeof(bnd)) == 0;
	if (has_b && (strlen(bnd) == 0 || strlen(bnd) >
	    MULTIPART_BOUNDARY_MAX))
		fz_fail("boundary length out of range");
	e = multipart_parse(&a, ct, body, blen, FZ_TEXT_MAX, FZ_FILE_MAX,
	    &mp);
	if (!has_b && e != MULTIPART_NO_BOUNDARY)
		fz_fail("parsed without a boundary");
	if (has_b && e == MULTIPART_NO_BOUNDARY)
		fz_fail("a boundary multipart_boundary accepted was refused");
	if (e == MULTIPART_OK) {
		if (mp.nparts == 0 || mp.nparts > MULTIPART_MAX_PARTS)
			fz_fail("part count out of range");
		dlen = (size_t)snprintf(delim, sizeof(delim), "\r\n--%s", bnd);
		for (i = 0; i < mp.nparts; i++) {
			if (mp.parts[i].name == NULL ||
			    mp.parts[i].name[0] == '\0')
				fz_fail("a part without a name");
			if (mp.parts[i].data < body || mp.parts[i].data +
			    mp.parts[i].len > body + blen)
				fz_fail("part data outside the body");
			if (mp.parts[i].len > (mp.parts[i].filename != NULL ?
			    FZ_FILE_MAX : FZ_TEXT_MAX))
				fz_fail("a part over its limit");
			if (memmem(mp.parts[i].data, mp.parts[i].len, delim,
			    dlen) != NULL)
				fz_fail("a delimiter inside a part");
			if (!fz_plain(mp.parts[i].name) ||
			    (mp.parts[i].filename != NULL &&
			    !fz_plain(mp.parts[i].filename)) ||
			    (mp.parts[i].type != NULL &&
			    !fz_plain(mp.parts[i].type)))
				plain = 0;
		}
		if (plain) {
			buf_init(&b);
			for (i = 0; i < mp.nparts; i++) {
				buf_printf(&b, "--%s\r\nContent-Disposition: "
				    "form-data; name=\"%s\"", bnd,
				    mp.parts[i].name);
				if (mp.parts[i].filename != NULL)
					buf_printf(&b, "; filename=\"%s\"",
					    mp.parts[i].filename);
				buf_puts(&b, "\r\n");
				if (mp.parts[i].type != NULL)
					buf_printf(&b, "Content-Type: %s\r\n",
					    mp.parts[i].type);
				buf_puts(&b, "\r\n");
				buf_append(&b, mp.parts[i].data,
				    mp.parts[i].len);
				buf_puts(&b, "\r\n");
			}
			buf_printf(&b, "--%s--\r\n", bnd);
			if (multipart_parse(&a, ct, b.data, b.len, FZ_TEXT_MAX,
			    FZ_FILE_MAX, &mp2) != MULTIPART_OK ||
			    mp2.nparts != mp.nparts)
				fz_fail("parts written out parse differently");
			for (i = 0; i < mp.nparts; i++)
				if (strcmp(mp.parts[i].name,
				    mp2.parts[i].name) != 0 ||
				    mp.parts[i].len != mp2.parts[i].len ||
				    memcmp(mp.parts[i].data, mp2.parts[i].data,
				    mp.parts[i].len) != 0 ||
				    (mp.parts[i].filename == NULL) !=
				    (mp2.parts[i].filename == NULL))
					fz_fail("a part differs after a round "
					    "trip");
			buf_cleanup(&b);
		}
	}
	(void)multipart_strerror(e);
	arena_cleanup(&a);
	mem_free(ct);
	return 0;
}
