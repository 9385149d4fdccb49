-- One case's stream from version $2 up to version $4 (NULL: the last), as known at a
-- recorded time ($3, NULL: now). A fold at a head read earlier passes that head as $4, so
-- it never includes an event committed after the head was read.
SELECT position, case_id, version, event_id, type, schema_version, data, metadata, recorded_at, hash
FROM events
WHERE case_id = $1 AND version >= $2 AND ($4::int IS NULL OR version <= $4)
  AND ($3::timestamptz IS NULL OR recorded_at <= $3)
ORDER BY version
