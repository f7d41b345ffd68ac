#include <string.h>

#include "admin.h"
#include "api_messages.h"
#include "ops.h"
#include "page_conversations.h"
#include "page_dashboard.h"
#include "page_login.h"
#include "page_messages.h"
#include "routes.h"
#include "webhook.h"

const struct route_def routes[ROUTE__MAX] = {
	[ROUTE_HEALTHZ] = { "GET", "/healthz", ops_healthz },
	[ROUTE_READYZ] = { "GET", "/readyz", ops_readyz },
	[ROUTE_METRICS] = { "GET", "/metrics", ops_metrics },
	[ROUTE_OPENAPI] = { "GET", "/api/openapi.yaml", ops_openapi },
	[ROUTE_SEND_MESSAGE] = { "POST", "/api/send-message",
	    api_send_message },
	[ROUTE_MESSAGES] = { "GET", "/api/messages", api_messages_list },
	[ROUTE_MESSAGE] = { "GET", "/api/messages/{id}", api_message_get },
	[ROUTE_WEBHOOK_VERIFY] = { "GET", "/api/webhook", webhook_verify },
	[ROUTE_WEBHOOK] = { "POST", "/api/webhook", webhook_receive },
	[ROUTE_ADMIN_DASHBOARD] = { "GET", "/admin", page_dashboard },
	[ROUTE_ADMIN_LOGIN_FORM] = { "GET", "/admin/login", page_login_form },
	[ROUTE_ADMIN_LOGIN] = { "POST", "/admin/login", page_login_submit },
	[ROUTE_ADMIN_LOGOUT] = { "POST", "/admin/logout", page_logout },
	[ROUTE_ADMIN_MESSAGES] = { "GET", "/admin/messages",
	    page_messages_list },
	[ROUTE_ADMIN_MESSAGE_NEW] = { "GET", "/admin/messages/new",
	    page_messages_new },
	[ROUTE_ADMIN_MESSAGE_SEND] = { "POST", "/admin/messages/new",
	    page_messages_send },
	[ROUTE_ADMIN_MESSAGE] = { "GET", "/admin/messages/{id}",
	    page_messages_show },
	[ROUTE_ADMIN_MESSAGE_RETRY] = { "POST", "/admin/messages/{id}/retry",
	    page_messages_retry },
	[ROUTE_ADMIN_CONVERSATIONS] = { "GET", "/admin/conversations",
	    page_conversations_list },
	[ROUTE_ADMIN_CONVERSATION] = { "GET", "/admin/conversations/{id}",
	    page_conversations_show },
};

#define ROUTE_ID_MAX	18

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
			if (n == 0 || n > ROUTE_ID_MAX || seg[0] == '0' ||
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

void
routes_dispatch(struct app *a)
{
	const char	*method = a->req->method;
	char		 allow[64];
	size_t		 i;
	int		 path_known = 0;

	allow[0] = '\0';
	a->route_id = ROUTE__MAX;
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
			routes[i].handler(a);
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
		if (admin_is_path(a->req->path))
			admin_error(a, 405, "Method not allowed",
			    "This page cannot be used that way.");
		else
			req_error(a->req, 405, "method_not_allowed",
			    "this method is not allowed here", NULL);
		return;
	}
	a->route = "-";
	if (admin_is_path(a->req->path))
		admin_error(a, 404, "Not found", "There is no such page.");
	else
		req_error(a->req, 404, "not_found", "no such route", NULL);
}
