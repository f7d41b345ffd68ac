#include <stdint.h>
#include <string.h>

#include "arena.h"
#include "mem.h"

struct arena_chunk {
	struct arena_chunk	*next;
	size_t			 size;
	size_t			 used;
	max_align_t		 data[];
};

static struct arena_chunk	*arena_chunk_new(size_t);

static struct arena_chunk *
arena_chunk_new(size_t size)
{
	struct arena_chunk	*c;

	c = mem_alloc(sizeof(*c) + size);
	c->next = NULL;
	c->size = size;
	c->used = 0;
	return c;
}

void
arena_init(struct arena *a, size_t chunk_size)
{
	a->chunk_size = chunk_size < 1024 ? 1024 : chunk_size;
	a->head = arena_chunk_new(a->chunk_size);
}

void
arena_cleanup(struct arena *a)
{
	struct arena_chunk	*c, *next;

	if (a == NULL)
		return;
	for (c = a->head; c != NULL; c = next) {
		next = c->next;
		mem_free(c);
	}
	a->head = NULL;
}

void
arena_reset(struct arena *a)
{
	struct arena_chunk	*c, *next, *first;

	/* Keep the oldest (initial, default-sized) chunk only. */
	first = NULL;
	for (c = a->head; c != NULL; c = next) {
		next = c->next;
		if (next == NULL && c->size == a->chunk_size)
			first = c;
		else
			mem_free(c);
	}
	if (first == NULL)
		first = arena_chunk_new(a->chunk_size);
	first->used = 0;
	first->next = NULL;
	a->head = first;
}

void *
arena_alloc(struct arena *a, size_t n)
{
	struct arena_chunk	*c;
	size_t			 align = sizeof(max_align_t);
	void			*p;

	n = (n + align - 1) & ~(align - 1);
	if (n == 0)
		n = align;
	c = a->head;
	if (c->size - c->used < n) {
		c = arena_chunk_new(n > a->chunk_size ? n : a->chunk_size);
		c->next = a->head;
		a->head = c;
	}
	p = (char *)c->data + c->used;
	c->used += n;
	return p;
}

char *
arena_strndup(struct arena *a, const char *s, size_t n)
{
	char	*p;

	p = arena_alloc(a, n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}
