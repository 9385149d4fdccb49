-- The feed's horizon: positions are (xid << 20) + n, and every transaction older than
-- the oldest running one has committed or aborted.
SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint << 20
