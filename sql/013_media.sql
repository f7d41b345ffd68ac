-- Media: the files of inbound media messages (fetched by the dispatcher from
-- WhatsApp) and the files agents upload to send.
--
-- One media row per file; its bytes in media_chunks, MEDIA_CHUNK (256 KiB)
-- per row in order.  Chunks, not one bytea: the dispatcher writes a file as
-- it downloads it and a worker serves it one chunk at a time, so neither
-- ever holds a whole file (up to WADESK_MEDIA_MAX_BYTES, 100 MiB) in
-- memory, and each chunk is read whole by its primary key.  Files are
-- already compressed (JPEG, Opus, MP4), so the chunks are stored without
-- compression (EXTERNAL).  A message points at its file (messages.media_id):
-- an upload may be sent to many customers.
CREATE TABLE media (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	direction	text NOT NULL CHECK (direction IN ('inbound', 'outbound')),
	-- The inbound message it came with (NULL for an upload).
	message_id	bigint REFERENCES messages (id) ON DELETE CASCADE,
	-- WhatsApp's id: the inbound media id to fetch, or the id an upload
	-- got from WhatsApp (valid 30 days, reused by retries).
	wa_media_id	text,
	wa_uploaded_at	timestamptz,
	mime_type	text NOT NULL DEFAULT 'application/octet-stream',
	size		bigint NOT NULL DEFAULT 0 CHECK (size >= 0),
	sha256		text,		-- hex, of the stored bytes
	filename	text,
	status		text NOT NULL DEFAULT 'pending'
			CHECK (status IN ('pending', 'stored', 'failed')),
	error		text,		-- why a fetch failed (last attempt)
	attempts	integer NOT NULL DEFAULT 0,
	next_attempt_at	timestamptz NOT NULL DEFAULT now(),
	created_at	timestamptz NOT NULL DEFAULT now(),
	updated_at	timestamptz NOT NULL DEFAULT now()
);
-- The dispatcher's queue of fetches: small, only the pending.
CREATE INDEX media_pending ON media (next_attempt_at) WHERE status = 'pending';
CREATE INDEX media_message ON media (message_id) WHERE message_id IS NOT NULL;
CREATE INDEX media_created ON media (created_at);

CREATE TABLE media_chunks (
	media_id	bigint NOT NULL REFERENCES media (id) ON DELETE CASCADE,
	seq		integer NOT NULL CHECK (seq >= 0),
	data		bytea NOT NULL,
	PRIMARY KEY (media_id, seq)
);
ALTER TABLE media_chunks ALTER COLUMN data SET STORAGE EXTERNAL;

ALTER TABLE messages ADD COLUMN media_id bigint
	REFERENCES media (id) ON DELETE SET NULL;
CREATE INDEX messages_media ON messages (media_id) WHERE media_id IS NOT NULL;
