-- The heads of the cases an import batch opens (expected version 0), as caseledger_append
-- writes a new case's row; a case another writer opened meanwhile fails on case_state_pkey.
INSERT INTO case_state (case_id, version, last_hash, last_recorded_at, state_version,
                        fold_version, state)
SELECT u.case_id, u.version, u.last_hash, u.recorded_at, u.version, u.fold_version,
       COALESCE(u.state::jsonb, 'null'::jsonb)
FROM unnest($1::text[], $2::int[], $3::text[], $4::timestamptz[], $5::int[], $6::text[])
     AS u(case_id, version, last_hash, recorded_at, fold_version, state)
