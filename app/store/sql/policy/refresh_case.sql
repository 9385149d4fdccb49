-- A case's read-model rows after a policy adoption (caseledger_refresh_case, migration
-- 0007): written only if the case is still at the version that was folded.
SELECT caseledger_refresh_case($1, $2::jsonb, $3::jsonb, $4)
