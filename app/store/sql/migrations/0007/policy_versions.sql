-- The policy table as recorded history: one row per adopted version, hash-chained
-- (app.domain.policy_history). Rates are decimal text by milestone, as hashed.
CREATE TABLE policy_versions (
    number integer PRIMARY KEY CHECK (number >= 1),
    effective_from date NOT NULL,
    closure_wait_days integer NOT NULL CHECK (closure_wait_days BETWEEN 1 AND 3650),
    milestone_rates jsonb NOT NULL,
    pba_cap_per_consumer numeric(12, 2) NOT NULL CHECK (pba_cap_per_consumer >= 0),
    adopted_at timestamptz NOT NULL,
    adopted_by text NOT NULL,
    previous_hash text NOT NULL UNIQUE,
    hash text NOT NULL UNIQUE
)
--
CREATE FUNCTION policy_versions_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'policy_versions is append-only: % is refused; adopt a new version instead', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$
--
CREATE TRIGGER policy_versions_append_only BEFORE UPDATE OR DELETE ON policy_versions
    FOR EACH ROW EXECUTE FUNCTION policy_versions_refuse_change()
--
CREATE TRIGGER policy_versions_no_truncate BEFORE TRUNCATE ON policy_versions
    FOR EACH STATEMENT EXECUTE FUNCTION policy_versions_refuse_change()
--
-- The service's role owns nothing (migration 0004): it adopts and refreshes through
-- these two functions, which run as the owner with a pinned search_path.
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
CREATE FUNCTION caseledger_refresh_case(p_case_id text, p_clock jsonb, p_ledger jsonb, p_version bigint)
RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM case_state WHERE case_id = p_case_id AND version = p_version FOR UPDATE;
    IF NOT FOUND THEN
        RETURN false;  -- an append overtook the fold: its rows stand
    END IF;
    IF p_clock IS NULL THEN
        DELETE FROM closure_clock WHERE case_id = p_case_id;
    ELSE
        PERFORM caseledger_put_clock(p_case_id, p_clock);
    END IF;
    PERFORM caseledger_put_ledger(p_case_id, p_ledger);
    RETURN true;
END $$
--
DO $$
DECLARE
    here text := current_schema();
    app text := current_setting('caseledger.app_role', true);
BEGIN
    EXECUTE format('ALTER FUNCTION %I.caseledger_adopt_policy SECURITY DEFINER '
                   'SET search_path = pg_catalog, %I, pg_temp', here, here);
    EXECUTE format('ALTER FUNCTION %I.caseledger_refresh_case SECURITY DEFINER '
                   'SET search_path = pg_catalog, %I, pg_temp', here, here);
    EXECUTE format('REVOKE ALL ON FUNCTION %I.caseledger_adopt_policy FROM PUBLIC', here);
    EXECUTE format('REVOKE ALL ON FUNCTION %I.caseledger_refresh_case FROM PUBLIC', here);
    IF app IS NOT NULL AND app <> '' THEN
        EXECUTE format('GRANT EXECUTE ON FUNCTION %I.caseledger_adopt_policy TO %I', here, app);
        EXECUTE format('GRANT EXECUTE ON FUNCTION %I.caseledger_refresh_case TO %I', here, app);
    END IF;
END $$
