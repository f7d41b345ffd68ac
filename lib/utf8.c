#include <string.h>

#include "utf8.h"

static size_t	utf8_seq(const unsigned char *, size_t);

/* The length of the well-formed sequence at s (1-4), or 0 when none. */
static size_t
utf8_seq(const unsigned char *s, size_t len)
{
	unsigned long	cp, min;
	size_t		need, k;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		need = 1;
		cp = s[0] & 0x1f;
		min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		need = 2;
		cp = s[0] & 0x0f;
		min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		need = 3;
		cp = s[0] & 0x07;
		min = 0x10000;
	} else
		return 0;
	if (len <= need)
		return 0;
	for (k = 1; k <= need; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[k] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return need + 1;
}

size_t
utf8_truncate(const char *s, size_t len, size_t max)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, n;

	while (i < len) {
		if ((n = utf8_seq(p + i, len - i)) == 0)
			n = 1;
		if (n > max - i)
			break;
		i += n;
	}
	return i;
}

size_t
utf8_clean(char *dst, size_t dstsz, const char *src, size_t len)
{
	const unsigned char	*p = (const unsigned char *)src;
	const char		*from;
	size_t			 i = 0, o = 0, n, w;

	if (dstsz == 0)
		return 0;
	while (i < len) {
		if (p[i] == '\0') {
			i++;
			continue;
		}
		if ((n = utf8_seq(p + i, len - i)) == 0) {
			from = UTF8_REPLACEMENT;
			w = sizeof(UTF8_REPLACEMENT) - 1;
			n = 1;
		} else {
			from = src + i;
			w = n;
		}
		if (w > dstsz - 1 - o)
			break;
		memcpy(dst + o, from, w);
		o += w;
		i += n;
	}
	dst[o] = '\0';
	return o;
}
