/*
 * mem — allocation wrappers that abort on failure.
 *
 * Out of memory in a worker is not recoverable in any useful way: the process
 * logs and aborts, and the master forks a fresh one.
 */
#ifndef WADESK_MEM_H
#define WADESK_MEM_H

#include <stddef.h>

void	*mem_alloc(size_t) __attribute__((malloc, returns_nonnull));
void	*mem_calloc(size_t, size_t) __attribute__((malloc, returns_nonnull));
void	*mem_realloc(void *, size_t) __attribute__((returns_nonnull));
char	*mem_strdup(const char *) __attribute__((malloc, returns_nonnull));
char	*mem_strndup(const char *, size_t)
	    __attribute__((malloc, returns_nonnull));
void	 mem_free(void *);

#endif
