-- Each case's read-model digests after the rebuild wrote them (as in rebuild_before).
SELECT u.case_id,
  md5((SELECT to_jsonb(k)::text FROM closure_clock k WHERE k.case_id = u.case_id)) AS closure_clock,
  md5((SELECT jsonb_agg(to_jsonb(l) ORDER BY l.pba_id)::text FROM ledger_pba l
       WHERE l.case_id = u.case_id)) AS ledger_pba
FROM unnest($1::text[]) AS u(case_id)
