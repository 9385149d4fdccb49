-- The global feed in position order, never past a transaction that may still
-- commit: positions are (xid << 20) + n, and everything below the oldest running
-- transaction's xid is final.
SELECT position, case_id, version, event_id, type, schema_version, data, metadata, recorded_at, hash
FROM events
WHERE position > $1 AND position < (pg_snapshot_xmin(pg_current_snapshot())::text::bigint << 20)
ORDER BY position
LIMIT $2
