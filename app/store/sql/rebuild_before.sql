-- Each case's head and read-model digests before the rebuild writes them. The snapshot
-- is compared in the database when it is of the case's last version (jsonb equality);
-- a lagging one comes back to be folded forward in Python.
SELECT u.case_id, s.version, s.last_hash, s.last_recorded_at, s.state_version, s.fold_version,
  (s.state_version = s.version AND s.state = u.state) AS state_equal,
  CASE WHEN s.state_version < s.version THEN s.state END AS state,
  md5((SELECT to_jsonb(k)::text FROM closure_clock k WHERE k.case_id = u.case_id)) AS closure_clock,
  md5((SELECT jsonb_agg(to_jsonb(l) ORDER BY l.pba_id)::text FROM ledger_pba l
       WHERE l.case_id = u.case_id)) AS ledger_pba
FROM unnest($1::text[], $2::jsonb[]) AS u(case_id, state)
LEFT JOIN case_state s ON s.case_id = u.case_id
