-- Feed lag: the feed shows positions below (oldest running xid << 20). The transaction
-- whose xid is that horizon holds back every later commit; its age is the lag. A running
-- transaction of another database user is seen only with pg_read_all_stats (else 0).
-- Projection lag: read models are written in the append's own statement, so this is 0
-- unless something broke; it compares the recent streams (the newest events, at most $1
-- of the last $2 seconds, via the primary key) with case_state.
SELECT
  (SELECT COALESCE(EXTRACT(EPOCH FROM clock_timestamp() - min(a.xact_start)), 0)::float8
     FROM pg_stat_activity AS a
    WHERE a.backend_xid IS NOT NULL AND a.pid <> pg_backend_pid()
      AND a.backend_xid::text::bigint
          = pg_snapshot_xmin(pg_current_snapshot())::text::bigint % 4294967296) AS feed_lag,
  (SELECT count(*)
     FROM (SELECT case_id, max(version) AS version
             FROM (SELECT case_id, version, recorded_at FROM events
                    ORDER BY position DESC LIMIT $1) AS newest
            WHERE recorded_at > now() - make_interval(secs => $2)
            GROUP BY case_id) AS touched
     LEFT JOIN case_state AS s USING (case_id)
    WHERE s.version IS NULL OR s.version < touched.version) AS projection_lag;
