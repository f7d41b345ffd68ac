/*
 * api_media — the media routes: POST /api/media/ (an upload, raw bytes:
 * ROUTE_RAW), GET /api/media/{id} (API key) and GET /admin/media/{id}
 * (session), both answered by media_serve() (model_media.h).
 */
#ifndef WADESK_API_MEDIA_H
#define WADESK_API_MEDIA_H

#include "app.h"

/*
 * 201 {"id", "mime_type", "size", "sha256", "filename"}; 415 for a type
 * WhatsApp does not take (or none), 422 for an empty body, 400 for a bad
 * ?filename= (413 comes from the route's body step).
 */
void	api_media_upload(struct app *);
/* The stored bytes (see media_serve); 404 unknown or not stored. */
void	api_media_get(struct app *);
/* The same for the admin pages (a session instead of an API key). */
void	page_media_get(struct app *);

#endif
