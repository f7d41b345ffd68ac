#include <stdlib.h>
#include <string.h>

#include "jsonb.h"
#include "mem.h"
#include "utf8.h"
#include "valid.h"

static const char *const jsonb_errs[JSONB__MAX] = {
	[JSONB_OK] = "ok",
	[JSONB_SYNTAX] = "the body is not valid JSON",
	[JSONB_NOT_OBJECT] = "the body must be a JSON object",
	[JSONB_SURROGATE] = ("the body contains an unpaired UTF-16 surrogate "
	    "escape, which is not a character"),
	[JSONB_ENCODING] = "the body is not valid UTF-8",
};

const char *
jsonb_strerror(enum jsonb_err e)
{
	return e < JSONB__MAX ? jsonb_errs[e] : "unknown";
}

/*
 * A strict RFC 8259 syntax check run before json-c builds the tree: json-c
 * (even in strict mode) accepts NaN, Infinity, "1.", single quotes and raw
 * control characters in strings, and turns a lone UTF-16 surrogate escape
 * into U+FFFD, so the text stored would differ from the text sent.
 */
struct jsonb_scan {
	const char	*s;
	size_t		 len;
	size_t		 i;
	int		 depth;
	int		 surrogate;	/* a lone surrogate escape was seen */
};

static int	jsonb_value(struct jsonb_scan *);
static int	jsonb_string(struct jsonb_scan *, int);
static int	jsonb_number(struct jsonb_scan *);
static int	jsonb_hex4(struct jsonb_scan *, unsigned *);
static void	jsonb_ws(struct jsonb_scan *);
static int	jsonb_lit(struct jsonb_scan *, const char *);

static void
jsonb_ws(struct jsonb_scan *sc)
{
	while (sc->i < sc->len && (sc->s[sc->i] == ' ' ||
	    sc->s[sc->i] == '\t' || sc->s[sc->i] == '\n' ||
	    sc->s[sc->i] == '\r'))
		sc->i++;
}

static int
jsonb_lit(struct jsonb_scan *sc, const char *lit)
{
	size_t	n = strlen(lit);

	if (sc->len - sc->i < n || memcmp(sc->s + sc->i, lit, n) != 0)
		return -1;
	sc->i += n;
	return 0;
}

static int
jsonb_hex4(struct jsonb_scan *sc, unsigned *out)
{
	unsigned	v = 0;
	size_t		k;
	char		c;

	if (sc->len - sc->i < 4)
		return -1;
	for (k = 0; k < 4; k++) {
		c = sc->s[sc->i + k];
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
	sc->i += 4;
	*out = v;
	return 0;
}

/* A string; in a key (is_key) "\u0000" is refused: json-c cuts keys there. */
static int
jsonb_string(struct jsonb_scan *sc, int is_key)
{
	unsigned	u, lo;
	unsigned char	c;

	sc->i++;	/* the opening quote */
	while (sc->i < sc->len) {
		c = (unsigned char)sc->s[sc->i++];
		if (c == '"')
			return 0;
		if (c < 0x20)
			return -1;
		if (c != '\\')
			continue;
		if (sc->i >= sc->len)
			return -1;
		c = (unsigned char)sc->s[sc->i++];
		if (strchr("\"\\/bfnrt", c) != NULL && c != '\0')
			continue;
		if (c != 'u' || jsonb_hex4(sc, &u) == -1 || (is_key && u == 0))
			return -1;
		if (u >= 0xdc00 && u <= 0xdfff)
			sc->surrogate = 1;
		else if (u >= 0xd800 && u <= 0xdbff) {
			if (sc->len - sc->i < 6 || sc->s[sc->i] != '\\' ||
			    sc->s[sc->i + 1] != 'u') {
				sc->surrogate = 1;
				continue;
			}
			sc->i += 2;
			if (jsonb_hex4(sc, &lo) == -1)
				return -1;
			if (lo < 0xdc00 || lo > 0xdfff)
				sc->surrogate = 1;
		}
	}
	return -1;
}

static int
jsonb_number(struct jsonb_scan *sc)
{
	const char	*s = sc->s;
	size_t		 start;

	if (sc->i < sc->len && s[sc->i] == '-')
		sc->i++;
	if (sc->i >= sc->len)
		return -1;
	if (s[sc->i] == '0')
		sc->i++;
	else if (s[sc->i] >= '1' && s[sc->i] <= '9')
		while (sc->i < sc->len && s[sc->i] >= '0' && s[sc->i] <= '9')
			sc->i++;
	else
		return -1;
	if (sc->i < sc->len && s[sc->i] == '.') {
		start = ++sc->i;
		while (sc->i < sc->len && s[sc->i] >= '0' && s[sc->i] <= '9')
			sc->i++;
		if (sc->i == start)
			return -1;
	}
	if (sc->i < sc->len && (s[sc->i] == 'e' || s[sc->i] == 'E')) {
		sc->i++;
		if (sc->i < sc->len && (s[sc->i] == '+' || s[sc->i] == '-'))
			sc->i++;
		start = sc->i;
		while (sc->i < sc->len && s[sc->i] >= '0' && s[sc->i] <= '9')
			sc->i++;
		if (sc->i == start)
			return -1;
	}
	return 0;
}

static int
jsonb_value(struct jsonb_scan *sc)
{
	char	open, close;
	int	first;

	jsonb_ws(sc);
	if (sc->i >= sc->len)
		return -1;
	switch (sc->s[sc->i]) {
	case '"':
		return jsonb_string(sc, 0);
	case 't':
		return jsonb_lit(sc, "true");
	case 'f':
		return jsonb_lit(sc, "false");
	case 'n':
		return jsonb_lit(sc, "null");
	case '{':
	case '[':
		break;
	default:
		return jsonb_number(sc);
	}
	open = sc->s[sc->i++];
	close = open == '{' ? '}' : ']';
	if (++sc->depth > JSONB_MAX_DEPTH)
		return -1;
	for (first = 1;; first = 0) {
		jsonb_ws(sc);
		if (sc->i < sc->len && sc->s[sc->i] == close && first) {
			sc->i++;
			break;
		}
		if (open == '{') {
			if (sc->i >= sc->len || sc->s[sc->i] != '"' ||
			    jsonb_string(sc, 1) == -1)
				return -1;
			jsonb_ws(sc);
			if (sc->i >= sc->len || sc->s[sc->i++] != ':')
				return -1;
		}
		if (jsonb_value(sc) == -1)
			return -1;
		jsonb_ws(sc);
		if (sc->i >= sc->len)
			return -1;
		if (sc->s[sc->i] == ',') {
			sc->i++;
			continue;
		}
		if (sc->s[sc->i++] != close)
			return -1;
		break;
	}
	sc->depth--;
	return 0;
}

enum jsonb_err
jsonb_parse(const char *s, size_t len, struct json_object **root)
{
	struct json_tokener	*tok;
	struct json_object	*o;
	struct jsonb_scan	 sc;
	size_t			 first;

	*root = NULL;
	if (len == 0 || len > (size_t)INT32_MAX)
		return JSONB_SYNTAX;
	memset(&sc, 0, sizeof(sc));
	sc.s = s;
	sc.len = len;
	jsonb_ws(&sc);
	first = sc.i;
	if (jsonb_value(&sc) == -1)
		return JSONB_SYNTAX;
	jsonb_ws(&sc);
	if (sc.i != len)
		return JSONB_SYNTAX;
	/* Syntax holds (so no NUL byte): now the encoding. */
	if (valid_utf8(s, len, NULL) == -1)
		return JSONB_ENCODING;
	if (sc.surrogate)
		return JSONB_SURROGATE;
	if (s[first] != '{')
		return JSONB_NOT_OBJECT;
	if ((tok = json_tokener_new_ex(JSONB_MAX_DEPTH + 1)) == NULL)
		return JSONB_SYNTAX;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, s, (int)len);
	if (o == NULL || json_tokener_get_error(tok) != json_tokener_success ||
	    !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		json_tokener_free(tok);
		return JSONB_SYNTAX;
	}
	json_tokener_free(tok);
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
	int64_t			 n;

	if (obj == NULL || !json_object_object_get_ex(obj, key, &v) ||
	    v == NULL)
		return JSONB_GET_ABSENT;
	if (json_object_is_type(v, json_type_string)) {
		*s = json_object_get_string(v);
		*len = (size_t)json_object_get_string_len(v);
		return JSONB_GET_OK;
	}
	if (!json_object_is_type(v, json_type_int))
		return JSONB_GET_TYPE;
	/* json-c clamps integers it cannot hold: refuse those. */
	n = json_object_get_int64(v);
	if (n == INT64_MAX || n == INT64_MIN)
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

void
jsonb_scrub(struct json_object *o)
{
	struct json_object_iterator	 it, end;
	const char			*s;
	char				*clean;
	size_t				 len, i, n;

	switch (json_object_get_type(o)) {
	case json_type_string:
		s = json_object_get_string(o);
		len = (size_t)json_object_get_string_len(o);
		/* valid_utf8 refuses NUL bytes too. */
		if (valid_utf8(s, len, NULL) == 0)
			break;
		clean = mem_alloc(len * 3 + 1);
		n = utf8_clean(clean, len * 3 + 1, s, len);
		if (json_object_set_string_len(o, clean, (int)n) == 0)
			abort();
		mem_free(clean);
		break;
	case json_type_array:
		for (i = 0; i < json_object_array_length(o); i++)
			jsonb_scrub(json_object_array_get_idx(o, i));
		break;
	case json_type_object:
		it = json_object_iter_begin(o);
		end = json_object_iter_end(o);
		while (!json_object_iter_equal(&it, &end)) {
			jsonb_scrub(json_object_iter_peek_value(&it));
			json_object_iter_next(&it);
		}
		break;
	default:
		break;
	}
}
