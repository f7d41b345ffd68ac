#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonb.h"
#include "model_template.h"
#include "stmts.h"
#include "valid.h"

/*
 * The simulated provider's templates, in the shape WhatsApp lists them:
 * WhatsApp's own sample, the order update DESIGN.md names, one with a
 * header, one with named parameters, and two that cannot be sent.
 */
const char template_catalog[] =
    "{\"data\": ["
    "{\"id\": \"900000000000001\", \"name\": \"hello_world\","
    " \"language\": \"en_US\", \"status\": \"APPROVED\","
    " \"category\": \"UTILITY\", \"components\": ["
    "{\"type\": \"HEADER\", \"format\": \"TEXT\", \"text\": \"Hello World\"},"
    "{\"type\": \"BODY\", \"text\": \"Welcome and congratulations!! This "
    "message demonstrates your ability to send a WhatsApp message "
    "notification from the Cloud API, hosted by Meta. Thank you for taking "
    "the time to test with us.\"},"
    "{\"type\": \"FOOTER\", \"text\": \"WhatsApp Business Platform sample "
    "message\"}]},"
    "{\"id\": \"900000000000002\", \"name\": \"order_update\","
    " \"language\": \"en\", \"status\": \"APPROVED\","
    " \"category\": \"UTILITY\", \"parameter_format\": \"POSITIONAL\","
    " \"components\": [{\"type\": \"BODY\","
    " \"text\": \"Hi {{1}}, your order {{2}} is {{3}}.\"}]},"
    "{\"id\": \"900000000000003\", \"name\": \"appointment_reminder\","
    " \"language\": \"en\", \"status\": \"APPROVED\","
    " \"category\": \"UTILITY\", \"parameter_format\": \"POSITIONAL\","
    " \"components\": ["
    "{\"type\": \"HEADER\", \"format\": \"TEXT\","
    " \"text\": \"Your appointment\"},"
    "{\"type\": \"BODY\", \"text\": \"Hi {{1}}, this is a reminder of your "
    "appointment on {{2}}. Reply to this message to change it.\"}]},"
    "{\"id\": \"900000000000004\", \"name\": \"delivery_window\","
    " \"language\": \"en\", \"status\": \"APPROVED\","
    " \"category\": \"UTILITY\", \"parameter_format\": \"NAMED\","
    " \"components\": [{\"type\": \"BODY\", \"text\": \"Hello "
    "{{first_name}}, your parcel arrives between {{from}} and {{to}}.\"}]},"
    "{\"id\": \"900000000000005\", \"name\": \"order_update\","
    " \"language\": \"es\", \"status\": \"APPROVED\","
    " \"category\": \"UTILITY\", \"parameter_format\": \"POSITIONAL\","
    " \"components\": [{\"type\": \"BODY\","
    " \"text\": \"Hola {{1}}, tu pedido {{2}} está {{3}}.\"}]},"
    "{\"id\": \"900000000000006\", \"name\": \"spring_sale\","
    " \"language\": \"en\", \"status\": \"PAUSED\","
    " \"category\": \"MARKETING\", \"components\": [{\"type\": \"BODY\","
    " \"text\": \"Our spring sale starts today.\"}]},"
    "{\"id\": \"900000000000007\", \"name\": \"account_alert\","
    " \"language\": \"en\", \"status\": \"PENDING\","
    " \"category\": \"UTILITY\", \"components\": [{\"type\": \"BODY\","
    " \"text\": \"There is news about your account.\"}]}"
    "], \"paging\": {\"cursors\": {\"before\": \"MAZDZD\","
    " \"after\": \"MjQZD\"}}}";

static int	template_name_char(char);
static long	template_find(struct json_object *, const char *, size_t);
static int	template_store(struct db *, struct json_object *, char *,
		    size_t);

static int
template_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_';
}

/* The index of name (len bytes) in the JSON array of strings, or -1. */
static long
template_find(struct json_object *names, const char *name, size_t len)
{
	const char	*s;
	size_t		 i, n;

	n = json_object_array_length(names);
	for (i = 0; i < n; i++) {
		s = json_object_get_string(json_object_array_get_idx(names, i));
		if (strlen(s) == len && memcmp(s, name, len) == 0)
			return (long)i;
	}
	return -1;
}

int
model_template_placeholders(const char *body, struct json_object *arr)
{
	const char	*p, *e;

	for (p = body; (p = strstr(p, "{{")) != NULL; ) {
		for (e = p + 2; template_name_char(*e); e++)
			continue;
		if (e == p + 2 || e[0] != '}' || e[1] != '}') {
			p++;	/* "{{{1}}}": the placeholder starts later */
			continue;
		}
		if (template_find(arr, p + 2, (size_t)(e - p - 2)) == -1) {
			if (json_object_array_length(arr) >= TEMPLATE_PARAMS_MAX)
				return -1;
			json_object_array_add(arr, json_object_new_string_len(
			    p + 2, (int)(e - p - 2)));
		}
		p = e + 2;
	}
	return 0;
}

int
model_template_render(const char *body, struct json_object *names,
    struct json_object *params, struct buf *out, const char **err)
{
	struct json_object	*v;
	const char		*p, *e, *s;
	size_t			 n, chars;
	long			 k;
	int			 named;

	n = json_object_array_length(names);
	named = json_object_is_type(params, json_type_object);
	if (params != NULL && !named &&
	    !json_object_is_type(params, json_type_array)) {
		*err = "template.parameters must be a list (or an object for "
		    "named parameters)";
		return -1;
	}
	if ((params == NULL && n > 0) || (params != NULL && (named ?
	    (size_t)json_object_object_length(params) :
	    json_object_array_length(params)) != n)) {
		*err = "template.parameters must give one value for each of "
		    "the template's parameters";
		return -1;
	}
	for (p = body; *p != '\0'; ) {
		if (p[0] != '{' || p[1] != '{') {
			buf_putc(out, *p++);
			continue;
		}
		for (e = p + 2; template_name_char(*e); e++)
			continue;
		if (e == p + 2 || e[0] != '}' || e[1] != '}' ||
		    (k = template_find(names, p + 2, (size_t)(e - p - 2))) ==
		    -1) {
			buf_putc(out, *p++);
			continue;
		}
		if (named) {
			s = json_object_get_string(json_object_array_get_idx(
			    names, (size_t)k));
			if (!json_object_object_get_ex(params, s, &v)) {
				*err = "template.parameters lacks a value for "
				    "one of the template's named parameters";
				return -1;
			}
		} else {
			/* {{1}} is the first value, whatever their order. */
			k = strtol(json_object_get_string(
			    json_object_array_get_idx(names, (size_t)k)),
			    NULL, 10) - 1;
			if (k < 0 || (size_t)k >= n) {
				*err = "the template's placeholders are not "
				    "numbered 1 to N";
				return -1;
			}
			v = json_object_array_get_idx(params, (size_t)k);
		}
		if (!json_object_is_type(v, json_type_string)) {
			*err = "template.parameters must be strings";
			return -1;
		}
		s = json_object_get_string(v);
		if (*s == '\0' || valid_utf8(s, strlen(s), &chars) == -1 ||
		    chars > TEMPLATE_PARAM_MAX) {
			*err = "each template parameter must be 1-1024 "
			    "characters of text";
			return -1;
		}
		buf_puts(out, s);
		p = e + 2;
	}
	return 0;
}

/* One template of WhatsApp's list into the table. */
static int
template_store(struct db *db, struct json_object *t, char *err, size_t errsz)
{
	struct json_object	*comps, *c, *names;
	const char		*p[9], *v, *body = "";
	size_t			 i, len;
	char			 fmt[16];
	PGresult		*res = NULL;
	int			 rc;

	if (jsonb_get_str(t, "name", &p[0], &len) != JSONB_GET_OK ||
	    jsonb_get_str(t, "language", &p[1], &len) != JSONB_GET_OK ||
	    jsonb_get_str(t, "status", &p[3], &len) != JSONB_GET_OK) {
		snprintf(err, errsz, "a template without a name, a language or "
		    "a status");
		return -1;
	}
	if (jsonb_get_str(t, "category", &p[2], &len) != JSONB_GET_OK)
		p[2] = "";
	if (jsonb_get_strnum(t, "id", &p[4], &len) != JSONB_GET_OK)
		p[4] = NULL;
	if (jsonb_get_type(t, "components", json_type_array, &comps) !=
	    JSONB_GET_OK)
		comps = NULL;
	for (i = 0; comps != NULL && i < json_object_array_length(comps);
	    i++) {
		c = json_object_array_get_idx(comps, i);
		if (jsonb_get_str(c, "type", &v, &len) == JSONB_GET_OK &&
		    strcasecmp(v, "BODY") == 0 &&
		    jsonb_get_str(c, "text", &body, &len) != JSONB_GET_OK)
			body = "";
	}
	names = json_object_new_array();
	if (model_template_placeholders(body, names) == -1) {
		json_object_put(names);
		snprintf(err, errsz, "a template with too many parameters");
		return -1;
	}
	snprintf(fmt, sizeof(fmt), "POSITIONAL");
	if (jsonb_get_str(t, "parameter_format", &v, &len) == JSONB_GET_OK &&
	    strcasecmp(v, "NAMED") == 0)
		snprintf(fmt, sizeof(fmt), "NAMED");
	for (i = 0; i < json_object_array_length(names); i++) {
		v = json_object_get_string(json_object_array_get_idx(names, i));
		if (strspn(v, "0123456789") != strlen(v))
			snprintf(fmt, sizeof(fmt), "NAMED");
	}
	p[5] = fmt;
	p[6] = body;
	p[7] = json_object_to_json_string_ext(names, JSON_C_TO_STRING_PLAIN);
	p[8] = comps != NULL ? json_object_to_json_string_ext(comps,
	    JSON_C_TO_STRING_PLAIN) : "[]";
	rc = db_exec(db, STMT_TEMPLATE_PUT, 9, p, &res) == DB_OK ? 0 : -1;
	if (rc == -1)
		snprintf(err, errsz, "the database refused a template");
	db_res_free(res);
	json_object_put(names);
	return rc;
}

int
model_template_load_page(struct db *db, const char *json, size_t len,
    char *err, size_t errsz)
{
	struct json_object	*root = NULL, *data;
	size_t			 i, n;
	int			 rc = -1;

	if (jsonb_parse(json, len, &root) != JSONB_OK ||
	    jsonb_get_type(root, "data", json_type_array, &data) !=
	    JSONB_GET_OK) {
		snprintf(err, errsz, "not a list of templates");
		goto out;
	}
	n = json_object_array_length(data);
	for (i = 0; i < n; i++)
		if (template_store(db, json_object_array_get_idx(data, i), err,
		    errsz) == -1)
			goto out;
	rc = (int)n;
out:
	json_object_put(root);
	return rc;
}

int
model_template_sync_catalog(struct db *db, char *err, size_t errsz)
{
	PGresult	*res = NULL;
	int		 n;

	if (db_begin(db) != DB_OK) {
		snprintf(err, errsz, "no database");
		return -1;
	}
	if ((n = model_template_load_page(db, template_catalog,
	    strlen(template_catalog), err, errsz)) == -1 ||
	    db_exec(db, STMT_TEMPLATE_PRUNE, 0, NULL, &res) != DB_OK ||
	    db_commit(db) != DB_OK) {
		db_rollback(db);
		db_res_free(res);
		if (n != -1)
			snprintf(err, errsz, "the database refused the sync");
		return -1;
	}
	db_res_free(res);
	return n;
}
