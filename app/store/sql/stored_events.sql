-- Events already stored under any of these event_ids ($1), in the stream's order.
SELECT position, case_id, version, event_id, type, schema_version, data, metadata, recorded_at, hash
FROM events WHERE event_id = ANY($1::uuid[]) ORDER BY position
