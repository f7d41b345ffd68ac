#include "stmts.h"

/* RFC 3339 in UTC with milliseconds, e.g. 2026-01-25T12:34:56.789Z */
#define TS(col) \
	"to_char(" col " AT TIME ZONE 'UTC', " \
	"'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

/*
 * What the search (q) matches in message t: content, sender and receiver
 * joined by U+001F, so that a match never spans two fields (sql/006);
 * message_search.doc holds it lowercased (sql/019).
 */
#define MSG_SEARCH(t) \
	"(" t ".content || chr(31) || " t ".sender || chr(31) || " t \
	".receiver)"

/*
 * A message's media (sql/013) as JSON text, or NULL: the API's media object
 * plus "error" (why a fetch failed), which the API leaves out.  Costs
 * nothing for a message without media.
 */
#define MSG_MEDIA \
	"CASE WHEN media_id IS NULL THEN NULL ELSE (SELECT json_build_object(" \
	"'id', d.id, 'status', d.status, 'mime_type', d.mime_type," \
	" 'size', d.size, 'sha256', CASE WHEN d.status = 'stored'" \
	" THEN d.sha256 END, 'filename', d.filename," \
	" 'url', '/api/media/' || d.id, 'error', d.error)::text" \
	" FROM media d WHERE d.id = media_id) END"

/* The message columns, in the order of enum msg_col (model_message.h). */
#define MSG_COLS \
	"id, direction, sender, receiver, content, " TS("created_at") ", " \
	"status, provider_message_id, contact_name, error_code, error_message, " \
	"contact_id, type, reply_to, reactions::text, " \
	"CASE WHEN direction = 'outbound' THEN raw->'template' END::text, " \
	MSG_MEDIA ", number_id"

/*
 * The contact a list's contact filter c names: a contact id (digits only),
 * else a phone in E.164 form (with '+') or a BSUID.  The list statements
 * are planned with their real values, so the CASE folds and each branch
 * uses its unique index.
 */
#define MSG_CONTACT(c) \
	"(SELECT k.id FROM contacts k WHERE CASE WHEN " c " ~ '^[0-9]+$'" \
	" THEN k.id = " c "::bigint ELSE k.phone = " c " OR k.user_id = " c \
	" END LIMIT 1)"

/*
 * The list's filters on message t, NULL parameters disabling theirs: $1
 * status, $2 direction, $3 the contact (MSG_CONTACT), $7 business number.
 */
#define MSG_FILTERS(t) \
	"($1::text IS NULL OR " t ".status = $1)" \
	" AND ($2::text IS NULL OR " t ".direction = $2)" \
	" AND ($3::text IS NULL OR " t ".contact_id = " MSG_CONTACT("$3") ")" \
	" AND ($7::bigint IS NULL OR " t ".number_id = $7)"

/* No filter but the search (planned per call: the constant folds). */
#define MSG_NO_FILTERS \
	"($1::text IS NULL AND $2::text IS NULL AND $3::text IS NULL" \
	" AND $7::bigint IS NULL)"

/*
 * A search's page: the ids of the messages matching ILIKE pattern $4 and
 * MSG_FILTERS, $6 at most, in the order o (DESC or ASC) from the keyset
 * bound k (a condition on id s.id, or x.id for x).  Up to $8
 * (search_progress.upto) the trigram index of message_search finds them,
 * or its id order walks them, whichever the planner finds cheaper for $4
 * (with filters, joined to the messages, whose indexes may lead); above
 * it (the newest messages, not indexed yet or just now) the messages
 * themselves are read.  A message in two parts counts once (IN).
 */
#define MSG_SEARCH_IDS(o, k, x) \
	"(SELECT s.id FROM message_search s WHERE " MSG_NO_FILTERS \
	" AND s.doc LIKE lower($4) AND " k " ORDER BY s.id " o " LIMIT $6)" \
	" UNION ALL" \
	" (SELECT s.id FROM message_search s JOIN messages x ON x.id = s.id" \
	" WHERE NOT " MSG_NO_FILTERS " AND s.doc LIKE lower($4) AND " \
	MSG_FILTERS("x") " AND " k " ORDER BY s.id " o " LIMIT $6)" \
	" UNION ALL" \
	" (SELECT x.id FROM messages x WHERE x.id > $8::bigint" \
	" AND " MSG_SEARCH("x") " ILIKE $4 AND " MSG_FILTERS("x") " AND " x \
	" ORDER BY x.id " o " LIMIT $6)"

/* The contact columns, in the order of enum contact_col (model_contact.h),
 * from contacts c and its assignee admin_users u. */
#define CONTACT_COLS \
	"c.id, c.phone, c.user_id, c.parent_user_id, c.username, c.name, " \
	TS("wadesk_last_inbound(c.id, c.last_inbound_at)") ", " \
	TS("(wadesk_last_inbound(c.id, c.last_inbound_at) +" \
	" interval '24 hours')") ", " \
	"c.state, u.username, wadesk_unread(c.id, c.read_upto)"
#define CONTACT_FROM \
	" FROM contacts c LEFT JOIN admin_users u ON u.id = c.assignee_id"
/* What the contacts' search (q) matches, fields joined by U+001F. */
#define CONTACT_SEARCH \
	"(coalesce(c.name, '') || chr(31) || coalesce(c.username, '') ||" \
	" chr(31) || coalesce(c.phone, '') || chr(31) ||" \
	" coalesce(c.user_id, ''))"

/*
 * Messages per status s.status for every s of unnest($2::text[]) WITH
 * ORDINALITY AS s(status, n): STATUS_STATS names the planner's statistics
 * (e: the most common statuses and their share, t: the row estimate),
 * STATUS_CAPPED counts up to $1 (an index-only scan of messages_status_id
 * that stays quick at any table size; $1 means "at least") and
 * STATUS_ESTIMATE is the planner's estimate (0 without statistics).
 */
#define STATUS_STATS \
	"WITH e AS (SELECT u.v, u.f FROM pg_stats st, unnest(" \
	"st.most_common_vals::text::text[], st.most_common_freqs)" \
	" AS u(v, f) WHERE st.schemaname = current_schema()" \
	" AND st.tablename = 'messages' AND st.attname = 'status')," \
	" t AS (SELECT greatest(reltuples, 0) AS n FROM pg_class" \
	" WHERE oid = 'messages'::regclass) "
#define STATUS_CAPPED \
	"(SELECT count(*) FROM (SELECT 1 FROM messages m" \
	" WHERE m.status = s.status LIMIT $1::bigint) c)"
#define STATUS_ESTIMATE \
	"coalesce((SELECT round(e.f * t.n)::bigint FROM e, t" \
	" WHERE e.v = s.status), 0)"

/*
 * STMT_MSG_INBOUND in two parts (see there for its parameters), so that
 * STMT_MSG_INBOUND_REACTION can add to it: m holds the new row, nothing on
 * a re-delivery.  A re-delivery does not even look for the contact: a
 * customer who changed number since would get a new, empty one.  A system
 * message (a number changed) is WhatsApp's, not the customer's: it leaves
 * the contact's conversation state and customer service window alone.
 */
/*
 * The contact of a customer: one index lookup when the contact exists and
 * the message tells nothing new about it (the common case: COALESCE stops
 * at the first value), else wadesk_contact() (sql/011), which creates,
 * joins and updates, safely against concurrent first messages.  SEND_TO:
 * a send to phone $5 or BSUID $6.  INBOUND_FROM: a message from phone $7
 * and/or BSUID $8, parent $9, username $10, profile name $6.
 */
#define CONTACT_SEND_TO \
	"coalesce((SELECT k.id FROM contacts k WHERE k.phone = $5)," \
	" (SELECT k.id FROM contacts k WHERE k.user_id = $6)," \
	" wadesk_contact($5, $6, NULL, NULL, NULL))"
#define CONTACT_INBOUND_FROM \
	"coalesce((SELECT k.id FROM contacts k WHERE k.phone = $7" \
	" AND $8::text IS NULL AND $9::text IS NULL AND $10::text IS NULL" \
	" AND k.name IS NOT DISTINCT FROM coalesce($6, k.name))," \
	" wadesk_contact($7, $8, $9, $10, $6))"

#define MSG_INBOUND_WITH \
	"WITH c AS (SELECT " CONTACT_INBOUND_FROM " AS id" \
	" WHERE NOT EXISTS (SELECT 1 FROM messages" \
	" WHERE provider_message_id = $4))," \
	" m AS (" \
	" INSERT INTO messages (direction, sender, receiver, content, status," \
	" provider_message_id, contact_name, created_at, contact_id, type," \
	" raw, reply_to, number_id)" \
	" SELECT 'inbound', $1, $2, $3, 'received', $4, $6," \
	" COALESCE(to_timestamp($5::bigint), now()), c.id," \
	" coalesce($11, 'text'), $12::jsonb, (SELECT r.id FROM messages r" \
	" WHERE r.provider_message_id = $13), coalesce($14::bigint," \
	" (SELECT b.id FROM numbers b WHERE b.display = $2)) FROM c" \
	" ON CONFLICT (provider_message_id)" \
	" WHERE provider_message_id IS NOT NULL DO NOTHING RETURNING *)"
#define MSG_INBOUND_RETURN \
	"SELECT " MSG_COLS " FROM m LEFT JOIN LATERAL (SELECT" \
	" wadesk_contact_seen(m.contact_id, m.created_at)" \
	" WHERE m.type <> 'system') s ON true"
/*
 * The conversation list's number filter n: contacts c with a message with
 * business number n (NULL: every contact); one look at the contact's
 * messages, only when set.
 */
#define CONTACT_NUMBER(n) \
	"(" n "::bigint IS NULL OR EXISTS (SELECT 1 FROM messages x" \
	" WHERE x.contact_id = c.id AND x.number_id = " n "::bigint))"
/* The conversation list's filter $1 on contacts c ($2: the admin user). */
#define CONTACT_FILTER \
	"CASE $1::text WHEN 'open' THEN c.state = 'open'" \
	" WHEN 'resolved' THEN c.state = 'resolved'" \
	" WHEN 'mine' THEN c.assignee_id = $2::integer" \
	" AND c.state = 'open'" \
	" WHEN 'unassigned' THEN c.assignee_id IS NULL" \
	" AND c.state = 'open' ELSE true END"

/* The business number displayed as sender s (one index lookup), or NULL. */
#define NUMBER_OF(s) \
	"(SELECT b.id FROM numbers b WHERE b.display = " s ")"

/* What a send writes after the message m: see STMT_MSG_SEND. */
#define MSG_SEND_REST \
	" o AS (INSERT INTO outbox (message_id) SELECT id FROM m)," \
	" n AS (SELECT pg_notify('wadesk_outbox', '') WHERE EXISTS" \
	" (SELECT 1 FROM dispatcher_idle" \
	" WHERE seen_at > now() - interval '5 seconds')) " \
	"SELECT " MSG_COLS " FROM m LEFT JOIN n ON true"

/*
 * STMT_EVENTS_RECORD: a failure ($2) of endpoint p, failing since more than
 * 5 days, while still enabled, disables it.
 */
#define EVENTS_GIVE_UP \
	"($2::text <> 'delivered' AND p.enabled" \
	" AND p.failing_since < now() - interval '5 days')"

const char *const stmts_sql[STMT__MAX] = {
	[STMT_READY] = "SELECT 1",
	/* statement_timeout $1 until the end of this transaction. */
	[STMT_LOCAL_TIMEOUT] =
	    "SELECT set_config('statement_timeout', $1, true)",

	[STMT_APIKEY_AUTH] =
	    "SELECT id FROM api_keys "
	    "WHERE key_hash = $1 AND revoked_at IS NULL",
	[STMT_APIKEY_CREATE] =
	    "INSERT INTO api_keys (name, key_hash, key_prefix) "
	    "VALUES ($1, $2, $3) RETURNING id",
	[STMT_APIKEY_REVOKE] =
	    "UPDATE api_keys SET revoked_at = now() "
	    "WHERE id = $1 AND revoked_at IS NULL RETURNING id",
	[STMT_APIKEY_LIST] =
	    "SELECT id, name, key_prefix, " TS("created_at") ", "
	    TS("revoked_at") " FROM api_keys ORDER BY id",

	/*
	 * One round trip: the message and its outbox row, and a NOTIFY only
	 * when a dispatcher is waiting (see dispatcher_idle).  The first event
	 * (queued) is the row itself: see STMT_MSG_EVENTS.  $1 sender, $2
	 * receiver (NULL: the contact's), $3 content, $4 contact id (NULL:
	 * the contact of $5 phone or $6 BSUID, created when new); $7 the
	 * type (NULL: text), $8 the structured parts (template, buttons,
	 * reaction: kept in raw), $9 the message quoted, $10 an uploaded
	 * file (media).  A reaction also goes onto the message reacted to.
 * The message is with the business number displayed as $1 (NULL when
 * none is).
	 * No row back: contact $4 does not exist.
	 */
	[STMT_MSG_SEND] =
	    "WITH c AS (SELECT CASE WHEN $4::bigint IS NULL"
	    " THEN " CONTACT_SEND_TO
	    " ELSE (SELECT id FROM contacts WHERE id = $4::bigint) END AS id),"
	    " m AS ("
	    " INSERT INTO messages (direction, sender, receiver, content, status,"
	    " contact_id, type, raw, reply_to, media_id, number_id)"
	    " SELECT 'outbound', $1, coalesce($2, (SELECT coalesce(k.phone,"
	    " k.user_id) FROM contacts k WHERE k.id = c.id)), $3, 'queued',"
	    " c.id, coalesce($7::text, 'text'), $8::jsonb, $9::bigint,"
	    " $10::bigint, " NUMBER_OF("$1") " FROM c WHERE c.id IS NOT NULL"
	    " RETURNING *),"
	    " r AS (UPDATE messages t SET reactions = nullif(coalesce("
	    "(SELECT jsonb_agg(e.v ORDER BY e.n) FROM jsonb_array_elements("
	    "coalesce(t.reactions, '[]')) WITH ORDINALITY AS e(v, n)"
	    " WHERE e.v->>'direction' IS DISTINCT FROM 'outbound'), '[]')"
	    " || CASE WHEN coalesce(m.raw->'reaction'->>'emoji', '') = ''"
	    " THEN '[]'::jsonb ELSE jsonb_build_array(jsonb_build_object("
	    "'emoji', m.raw->'reaction'->>'emoji', 'direction', 'outbound',"
	    " 'timestamp', " TS("m.created_at") ")) END, '[]'),"
	    " updated_at = now() FROM m WHERE m.type = 'reaction'"
	    " AND t.id = (m.raw->'reaction'->>'message_id')::bigint),"
	    MSG_SEND_REST,
	/*
	 * The API's send to a receiver: the same, written only when $7 is the
	 * SHA-256 of an active API key, so the key costs no round trip of its
	 * own.  No row back: the key is unknown or revoked and nothing was
	 * written.
	 */
	[STMT_MSG_SEND_KEYED] =
	    "WITH k AS (SELECT 1 FROM api_keys"
	    " WHERE key_hash = $7 AND revoked_at IS NULL),"
	    " c AS (SELECT " CONTACT_SEND_TO " AS id"
	    " FROM k WHERE $4::bigint IS NULL),"
	    " m AS ("
	    " INSERT INTO messages (direction, sender, receiver, content, status,"
	    " contact_id, number_id)"
	    " SELECT 'outbound', $1, $2, $3, 'queued', c.id, " NUMBER_OF("$1")
	    " FROM c RETURNING *),"
	    MSG_SEND_REST,
	/*
	 * An inbound message; $4 (WhatsApp's id, may be NULL) deduplicates
	 * re-deliveries: a duplicate returns no row.  $5 is Unix seconds or
	 * NULL for now.  The customer: $7 phone and/or $8 BSUID, $9 parent
	 * BSUID, $10 username, $6 profile name (wadesk_contact); $11 type
	 * (NULL: text), $12 the raw item (jsonb text or NULL), $13 the
	 * WhatsApp id of the message it replies to (reply_to when ours), $14
 * the business number (numbers.id; NULL: the number displayed as $2).
	 * A new message opens its contact's conversation again and moves it
	 * up the list (wadesk_contact_seen, run after the insert; not for a
	 * system message; sql/012: rarely a write).
	 */
	[STMT_MSG_INBOUND] =
	    MSG_INBOUND_WITH " " MSG_INBOUND_RETURN,
	/* The inbound message a re-delivered webhook id already stored. */
	[STMT_MSG_BY_PROVIDER_ID] =
	    "SELECT " MSG_COLS " FROM messages WHERE provider_message_id = $1"
	    " AND direction = 'inbound'",
	[STMT_MSG_GET] =
	    "SELECT " MSG_COLS " FROM messages WHERE id = $1",
	/*
	 * The history, oldest first: the message's creation (queued or
	 * received, from its row: sql/008) and then its recorded events.
	 */
	[STMT_MSG_EVENTS] =
	    "SELECT status, " TS("created_at") ", detail::text FROM ("
	    " SELECT 0::bigint AS seq, CASE direction WHEN 'outbound'"
	    " THEN 'queued' ELSE 'received' END AS status, created_at,"
	    " NULL::jsonb AS detail FROM messages WHERE id = $1"
	    " UNION ALL"
	    " SELECT id, status, created_at, detail FROM message_events"
	    " WHERE message_id = $1) h "
	    "ORDER BY seq",
	/*
	 * Newest first, keyset-paginated by id.  NULL parameters disable their
	 * filter; planned on each call with its real values (not in
	 * stmts_generic) so it uses the index that fits.  $1 status, $2
	 * direction, $3 the contact (MSG_CONTACT: a contact id, a phone in
	 * E.164 form or a BSUID; messages_contact_id), $5 ids below, $6
	 * rows, $7 the business number.  $4, the search, is always NULL
	 * here: a search runs STMT_MSG_SEARCH (model_message_list).
	 */
	[STMT_MSG_LIST] =
	    "SELECT " MSG_COLS " FROM messages "
	    "WHERE " MSG_FILTERS("messages") " AND $4::text IS NULL"
	    " AND ($5::bigint IS NULL OR id < $5) "
	    "ORDER BY id DESC LIMIT $6",
	/*
	 * STMT_MSG_LIST with a search: $4 an ILIKE pattern with its
	 * wildcards already escaped, $8 search_progress.upto
	 * (STMT_SEARCH_BEGIN).  Planned on each call too.
	 */
	[STMT_MSG_SEARCH] =
	    "SELECT " MSG_COLS " FROM messages WHERE id IN ("
	    MSG_SEARCH_IDS("DESC", "($5::bigint IS NULL OR s.id < $5)",
	    "($5::bigint IS NULL OR x.id < $5)") ") "
	    "ORDER BY id DESC LIMIT $6",

	/* Idempotency-Key: the lock marks a key in flight until commit. */
	[STMT_IDEM_LOCK] =
	    "SELECT pg_try_advisory_xact_lock($1::int, hashtext($2))",
	[STMT_IDEM_GET] =
	    "SELECT request_hash, status_code, response_body "
	    "FROM idempotency_keys WHERE api_key_id = $1 AND key = $2"
	    " AND created_at > now() - interval '24 hours'",
	[STMT_IDEM_PUT] =
	    "INSERT INTO idempotency_keys (api_key_id, key, request_hash,"
	    " status_code, response_body) VALUES ($1, $2, $3, $4, $5) "
	    "ON CONFLICT (api_key_id, key) DO UPDATE SET"
	    " request_hash = EXCLUDED.request_hash,"
	    " status_code = EXCLUDED.status_code,"
	    " response_body = EXCLUDED.response_body, created_at = now()",

	/*
	 * A status report ($2: sent, delivered, read, failed) for provider id
	 * $1: recorded as an event whatever it is, applied when it moves the
	 * message forward, parked in pending_statuses when no message has that
	 * id yet.  $3 detail (JSON text or NULL), $4 Unix seconds or NULL,
	 * $5/$6 the error code and message of a failure.  Returns (found,
	 * advanced).
	 */
	[STMT_STATUS_APPLY] =
	    "WITH m AS (SELECT id, status FROM messages"
	    " WHERE provider_message_id = $1 FOR UPDATE),"
	    " u AS (UPDATE messages SET status = $2::text, updated_at = now(),"
	    " error_code = CASE WHEN $2::text = 'failed' THEN $5::text"
	    " ELSE messages.error_code END,"
	    " error_message = CASE WHEN $2::text = 'failed' THEN $6::text"
	    " ELSE messages.error_message END"
	    " FROM m WHERE messages.id = m.id"
	    " AND wadesk_status_advances(m.status, $2::text) RETURNING 1),"
	    " e AS (INSERT INTO message_events (message_id, status, detail,"
	    " created_at) SELECT id, $2::text, $3::jsonb,"
	    " COALESCE(to_timestamp($4::bigint), now()) FROM m),"
	    " p AS (INSERT INTO pending_statuses (provider_message_id, status,"
	    " detail, error_code, error_message, reported_at)"
	    " SELECT $1, $2::text, $3::jsonb, $5::text, $6::text,"
	    " COALESCE(to_timestamp($4::bigint), now())"
	    " WHERE NOT EXISTS (SELECT 1 FROM m)) "
	    "SELECT (SELECT count(*) FROM m), (SELECT count(*) FROM u)",
	/* Parked statuses for provider id $1, oldest first, taken. */
	[STMT_PENDING_TAKE] =
	    "WITH d AS (DELETE FROM pending_statuses"
	    " WHERE provider_message_id = $1 RETURNING *) "
	    "SELECT status, detail::text,"
	    " extract(epoch FROM reported_at)::bigint, error_code,"
	    " error_message FROM d ORDER BY id",

	/*
	 * Claims up to $1 due rows for $2 seconds (the lease: a dispatcher
	 * killed mid-send loses nothing, the rows fall due again).  Beyond
	 * the text: the type, the structured parts (template, buttons,
	 * reaction: messages.raw), WhatsApp's ids of the message quoted and
	 * of the one reacted to (NULL: none yet), and, when $3 is true (the
	 * simulator plays WhatsApp's window), whether the customer's 24-hour
	 * window is open.
	 */
	[STMT_OUTBOX_CLAIM] =
	    "WITH c AS (SELECT message_id FROM outbox WHERE run_at <= now()"
	    " ORDER BY run_at LIMIT $1 FOR UPDATE SKIP LOCKED) "
	    "UPDATE outbox o SET run_at = now() + make_interval(secs => $2),"
	    " attempts = o.attempts + 1 FROM c, messages m"
	    " WHERE o.message_id = c.message_id AND m.id = o.message_id "
	    "RETURNING o.message_id, o.attempts, m.sender, m.receiver,"
	    " m.content, m.media_id, m.type, m.raw::text,"
	    " (SELECT q.provider_message_id FROM messages q"
	    " WHERE q.id = m.reply_to),"
	    " (SELECT q.provider_message_id FROM messages q"
	    " WHERE q.id = (m.raw->'reaction'->>'message_id')::bigint),"
	    " CASE WHEN $3::boolean THEN coalesce((SELECT"
	    " wadesk_last_inbound(k.id, k.last_inbound_at) > now() -"
	    " interval '24 hours' FROM contacts k WHERE k.id = m.contact_id),"
	    " false) END, m.number_id, (SELECT b.phone_number_id FROM numbers b"
	    " WHERE b.id = m.number_id)",
	/*
	 * A batch of sends ($1 ids, $2 provider ids, as arrays) in one
	 * statement; returns the provider ids that have parked statuses
	 * waiting for them.
	 */
	[STMT_OUTBOX_SENT] =
	    "WITH j AS (SELECT * FROM unnest($1::bigint[], $2::text[])"
	    " AS j(id, pid)),"
	    " d AS (DELETE FROM outbox o USING j WHERE o.message_id = j.id"
	    " RETURNING o.message_id),"
	    " u AS (UPDATE messages m SET status = 'sent',"
	    " provider_message_id = j.pid, updated_at = now() FROM j"
	    " WHERE m.id = j.id AND m.id IN (SELECT message_id FROM d)"
	    " AND wadesk_status_advances(m.status, 'sent')),"
	    " e AS (INSERT INTO message_events (message_id, status)"
	    " SELECT message_id, 'sent' FROM d) "
	    "SELECT DISTINCT provider_message_id FROM pending_statuses"
	    " WHERE provider_message_id = ANY ($2::text[])",
	/*
	 * Messages $1 over their number's pace (dispatch.c) back to the
	 * outbox, each due in $2 ms; their claim was no attempt.
	 */
	[STMT_OUTBOX_DEFER] =
	    "UPDATE outbox o SET run_at = now() + j.ms * interval"
	    " '1 millisecond', attempts = greatest(o.attempts - 1, 0)"
	    " FROM unnest($1::bigint[], $2::bigint[]) AS j(id, ms)"
	    " WHERE o.message_id = j.id",
	[STMT_OUTBOX_RETRY] =
	    "WITH o AS (UPDATE outbox SET"
	    " run_at = now() + $2::bigint * interval '1 millisecond',"
	    " last_error = $3 WHERE message_id = $1"
	    " RETURNING message_id, attempts) "
	    "INSERT INTO message_events (message_id, status, detail)"
	    " SELECT message_id, 'queued', jsonb_build_object('retry', true,"
	    " 'attempt', attempts, 'error', $3::text) FROM o",
	[STMT_OUTBOX_FAIL] =
	    "WITH d AS (DELETE FROM outbox WHERE message_id = $1"
	    " RETURNING message_id, attempts),"
	    " u AS (UPDATE messages SET status = 'failed', error_code = $2,"
	    " error_message = $3, updated_at = now()"
	    " WHERE id IN (SELECT message_id FROM d)"
	    " AND wadesk_status_advances(status, 'failed')) "
	    "INSERT INTO message_events (message_id, status, detail)"
	    " SELECT message_id, 'failed', jsonb_build_object('code', $2::text,"
	    " 'message', $3::text, 'attempts', attempts) FROM d",
	/* Dispatcher $1 (host:pid) waits for work / is busy again. */
	[STMT_DISPATCH_IDLE] =
	    "INSERT INTO dispatcher_idle (name) VALUES ($1)"
	    " ON CONFLICT (name) DO UPDATE SET seen_at = now()",
	[STMT_DISPATCH_BUSY] =
	    "DELETE FROM dispatcher_idle WHERE name = $1",
	/* Milliseconds until the next row falls due (NULL: none; may be <0). */
	[STMT_OUTBOX_NEXT_MS] =
	    "SELECT ceil(extract(epoch FROM (min(run_at) - now())) * 1000)"
	    "::bigint FROM outbox",
	/*
	 * The simulated provider: sent -> delivered after $1 ms, delivered ->
	 * read $2 ms after the send.  Row locks make concurrent dispatchers
	 * skip what another one advanced.  The first updated_at bound lets
	 * the messages_sim_due index (sql/009) do the work.
	 */
	[STMT_SIM_ADVANCE] =
	    "WITH u AS (UPDATE messages SET updated_at = now(), status ="
	    " CASE WHEN status = 'sent' THEN 'delivered' ELSE 'read' END"
	    " WHERE status IN ('sent', 'delivered')"
	    " AND left(provider_message_id, 4) = 'sim.'"
	    " AND updated_at <= now() - least($1::bigint,"
	    " greatest(0, $2::bigint - $1::bigint)) * interval '1 millisecond'"
	    " AND ((status = 'sent' AND updated_at <= now() -"
	    " $1::bigint * interval '1 millisecond') OR (status = 'delivered'"
	    " AND updated_at <= now() - greatest(0, $2::bigint - $1::bigint)"
	    " * interval '1 millisecond')) RETURNING id, status) "
	    "INSERT INTO message_events (message_id, status)"
	    " SELECT id, status FROM u",
	/* Expired idempotency records and admin sessions. */
	[STMT_HOUSEKEEPING] =
	    "WITH i AS (DELETE FROM idempotency_keys"
	    " WHERE created_at < now() - interval '24 hours') "
	    "DELETE FROM admin_sessions WHERE expires_at < now()",

	/*
	 * Admin login.  Every attempt is recorded first (ATTEMPT: user $1,
	 * client address $2, old rows pruned) and then counted (THROTTLE),
	 * so parallel guesses see each other: the failures of user $1 from
	 * address $2 and of user $1 from anywhere in the last 5 minutes, and
	 * the seconds until the oldest of the first ages out.  A refused
	 * attempt is forgotten (FORGET $1 id); a failed one stays as the
	 * failure; a successful login deletes it with the new session.
	 */
	[STMT_ADMIN_USER_GET] =
	    "SELECT id, password_hash FROM admin_users WHERE username = $1",
	[STMT_ADMIN_LOGIN_ATTEMPT] =
	    "WITH d AS (DELETE FROM admin_login_failures"
	    " WHERE created_at < now() - interval '1 day') "
	    "INSERT INTO admin_login_failures (username, remote)"
	    " VALUES ($1, $2) RETURNING id",
	[STMT_ADMIN_LOGIN_THROTTLE] =
	    "WITH f AS (SELECT remote, created_at FROM admin_login_failures"
	    " WHERE username = $1"
	    " AND created_at > now() - interval '5 minutes') "
	    "SELECT count(*) FILTER (WHERE remote = $2), count(*),"
	    " greatest(1, ceil(extract(epoch FROM coalesce(min(created_at)"
	    " FILTER (WHERE remote = $2), min(created_at))"
	    " + interval '5 minutes' - now())))::bigint FROM f",
	[STMT_ADMIN_LOGIN_FORGET] =
	    "DELETE FROM admin_login_failures WHERE id = $1",
	/*
	 * A new session ($1 token hash, $2 user id, $3 CSRF token, lifetime
	 * $6 seconds); the session the browser presented before ($4 hash or
	 * NULL) is deleted, and the failures of user $5 from address $7 are
	 * forgotten (those from elsewhere still count).
	 */
	[STMT_ADMIN_SESSION_NEW] =
	    "WITH d AS (DELETE FROM admin_sessions WHERE token_hash = $4),"
	    " f AS (DELETE FROM admin_login_failures WHERE username = $5"
	    " AND remote = $7) "
	    "INSERT INTO admin_sessions (token_hash, user_id, csrf_token,"
	    " expires_at) VALUES ($1, $2, $3,"
	    " now() + make_interval(secs => $6::bigint))",
	[STMT_ADMIN_SESSION_GET] =
	    "SELECT s.user_id, u.username, s.csrf_token FROM admin_sessions s"
	    " JOIN admin_users u ON u.id = s.user_id"
	    " WHERE s.token_hash = $1 AND s.expires_at > now()",
	[STMT_ADMIN_SESSION_DELETE] =
	    "DELETE FROM admin_sessions WHERE token_hash = $1",
	/*
	 * Messages per status $2 (in that order): counted up to $1 and
	 * estimated (see STATUS_STATS).  Inbound messages are exactly the
	 * received.
	 */
	[STMT_ADMIN_STATUS_COUNTS] =
	    STATUS_STATS
	    "SELECT s.status, " STATUS_CAPPED ", " STATUS_ESTIMATE " "
	    "FROM unnest($2::text[]) WITH ORDINALITY AS s(status, n)"
	    " ORDER BY s.n",
	/*
	 * The last 24 hours (UTC), oldest first, one row per hour even when
	 * empty: hour of day, inbound, outbound, failed.  Hours that ended
	 * more than two hours before they were counted come from
	 * message_hourly; the others are counted now (each hour by its own
	 * range of messages_created) and the finished ones stored.  Cached
	 * hours older than a week are dropped.
	 */
	[STMT_ADMIN_HOURLY] =
	    "WITH h AS (SELECT generate_series(date_trunc('hour', now())"
	    " - interval '23 hours', date_trunc('hour', now()),"
	    " interval '1 hour') AS hour),"
	    " need AS (SELECT h.hour FROM h LEFT JOIN message_hourly c"
	    " USING (hour) WHERE c.hour IS NULL"
	    " OR c.computed_at < c.hour + interval '3 hours'),"
	    " fresh AS (SELECT need.hour, x.i, x.o, x.f FROM need,"
	    " LATERAL (SELECT count(*) FILTER (WHERE direction = 'inbound')"
	    " AS i, count(*) FILTER (WHERE direction = 'outbound') AS o,"
	    " count(*) FILTER (WHERE status = 'failed') AS f FROM messages"
	    " WHERE created_at >= need.hour"
	    " AND created_at < need.hour + interval '1 hour') x),"
	    " up AS (INSERT INTO message_hourly (hour, inbound, outbound,"
	    " failed) SELECT hour, i, o, f FROM fresh"
	    " WHERE hour < date_trunc('hour', now())"
	    " ON CONFLICT (hour) DO UPDATE SET inbound = EXCLUDED.inbound,"
	    " outbound = EXCLUDED.outbound, failed = EXCLUDED.failed,"
	    " computed_at = now()),"
	    " old AS (DELETE FROM message_hourly"
	    " WHERE hour < now() - interval '7 days') "
	    "SELECT to_char(h.hour AT TIME ZONE 'UTC', 'HH24'),"
	    " coalesce(f.i, c.inbound, 0), coalesce(f.o, c.outbound, 0),"
	    " coalesce(f.f, c.failed, 0)"
	    " FROM h LEFT JOIN fresh f USING (hour)"
	    " LEFT JOIN message_hourly c USING (hour) ORDER BY h.hour",
	/* STMT_MSG_LIST's filters, ids above $5, oldest first. */
	[STMT_MSG_LIST_NEWER] =
	    "SELECT " MSG_COLS " FROM messages "
	    "WHERE " MSG_FILTERS("messages") " AND $4::text IS NULL"
	    " AND id > $5::bigint "
	    "ORDER BY id ASC LIMIT $6",
	/* STMT_MSG_SEARCH, ids above $5, oldest first. */
	[STMT_MSG_SEARCH_NEWER] =
	    "SELECT " MSG_COLS " FROM messages WHERE id IN ("
	    MSG_SEARCH_IDS("ASC", "s.id > $5::bigint", "x.id > $5::bigint") ") "
	    "ORDER BY id ASC LIMIT $6",
	/*
	 * Requeues failed outbound message $1 (admin user $2): status back to
	 * queued, error and provider id cleared, an outbox row, a 'queued'
	 * event naming the retry; one row back when it was failed, none
	 * otherwise.
	 */
	[STMT_MSG_RETRY] =
	    "WITH old AS (SELECT id, provider_message_id FROM messages"
	    " WHERE id = $1 AND direction = 'outbound' AND status = 'failed'"
	    " FOR UPDATE),"
	    " m AS (UPDATE messages SET status = 'queued', error_code = NULL,"
	    " error_message = NULL, provider_message_id = NULL,"
	    " updated_at = now() FROM old WHERE messages.id = old.id"
	    " RETURNING messages.id, old.provider_message_id AS prev),"
	    " o AS (INSERT INTO outbox (message_id) SELECT id FROM m"
	    " ON CONFLICT (message_id) DO UPDATE SET run_at = now(),"
	    " attempts = 0, last_error = NULL),"
	    " e AS (INSERT INTO message_events (message_id, status, detail)"
	    " SELECT id, 'queued', jsonb_build_object('retry', 'admin',"
	    " 'user', $2::text, 'previous_provider_message_id', prev) FROM m),"
	    " n AS (SELECT pg_notify('wadesk_outbox', '') FROM m) "
	    "SELECT m.id, (SELECT count(*) FROM n) FROM m",
	/*
	 * `wadesk user add`: creates the user or sets a new password; a
	 * reset also ends every session the user had (a stolen cookie must
	 * not outlive the password).  Returns the id and the sessions ended.
	 */
	[STMT_USER_ADD_RESET] =
	    "WITH u AS (INSERT INTO admin_users (username, password_hash)"
	    " VALUES ($1, $2) ON CONFLICT (username)"
	    " DO UPDATE SET password_hash = EXCLUDED.password_hash"
	    " RETURNING id),"
	    " d AS (DELETE FROM admin_sessions s USING u"
	    " WHERE s.user_id = u.id RETURNING 1) "
	    "SELECT u.id, (SELECT count(*) FROM d) FROM u",
	/*
	 * /metrics, at a cost that does not grow with the tables: ('m',
	 * direction, status, count up to $1, the planner's estimate) per
	 * status, as STMT_ADMIN_STATUS_COUNTS; then ('g', name, '', value up
	 * to $1, '') gauges.  A count that reaches $1 means "at least".
	 */
	[STMT_METRICS_CAPPED] =
	    STATUS_STATS
	    "SELECT 'm', CASE s.status WHEN 'received' THEN 'inbound'"
	    " ELSE 'outbound' END, s.status, " STATUS_CAPPED "::text, "
	    STATUS_ESTIMATE "::text "
	    "FROM unnest($2::text[]) WITH ORDINALITY AS s(status, n) "
	    "UNION ALL (SELECT 'g', 'wadesk_outbox_queued', '',"
	    " (SELECT count(*) FROM (SELECT 1 FROM outbox LIMIT $1::bigint)"
	    " c)::text, '') "
	    "UNION ALL (SELECT 'g', 'wadesk_outbox_due', '',"
	    " (SELECT count(*) FROM (SELECT 1 FROM outbox WHERE run_at <= now()"
	    " LIMIT $1::bigint) c)::text, '') "
	    "UNION ALL (SELECT 'g', 'wadesk_outbox_oldest_seconds', '',"
	    " coalesce(extract(epoch FROM now() - (SELECT run_at FROM outbox"
	    " WHERE run_at <= now() ORDER BY run_at LIMIT 1)), 0)::text, '') "
	    "UNION ALL (SELECT 'g', 'wadesk_pending_statuses', '',"
	    " (SELECT count(*) FROM (SELECT 1 FROM pending_statuses"
	    " LIMIT $1::bigint) c)::text, '')",
	/*
	 * Statuses parked for a provider id that no message got within 7 days
	 * (a send recorded later takes its parked statuses at once).
	 */
	[STMT_PENDING_PURGE] =
	    "DELETE FROM pending_statuses"
	    " WHERE created_at < now() - interval '7 days'",
	/*
	 * Contacts, newest first, keyset-paginated by id (a contact's id never
	 * changes, so pages neither repeat nor skip anyone while messages
	 * arrive).  NULL parameters disable their filter: $1 an ILIKE pattern
	 * over name, username, phone and BSUID; $2 state; $3 the assignee's
	 * admin user name (an unknown name matches nobody); $4 true: only
	 * the unassigned; $5 window open (the last inbound message less than
	 * 24 hours ago) or closed (older, or none); $6 ids below; $7 rows.
	 */
	[STMT_CONTACT_LIST] =
	    "SELECT " CONTACT_COLS CONTACT_FROM
	    " WHERE ($1::text IS NULL OR " CONTACT_SEARCH " ILIKE $1)"
	    " AND ($2::text IS NULL OR c.state = $2)"
	    " AND ($3::text IS NULL OR c.assignee_id ="
	    " (SELECT a.id FROM admin_users a WHERE a.username = $3))"
	    " AND ($4::boolean IS NOT TRUE OR c.assignee_id IS NULL)"
	    " AND ($5::text IS NULL OR coalesce(wadesk_last_inbound(c.id,"
	    " c.last_inbound_at) > now() - interval '24 hours', false)"
	    " = ($5 = 'open'))"
	    " AND ($6::bigint IS NULL OR c.id < $6) "
	    "ORDER BY c.id DESC LIMIT $7",
	[STMT_CONTACT_GET] =
	    "SELECT " CONTACT_COLS CONTACT_FROM " WHERE c.id = $1",
	/*
	 * Contact $1: state $2 (NULL: kept); when $3 is true, the assignee
	 * becomes admin user $4 (NULL: nobody).  No row back: no contact $1,
	 * or no admin user $4.
	 */
	[STMT_CONTACT_CHANGE] =
	    "WITH a AS (SELECT (SELECT id FROM admin_users"
	    " WHERE username = $4::text) AS uid),"
	    " c AS (UPDATE contacts k SET state = coalesce($2::text, k.state),"
	    " assignee_id = CASE WHEN $3::boolean THEN a.uid"
	    " ELSE k.assignee_id END, updated_at = now() FROM a"
	    " WHERE k.id = $1::bigint AND NOT ($3::boolean"
	    " AND $4::text IS NOT NULL AND a.uid IS NULL) RETURNING k.*) "
	    "SELECT " CONTACT_COLS " FROM c"
	    " LEFT JOIN admin_users u ON u.id = c.assignee_id",

	/*
	 * An inbound reaction (MSG_INBOUND_WITH's $1-$14) that also sets the
	 * customer's reaction on the message with WhatsApp id $15: their
	 * earlier one goes, emoji $16 (NULL or empty: removed) comes, each
	 * {"emoji", "direction", "timestamp"}; outbound reactions stay.  Only
	 * for a new reaction message (a re-delivery changes nothing) and not
	 * over a later reaction of theirs that arrived first.
	 */
	[STMT_MSG_INBOUND_REACTION] =
	    MSG_INBOUND_WITH ","
	    " r AS (UPDATE messages t SET reactions = nullif(coalesce("
	    "(SELECT jsonb_agg(e.v ORDER BY e.n) FROM jsonb_array_elements("
	    "coalesce(t.reactions, '[]')) WITH ORDINALITY AS e(v, n)"
	    " WHERE e.v->>'direction' IS DISTINCT FROM 'inbound'), '[]')"
	    " || CASE WHEN coalesce($16::text, '') = '' THEN '[]'::jsonb"
	    " ELSE jsonb_build_array(jsonb_build_object('emoji', $16::text,"
	    " 'direction', 'inbound', 'timestamp', " TS("m.created_at") "))"
	    " END, '[]'), updated_at = now()"
	    " FROM m WHERE t.provider_message_id = $15::text"
	    " AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements("
	    "coalesce(t.reactions, '[]')) x WHERE x->>'direction' = 'inbound'"
	    " AND x->>'timestamp' > " TS("m.created_at") ")) "
	    MSG_INBOUND_RETURN,
	/* The errors[] WhatsApp put on inbound message $1: code, text. */
	[STMT_MSG_INBOUND_ERROR] =
	    "UPDATE messages SET error_code = $2, error_message = $3,"
	    " updated_at = now() WHERE id = $1 AND direction = 'inbound'",
	/* The customer's number or BSUID changed (sql/011). */
	[STMT_CONTACT_RENUMBER] =
	    "SELECT wadesk_contact_change($1, $2, $3, $4)",

	/*
	 * The admin's conversation list: one row per contact, the latest
	 * customer message first (contacts that never wrote last, oldest
	 * first), keyset-paginated after contact $3 (NULL: the top), $4 rows
	 * at most.  $1 filters (CONTACT_FILTER): open, resolved, mine (open
	 * and assigned to admin user $2), unassigned (and open), all; $5 a
 * business number (CONTACT_NUMBER; NULL: any).  Each
	 * half walks contacts_recent in its order from the cursor on, so a
	 * page costs the same at any depth.  Columns: id, phone, user_id,
	 * username, name, state, assignee's username, unread, the last
	 * message's direction, content, time and type.
	 */
	[STMT_ADMIN_CONTACTS] =
	    "WITH k AS (SELECT last_inbound_at AS t FROM contacts"
	    " WHERE id = $3::bigint),"
	    " p AS ((SELECT c.id, c.last_inbound_at FROM contacts c"
	    " WHERE " CONTACT_FILTER " AND c.last_inbound_at IS NOT NULL"
	    " AND " CONTACT_NUMBER("$5")
	    " AND ($3::bigint IS NULL OR (c.last_inbound_at <="
	    " (SELECT t FROM k) AND (c.last_inbound_at < (SELECT t FROM k)"
	    " OR c.id > $3::bigint)))"
	    " ORDER BY c.last_inbound_at DESC NULLS LAST, c.id"
	    " LIMIT $4::bigint) UNION ALL"
	    " (SELECT c.id, c.last_inbound_at FROM contacts c"
	    " WHERE " CONTACT_FILTER " AND c.last_inbound_at IS NULL"
	    " AND " CONTACT_NUMBER("$5")
	    " AND ($3::bigint IS NULL OR ((SELECT t FROM k) IS NULL"
	    " AND EXISTS (SELECT 1 FROM k) AND c.id > $3::bigint)"
	    " OR (SELECT t FROM k) IS NOT NULL)"
	    " ORDER BY c.id LIMIT $4::bigint)) "
	    "SELECT c.id, c.phone, c.user_id, c.username, c.name, c.state,"
	    " u.username, wadesk_unread(c.id, c.read_upto), m.direction,"
	    " m.content, "
	    TS("m.created_at") ", m.type "
	    "FROM (SELECT * FROM p ORDER BY last_inbound_at DESC NULLS LAST,"
	    " id LIMIT $4::bigint) p JOIN contacts c ON c.id = p.id"
	    " LEFT JOIN admin_users u ON u.id = c.assignee_id"
	    " LEFT JOIN LATERAL (SELECT l.direction, l.content, l.created_at,"
	    " l.type FROM messages l WHERE l.contact_id = c.id"
	    " ORDER BY l.id DESC LIMIT 1) m ON true "
	    "ORDER BY p.last_inbound_at DESC NULLS LAST, p.id",
	/*
	 * Contact $1 for its conversation page, read: everything it has so
	 * far is seen (read_upto, only written when it moves) and, when $2
	 * (WADESK_READ_RECEIPTS), WhatsApp is to be told the newest unread
	 * customer message is read (sql/016).  Columns: id, phone, user_id,
	 * parent_user_id, username, name, state, assignee id, assignee's
	 * username, unread before opening, last_inbound_at, whether the
	 * 24-hour window is open, when it closes (or closed), the business
	 * number of its latest message that has one (display and name).
	 */
	[STMT_ADMIN_CONTACT_OPEN] =
	    "WITH t AS (SELECT max(id) AS top FROM messages"
	    " WHERE contact_id = $1),"
	    " r AS (UPDATE contacts SET read_upto = t.top FROM t"
	    " WHERE id = $1 AND read_upto < t.top RETURNING id),"
	    " rr AS (INSERT INTO read_receipts (message_id)"
	    " SELECT q.id FROM contacts k CROSS JOIN LATERAL (SELECT id"
	    " FROM messages WHERE contact_id = k.id AND id > k.read_upto"
	    " AND direction = 'inbound' AND type <> 'system'"
	    " AND provider_message_id IS NOT NULL ORDER BY id DESC LIMIT 1) q"
	    " WHERE $2::boolean AND k.id = $1 AND EXISTS (SELECT 1 FROM r)"
	    " ON CONFLICT DO NOTHING) "
	    "SELECT c.id, c.phone, c.user_id, c.parent_user_id, c.username,"
	    " c.name, c.state, c.assignee_id, u.username,"
	    " wadesk_unread(c.id, c.read_upto), " TS("w.t") ","
	    " coalesce(w.t > now() - interval '24 hours', false), "
	    TS("(w.t + interval '24 hours')") ","
	    " (SELECT coalesce(b.display, b.phone_number_id) ||"
	    " coalesce(' (' || b.name || ')', '') FROM messages x"
	    " JOIN numbers b ON b.id = x.number_id WHERE x.contact_id = c.id"
	    " AND x.number_id IS NOT NULL ORDER BY x.id DESC LIMIT 1)"
	    " FROM contacts c"
	    " CROSS JOIN LATERAL (SELECT wadesk_last_inbound(c.id,"
	    " c.last_inbound_at) AS t) w"
	    " LEFT JOIN admin_users u ON u.id = c.assignee_id"
	    " LEFT JOIN r ON true WHERE c.id = $1",
	/*
	 * Contact $1's messages, newest first, ids below $2 (NULL: the
	 * newest), $3 rows at most; after the message columns, the direction
	 * and content of the message each one replies to (NULL: none).
	 */
	[STMT_ADMIN_CONTACT_THREAD] =
	    "SELECT " MSG_COLS ","
	    " (SELECT q.direction FROM messages q"
	    " WHERE q.id = messages.reply_to),"
	    " (SELECT q.content FROM messages q"
	    " WHERE q.id = messages.reply_to) "
	    "FROM messages WHERE contact_id = $1"
	    " AND ($2::bigint IS NULL OR id < $2) ORDER BY id DESC LIMIT $3",
	/* The contact whose phone is $1 (E.164): old conversation URLs. */
	[STMT_ADMIN_CONTACT_BY_PHONE] =
	    "SELECT id FROM contacts WHERE phone = $1",
	/* Contact $1 resolved or open again ($2); one row when it exists. */
	[STMT_ADMIN_CONTACT_STATE] =
	    "UPDATE contacts SET state = $2, updated_at = now()"
	    " WHERE id = $1 RETURNING id",
	/*
	 * Contact $1 assigned to admin user $2 (NULL: unassigned).  One row:
	 * the contact exists, the user exists (or $2 is NULL), it was
	 * changed (only when both hold).
	 */
	[STMT_ADMIN_CONTACT_ASSIGN] =
	    "WITH u AS (SELECT id FROM admin_users WHERE id = $2::integer),"
	    " c AS (UPDATE contacts SET assignee_id = (SELECT id FROM u),"
	    " updated_at = now() WHERE id = $1::bigint"
	    " AND ($2::integer IS NULL OR EXISTS (SELECT 1 FROM u))"
	    " RETURNING id) "
	    "SELECT EXISTS (SELECT 1 FROM contacts WHERE id = $1::bigint),"
	    " $2::integer IS NULL OR EXISTS (SELECT 1 FROM u),"
	    " EXISTS (SELECT 1 FROM c)",
	/* Who a conversation can be assigned to: $1 users at most. */
	[STMT_ADMIN_USERS] =
	    "SELECT id, username FROM admin_users ORDER BY username LIMIT $1",
	/*
	 * The dashboard's conversations, each counted up to $1 (reaching it
	 * means "at least"): open, open and unassigned, open and assigned to
	 * admin user $2.
	 */
	[STMT_ADMIN_CONTACT_COUNTS] =
	    "SELECT (SELECT count(*) FROM (SELECT 1 FROM contacts"
	    " WHERE state = 'open' LIMIT $1::bigint) o),"
	    " (SELECT count(*) FROM (SELECT 1 FROM contacts"
	    " WHERE state = 'open' AND assignee_id IS NULL"
	    " LIMIT $1::bigint) u),"
	    " (SELECT count(*) FROM (SELECT 1 FROM contacts"
	    " WHERE state = 'open' AND assignee_id = $2::integer"
	    " LIMIT $1::bigint) m)",

	/*
	 * A template from WhatsApp's list (or the simulator's catalog): $1
	 * name, $2 language, $3 category, $4 status, $5 WhatsApp's id, $6
	 * parameter format, $7 body text, $8 its placeholders (a JSON array
	 * of strings), $9 every component (JSON).
	 */
	[STMT_TEMPLATE_PUT] =
	    "INSERT INTO templates (name, language, category, status,"
	    " whatsapp_id, parameter_format, body, parameters, components,"
	    " synced_at) VALUES ($1, $2, $3, $4, $5, $6, $7,"
	    " ARRAY(SELECT jsonb_array_elements_text($8::jsonb)), $9::jsonb,"
	    " now()) ON CONFLICT (name, language) DO UPDATE SET"
	    " category = EXCLUDED.category, status = EXCLUDED.status,"
	    " whatsapp_id = EXCLUDED.whatsapp_id,"
	    " parameter_format = EXCLUDED.parameter_format,"
	    " body = EXCLUDED.body, parameters = EXCLUDED.parameters,"
	    " components = EXCLUDED.components, synced_at = now()",
	/* After a whole sync (one transaction): what WhatsApp no longer has. */
	[STMT_TEMPLATE_PRUNE] =
	    "DELETE FROM templates WHERE synced_at < now()",
	/*
	 * Every template, by name and language: name, language, category,
	 * status, body, parameter count, parameter format, the placeholders
	 * (JSON array), the header text ('' when none).
	 */
	[STMT_TEMPLATE_LIST] =
	    "SELECT name, language, category, status, body,"
	    " cardinality(parameters), parameter_format,"
	    " to_jsonb(parameters)::text, coalesce((SELECT x->>'text'"
	    " FROM jsonb_array_elements(components) x"
	    " WHERE upper(x->>'type') = 'HEADER' AND x ? 'text' LIMIT 1), '')"
	    " FROM templates ORDER BY name, language",
	/* Template $1 in language $2: status, body, placeholders, format. */
	[STMT_TEMPLATE_GET] =
	    "SELECT status, body, to_jsonb(parameters)::text, parameter_format"
	    " FROM templates WHERE name = $1 AND language = $2",
	/*
	 * A template's new status ($4) from WhatsApp's status webhook: by its
	 * WhatsApp id $1, else by name $2 and language $3.
	 */
	[STMT_TEMPLATE_STATUS] =
	    "UPDATE templates SET status = $4 WHERE ($1::text IS NOT NULL"
	    " AND whatsapp_id = $1) OR ($1::text IS NULL AND name = $2"
	    " AND language = $3)",
	/*
	 * The 24-hour window of contact $1 (else the contact of phone $2 or
	 * BSUID $3): open or not, and when it closes (closed: when it
	 * closed; NULL: the customer never wrote).  No row: no such contact.
	 */
	[STMT_CONTACT_WINDOW] =
	    "SELECT coalesce(t > now() - interval '24 hours', false), "
	    TS("(t + interval '24 hours')")
	    " FROM (SELECT wadesk_last_inbound(c.id, c.last_inbound_at) AS t"
	    " FROM contacts c WHERE CASE WHEN $1::bigint IS NOT NULL"
	    " THEN c.id = $1::bigint WHEN $2::text IS NOT NULL"
	    " THEN c.phone = $2 ELSE c.user_id = $3 END) w",
	/*
	 * Message $1 as the target of a quote or a reaction: its contact,
	 * the contact's phone and BSUID.
	 */
	[STMT_MSG_TARGET] =
	    "SELECT m.contact_id, c.phone, c.user_id FROM messages m"
	    " JOIN contacts c ON c.id = m.contact_id WHERE m.id = $1",
	/*
	 * Event endpoints.  ADD: $1 URL, $2 types (a text[] literal), $3 the
	 * secret; back id, url, types (JSON), enabled.  LIST: the same plus
	 * disabled_reason, never the secret.  DISABLE: endpoint $1 with
	 * reason $2; a row back when it was enabled.
	 */
	[STMT_ENDPOINT_ADD] =
	    "INSERT INTO endpoints (url, types, secret)"
	    " VALUES ($1, $2::text[], $3)"
	    " RETURNING id, url, array_to_json(types)::text, enabled",
	[STMT_ENDPOINT_LIST] =
	    "SELECT id, url, array_to_json(types)::text, enabled,"
	    " disabled_reason FROM endpoints ORDER BY id",
	[STMT_ENDPOINT_DISABLE] =
	    "UPDATE endpoints SET enabled = false, disabled_at = now(),"
	    " disabled_reason = $2 WHERE id = $1::integer AND enabled"
	    " RETURNING id",
	/*
	 * Claims, for up to $1 enabled endpoints, each one's oldest pending
	 * delivery when it is due, for $2 seconds (the lease: while it runs
	 * the endpoint's head is not due, so each endpoint has at most one
	 * delivery in flight, and a dispatcher killed mid-delivery loses
	 * nothing).  Back: delivery id, attempt, endpoint id, URL, secret,
	 * event id, webhook id, type, event time, the delivery's age in ms.
	 */
	[STMT_EVENTS_CLAIM] =
	    "WITH h AS (SELECT x.id FROM endpoints p CROSS JOIN LATERAL"
	    " (SELECT y.id, y.run_at FROM deliveries y"
	    " WHERE y.endpoint_id = p.id AND y.state = 'pending'"
	    " ORDER BY y.id LIMIT 1) x"
	    " WHERE p.enabled AND x.run_at <= now()"
	    " ORDER BY x.run_at LIMIT $1::integer),"
	    " l AS (SELECT d.id FROM deliveries d WHERE d.id IN"
	    " (SELECT id FROM h) AND d.state = 'pending' AND d.run_at <= now()"
	    " FOR UPDATE SKIP LOCKED) "
	    "UPDATE deliveries d SET run_at = now() + make_interval(secs =>"
	    " $2::integer), attempts = d.attempts + 1, updated_at = now()"
	    " FROM l, events e, endpoints p WHERE d.id = l.id"
	    " AND e.id = d.event_id AND p.id = d.endpoint_id "
	    "RETURNING d.id, d.attempts, p.id, p.url, p.secret, e.id,"
	    " e.webhook_id, e.type, " TS("e.created_at") ","
	    " (extract(epoch FROM now() - d.created_at) * 1000)::bigint",
	/*
	 * Event $1's snapshot as the API's message (MSG_COLS) or contact
	 * (CONTACT_COLS): the row as the change left it, rendered by the
	 * same code as the API.  No row: the event has no such snapshot.
	 */
	[STMT_EVENTS_MESSAGE] =
	    "SELECT " MSG_COLS " FROM (SELECT m.* FROM events ev,"
	    " jsonb_populate_record(NULL::messages, ev.message) m"
	    " WHERE ev.id = $1 AND ev.message IS NOT NULL) messages",
	[STMT_EVENTS_CONTACT] =
	    "SELECT " CONTACT_COLS " FROM (SELECT k.* FROM events ev,"
	    " jsonb_populate_record(NULL::contacts, ev.contact) k"
	    " WHERE ev.id = $1 AND ev.contact IS NOT NULL) c"
	    " LEFT JOIN admin_users u ON u.id = c.assignee_id",
	/*
	 * Delivery $1's attempt: state $2 (delivered, pending: again after $3
	 * ms, failed), HTTP status $4 (NULL: none), $5 ms, error $6.  The
	 * endpoint's failing_since starts at its first failure and ends at a
	 * success; an endpoint failing for 5 days is disabled.  A row back
	 * (enabled) only when the endpoint changed.
	 */
	[STMT_EVENTS_RECORD] =
	    "WITH d AS (UPDATE deliveries SET state = $2::text,"
	    " run_at = now() + $3::bigint * interval '1 millisecond',"
	    " updated_at = now() WHERE id = $1 RETURNING id, endpoint_id,"
	    " attempts),"
	    " a AS (INSERT INTO delivery_attempts (delivery_id, endpoint_id,"
	    " attempt, http_status, duration_ms, error) SELECT id,"
	    " endpoint_id, attempts, $4::integer, $5::integer, $6::text"
	    " FROM d) "
	    "UPDATE endpoints p SET failing_since = CASE WHEN"
	    " $2::text = 'delivered' THEN NULL"
	    " ELSE coalesce(p.failing_since, now()) END,"
	    " enabled = CASE WHEN " EVENTS_GIVE_UP " THEN false"
	    " ELSE p.enabled END,"
	    " disabled_at = CASE WHEN " EVENTS_GIVE_UP " THEN now()"
	    " ELSE p.disabled_at END,"
	    " disabled_reason = CASE WHEN " EVENTS_GIVE_UP
	    " THEN 'disabled after 5 days of failures'"
	    " ELSE p.disabled_reason END"
	    " FROM d WHERE p.id = d.endpoint_id"
	    " AND CASE WHEN $2::text = 'delivered'"
	    " THEN p.failing_since IS NOT NULL"
	    " ELSE p.failing_since IS NULL OR " EVENTS_GIVE_UP " END "
	    "RETURNING p.enabled",
	/*
	 * Events older than 7 days with nothing left to deliver to an enabled
	 * endpoint (their deliveries and attempts go with them), 1000 at a
	 * time.
	 */
	[STMT_EVENTS_PURGE] =
	    "DELETE FROM events WHERE id IN (SELECT e.id FROM events e"
	    " WHERE e.created_at < now() - interval '7 days'"
	    " AND NOT EXISTS (SELECT 1 FROM deliveries d JOIN endpoints p"
	    " ON p.id = d.endpoint_id WHERE d.event_id = e.id"
	    " AND d.state = 'pending' AND p.enabled)"
	    " ORDER BY e.created_at LIMIT 1000)",
	/*
	 * The admin's endpoints: id, url, types (comma-separated), enabled,
	 * disabled_reason, disabled_at, failing_since, pending deliveries.
	 */
	[STMT_ADMIN_ENDPOINTS] =
	    "SELECT p.id, p.url, array_to_string(p.types, ', '), p.enabled,"
	    " p.disabled_reason, " TS("p.disabled_at") ", "
	    TS("p.failing_since") ", (SELECT count(*) FROM deliveries d"
	    " WHERE d.endpoint_id = p.id AND d.state = 'pending')"
	    " FROM endpoints p ORDER BY p.id",
	/*
	 * Each endpoint's $1 latest attempts, newest first: endpoint id,
	 * delivery id, time, event type, HTTP status, duration ms, attempt,
	 * error, the delivery's state.
	 */
	[STMT_ADMIN_DELIVERIES] =
	    "SELECT p.id, a.delivery_id, " TS("a.created_at") ", e.type,"
	    " a.http_status, a.duration_ms, a.attempt, a.error, d.state"
	    " FROM endpoints p CROSS JOIN LATERAL (SELECT * FROM"
	    " delivery_attempts x WHERE x.endpoint_id = p.id"
	    " ORDER BY x.id DESC LIMIT $1::integer) a"
	    " JOIN deliveries d ON d.id = a.delivery_id"
	    " JOIN events e ON e.id = d.event_id "
	    "ORDER BY p.id, a.id DESC",
	/* Delivery $1's event once more to its endpoint, as a new delivery
	 * (same webhook id); back the new delivery's id. */
	[STMT_DELIVERY_RESEND] =
	    "INSERT INTO deliveries (event_id, endpoint_id)"
	    " SELECT event_id, endpoint_id FROM deliveries WHERE id = $1"
	    " RETURNING id",
	/*
	 * Media (sql/013).  An inbound media item of message $1: WhatsApp's
	 * media id $2, its type $3, sha256 $4 and filename $5 as the webhook
	 * gave them; pending until the dispatcher fetches it (woken as a
	 * send wakes it).
	 */
	[STMT_MEDIA_INBOUND] =
	    "WITH d AS (INSERT INTO media (direction, message_id, wa_media_id,"
	    " mime_type, sha256, filename) VALUES ('inbound', $1::bigint, $2,"
	    " coalesce($3, 'application/octet-stream'), $4, $5) RETURNING id),"
	    " u AS (UPDATE messages SET media_id = d.id FROM d"
	    " WHERE messages.id = $1::bigint),"
	    " n AS (SELECT pg_notify('wadesk_outbox', '') WHERE EXISTS"
	    " (SELECT 1 FROM dispatcher_idle"
	    " WHERE seen_at > now() - interval '5 seconds')) "
	    "SELECT d.id FROM d LEFT JOIN n ON true",
	/*
	 * Claims up to $1 pending fetches that are due, for $2 seconds (a
	 * dispatcher killed mid-fetch loses nothing).  Columns: id, attempts
	 * (this one included), WhatsApp's media id, type, expected sha256,
	 * filename, the message's type.
	 */
	[STMT_MEDIA_CLAIM] =
	    "WITH c AS (SELECT id FROM media WHERE status = 'pending'"
	    " AND direction = 'inbound' AND next_attempt_at <= now()"
	    " ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED) "
	    "UPDATE media d SET attempts = d.attempts + 1,"
	    " next_attempt_at = now() + make_interval(secs => $2),"
	    " updated_at = now() FROM c WHERE d.id = c.id "
	    "RETURNING d.id, d.attempts, d.wa_media_id, d.mime_type, d.sha256,"
	    " d.filename, (SELECT m.type FROM messages m"
	    " WHERE m.id = d.message_id)",
	/* Chunk $2 (from 0) of media $1: $3 bytes (binary). */
	[STMT_MEDIA_CHUNK_PUT] =
	    "INSERT INTO media_chunks (media_id, seq, data)"
	    " VALUES ($1::bigint, $2::integer, $3::bytea)",
	/* What an earlier, interrupted attempt left of media $1. */
	[STMT_MEDIA_CHUNKS_CLEAR] =
	    "DELETE FROM media_chunks WHERE media_id = $1::bigint",
	/* Media $1 fetched: $2 bytes, sha256 $3 (hex), type $4 (NULL: kept). */
	[STMT_MEDIA_STORED] =
	    "UPDATE media SET status = 'stored', size = $2::bigint, sha256 = $3,"
	    " mime_type = coalesce($4, mime_type), error = NULL,"
	    " updated_at = now() WHERE id = $1::bigint",
	/*
	 * A fetch of media $1 failed with reason $2: tried again in $3 ms,
	 * or, $3 NULL, failed for good.
	 */
	[STMT_MEDIA_FETCH_FAILED] =
	    "UPDATE media SET error = $2, status = CASE WHEN $3::bigint IS NULL"
	    " THEN 'failed' ELSE 'pending' END,"
	    " next_attempt_at = now() + coalesce($3::bigint, 0)"
	    " * interval '1 millisecond', updated_at = now()"
	    " WHERE id = $1::bigint",
	/*
	 * An uploaded file: type $1, $2 bytes, sha256 $3, filename $4; its
	 * chunks follow in the same transaction.
	 */
	[STMT_MEDIA_UPLOAD] =
	    "INSERT INTO media (direction, mime_type, size, sha256, filename,"
	    " status) VALUES ('outbound', $1, $2::bigint, $3, $4, 'stored') "
	    "RETURNING id, mime_type, size, sha256, filename",
	/* Media $1: id, status, type, size, sha256, filename, error, direction. */
	[STMT_MEDIA_GET] =
	    "SELECT id, status, mime_type, size, sha256, filename, error,"
	    " direction FROM media WHERE id = $1::bigint",
	/* Chunk $2 of media $1 (binary). */
	[STMT_MEDIA_CHUNK_GET] =
	    "SELECT data FROM media_chunks"
	    " WHERE media_id = $1::bigint AND seq = $2::integer",
	/*
	 * The file outbound message $1 carries: media id, type, filename,
	 * WhatsApp's upload id when it is still valid (30 days; 29 to be
	 * safe), size, the message's type.
	 */
	[STMT_MEDIA_FOR_SEND] =
	    "SELECT d.id, d.mime_type, d.filename, CASE WHEN d.wa_uploaded_at"
	    " > now() - interval '29 days' THEN d.wa_media_id END, d.size,"
	    " m.type, d.status FROM messages m JOIN media d ON d.id = m.media_id"
	    " WHERE m.id = $1::bigint",
	/* Media $1 uploaded to WhatsApp as id $2 (reused by retries). */
	[STMT_MEDIA_WA_UPLOADED] =
	    "UPDATE media SET wa_media_id = $2, wa_uploaded_at = now()"
	    " WHERE id = $1::bigint",
	/*
	 * `wadesk media purge`: the bytes of files older than $1 days go;
	 * their rows stay, failed with the reason, so messages still say
	 * what they carried.  Returns the files and bytes freed.
	 */
	[STMT_MEDIA_PURGE] =
	    "WITH d AS (SELECT id, size FROM media WHERE status = 'stored'"
	    " AND created_at < now() - make_interval(days => $1::integer)"
	    " FOR UPDATE),"
	    " c AS (DELETE FROM media_chunks k USING d WHERE k.media_id = d.id),"
	    " u AS (UPDATE media m SET status = 'failed', error = 'removed after "
	    "' || $1::integer::text || ' days (retention)', updated_at = now() FROM d"
	    " WHERE m.id = d.id RETURNING d.size) "
	    "SELECT count(*), coalesce(sum(size), 0) FROM u",
	/*
	 * Read receipts (sql/016): up to $1 due ones for $2 seconds (a lease,
	 * as for the outbox); back the message id, the attempt, WhatsApp's
	 * id of the message.  DONE: sent, or given up.  RETRY: again after $2
	 * ms, error $3.
	 */
	[STMT_RECEIPT_CLAIM] =
	    "WITH c AS (SELECT message_id FROM read_receipts"
	    " WHERE run_at <= now() ORDER BY run_at LIMIT $1"
	    " FOR UPDATE SKIP LOCKED) "
	    "UPDATE read_receipts r SET run_at = now() +"
	    " make_interval(secs => $2), attempts = r.attempts + 1"
	    " FROM c, messages m WHERE r.message_id = c.message_id"
	    " AND m.id = r.message_id "
	    "RETURNING r.message_id, r.attempts, m.provider_message_id,"
	    " (SELECT b.phone_number_id FROM numbers b"
	    " WHERE b.id = m.number_id)",
	[STMT_RECEIPT_DONE] =
	    "DELETE FROM read_receipts WHERE message_id = $1",
	[STMT_RECEIPT_RETRY] =
	    "UPDATE read_receipts SET run_at = now() +"
	    " $2::bigint * interval '1 millisecond', last_error = $3"
	    " WHERE message_id = $1",

	/*
	 * The business number of WhatsApp phone number id $1 (a webhook's
	 * metadata), recorded with display $2 (may be NULL) when new: one
	 * index lookup when known, else wadesk_number() (sql/017).
	 */
	[STMT_NUMBER_OF_WEBHOOK] =
	    "SELECT coalesce((SELECT id FROM numbers"
	    " WHERE phone_number_id = $1), wadesk_number($1, $2))",
	/*
	 * `wadesk number add`: phone number id $1, display $2, name $3.  A
	 * number already known by either (from a webhook, or by its display
	 * alone) gets the other and the name; no row back: the two name
	 * different numbers already.
	 */
	[STMT_NUMBER_ADD] =
	    "WITH f AS (SELECT id FROM numbers WHERE phone_number_id = $1"
	    " OR display = $2),"
	    " u AS (UPDATE numbers SET phone_number_id = $1, display = $2,"
	    " name = coalesce($3, name) WHERE id = (SELECT id FROM f)"
	    " AND (SELECT count(*) FROM f) = 1"
	    " AND coalesce(phone_number_id, $1) = $1"
	    " AND coalesce(display, $2) = $2 RETURNING id),"
	    " i AS (INSERT INTO numbers (phone_number_id, display, name)"
	    " SELECT $1, $2, $3 WHERE NOT EXISTS (SELECT 1 FROM f)"
	    " ON CONFLICT DO NOTHING RETURNING id)"
	    " SELECT id FROM u UNION ALL SELECT id FROM i",
	/* Every business number: id, phone number id, display, name. */
	[STMT_NUMBER_LIST] =
	    "SELECT id, phone_number_id, display, name, " TS("created_at")
	    " FROM numbers ORDER BY id",
	/*
	 * The one-number shortcut (WADESK_BUSINESS_NUMBER $2 and, when set,
	 * WADESK_PHONE_NUMBER_ID $1) at start: the number exists.  Nothing
	 * written when it does, or when either value is another number's.
	 */
	[STMT_NUMBER_SHORTCUT] =
	    "INSERT INTO numbers (phone_number_id, display)"
	    " SELECT $1, $2 WHERE NOT EXISTS (SELECT 1 FROM numbers"
	    " WHERE display = $2 OR phone_number_id = $1)"
	    " ON CONFLICT DO NOTHING",
	/* The business number displayed as $1, if any. */
	[STMT_NUMBER_BY_DISPLAY] =
	    "SELECT id FROM numbers WHERE display = $1",

	/*
	 * The search (sql/019).  BEGIN, in a search's transaction: its
	 * statement_timeout $1, and back how far message_search is complete
	 * (STMT_MSG_SEARCH's $8).
	 */
	[STMT_SEARCH_BEGIN] =
	    "SELECT set_config('statement_timeout', $1, true), upto"
	    " FROM search_progress",
	/*
	 * The dispatcher, before each STMT_SEARCH_INDEX, in a statement of
	 * its own (so that the batch's snapshot is taken after it): seen
	 * when all the transactions in progress at the last batch have
	 * ended, else NULL; and whether there is anything to do (upto
	 * behind seen, or a message above it).
	 */
	[STMT_SEARCH_SETTLED] =
	    "SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM pg_locks l"
	    " WHERE l.locktype = 'virtualxid' AND l.mode = 'ExclusiveLock'"
	    " AND l.virtualxid = ANY (p.waiting)) THEN p.seen END,"
	    " p.upto < p.seen OR EXISTS (SELECT 1 FROM messages m"
	    " WHERE m.id > p.seen) FROM search_progress p",
	/*
	 * Up to $1 messages above search_progress.upto that message_search
	 * lacks go into it, oldest first.  $2 (STMT_SEARCH_SETTLED; NULL:
	 * not yet): every message up to $2 is visible now, so upto moves to
	 * $2 (to the end of this batch when it stopped short of it).  seen
	 * becomes the newest message visible (the end of the batch when
	 * full) and waiting the transactions in progress now, but this one
	 * and autovacuum's (which write no messages).  A second dispatcher
	 * skips while one is at it.  Back: the messages indexed, upto.
	 */
	[STMT_SEARCH_INDEX] =
	    "WITH p AS (SELECT upto, seen FROM search_progress"
	    " FOR UPDATE SKIP LOCKED),"
	    " n AS (SELECT m.id, lower(" MSG_SEARCH("m") ") AS doc"
	    " FROM p, messages m WHERE m.id > p.upto AND NOT EXISTS"
	    " (SELECT 1 FROM message_search s WHERE s.id = m.id)"
	    " ORDER BY m.id LIMIT $1::integer),"
	    " i AS (INSERT INTO message_search (id, doc) SELECT id, doc FROM n"
	    " ON CONFLICT (id) DO NOTHING),"
	    " f AS (SELECT count(*) AS k, CASE WHEN count(*) >= $1::integer"
	    " THEN max(id) END AS full_to FROM n) "
	    "UPDATE search_progress g SET upto = CASE WHEN $2::bigint IS NULL"
	    " THEN p.upto ELSE greatest(p.upto, least($2::bigint,"
	    " coalesce(f.full_to, $2::bigint))) END,"
	    " seen = coalesce(f.full_to, (SELECT max(id) FROM messages), p.seen),"
	    " waiting = ARRAY(SELECT l.virtualxid FROM pg_locks l"
	    " WHERE l.locktype = 'virtualxid' AND l.mode = 'ExclusiveLock'"
	    " AND l.pid <> pg_backend_pid() AND l.pid NOT IN (SELECT a.pid"
	    " FROM pg_stat_activity a"
	    " WHERE a.backend_type = 'autovacuum worker'))"
	    " FROM p, f WHERE g.one "
	    "RETURNING f.k, g.upto",
};

/*
 * The statements a request runs, prepared once so that PostgreSQL soon runs
 * them with a generic plan (see db_init): each looks up rows by a unique key
 * or writes one, so their plan never depends on the values.  Planning the
 * send on every call took about a fifth of the database's CPU.  The others
 * (optional-filter lists, the dispatcher's batches, admin counts) are
 * planned on every call with their real values, so a LIMIT, a search
 * pattern or a filter gets the plan that fits it.
 */
const unsigned char stmts_generic[STMT__MAX] = {
	[STMT_READY] = 1,
	[STMT_LOCAL_TIMEOUT] = 1,
	[STMT_APIKEY_AUTH] = 1,
	[STMT_MSG_SEND] = 1,
	[STMT_MSG_SEND_KEYED] = 1,
	[STMT_MSG_INBOUND] = 1,
	[STMT_NUMBER_OF_WEBHOOK] = 1,
	[STMT_NUMBER_BY_DISPLAY] = 1,
	[STMT_MSG_BY_PROVIDER_ID] = 1,
	[STMT_MSG_GET] = 1,
	[STMT_MSG_EVENTS] = 1,
	[STMT_IDEM_LOCK] = 1,
	[STMT_IDEM_GET] = 1,
	[STMT_IDEM_PUT] = 1,
	[STMT_STATUS_APPLY] = 1,
	[STMT_PENDING_TAKE] = 1,
	[STMT_ADMIN_SESSION_GET] = 1,
	[STMT_CONTACT_GET] = 1,
	[STMT_CONTACT_CHANGE] = 1,
	[STMT_MSG_INBOUND_REACTION] = 1,
	[STMT_MSG_INBOUND_ERROR] = 1,
	[STMT_TEMPLATE_GET] = 1,
	[STMT_CONTACT_WINDOW] = 1,
	[STMT_MSG_TARGET] = 1,
	[STMT_MEDIA_INBOUND] = 1,
	[STMT_MEDIA_GET] = 1,
	[STMT_MEDIA_FOR_SEND] = 1,
};

const char *const stmts_mig_sql[MIG__MAX] = {
	/* Session lock: a second `wadesk migrate` waits for the first. */
	[MIG_LOCK] = "SELECT pg_advisory_lock(7318420551)",
	[MIG_TABLE] =
	    "CREATE TABLE IF NOT EXISTS schema_migrations ("
	    " version text PRIMARY KEY,"
	    " applied_at timestamptz NOT NULL DEFAULT now())",
	[MIG_APPLIED] =
	    "SELECT 1 FROM schema_migrations WHERE version = $1",
	[MIG_RECORD] =
	    "INSERT INTO schema_migrations (version) VALUES ($1)",
};
