-- The events with a position in [$1, $2] (every one, or a hash worker's range), in feed
-- order, every stored column (verify recomputes each hash). The
-- first four columns are what the tree audit merges on; keep them first. The JSON, the
-- event id and the time come as text, the JSON and the id as the pool's codecs would give
-- them before parsing (the verifier parses the JSON itself, which spares a Python call per
-- value in the driver), the time spelled as `app.domain.hashing.timestamp_text` spells the
-- datetime the driver gives (UTC, microseconds, a year below 1000 unpadded; the driver reads
-- -infinity and infinity as datetime.min and max, and writes those as them; what no
-- datetime holds spells unlike any: tests/integration/test_verify_rows.py).
SELECT position, case_id, version, hash, event_id::text, type, schema_version,
       data::text, metadata::text,
       CASE WHEN recorded_at = '-infinity' THEN '1-01-01T00:00:00.000000Z'  -- the driver's datetime.min
            WHEN recorded_at = 'infinity' THEN '9999-12-31T23:59:59.999999Z'  -- and datetime.max
            WHEN recorded_at >= '0001-01-01 00:00:00+00'
            THEN to_char(recorded_at AT TIME ZONE 'UTC', 'FMYYYY-MM-DD"T"HH24:MI:SS.US"Z"')
            ELSE recorded_at::text  -- BC, which to_char would spell as the same year AD
       END
FROM events
WHERE position BETWEEN $1 AND $2
ORDER BY position
