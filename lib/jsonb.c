#include <string.h>

#include "jsonb.h"

static const char *const jsonb_errs[JSONB__MAX] = {
	[JSONB_OK] = "ok",
	[JSONB_SYNTAX] = "the body is not valid JSON",
	[JSONB_NOT_OBJECT] = "the body must be a JSON object",
	[JSONB_SURROGATE] = "the body contains an unpaired UTF-16 surrogate "
	    "escape, which is not a character",
};

const char *
jsonb_strerror(enum jsonb_err e)
{
	return e < JSONB__MAX ? jsonb_errs[e] : "unknown";
}

static int	jsonb_hex4(const char *, size_t, size_t, unsigned *);
static int	jsonb_surrogates_ok(const char *, size_t);

static int
jsonb_hex4(const char *s, size_t len, size_t i, unsigned *out)
{
	unsigned	v = 0;
	size_t		k;
	char		c;

	if (i + 4 > len)
		return -1;
	for (k = i; k < i + 4; k++) {
		c = s[k];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

/*
 * json-c turns a lone UTF-16 surrogate escape ("\ud800") into U+FFFD, so the
 * text stored would differ from the text sent.  Refuse those instead: a high
 * surrogate must be followed at once by a low one.  Backslashes occur only
 * inside strings in valid JSON, so no string tracking is needed.
 */
static int
jsonb_surrogates_ok(const char *s, size_t len)
{
	size_t		i;
	unsigned	u, lo;

	for (i = 0; i + 1 < len; i++) {
		if (s[i] != '\\')
			continue;
		if (s[i + 1] != 'u') {
			i++;
			continue;
		}
		if (jsonb_hex4(s, len, i + 2, &u) == -1)
			return 0;
		i += 5;
		if (u >= 0xdc00 && u <= 0xdfff)
			return 0;
		if (u < 0xd800 || u > 0xdbff)
			continue;
		if (i + 6 >= len || s[i + 1] != '\\' || s[i + 2] != 'u' ||
		    jsonb_hex4(s, len, i + 3, &lo) == -1 ||
		    lo < 0xdc00 || lo > 0xdfff)
			return 0;
		i += 6;
	}
	return 1;
}

enum jsonb_err
jsonb_parse(const char *s, size_t len, struct json_object **root)
{
	struct json_tokener	*tok;
	struct json_object	*o;
	size_t			 off;

	*root = NULL;
	if (len == 0 || len > (size_t)INT32_MAX)
		return JSONB_SYNTAX;
	if ((tok = json_tokener_new_ex(JSONB_MAX_DEPTH)) == NULL)
		return JSONB_SYNTAX;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, s, (int)len);
	if (o == NULL || json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(o);
		json_tokener_free(tok);
		return JSONB_SYNTAX;
	}
	off = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	for (; off < len; off++) {
		if (s[off] != ' ' && s[off] != '\t' && s[off] != '\n' &&
		    s[off] != '\r') {
			json_object_put(o);
			return JSONB_SYNTAX;
		}
	}
	if (!jsonb_surrogates_ok(s, len)) {
		json_object_put(o);
		return JSONB_SURROGATE;
	}
	if (!json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return JSONB_NOT_OBJECT;
	}
	*root = o;
	return JSONB_OK;
}

enum jsonb_get
jsonb_get_str(struct json_object *obj, const char *key, const char **s,
    size_t *len)
{
	struct json_object	*v;

	if (obj == NULL || !json_object_object_get_ex(obj, key, &v) ||
	    v == NULL)
		return JSONB_GET_ABSENT;
	if (!json_object_is_type(v, json_type_string))
		return JSONB_GET_TYPE;
	*s = json_object_get_string(v);
	*len = (size_t)json_object_get_string_len(v);
	return JSONB_GET_OK;
}

enum jsonb_get
jsonb_get_strnum(struct json_object *obj, const char *key, const char **s,
    size_t *len)
{
	struct json_object	*v;

	if (obj == NULL || !json_object_object_get_ex(obj, key, &v) ||
	    v == NULL)
		return JSONB_GET_ABSENT;
	if (!json_object_is_type(v, json_type_string) &&
	    !json_object_is_type(v, json_type_int))
		return JSONB_GET_TYPE;
	*s = json_object_get_string(v);
	*len = strlen(*s);
	return JSONB_GET_OK;
}

enum jsonb_get
jsonb_get_type(struct json_object *obj, const char *key, enum json_type type,
    struct json_object **out)
{
	struct json_object	*v;

	if (obj == NULL || !json_object_object_get_ex(obj, key, &v) ||
	    v == NULL)
		return JSONB_GET_ABSENT;
	if (!json_object_is_type(v, type))
		return JSONB_GET_TYPE;
	*out = v;
	return JSONB_GET_OK;
}
