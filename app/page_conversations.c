#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "model_message.h"
#include "page_conversations.h"
#include "stmts.h"

#define CONV_LIMIT	50
#define CONV_SHORT	90	/* code points of the last message shown */
#define CONV_WINDOW	2000	/* the statement's window of messages */
#define THREAD_LIMIT	100

/* Columns of STMT_ADMIN_CONVERSATIONS. */
enum conv_col {
	CONV_COL_CUSTOMER,
	CONV_COL_DIRECTION,
	CONV_COL_CONTENT,
	CONV_COL_TIME,
	CONV_COL_STATUS,
	CONV_COL_ID,
	CONV_COL_UNREAD,
	CONV_COL_NAME,
	CONV_COL_LOW,
	CONV_COL_WINDOW,
	CONV_COL__MAX
};

static const char	*conv_ticks(const char *, const char **);
static void		 conv_bubble(struct html *, const struct message *);
static void		 conv_reply(struct admin_page *, const char *,
			    const char *);

void
page_conversations_list(struct app *a)
{
	struct admin_page	 pg;
	struct html		*h = &pg.h;
	struct query		 q;
	PGresult		*res = NULL;
	const char		*p[2], *v, *cust, *name;
	char			 lim[24], href[64];
	long long		 before = 0, next = 0, unread;
	int			 i, n, shown;
	enum db_rc		 rc;

	query_parse(a->req->arena, a->req->query, &q);
	p[0] = NULL;
	if ((v = query_get(&q, "before_id")) != NULL && *v != '\0') {
		if (valid_uint(v, 1, APP_ID_MAX, &before) == -1) {
			admin_error(a, 400, "Bad request",
			    "before_id must be a positive integer.");
			return;
		}
		p[0] = v;
	}
	snprintf(lim, sizeof(lim), "%d", CONV_LIMIT + 1);
	p[1] = lim;
	if ((rc = db_exec(a->db, STMT_ADMIN_CONVERSATIONS, 2, p, &res)) !=
	    DB_OK) {
		app_db_error(a, rc);
		return;
	}
	n = PQntuples(res);
	if (n > 0 && PQgetisnull(res, 0, CONV_COL_CUSTOMER))
		n = 0;
	shown = n > CONV_LIMIT ? CONV_LIMIT : n;
	/* The next page starts below the last customer shown, or below the
	 * window when it was full and every customer in it is shown. */
	if (n > CONV_LIMIT)
		next = strtoll(PQgetvalue(res, shown - 1, CONV_COL_ID), NULL,
		    10);
	else if (PQntuples(res) > 0 && strtoll(PQgetvalue(res, 0,
	    CONV_COL_WINDOW), NULL, 10) >= CONV_WINDOW)
		next = strtoll(PQgetvalue(res, 0, CONV_COL_LOW), NULL, 10);

	admin_page_begin(&pg, a, "Conversations", ADMIN_NAV_CONVERSATIONS);
	admin_page_head(h, "Conversations");
	if (shown == 0)
		html_elemc(h, "p", "empty", before ? "No older conversations." :
		    "No conversations yet.");
	html_open(h, "ul");
	html_attr(h, "class", "conversations");
	for (i = 0; i < shown; i++) {
		cust = PQgetvalue(res, i, CONV_COL_CUSTOMER);
		name = db_get(res, i, CONV_COL_NAME);
		unread = strtoll(PQgetvalue(res, i, CONV_COL_UNREAD), NULL, 10);
		snprintf(href, sizeof(href), "/admin/conversations/%s",
		    cust[0] == '+' ? cust + 1 : cust);
		html_open(h, "li");
		html_attr(h, "class", unread > 0 ? "conv unread" : "conv");
		html_open(h, "a");
		html_attr(h, "href", href);
		html_open(h, "span");
		html_attr(h, "class", "conv-who");
		html_elemc(h, "strong", "phone", cust);
		if (name != NULL && *name != '\0')
			html_elemc(h, "span", "contact-name", name);
		html_close(h);
		html_open(h, "span");
		html_attr(h, "class", "conv-when");
		admin_time(h, PQgetvalue(res, i, CONV_COL_TIME));
		if (unread > 0) {
			html_open(h, "span");
			html_attr(h, "class", "unread-count");
			html_attrf(h, "title", "%lld unread", unread);
			html_strf(h, "%lld%s", unread,
			    unread >= 100 ? "+" : "");
			html_close(h);
		}
		html_close(h);
		html_open(h, "span");
		html_attr(h, "class", "conv-last");
		if (strcmp(PQgetvalue(res, i, CONV_COL_DIRECTION),
		    "outbound") == 0)
			html_elemc(h, "span", "you", "You: ");
		admin_short(h, PQgetvalue(res, i, CONV_COL_CONTENT),
		    CONV_SHORT);
		html_close(h);
		html_close(h);
		html_close(h);
	}
	html_close(h);
	html_open(h, "nav");
	html_attr(h, "class", "pager");
	html_attr(h, "aria-label", "Pages");
	if (before > 0) {
		html_open(h, "a");
		html_attr(h, "class", "button");
		html_attr(h, "href", "/admin/conversations/");
		html_str(h, "\xe2\x86\x90 Latest");
		html_close(h);
	}
	if (next > 0) {
		snprintf(href, sizeof(href),
		    "/admin/conversations/?before_id=%lld", next);
		html_open(h, "a");
		html_attr(h, "class", "button");
		html_attr(h, "rel", "next");
		html_attr(h, "href", href);
		html_str(h, "Older \xe2\x86\x92");
		html_close(h);
	}
	html_close(h);
	admin_page_end(&pg, 200);
	db_res_free(res);
}

/* The tick marks of an outbound status and their meaning. */
static const char *
conv_ticks(const char *status, const char **title)
{
	static const char *const t[MSG_ST__MAX][2] = {
		[MSG_ST_QUEUED] = { "\xe2\x80\xa6", "queued" },
		[MSG_ST_SENT] = { "\xe2\x9c\x93", "sent" },
		[MSG_ST_DELIVERED] = { "\xe2\x9c\x93\xe2\x9c\x93",
		    "delivered" },
		[MSG_ST_READ] = { "\xe2\x9c\x93\xe2\x9c\x93", "read" },
		[MSG_ST_FAILED] = { "!", "failed" },
		[MSG_ST_RECEIVED] = { "", "received" },
	};
	int	i;

	for (i = 0; i < MSG_ST__MAX; i++)
		if (strcmp(status, message_statuses[i]) == 0) {
			*title = t[i][1];
			return t[i][0];
		}
	*title = status;
	return "?";
}

static void
conv_bubble(struct html *h, const struct message *m)
{
	const char	*ticks, *title;
	char		 href[48];
	int		 out;

	out = strcmp(m->direction, "outbound") == 0;
	snprintf(href, sizeof(href), "/admin/messages/%lld", m->id);
	html_open(h, "li");
	html_attr(h, "class", out ? "bubble out" : "bubble in");
	html_attrf(h, "id", "m%lld", m->id);
	html_elemc(h, "p", "bubble-text", m->content);
	html_open(h, "p");
	html_attr(h, "class", "bubble-meta");
	html_open(h, "a");
	html_attr(h, "href", href);
	admin_time(h, m->timestamp);
	html_close(h);
	if (out) {
		ticks = conv_ticks(m->status, &title);
		html_str(h, " ");
		html_open(h, "span");
		html_attrf(h, "class", "ticks ticks-%s", m->status);
		html_attr(h, "title", title);
		html_attr(h, "aria-label", title);
		html_str(h, ticks);
		html_close(h);
	}
	html_close(h);
	if (out && m->error_message != NULL)
		html_elemc(h, "p", "bubble-error", m->error_message);
	html_close(h);
}

/* The reply box: posts to the send form, which comes back here. */
static void
conv_reply(struct admin_page *p, const char *customer, const char *sender)
{
	struct html	*h = &p->h;

	html_open(h, "form");
	html_attr(h, "class", "reply");
	html_attr(h, "method", "post");
	html_attr(h, "action", "/admin/messages/new");
	admin_csrf_field(p);
	admin_hidden(h, "back", "conversation");
	admin_hidden(h, "receiver", customer);
	if (sender != NULL)
		admin_hidden(h, "sender", sender);
	html_open(h, "label");
	html_attr(h, "for", "reply-content");
	html_attr(h, "class", "visually-hidden");
	html_str(h, "Reply");
	html_close(h);
	html_open(h, "textarea");
	html_attr(h, "id", "reply-content");
	html_attr(h, "name", "content");
	html_attr(h, "rows", "3");
	html_attr(h, "placeholder", "Write a reply\xe2\x80\xa6");
	html_flag(h, "required");
	html_close(h);
	admin_submit(h, "primary", "Send");
	html_close(h);
}

void
page_conversations_show(struct app *a)
{
	struct admin_page	 pg;
	struct html		*h = &pg.h;
	struct query		 q;
	struct message		 m;
	PGresult		*res = NULL;
	const char		*p[3], *v, *sender = NULL, *name = NULL, *ours;
	char			 customer[VALID_PHONE_MAX];
	char			 e164[VALID_PHONE_MAX], lim[24], href[80];
	long long		 before = 0;
	int			 i, n, more;
	enum db_rc		 rc;

	if (valid_phone(a->args[0], strlen(a->args[0]), customer) == -1) {
		admin_error(a, 404, "Not found",
		    "That is not a phone number.");
		return;
	}
	query_parse(a->req->arena, a->req->query, &q);
	p[1] = NULL;
	if ((v = query_get(&q, "before_id")) != NULL && *v != '\0') {
		if (valid_uint(v, 1, APP_ID_MAX, &before) == -1) {
			admin_error(a, 400, "Bad request",
			    "before_id must be a positive integer.");
			return;
		}
		p[1] = v;
	}
	p[0] = customer;
	snprintf(lim, sizeof(lim), "%d", THREAD_LIMIT + 1);
	p[2] = lim;
	if ((rc = db_exec(a->db, STMT_ADMIN_THREAD, 3, p, &res)) != DB_OK) {
		app_db_error(a, rc);
		return;
	}
	n = PQntuples(res);
	more = n > THREAD_LIMIT;
	if (more)
		n = THREAD_LIMIT;
	/*
	 * Reply from our number in the latest message that has one (the
	 * receiver of an inbound, the sender of an outbound message); else the
	 * send path's default (the business number).
	 */
	for (i = 0; i < n; i++) {
		model_message_fill(&m, res, i);
		ours = strcmp(m.direction, "inbound") == 0 ? m.receiver :
		    m.sender;
		if (name == NULL && m.contact_name != NULL &&
		    strcmp(m.direction, "inbound") == 0)
			name = m.contact_name;
		if (sender == NULL && ours != NULL &&
		    valid_phone(ours, strlen(ours), e164) == 0)
			sender = arena_strdup(a->req->arena, e164);
	}

	admin_page_begin(&pg, a, customer, ADMIN_NAV_CONVERSATIONS);
	html_open(h, "div");
	html_attr(h, "class", "page-head");
	html_open(h, "h1");
	html_elemc(h, "span", "phone", customer);
	if (name != NULL) {
		html_str(h, " ");
		html_elemc(h, "span", "contact-name", name);
	}
	html_close(h);
	html_open(h, "a");
	html_attr(h, "class", "button subtle");
	html_attr(h, "href", "/admin/conversations/");
	html_str(h, "All conversations");
	html_close(h);
	html_close(h);
	query_parse(a->req->arena, a->req->query, &q);
	if (query_get(&q, "sent") != NULL)
		admin_notice(h, 0, "Reply queued for delivery.");
	if (more) {
		model_message_fill(&m, res, n - 1);
		snprintf(href, sizeof(href),
		    "/admin/conversations/%s?before_id=%lld", customer + 1,
		    m.id);
		html_open(h, "p");
		html_attr(h, "class", "earlier");
		html_open(h, "a");
		html_attr(h, "href", href);
		html_str(h, "Earlier messages");
		html_close(h);
		html_close(h);
	}
	if (n == 0)
		html_elemc(h, "p", "empty", "No messages with this number "
		    "yet. Write the first one below.");
	html_open(h, "ol");
	html_attr(h, "class", "thread");
	for (i = n - 1; i >= 0; i--) {
		model_message_fill(&m, res, i);
		conv_bubble(h, &m);
	}
	html_close(h);
	if (before > 0) {
		snprintf(href, sizeof(href), "/admin/conversations/%s",
		    customer + 1);
		html_open(h, "p");
		html_attr(h, "class", "earlier");
		html_open(h, "a");
		html_attr(h, "href", href);
		html_str(h, "Latest messages");
		html_close(h);
		html_close(h);
	}
	conv_reply(&pg, customer, sender);
	admin_page_end(&pg, 200);
	db_res_free(res);
}
