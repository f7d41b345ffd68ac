-- A send or an inbound message no longer writes the search index.
--
-- The trigram GIN index on messages cost every write (pgbench of the send
-- statement: about a fifth of its throughput, half of its WAL), and its
-- pending list was flushed by whichever write found it full: that send
-- waited a few hundred milliseconds, the sends' worst latency.  The search
-- now has a table of its own, message_search, filled by the dispatcher
-- (STMT_SEARCH_INDEX, at least once a second) in batches; a search reads it
-- for the messages up to search_progress.upto and the messages themselves
-- above that (STMT_MSG_SEARCH), so it finds every message at once, indexed
-- or not.  The text is kept lowercased: the search's ILIKE is lower() LIKE
-- lower(), and LIKE over stored lowercase text skips a lower() per row.
--
-- The sender and receiver indexes went unused when the contact filter moved
-- to contact_id (sql/011); each cost every insert.  The outbox's foreign
-- key goes too (below).

-- Writers finish first and wait for this to commit: upto below is exact.
LOCK TABLE messages IN SHARE MODE;

DROP INDEX IF EXISTS messages_sender_id;
DROP INDEX IF EXISTS messages_receiver_id;

-- One row per message: lower(content || U+001F || sender || U+001F ||
-- receiver), what the search matches (sql/006).
CREATE TABLE message_search (
	id	bigint PRIMARY KEY,
	doc	text NOT NULL
);
INSERT INTO message_search (id, doc)
	SELECT id, lower(content || chr(31) || sender || chr(31) || receiver)
	FROM messages;
-- Only the dispatcher writes it, a batch at a time.  A batch goes through
-- the pending list, whose merges write the index several times faster than
-- row by row (measured: 2,000 messages in a third of a second against one
-- and a half); a short list (512 kB) keeps what every search scans of it
-- small, and only the dispatcher ever waits for its flush.
CREATE INDEX message_search_trgm ON message_search
	USING gin (doc gin_trgm_ops)
	WITH (fastupdate = on, gin_pending_list_limit = 512);
-- Statistics fine enough to tell a rare word from a common one (sql/010).
ALTER TABLE message_search ALTER COLUMN doc SET STATISTICS 1000;
DROP INDEX IF EXISTS messages_search_trgm;

-- How far message_search is complete.  Every message with an id up to upto
-- is in it.  seen is the newest id the last batch saw, and waiting the
-- transactions (virtual ids) in progress then: a message below seen that
-- the batch could not see yet belongs to one of them, so once none of them
-- runs any more, a batch sees it and upto may move to seen.
CREATE TABLE search_progress (
	one	boolean PRIMARY KEY DEFAULT true CHECK (one),
	upto	bigint NOT NULL,
	seen	bigint NOT NULL,
	waiting	text[] NOT NULL DEFAULT '{}'
);
INSERT INTO search_progress (upto, seen)
	SELECT coalesce(max(id), 0), coalesce(max(id), 0) FROM messages;

-- The outbox's foreign key checked every send's outbox row against the
-- message written by the same statement, with a row lock on it (a query and
-- a WAL record per send).  Only the send and retry statements write outbox
-- rows, each for its message: what the key still did is its ON DELETE
-- CASCADE, done below.
ALTER TABLE outbox DROP CONSTRAINT outbox_message_id_fkey;

-- A deleted message leaves the search and the outbox with it (a statement
-- trigger: inserts pay nothing for it).
CREATE FUNCTION wadesk_message_forget() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM message_search s USING wadesk_old o WHERE s.id = o.id;
	DELETE FROM outbox x USING wadesk_old o WHERE x.message_id = o.id;
	RETURN NULL;
END
$$;
CREATE TRIGGER messages_forget AFTER DELETE ON messages
	REFERENCING OLD TABLE AS wadesk_old
	FOR EACH STATEMENT EXECUTE FUNCTION wadesk_message_forget();
ANALYZE message_search;
