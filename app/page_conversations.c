#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "admin.h"
#include "log.h"
#include "model_message.h"
#include "page_compose.h"
#include "page_conversations.h"
#include "stmts.h"
#include "wa_errors.h"

#define CONV_LIMIT	50
#define CONV_SHORT	90	/* code points of the last message shown */
#define QUOTE_SHORT	120	/* code points of a quoted message shown */
#define THREAD_LIMIT	100
#define USERS_LIMIT	200	/* admin users offered in the assign list */
#define USER_ID_MAX	2147483647LL

/* The list's filters; the first is the default. */
enum conv_filter {
	CONV_F_OPEN,
	CONV_F_MINE,
	CONV_F_UNASSIGNED,
	CONV_F_RESOLVED,
	CONV_F_ALL,
	CONV_F__MAX
};

static const char *const conv_filters[CONV_F__MAX][2] = {
	[CONV_F_OPEN] = { "open", "Open" },
	[CONV_F_MINE] = { "mine", "Mine" },
	[CONV_F_UNASSIGNED] = { "unassigned", "Unassigned" },
	[CONV_F_RESOLVED] = { "resolved", "Resolved" },
	[CONV_F_ALL] = { "all", "All" },
};

/* Columns of STMT_ADMIN_CONTACTS. */
enum conv_col {
	CONV_COL_ID,
	CONV_COL_PHONE,
	CONV_COL_USER_ID,
	CONV_COL_USERNAME,
	CONV_COL_NAME,
	CONV_COL_STATE,
	CONV_COL_ASSIGNEE,
	CONV_COL_UNREAD,
	CONV_COL_DIRECTION,
	CONV_COL_CONTENT,
	CONV_COL_TIME,
	CONV_COL_TYPE,
	CONV_COL__MAX
};

/* Columns of STMT_ADMIN_CONTACT_OPEN. */
enum contact_col {
	CONTACT_COL_ID,
	CONTACT_COL_PHONE,
	CONTACT_COL_USER_ID,
	CONTACT_COL_PARENT,
	CONTACT_COL_USERNAME,
	CONTACT_COL_NAME,
	CONTACT_COL_STATE,
	CONTACT_COL_ASSIGNEE_ID,
	CONTACT_COL_ASSIGNEE,
	CONTACT_COL_UNREAD,
	CONTACT_COL_LAST_INBOUND,
	CONTACT_COL_WINDOW_OPEN,
	CONTACT_COL_WINDOW_ENDS,
	CONTACT_COL_NUMBER,
	CONTACT_COL__MAX
};

/* STMT_ADMIN_CONTACT_THREAD: the message columns, then the quote's. */
#define THREAD_COL_QUOTE_DIR	MSG_COL__MAX
#define THREAD_COL_QUOTE_TEXT	(MSG_COL__MAX + 1)

/* The contact a thread page shows (strings borrowed from its result). */
struct conv_contact {
	long long	 id;
	const char	*phone;
	const char	*user_id;
	const char	*parent;
	const char	*username;
	const char	*name;
	const char	*state;
	long long	 assignee_id;	/* 0: nobody */
	const char	*assignee;
	long long	 unread;	/* before this visit */
	const char	*last_inbound;
};

static const char	*conv_who(const char *, const char *, const char *,
			    const char *);
static void		 conv_filter_nav(struct html *, int, const char *);
static void		 conv_number_form(struct html *, int,
			    const PGresult *, const char *);
static void		 conv_row(struct html *, const PGresult *, int);
static int		 conv_redirect_phone(struct app *);
static const char	*conv_ticks(const char *, const char **);
static void		 conv_reactions(struct html *, const char *);
static void		 conv_bubble(struct admin_page *, long long,
			    const char *, const PGresult *, int);
static void		 conv_window(struct html *, const PGresult *,
			    int);
static const char	*conv_quoted(const PGresult *, int,
			    const char *);
static void		 conv_field(struct html *, const char *, const char *);
static void		 conv_identity(struct html *,
			    const struct conv_contact *);
static void		 conv_actions(struct admin_page *,
			    const struct conv_contact *, const PGresult *);
static void		 conv_reply(struct admin_page *,
			    const struct conv_contact *, const char *,
			    const char *, const char *);
static void		 conv_done(struct app *, long long, const char *);

/* How a customer is called: name, else phone, username, BSUID. */
static const char *
conv_who(const char *name, const char *phone, const char *username,
    const char *user_id)
{
	if (name != NULL && *name != '\0')
		return name;
	if (phone != NULL)
		return phone;
	if (username != NULL && *username != '\0')
		return username;
	return user_id != NULL ? user_id : "?";
}

static void
conv_filter_nav(struct html *h, int cur, const char *number)
{
	struct buf	href;
	int		i;

	buf_init(&href);
	html_open(h, "nav");
	html_attr(h, "class", "chips");
	html_attr(h, "aria-label", "Conversations shown");
	for (i = 0; i < CONV_F__MAX; i++) {
		buf_reset(&href);
		admin_url(&href, "/admin/conversations/", "filter",
		    conv_filters[i][0], "number", number, NULL);
		html_open(h, "a");
		html_attr(h, "href", href.data);
		html_attrf(h, "class", "chip chip-%s", conv_filters[i][0]);
		if (i == cur)
			html_attr(h, "aria-current", "true");
		html_str(h, conv_filters[i][1]);
		html_close(h);
	}
	html_close(h);
	buf_cleanup(&href);
}

/* The business number filter (shown when numbers exist). */
static void
conv_number_form(struct html *h, int cur, const PGresult *nums,
    const char *number)
{
	if (PQntuples(nums) == 0)
		return;
	html_open(h, "form");
	html_attr(h, "class", "filters");
	html_attr(h, "method", "get");
	html_attr(h, "action", "/admin/conversations/");
	html_attr(h, "role", "search");
	admin_hidden(h, "filter", conv_filters[cur][0]);
	html_open(h, "label");
	html_str(h, "Number ");
	admin_number_select(h, nums, "number", "filter-number", "any",
	    number, 0);
	html_close(h);
	admin_submit(h, NULL, "Filter");
	html_close(h);
}

/* One conversation of the list: row i of STMT_ADMIN_CONTACTS. */
static void
conv_row(struct html *h, const PGresult *res, int i)
{
	const char	*phone, *uid, *uname, *name, *who, *assignee, *type;
	char		 href[64];
	long long	 unread;

	phone = db_get(res, i, CONV_COL_PHONE);
	uid = db_get(res, i, CONV_COL_USER_ID);
	uname = db_get(res, i, CONV_COL_USERNAME);
	name = db_get(res, i, CONV_COL_NAME);
	assignee = db_get(res, i, CONV_COL_ASSIGNEE);
	type = db_get(res, i, CONV_COL_TYPE);
	who = conv_who(name, phone, uname, uid);
	unread = strtoll(PQgetvalue(res, i, CONV_COL_UNREAD), NULL, 10);
	snprintf(href, sizeof(href), "/admin/conversations/%s",
	    PQgetvalue(res, i, CONV_COL_ID));
	html_open(h, "li");
	html_attr(h, "class", unread > 0 ? "conv unread" : "conv");
	html_open(h, "a");
	html_attr(h, "href", href);
	html_open(h, "span");
	html_attr(h, "class", "conv-who");
	html_elemc(h, "strong", "who", who);
	/* What else identifies the customer, beside the name. */
	if (uname != NULL && *uname != '\0' && who != uname)
		html_elemc(h, "span", "username", uname);
	if (phone != NULL && who != phone)
		html_elemc(h, "span", "phone", phone);
	else if (phone == NULL && uid != NULL && who != uid)
		html_elemc(h, "span", "bsuid", uid);
	html_close(h);
	html_open(h, "span");
	html_attr(h, "class", "conv-when");
	admin_time(h, db_get(res, i, CONV_COL_TIME));
	if (unread > 0) {
		html_open(h, "span");
		html_attr(h, "class", "unread-count");
		html_attrf(h, "title", "%lld unread", unread);
		html_strf(h, "%lld", unread);
		html_close(h);
	}
	html_close(h);
	html_open(h, "span");
	html_attr(h, "class", "conv-last");
	if (db_get(res, i, CONV_COL_DIRECTION) != NULL &&
	    strcmp(PQgetvalue(res, i, CONV_COL_DIRECTION), "outbound") == 0)
		html_elemc(h, "span", "you", "You: ");
	if (type != NULL && strcmp(type, "text") != 0)
		html_elemc(h, "span", "msg-type", type);
	admin_short(h, db_get(res, i, CONV_COL_CONTENT), CONV_SHORT);
	html_close(h);
	html_open(h, "span");
	html_attr(h, "class", "conv-tags");
	if (strcmp(PQgetvalue(res, i, CONV_COL_STATE), "resolved") == 0)
		html_elemc(h, "span", "badge badge-resolved", "resolved");
	if (assignee != NULL)
		html_elemc(h, "span", "assignee", assignee);
	else
		html_elemc(h, "span", "assignee none", "unassigned");
	html_close(h);
	html_close(h);			/* a */
	html_close(h);			/* li */
}

void
page_conversations_list(struct app *a)
{
	struct admin_page	 pg;
	struct html		*h = &pg.h;
	struct query		 q;
	PGresult		*res = NULL;
	const char		*p[5], *v;
	char			 lim[24], uid[24];
	struct buf		 href;
	PGresult		*nums = NULL;
	long long		 before = 0, number;
	int			 i, n, shown, f = CONV_F_OPEN;
	enum db_rc		 rc;

	query_parse(a->req->arena, a->req->query, &q);
	if ((v = query_get(&q, "filter")) != NULL && *v != '\0') {
		for (f = 0; f < CONV_F__MAX; f++)
			if (strcmp(v, conv_filters[f][0]) == 0)
				break;
		if (f == CONV_F__MAX) {
			admin_error(a, 400, "Bad request", "filter must be "
			    "open, mine, unassigned, resolved or all.");
			return;
		}
	}
	p[2] = NULL;
	if ((v = query_get(&q, "before_id")) != NULL && *v != '\0') {
		if (valid_uint(v, 1, APP_ID_MAX, &before) == -1) {
			admin_error(a, 400, "Bad request",
			    "before_id must be a positive integer.");
			return;
		}
		p[2] = v;
	}
	p[4] = NULL;
	if ((v = query_get(&q, "number")) != NULL && *v != '\0') {
		if (valid_uint(v, 1, APP_ID_MAX, &number) == -1) {
			admin_error(a, 400, "Bad request",
			    "number must be a business number's id.");
			return;
		}
		p[4] = v;
	}
	snprintf(uid, sizeof(uid), "%lld", a->sess->user_id);
	snprintf(lim, sizeof(lim), "%d", CONV_LIMIT + 1);
	p[0] = conv_filters[f][0];
	p[1] = uid;
	p[3] = lim;
	if (admin_numbers(a, &nums) == -1)
		return;
	if ((rc = db_exec(a->db, STMT_ADMIN_CONTACTS, 5, p, &res)) != DB_OK) {
		db_res_free(nums);
		app_db_error(a, rc);
		return;
	}
	n = PQntuples(res);
	shown = n > CONV_LIMIT ? CONV_LIMIT : n;

	admin_page_begin(&pg, a, "Conversations", ADMIN_NAV_CONVERSATIONS);
	admin_page_head(h, "Conversations");
	conv_filter_nav(h, f, p[4]);
	conv_number_form(h, f, nums, p[4]);
	if (shown == 0)
		html_elemc(h, "p", "empty", before ? "No more conversations." :
		    "No conversations here.");
	else {
		html_open(h, "ul");
		html_attr(h, "class", "conversations");
		for (i = 0; i < shown; i++)
			conv_row(h, res, i);
		html_close(h);
	}
	html_open(h, "nav");
	html_attr(h, "class", "pager");
	html_attr(h, "aria-label", "Pages");
	buf_init(&href);
	if (before > 0) {
		admin_url(&href, "/admin/conversations/", "filter",
		    conv_filters[f][0], "number", p[4], NULL);
		html_open(h, "a");
		html_attr(h, "class", "button");
		html_attr(h, "href", href.data);
		html_str(h, "\xe2\x86\x90 Latest");
		html_close(h);
	}
	if (n > CONV_LIMIT) {
		buf_reset(&href);
		admin_url(&href, "/admin/conversations/", "filter",
		    conv_filters[f][0], "number", p[4], "before_id",
		    PQgetvalue(res, shown - 1, CONV_COL_ID), NULL);
		html_open(h, "a");
		html_attr(h, "class", "button");
		html_attr(h, "rel", "next");
		html_attr(h, "href", href.data);
		html_str(h, "Older \xe2\x86\x92");
		html_close(h);
	}
	html_close(h);
	buf_cleanup(&href);
	admin_page_end(&pg, 200);
	db_res_free(res);
	db_res_free(nums);
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
		[MSG_ST_PLAYED] = { "\xe2\x96\xb6\xe2\x9c\x93\xe2\x9c\x93",
		    "played" },
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

/*
 * The reactions on a message (a JSON array of {"emoji", "direction",
 * "timestamp"}), as badges; nothing when there are none or the text is
 * not such an array.
 */
static void
conv_reactions(struct html *h, const char *json)
{
	struct json_object	*root, *r, *emoji, *dir, *ts;
	const char		*d;
	size_t			 i, n;
	int			 open = 0;

	if (json == NULL || (root = json_tokener_parse(json)) == NULL)
		return;
	if (!json_object_is_type(root, json_type_array))
		goto out;
	n = json_object_array_length(root);
	for (i = 0; i < n; i++) {
		r = json_object_array_get_idx(root, i);
		if (!json_object_object_get_ex(r, "emoji", &emoji) ||
		    !json_object_is_type(emoji, json_type_string) ||
		    json_object_get_string_len(emoji) == 0)
			continue;
		d = json_object_object_get_ex(r, "direction", &dir) &&
		    json_object_is_type(dir, json_type_string) &&
		    strcmp(json_object_get_string(dir), "outbound") == 0 ?
		    "outbound" : "inbound";
		if (!open) {
			html_open(h, "ul");
			html_attr(h, "class", "reactions");
			html_attr(h, "aria-label", "Reactions");
			open = 1;
		}
		html_open(h, "li");
		html_attrf(h, "class", "reaction reaction-%s", d);
		if (json_object_object_get_ex(r, "timestamp", &ts) &&
		    json_object_is_type(ts, json_type_string))
			html_attrf(h, "title", "%s, %s", d[0] == 'o' ?
			    "You" : "Customer", json_object_get_string(ts));
		else
			html_attr(h, "title", d[0] == 'o' ? "You" :
			    "Customer");
		html_str(h, json_object_get_string(emoji));
		html_close(h);
	}
	if (open)
		html_close(h);
out:
	json_object_put(root);
}

/* Row i of STMT_ADMIN_CONTACT_THREAD as a chat bubble. */
/* The reactions an agent can give with one click. */
static const char *const conv_emoji[] = {
	"\xf0\x9f\x91\x8d",		/* thumbs up */
	"\xe2\x9d\xa4\xef\xb8\x8f",	/* red heart */
	"\xf0\x9f\x98\x82",		/* tears of joy */
	"\xf0\x9f\x98\xae",		/* open mouth */
	"\xf0\x9f\x98\xa2",		/* crying */
	"\xf0\x9f\x99\x8f",		/* folded hands */
	NULL
};

static void
conv_bubble(struct admin_page *p, long long cid, const char *sender,
    const PGresult *res, int i)
{
	struct html	*h = &p->h;
	struct message	 m;
	const char	*ticks, *title, *qdir;
	char		 href[64];
	int		 out, k;

	model_message_fill(&m, res, i);
	out = strcmp(m.direction, "outbound") == 0;
	snprintf(href, sizeof(href), "/admin/messages/%lld", m.id);
	html_open(h, "li");
	html_attr(h, "class", out ? "bubble out" : "bubble in");
	html_attrf(h, "id", "m%lld", m.id);
	if (m.type != NULL && strcmp(m.type, "text") != 0) {
		html_open(h, "p");
		html_attr(h, "class", "bubble-type");
		html_elemc(h, "span", "msg-type", m.type);
		html_close(h);
	}
	if (m.reply_to > 0) {
		qdir = db_get(res, i, THREAD_COL_QUOTE_DIR);
		html_open(h, "blockquote");
		html_attr(h, "class", "quote");
		html_open(h, "a");
		html_attrf(h, "href", "/admin/messages/%lld", m.reply_to);
		html_elemc(h, "span", "quote-who", qdir == NULL ? "Message" :
		    strcmp(qdir, "outbound") == 0 ? "You" : "Customer");
		html_str(h, " ");
		if (qdir != NULL)
			admin_short(h, db_get(res, i, THREAD_COL_QUOTE_TEXT),
			    QUOTE_SHORT);
		else
			html_strf(h, "#%lld", m.reply_to);
		html_close(h);
		html_close(h);
	}
	admin_media(h, m.media);
	if (m.content != NULL && m.content[0] != '\0')
		html_elemc(h, "p", "bubble-text", m.content);
	conv_reactions(h, m.reactions);
	html_open(h, "p");
	html_attr(h, "class", "bubble-meta");
	html_open(h, "a");
	html_attr(h, "href", href);
	admin_time(h, m.timestamp);
	html_close(h);
	if (out) {
		ticks = conv_ticks(m.status, &title);
		html_str(h, " ");
		html_open(h, "span");
		html_attrf(h, "class", "ticks ticks-%s", m.status);
		html_attr(h, "title", title);
		html_attr(h, "aria-label", title);
		html_str(h, ticks);
		html_close(h);
	}
	html_close(h);
	if (out && (m.error_message != NULL || m.error_code != NULL))
		html_elemc(h, "p", "bubble-error",
		    wa_error_words(m.error_code) != NULL ?
		    wa_error_words(m.error_code) : m.error_message);
	/* Quote it in the reply; react to a customer's message. */
	html_open(h, "div");
	html_attr(h, "class", "bubble-actions");
	html_open(h, "a");
	html_attr(h, "class", "quote-link");
	html_attrf(h, "href", "/admin/conversations/%lld?reply_to=%lld#reply",
	    cid, m.id);
	html_attrf(h, "aria-label", "Quote message %lld in the reply", m.id);
	html_str(h, "Reply");
	html_close(h);
	if (!out && m.type != NULL && strcmp(m.type, "reaction") != 0 &&
	    strcmp(m.type, "system") != 0) {
		snprintf(href, sizeof(href), "/admin/conversations/%lld/react",
		    cid);
		html_open(h, "form");
		html_attr(h, "method", "post");
		html_attr(h, "action", href);
		html_attr(h, "class", "react");
		html_attrf(h, "id", "react-%lld", m.id);
		admin_csrf_field(p);
		snprintf(href, sizeof(href), "%lld", m.id);
		admin_hidden(h, "message_id", href);
		if (sender != NULL)
			admin_hidden(h, "sender", sender);
		for (k = 0; conv_emoji[k] != NULL; k++) {
			html_open(h, "button");
			html_attr(h, "type", "submit");
			html_attr(h, "name", "emoji");
			html_attr(h, "value", conv_emoji[k]);
			html_attrf(h, "aria-label", "React with %s",
			    conv_emoji[k]);
			html_str(h, conv_emoji[k]);
			html_close(h);
		}
		html_close(h);
	}
	html_close(h);
	html_close(h);
}

static void
conv_field(struct html *h, const char *label, const char *value)
{
	if (value == NULL || *value == '\0')
		return;
	html_elem(h, "dt", label);
	html_elem(h, "dd", value);
}

/* Who the customer is, the conversation's state and its assignee. */
static void
conv_identity(struct html *h, const struct conv_contact *c)
{
	html_open(h, "dl");
	html_attr(h, "class", "fields identity");
	conv_field(h, "Name", c->name);
	conv_field(h, "Username", c->username);
	conv_field(h, "Phone", c->phone);
	conv_field(h, "WhatsApp user id", c->user_id);
	conv_field(h, "Parent user id", c->parent);
	html_elem(h, "dt", "State");
	html_open(h, "dd");
	html_attr(h, "id", "conv-state");
	admin_badge(h, c->state);
	html_close(h);
	html_elem(h, "dt", "Assignee");
	html_open(h, "dd");
	html_attr(h, "id", "conv-assignee");
	if (c->assignee != NULL)
		html_str(h, c->assignee);
	else
		html_elemc(h, "span", "muted", "nobody");
	html_close(h);
	if (c->last_inbound != NULL) {
		html_elem(h, "dt", "Last customer message");
		html_open(h, "dd");
		admin_time(h, c->last_inbound);
		html_close(h);
	}
	html_close(h);
}

/* Resolve or reopen, assign to me, assign to anyone (users: id, name). */
static void
conv_actions(struct admin_page *p, const struct conv_contact *c,
    const PGresult *users)
{
	struct html	*h = &p->h;
	char		 url[80], me[24];
	const char	*id;
	int		 i, resolved, mine;

	resolved = strcmp(c->state, "resolved") == 0;
	mine = c->assignee_id != 0 && c->assignee_id == p->sess->user_id;
	html_open(h, "div");
	html_attr(h, "class", "actions conv-actions");

	snprintf(url, sizeof(url), "/admin/conversations/%lld/state", c->id);
	admin_post_form(p, url, "inline");
	admin_hidden(h, "state", resolved ? "open" : "resolved");
	html_open(h, "button");
	html_attr(h, "type", "submit");
	html_attr(h, "id", resolved ? "reopen" : "resolve");
	html_attr(h, "class", resolved ? NULL : "primary");
	html_str(h, resolved ? "Reopen" : "Resolve");
	html_close(h);
	html_close(h);

	snprintf(url, sizeof(url), "/admin/conversations/%lld/assign", c->id);
	if (!mine) {
		snprintf(me, sizeof(me), "%lld", p->sess->user_id);
		admin_post_form(p, url, "inline");
		admin_hidden(h, "assignee", me);
		html_open(h, "button");
		html_attr(h, "type", "submit");
		html_attr(h, "id", "assign-me");
		html_str(h, "Assign to me");
		html_close(h);
		html_close(h);
	}

	admin_post_form(p, url, "inline assign");
	html_open(h, "label");
	html_attr(h, "for", "assignee");
	html_str(h, "Assignee ");
	html_close(h);
	html_open(h, "select");
	html_attr(h, "id", "assignee");
	html_attr(h, "name", "assignee");
	html_open(h, "option");
	html_attr(h, "value", "");
	if (c->assignee_id == 0)
		html_flag(h, "selected");
	html_str(h, "Nobody");
	html_close(h);
	for (i = 0; i < PQntuples(users); i++) {
		id = PQgetvalue(users, i, 0);
		html_open(h, "option");
		html_attr(h, "value", id);
		if (strtoll(id, NULL, 10) == c->assignee_id)
			html_flag(h, "selected");
		html_str(h, PQgetvalue(users, i, 1));
		html_close(h);
	}
	html_close(h);			/* select */
	html_open(h, "button");
	html_attr(h, "type", "submit");
	html_attr(h, "id", "assign");
	html_str(h, "Assign");
	html_close(h);
	html_close(h);			/* form */
	html_close(h);			/* div */
}

/* The 24-hour window: open until when, or closed since when. */
static void
conv_window(struct html *h, const PGresult *cres, int policy)
{
	const char	*ends;
	int		 open;

	open = strcmp(PQgetvalue(cres, 0, CONTACT_COL_WINDOW_OPEN), "t") == 0;
	ends = db_get(cres, 0, CONTACT_COL_WINDOW_ENDS);
	html_open(h, "p");
	html_attr(h, "class", open ? "window window-open" :
	    "window window-closed");
	html_attr(h, "id", "window");
	if (ends == NULL)
		html_str(h, "The customer has never written: only a template "
		    "can reach them.");
	else if (open) {
		html_str(h, "Free-form replies until ");
		admin_time(h, ends);
		html_str(h, " (WhatsApp's 24-hour window since the customer's "
		    "last message).");
	} else {
		html_str(h, "The 24-hour window closed at ");
		admin_time(h, ends);
		html_str(h, ": only a template can reach the customer now.");
	}
	if (!open && !policy)
		html_str(h, " (Not enforced with the simulated provider.)");
	html_close(h);
}

/* The content of message id among the thread's rows, or NULL. */
static const char *
conv_quoted(const PGresult *res, int n, const char *id)
{
	int	i;

	for (i = 0; i < n; i++)
		if (strcmp(PQgetvalue(res, i, MSG_COL_ID), id) == 0)
			return db_get(res, i, MSG_COL_CONTENT);
	return NULL;
}

/*
 * The reply box: posts to the send form, which comes back here.  A
 * contact without a phone is written to by its contact id.
 */
static void
conv_reply(struct admin_page *p, const struct conv_contact *c,
    const char *sender, const char *quote_id, const char *quote)
{
	struct html	*h = &p->h;
	char		 id[24];

	html_open(h, "form");
	html_attr(h, "class", "reply");
	html_attr(h, "id", "reply");
	html_attr(h, "method", "post");
	html_attr(h, "action", "/admin/messages/new");
	html_attr(h, "enctype", "multipart/form-data");
	admin_csrf_field(p);
	admin_hidden(h, "back", "conversation");
	if (c->phone != NULL)
		admin_hidden(h, "receiver", c->phone);
	else {
		snprintf(id, sizeof(id), "%lld", c->id);
		admin_hidden(h, "contact_id", id);
	}
	if (sender != NULL)
		admin_hidden(h, "sender", sender);
	/* Quoting a message: it shows above the box, with a way back. */
	if (quote_id != NULL) {
		admin_hidden(h, "reply_to", quote_id);
		html_open(h, "blockquote");
		html_attr(h, "class", "quote reply-quote");
		html_elemc(h, "span", "quote-who", "Replying to");
		html_str(h, " ");
		if (quote != NULL)
			admin_short(h, quote, QUOTE_SHORT);
		else
			html_strf(h, "#%s", quote_id);
		html_str(h, " ");
		html_open(h, "a");
		html_attrf(h, "href", "/admin/conversations/%lld#reply", c->id);
		html_str(h, "Cancel");
		html_close(h);
		html_close(h);
	}
	html_open(h, "label");
	html_attr(h, "for", "reply-content");
	html_attr(h, "class", "visually-hidden");
	html_str(h, "Reply");
	html_close(h);
	html_open(h, "textarea");
	html_attr(h, "id", "reply-content");
	html_attr(h, "name", "content");
	html_attr(h, "rows", "3");
	html_attrf(h, "maxlength", "%d", MESSAGE_MAX_CHARS);
	html_attr(h, "placeholder", "Write a reply\xe2\x80\xa6");
	html_close(h);
	html_open(h, "label");
	html_attr(h, "for", "reply-file");
	html_attr(h, "class", "visually-hidden");
	html_str(h, "Attach a file");
	html_close(h);
	admin_file_input(h, "reply-file");
	admin_submit(h, "primary", "Send");
	html_close(h);
}

/*
 * An old conversation URL (the customer's phone digits): 303 to the
 * contact with that phone.  0 after answering (the redirect, or 503/500
 * when the database failed); -1 when the argument is no known contact's
 * phone, with nothing answered.
 */
static int
conv_redirect_phone(struct app *a)
{
	PGresult	*res = NULL;
	const char	*p[1];
	char		 e164[VALID_PHONE_MAX], loc[64];
	size_t		 len;
	enum db_rc	 rc;
	int		 ret = -1;

	len = strlen(a->args[0]);
	if (len < 7 || len > 15 || valid_phone(a->args[0], len, e164) == -1)
		return -1;
	p[0] = e164;
	if ((rc = db_exec(a->db, STMT_ADMIN_CONTACT_BY_PHONE, 1, p, &res)) !=
	    DB_OK) {
		app_db_error(a, rc);
		return 0;
	}
	if (PQntuples(res) == 1) {
		snprintf(loc, sizeof(loc), "/admin/conversations/%s",
		    PQgetvalue(res, 0, 0));
		admin_redirect(a, loc);
		ret = 0;
	}
	db_res_free(res);
	return ret;
}

void
page_conversations_show(struct app *a)
{
	struct admin_page	 pg;
	struct html		*h = &pg.h;
	struct query		 q;
	struct message		 m;
	struct conv_contact	 c;
	struct compose_to	 to;
	PGresult		*cres = NULL, *res = NULL, *users = NULL;
	const char		*p[3], *v, *sender = NULL, *ours, *done;
	char			 e164[VALID_PHONE_MAX], lim[24], href[80];
	char			 idbuf[24];
	long long		 before = 0, qid;
	int			 i, n, more, open;
	enum db_rc		 rc;

	query_parse(a->req->arena, a->req->query, &q);
	p[0] = a->args[0];
	/*
	 * Read before the thread is fetched: a message that arrives in
	 * between is shown and still counted unread, never the reverse.
	 */
	p[1] = a->cfg->read_receipts ? "t" : "f";
	if ((rc = db_exec(a->db, STMT_ADMIN_CONTACT_OPEN, 2, p, &cres)) !=
	    DB_OK) {
		app_db_error(a, rc);
		goto out;
	}
	if (PQntuples(cres) != 1) {
		if (conv_redirect_phone(a) == -1)
			admin_error(a, 404, "Not found",
			    "There is no such conversation.");
		goto out;
	}
	memset(&c, 0, sizeof(c));
	c.id = strtoll(PQgetvalue(cres, 0, CONTACT_COL_ID), NULL, 10);
	c.phone = db_get(cres, 0, CONTACT_COL_PHONE);
	c.user_id = db_get(cres, 0, CONTACT_COL_USER_ID);
	c.parent = db_get(cres, 0, CONTACT_COL_PARENT);
	c.username = db_get(cres, 0, CONTACT_COL_USERNAME);
	c.name = db_get(cres, 0, CONTACT_COL_NAME);
	c.state = PQgetvalue(cres, 0, CONTACT_COL_STATE);
	if ((v = db_get(cres, 0, CONTACT_COL_ASSIGNEE_ID)) != NULL)
		c.assignee_id = strtoll(v, NULL, 10);
	c.assignee = db_get(cres, 0, CONTACT_COL_ASSIGNEE);
	c.unread = strtoll(PQgetvalue(cres, 0, CONTACT_COL_UNREAD), NULL, 10);
	c.last_inbound = db_get(cres, 0, CONTACT_COL_LAST_INBOUND);

	p[1] = NULL;
	if ((v = query_get(&q, "before_id")) != NULL && *v != '\0') {
		if (valid_uint(v, 1, APP_ID_MAX, &before) == -1) {
			admin_error(a, 400, "Bad request",
			    "before_id must be a positive integer.");
			goto out;
		}
		p[1] = v;
	}
	snprintf(lim, sizeof(lim), "%d", THREAD_LIMIT + 1);
	p[2] = lim;
	if ((rc = db_exec(a->db, STMT_ADMIN_CONTACT_THREAD, 3, p, &res)) !=
	    DB_OK) {
		app_db_error(a, rc);
		goto out;
	}
	snprintf(lim, sizeof(lim), "%d", USERS_LIMIT);
	p[0] = lim;
	if ((rc = db_exec(a->db, STMT_ADMIN_USERS, 1, p, &users)) != DB_OK) {
		app_db_error(a, rc);
		goto out;
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
	for (i = 0; i < n && sender == NULL; i++) {
		model_message_fill(&m, res, i);
		ours = strcmp(m.direction, "inbound") == 0 ? m.receiver :
		    m.sender;
		if (ours != NULL && valid_phone(ours, strlen(ours), e164) == 0)
			sender = arena_strdup(a->req->arena, e164);
	}

	admin_page_begin(&pg, a, conv_who(c.name, c.phone, c.username,
	    c.user_id), ADMIN_NAV_CONVERSATIONS);
	html_open(h, "div");
	html_attr(h, "class", "page-head");
	html_open(h, "h1");
	html_str(h, conv_who(c.name, c.phone, c.username, c.user_id));
	if (strcmp(c.state, "resolved") == 0) {
		html_str(h, " ");
		admin_badge(h, c.state);
	}
	html_close(h);
	html_open(h, "a");
	html_attr(h, "class", "button subtle");
	html_attr(h, "href", "/admin/conversations/");
	html_str(h, "All conversations");
	html_close(h);
	html_close(h);
	if (query_get(&q, "sent") != NULL)
		admin_notice(h, 0, "Reply queued for delivery.");
	if ((done = query_get(&q, "done")) != NULL) {
		if (strcmp(done, "resolved") == 0)
			admin_notice(h, 0, "Conversation resolved.");
		else if (strcmp(done, "open") == 0)
			admin_notice(h, 0, "Conversation reopened.");
		else if (strcmp(done, "assigned") == 0)
			admin_notice(h, 0, "Assignee changed.");
		else if (strcmp(done, "reacted") == 0)
			admin_notice(h, 0, "Reaction sent.");
	}

	html_open(h, "section");
	html_attr(h, "class", "panel conv-head");
	html_attr(h, "aria-label", "Customer");
	conv_identity(h, &c);
	/* The business number the conversation is with. */
	if ((v = db_get(cres, 0, CONTACT_COL_NUMBER)) != NULL) {
		html_open(h, "p");
		html_attr(h, "class", "conv-number");
		html_str(h, "With your number ");
		html_elemc(h, "strong", "number", v);
		html_close(h);
	}
	conv_actions(&pg, &c, users);
	html_close(h);
	conv_window(h, cres, a->cfg->window_policy);

	if (more) {
		model_message_fill(&m, res, n - 1);
		snprintf(href, sizeof(href),
		    "/admin/conversations/%lld?before_id=%lld", c.id, m.id);
		html_open(h, "p");
		html_attr(h, "class", "earlier");
		html_open(h, "a");
		html_attr(h, "href", href);
		html_str(h, "Earlier messages");
		html_close(h);
		html_close(h);
	}
	if (n == 0)
		html_elemc(h, "p", "empty", "No messages with this customer "
		    "yet. Write the first one below.");
	html_open(h, "ol");
	html_attr(h, "class", "thread");
	html_attr(h, "aria-label", "Messages, oldest first");
	for (i = n - 1; i >= 0; i--)
		conv_bubble(&pg, c.id, sender, res, i);
	html_close(h);
	if (before > 0) {
		snprintf(href, sizeof(href), "/admin/conversations/%lld",
		    c.id);
		html_open(h, "p");
		html_attr(h, "class", "earlier");
		html_open(h, "a");
		html_attr(h, "href", href);
		html_str(h, "Latest messages");
		html_close(h);
		html_close(h);
	}
	/*
	 * The reply area: a template when the window is closed (and that is
	 * enforced) or one was asked for; else the reply box, quoting a
	 * message of this thread when asked to.
	 */
	snprintf(href, sizeof(href), "/admin/conversations/%lld", c.id);
	memset(&to, 0, sizeof(to));
	to.back = "conversation";
	to.receiver = c.phone;
	snprintf(idbuf, sizeof(idbuf), "%lld", c.id);
	to.contact_id = c.phone == NULL ? idbuf : NULL;
	to.sender = sender;
	v = query_get(&q, "reply_to");
	if (v != NULL && valid_uint(v, 1, APP_ID_MAX, &qid) == 0)
		to.reply_to = v;
	open = strcmp(PQgetvalue(cres, 0, CONTACT_COL_WINDOW_OPEN), "t") == 0;
	if ((!open && a->cfg->window_policy) ||
	    query_get(&q, "template") != NULL) {
		if (compose_template(&pg, href, NULL, &to, &q) == -1) {
			buf_cleanup(&pg.buf);
			goto out;
		}
		if (open || !a->cfg->window_policy) {
			html_open(h, "p");
			html_attr(h, "class", "compose-switch");
			html_open(h, "a");
			html_attrf(h, "href", "%s#reply", href);
			html_str(h, "Write a free-form reply instead");
			html_close(h);
			html_close(h);
		}
	} else {
		conv_reply(&pg, &c, sender, to.reply_to, to.reply_to == NULL ?
		    NULL : conv_quoted(res, n, to.reply_to));
		html_open(h, "p");
		html_attr(h, "class", "compose-switch");
		html_open(h, "a");
		html_attrf(h, "href", "%s?template=#template", href);
		html_str(h, "Send a template instead");
		html_close(h);
		html_close(h);
	}
	admin_page_end(&pg, 200);
out:
	db_res_free(users);
	db_res_free(res);
	db_res_free(cres);
}

/* 303 back to conversation id, saying what was done. */
static void
conv_done(struct app *a, long long id, const char *done)
{
	char	loc[96];

	snprintf(loc, sizeof(loc), "/admin/conversations/%lld?done=%s", id,
	    done);
	admin_redirect(a, loc);
}

void
page_conversations_state(struct app *a)
{
	PGresult	*res = NULL;
	const char	*p[2], *state;
	long long	 id;
	enum db_rc	 rc;

	id = strtoll(a->args[0], NULL, 10);
	state = query_get(&a->form, "state");
	if (state == NULL || (strcmp(state, "open") != 0 &&
	    strcmp(state, "resolved") != 0)) {
		admin_error(a, 422, "Not changed",
		    "state must be open or resolved.");
		return;
	}
	p[0] = a->args[0];
	p[1] = state;
	if ((rc = db_exec(a->db, STMT_ADMIN_CONTACT_STATE, 2, p, &res)) !=
	    DB_OK) {
		app_db_error(a, rc);
		return;
	}
	if (PQntuples(res) != 1)
		admin_error(a, 404, "Not found",
		    "There is no such conversation.");
	else {
		log_kv(LOG_INFO, "admin conversation state", "user",
		    a->sess->username, "#contact_id", a->args[0], "state",
		    state, NULL);
		conv_done(a, id, state);
	}
	db_res_free(res);
}

void
page_conversations_assign(struct app *a)
{
	PGresult	*res = NULL;
	const char	*p[2], *v;
	long long	 id, uid;
	enum db_rc	 rc;

	id = strtoll(a->args[0], NULL, 10);
	p[0] = a->args[0];
	p[1] = NULL;
	if ((v = query_get(&a->form, "assignee")) == NULL ||
	    (*v != '\0' && valid_uint(v, 1, USER_ID_MAX, &uid) == -1)) {
		admin_error(a, 422, "Not changed",
		    "assignee must be a user id, or empty for nobody.");
		return;
	}
	if (*v != '\0')
		p[1] = v;
	if ((rc = db_exec(a->db, STMT_ADMIN_CONTACT_ASSIGN, 2, p, &res)) !=
	    DB_OK) {
		app_db_error(a, rc);
		return;
	}
	if (PQntuples(res) != 1 || strcmp(PQgetvalue(res, 0, 0), "t") != 0)
		admin_error(a, 404, "Not found",
		    "There is no such conversation.");
	else if (strcmp(PQgetvalue(res, 0, 1), "t") != 0)
		admin_error(a, 422, "Not changed",
		    "There is no such user.");
	else {
		log_kv(LOG_INFO, "admin conversation assign", "user",
		    a->sess->username, "#contact_id", a->args[0],
		    "assignee", *v != '\0' ? v : "-", NULL);
		conv_done(a, id, "assigned");
	}
	db_res_free(res);
}

/*
 * A reaction from the thread (one of conv_emoji) to customer message
 * "message_id" of conversation {id}: sent like the API's reaction (the
 * message must be of this conversation, the 24-hour window must be open
 * where that is enforced), then back to the message.
 */
void
page_conversations_react(struct app *a)
{
	struct message_input	 in;
	struct send_extras	 x;
	struct app_err		 e;
	PGresult		*res = NULL;
	const char		*mid, *emoji, *sender;
	char			 loc[96];
	long long		 cid, id;
	enum db_rc		 rc;
	int			 k, offered = 0;

	if (valid_uint(a->args[0], 1, APP_ID_MAX, &cid) == -1) {
		admin_error(a, 404, "Not found", "There is no such "
		    "conversation.");
		return;
	}
	mid = query_get(&a->form, "message_id");
	emoji = query_get(&a->form, "emoji");
	for (k = 0; emoji != NULL && conv_emoji[k] != NULL; k++)
		offered |= strcmp(emoji, conv_emoji[k]) == 0;
	if (!offered || mid == NULL ||
	    valid_uint(mid, 1, APP_ID_MAX, &id) == -1) {
		admin_error(a, 400, "Bad request", "Choose one of the "
		    "reactions under a customer's message.");
		return;
	}
	memset(&in, 0, sizeof(in));
	sender = query_get(&a->form, "sender");
	if (sender != NULL && *sender != '\0' &&
	    valid_phone(sender, strlen(sender), in.sender) == 0)
		;
	else if (a->cfg->business_number[0] != '\0')
		snprintf(in.sender, sizeof(in.sender), "%s",
		    a->cfg->business_number);
	else {
		admin_error(a, 422, "Not sent", "There is no business number "
		    "to react from (set WADESK_BUSINESS_NUMBER).");
		return;
	}
	snprintf(in.contact_id, sizeof(in.contact_id), "%lld", cid);
	memset(&x, 0, sizeof(x));
	snprintf(x.react_to, sizeof(x.react_to), "%lld", id);
	x.emoji = emoji;
	switch (model_send_prepare(a, &x, &in, &e, &rc)) {
	case 0:
		break;
	case -1:
		admin_error(a, 422, "Not sent", e.message);
		return;
	default:
		app_db_error(a, rc);
		return;
	}
	if ((rc = model_message_send(a->db, &in, &res)) != DB_OK) {
		app_db_error(a, rc);
		return;
	}
	if (PQntuples(res) != 1) {
		db_res_free(res);
		admin_error(a, 404, "Not found", "There is no such "
		    "conversation.");
		return;
	}
	log_kv(LOG_INFO, "admin reaction", "user", a->sess->username,
	    "#message_id", PQgetvalue(res, 0, MSG_COL_ID), NULL);
	db_res_free(res);
	snprintf(loc, sizeof(loc),
	    "/admin/conversations/%lld?done=reacted#m%lld", cid, id);
	admin_redirect(a, loc);
}
