-- Ledger rows in a case_id range with a milestone reached in [$3, $4), or with no
-- milestone and opened then (their cap is the one in force on opened_on).
SELECT case_id, pba_id, detail
FROM ledger_pba
WHERE case_id > $1 AND case_id <= $2
  AND (jsonb_path_exists(detail -> 'milestones',
                         '$[*] ? (@.reached_on >= $from && @.reached_on < $to)',
                         jsonb_build_object('from', $3::text, 'to', $4::text))
       OR (jsonb_array_length(detail -> 'milestones') = 0 AND opened_on >= $3::date AND opened_on < $4::date))
ORDER BY case_id, opened_on, pba_id
