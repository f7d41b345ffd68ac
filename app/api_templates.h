/*
 * api_templates — GET /api/templates/ (Bearer API key): 200 {"data": [...]}
 * every template wadesk knows, by name and language: {"name", "language",
 * "category", "status", "body", "parameters" (how many), "parameter_format"
 * (POSITIONAL or NAMED), "parameter_names", "header" (text or null)}; 401,
 * 503.
 */
#ifndef WADESK_API_TEMPLATES_H
#define WADESK_API_TEMPLATES_H

#include "app.h"

void	api_templates_list(struct app *);

#endif
