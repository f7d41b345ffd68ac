/*
 * api_numbers — the business numbers (Bearer API key).
 *
 * api_numbers_list: GET /api/numbers/  200 {"data": [{"id",
 *   "phone_number_id", "display", "name"}]}, oldest first (a field is null
 *   when not known); 401, 503.
 */
#ifndef WADESK_API_NUMBERS_H
#define WADESK_API_NUMBERS_H

#include "app.h"

void	api_numbers_list(struct app *);

#endif
