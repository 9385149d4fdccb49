-- Retention (issue 13, item 3): the policy's retention period, and the app role's one way
-- to destroy a case's data key. Statements are separated by lines holding only `--`.
-- The period is effective-dated like every number of the policy (docs/policy.md). Versions
-- adopted before it existed get the default, 5 years; their hashes do not change (the
-- chain covers `retention_years` only when it is not 5: app.domain.policy.hashed_record).
-- Adding a column with a constant default rewrites no row, so the append-only trigger
-- (UPDATE refused) is not involved.
ALTER TABLE policy_versions
    ADD COLUMN retention_years integer NOT NULL DEFAULT 5
        CONSTRAINT policy_versions_retention_years_check CHECK (retention_years BETWEEN 1 AND 100)
--
DROP FUNCTION caseledger_adopt_policy(integer, date, integer, jsonb, numeric, timestamptz, text, text, text)
--
CREATE FUNCTION caseledger_adopt_policy(
    p_number integer, p_effective_from date, p_wait integer, p_rates jsonb, p_cap numeric,
    p_adopted_at timestamptz, p_adopted_by text, p_previous_hash text, p_hash text,
    p_retention_years integer
) RETURNS void LANGUAGE sql AS $$
    INSERT INTO policy_versions (number, effective_from, closure_wait_days, milestone_rates,
                                 pba_cap_per_consumer, adopted_at, adopted_by, previous_hash, hash,
                                 retention_years)
    VALUES (p_number, p_effective_from, p_wait, p_rates, p_cap, p_adopted_at, p_adopted_by,
            p_previous_hash, p_hash, p_retention_years);
$$
--
-- The retention run destroys the data keys of the cases it recorded `CaseRecordsDestroyed`
-- for, and only those: the app role cannot destroy a key the log does not account for. A
-- case that never had a key gets a destroyed row, so it never takes one (its later personal
-- values are refused). Returns the cases destroyed now; a key destroyed before is left as
-- it is (a second run changes nothing).
CREATE FUNCTION caseledger_destroy_data_keys(p_case_ids text[], p_at timestamptz)
RETURNS SETOF text LANGUAGE sql AS $$
    INSERT INTO case_data_keys AS k (case_id, wrapped, master_key_id, destroyed_at)
    SELECT DISTINCT d.case_id, NULL::bytea, '-', p_at
    FROM unnest(p_case_ids) AS d(case_id)
    WHERE EXISTS (SELECT 1 FROM events e
                  WHERE e.case_id = d.case_id AND e.type = 'CaseRecordsDestroyed')
    ON CONFLICT (case_id) DO UPDATE SET wrapped = NULL, destroyed_at = EXCLUDED.destroyed_at
        WHERE k.wrapped IS NOT NULL
    RETURNING k.case_id;
$$
--
DO $$
DECLARE
    here text := current_schema();
    app text := current_setting('caseledger.app_role', true);
BEGIN
    EXECUTE format('ALTER FUNCTION %I.caseledger_adopt_policy SECURITY DEFINER '
                   'SET search_path = pg_catalog, %I, pg_temp', here, here);
    EXECUTE format('ALTER FUNCTION %I.caseledger_destroy_data_keys SECURITY DEFINER '
                   'SET search_path = pg_catalog, %I, pg_temp', here, here);
    EXECUTE format('REVOKE ALL ON FUNCTION %I.caseledger_adopt_policy FROM PUBLIC', here);
    EXECUTE format('REVOKE ALL ON FUNCTION %I.caseledger_destroy_data_keys FROM PUBLIC', here);
    IF app IS NOT NULL AND app <> '' THEN
        EXECUTE format('GRANT EXECUTE ON FUNCTION %I.caseledger_adopt_policy TO %I', here, app);
        EXECUTE format('GRANT EXECUTE ON FUNCTION %I.caseledger_destroy_data_keys TO %I', here, app);
    END IF;
END $$
