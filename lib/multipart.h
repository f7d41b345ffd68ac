/*
 * multipart — multipart/form-data bodies (RFC 7578, RFC 2046 section 5.1),
 * as browsers send forms with a file.
 *
 * multipart_parse() finds the boundary in the Content-Type value (a token
 * or a quoted string, 1-70 characters), then every part between the
 * delimiters: its headers (Content-Disposition form-data with name and
 * filename, Content-Type), and its bytes, which are left in the body and
 * pointed to (not copied).  Names, filenames and types are arena copies.
 * A body must end with the closing delimiter; a part without a name, more
 * than MULTIPART_MAX_PARTS parts, header lines over MULTIPART_HEADER_MAX,
 * a text field over max_text or a file over max_file are errors.
 */
#ifndef WADESK_MULTIPART_H
#define WADESK_MULTIPART_H

#include <stddef.h>

#include "arena.h"

#define MULTIPART_MAX_PARTS	32
#define MULTIPART_BOUNDARY_MAX	70
#define MULTIPART_HEADER_MAX	4096	/* bytes of one part's headers */

struct multipart_part {
	const char	*name;		/* the form field's name */
	const char	*filename;	/* NULL: a text field; "" possible */
	const char	*type;		/* Content-Type, or NULL */
	const char	*data;		/* into the body; not NUL-terminated */
	size_t		 len;
};

struct multipart {
	struct multipart_part	parts[MULTIPART_MAX_PARTS];
	size_t			nparts;
};

enum multipart_err {
	MULTIPART_OK,
	MULTIPART_NO_BOUNDARY,		/* none, or not a valid one */
	MULTIPART_MALFORMED,		/* delimiters, headers, the end */
	MULTIPART_NO_NAME,		/* a part without form-data; name= */
	MULTIPART_TOO_MANY_PARTS,
	MULTIPART_TOO_LARGE,		/* a part over its limit */
	MULTIPART__MAX
};

/*
 * The boundary of a Content-Type value ("multipart/form-data;
 * boundary=..."), unquoted, into out (MULTIPART_BOUNDARY_MAX + 1 bytes);
 * 0 or -1.
 */
int		 multipart_boundary(const char *, char *, size_t)
		    __attribute__((warn_unused_result));
/*
 * Parses body (len bytes) sent with Content-Type ct into mp.  max_text
 * bounds a field without a filename, max_file one with.
 */
enum multipart_err multipart_parse(struct arena *, const char *,
		    const char *, size_t, size_t, size_t, struct multipart *)
		    __attribute__((warn_unused_result));
const char	*multipart_strerror(enum multipart_err);
/* The first part named name, or NULL. */
const struct multipart_part *multipart_get(const struct multipart *,
		    const char *);

#endif
