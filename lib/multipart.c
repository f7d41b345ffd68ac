#include <string.h>
#include <strings.h>

#include "multipart.h"

static const char *const multipart_errs[MULTIPART__MAX] = {
	[MULTIPART_OK] = "ok",
	[MULTIPART_NO_BOUNDARY] = "no valid boundary in Content-Type",
	[MULTIPART_MALFORMED] = "malformed multipart body",
	[MULTIPART_NO_NAME] = "a part without a form-data name",
	[MULTIPART_TOO_MANY_PARTS] = "too many parts",
	[MULTIPART_TOO_LARGE] = "a part is too large",
};

static int	mp_bchar(char);
static const char *mp_param(struct arena *, const char *, size_t,
		    const char *, int *);
static enum multipart_err mp_headers(struct arena *, const char *, size_t,
		    struct multipart_part *);

const char *
multipart_strerror(enum multipart_err e)
{
	return e < MULTIPART__MAX ? multipart_errs[e] : "unknown";
}

/* RFC 2046 bchars: DIGIT / ALPHA / "'()+_,-./:=?" and space (not last). */
static int
mp_bchar(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z') || (c != '\0' && strchr("'()+_,-./:=? ",
	    c) != NULL);
}

int
multipart_boundary(const char *ct, char *out, size_t len)
{
	const char	*p;
	size_t		 n = 0;

	if (ct == NULL || strncasecmp(ct, "multipart/form-data", 19) != 0)
		return -1;
	p = ct + 19;
	for (;;) {
		p += strspn(p, " \t");
		if (*p != ';')
			return -1;
		p++;
		p += strspn(p, " \t");
		if (strncasecmp(p, "boundary=", 9) == 0)
			break;
		/* Another parameter: skip it, quoted or not. */
		p += strcspn(p, "=;\"");
		if (*p == '=')
			p++;
		if (*p == '"') {
			for (p++; *p != '\0' && *p != '"'; p++)
				if (*p == '\\' && p[1] != '\0')
					p++;
			if (*p != '"')
				return -1;
			p++;
		} else
			p += strcspn(p, ";");
	}
	p += 9;
	if (*p == '"') {
		for (p++; *p != '"'; p++) {
			/* No escapes: no boundary needs one. */
			if (*p == '\0' || *p == '\\' || !mp_bchar(*p) ||
			    n + 1 >= len || n == MULTIPART_BOUNDARY_MAX)
				return -1;
			out[n++] = *p;
		}
		p++;
	} else {
		for (; *p != '\0' && *p != ';' && *p != ' ' && *p != '\t';
		    p++) {
			if (!mp_bchar(*p) || n + 1 >= len ||
			    n == MULTIPART_BOUNDARY_MAX)
				return -1;
			out[n++] = *p;
		}
	}
	if (n == 0 || out[n - 1] == ' ')
		return -1;
	out[n] = '\0';
	/* Only parameters may follow. */
	p += strspn(p, " \t");
	return *p == '\0' || *p == ';' ? 0 : -1;
}

/*
 * The value of parameter key in a header value (h, n bytes), quoted or
 * not, as an arena copy; NULL when absent.  *bad is set for a quoted
 * string that does not end or a value with a control character.
 */
static const char *
mp_param(struct arena *arena, const char *h, size_t n, const char *key,
    int *bad)
{
	const char	*p = h, *end = h + n, *v;
	char		*out;
	size_t		 klen = strlen(key), k;
	int		 quoted;

	while (p < end) {
		/* The next ';' outside quotes. */
		quoted = 0;
		for (; p < end && (quoted || *p != ';'); p++) {
			if (*p == '"')
				quoted = !quoted;
			else if (quoted && *p == '\\' && p + 1 < end)
				p++;
		}
		if (p >= end)
			return NULL;
		p++;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if ((size_t)(end - p) <= klen || strncasecmp(p, key, klen) != 0
		    || p[klen] != '=')
			continue;
		p += klen + 1;
		out = arena_alloc(arena, (size_t)(end - p) + 1);
		k = 0;
		if (p < end && *p == '"') {
			for (p++; p < end && *p != '"'; p++) {
				if (*p == '\\' && p + 1 < end)
					p++;
				if ((unsigned char)*p < 0x20 && *p != '\t') {
					*bad = 1;
					return NULL;
				}
				out[k++] = *p;
			}
			if (p >= end) {
				*bad = 1;
				return NULL;
			}
		} else {
			for (v = p; v < end && *v != ';' && *v != ' ' &&
			    *v != '\t'; v++) {
				if ((unsigned char)*v < 0x20) {
					*bad = 1;
					return NULL;
				}
				out[k++] = *v;
			}
		}
		out[k] = '\0';
		return out;
	}
	return NULL;
}

/* A part's header block (h, n bytes, CRLF-separated lines) into part. */
static enum multipart_err
mp_headers(struct arena *arena, const char *h, size_t n,
    struct multipart_part *part)
{
	const char	*line = h, *end = h + n, *eol, *v;
	char		*t;
	size_t		 len, vlen;
	int		 bad = 0, disposition = 0;

	while (line < end) {
		eol = line;
		while (eol + 1 < end && !(eol[0] == '\r' && eol[1] == '\n'))
			eol++;
		if (eol + 1 >= end)
			eol = end;
		len = (size_t)(eol - line);
		if (len >= 20 && strncasecmp(line, "Content-Disposition:",
		    20) == 0) {
			v = line + 20;
			vlen = len - 20;
			while (vlen > 0 && (*v == ' ' || *v == '\t')) {
				v++;
				vlen--;
			}
			if (vlen < 9 || strncasecmp(v, "form-data", 9) != 0 ||
			    (vlen > 9 && v[9] != ';' && v[9] != ' '))
				return MULTIPART_NO_NAME;
			disposition = 1;
			part->name = mp_param(arena, v, vlen, "name", &bad);
			if (!bad)
				part->filename = mp_param(arena, v, vlen,
				    "filename", &bad);
			if (bad)
				return MULTIPART_MALFORMED;
		} else if (len >= 13 && strncasecmp(line, "Content-Type:",
		    13) == 0) {
			v = line + 13;
			vlen = len - 13;
			while (vlen > 0 && (*v == ' ' || *v == '\t')) {
				v++;
				vlen--;
			}
			t = arena_strndup(arena, v, vlen);
			if (strlen(t) != vlen)
				return MULTIPART_MALFORMED;
			part->type = t;
		} else if (len > 0 && memchr(line, ':', len) == NULL)
			return MULTIPART_MALFORMED;
		line = eol + 2;
	}
	if (!disposition || part->name == NULL || part->name[0] == '\0')
		return MULTIPART_NO_NAME;
	return MULTIPART_OK;
}

enum multipart_err
multipart_parse(struct arena *arena, const char *ct, const char *body,
    size_t len, size_t max_text, size_t max_file, struct multipart *mp)
{
	char			 b[MULTIPART_BOUNDARY_MAX + 1];
	char			 delim[MULTIPART_BOUNDARY_MAX + 5];
	struct multipart_part	*part;
	const char		*p, *end = body + len, *hend, *next;
	size_t			 dlen;
	enum multipart_err	 e;

	memset(mp, 0, sizeof(*mp));
	if (multipart_boundary(ct, b, sizeof(b)) == -1)
		return MULTIPART_NO_BOUNDARY;
	/* "\r\n--boundary": the delimiter; the first may lack the CRLF. */
	delim[0] = '\r';
	delim[1] = '\n';
	delim[2] = '-';
	delim[3] = '-';
	dlen = strlen(b);
	memcpy(delim + 4, b, dlen);
	dlen += 4;
	if (len >= dlen - 2 && memcmp(body, delim + 2, dlen - 2) == 0)
		p = body + dlen - 2;
	else if ((p = memmem(body, len, delim, dlen)) != NULL)
		p += dlen;
	else
		return MULTIPART_MALFORMED;
	for (;;) {
		/* After a delimiter: "--" (the end) or padding and CRLF. */
		if (end - p >= 2 && p[0] == '-' && p[1] == '-')
			return mp->nparts > 0 ? MULTIPART_OK :
			    MULTIPART_MALFORMED;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (end - p < 2 || p[0] != '\r' || p[1] != '\n')
			return MULTIPART_MALFORMED;
		p += 2;
		if (mp->nparts == MULTIPART_MAX_PARTS)
			return MULTIPART_TOO_MANY_PARTS;
		part = &mp->parts[mp->nparts];
		/* The headers end at an empty line (or at once). */
		if (end - p >= 2 && p[0] == '\r' && p[1] == '\n')
			hend = p;
		else if ((hend = memmem(p, (size_t)(end - p), "\r\n\r\n",
		    4)) == NULL)
			return MULTIPART_MALFORMED;
		if ((size_t)(hend - p) > MULTIPART_HEADER_MAX)
			return MULTIPART_TOO_LARGE;
		if ((e = mp_headers(arena, p, (size_t)(hend - p), part)) !=
		    MULTIPART_OK)
			return e;
		p = hend + (hend == p ? 2 : 4);
		if ((next = memmem(p, (size_t)(end - p), delim, dlen)) ==
		    NULL)
			return MULTIPART_MALFORMED;
		part->data = p;
		part->len = (size_t)(next - p);
		if (part->len > (part->filename != NULL ? max_file : max_text))
			return MULTIPART_TOO_LARGE;
		mp->nparts++;
		p = next + dlen;
	}
}

const struct multipart_part *
multipart_get(const struct multipart *mp, const char *name)
{
	size_t	i;

	for (i = 0; i < mp->nparts; i++)
		if (strcmp(mp->parts[i].name, name) == 0)
			return &mp->parts[i];
	return NULL;
}
