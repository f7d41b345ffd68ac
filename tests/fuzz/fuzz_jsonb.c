/*
 * fuzz_jsonb — request bodies: bytes -> jsonb_parse() -> the typed getters
 * -> model_message_check(), plus a walk over the WhatsApp webhook shape the
 * way app/webhook.c reads it (its parsing is static; this calls the same
 * jsonb getters and validators on the same paths).
 *
 * Invariants (abort() on a break, so libFuzzer records the input):
 * - JSONB_OK exactly when *root is a JSON object; *root is NULL otherwise;
 *   an accepted body is valid UTF-8 without NUL;
 * - a getter's string length is strlen() unless a NUL is inside, the byte
 *   after the string is NUL, and the pieces between NULs are valid UTF-8;
 *   an integer read by jsonb_get_strnum() is decimal digits;
 * - the three getters agree on "absent" and on the member's type;
 * - model_message_check() accepts only E.164 numbers and 1-4096 code
 *   points of NUL-free UTF-8, and always names a field when it refuses;
 * - webhook items: an accepted BSUID (from_user_id, contacts[].user_id and
 *   parent_user_id, system.user_id and previous_user_id) has WhatsApp's
 *   shape; names, usernames, emoji, system bodies and error texts cleaned
 *   with utf8_clean() are NUL-free UTF-8 that fits; a message item after
 *   jsonb_scrub() holds only NUL-free UTF-8 strings and serializes to
 *   UTF-8 (what PostgreSQL's jsonb takes), and content cut the way
 *   webhook.c cuts it (utf8_truncate()) ends at most 4096 code points long
 *   without losing a character it had room for;
 * - no leaks (LeakSanitizer).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "jsonb.h"
#include "model_message.h"
#include "utf8.h"
#include "valid.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	fz_fail(const char *) __attribute__((noreturn));
static void	fz_str(const char *, size_t);
static void	fz_phone(const char *);
static void	fz_keys(struct json_object *);
static void	fz_message(struct json_object *, const char *);
static void	fz_cloud(struct json_object *);
static void	fz_cloud_value(struct json_object *);
static void	fz_bsuid(struct json_object *, const char *);
static void	fz_clean(struct json_object *, const char *);
static void	fz_errors(struct json_object *);
static void	fz_scrubbed(struct json_object *);
static void	fz_fit(const char *, size_t);
static void	fz_item(struct json_object *);

static const char *const fz_keynames[] = {
	"sender", "receiver", "content", "id", "object", "entry", NULL
};

static void
fz_fail(const char *what)
{
	fprintf(stderr, "fuzz_jsonb: invariant broken: %s\n", what);
	abort();
}

/* A borrowed json-c string: NUL right after it, strlen() unless NUL inside. */
static void
fz_str(const char *s, size_t len)
{
	const char	*p, *nul;

	if (s == NULL)
		fz_fail("getter returned OK with a NULL string");
	if (s[len] != '\0')
		fz_fail("string not NUL-terminated at its length");
	if (strlen(s) != len && memchr(s, '\0', len) == NULL)
		fz_fail("string length differs from strlen without a NUL");
	/*
	 * The body was valid UTF-8 and lone surrogate escapes are refused, so
	 * every NUL-separated piece (NUL only comes from \u0000) is UTF-8.
	 */
	for (p = s; p < s + len; p = nul + 1) {
		if ((nul = memchr(p, '\0', (size_t)(s + len - p))) == NULL)
			nul = s + len;
		if (valid_utf8(p, (size_t)(nul - p), NULL) == -1)
			fz_fail("a parsed string is not valid UTF-8");
	}
}

/* What valid_phone() writes: '+', 7-15 digits, the first not 0. */
static void
fz_phone(const char *p)
{
	size_t	i, n;

	n = strnlen(p, VALID_PHONE_MAX);
	if (n == VALID_PHONE_MAX || p[0] != '+' || n < 8 || n > 16 ||
	    p[1] == '0')
		fz_fail("accepted phone number is not E.164");
	for (i = 1; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			fz_fail("accepted phone number has a non-digit");
}

static void
fz_keys(struct json_object *o)
{
	struct json_object	*arr, *obj, *v;
	enum jsonb_get		 gs, gn, ga, go;
	const char		*s, *n;
	size_t			 i, slen, nlen;
	int			 present;

	for (i = 0; fz_keynames[i] != NULL; i++) {
		s = n = NULL;
		arr = obj = NULL;
		gs = jsonb_get_str(o, fz_keynames[i], &s, &slen);
		gn = jsonb_get_strnum(o, fz_keynames[i], &n, &nlen);
		ga = jsonb_get_type(o, fz_keynames[i], json_type_array, &arr);
		go = jsonb_get_type(o, fz_keynames[i], json_type_object, &obj);
		if (gs >= JSONB_GET__MAX || gn >= JSONB_GET__MAX ||
		    ga >= JSONB_GET__MAX || go >= JSONB_GET__MAX)
			fz_fail("getter result out of range");
		present = json_object_object_get_ex(o, fz_keynames[i], &v) &&
		    v != NULL;
		if ((gs == JSONB_GET_ABSENT) != !present ||
		    (gn == JSONB_GET_ABSENT) != !present ||
		    (ga == JSONB_GET_ABSENT) != !present ||
		    (go == JSONB_GET_ABSENT) != !present)
			fz_fail("getters disagree on absent");
		if (!present)
			continue;
		if ((gs == JSONB_GET_OK) != json_object_is_type(v,
		    json_type_string))
			fz_fail("jsonb_get_str OK differs from string type");
		/* json-c clamps integers beyond 64 bits: those are TYPE. */
		if ((gn == JSONB_GET_OK) != (json_object_is_type(v,
		    json_type_string) || (json_object_is_type(v,
		    json_type_int) && json_object_get_int64(v) != INT64_MAX &&
		    json_object_get_int64(v) != INT64_MIN)))
			fz_fail("jsonb_get_strnum OK differs from string|int");
		if ((ga == JSONB_GET_OK) != json_object_is_type(v,
		    json_type_array) || (ga == JSONB_GET_OK && arr != v))
			fz_fail("jsonb_get_type(array) wrong");
		if ((go == JSONB_GET_OK) != json_object_is_type(v,
		    json_type_object) || (go == JSONB_GET_OK && obj != v))
			fz_fail("jsonb_get_type(object) wrong");
		if (gs == JSONB_GET_OK)
			fz_str(s, slen);
		if (gn == JSONB_GET_OK)
			fz_str(n, nlen);
		if (gn == JSONB_GET_OK && json_object_is_type(v,
		    json_type_int)) {
			/* A decimal integer, as WhatsApp's ids and stamps. */
			if (nlen == 0 || strspn(n + (n[0] == '-'),
			    "0123456789") != nlen - (n[0] == '-'))
				fz_fail("jsonb_get_strnum of an int is not "
				    "decimal digits");
		}
		if (gs == JSONB_GET_OK && gn == JSONB_GET_OK &&
		    (n != s || nlen != slen))
			fz_fail("jsonb_get_strnum and jsonb_get_str differ");
	}
}

/*
 * model_message_check() as api_send_message() calls it: a member of another
 * type is refused before the check (api_field), absent ones are NULL.
 */
static void
fz_message(struct json_object *o, const char *def)
{
	struct message_input	 in;
	struct message_err	 err;
	struct message_raw	 raw;
	const char		*sender = NULL, *receiver = NULL;
	const char		*content = NULL;
	size_t			 slen = 0, rlen = 0, clen = 0, chars;
	char			 defbuf[VALID_PHONE_MAX];

	if (jsonb_get_str(o, "sender", &sender, &slen) == JSONB_GET_TYPE ||
	    jsonb_get_str(o, "receiver", &receiver, &rlen) == JSONB_GET_TYPE ||
	    jsonb_get_str(o, "content", &content, &clen) == JSONB_GET_TYPE)
		return;
	raw.v[MSG_F_SENDER] = sender;
	raw.len[MSG_F_SENDER] = slen;
	raw.v[MSG_F_RECEIVER] = receiver;
	raw.len[MSG_F_RECEIVER] = rlen;
	raw.v[MSG_F_CONTENT] = content;
	raw.len[MSG_F_CONTENT] = clen;
	/* The business number lives in a char[VALID_PHONE_MAX]. */
	memset(defbuf, 0, sizeof(defbuf));
	memcpy(defbuf, def, strlen(def));
	memset(&in, 0xa5, sizeof(in));
	err.field = err.message = NULL;
	if (model_message_check(&raw, defbuf, &in, &err) == -1) {
		if (err.field == NULL || err.message == NULL)
			fz_fail("refused message without a field or message");
		return;
	}
	fz_phone(in.sender);
	fz_phone(in.receiver);
	if (sender == NULL && strcmp(in.sender, defbuf) != 0)
		fz_fail("default sender not used");
	if (in.content != content || content == NULL)
		fz_fail("accepted content is not the caller's");
	if (clen == 0 || memchr(content, '\0', clen) != NULL ||
	    valid_utf8(content, clen, &chars) == -1 || chars == 0 ||
	    chars > MESSAGE_MAX_CHARS)
		fz_fail("accepted content is empty, has NUL, bad UTF-8 or "
		    "is too long");
}

/* o.key as webhook.c's wh_bsuid() takes it: WhatsApp's BSUID shape. */
static void
fz_bsuid(struct json_object *o, const char *key)
{
	const char	*s;
	size_t		 len, i;

	if (jsonb_get_str(o, key, &s, &len) != JSONB_GET_OK)
		return;
	fz_str(s, len);
	if (strlen(s) != len || valid_bsuid(s, len) == -1)
		return;
	if (len < 4 || len >= VALID_BSUID_MAX || s[0] < 'A' || s[0] > 'Z' ||
	    s[1] < 'A' || s[1] > 'Z' || s[2] != '.')
		fz_fail("accepted BSUID does not start CC.");
	for (i = 3; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] == '.' && i == 6 && strncmp(s + 3, "ENT", 3) == 0)))
			fz_fail("accepted BSUID has a character WhatsApp's "
			    "have not");
}

/* o.key cleaned as webhook.c's wh_text() cleans names and usernames. */
static void
fz_clean(struct json_object *o, const char *key)
{
	const char	*s;
	char		 out[257];
	size_t		 len, n;

	if (jsonb_get_str(o, key, &s, &len) != JSONB_GET_OK)
		return;
	fz_str(s, len);
	memset(out, 'Z', sizeof(out));
	n = utf8_clean(out, sizeof(out), s, len);
	if (n >= sizeof(out) || out[n] != '\0' || strlen(out) != n ||
	    valid_utf8(out, n, NULL) == -1)
		fz_fail("utf8_clean left NUL, bad UTF-8 or no terminator");
}

/* errors[] as webhook.c reads it on a value, an item or a status. */
static void
fz_errors(struct json_object *o)
{
	struct json_object	*arr, *e, *v;
	const char		*cs;
	char			 code[32];
	size_t			 i, n;

	if (jsonb_get_type(o, "errors", json_type_array, &arr) !=
	    JSONB_GET_OK)
		return;
	for (i = 0; i < json_object_array_length(arr); i++) {
		e = json_object_array_get_idx(arr, i);
		if (json_object_is_type(e, json_type_object) &&
		    json_object_object_get_ex(e, "code", &v) && v != NULL &&
		    (cs = json_object_get_string(v)) != NULL) {
			n = utf8_clean(code, sizeof(code), cs, strlen(cs));
			if (n >= sizeof(code) || valid_utf8(code, n, NULL) ==
			    -1)
				fz_fail("an error code cleaned badly");
		}
		fz_clean(e, "title");
		fz_clean(e, "message");
		if (jsonb_get_type(e, "error_data", json_type_object, &v) ==
		    JSONB_GET_OK)
			fz_clean(v, "details");
	}
}

/* After jsonb_scrub(): every string NUL-free UTF-8, keys too. */
static void
fz_scrubbed(struct json_object *o)
{
	struct json_object_iterator	 it, end;
	const char			*k;
	size_t				 i;

	switch (json_object_get_type(o)) {
	case json_type_string:
		if (valid_utf8(json_object_get_string(o),
		    (size_t)json_object_get_string_len(o), NULL) == -1)
			fz_fail("jsonb_scrub left a NUL or bad UTF-8");
		break;
	case json_type_array:
		for (i = 0; i < json_object_array_length(o); i++)
			fz_scrubbed(json_object_array_get_idx(o, i));
		break;
	case json_type_object:
		it = json_object_iter_begin(o);
		end = json_object_iter_end(o);
		while (!json_object_iter_equal(&it, &end)) {
			k = json_object_iter_peek_name(&it);
			if (valid_utf8(k, strlen(k), NULL) == -1)
				fz_fail("a key is not UTF-8");
			fz_scrubbed(json_object_iter_peek_value(&it));
			json_object_iter_next(&it);
		}
		break;
	default:
		break;
	}
}

/* Content cut as webhook.c's wh_content_fit() cuts it. */
static void
fz_fit(const char *s, size_t len)
{
	size_t	chars, cut, before;

	if (valid_utf8(s, len, &chars) == -1)
		return;
	cut = len;
	before = chars;
	while (cut > 0 && chars > MESSAGE_MAX_CHARS) {
		cut = utf8_truncate(s, cut, cut - (chars - MESSAGE_MAX_CHARS));
		if (valid_utf8(s, cut, &chars) == -1)
			fz_fail("utf8_truncate cut a character");
	}
	if (chars > MESSAGE_MAX_CHARS)
		fz_fail("content longer than 4096 characters after the cut");
	if (before > MESSAGE_MAX_CHARS && chars != MESSAGE_MAX_CHARS)
		fz_fail("the cut lost characters it had room for");
	if (before <= MESSAGE_MAX_CHARS && cut != len)
		fz_fail("content within the limit was cut");
}

/*
 * One messages[] item's 2026 fields, as webhook_cloud_message() reads
 * them; then the scrubbed copy it stores as raw.
 */
static void
fz_item(struct json_object *m)
{
	struct json_object	*raw = NULL, *v;
	const char		*s;
	size_t			 len;

	fz_bsuid(m, "from_user_id");
	fz_bsuid(m, "from");
	if (jsonb_get_type(m, "context", json_type_object, &v) ==
	    JSONB_GET_OK && jsonb_get_str(v, "id", &s, &len) == JSONB_GET_OK)
		fz_str(s, len);
	if (jsonb_get_type(m, "reaction", json_type_object, &v) ==
	    JSONB_GET_OK) {
		fz_clean(v, "emoji");
		if (jsonb_get_str(v, "message_id", &s, &len) == JSONB_GET_OK)
			fz_str(s, len);
	}
	if (jsonb_get_type(m, "system", json_type_object, &v) ==
	    JSONB_GET_OK) {
		fz_bsuid(v, "user_id");
		fz_bsuid(v, "previous_user_id");
		fz_clean(v, "body");
	}
	fz_errors(m);
	if (json_object_deep_copy(m, &raw, NULL) != 0)
		fz_fail("json_object_deep_copy failed");
	jsonb_scrub(raw);
	fz_scrubbed(raw);
	s = json_object_to_json_string_ext(raw, JSON_C_TO_STRING_PLAIN);
	if (s == NULL || valid_utf8(s, strlen(s), NULL) == -1)
		fz_fail("the raw item does not serialize to UTF-8");
	if (jsonb_get_type(raw, "text", json_type_object, &v) ==
	    JSONB_GET_OK && jsonb_get_str(v, "body", &s, &len) ==
	    JSONB_GET_OK)
		fz_fit(s, len);
	json_object_put(raw);
}

/* One changes[].value, read as webhook_cloud_value() reads it. */
static void
fz_cloud_value(struct json_object *value)
{
	struct json_object	*arr, *m, *v;
	struct message_err	 err;
	const char		*s;
	char			 phone[VALID_PHONE_MAX];
	size_t			 i, len;
	long long		 ts;

	if (jsonb_get_type(value, "metadata", json_type_object, &v) ==
	    JSONB_GET_OK && jsonb_get_str(v, "display_phone_number", &s,
	    &len) == JSONB_GET_OK) {
		fz_str(s, len);
		if (valid_phone(s, strlen(s), phone) == 0)
			fz_phone(phone);
	}
	fz_errors(value);
	if (jsonb_get_type(value, "contacts", json_type_array, &arr) ==
	    JSONB_GET_OK) {
		for (i = 0; i < json_object_array_length(arr); i++) {
			m = json_object_array_get_idx(arr, i);
			fz_bsuid(m, "user_id");
			fz_bsuid(m, "parent_user_id");
			if (jsonb_get_type(m, "profile", json_type_object,
			    &v) == JSONB_GET_OK) {
				fz_clean(v, "name");
				fz_clean(v, "username");
			}
		}
	}
	if (jsonb_get_type(value, "messages", json_type_array, &arr) ==
	    JSONB_GET_OK) {
		for (i = 0; i < json_object_array_length(arr); i++) {
			m = json_object_array_get_idx(arr, i);
			if (!json_object_is_type(m, json_type_object))
				continue;
			if (jsonb_get_str(m, "from", &s, &len) ==
			    JSONB_GET_OK) {
				fz_str(s, len);
				if (valid_phone(s, strlen(s), phone) == 0)
					fz_phone(phone);
			}
			if (jsonb_get_str(m, "id", &s, &len) == JSONB_GET_OK)
				fz_str(s, len);
			if (jsonb_get_strnum(m, "timestamp", &s, &len) ==
			    JSONB_GET_OK && valid_uint(s, 0, 99999999999LL,
			    &ts) == 0 && (ts < 0 || ts > 99999999999LL))
				fz_fail("valid_uint out of its range");
			if (jsonb_get_type(m, "text", json_type_object, &v) ==
			    JSONB_GET_OK && jsonb_get_str(v, "body", &s,
			    &len) == JSONB_GET_OK) {
				fz_str(s, len);
				(void)model_message_check_content(s, len, &err);
			}
			fz_item(m);
		}
	}
	if (jsonb_get_type(value, "statuses", json_type_array, &arr) ==
	    JSONB_GET_OK) {
		for (i = 0; i < json_object_array_length(arr); i++) {
			m = json_object_array_get_idx(arr, i);
			if (!json_object_is_type(m, json_type_object))
				continue;
			if (jsonb_get_str(m, "id", &s, &len) == JSONB_GET_OK)
				fz_str(s, len);
			if (jsonb_get_str(m, "status", &s, &len) ==
			    JSONB_GET_OK)
				fz_str(s, len);
			fz_bsuid(m, "recipient_user_id");
			fz_errors(m);
		}
	}
}

/* entry[].changes[].value, as webhook_cloud_tx() walks it. */
static void
fz_cloud(struct json_object *root)
{
	struct json_object	*entries, *changes, *ch, *value;
	const char		*field;
	size_t			 i, k, len;

	if (jsonb_get_type(root, "entry", json_type_array, &entries) !=
	    JSONB_GET_OK)
		return;
	for (i = 0; i < json_object_array_length(entries); i++) {
		if (jsonb_get_type(json_object_array_get_idx(entries, i),
		    "changes", json_type_array, &changes) != JSONB_GET_OK)
			continue;
		for (k = 0; k < json_object_array_length(changes); k++) {
			ch = json_object_array_get_idx(changes, k);
			if (jsonb_get_str(ch, "field", &field, &len) !=
			    JSONB_GET_OK || strcmp(field, "messages") != 0 ||
			    jsonb_get_type(ch, "value", json_type_object,
			    &value) != JSONB_GET_OK)
				continue;
			fz_cloud_value(value);
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_object	*root = (struct json_object *)&root;
	enum jsonb_err		 e;

	e = jsonb_parse((const char *)data, size, &root);
	if (e >= JSONB__MAX)
		fz_fail("jsonb_parse result out of range");
	if (jsonb_strerror(e) == NULL)
		fz_fail("jsonb_strerror returned NULL");
	if (e != JSONB_OK) {
		if (root != NULL)
			fz_fail("failed parse left *root set");
		return 0;
	}
	if (valid_utf8((const char *)data, size, NULL) == -1)
		fz_fail("accepted a body that is not UTF-8 (or has NUL)");
	if (root == NULL || !json_object_is_type(root, json_type_object))
		fz_fail("successful parse is not an object");
	fz_keys(root);
	fz_message(root, "");
	fz_message(root, "+15550001111");
	fz_cloud(root);
	json_object_put(root);
	return 0;
}
