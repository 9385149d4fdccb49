-- An import batch's changed read-model rows, through the functions caseledger_append writes
-- them with (one mapping of state to rows): a case's clock row ($2) and its ledger rows ($3),
-- each null where the batch left it unchanged. JSON arrives as text (no jsonb[] literal to
-- escape and parse).
SELECT CASE WHEN u.clock IS NULL THEN NULL ELSE caseledger_put_clock(u.case_id, u.clock::jsonb) END,
       CASE WHEN u.ledger IS NULL THEN NULL ELSE caseledger_put_ledger(u.case_id, u.ledger::jsonb) END
FROM unnest($1::text[], $2::text[], $3::text[]) AS u(case_id, clock, ledger)
