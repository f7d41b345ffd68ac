-- wadesk schema, version 7: the simulated provider's sweep reads only the
-- messages it sent.  The old partial index held every sent or delivered
-- message, so at a million rows each sweep (ten a second) walked hundreds
-- of thousands of index entries of real sends: draining 50,000 messages
-- ran at 900 a second instead of 6,000.
DROP INDEX IF EXISTS messages_sent_updated;
CREATE INDEX messages_sim_updated ON messages (updated_at)
	WHERE status IN ('sent', 'delivered')
	AND provider_message_id LIKE 'sim.%';
