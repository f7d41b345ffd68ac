#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "child.h"
#include "clock.h"
#include "db.h"
#include "indexer.h"
#include "log.h"
#include "settings.h"
#include "stmts.h"

/* Messages per batch, batches per round at most, a round's time. */
#define INDEXER_BATCH		"2000"
#define INDEXER_ROUNDS		10
#define INDEXER_ROUND_MS	250
#define INDEXER_TICK_MS		200	/* between rounds when caught up */

/*
 * One round: batches while they come full (after a bulk load, or behind
 * a burst), for at most INDEXER_ROUND_MS.  A search finds a message at
 * once either way; what is indexed is found faster.  1 when it stopped
 * with more to do.
 */
static int
indexer_round(struct db *db)
{
	PGresult	*res = NULL, *r2 = NULL;
	const char	*p[2] = { INDEXER_BATCH, NULL };
	long long	 start = clock_ms();
	int		 i, full = 0;

	for (i = 0; i < INDEXER_ROUNDS && !child_stop; i++) {
		if (db_exec(db, STMT_SEARCH_SETTLED, 0, NULL, &res) != DB_OK ||
		    PQntuples(res) != 1) {
			log_kv(LOG_WARN, "search index: progress unknown", NULL);
			full = 0;
			break;
		}
		/* Nothing new: no write (an idle indexer writes nothing). */
		if (strcmp(PQgetvalue(res, 0, 1), "t") != 0) {
			full = 0;
			break;
		}
		p[1] = PQgetisnull(res, 0, 0) ? NULL : PQgetvalue(res, 0, 0);
		if (db_exec(db, STMT_SEARCH_INDEX, 2, p, &r2) != DB_OK) {
			log_kv(LOG_WARN, "search index not updated", NULL);
			full = 0;
			break;
		}
		/* No row: another dispatcher's is at it.  Else, a full batch? */
		full = PQntuples(r2) == 1 && strcmp(PQgetvalue(r2, 0, 0),
		    INDEXER_BATCH) == 0;
		db_res_free(res);
		db_res_free(r2);
		res = r2 = NULL;
		if (!full || clock_ms() - start >= INDEXER_ROUND_MS)
			break;
	}
	db_res_free(res);
	db_res_free(r2);
	return full;
}

int
indexer_main(const struct settings *s)
{
	struct db	db;
	char		opts[sizeof(s->db_options) + 40];

	/*
	 * A batch and its progress commit together without waiting for the
	 * disk: a crash loses both, and the batch is indexed again.
	 */
	snprintf(opts, sizeof(opts), "%s -c synchronous_commit=off",
	    s->db_options);
	db_init(&db, s->database_url, opts, stmts_sql, stmts_generic,
	    STMT__MAX);
	db_set_deadline(&db, s->db_deadline_ms);
	while (!child_stop) {
		if (db_ensure(&db) == DB_OK && indexer_round(&db))
			continue;
		if (!child_stop)
			usleep(INDEXER_TICK_MS * 1000);
	}
	db_cleanup(&db);
	return 0;
}
