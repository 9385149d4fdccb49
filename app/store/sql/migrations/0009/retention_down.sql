-- Undo 0009: back to 0007's adoption function and policy_versions without retention_years.
DROP FUNCTION caseledger_destroy_data_keys(text[], timestamptz)
--
DROP FUNCTION caseledger_adopt_policy(integer, date, integer, jsonb, numeric, timestamptz, text, text, text, integer)
--
ALTER TABLE policy_versions DROP COLUMN retention_years
--
CREATE FUNCTION caseledger_adopt_policy(
    p_number integer, p_effective_from date, p_wait integer, p_rates jsonb, p_cap numeric,
    p_adopted_at timestamptz, p_adopted_by text, p_previous_hash text, p_hash text
) RETURNS void LANGUAGE sql AS $$
    INSERT INTO policy_versions (number, effective_from, closure_wait_days, milestone_rates,
                                 pba_cap_per_consumer, adopted_at, adopted_by, previous_hash, hash)
    VALUES (p_number, p_effective_from, p_wait, p_rates, p_cap, p_adopted_at, p_adopted_by,
            p_previous_hash, p_hash);
$$
--
DO $$
DECLARE
    here text := current_schema();
    app text := current_setting('caseledger.app_role', true);
BEGIN
    EXECUTE format('ALTER FUNCTION %I.caseledger_adopt_policy SECURITY DEFINER '
                   'SET search_path = pg_catalog, %I, pg_temp', here, here);
    EXECUTE format('REVOKE ALL ON FUNCTION %I.caseledger_adopt_policy FROM PUBLIC', here);
    IF app IS NOT NULL AND app <> '' THEN
        EXECUTE format('GRANT EXECUTE ON FUNCTION %I.caseledger_adopt_policy TO %I', here, app);
    END IF;
END $$
