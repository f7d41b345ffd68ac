#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "crypto.h"
#include "stmts.h"

int
auth_key_hash(struct app *a, char hash[CRYPTO_SHA256_HEX])
{
	const char	*h, *key;

	h = req_param(a->req, "HTTP_AUTHORIZATION");
	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		goto unauthorized;
	key = h + 7;
	while (*key == ' ')
		key++;
	if (strlen(key) != AUTH_KEY_LEN)
		goto unauthorized;
	crypto_sha256_hex(key, strlen(key), hash);
	return 0;
unauthorized:
	app_fail(a, APP_FAIL_UNAUTHORIZED, NULL);
	return -1;
}

int
auth_key_lookup(struct app *a, const char *hash)
{
	const char	*p[1];
	PGresult	*res = NULL;
	enum db_rc	 rc;
	int		 ret = -1;

	p[0] = hash;
	if ((rc = db_exec(a->db, STMT_APIKEY_AUTH, 1, p, &res)) != DB_OK) {
		app_db_error(a, rc);
		goto out;
	}
	if (PQntuples(res) != 1) {
		app_fail(a, APP_FAIL_UNAUTHORIZED, NULL);
		goto out;
	}
	a->api_key_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	ret = 0;
out:
	db_res_free(res);
	return ret;
}
