#ifndef INDEXER_H
#define INDEXER_H

#include <sys/types.h>

struct settings;

/*
 * The search index's own process (sql/019), forked by every dispatcher
 * (app/child.h): it puts new messages into message_search, a batch at a
 * time, so that neither a send nor the dispatcher's deliveries wait for
 * the trigram index.  With several dispatchers one indexes at a time (the
 * progress row is taken with SKIP LOCKED).  Its pid, or -1 (logged).
 */
pid_t	indexer_spawn(const struct settings *);

#endif
