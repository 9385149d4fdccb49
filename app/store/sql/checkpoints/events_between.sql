-- The events of one range of positions [$1, $2) in feed order, every stored column, in the
-- same shape as events_in_feed_order.sql (a hash worker of `verify --checkpoints`).
SELECT position, case_id, version, hash, event_id::text, type, schema_version,
       data::text, metadata::text, recorded_at
FROM events
WHERE position >= $1 AND position < $2
ORDER BY position
