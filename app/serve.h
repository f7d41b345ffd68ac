/*
 * serve — the FastCGI worker pool.
 *
 * serve_master(): opens WADESK_SOCKET, forks WADESK_WORKERS workers (each
 * re-executes this binary as `wadesk serve --worker` with the listening
 * socket on fd 0, the FastCGI convention), respawns a worker that dies (with
 * a growing back-off when workers die young, so a crash loop cannot spin),
 * replaces every worker on SIGHUP (a rebuilt binary takes over: the new
 * workers start next to the old ones, and an old one is told to stop each
 * time a new one accepts, so a binary that cannot start leaves the old ones
 * serving), and on SIGTERM/SIGINT lets workers finish their request and
 * exits 0.
 *
 * serve_worker(): the accept loop: one request at a time, one database
 * connection, the per-request arena reset after each request; a stop signal
 * is taken only between requests.
 */
#ifndef WADESK_SERVE_H
#define WADESK_SERVE_H

#include "settings.h"

int	serve_master(const struct settings *);
int	serve_worker(const struct settings *);

#endif
