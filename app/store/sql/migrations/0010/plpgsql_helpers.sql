-- Migration 0010's copy (frozen: a later change goes into a new migration's copy).
-- The append's helpers in PL/pgSQL (issues 16 and 13). As LANGUAGE sql functions that
-- cannot be inlined (they write, and the plpgsql append calls them with PERFORM), their
-- statements were parsed and planned again on every call; a PL/pgSQL function keeps its
-- plans for the session. Same statements, same results, same errors. CREATE OR REPLACE
-- keeps each function's owner and grants and resets what it does not state (the DO block
-- at the end states the data key's). Statements are separated by lines holding only `--`.
CREATE OR REPLACE FUNCTION caseledger_put_clock(p_case_id text, p_clock jsonb) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO closure_clock (case_id, phase, clock_start, eligible_on, explanation)
    VALUES (p_case_id, p_clock->>'phase', (p_clock->>'clock_start')::date,
            (p_clock->>'eligible_on')::date, p_clock->'explanation')
    ON CONFLICT (case_id) DO UPDATE SET
        phase = EXCLUDED.phase, clock_start = EXCLUDED.clock_start,
        eligible_on = EXCLUDED.eligible_on, explanation = EXCLUDED.explanation;
END $$
--
CREATE OR REPLACE FUNCTION caseledger_put_ledger(p_case_id text, p_ledger jsonb) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM ledger_pba
    WHERE case_id = p_case_id
      AND pba_id NOT IN (SELECT r->>'pba_id' FROM jsonb_array_elements(p_ledger) AS r);
    INSERT INTO ledger_pba (case_id, pba_id, provider_id, status, opened_on, earned,
                            authorized, paid, outstanding, cap_left, detail)
    SELECT p_case_id, r->>'pba_id', r->>'provider_id', r->>'status',
           (r->>'opened_on')::date, (r->>'earned')::numeric, (r->>'authorized')::numeric,
           (r->>'paid')::numeric, (r->>'outstanding')::numeric, (r->>'cap_left')::numeric, r
    FROM jsonb_array_elements(p_ledger) AS r
    ON CONFLICT (case_id, pba_id) DO UPDATE SET
        provider_id = EXCLUDED.provider_id, status = EXCLUDED.status,
        opened_on = EXCLUDED.opened_on, earned = EXCLUDED.earned,
        authorized = EXCLUDED.authorized, paid = EXCLUDED.paid,
        outstanding = EXCLUDED.outstanding, cap_left = EXCLUDED.cap_left,
        detail = EXCLUDED.detail;
END $$
--
-- A new case's data key: the first writer's key wins, every writer then reads the stored
-- one. The key just stored comes back from the INSERT itself; only a case that had a key
-- (or whose key was destroyed) reads its row.
CREATE OR REPLACE FUNCTION caseledger_put_data_key(p_case_id text, p_wrapped bytea, p_master_key_id text)
RETURNS bytea LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    v_wrapped bytea;
BEGIN
    INSERT INTO case_data_keys (case_id, wrapped, master_key_id)
    VALUES (p_case_id, p_wrapped, p_master_key_id)
    ON CONFLICT (case_id) DO NOTHING
    RETURNING wrapped INTO v_wrapped;
    IF FOUND THEN
        RETURN v_wrapped;
    END IF;
    RETURN (SELECT wrapped FROM case_data_keys WHERE case_id = p_case_id);
END $$
--
-- As the owner, resolving names only in pg_catalog and this schema (pg_temp last, so no
-- temporary table shadows case_data_keys or access_log), callable by the app role and
-- not by PUBLIC, like the other SECURITY DEFINER functions (0004, 0007, 0009). 0008 left
-- both executable by PUBLIC: any role that could connect could give a case a key of its
-- choosing or write forged access records (tests/security/test_least_privilege.py).
DO $$
DECLARE
    here text := current_schema();
    app text := current_setting('caseledger.app_role', true);
    f text;
BEGIN
    FOREACH f IN ARRAY ARRAY['caseledger_put_data_key', 'caseledger_record_access'] LOOP
        EXECUTE format('ALTER FUNCTION %I.%I SECURITY DEFINER '
                       'SET search_path = pg_catalog, %I, pg_temp', here, f, here);
        EXECUTE format('REVOKE ALL ON FUNCTION %I.%I FROM PUBLIC', here, f);
        IF app IS NOT NULL AND app <> '' THEN
            EXECUTE format('GRANT EXECUTE ON FUNCTION %I.%I TO %I', here, f, app);
        END IF;
    END LOOP;
END $$
