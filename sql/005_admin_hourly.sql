-- wadesk schema, version 5: the dashboard's messages-per-hour, cached.
--
-- The chart counts the last 24 hours by the hour.  An hour that ended more
-- than two hours ago hardly changes any more, so its counts are kept here
-- once computed; only the last few hours are counted on every view.
CREATE TABLE message_hourly (
	hour		timestamptz PRIMARY KEY,
	inbound		bigint NOT NULL,
	outbound	bigint NOT NULL,
	failed		bigint NOT NULL,
	computed_at	timestamptz NOT NULL DEFAULT now()
);
