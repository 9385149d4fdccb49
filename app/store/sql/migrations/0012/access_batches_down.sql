-- Back to 0011: one row per record in the table `access_log`, at the same positions,
-- written through `caseledger_record_access(jsonb)` (0008, pinned and granted as in 0010).
CREATE TEMP TABLE access_log_0012 ON COMMIT DROP AS SELECT * FROM access_log
--
DROP VIEW access_log
--
DROP FUNCTION access_log_view_refuse_change()
--
DROP FUNCTION caseledger_record_access_batch(text, text, integer, timestamptz, timestamptz, text[], text[], text)
--
DROP TABLE access_log_batches
--
CREATE TABLE access_log (
    position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at timestamptz NOT NULL,
    key_id text,
    role text,
    provider_id text,
    client text,
    case_ids text[] NOT NULL,
    endpoint text NOT NULL,
    request_id text,
    status integer NOT NULL,
    previous_hash text NOT NULL,
    hash text NOT NULL UNIQUE
)
--
CREATE INDEX access_log_case_ids ON access_log USING gin (case_ids)
--
CREATE INDEX access_log_key_id ON access_log (key_id, position)
--
CREATE INDEX access_log_at ON access_log (at)
--
CREATE TRIGGER access_log_append_only BEFORE UPDATE OR DELETE ON access_log
    FOR EACH ROW EXECUTE FUNCTION access_log_refuse_change()
--
CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON access_log
    FOR EACH STATEMENT EXECUTE FUNCTION access_log_refuse_change()
--
INSERT INTO access_log (position, at, key_id, role, provider_id, client, case_ids, endpoint,
                        request_id, status, previous_hash, hash)
OVERRIDING SYSTEM VALUE
SELECT position, at, key_id, role, provider_id, client, case_ids, endpoint, request_id, status,
       previous_hash, hash
FROM access_log_0012 ORDER BY position
--
SELECT setval(pg_get_serial_sequence('access_log', 'position'),
              coalesce((SELECT max(position) FROM access_log), 0) + 1, false)
--
CREATE FUNCTION caseledger_record_access(p_records jsonb) RETURNS integer
LANGUAGE sql SECURITY DEFINER AS $$
    INSERT INTO access_log (at, key_id, role, provider_id, client, case_ids, endpoint,
                            request_id, status, previous_hash, hash)
    SELECT (r->>'at')::timestamptz, r->>'key_id', r->>'role', r->>'provider_id', r->>'client',
           ARRAY(SELECT jsonb_array_elements_text(r->'case_ids')), r->>'endpoint',
           r->>'request_id', (r->>'status')::integer, r->>'previous_hash', r->>'hash'
    FROM jsonb_array_elements(p_records) WITH ORDINALITY AS t(r, n)
    ORDER BY n;
    SELECT jsonb_array_length(p_records);
$$
--
DO $$
DECLARE
    here text := current_schema();
    app text := current_setting('caseledger.app_role', true);
BEGIN
    EXECUTE format('ALTER FUNCTION %I.caseledger_record_access SECURITY DEFINER '
                   'SET search_path = pg_catalog, %I, pg_temp', here, here);
    EXECUTE format('REVOKE ALL ON FUNCTION %I.caseledger_record_access FROM PUBLIC', here);
    IF app IS NOT NULL AND app <> '' THEN
        EXECUTE format('GRANT EXECUTE ON FUNCTION %I.caseledger_record_access TO %I', here, app);
    END IF;
END $$
