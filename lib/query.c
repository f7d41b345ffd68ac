#include <string.h>

#include "query.h"

static int	query_hex(char);

static int
query_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
query_decode(const char *s, size_t len, char *out, size_t *outlen)
{
	size_t	i, o = 0;
	int	hi, lo;

	for (i = 0; i < len; i++) {
		if (s[i] == '+')
			out[o++] = ' ';
		else if (s[i] == '%') {
			if (i + 2 >= len)
				return -1;
			hi = query_hex(s[i + 1]);
			lo = query_hex(s[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return -1;
			out[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else
			out[o++] = s[i];
	}
	out[o] = '\0';
	*outlen = o;
	return 0;
}

void
query_parse(struct arena *a, const char *qs, struct query *q)
{
	const char	*p, *amp, *eq;
	size_t		 klen, vlen, n;
	char		*k, *v;

	memset(q, 0, sizeof(*q));
	if (qs == NULL)
		return;
	for (p = qs; *p != '\0'; p = *amp ? amp + 1 : amp) {
		amp = strchr(p, '&');
		if (amp == NULL)
			amp = p + strlen(p);
		if (amp == p)
			continue;
		eq = memchr(p, '=', (size_t)(amp - p));
		klen = (size_t)((eq ? eq : amp) - p);
		vlen = eq ? (size_t)(amp - eq - 1) : 0;
		if (q->npairs == QUERY_MAX_PAIRS) {
			q->truncated = 1;
			break;
		}
		k = arena_alloc(a, klen + 1);
		v = arena_alloc(a, vlen + 1);
		if (query_decode(p, klen, k, &n) == -1) {
			q->invalid = 1;
			continue;
		}
		if (query_decode(eq ? eq + 1 : amp, vlen, v, &n) == -1) {
			q->invalid = 1;
			v[0] = '\0';
			n = 0;
		}
		q->pairs[q->npairs].key = k;
		q->pairs[q->npairs].val = v;
		q->pairs[q->npairs].val_len = n;
		q->npairs++;
	}
}

const char *
query_get(const struct query *q, const char *key)
{
	size_t	i;

	for (i = 0; i < q->npairs; i++)
		if (strcmp(q->pairs[i].key, key) == 0)
			return q->pairs[i].val;
	return NULL;
}

void
query_encode(struct buf *b, const char *s)
{
	static const char	 hex[] = "0123456789ABCDEF";
	unsigned char		 c;

	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    c == '.' || c == '~')
			buf_putc(b, (char)c);
		else {
			buf_putc(b, '%');
			buf_putc(b, hex[c >> 4]);
			buf_putc(b, hex[c & 0xf]);
		}
	}
}
