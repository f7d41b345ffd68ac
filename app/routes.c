#include <string.h>

#include "admin.h"
#include "auth.h"
#include "api_contacts.h"
#include "api_endpoints.h"
#include "api_media.h"
#include "api_messages.h"
#include "api_templates.h"
#include "api_numbers.h"
#include "ops.h"
#include "page_conversations.h"
#include "page_dashboard.h"
#include "page_endpoints.h"
#include "page_login.h"
#include "page_messages.h"
#include "routes.h"
#include "webhook.h"

const struct route_def routes[ROUTE__MAX] = {
	[ROUTE_HEALTHZ] = { "GET", "/healthz", 0, ops_healthz },
	[ROUTE_READYZ] = { "GET", "/readyz", ROUTE_DB, ops_readyz },
	/* Answers wadesk_database_up 0 itself when the database is down. */
	[ROUTE_METRICS] = { "GET", "/metrics", 0, ops_metrics },
	[ROUTE_OPENAPI] = { "GET", "/api/openapi.yaml", 0, ops_openapi },
	/* The one exception: see ROUTE_KEY_HASH. */
	[ROUTE_SEND_MESSAGE] = { "POST", "/api/send-message",
	    ROUTE_DB | ROUTE_KEY_HASH, api_send_message },
	[ROUTE_MESSAGES] = { "GET", "/api/messages", ROUTES_API,
	    api_messages_list },
	[ROUTE_MESSAGE] = { "GET", "/api/messages/{id}", ROUTES_API,
	    api_message_get },
	[ROUTE_CONTACTS] = { "GET", "/api/contacts", ROUTES_API,
	    api_contacts_list },
	[ROUTE_CONTACT] = { "GET", "/api/contacts/{id}", ROUTES_API,
	    api_contact_get },
	[ROUTE_CONTACT_CHANGE] = { "PATCH", "/api/contacts/{id}",
	    ROUTES_API_JSON, api_contact_change },
	[ROUTE_TEMPLATES] = { "GET", "/api/templates", ROUTES_API,
	    api_templates_list },
	[ROUTE_NUMBERS] = { "GET", "/api/numbers", ROUTES_API,
	    api_numbers_list },
	/* WhatsApp's subscription check: the verify token is its credential. */
	[ROUTE_WEBHOOK_VERIFY] = { "GET", "/api/webhook", 0, webhook_verify },
	[ROUTE_WEBHOOK] = { "POST", "/api/webhook",
	    ROUTE_SIGNED | ROUTE_DB | ROUTE_JSON, webhook_receive },
	[ROUTE_ADMIN_DASHBOARD] = { "GET", "/admin", ROUTES_PAGE,
	    page_dashboard },
	[ROUTE_ADMIN_LOGIN_FORM] = { "GET", "/admin/login", ROUTE_SESSION_OPT,
	    page_login_form },
	[ROUTE_ADMIN_LOGIN] = { "POST", "/admin/login",
	    ROUTE_DB | ROUTE_FORM | ROUTE_LOGIN_CSRF, page_login_submit },
	[ROUTE_ADMIN_LOGOUT] = { "POST", "/admin/logout", ROUTES_FORM,
	    page_logout },
	[ROUTE_ADMIN_MESSAGES] = { "GET", "/admin/messages", ROUTES_PAGE,
	    page_messages_list },
	[ROUTE_ADMIN_MESSAGE_NEW] = { "GET", "/admin/messages/new",
	    ROUTES_PAGE, page_messages_new },
	/* May carry a file: multipart too, the token read from it. */
	[ROUTE_ADMIN_MESSAGE_SEND] = { "POST", "/admin/messages/new",
	    ROUTES_FORM | ROUTE_MULTIPART, page_messages_send },
	[ROUTE_ADMIN_MESSAGE] = { "GET", "/admin/messages/{id}", ROUTES_PAGE,
	    page_messages_show },
	[ROUTE_ADMIN_MESSAGE_RETRY] = { "POST", "/admin/messages/{id}/retry",
	    ROUTES_FORM, page_messages_retry },
	[ROUTE_ADMIN_CONVERSATIONS] = { "GET", "/admin/conversations",
	    ROUTES_PAGE, page_conversations_list },
	[ROUTE_ADMIN_CONVERSATION] = { "GET", "/admin/conversations/{id}",
	    ROUTES_PAGE, page_conversations_show },
	[ROUTE_ADMIN_CONVERSATION_STATE] = { "POST",
	    "/admin/conversations/{id}/state", ROUTES_FORM,
	    page_conversations_state },
	[ROUTE_ADMIN_CONVERSATION_ASSIGN] = { "POST",
	    "/admin/conversations/{id}/assign", ROUTES_FORM,
	    page_conversations_assign },
	[ROUTE_ENDPOINTS] = { "GET", "/api/endpoints", ROUTES_API,
	    api_endpoints_list },
	[ROUTE_ENDPOINT_CREATE] = { "POST", "/api/endpoints", ROUTES_API_JSON,
	    api_endpoints_create },
	[ROUTE_ADMIN_ENDPOINTS] = { "GET", "/admin/endpoints", ROUTES_PAGE,
	    page_endpoints_list },
	[ROUTE_ADMIN_ENDPOINT_ADD] = { "POST", "/admin/endpoints", ROUTES_FORM,
	    page_endpoints_add },
	[ROUTE_ADMIN_ENDPOINT_DISABLE] = { "POST",
	    "/admin/endpoints/{id}/disable", ROUTES_FORM,
	    page_endpoints_disable },
	[ROUTE_ADMIN_DELIVERY_RESEND] = { "POST",
	    "/admin/deliveries/{id}/resend", ROUTES_FORM,
	    page_deliveries_resend },
	/* Media: the upload's body is the file itself (up to 16 MiB). */
	[ROUTE_MEDIA_UPLOAD] = { "POST", "/api/media", ROUTES_API | ROUTE_RAW,
	    api_media_upload },
	[ROUTE_MEDIA] = { "GET", "/api/media/{id}", ROUTES_API,
	    api_media_get },
	[ROUTE_ADMIN_MEDIA] = { "GET", "/admin/media/{id}", ROUTES_PAGE,
	    page_media_get },
	[ROUTE_ADMIN_CONVERSATION_REACT] = { "POST",
	    "/admin/conversations/{id}/react", ROUTES_FORM,
	    page_conversations_react },
};

static int	routes_prepare(struct app *, unsigned);

int
routes_match(const char *pattern, const char *path, struct arena *arena,
    const char *args[APP_MAX_ARGS])
{
	const char	*p = pattern, *s = path, *seg;
	size_t		 n, nargs = 0;

	while (*p != '\0') {
		if (strncmp(p, "{id}", 4) == 0) {
			seg = s;
			while (*s >= '0' && *s <= '9')
				s++;
			n = (size_t)(s - seg);
			if (n == 0 || n > APP_ID_DIGITS || seg[0] == '0' ||
			    nargs == APP_MAX_ARGS)
				return 0;
			args[nargs++] = arena_strndup(arena, seg, n);
			p += 4;
			continue;
		}
		if (*p != *s)
			return 0;
		p++;
		s++;
	}
	/* One optional trailing slash. */
	if (*s == '/')
		s++;
	return *s == '\0';
}

/*
 * The policy steps of a route, in the order routes.h gives; 0 when the
 * handler may run, -1 after answering.
 */
static int
routes_prepare(struct app *a, unsigned flags)
{
	/* 1. What the request alone proves or disproves. */
	if ((flags & (ROUTE_APIKEY | ROUTE_KEY_HASH)) &&
	    auth_key_hash(a, a->key_hash) == -1)
		return -1;
	if ((flags & ROUTE_SIGNED) && webhook_signed(a) == -1)
		return -1;
	/* Connects only when there is a session cookie to look up. */
	if ((flags & ROUTE_SESSION) && admin_session_require(a) == -1)
		return -1;
	if ((flags & ROUTE_SESSION_OPT) && admin_session_find(a) == -1)
		return -1;
	/* 2. The database. */
	if ((flags & ROUTE_DB) && db_ensure(a->db) != DB_OK) {
		app_fail(a, APP_FAIL_DB_UNAVAILABLE, NULL);
		return -1;
	}
	/* 3. What the database knows. */
	if ((flags & ROUTE_APIKEY) && auth_key_lookup(a, a->key_hash) == -1)
		return -1;
	/* 4. The body. */
	if ((flags & ROUTE_JSON) && app_parse_json(a, &a->json) == -1)
		return -1;
	if ((flags & ROUTE_RAW) && app_read_upload(a) == -1)
		return -1;
	if ((flags & ROUTE_FORM) && (flags & ROUTE_MULTIPART) &&
	    req_content_type_is(a->req, "multipart/form-data")) {
		if (admin_multipart(a) == -1)
			return -1;
	} else if ((flags & ROUTE_FORM) && admin_form(a) == -1)
		return -1;
	/* 5. The form's token. */
	if ((flags & ROUTE_CSRF) && admin_csrf_check(a) == -1)
		return -1;
	if ((flags & ROUTE_LOGIN_CSRF) && admin_login_csrf_check(a) == -1)
		return -1;
	return 0;
}

void
routes_dispatch(struct app *a)
{
	const char	*method = a->req->method;
	char		 allow[64];
	size_t		 i;
	int		 path_known = 0;

	allow[0] = '\0';
	a->route_id = ROUTE__MAX;
	a->html = admin_is_path(a->req->path);
	/* HEAD is answered like GET; nginx drops the body. */
	if (strcmp(method, "HEAD") == 0)
		method = "GET";
	for (i = 0; i < ROUTE__MAX; i++) {
		if (!routes_match(routes[i].pattern, a->req->path,
		    a->req->arena, a->args))
			continue;
		if (strcmp(routes[i].method, method) == 0) {
			a->route = routes[i].pattern;
			a->route_id = (int)i;
			if (routes_prepare(a, routes[i].flags) == 0)
				routes[i].handler(a);
			json_object_put(a->json);
			a->json = NULL;
			return;
		}
		if (strstr(allow, routes[i].method) == NULL) {
			if (path_known)
				strncat(allow, ", ", sizeof(allow) -
				    strlen(allow) - 1);
			strncat(allow, routes[i].method, sizeof(allow) -
			    strlen(allow) - 1);
			if (strcmp(routes[i].method, "GET") == 0)
				strncat(allow, ", HEAD", sizeof(allow) -
				    strlen(allow) - 1);
		}
		path_known = 1;
		a->route = routes[i].pattern;
	}
	if (path_known) {
		req_header(a->req, "Allow", allow);
		app_fail(a, APP_FAIL_METHOD, NULL);
		return;
	}
	a->route = "-";
	app_fail(a, APP_FAIL_NOT_FOUND, NULL);
}
