/*
 * migrate — applies sql/NNN_*.sql (compiled in) in order.
 *
 * Each migration runs in its own transaction and is recorded in
 * schema_migrations; a session advisory lock makes a second concurrent
 * `wadesk migrate` wait, then find nothing to do.  Returns 0 or -1.
 */
#ifndef WADESK_MIGRATE_H
#define WADESK_MIGRATE_H

#include "settings.h"

struct migration {
	const char	*name;
	const char	*sql;
};

extern const struct migration	migrations[];
extern const unsigned int	migrations_count;

int	migrate_run(const struct settings *) __attribute__((warn_unused_result));

#endif
