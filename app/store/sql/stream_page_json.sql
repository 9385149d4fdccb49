-- A page of a case's stream as ONE json text (an array of events in version order):
-- the caller's event loop receives a single string, not a Python object per row, and
-- parses it where heavy work runs. At most $4 events from version $2, known at $3.
SELECT count(*) AS events, max(version) AS last_version, coalesce(json_agg(json_build_object(
           'position', position, 'case_id', case_id, 'version', version, 'event_id', event_id,
           'type', type, 'schema_version', schema_version, 'data', data, 'metadata', metadata,
           'recorded_at', recorded_at, 'hash', hash) ORDER BY version)::text, '[]') AS page
FROM (
    SELECT * FROM events
    WHERE case_id = $1 AND version >= $2 AND ($3::timestamptz IS NULL OR recorded_at <= $3)
    ORDER BY version
    LIMIT $4
) AS page
