#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "page_dashboard.h"
#include "stmts.h"

#define DASH_HOURS	24

/* The chart's geometry, in SVG user units (it scales with the page). */
#define CHART_W		720
#define CHART_H		260
#define CHART_LEFT	52
#define CHART_RIGHT	12
#define CHART_TOP	14
#define CHART_BOTTOM	36

enum dash_series {
	DASH_IN,
	DASH_OUT,
	DASH_FAILED,
	DASH__MAX
};

struct dash_hour {
	char		label[3];	/* "00".."23" */
	long long	n[DASH__MAX];
};

static const char *const dash_series_name[DASH__MAX] = {
	[DASH_IN] = "inbound",
	[DASH_OUT] = "outbound",
	[DASH_FAILED] = "failed",
};

static long long	dash_step(long long);
static void		dash_cards(struct html *, const struct admin_counts *);
static void		dash_conversations(struct html *, const PGresult *);
static void		dash_chart(struct html *, const struct dash_hour *);
static void		dash_table(struct html *, const struct dash_hour *);

/* A tick step of 1, 2 or 5 times a power of ten: at most 5 ticks. */
static long long
dash_step(long long max)
{
	long long	p = 1;

	for (;;) {
		if (p * 5 >= max)
			return p;
		if (p * 10 >= max)
			return p * 2;
		if (p * 25 >= max)
			return p * 5;
		p *= 10;
	}
}

static void
dash_cards(struct html *h, const struct admin_counts *c)
{
	struct buf	 url;
	long long	 out = 0;
	int		 i, approx = 0;

	for (i = 0; i < MSG_ST__MAX; i++)
		if (i != MSG_ST_RECEIVED) {
			out += c->n[i];
			approx |= c->approx[i];
		}
	buf_init(&url);
	html_open(h, "section");
	html_attr(h, "class", "cards");
	html_attr(h, "aria-label", "Totals");
	html_open(h, "a");
	html_attr(h, "class", "card card-inbound");
	html_attr(h, "href", "/admin/messages/?direction=inbound");
	html_elemc(h, "span", "card-label", "Inbound");
	html_open(h, "strong");
	admin_count(h, c->n[MSG_ST_RECEIVED], c->approx[MSG_ST_RECEIVED]);
	html_close(h);
	html_close(h);
	html_open(h, "a");
	html_attr(h, "class", "card card-outbound");
	html_attr(h, "href", "/admin/messages/?direction=outbound");
	html_elemc(h, "span", "card-label", "Outbound");
	html_open(h, "strong");
	admin_count(h, out, approx);
	html_close(h);
	html_close(h);
	for (i = 0; i < MSG_ST__MAX; i++) {
		if (i == MSG_ST_RECEIVED)
			continue;
		buf_reset(&url);
		admin_url(&url, "/admin/messages/", "status",
		    message_statuses[i], NULL);
		html_open(h, "a");
		html_attrf(h, "class", "card card-%s", message_statuses[i]);
		html_attr(h, "href", url.data);
		html_open(h, "span");
		html_attr(h, "class", "card-label");
		admin_badge(h, message_statuses[i]);
		html_close(h);
		html_open(h, "strong");
		admin_count(h, c->n[i], c->approx[i]);
		html_close(h);
		html_close(h);
	}
	html_close(h);
	buf_cleanup(&url);
}

/*
 * Cards for the conversations waiting (STMT_ADMIN_CONTACT_COUNTS): open,
 * unassigned, mine, each a link to that list.
 */
static void
dash_conversations(struct html *h, const PGresult *res)
{
	static const char *const cards[3][3] = {
		{ "Open conversations", "open", "card card-conv-open" },
		{ "Unassigned", "unassigned", "card card-conv-unassigned" },
		{ "Assigned to me", "mine", "card card-conv-mine" },
	};
	char		 href[64];
	long long	 n;
	int		 i;

	html_open(h, "section");
	html_attr(h, "class", "cards");
	html_attr(h, "aria-label", "Conversations");
	for (i = 0; i < 3 && PQntuples(res) == 1; i++) {
		n = strtoll(PQgetvalue(res, 0, i), NULL, 10);
		snprintf(href, sizeof(href), "/admin/conversations/?filter=%s",
		    cards[i][1]);
		html_open(h, "a");
		html_attr(h, "class", cards[i][2]);
		html_attr(h, "href", href);
		html_open(h, "span");
		html_attr(h, "class", "card-label");
		html_str(h, cards[i][0]);
		html_close(h);
		html_open(h, "strong");
		admin_count(h, n, 0);
		if (n >= ADMIN_COUNT_CAP)
			html_str(h, "+");
		html_close(h);
		html_close(h);
	}
	html_close(h);
}

static void
dash_chart(struct html *h, const struct dash_hour *hours)
{
	const double	 pw = CHART_W - CHART_LEFT - CHART_RIGHT;
	const double	 ph = CHART_H - CHART_TOP - CHART_BOTTOM;
	const double	 slot = pw / DASH_HOURS;
	const double	 bw = slot * 0.36;
	struct buf	 pts;
	long long	 max = 1, step, top, v;
	double		 x, y, bh;
	int		 i, s;

	for (i = 0; i < DASH_HOURS; i++)
		for (s = 0; s < DASH__MAX; s++)
			if (hours[i].n[s] > max)
				max = hours[i].n[s];
	step = dash_step(max);
	top = (max + step - 1) / step * step;

	html_open(h, "svg");
	html_attr(h, "xmlns", "http://www.w3.org/2000/svg");
	html_attrf(h, "viewBox", "0 0 %d %d", CHART_W, CHART_H);
	html_attr(h, "class", "chart");
	html_attr(h, "role", "img");
	html_attr(h, "aria-labelledby", "chart-title");
	html_open(h, "title");
	html_attr(h, "id", "chart-title");
	html_str(h, "Messages per hour over the last 24 hours: inbound, "
	    "outbound and failed");
	html_close(h);

	/* Horizontal grid and the y axis labels. */
	for (v = 0; v <= top; v += step) {
		y = CHART_TOP + ph - ph * (double)v / (double)top;
		html_open(h, "line");
		html_attr(h, "class", v == 0 ? "axis-line" : "grid");
		html_attrf(h, "x1", "%d", CHART_LEFT);
		html_attrf(h, "x2", "%d", CHART_W - CHART_RIGHT);
		html_attrf(h, "y1", "%.1f", y);
		html_attrf(h, "y2", "%.1f", y);
		html_close(h);
		html_open(h, "text");
		html_attr(h, "class", "axis y-label");
		html_attrf(h, "x", "%d", CHART_LEFT - 6);
		html_attrf(h, "y", "%.1f", y + 4);
		html_attr(h, "text-anchor", "end");
		html_strf(h, "%lld", v);
		html_close(h);
	}

	/* Bars: inbound left, outbound right of each hour's slot. */
	for (i = 0; i < DASH_HOURS; i++) {
		for (s = DASH_IN; s <= DASH_OUT; s++) {
			bh = ph * (double)hours[i].n[s] / (double)top;
			x = CHART_LEFT + slot * i + slot / 2 +
			    (s == DASH_IN ? -bw : 0);
			html_open(h, "rect");
			html_attr(h, "class", s == DASH_IN ? "bar bar-in" :
			    "bar bar-out");
			html_attrf(h, "x", "%.1f", x);
			html_attrf(h, "y", "%.1f", CHART_TOP + ph - bh);
			html_attrf(h, "width", "%.1f", bw);
			html_attrf(h, "height", "%.1f", bh);
			html_open(h, "title");
			html_strf(h, "%s:00 UTC, %lld %s", hours[i].label,
			    hours[i].n[s], dash_series_name[s]);
			html_close(h);
			html_close(h);
		}
		if (i % 3 == 0 || i == DASH_HOURS - 1) {
			html_open(h, "text");
			html_attr(h, "class", "axis x-label");
			html_attrf(h, "x", "%.1f",
			    CHART_LEFT + slot * i + slot / 2);
			html_attrf(h, "y", "%d", CHART_H - CHART_BOTTOM + 16);
			html_attr(h, "text-anchor", "middle");
			html_strf(h, "%s:00", hours[i].label);
			html_close(h);
		}
	}

	/* Failures: a line with a dot per hour. */
	buf_init(&pts);
	for (i = 0; i < DASH_HOURS; i++)
		buf_printf(&pts, "%s%.1f,%.1f", i ? " " : "",
		    CHART_LEFT + slot * i + slot / 2, CHART_TOP + ph -
		    ph * (double)hours[i].n[DASH_FAILED] / (double)top);
	html_open(h, "polyline");
	html_attr(h, "class", "line-failed");
	html_attr(h, "points", pts.data);
	html_close(h);
	buf_cleanup(&pts);
	for (i = 0; i < DASH_HOURS; i++) {
		if (hours[i].n[DASH_FAILED] == 0)
			continue;
		html_open(h, "circle");
		html_attr(h, "class", "dot-failed");
		html_attrf(h, "cx", "%.1f", CHART_LEFT + slot * i + slot / 2);
		html_attrf(h, "cy", "%.1f", CHART_TOP + ph -
		    ph * (double)hours[i].n[DASH_FAILED] / (double)top);
		html_attr(h, "r", "3");
		html_open(h, "title");
		html_strf(h, "%s:00 UTC, %lld failed", hours[i].label,
		    hours[i].n[DASH_FAILED]);
		html_close(h);
		html_close(h);
	}
	html_open(h, "text");
	html_attr(h, "class", "axis x-title");
	html_attrf(h, "x", "%d", CHART_LEFT + (int)(pw / 2));
	html_attrf(h, "y", "%d", CHART_H - 4);
	html_attr(h, "text-anchor", "middle");
	html_str(h, "hour (UTC)");
	html_close(h);
	html_close(h);			/* svg */

	html_open(h, "ul");
	html_attr(h, "class", "legend");
	for (s = 0; s < DASH__MAX; s++) {
		html_open(h, "li");
		html_open(h, "span");
		html_attrf(h, "class", "swatch swatch-%s", dash_series_name[s]);
		html_close(h);
		html_str(h, dash_series_name[s]);
		html_close(h);
	}
	html_close(h);
}

static void
dash_table(struct html *h, const struct dash_hour *hours)
{
	int	i, s;

	html_open(h, "details");
	html_elem(h, "summary", "Show as a table");
	html_open(h, "table");
	html_attr(h, "class", "list compact");
	html_open(h, "thead");
	html_open(h, "tr");
	html_elem(h, "th", "Hour (UTC)");
	for (s = 0; s < DASH__MAX; s++)
		html_elem(h, "th", dash_series_name[s]);
	html_close(h);
	html_close(h);
	html_open(h, "tbody");
	for (i = 0; i < DASH_HOURS; i++) {
		html_open(h, "tr");
		html_open(h, "td");
		html_strf(h, "%s:00", hours[i].label);
		html_close(h);
		for (s = 0; s < DASH__MAX; s++) {
			html_open(h, "td");
			html_strf(h, "%lld", hours[i].n[s]);
			html_close(h);
		}
		html_close(h);
	}
	html_close(h);
	html_close(h);
	html_close(h);
}

void
page_dashboard(struct app *a)
{
	struct admin_page	 p;
	struct dash_hour	 hours[DASH_HOURS];
	struct html		*h = &p.h;
	struct admin_counts	 counts;
	PGresult		*res = NULL, *convs = NULL;
	const char		*cp[2];
	char			 cap[24], uid[24];
	enum db_rc		 rc;
	int			 i, k;

	if (admin_counts(a, &counts) == -1)
		return;
	snprintf(cap, sizeof(cap), "%d", ADMIN_COUNT_CAP);
	snprintf(uid, sizeof(uid), "%lld", a->sess->user_id);
	cp[0] = cap;
	cp[1] = uid;
	if ((rc = db_exec(a->db, STMT_ADMIN_CONTACT_COUNTS, 2, cp, &convs)) !=
	    DB_OK) {
		app_db_error(a, rc);
		return;
	}
	if ((rc = db_exec(a->db, STMT_ADMIN_HOURLY, 0, NULL, &res)) !=
	    DB_OK) {
		app_db_error(a, rc);
		db_res_free(convs);
		return;
	}
	memset(hours, 0, sizeof(hours));
	for (i = 0; i < DASH_HOURS && i < PQntuples(res); i++) {
		snprintf(hours[i].label, sizeof(hours[i].label), "%s",
		    PQgetvalue(res, i, 0));
		for (k = 0; k < DASH__MAX; k++)
			hours[i].n[k] = strtoll(PQgetvalue(res, i, k + 1),
			    NULL, 10);
	}
	db_res_free(res);

	admin_page_begin(&p, a, "Dashboard", ADMIN_NAV_DASHBOARD);
	admin_page_head(h, "Dashboard");
	dash_cards(h, &counts);
	dash_conversations(h, convs);
	html_open(h, "section");
	html_attr(h, "class", "panel");
	html_elem(h, "h2", "Messages per hour, last 24 hours (UTC)");
	dash_chart(h, hours);
	dash_table(h, hours);
	html_close(h);
	admin_page_end(&p, 200);
	db_res_free(convs);
}
