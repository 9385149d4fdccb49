-- The retractions, after version $3 and known at $4 (NULL: now), of the events with
-- versions $2 to $3 of the case: bounded by the page they mark.
SELECT position, case_id, version, event_id, type, schema_version, data, metadata, recorded_at, hash
FROM events
WHERE case_id = $1 AND version > $3 AND type = 'EventRetracted'
  AND lower(data ->> 'retracted_event_id') IN (
      SELECT event_id::text FROM events WHERE case_id = $1 AND version BETWEEN $2 AND $3)
  AND ($4::timestamptz IS NULL OR recorded_at <= $4)
ORDER BY version
