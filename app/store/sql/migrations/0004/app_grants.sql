-- Migration 0004's copy; app.store.privileges.grant_app_role applies it again at the end
-- of every later migration, so a table or function made later is covered too. It only
-- adds (and re-hardens the append): a later table the app role writes is granted by
-- its own migration, or gets a row in the list below.
-- The app role (setting `caseledger.app_role`) reads every table of the schema the
-- tables live in and writes only:
--   events, case_state, closure_clock, ledger_pba: through caseledger_append, which
--     runs as its owner (SECURITY DEFINER) with a pinned search_path;
--   api_keys: new keys and their revocation; refused_claims: new rows;
--   ui_sessions: sign-in, use and sign-out;
--   merkle_leaves, merkle_frontier, checkpoints: new rows (the in-service signer).
-- It owns nothing, so it can neither ALTER nor DROP a table nor disable a trigger;
-- rebuild and import are operator commands that run with the owner's URL.
-- Statements are separated by lines holding only `--`.
DO $$
DECLARE
    app text := current_setting('caseledger.app_role');
    here text := current_schema();
BEGIN
    -- before PostgreSQL 15 every role may create tables in schema public
    BEGIN
        EXECUTE format('REVOKE CREATE ON SCHEMA %I FROM PUBLIC', here);
    EXCEPTION WHEN insufficient_privilege THEN
        RAISE WARNING 'could not revoke CREATE on schema % from PUBLIC: ask its owner', here;
    END;
    -- additive, so a later migration may grant its own tables more: only the history
    -- and its read models are reset, which nothing but the append may write
    EXECUTE format('REVOKE INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON %1$I.events, '
                   '%1$I.case_state, %1$I.closure_clock, %1$I.ledger_pba FROM %2$I', here, app);
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', here, app);
    EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA %I TO %I', here, app);
    -- a table the owner creates later is readable at once (writes need this file again)
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT SELECT ON TABLES TO %I', here, app);
END $$
--
DO $$
DECLARE
    app text := current_setting('caseledger.app_role');
    here text := current_schema();
    w record;
BEGIN
    FOR w IN SELECT * FROM (VALUES
        ('api_keys', 'INSERT, UPDATE (revoked_at)'),
        ('refused_claims', 'INSERT'),
        ('ui_sessions', 'INSERT, UPDATE (last_seen_at), DELETE'),
        ('merkle_leaves', 'INSERT'),
        ('merkle_frontier', 'INSERT'),
        ('checkpoints', 'INSERT')
    ) AS t (table_name, privileges)
    LOOP
        IF to_regclass(format('%I.%I', here, w.table_name)) IS NOT NULL THEN
            EXECUTE format('GRANT %s ON %I.%I TO %I', w.privileges, here, w.table_name, app);
        END IF;
    END LOOP;
END $$
--
DO $$
DECLARE
    app text := current_setting('caseledger.app_role');
    here text := current_schema();
BEGIN
    -- the append writes the tables the app role cannot: as the owner, resolving names
    -- only in pg_catalog and this schema (pg_temp last, so no temporary object shadows one)
    EXECUTE format('ALTER FUNCTION %I.caseledger_append SECURITY DEFINER '
                   'SET search_path = pg_catalog, %I, pg_temp', here, here);
    EXECUTE format('REVOKE ALL ON FUNCTION %I.caseledger_append FROM PUBLIC', here);
    EXECUTE format('GRANT EXECUTE ON FUNCTION %I.caseledger_append TO %I', here, app);
    -- the read-model writers are the append's (as the owner) and the rebuild's (run as the owner)
    EXECUTE format('REVOKE ALL ON FUNCTION %I.caseledger_put_clock FROM PUBLIC', here);
    EXECUTE format('REVOKE ALL ON FUNCTION %I.caseledger_put_ledger FROM PUBLIC', here);
END $$;
