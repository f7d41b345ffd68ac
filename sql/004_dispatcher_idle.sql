-- wadesk schema, version 4: dispatchers that are waiting for work.
--
-- NOTIFY takes a database-wide lock at commit, so notifying on every send
-- serialises commits.  A send notifies only while some dispatcher has said
-- it is idle here (and refreshed that within the last seconds); a busy
-- dispatcher finds new rows on its next claim anyway.
CREATE TABLE dispatcher_idle (
	name	text PRIMARY KEY,		-- host:pid
	seen_at	timestamptz NOT NULL DEFAULT now()
);
