-- wadesk schema, version 3: what the admin pages need.

-- Failed admin logins, for the per-user back-off (a few failures in a
-- short window refuse further attempts for that user name for a while).
CREATE TABLE admin_login_failures (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	username	text NOT NULL,
	remote		text,
	created_at	timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX admin_login_failures_user
	ON admin_login_failures (username, created_at);
CREATE INDEX admin_login_failures_created ON admin_login_failures (created_at);

-- The dashboard's messages-per-hour chart: an index-only range scan over
-- the last 24 hours.
CREATE INDEX messages_created ON messages (created_at) INCLUDE (direction, status);
