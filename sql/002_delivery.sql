-- wadesk schema, version 2: delivery statuses that move only forward, and
-- statuses that arrive before their message's provider id is known.

-- queued < sent < delivered < read; failed and received stand apart.
CREATE FUNCTION wadesk_status_rank(s text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT CASE s WHEN 'queued' THEN 0 WHEN 'sent' THEN 1
	    WHEN 'delivered' THEN 2 WHEN 'read' THEN 3 ELSE NULL END
$$;

-- Does a status report move a message in status cur forward?  failed
-- replaces queued or sent only and is final; the others only climb.
CREATE FUNCTION wadesk_status_advances(cur text, next text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT CASE
	    WHEN cur IN ('failed', 'received') THEN false
	    WHEN next = 'failed' THEN cur IN ('queued', 'sent')
	    ELSE coalesce(wadesk_status_rank(next) > wadesk_status_rank(cur),
	        false)
	END
$$;

-- A status webhook for a provider id no message carries yet (WhatsApp may
-- report before the send's own answer is stored); applied when it appears.
CREATE TABLE pending_statuses (
	id			bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	provider_message_id	text NOT NULL,
	status			text NOT NULL,
	detail			jsonb,
	error_code		text,
	error_message		text,
	reported_at		timestamptz NOT NULL,
	created_at		timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX pending_statuses_provider ON pending_statuses (provider_message_id);

-- The simulated provider advances sent messages by age.
CREATE INDEX messages_sent_updated ON messages (updated_at)
	WHERE status IN ('sent', 'delivered');
