/*
 * jsonb — request bodies parsed with json-c, into typed values.
 *
 * jsonb_parse() accepts exactly one JSON object: strict RFC 8259 syntax
 * (checked here, before json-c builds the tree), valid UTF-8 without NUL,
 * no lone surrogate escapes, bounded depth, nothing but white space after.  The caller owns *root and
 * releases it with json_object_put(); pointers from the getters borrow from it.
 */
#ifndef WADESK_JSONB_H
#define WADESK_JSONB_H

#include <stddef.h>
#include <json-c/json.h>

#define JSONB_MAX_DEPTH	32

enum jsonb_err {
	JSONB_OK,
	JSONB_SYNTAX,		/* not JSON, or trailing bytes */
	JSONB_NOT_OBJECT,	/* JSON, but not an object */
	JSONB_SURROGATE,	/* a lone UTF-16 surrogate escape (not text) */
	JSONB_ENCODING,		/* not UTF-8 */
	JSONB__MAX
};

enum jsonb_get {
	JSONB_GET_OK,
	JSONB_GET_ABSENT,	/* key missing or null */
	JSONB_GET_TYPE,		/* present with another type */
	JSONB_GET__MAX
};

enum jsonb_err	jsonb_parse(const char *, size_t, struct json_object **)
		    __attribute__((warn_unused_result));
const char	*jsonb_strerror(enum jsonb_err);
/* A string member; *s and *len borrow from the object. */
enum jsonb_get	jsonb_get_str(struct json_object *, const char *,
		    const char **, size_t *);
/*
 * A string or integer member, as a string (WhatsApp sends both); integers
 * beyond 64 bits are JSONB_GET_TYPE.
 */
enum jsonb_get	jsonb_get_strnum(struct json_object *, const char *,
		    const char **, size_t *);
/* An array or object member of the given type. */
enum jsonb_get	jsonb_get_type(struct json_object *, const char *,
		    enum json_type, struct json_object **);
/*
 * Makes every string value in the tree storable as PostgreSQL jsonb, which
 * refuses \u0000 (SQLSTATE 22P05) and invalid UTF-8: NUL characters are
 * dropped and bytes that start no character become U+FFFD (utf8_clean).
 * Keys cannot hold either (jsonb_parse refuses "\u0000" in a key).
 */
void		jsonb_scrub(struct json_object *);

#endif
