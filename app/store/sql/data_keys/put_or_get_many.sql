-- An import batch's cases given their data keys in one round trip: for each case
-- ($1) its stored wrapped key, or the fresh one ($2) when it had none (first writer
-- wins); NULL once destroyed. $3: the master key's id.
SELECT t.case_id, caseledger_put_data_key(t.case_id, t.wrapped, $3) AS wrapped
FROM unnest($1::text[], $2::bytea[]) AS t(case_id, wrapped)
