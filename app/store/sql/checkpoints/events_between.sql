-- The events of one range of positions [$1, $2) in feed order, every stored column, in the
-- same shape and spelling as events_in_feed_order.sql (a hash worker of `verify --checkpoints`).
SELECT position, case_id, version, hash, event_id::text, type, schema_version,
       data::text, metadata::text,
       CASE WHEN recorded_at = '-infinity' THEN '1-01-01T00:00:00.000000Z'  -- the driver's datetime.min
            WHEN recorded_at = 'infinity' THEN '9999-12-31T23:59:59.999999Z'  -- and datetime.max
            WHEN recorded_at >= '0001-01-01 00:00:00+00'
            THEN to_char(recorded_at AT TIME ZONE 'UTC', 'FMYYYY-MM-DD"T"HH24:MI:SS.US"Z"')
            ELSE recorded_at::text  -- BC, which to_char would spell as the same year AD
       END
FROM events
WHERE position >= $1 AND position < $2
ORDER BY position
