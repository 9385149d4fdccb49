-- Every event in feed order, every stored column (verify recomputes each hash). The
-- first four columns are what the tree audit merges on; keep them first. The JSON and
-- the event id come as text, as the pool's codecs would give them before parsing: the
-- verifier parses them itself, which spares a Python call per value in the driver.
SELECT position, case_id, version, hash, event_id::text, type, schema_version,
       data::text, metadata::text, recorded_at
FROM events
ORDER BY position
