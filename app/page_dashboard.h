/*
 * page_dashboard — /admin/: message totals per status and direction, and
 * an inline SVG chart (no script) of messages per hour over the last 24
 * hours: inbound and outbound bars, failures as a line.
 */
#ifndef WADESK_PAGE_DASHBOARD_H
#define WADESK_PAGE_DASHBOARD_H

#include "app.h"

/* GET /admin/: 200; 303 to the login without a session; 503/500 pages. */
void	page_dashboard(struct app *);

#endif
