-- wadesk schema, version 8: less to write for every message.
--
-- A message's first event (queued for a send, received for an inbound
-- message) said nothing its row does not: it is now read from the row
-- (STMT_MSG_EVENTS), and message_events keeps what happened afterwards.
-- The direction index did not earn its cost: half the rows match either
-- direction, so the primary key serves that filter as well.  Outbound
-- messages have no WhatsApp id until they are sent: the unique index skips
-- the NULLs instead of holding one entry per queued message.
DELETE FROM message_events e USING messages m
	WHERE e.message_id = m.id AND e.detail IS NULL
	AND e.status = CASE m.direction
	    WHEN 'outbound' THEN 'queued' ELSE 'received' END;
DROP INDEX IF EXISTS messages_direction_id;
ALTER TABLE messages DROP CONSTRAINT IF EXISTS messages_provider_message_id_key;
CREATE UNIQUE INDEX messages_provider_id ON messages (provider_message_id)
	WHERE provider_message_id IS NOT NULL;
