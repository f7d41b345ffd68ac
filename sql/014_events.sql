-- wadesk schema, version 14: events to other systems (outbound webhooks).
--
-- A transactional outbox: statement triggers on messages and contacts write
-- an event, and one delivery per subscribed endpoint, in the transaction of
-- the change itself, so nothing that rolls back is announced and nothing
-- that commits is missed.  The event keeps a snapshot of the row as it was
-- changed (without the raw WhatsApp item: wadesk_event_message); the
-- dispatcher renders it with the API's own renderer when it delivers.
-- While no endpoint is enabled the triggers do not exist
-- (wadesk_events_arm): writes pay nothing for events nobody hears.

CREATE TABLE endpoints (
	id		integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	url		text NOT NULL,
	-- The event types it receives (at least one).
	types		text[] NOT NULL CHECK (cardinality(types) > 0),
	-- whsec_<base64>: needed in clear to sign; never logged, shown once.
	secret		text NOT NULL,
	enabled		boolean NOT NULL DEFAULT true,
	disabled_reason	text,
	disabled_at	timestamptz,
	-- The first failed attempt since the last success (NULL: healthy).
	failing_since	timestamptz,
	created_at	timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE events (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	-- The webhook-id header: the same on every attempt.
	webhook_id	text NOT NULL UNIQUE DEFAULT
			'msg_' || replace(gen_random_uuid()::text, '-', ''),
	type		text NOT NULL CHECK (type IN ('message.received',
			    'message.created', 'message.updated',
			    'contact.updated')),
	message		jsonb,		-- the messages row (message.*)
	contact		jsonb,		-- the contacts row (contact.updated)
	created_at	timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_created ON events (created_at);

-- One event for one endpoint.  pending rows are due at run_at; a claimed
-- row's run_at is pushed past its lease, so a dispatcher killed
-- mid-delivery loses nothing.
CREATE TABLE deliveries (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	event_id	bigint NOT NULL REFERENCES events (id) ON DELETE CASCADE,
	endpoint_id	integer NOT NULL REFERENCES endpoints (id)
			ON DELETE CASCADE,
	state		text NOT NULL DEFAULT 'pending'
			CHECK (state IN ('pending', 'delivered', 'failed')),
	attempts	integer NOT NULL DEFAULT 0,
	run_at		timestamptz NOT NULL DEFAULT now(),
	created_at	timestamptz NOT NULL DEFAULT now(),
	updated_at	timestamptz NOT NULL DEFAULT now()
);
-- Each endpoint's oldest pending delivery (kept in order per endpoint).
CREATE INDEX deliveries_pending ON deliveries (endpoint_id, id)
	WHERE state = 'pending';
CREATE INDEX deliveries_event ON deliveries (event_id);

-- Every attempt, for the admin page.
CREATE TABLE delivery_attempts (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	delivery_id	bigint NOT NULL REFERENCES deliveries (id)
			ON DELETE CASCADE,
	endpoint_id	integer NOT NULL REFERENCES endpoints (id)
			ON DELETE CASCADE,
	attempt		integer NOT NULL,
	http_status	integer,	-- NULL: no HTTP answer
	duration_ms	integer NOT NULL,
	error		text,
	created_at	timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX delivery_attempts_endpoint ON delivery_attempts
	(endpoint_id, id DESC);
CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id);

-- A message row as an event keeps it: without the raw WhatsApp item (it can
-- be large), but with an outbound message's template, which the API shows.
CREATE FUNCTION wadesk_event_message(m jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
	SELECT (m - 'raw') || CASE WHEN m->>'direction' = 'outbound'
	    AND m->'raw' ? 'template' THEN jsonb_build_object('raw',
	    jsonb_build_object('template', m->'raw'->'template'))
	    ELSE '{}'::jsonb END
$$;

-- A new message: message.received (inbound) or message.created (queued).
CREATE FUNCTION wadesk_events_message_new() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM endpoints WHERE enabled) THEN
		RETURN NULL;
	END IF;
	WITH e AS (
		INSERT INTO events (type, message)
		SELECT t.type, wadesk_event_message(to_jsonb(n))
		FROM wadesk_new n CROSS JOIN LATERAL (SELECT CASE n.direction
		    WHEN 'inbound' THEN 'message.received'
		    ELSE 'message.created' END AS type) t
		WHERE EXISTS (SELECT 1 FROM endpoints p
		    WHERE p.enabled AND t.type = ANY (p.types))
		ORDER BY n.id
		RETURNING id, type)
	INSERT INTO deliveries (event_id, endpoint_id)
	SELECT e.id, p.id FROM e JOIN endpoints p
	    ON p.enabled AND e.type = ANY (p.types)
	ORDER BY e.id, p.id;
	RETURN NULL;
END
$$;

-- A message whose status changed: message.updated.
CREATE FUNCTION wadesk_events_message_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM endpoints
	    WHERE enabled AND 'message.updated' = ANY (types)) THEN
		RETURN NULL;
	END IF;
	WITH e AS (
		INSERT INTO events (type, message)
		SELECT 'message.updated', wadesk_event_message(to_jsonb(n))
		FROM wadesk_new n JOIN wadesk_old o ON o.id = n.id
		WHERE n.status IS DISTINCT FROM o.status
		ORDER BY n.id
		RETURNING id)
	INSERT INTO deliveries (event_id, endpoint_id)
	SELECT e.id, p.id FROM e JOIN endpoints p
	    ON p.enabled AND 'message.updated' = ANY (p.types)
	ORDER BY e.id, p.id;
	RETURN NULL;
END
$$;

-- A contact whose state, assignee or identity changed: contact.updated
-- (not its unread count or last message time, which every inbound
-- message moves).
CREATE FUNCTION wadesk_events_contact_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM endpoints
	    WHERE enabled AND 'contact.updated' = ANY (types)) THEN
		RETURN NULL;
	END IF;
	WITH e AS (
		INSERT INTO events (type, contact)
		SELECT 'contact.updated', to_jsonb(n)
		FROM wadesk_new n JOIN wadesk_old o ON o.id = n.id
		WHERE (n.state, n.assignee_id, n.phone, n.user_id,
		    n.parent_user_id, n.username, n.name) IS DISTINCT FROM
		    (o.state, o.assignee_id, o.phone, o.user_id,
		    o.parent_user_id, o.username, o.name)
		ORDER BY n.id
		RETURNING id)
	INSERT INTO deliveries (event_id, endpoint_id)
	SELECT e.id, p.id FROM e JOIN endpoints p
	    ON p.enabled AND 'contact.updated' = ANY (p.types)
	ORDER BY e.id, p.id;
	RETURN NULL;
END
$$;

-- The triggers above cost every write to messages and contacts (their
-- transition tables are filled whether or not anyone listens): they exist
-- only while an enabled endpoint does.  Changing the endpoints arms or
-- disarms them in the same transaction; the advisory lock keeps two such
-- transactions from both creating them.
CREATE FUNCTION wadesk_events_arm() RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	want	boolean;
	have	boolean;
BEGIN
	PERFORM pg_advisory_xact_lock(7318420552);
	want := EXISTS (SELECT 1 FROM endpoints WHERE enabled);
	have := EXISTS (SELECT 1 FROM pg_trigger
	    WHERE tgrelid = 'messages'::regclass
	    AND tgname = 'messages_events_new');
	IF want AND NOT have THEN
		CREATE TRIGGER messages_events_new AFTER INSERT ON messages
		    REFERENCING NEW TABLE AS wadesk_new
		    FOR EACH STATEMENT
		    EXECUTE FUNCTION wadesk_events_message_new();
		CREATE TRIGGER messages_events_changed AFTER UPDATE ON messages
		    REFERENCING OLD TABLE AS wadesk_old NEW TABLE AS wadesk_new
		    FOR EACH STATEMENT
		    EXECUTE FUNCTION wadesk_events_message_changed();
		CREATE TRIGGER contacts_events_changed AFTER UPDATE ON contacts
		    REFERENCING OLD TABLE AS wadesk_old NEW TABLE AS wadesk_new
		    FOR EACH STATEMENT
		    EXECUTE FUNCTION wadesk_events_contact_changed();
	ELSIF have AND NOT want THEN
		DROP TRIGGER messages_events_new ON messages;
		DROP TRIGGER messages_events_changed ON messages;
		DROP TRIGGER contacts_events_changed ON contacts;
	END IF;
END
$$;

CREATE FUNCTION wadesk_events_arm_trigger() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM wadesk_events_arm();
	RETURN NULL;
END
$$;

CREATE TRIGGER endpoints_arm AFTER INSERT OR UPDATE OR DELETE ON endpoints
	FOR EACH STATEMENT EXECUTE FUNCTION wadesk_events_arm_trigger();
SELECT wadesk_events_arm();
