/*
 * ops — liveness and readiness for load balancers and orchestrators.
 *
 * ops_healthz: GET /healthz  200 while the process runs (no database).
 * ops_readyz:  GET /readyz   200 when the database answers, else 503.
 * ops_metrics: GET /metrics  200 Prometheus text: request counters and
 *   latency from every worker, worker restarts, and message, outbox and
 *   parked-status figures from the database (wadesk_database_up 0 and no
 *   database figures when it is unreachable).  nginx allows it from
 *   loopback only.
 * ops_openapi: GET /api/openapi.yaml  the OpenAPI 3 description of the API
 *   and the webhook (app/openapi.yaml, compiled in).
 */
#ifndef WADESK_OPS_H
#define WADESK_OPS_H

#include "app.h"

void	ops_healthz(struct app *);
void	ops_readyz(struct app *);
void	ops_metrics(struct app *);
void	ops_openapi(struct app *);

#endif
