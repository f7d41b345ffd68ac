#include <stdio.h>

#include "db.h"
#include "log.h"
#include "migrate.h"
#include "stmts.h"

int
migrate_run(const struct settings *s)
{
	struct db	 db;
	PGresult	*res = NULL;
	const char	*p[1];
	unsigned int	 i, applied = 0;
	int		 ret = -1;

	db_init(&db, s->database_url, "-c TimeZone=UTC -c client_min_messages=warning",
	    stmts_mig_sql, NULL, MIG__MAX);
	if (db_ensure(&db) != DB_OK) {
		log_kv(LOG_FATAL, "migrate: cannot connect to the database",
		    NULL);
		goto out;
	}
	if (db_exec(&db, MIG_LOCK, 0, NULL, &res) != DB_OK)
		goto out;
	db_res_free(res);
	if (db_exec(&db, MIG_TABLE, 0, NULL, &res) != DB_OK)
		goto out;
	db_res_free(res);
	res = NULL;
	for (i = 0; i < migrations_count; i++) {
		p[0] = migrations[i].name;
		if (db_begin(&db) != DB_OK ||
		    db_exec(&db, MIG_APPLIED, 1, p, &res) != DB_OK)
			goto out;
		if (PQntuples(res) == 1) {
			db_rollback(&db);
			db_res_free(res);
			res = NULL;
			continue;
		}
		db_res_free(res);
		res = NULL;
		if (db_simple(&db, migrations[i].sql, NULL) != DB_OK ||
		    db_exec(&db, MIG_RECORD, 1, p, &res) != DB_OK ||
		    db_commit(&db) != DB_OK) {
			log_kv(LOG_FATAL, "migration failed", "version",
			    migrations[i].name, NULL);
			goto out;
		}
		db_res_free(res);
		res = NULL;
		log_kv(LOG_INFO, "migration applied", "version",
		    migrations[i].name, NULL);
		applied++;
	}
	log_msg(LOG_INFO, "migrate: %u applied, %u already present", applied,
	    migrations_count - applied);
	ret = 0;
out:
	db_res_free(res);
	db_rollback(&db);
	db_cleanup(&db);
	return ret;
}
