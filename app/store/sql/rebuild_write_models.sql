-- A chunk's read-model rows ($1 case_ids, $2 clock rows, $3 ledger rows: JSON text), in one
-- statement through the functions the append writes them with (caseledger_put_clock is the
-- one closure-clock upsert); a case without a clock row keeps none.
WITH no_clock AS (
    DELETE FROM closure_clock k
     USING unnest($1::text[], $2::text[]) AS u(case_id, clock)
     WHERE k.case_id = u.case_id AND u.clock IS NULL
)
SELECT CASE WHEN u.clock IS NULL THEN NULL ELSE caseledger_put_clock(u.case_id, u.clock::jsonb) END,
       caseledger_put_ledger(u.case_id, u.ledger::jsonb)
FROM unnest($1::text[], $2::text[], $3::text[]) AS u(case_id, clock, ledger)
