-- wadesk schema, version 9: the simulated provider's sweep, index-driven
-- whatever the statistics say.  Its predicate used LIKE 'sim.%', which the
-- provider-id index can also serve (a range, under the C collation): with a
-- million rows the planner preferred that index ANDed with the status index
-- and each sweep read a quarter of a million entries (30-50 ms, ten times a
-- second), so draining 50,000 messages fell to 700 a second.  left() has no
-- other index to compete with this one.
DROP INDEX IF EXISTS messages_sim_updated;
CREATE INDEX messages_sim_due ON messages (updated_at)
	WHERE status IN ('sent', 'delivered')
	AND left(provider_message_id, 4) = 'sim.';
