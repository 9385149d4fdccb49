-- Migration 0004's downgrade: the app role loses its grants in this database and the
-- append runs as its caller again. The role itself stays (other databases may use it).
DO $$
DECLARE
    app text := current_setting('caseledger.app_role');
    here text := current_schema();
BEGIN
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I REVOKE SELECT ON TABLES FROM %I', here, app);
    EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA %I FROM %I', here, app);
    EXECUTE format('REVOKE ALL ON SCHEMA %I FROM %I', here, app);
    EXECUTE format('ALTER FUNCTION %I.caseledger_append SECURITY INVOKER RESET search_path', here);
    EXECUTE format('REVOKE ALL ON FUNCTION %I.caseledger_append FROM %I', here, app);
    EXECUTE format('GRANT EXECUTE ON FUNCTION %I.caseledger_append TO PUBLIC', here);
    EXECUTE format('GRANT EXECUTE ON FUNCTION %I.caseledger_put_clock TO PUBLIC', here);
    EXECUTE format('GRANT EXECUTE ON FUNCTION %I.caseledger_put_ledger TO PUBLIC', here);
END $$;
