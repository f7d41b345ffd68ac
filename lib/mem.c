#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

static void	mem_fatal(size_t) __attribute__((noreturn));

static void
mem_fatal(size_t n)
{
	fprintf(stderr, "{\"level\":\"fatal\",\"msg\":\"out of memory\","
	    "\"bytes\":%zu}\n", n);
	abort();
}

void *
mem_alloc(size_t n)
{
	void	*p;

	if ((p = malloc(n == 0 ? 1 : n)) == NULL)
		mem_fatal(n);
	return p;
}

void *
mem_calloc(size_t nmemb, size_t size)
{
	void	*p;

	if ((p = calloc(nmemb == 0 ? 1 : nmemb, size == 0 ? 1 : size)) == NULL)
		mem_fatal(nmemb * size);
	return p;
}

void *
mem_realloc(void *old, size_t n)
{
	void	*p;

	if ((p = realloc(old, n == 0 ? 1 : n)) == NULL)
		mem_fatal(n);
	return p;
}

char *
mem_strdup(const char *s)
{
	return mem_strndup(s, strlen(s));
}

char *
mem_strndup(const char *s, size_t n)
{
	char	*p;

	p = mem_alloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void
mem_free(void *p)
{
	free(p);
}
