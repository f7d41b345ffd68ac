/*
 * page_endpoints — the admin's event endpoints: each endpoint (enabled, or
 * disabled and why), its latest delivery attempts (time, event type, HTTP
 * status, duration, attempt) with a "Send again" button per delivery, and
 * the forms that add and disable endpoints.
 *
 * page_endpoints_list:    GET /admin/endpoints/  200; 503.
 * page_endpoints_add:     POST /admin/endpoints/ (url, one checkbox per
 *   event type)  200 the page with the new secret, shown this once; 422
 *   the page with the form's error; 503.
 * page_endpoints_disable: POST /admin/endpoints/{id}/disable  303 to the
 *   list; 404 no enabled endpoint with this id.
 * page_deliveries_resend: POST /admin/deliveries/{id}/resend  303 to the
 *   list (the event is queued again for its endpoint, same webhook-id);
 *   404 no such delivery.
 */
#ifndef WADESK_PAGE_ENDPOINTS_H
#define WADESK_PAGE_ENDPOINTS_H

#include "app.h"

void	page_endpoints_list(struct app *);
void	page_endpoints_add(struct app *);
void	page_endpoints_disable(struct app *);
void	page_deliveries_resend(struct app *);

#endif
