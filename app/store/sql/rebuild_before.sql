-- Each case's head, its snapshot and read-model digests before the rebuild writes them. The
-- snapshot ($2: only one of the current fold version) comes back as text and is compared by
-- meaning in Python: measured, rendering it costs PostgreSQL a quarter of what parsing the
-- rebuilt snapshot into jsonb and comparing them there cost.
SELECT u.case_id, s.version, s.last_hash, s.last_recorded_at, s.state_version, s.fold_version,
  CASE WHEN s.fold_version = $2 THEN s.state::text END AS state,
  md5((SELECT to_jsonb(k)::text FROM closure_clock k WHERE k.case_id = u.case_id)) AS closure_clock,
  md5((SELECT jsonb_agg(to_jsonb(l) ORDER BY l.pba_id)::text FROM ledger_pba l
       WHERE l.case_id = u.case_id)) AS ledger_pba
FROM unnest($1::text[]) AS u(case_id)
LEFT JOIN case_state s ON s.case_id = u.case_id
