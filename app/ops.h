/*
 * ops — liveness and readiness for load balancers and orchestrators.
 *
 * ops_healthz: GET /healthz  200 while the process runs (no database).
 * ops_readyz:  GET /readyz   200 when the database answers, else 503.
 */
#ifndef WADESK_OPS_H
#define WADESK_OPS_H

#include "app.h"

void	ops_healthz(struct app *);
void	ops_readyz(struct app *);

#endif
