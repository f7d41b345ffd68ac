-- Read receipts: when an agent opens a conversation with unread customer
-- messages, WhatsApp is told the newest one is read (its blue ticks).  Sent
-- by the dispatcher like a message (retried, never in the way of the page
-- that asked for it); a row goes once WhatsApp took it or gave a final no.
CREATE TABLE read_receipts (
	message_id	bigint PRIMARY KEY
			REFERENCES messages (id) ON DELETE CASCADE,
	run_at		timestamptz NOT NULL DEFAULT now(),
	attempts	integer NOT NULL DEFAULT 0,
	last_error	text,
	created_at	timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX read_receipts_due ON read_receipts (run_at);
