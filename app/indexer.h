#ifndef INDEXER_H
#define INDEXER_H

struct settings;

/*
 * The search index's own process (sql/019), forked by every dispatcher
 * (app/child.h): it puts new messages into message_search, a batch at a
 * time, so that neither a send nor the dispatcher's deliveries wait for
 * the trigram index.  With several dispatchers one indexes at a time (the
 * progress row is taken with SKIP LOCKED).  Runs until child_stop; 0.
 */
int	indexer_main(const struct settings *);

#endif
