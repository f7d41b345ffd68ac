#include <stdio.h>
#include <string.h>
#include <sodium.h>

#include "auth.h"
#include "cli.h"
#include "template_sync.h"
#include "crypto.h"
#include "db.h"
#include "events.h"
#include "model_message.h"
#include "stmts.h"
#include "valid.h"

#define CLI_NAME_MAX	100
#define CLI_PW_MIN	8

static int	cli_connect(struct db *, const struct settings *);
static int	cli_name_ok(const char *);

static int
cli_connect(struct db *db, const struct settings *s)
{
	db_init(db, s->database_url, "-c TimeZone=UTC", stmts_sql, stmts_generic,
	    STMT__MAX);
	if (db_ensure(db) != DB_OK) {
		fprintf(stderr, "wadesk: cannot connect to the database "
		    "(WADESK_DATABASE_URL)\n");
		db_cleanup(db);
		return -1;
	}
	return 0;
}

static int
cli_name_ok(const char *name)
{
	size_t	chars;

	return valid_utf8(name, strlen(name), &chars) == 0 && chars >= 1 &&
	    chars <= CLI_NAME_MAX;
}

int
cli_apikey(const struct settings *s, int argc, char **argv)
{
	struct db	 db;
	PGresult	*res = NULL;
	char		 key[AUTH_KEY_LEN + 1], hash[CRYPTO_SHA256_HEX];
	char		 prefix[16];
	const char	*p[3];
	int		 i, ret = 1;

	if (argc < 1 || (strcmp(argv[0], "list") != 0 && argc != 2)) {
		fprintf(stderr, "usage: wadesk apikey create NAME | "
		    "revoke ID | list\n");
		return 2;
	}
	if (strcmp(argv[0], "create") == 0 && !cli_name_ok(argv[1])) {
		fprintf(stderr, "wadesk: NAME must be 1-100 characters\n");
		return 2;
	}
	if (cli_connect(&db, s) == -1)
		return 1;
	if (strcmp(argv[0], "create") == 0) {
		memcpy(key, AUTH_KEY_PREFIX, sizeof(AUTH_KEY_PREFIX) - 1);
		crypto_token_hex(key + sizeof(AUTH_KEY_PREFIX) - 1, 32);
		crypto_sha256_hex(key, strlen(key), hash);
		snprintf(prefix, sizeof(prefix), "%.12s", key);
		p[0] = argv[1];
		p[1] = hash;
		p[2] = prefix;
		if (db_exec(&db, STMT_APIKEY_CREATE, 3, p, &res) != DB_OK)
			goto out;
		printf("%s\n", key);
		fprintf(stderr, "wadesk: API key %s created for \"%s\"; it is "
		    "shown only this once\n", PQgetvalue(res, 0, 0), argv[1]);
		sodium_memzero(key, sizeof(key));
		ret = 0;
	} else if (strcmp(argv[0], "revoke") == 0) {
		p[0] = argv[1];
		if (strspn(argv[1], "0123456789") != strlen(argv[1]) ||
		    strlen(argv[1]) > 9) {
			fprintf(stderr, "wadesk: ID must be a number\n");
			ret = 2;
			goto out;
		}
		if (db_exec(&db, STMT_APIKEY_REVOKE, 1, p, &res) != DB_OK)
			goto out;
		if (PQntuples(res) == 0) {
			fprintf(stderr, "wadesk: no active API key %s\n",
			    argv[1]);
			goto out;
		}
		fprintf(stderr, "wadesk: API key %s revoked\n", argv[1]);
		ret = 0;
	} else if (strcmp(argv[0], "list") == 0) {
		if (db_exec(&db, STMT_APIKEY_LIST, 0, NULL, &res) != DB_OK)
			goto out;
		printf("%-6s %-24s %-14s %-26s %s\n", "ID", "NAME", "PREFIX",
		    "CREATED", "REVOKED");
		for (i = 0; i < PQntuples(res); i++)
			printf("%-6s %-24s %-14s %-26s %s\n",
			    PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
			    PQgetvalue(res, i, 2), PQgetvalue(res, i, 3),
			    PQgetisnull(res, i, 4) ? "-" :
			    PQgetvalue(res, i, 4));
		ret = 0;
	} else {
		fprintf(stderr, "wadesk: unknown apikey command \"%s\"\n",
		    argv[0]);
		ret = 2;
	}
out:
	if (ret == 1 && res == NULL)
		fprintf(stderr, "wadesk: the database refused the command "
		    "(see the log line above)\n");
	db_res_free(res);
	db_cleanup(&db);
	return ret;
}

int
cli_user(const struct settings *s, int argc, char **argv)
{
	struct db	 db;
	PGresult	*res = NULL;
	char		 pw[1024], hash[CRYPTO_PWHASH_MAX];
	const char	*p[2];
	size_t		 n;
	int		 ret = 1;

	if (argc != 2 || strcmp(argv[0], "add") != 0) {
		fprintf(stderr, "usage: wadesk user add NAME  "
		    "(password on stdin)\n");
		return 2;
	}
	if (!cli_name_ok(argv[1])) {
		fprintf(stderr, "wadesk: NAME must be 1-100 characters\n");
		return 2;
	}
	if (fgets(pw, sizeof(pw), stdin) == NULL) {
		fprintf(stderr, "wadesk: no password on stdin\n");
		return 2;
	}
	n = strcspn(pw, "\r\n");
	pw[n] = '\0';
	if (n < CLI_PW_MIN || valid_utf8(pw, n, NULL) == -1) {
		fprintf(stderr, "wadesk: the password must be at least %d "
		    "characters of UTF-8\n", CLI_PW_MIN);
		sodium_memzero(pw, sizeof(pw));
		return 2;
	}
	if (crypto_pw_hash(pw, hash) == -1) {
		fprintf(stderr, "wadesk: password hashing failed\n");
		sodium_memzero(pw, sizeof(pw));
		return 1;
	}
	sodium_memzero(pw, sizeof(pw));
	if (cli_connect(&db, s) == -1)
		return 1;
	p[0] = argv[1];
	p[1] = hash;
	/* A new password also ends the user's sessions (one statement). */
	if (db_exec(&db, STMT_USER_ADD_RESET, 2, p, &res) == DB_OK) {
		fprintf(stderr, "wadesk: user \"%s\" saved", argv[1]);
		if (strcmp(PQgetvalue(res, 0, 1), "0") != 0)
			fprintf(stderr, "; %s session(s) ended",
			    PQgetvalue(res, 0, 1));
		fputc('\n', stderr);
		ret = 0;
	}
	db_res_free(res);
	db_cleanup(&db);
	return ret;
}

int
cli_sql(int argc, char **argv)
{
	static const struct {
		const char	*name;
		enum stmt	 stmt;
	} named[] = {
		{ "auth", STMT_APIKEY_AUTH },
		{ "send", STMT_MSG_SEND },
		{ "send-keyed", STMT_MSG_SEND_KEYED },
		{ "inbound", STMT_MSG_INBOUND },
		{ "status", STMT_STATUS_APPLY },
		{ "list", STMT_MSG_LIST },
		{ "search", STMT_MSG_SEARCH },
	};
	size_t	i;

	for (i = 0; argc == 1 && i < sizeof(named) / sizeof(named[0]); i++)
		if (strcmp(argv[0], named[i].name) == 0) {
			printf("%s\n", stmts_sql[named[i].stmt]);
			return 0;
		}
	fprintf(stderr,
	    "usage: wadesk sql auth|send|inbound|status|list|search\n");
	return 2;
}

int
cli_templates(const struct settings *s, int argc, char **argv)
{
	struct db	 db;
	char		 err[256];
	int		 n;

	if (argc != 1 || strcmp(argv[0], "sync") != 0) {
		fprintf(stderr, "usage: wadesk templates sync\n");
		return 2;
	}
	if (cli_connect(&db, s) == -1)
		return 1;
	n = template_sync(&db, s, err, sizeof(err));
	db_cleanup(&db);
	if (n == -1) {
		fprintf(stderr, "wadesk: templates sync: %s\n", err);
		return 1;
	}
	printf("%d templates\n", n);
	return 0;
}

/*
 * wadesk endpoint add URL [TYPE,...] | list | disable ID.  add prints the
 * secret on stdout, once; nothing prints it again.
 */
int
cli_endpoint(const struct settings *s, int argc, char **argv)
{
	struct db	 db;
	struct buf	 types;
	PGresult	*res = NULL;
	char		 secret[CRYPTO_WH_SECRET_MAX];
	const char	*p[2], *msg;
	int		 i, ret = 1;

	if (argc < 1 || (strcmp(argv[0], "list") == 0 && argc != 1) ||
	    (strcmp(argv[0], "add") == 0 && argc != 2 && argc != 3) ||
	    (strcmp(argv[0], "disable") == 0 && argc != 2)) {
		fprintf(stderr, "usage: wadesk endpoint add URL [TYPE,...] | "
		    "list | disable ID\n");
		return 2;
	}
	buf_init(&types);
	if (strcmp(argv[0], "add") == 0 &&
	    (events_url_check(argv[1], s->events_allow_private, &msg) == -1 ||
	    events_types_csv(argc == 3 ? argv[2] : NULL, &types, &msg) ==
	    -1)) {
		fprintf(stderr, "wadesk: %s\n", msg);
		buf_cleanup(&types);
		return 2;
	}
	if (strcmp(argv[0], "disable") == 0 &&
	    (strspn(argv[1], "0123456789") != strlen(argv[1]) ||
	    strlen(argv[1]) > 9 || argv[1][0] == '\0')) {
		fprintf(stderr, "wadesk: ID must be a number\n");
		buf_cleanup(&types);
		return 2;
	}
	if (strcmp(argv[0], "add") != 0 && strcmp(argv[0], "list") != 0 &&
	    strcmp(argv[0], "disable") != 0) {
		fprintf(stderr, "wadesk: unknown endpoint command \"%s\"\n",
		    argv[0]);
		buf_cleanup(&types);
		return 2;
	}
	if (cli_connect(&db, s) == -1) {
		buf_cleanup(&types);
		return 1;
	}
	if (strcmp(argv[0], "add") == 0) {
		if (events_endpoint_add(&db, argv[1], types.data, secret,
		    &res) != DB_OK)
			goto out;
		printf("%s\n", secret);
		fprintf(stderr, "wadesk: endpoint %s created for %s; its "
		    "secret is shown only this once\n", PQgetvalue(res, 0, 0),
		    PQgetvalue(res, 0, 2));
		ret = 0;
	} else if (strcmp(argv[0], "disable") == 0) {
		p[0] = argv[1];
		p[1] = "disabled by an operator";
		if (db_exec(&db, STMT_ENDPOINT_DISABLE, 2, p, &res) != DB_OK)
			goto out;
		if (PQntuples(res) == 0) {
			fprintf(stderr, "wadesk: no enabled endpoint %s\n",
			    argv[1]);
			goto out;
		}
		fprintf(stderr, "wadesk: endpoint %s disabled\n", argv[1]);
		ret = 0;
	} else {
		if (db_exec(&db, STMT_ENDPOINT_LIST, 0, NULL, &res) != DB_OK)
			goto out;
		printf("%-6s %-8s %-60s %s\n", "ID", "ENABLED", "URL", "TYPES");
		for (i = 0; i < PQntuples(res); i++)
			printf("%-6s %-8s %-60s %s%s%s\n",
			    PQgetvalue(res, i, 0),
			    PQgetvalue(res, i, 3)[0] == 't' ? "yes" : "no",
			    PQgetvalue(res, i, 1), PQgetvalue(res, i, 2),
			    PQgetisnull(res, i, 4) ? "" : "  # ",
			    PQgetisnull(res, i, 4) ? "" :
			    PQgetvalue(res, i, 4));
		ret = 0;
	}
out:
	if (ret == 1 && res == NULL)
		fprintf(stderr, "wadesk: the database refused the command "
		    "(see the log line above)\n");
	sodium_memzero(secret, sizeof(secret));
	db_res_free(res);
	db_cleanup(&db);
	buf_cleanup(&types);
	return ret;
}

int
cli_media(const struct settings *s, int argc, char **argv)
{
	struct db	 db;
	PGresult	*res = NULL;
	const char	*p[1];
	long long	 days;
	enum db_rc	 rc;
	int		 ret = 1;

	if (argc != 3 || strcmp(argv[0], "purge") != 0 ||
	    strcmp(argv[1], "--older-than") != 0 ||
	    valid_uint(argv[2], 1, 36500, &days) == -1) {
		fprintf(stderr, "usage: wadesk media purge --older-than DAYS "
		    "(1-36500)\n");
		return 2;
	}
	if (cli_connect(&db, s) == -1)
		return 1;
	p[0] = argv[2];
	if ((rc = db_exec(&db, STMT_MEDIA_PURGE, 1, p, &res)) != DB_OK) {
		fprintf(stderr, "wadesk: media purge failed: %s\n",
		    db_strerror(rc));
		goto out;
	}
	printf("removed %s files (%s bytes) older than %lld days\n",
	    PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), days);
	ret = 0;
out:
	db_res_free(res);
	db_cleanup(&db);
	return ret;
}

/* A WhatsApp phone number id: 1-NUMBER_ID_MAX digits. */
static int
cli_number_id_ok(const char *s)
{
	return s[0] != '\0' && strlen(s) <= NUMBER_ID_MAX &&
	    strspn(s, "0123456789") == strlen(s);
}

int
cli_number(const struct settings *s, int argc, char **argv)
{
	struct db	 db;
	PGresult	*res = NULL;
	char		 display[VALID_PHONE_MAX];
	const char	*p[3];
	int		 i, ret = 1;

	if (argc < 1 || (strcmp(argv[0], "list") == 0 && argc != 1) ||
	    (strcmp(argv[0], "add") == 0 && argc != 3 && argc != 4) ||
	    (strcmp(argv[0], "add") != 0 && strcmp(argv[0], "list") != 0)) {
		fprintf(stderr, "usage: wadesk number add PHONE_NUMBER_ID "
		    "+DISPLAY [NAME] | list\n");
		return 2;
	}
	if (strcmp(argv[0], "add") == 0) {
		if (!cli_number_id_ok(argv[1])) {
			fprintf(stderr, "wadesk: PHONE_NUMBER_ID must be "
			    "WhatsApp's phone number id (digits)\n");
			return 2;
		}
		if (valid_phone(argv[2], strlen(argv[2]), display) == -1) {
			fprintf(stderr, "wadesk: DISPLAY must be %s\n",
			    MESSAGE_PHONE_RULE);
			return 2;
		}
		if (argc == 4 && !cli_name_ok(argv[3])) {
			fprintf(stderr, "wadesk: NAME must be 1-100 "
			    "characters\n");
			return 2;
		}
	}
	if (cli_connect(&db, s) == -1)
		return 1;
	if (strcmp(argv[0], "add") == 0) {
		p[0] = argv[1];
		p[1] = display;
		p[2] = argc == 4 ? argv[3] : NULL;
		if (db_exec(&db, STMT_NUMBER_ADD, 3, p, &res) != DB_OK)
			goto out;
		if (PQntuples(res) != 1) {
			fprintf(stderr, "wadesk: %s or %s is already another "
			    "number's\n", argv[1], display);
			goto out;
		}
		printf("%s\n", PQgetvalue(res, 0, 0));
		fprintf(stderr, "wadesk: number %s is %s (phone number id "
		    "%s)\n", PQgetvalue(res, 0, 0), display, argv[1]);
		ret = 0;
	} else {
		if (db_exec(&db, STMT_NUMBER_LIST, 0, NULL, &res) != DB_OK)
			goto out;
		printf("%-6s %-20s %-17s %s\n", "ID", "PHONE_NUMBER_ID",
		    "DISPLAY", "NAME");
		for (i = 0; i < PQntuples(res); i++)
			printf("%-6s %-20s %-17s %s\n", PQgetvalue(res, i, 0),
			    PQgetisnull(res, i, 1) ? "-" :
			    PQgetvalue(res, i, 1),
			    PQgetisnull(res, i, 2) ? "-" :
			    PQgetvalue(res, i, 2),
			    PQgetisnull(res, i, 3) ? "" :
			    PQgetvalue(res, i, 3));
		ret = 0;
	}
out:
	if (ret == 1 && res == NULL)
		fprintf(stderr, "wadesk: the database refused the command "
		    "(see the log line above)\n");
	db_res_free(res);
	db_cleanup(&db);
	return ret;
}

int
cli_number_shortcut(const struct settings *s)
{
	struct db	 db;
	PGresult	*res = NULL;
	const char	*p[2];
	int		 ret = 0;

	if (s->business_number[0] == '\0')
		return 0;
	p[0] = s->phone_number_id != NULL &&
	    cli_number_id_ok(s->phone_number_id) ? s->phone_number_id : NULL;
	p[1] = s->business_number;
	if (cli_connect(&db, s) == -1)
		return 1;
	if (db_exec(&db, STMT_NUMBER_SHORTCUT, 2, p, &res) != DB_OK)
		ret = 1;
	db_res_free(res);
	db_cleanup(&db);
	return ret;
}
