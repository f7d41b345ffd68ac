#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "log.h"
#include "model_media.h"
#include "model_message.h"
#include "multipart.h"
#include "page_compose.h"
#include "page_messages.h"
#include "stmts.h"
#include "wa_errors.h"

#define LIST_LIMIT	50
#define LIST_SHORT	80	/* code points of content in the list */

/* The send form's labels, by enum msg_field (the names are the API's). */
static const char *const send_labels[MSG_F__MAX] = {
	[MSG_F_SENDER] = "Sender (your number)",
	[MSG_F_RECEIVER] = "Receiver",
	[MSG_F_CONTACT_ID] = NULL,	/* a hidden field, when given */
	[MSG_F_CONTENT] = "Message",
	[MSG_F_MEDIA] = NULL,		/* a file kept across a retry */
};

struct list_filter {
	const char	*status;
	const char	*direction;
	const char	*q;
	const char	*number;	/* a business number's id */
	const PGresult	*numbers;	/* admin_numbers() */
};

static void	list_chips(struct html *, const struct list_filter *,
		    const struct admin_counts *);
static void	list_form(struct html *, const struct list_filter *);
static void	list_table(struct html *, const PGresult *, int, int, int);
static void	list_link(struct html *, const struct list_filter *,
		    const char *, long long, const char *, const char *);
static int	send_sender_choice(const PGresult *, const char *);
static void	send_render(struct app *, int, const char *const *,
		    const char *const *, const char *);
static char	*send_crlf(struct arena *, const char *, size_t *);
static int	send_file(struct app *, const char **, const char **);
static void	show_events(struct html *, const PGresult *);
static int	send_extras_form(struct app *, struct message_input *,
		    const char **);
static void	show_field(struct html *, const char *, const char *);

static void
list_chips(struct html *h, const struct list_filter *f,
    const struct admin_counts *c)
{
	struct buf	url;
	int		i;

	buf_init(&url);
	html_open(h, "nav");
	html_attr(h, "class", "chips");
	html_attr(h, "aria-label", "Messages per status");
	admin_url(&url, "/admin/messages/", "direction", f->direction, "q",
	    f->q, "number", f->number, NULL);
	html_open(h, "a");
	html_attr(h, "href", url.data);
	html_attr(h, "class", "chip");
	if (f->status == NULL)
		html_attr(h, "aria-current", "true");
	html_str(h, "all");
	html_close(h);
	for (i = 0; i < MSG_ST__MAX; i++) {
		buf_reset(&url);
		admin_url(&url, "/admin/messages/", "status", message_statuses[i],
		    "direction", f->direction, "q", f->q, "number", f->number,
		    NULL);
		html_open(h, "a");
		html_attr(h, "href", url.data);
		html_attrf(h, "class", "chip chip-%s", message_statuses[i]);
		if (f->status != NULL &&
		    strcmp(f->status, message_statuses[i]) == 0)
			html_attr(h, "aria-current", "true");
		html_str(h, message_statuses[i]);
		html_str(h, " ");
		html_open(h, "span");
		html_attr(h, "class", "count");
		admin_count(h, c->n[i], c->approx[i]);
		html_close(h);
		html_close(h);
	}
	html_close(h);
	buf_cleanup(&url);
}

static void
list_form(struct html *h, const struct list_filter *f)
{
	static const char *const dirs[] = { "inbound", "outbound" };
	size_t	i;

	html_open(h, "form");
	html_attr(h, "class", "filters");
	html_attr(h, "method", "get");
	html_attr(h, "action", "/admin/messages/");
	html_attr(h, "role", "search");

	html_open(h, "label");
	html_str(h, "Status ");
	html_open(h, "select");
	html_attr(h, "name", "status");
	html_attr(h, "id", "filter-status");
	html_open(h, "option");
	html_attr(h, "value", "");
	html_str(h, "any");
	html_close(h);
	for (i = 0; i < MSG_ST__MAX; i++) {
		html_open(h, "option");
		html_attr(h, "value", message_statuses[i]);
		if (f->status != NULL &&
		    strcmp(f->status, message_statuses[i]) == 0)
			html_flag(h, "selected");
		html_str(h, message_statuses[i]);
		html_close(h);
	}
	html_close(h);
	html_close(h);

	html_open(h, "label");
	html_str(h, "Direction ");
	html_open(h, "select");
	html_attr(h, "name", "direction");
	html_attr(h, "id", "filter-direction");
	html_open(h, "option");
	html_attr(h, "value", "");
	html_str(h, "any");
	html_close(h);
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		html_open(h, "option");
		html_attr(h, "value", dirs[i]);
		if (f->direction != NULL && strcmp(f->direction, dirs[i]) == 0)
			html_flag(h, "selected");
		html_str(h, dirs[i]);
		html_close(h);
	}
	html_close(h);
	html_close(h);

	if (f->numbers != NULL && PQntuples(f->numbers) > 0) {
		html_open(h, "label");
		html_str(h, "Number ");
		admin_number_select(h, f->numbers, "number", "filter-number",
		    "any", f->number, 0);
		html_close(h);
	}

	html_open(h, "label");
	html_attr(h, "class", "grow");
	html_str(h, "Search ");
	html_void(h, "input");
	html_attr(h, "type", "search");
	html_attr(h, "name", "q");
	html_attr(h, "id", "filter-q");
	html_attr(h, "value", f->q ? f->q : "");
	html_attr(h, "placeholder", "text, sender or receiver");
	html_attrf(h, "maxlength", "%d", MESSAGE_SEARCH_MAX);
	html_close(h);

	admin_submit(h, NULL, "Filter");
	html_open(h, "a");
	html_attr(h, "class", "button subtle");
	html_attr(h, "href", "/admin/messages/");
	html_str(h, "Clear");
	html_close(h);
	html_close(h);
}

/* Rows [from, to) of res, or in reverse when step is -1. */
static void
list_table(struct html *h, const PGresult *res, int from, int to, int step)
{
	struct message	m;
	char		href[48];
	int		i;

	html_open(h, "div");
	html_attr(h, "class", "table-wrap");
	html_open(h, "table");
	html_attr(h, "class", "list messages");
	html_open(h, "thead");
	html_open(h, "tr");
	html_elem(h, "th", "ID");
	html_elem(h, "th", "Time (UTC)");
	html_elem(h, "th", "Direction");
	html_elem(h, "th", "Sender");
	html_elem(h, "th", "Receiver");
	html_elem(h, "th", "Content");
	html_elem(h, "th", "Status");
	html_close(h);
	html_close(h);
	html_open(h, "tbody");
	for (i = from; i != to; i += step) {
		model_message_fill(&m, res, i);
		snprintf(href, sizeof(href), "/admin/messages/%lld", m.id);
		html_open(h, "tr");
		html_open(h, "td");
		html_attr(h, "class", "num");
		html_open(h, "a");
		html_attr(h, "href", href);
		html_strf(h, "%lld", m.id);
		html_close(h);
		html_close(h);
		html_open(h, "td");
		html_attr(h, "class", "time");
		admin_time(h, m.timestamp);
		html_close(h);
		html_open(h, "td");
		html_open(h, "span");
		html_attrf(h, "class", "dir dir-%s", m.direction);
		html_str(h, m.direction);
		html_close(h);
		html_close(h);
		html_elemc(h, "td", "phone", m.sender);
		html_elemc(h, "td", "phone", m.receiver);
		html_open(h, "td");
		html_attr(h, "class", "content");
		html_open(h, "a");
		html_attr(h, "href", href);
		admin_short(h, m.content, LIST_SHORT);
		html_close(h);
		html_close(h);
		html_open(h, "td");
		admin_badge(h, m.status);
		html_close(h);
		html_close(h);
	}
	html_close(h);
	html_close(h);
	html_close(h);
}

static void
list_link(struct html *h, const struct list_filter *f, const char *key,
    long long id, const char *rel, const char *label)
{
	struct buf	url;
	char		num[24];

	snprintf(num, sizeof(num), "%lld", id);
	buf_init(&url);
	admin_url(&url, "/admin/messages/", "status", f->status, "direction",
	    f->direction, "q", f->q, "number", f->number, key, num, NULL);
	html_open(h, "a");
	html_attr(h, "class", "button");
	html_attr(h, "rel", rel);
	html_attr(h, "href", url.data);
	html_str(h, label);
	html_close(h);
	buf_cleanup(&url);
}

void
page_messages_list(struct app *a)
{
	struct admin_page	 pg;
	struct html		*h = &pg.h;
	struct query		 q;
	struct list_filter	 f;
	PGresult		*res = NULL;
	const char		*p[7] = { NULL, NULL, NULL, NULL, NULL, NULL,
				    NULL };
	const char		*v, *bad = NULL;
	char			 lim[24];
	struct admin_counts	 counts;
	long long		 before = 0, after = 0, number;
	PGresult		*nums = NULL;
	int			 n, shown, newer, older;
	enum db_rc		 rc;

	memset(&f, 0, sizeof(f));
	query_parse(a->req->arena, a->req->query, &q);
	if (q.invalid)
		bad = "The address could not be decoded.";
	if ((v = query_get(&q, "status")) != NULL && *v != '\0') {
		if (!model_message_status_valid(v))
			bad = "Unknown status.";
		f.status = p[0] = v;
	}
	if ((v = query_get(&q, "direction")) != NULL && *v != '\0') {
		if (!model_message_direction_valid(v))
			bad = "Direction must be inbound or outbound.";
		f.direction = p[1] = v;
	}
	if ((v = query_get(&q, "q")) != NULL && *v != '\0') {
		if (!model_message_search_valid(v))
			bad = "The search text must be 3 to 200 characters, "
			    "without control characters.";
		else {
			f.q = v;
			p[3] = model_message_like(a->req->arena, v);
		}
	}
	if ((v = query_get(&q, "number")) != NULL && *v != '\0') {
		if (valid_uint(v, 1, APP_ID_MAX, &number) == -1)
			bad = "number must be a business number's id.";
		f.number = p[6] = v;
	}
	if ((v = query_get(&q, "before_id")) != NULL && *v != '\0' &&
	    valid_uint(v, 1, APP_ID_MAX, &before) == -1)
		bad = "before_id must be a positive integer.";
	if ((v = query_get(&q, "after_id")) != NULL && *v != '\0' &&
	    valid_uint(v, 0, APP_ID_MAX, &after) == -1)
		bad = "after_id must be a whole number.";
	if (bad != NULL) {
		admin_error(a, 400, "Bad request", bad);
		return;
	}
	if (admin_counts(a, &counts) == -1 || admin_numbers(a, &nums) == -1)
		return;
	f.numbers = nums;
	snprintf(lim, sizeof(lim), "%d", LIST_LIMIT + 1);
	p[5] = lim;
	newer = older = 0;
	n = 0;
	if (query_get(&q, "after_id") != NULL && before == 0) {
		/* Newer: ascending from after_id, shown reversed. */
		p[4] = query_get(&q, "after_id");
		if ((rc = model_message_list(a->db, STMT_MSG_LIST_NEWER, p,
		    &res)) != DB_OK)
			goto dberr;
		if ((n = PQntuples(res)) > LIST_LIMIT) {
			newer = older = 1;
		} else {
			/* Back at the top: the first page, full. */
			db_res_free(res);
			res = NULL;
			p[4] = NULL;
		}
	}
	if (res == NULL) {
		if (before > 0)
			p[4] = query_get(&q, "before_id");
		if ((rc = model_message_list(a->db, STMT_MSG_LIST, p, &res)) !=
		    DB_OK)
			goto dberr;
		n = PQntuples(res);
		newer = before > 0 && n > 0;
		older = n > LIST_LIMIT;
	}
	shown = n > LIST_LIMIT ? LIST_LIMIT : n;

	admin_page_begin(&pg, a, "Messages", ADMIN_NAV_MESSAGES);
	admin_page_head(h, "Messages");
	list_chips(h, &f, &counts);
	list_form(h, &f);
	if (shown == 0)
		html_elemc(h, "p", "empty", "No messages match these filters.");
	else if (p[4] != NULL && before == 0)
		list_table(h, res, shown - 1, -1, -1);
	else
		list_table(h, res, 0, shown, 1);
	html_open(h, "nav");
	html_attr(h, "class", "pager");
	html_attr(h, "aria-label", "Pages");
	if (shown > 0 && newer)
		list_link(h, &f, "after_id", strtoll(PQgetvalue(res,
		    p[4] != NULL && before == 0 ? shown - 1 : 0, MSG_COL_ID),
		    NULL, 10), "prev", "\xe2\x86\x90 Newer");
	if (shown > 0 && older)
		list_link(h, &f, "before_id", strtoll(PQgetvalue(res,
		    p[4] != NULL && before == 0 ? 0 : shown - 1, MSG_COL_ID),
		    NULL, 10), "next", "Older \xe2\x86\x92");
	html_close(h);
	admin_page_end(&pg, 200);
	db_res_free(res);
	db_res_free(nums);
	return;
dberr:
	db_res_free(nums);
	app_db_error(a, rc);
}

/* Turns the CRLF line breaks HTML forms send into LF (arena copy). */
static char *
send_crlf(struct arena *arena, const char *s, size_t *len)
{
	char	*out, *o;

	out = o = arena_alloc(arena, strlen(s) + 1);
	for (; *s != '\0'; s++)
		if (!(s[0] == '\r' && s[1] == '\n'))
			*o++ = *s;
	*o = '\0';
	*len = (size_t)(o - out);
	return out;
}

/*
 * The send form with values (NULL: empty, the sender defaults to the
 * business number) and per-field errors (NULL: none); back is "conversation"
 * when the form came from a conversation's reply box.
 */
/*
 * Whether the sender is chosen from the business numbers of res (NULL:
 * none known): when one has a display, and sender (the value to show;
 * NULL or "": none) is one of them, else it stays a text field with what
 * was typed.
 */
static int
send_sender_choice(const PGresult *res, const char *sender)
{
	int	i, any = 0, found = 0;

	if (res == NULL)
		return 0;
	for (i = 0; i < PQntuples(res); i++) {
		if (PQgetisnull(res, i, 2))
			continue;
		any = 1;
		if (sender != NULL &&
		    strcmp(sender, PQgetvalue(res, i, 2)) == 0)
			found = 1;
	}
	return any && (found || sender == NULL || *sender == '\0');
}

static void
send_render(struct app *a, int status, const char *const *vals,
    const char *const *errs, const char *back)
{
	struct query		 q;
	struct compose_to	 to;
	struct admin_page	 p;
	struct html		*h = &p.h;
	char			 id[32];
	const char		*val;
	PGresult		*nums = NULL;
	int			 i, any = 0;

	for (i = 0; i < MSG_F__MAX; i++)
		any |= errs[i] != NULL;
	/* No list (the database failed): the sender is typed in. */
	if (db_exec(a->db, STMT_NUMBER_LIST, 0, NULL, &nums) != DB_OK) {
		db_res_free(nums);
		nums = NULL;
	}
	admin_page_begin(&p, a, "Send Message", ADMIN_NAV_MESSAGES);
	html_elem(h, "h1", "Send Message");
	if (errs[MSG_F_CONTACT_ID] != NULL)
		admin_notice(h, 1, errs[MSG_F_CONTACT_ID]);
	else if (any)
		admin_notice(h, 1, "The message was not sent: please correct "
		    "the fields marked below.");
	html_open(h, "form");
	html_attr(h, "method", "post");
	html_attr(h, "action", "/admin/messages/new");
	html_attr(h, "enctype", "multipart/form-data");
	html_attr(h, "class", "stack send-form");
	html_attr(h, "novalidate", "");
	admin_csrf_field(&p);
	if (back != NULL && strcmp(back, "conversation") == 0)
		admin_hidden(h, "back", "conversation");
	for (i = 0; i < MSG_F__MAX; i++) {
		if (send_labels[i] == NULL) {
			/* A conversation's reply to a contact without a phone. */
			if (vals[i] != NULL && *vals[i] != '\0')
				admin_hidden(h, message_fields[i], vals[i]);
			continue;
		}
		snprintf(id, sizeof(id), "field-%s", message_fields[i]);
		val = vals[i];
		if (i == MSG_F_SENDER && val == NULL)
			val = a->cfg->business_number;
		html_open(h, "div");
		html_attr(h, "class", errs[i] ? "field invalid" : "field");
		html_open(h, "label");
		html_attr(h, "for", id);
		html_str(h, send_labels[i]);
		html_close(h);
		if (i == MSG_F_SENDER && send_sender_choice(nums, val)) {
			/* The business numbers to choose from. */
			admin_number_select(h, nums, message_fields[i], id,
			    NULL, val, 1);
		} else if (i == MSG_F_CONTENT) {
			html_open(h, "textarea");
			html_attr(h, "rows", "6");
			html_attrf(h, "maxlength", "%d", MESSAGE_MAX_CHARS);
		} else {
			html_void(h, "input");
			html_attr(h, "type", "tel");
			html_attr(h, "value", val ? val : "");
			html_attr(h, "placeholder", "+15550001111");
			html_attr(h, "autocomplete", "off");
		}
		if (!(i == MSG_F_SENDER && send_sender_choice(nums, val))) {
			html_attr(h, "id", id);
			html_attr(h, "name", message_fields[i]);
		}
		if (errs[i] != NULL && !(i == MSG_F_SENDER &&
		    send_sender_choice(nums, val))) {
			html_attr(h, "aria-invalid", "true");
			html_attrf(h, "aria-describedby", "%s-error",
			    message_fields[i]);
		}
		if (i == MSG_F_CONTENT) {
			/* A textarea's first newline is dropped by parsers. */
			html_str(h, "\n");
			html_str(h, val ? val : "");
			html_close(h);
		}
		if (errs[i] != NULL) {
			html_open(h, "p");
			html_attr(h, "class", "field-error");
			html_attrf(h, "id", "%s-error", message_fields[i]);
			html_str(h, errs[i]);
			html_close(h);
		}
		if (i == MSG_F_SENDER && a->cfg->business_number[0] != '\0' &&
		    !send_sender_choice(nums, val)) {
			html_open(h, "p");
			html_attr(h, "class", "hint");
			html_str(h, "Defaults to the business number ");
			html_str(h, a->cfg->business_number);
			html_str(h, ".");
			html_close(h);
		}
		html_close(h);
	}
	html_open(h, "div");
	html_attr(h, "class", errs[MSG_F_MEDIA] ? "field invalid" : "field");
	html_open(h, "label");
	html_attr(h, "for", "field-file");
	html_str(h, "File (optional; the message becomes its caption)");
	html_close(h);
	admin_file_input(h, "field-file");
	if (errs[MSG_F_MEDIA] != NULL)
		html_elemc(h, "p", "field-error", errs[MSG_F_MEDIA]);
	if (vals[MSG_F_MEDIA] != NULL && *vals[MSG_F_MEDIA] != '\0')
		html_elemc(h, "p", "hint", "The file chosen before is kept; "
		    "choose another to replace it.");
	html_close(h);
	html_open(h, "div");
	html_attr(h, "class", "actions");
	admin_submit(h, "primary", "Send");
	html_open(h, "a");
	html_attr(h, "class", "button subtle");
	html_attr(h, "href", "/admin/messages/");
	html_str(h, "Cancel");
	html_close(h);
	html_close(h);
	html_close(h);			/* form */
	db_res_free(nums);
	/* Or a template (a customer whose 24-hour window is closed). */
	if (status == 200) {
		query_parse(a->req->arena, a->req->query, &q);
		memset(&to, 0, sizeof(to));
		to.receiver = query_get(&q, "to");
		if ((to.sender = query_get(&q, "from")) != NULL &&
		    *to.sender == '\0')
			to.sender = NULL;
		if (compose_template(&p, "/admin/messages/new", "to", &to,
		    &q) == -1) {
			buf_cleanup(&p.buf);
			return;
		}
	}
	admin_page_end(&p, status);
}

void
page_messages_new(struct app *a)
{
	struct query		 q;
	const char		*vals[MSG_F__MAX] = { NULL, NULL, NULL };
	const char		*errs[MSG_F__MAX] = { NULL, NULL, NULL };

	query_parse(a->req->arena, a->req->query, &q);
	vals[MSG_F_RECEIVER] = query_get(&q, "to");
	send_render(a, 200, vals, errs, NULL);
}

/*
 * The form's file ("file"), when one was chosen: stored as an upload, its
 * id into *id (a decimal string in the arena).  0 (stored, or no file),
 * 1 with *err set when the file cannot be sent (its type, its size),
 * -1 after answering (the database failed).
 */
static int
send_file(struct app *a, const char **id, const char **err)
{
	const struct multipart_part	*part;
	PGresult			*res = NULL;
	char				 type[MEDIA_TYPE_MAX + 1];
	char				 fname[MEDIA_FILENAME_MAX + 1];
	const char			*fn = NULL;
	enum db_rc			 rc;

	*err = NULL;
	if (a->files == NULL || (part = multipart_get(a->files, "file")) ==
	    NULL || part->filename == NULL ||
	    (part->filename[0] == '\0' && part->len == 0))
		return 0;
	if (part->len == 0) {
		*err = "The file is empty.";
		return 1;
	}
	if (part->type == NULL || media_type_norm(part->type, type,
	    sizeof(type)) == -1 || media_send_kind(type) == NULL) {
		*err = "WhatsApp does not take this kind of file: send an "
		    "image (JPEG, PNG), audio, video (MP4), a PDF, a text or "
		    "an Office document.";
		return 1;
	}
	if (media_filename_clean(part->filename, fname, sizeof(fname)) == 0)
		fn = fname;
	if ((rc = media_store(a->db, type, fn, part->data, part->len,
	    &res)) != DB_OK) {
		app_db_error(a, rc);
		return -1;
	}
	*id = arena_strdup(a->req->arena, PQgetvalue(res, 0, 0));
	log_kv(LOG_INFO, "admin upload", "user", a->sess->username,
	    "#media_id", *id, "type", type, NULL);
	db_res_free(res);
	return 0;
}

/*
 * The form's template ("template", "p.NAME") and quote ("reply_to") into
 * in, checked as the API checks them (model_send_prepare: the template,
 * the message quoted, the 24-hour window).  0; -1 with the reason for the
 * agent in *why; -2 after answering a database error.
 */
static int
send_extras_form(struct app *a, struct message_input *in, const char **why)
{
	struct send_extras	 x;
	struct json_object	*owned = NULL;
	struct app_err		 e;
	const char		*v;
	char			 err[160];
	long long		 id;
	enum db_rc		 rc;
	int			 k;

	memset(&x, 0, sizeof(x));
	if ((k = compose_extras(a, &a->form, &x, &owned, err, sizeof(err),
	    &rc)) == -2) {
		app_db_error(a, rc);
		return -2;
	}
	if (k == -1) {
		*why = arena_strdup(a->req->arena, err);
		return -1;
	}
	if ((v = query_get(&a->form, "reply_to")) != NULL && *v != '\0') {
		if (valid_uint(v, 1, APP_ID_MAX, &id) == -1) {
			json_object_put(owned);
			*why = "The message to quote is not valid.";
			return -1;
		}
		snprintf(x.reply_to, sizeof(x.reply_to), "%lld", id);
	}
	k = model_send_prepare(a, &x, in, &e, &rc);
	json_object_put(owned);
	if (k == -2) {
		app_db_error(a, rc);
		return -2;
	}
	if (k == -1) {
		*why = arena_strdup(a->req->arena, e.message);
		return -1;
	}
	return 0;
}

void
page_messages_send(struct app *a)
{
	struct message_raw	 raw;
	struct message_input	 in;
	struct message		 m;
	struct buf		 loc;
	PGresult		*res = NULL;
	const char		*vals[MSG_F__MAX], *errs[MSG_F__MAX], *back;
	const char		*field, *msg, *file_err, *tmpl, *why;
	enum db_rc		 rc;
	int			 f;

	back = query_get(&a->form, "back");
	for (f = 0; f < MSG_F__MAX; f++) {
		vals[f] = query_get(&a->form, message_fields[f]);
		raw.v[f] = NULL;
		raw.len[f] = 0;
		if (vals[f] != NULL && f == MSG_F_CONTENT)
			raw.v[f] = vals[f] = send_crlf(a->req->arena, vals[f],
			    &raw.len[f]);
		else if (vals[f] != NULL && *vals[f] != '\0') {
			raw.v[f] = vals[f];
			raw.len[f] = strlen(vals[f]);
		}
	}
	/* A template brings its own text (page_compose). */
	tmpl = query_get(&a->form, "template");
	if (tmpl != NULL && *tmpl != '\0' && raw.len[MSG_F_CONTENT] == 0) {
		raw.v[MSG_F_CONTENT] = "-";
		raw.len[MSG_F_CONTENT] = 1;
	}
	/* A file sent with the form: stored first, then named by its id. */
	if ((f = send_file(a, &vals[MSG_F_MEDIA], &file_err)) == -1)
		return;
	if (vals[MSG_F_MEDIA] != NULL) {
		raw.v[MSG_F_MEDIA] = vals[MSG_F_MEDIA];
		raw.len[MSG_F_MEDIA] = strlen(vals[MSG_F_MEDIA]);
	}
	/* Every wrong field gets its message at once. */
	if (model_message_validate(&raw, a->cfg->business_number, &in,
	    errs) > 0 || f == 1) {
		if (f == 1)
			errs[MSG_F_MEDIA] = file_err;
		send_render(a, 422, vals, errs, back);
		return;
	}
	if (in.media_id[0] != '\0') {
		switch (media_for_send(a->db, &in, &field, &msg, &rc)) {
		case 0:
			break;
		case 1:
			errs[strcmp(field, "content") == 0 ? MSG_F_CONTENT :
			    MSG_F_MEDIA] = msg;
			send_render(a, 422, vals, errs, back);
			return;
		default:
			app_db_error(a, rc);
			return;
		}
	}
	/* A template, a quote, the 24-hour window: as for the API. */
	switch (send_extras_form(a, &in, &why)) {
	case 0:
		break;
	case -1:
		errs[MSG_F_CONTENT] = why;
		send_render(a, 422, vals, errs, back);
		return;
	default:
		return;
	}
	if ((rc = model_message_send(a->db, &in, &res)) != DB_OK) {
		app_db_error(a, rc);
		return;
	}
	if (PQntuples(res) != 1) {
		/* No row: the contact_id names no contact. */
		db_res_free(res);
		errs[MSG_F_CONTACT_ID] = "There is no such contact.";
		send_render(a, 422, vals, errs, back);
		return;
	}
	model_message_fill(&m, res, 0);
	buf_init(&loc);
	if (back != NULL && strcmp(back, "conversation") == 0)
		buf_printf(&loc, "/admin/conversations/%lld?sent=1",
		    m.contact_id);
	else
		buf_printf(&loc, "/admin/messages/%lld?sent=1", m.id);
	log_kv(LOG_INFO, "admin send", "user", a->sess->username,
	    "#message_id", PQgetvalue(res, 0, MSG_COL_ID), NULL);
	admin_redirect(a, loc.data);
	buf_cleanup(&loc);
	db_res_free(res);
}

static void
show_field(struct html *h, const char *label, const char *value)
{
	html_elem(h, "dt", label);
	html_open(h, "dd");
	if (value != NULL)
		html_str(h, value);
	else
		html_elemc(h, "span", "muted", "\xe2\x80\x94");
	html_close(h);
}

static void
show_events(struct html *h, const PGresult *res)
{
	const char	*detail;
	int		 i;

	html_open(h, "ol");
	html_attr(h, "class", "timeline");
	for (i = 0; i < PQntuples(res); i++) {
		html_open(h, "li");
		admin_badge(h, PQgetvalue(res, i, 0));
		html_str(h, " ");
		admin_time(h, PQgetvalue(res, i, 1));
		if ((detail = db_get(res, i, 2)) != NULL)
			html_elemc(h, "code", "detail", detail);
		html_close(h);
	}
	html_close(h);
}

void
page_messages_show(struct app *a)
{
	struct admin_page	 pg;
	struct html		*h = &pg.h;
	struct message		 m;
	struct query		 q;
	PGresult		*res = NULL, *ev = NULL;
	const char		*p[1], *words;
	char			 title[48], url[64];
	enum db_rc		 rc;

	p[0] = a->args[0];
	if ((rc = db_exec(a->db, STMT_MSG_GET, 1, p, &res)) != DB_OK ||
	    (PQntuples(res) == 1 &&
	    (rc = db_exec(a->db, STMT_MSG_EVENTS, 1, p, &ev)) != DB_OK)) {
		app_db_error(a, rc);
		goto out;
	}
	if (PQntuples(res) != 1) {
		admin_error(a, 404, "Not found", "There is no such message.");
		goto out;
	}
	model_message_fill(&m, res, 0);
	query_parse(a->req->arena, a->req->query, &q);
	snprintf(title, sizeof(title), "Message #%lld", m.id);
	admin_page_begin(&pg, a, title, ADMIN_NAV_MESSAGES);
	html_open(h, "div");
	html_attr(h, "class", "page-head");
	html_open(h, "h1");
	html_str(h, title);
	html_str(h, " ");
	admin_badge(h, m.status);
	html_close(h);
	html_open(h, "a");
	html_attr(h, "class", "button subtle");
	html_attr(h, "href", "/admin/messages/");
	html_str(h, "All messages");
	html_close(h);
	html_close(h);
	if (query_get(&q, "sent") != NULL)
		admin_notice(h, 0, "Message queued for delivery.");
	else if (query_get(&q, "retried") != NULL)
		admin_notice(h, 0, "Message requeued for delivery.");

	html_open(h, "section");
	html_attr(h, "class", "panel");
	admin_media(h, m.media);
	html_open(h, "p");
	html_attr(h, "class", "message-content");
	html_str(h, m.content);
	html_close(h);
	html_open(h, "dl");
	html_attr(h, "class", "fields");
	show_field(h, "Direction", m.direction);
	show_field(h, "Status", m.status);
	show_field(h, "Sender", m.sender);
	show_field(h, "Receiver", m.receiver);
	show_field(h, "Contact name", m.contact_name);
	html_elem(h, "dt", "Time (UTC)");
	html_open(h, "dd");
	admin_time(h, m.timestamp);
	html_close(h);
	show_field(h, "Provider message id", m.provider_message_id);
	if (m.error_code != NULL || m.error_message != NULL) {
		html_elem(h, "dt", "Error");
		html_open(h, "dd");
		html_attr(h, "class", "error-text");
		if (m.error_code != NULL) {
			html_elem(h, "code", m.error_code);
			html_str(h, " ");
		}
		if (m.error_message != NULL)
			html_str(h, m.error_message);
		/* What it means, in words an agent can act on. */
		if ((words = wa_error_words(m.error_code)) != NULL)
			html_elemc(h, "p", "error-words", words);
		html_close(h);
	}
	html_close(h);			/* dl */
	html_open(h, "div");
	html_attr(h, "class", "actions");
	if (strcmp(m.direction, "outbound") == 0 &&
	    strcmp(m.status, "failed") == 0) {
		snprintf(url, sizeof(url), "/admin/messages/%lld/retry", m.id);
		admin_post_form(&pg, url, "inline");
		html_open(h, "button");
		html_attr(h, "type", "submit");
		html_attr(h, "class", "primary");
		html_attr(h, "id", "retry");
		html_str(h, "Retry");
		html_close(h);
		html_close(h);
	}
	snprintf(url, sizeof(url), "/admin/conversations/%lld", m.contact_id);
	html_open(h, "a");
	html_attr(h, "class", "button");
	html_attr(h, "href", url);
	html_str(h, "Open conversation");
	html_close(h);
	html_close(h);
	html_close(h);			/* section */

	html_open(h, "section");
	html_attr(h, "class", "panel");
	html_elem(h, "h2", "Status history");
	show_events(h, ev);
	html_close(h);
	admin_page_end(&pg, 200);
out:
	db_res_free(ev);
	db_res_free(res);
}

void
page_messages_retry(struct app *a)
{
	PGresult		*res = NULL;
	const char		*p[2];
	char			 loc[64];
	enum db_rc		 rc;

	p[0] = a->args[0];
	p[1] = a->sess->username;
	if ((rc = db_exec(a->db, STMT_MSG_RETRY, 2, p, &res)) != DB_OK) {
		app_db_error(a, rc);
		return;
	}
	if (PQntuples(res) == 0) {
		db_res_free(res);
		if ((rc = db_exec(a->db, STMT_MSG_GET, 1, p, &res)) != DB_OK) {
			app_db_error(a, rc);
			return;
		}
		if (PQntuples(res) == 0)
			admin_error(a, 404, "Not found",
			    "There is no such message.");
		else
			admin_error(a, 409, "Cannot retry", "Only a failed "
			    "outbound message can be retried; this one is "
			    "not (any more).");
		db_res_free(res);
		return;
	}
	db_res_free(res);
	log_kv(LOG_INFO, "admin retry", "user", a->sess->username, "#message_id",
	    a->args[0], NULL);
	snprintf(loc, sizeof(loc), "/admin/messages/%s?retried=1",
	    a->args[0]);
	admin_redirect(a, loc);
}
