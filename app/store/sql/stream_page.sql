-- One page of a case's stream: at most $4 events from version $2 on, as known at a
-- recorded time ($3, NULL: now). The limit is here, not in the caller.
SELECT position, case_id, version, event_id, type, schema_version, data, metadata, recorded_at, hash
FROM events
WHERE case_id = $1 AND version >= $2 AND ($3::timestamptz IS NULL OR recorded_at <= $3)
ORDER BY version
LIMIT $4
