-- wadesk schema, version 10: statistics fine enough for the search to pick
-- its plan.  With the default 100, a rare word ("refund", one row in a
-- thousand) was estimated ten times too common, so the planner walked the
-- newest rows by id instead of asking the trigram index (35 ms instead of
-- 3 ms at a million rows).
ALTER INDEX messages_search_trgm ALTER COLUMN 1 SET STATISTICS 1000;
ANALYZE messages;
