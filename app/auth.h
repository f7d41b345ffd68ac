/*
 * auth — API key authentication (the route table's ROUTE_APIKEY and
 * ROUTE_KEY_HASH steps).
 *
 * Keys look like "wdk_" + 64 hex digits; only their SHA-256 is stored, so the
 * lookup by hash reveals nothing a timing attack could use.
 */
#ifndef WADESK_AUTH_H
#define WADESK_AUTH_H

#include "app.h"
#include "crypto.h"

#define AUTH_KEY_PREFIX	"wdk_"
#define AUTH_KEY_LEN	(sizeof(AUTH_KEY_PREFIX) - 1 + 64)

/*
 * Only the header's form: the hex SHA-256 of a well-formed key into hash, for
 * a statement that checks it itself (STMT_MSG_SEND_KEYED).  -1 after
 * answering 401.
 */
int	auth_key_hash(struct app *, char hash[CRYPTO_SHA256_HEX])
	    __attribute__((warn_unused_result));
/*
 * Checks a hash from auth_key_hash() against the active keys and sets
 * a->api_key_id.  Needs a connection.  0, or -1 after answering 401
 * (unknown or revoked key) or 503/500.
 */
int	auth_key_lookup(struct app *, const char *)
	    __attribute__((warn_unused_result));

#endif
