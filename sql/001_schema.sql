-- wadesk schema, version 1: messages, their history, the outbox, credentials.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE messages (
	id			bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	direction		text NOT NULL
				CHECK (direction IN ('outbound', 'inbound')),
	sender			text NOT NULL,
	receiver		text NOT NULL,
	content			text NOT NULL,
	status			text NOT NULL
				CHECK (status IN ('queued', 'sent', 'delivered',
				    'read', 'failed', 'received')),
	provider_message_id	text UNIQUE,
	contact_name		text,
	error_code		text,
	error_message		text,
	created_at		timestamptz NOT NULL DEFAULT now(),
	updated_at		timestamptz NOT NULL DEFAULT now()
);

-- Keyset pagination (id DESC) under each filter.
CREATE INDEX messages_status_id ON messages (status, id);
CREATE INDEX messages_direction_id ON messages (direction, id);
CREATE INDEX messages_sender_id ON messages (sender, id);
CREATE INDEX messages_receiver_id ON messages (receiver, id);
-- Case-insensitive substring search (ILIKE '%q%').
CREATE INDEX messages_content_trgm ON messages USING gin (content gin_trgm_ops);
CREATE INDEX messages_sender_trgm ON messages USING gin (sender gin_trgm_ops);
CREATE INDEX messages_receiver_trgm ON messages USING gin (receiver gin_trgm_ops);

CREATE TABLE message_events (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	message_id	bigint NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
	status		text NOT NULL,
	detail		jsonb,
	created_at	timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX message_events_message ON message_events (message_id, id);

-- One row per outbound message still to be delivered.
CREATE TABLE outbox (
	message_id	bigint PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
	attempts	integer NOT NULL DEFAULT 0,
	run_at		timestamptz NOT NULL DEFAULT now(),
	locked_until	timestamptz,
	last_error	text
);
CREATE INDEX outbox_run_at ON outbox (run_at);

CREATE TABLE api_keys (
	id		integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name		text NOT NULL,
	key_hash	text NOT NULL UNIQUE,	-- hex SHA-256 of the key
	key_prefix	text NOT NULL,		-- first characters, for display
	created_at	timestamptz NOT NULL DEFAULT now(),
	revoked_at	timestamptz
);

CREATE TABLE idempotency_keys (
	api_key_id	integer NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
	key		text NOT NULL,
	request_hash	text NOT NULL,
	status_code	integer NOT NULL,
	response_body	text NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (api_key_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

CREATE TABLE admin_users (
	id		integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	username	text NOT NULL UNIQUE,
	password_hash	text NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE admin_sessions (
	token_hash	text PRIMARY KEY,	-- hex SHA-256 of the cookie value
	user_id		integer NOT NULL REFERENCES admin_users (id)
			ON DELETE CASCADE,
	csrf_token	text NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT now(),
	expires_at	timestamptz NOT NULL
);
CREATE INDEX admin_sessions_expires ON admin_sessions (expires_at);
