-- A case's read-model rows, through the functions the append writes them with
-- (caseledger_put_clock is the one closure-clock upsert); no clock row: none kept.
WITH no_clock AS (DELETE FROM closure_clock WHERE case_id = $1 AND $2::jsonb IS NULL)
SELECT CASE WHEN $2::jsonb IS NULL THEN NULL ELSE caseledger_put_clock($1, $2) END,
       caseledger_put_ledger($1, $3)
