-- Every event in feed order, every stored column (verify recomputes each hash).
SELECT position, case_id, version, event_id, type, schema_version, data, metadata, recorded_at, hash
FROM events
ORDER BY position
