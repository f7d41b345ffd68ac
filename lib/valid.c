#include <limits.h>
#include <string.h>

#include "valid.h"

int
valid_utf8(const char *s, size_t len, size_t *chars)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, n = 0, need, k;
	unsigned long		 cp, min;

	while (i < len) {
		if (p[i] == 0)
			return -1;
		if (p[i] < 0x80) {
			i++;
			n++;
			continue;
		}
		if ((p[i] & 0xe0) == 0xc0) {
			need = 1;
			cp = p[i] & 0x1f;
			min = 0x80;
		} else if ((p[i] & 0xf0) == 0xe0) {
			need = 2;
			cp = p[i] & 0x0f;
			min = 0x800;
		} else if ((p[i] & 0xf8) == 0xf0) {
			need = 3;
			cp = p[i] & 0x07;
			min = 0x10000;
		} else
			return -1;
		if (len - i <= need)
			return -1;
		for (k = 1; k <= need; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return -1;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return -1;
		i += need + 1;
		n++;
	}
	if (chars != NULL)
		*chars = n;
	return 0;
}

int
valid_phone(const char *s, size_t len, char out[VALID_PHONE_MAX])
{
	size_t	i, digits;

	if (len > 0 && s[0] == '+') {
		s++;
		len--;
	}
	digits = len;
	if (digits < 7 || digits > 15 || s[0] == '0')
		return -1;
	for (i = 0; i < digits; i++)
		if (s[i] < '0' || s[i] > '9')
			return -1;
	out[0] = '+';
	memcpy(out + 1, s, digits);
	out[digits + 1] = '\0';
	return 0;
}

int
valid_bsuid(const char *s, size_t len)
{
	size_t	i, body;

	if (len < 4 || s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z' ||
	    s[2] != '.')
		return -1;
	i = 3;
	if (len > 7 && memcmp(s + 3, "ENT.", 4) == 0)
		i = 7;
	body = len - i;
	if (body < 1 || body > 128)
		return -1;
	for (; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z')))
			return -1;
	return 0;
}

int
valid_customer(const char *s, size_t len, char out[VALID_CUSTOMER_MAX],
    int *phone)
{
	if (valid_phone(s, len, out) == 0) {
		*phone = 1;
		return 0;
	}
	if (valid_bsuid(s, len) == 0) {
		memcpy(out, s, len);
		out[len] = '\0';
		*phone = 0;
		return 0;
	}
	return -1;
}

int
valid_idem_key(const char *s)
{
	size_t	i;

	if (s == NULL)
		return -1;
	for (i = 0; s[i] != '\0'; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return -1;
	return (i >= 1 && i <= 255) ? 0 : -1;
}

int
valid_uint(const char *s, long long min, long long max, long long *out)
{
	long long	v = 0;
	size_t		i;

	if (s == NULL || s[0] == '\0')
		return -1;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (v > (LLONG_MAX - (s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}
