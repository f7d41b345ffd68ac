/*
 * arena — a per-request bump allocator.
 *
 * The worker owns one arena; everything a request allocates from it lives
 * until arena_reset() after FCGX_Finish_r().  Chunks beyond the first are
 * released on reset so one large request does not pin memory.
 */
#ifndef WADESK_ARENA_H
#define WADESK_ARENA_H

#include <stddef.h>

struct arena_chunk;

struct arena {
	struct arena_chunk	*head;
	size_t			 chunk_size;
};

void	 arena_init(struct arena *, size_t);
void	 arena_cleanup(struct arena *);
void	 arena_reset(struct arena *);
void	*arena_alloc(struct arena *, size_t)
	    __attribute__((malloc, returns_nonnull));
char	*arena_strdup(struct arena *, const char *)
	    __attribute__((returns_nonnull));
char	*arena_strndup(struct arena *, const char *, size_t)
	    __attribute__((returns_nonnull));

#endif
