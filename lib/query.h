/*
 * query — URL-encoded strings (query strings and form bodies).
 *
 * query_parse() splits "a=1&b=x%20y" into decoded pairs allocated from the
 * arena.  A pair whose decoding yields a NUL byte or invalid %-escape keeps
 * the raw bytes replaced by an empty value and is flagged invalid, so
 * validators can reject it.  At most QUERY_MAX_PAIRS pairs are kept.
 */
#ifndef WADESK_QUERY_H
#define WADESK_QUERY_H

#include <stddef.h>

#include "arena.h"
#include "buf.h"

#define QUERY_MAX_PAIRS	64

struct query_pair {
	const char	*key;
	const char	*val;
	size_t		 val_len;
};

struct query {
	struct query_pair	pairs[QUERY_MAX_PAIRS];
	size_t			npairs;
	int			truncated;	/* more pairs than kept */
	int			invalid;	/* a bad %-escape or a NUL */
};

void		 query_parse(struct arena *, const char *, struct query *);
/* The first value for key, or NULL. */
const char	*query_get(const struct query *, const char *);
/* Decodes %XX and '+' into out (at least len+1 bytes); -1 on bad input. */
int		 query_decode(const char *, size_t, char *, size_t *)
		    __attribute__((warn_unused_result));
/* Appends s percent-encoded (RFC 3986 unreserved characters kept). */
void		 query_encode(struct buf *, const char *);

#endif
