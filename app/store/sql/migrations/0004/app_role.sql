-- Migration 0004's copy. The role the service connects as (cluster-wide: created once,
-- never dropped by a migration, because other databases of the cluster may use it).
-- Its name is the transaction's setting `caseledger.app_role`, its password (empty:
-- none, for trust, peer or certificate authentication) `caseledger.app_password`.
-- LOGIN: the service logs in as it; it owns nothing and creates nothing.
-- Two sessions may create it at once: the loser's duplicate is not an error.
DO $$
DECLARE
    app text := current_setting('caseledger.app_role');
    secret text := NULLIF(current_setting('caseledger.app_password', true), '');
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = app) THEN
        BEGIN
            EXECUTE format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS', app);
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END;
    END IF;
    IF secret IS NOT NULL THEN
        EXECUTE format('ALTER ROLE %I PASSWORD %L', app, secret);
    END IF;
    -- the feed-lag metric reads the age of the oldest running transaction of any role
    IF NOT pg_has_role(app, 'pg_read_all_stats', 'MEMBER') THEN
        BEGIN
            EXECUTE format('GRANT pg_read_all_stats TO %I', app);
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE WARNING 'feed lag counts only the transactions of %: grant it pg_read_all_stats', app;
        WHEN duplicate_object OR unique_violation THEN
            NULL;  -- another session granted it at the same time
        END;
    END IF;
END $$;
