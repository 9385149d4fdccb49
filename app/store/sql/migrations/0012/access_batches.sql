-- The access record stored a batch to a row (issue 13's cost on reads). The service
-- writes its records in batches of up to a few hundred (app.service.access_recorder);
-- a row and five index entries per record cost about 11 us of PostgreSQL each, one row
-- per batch about 2. Each record keeps its own place in the chain (`previous_hash`,
-- `hash` inside `records`); `access_log` becomes a view with the old table's columns,
-- so "SELECT * FROM access_log" still reads one row per record.
CREATE TABLE access_log_batches (
    first_position bigint PRIMARY KEY,
    last_position bigint NOT NULL UNIQUE,
    first_at timestamptz NOT NULL,
    last_at timestamptz NOT NULL,
    case_ids text[] NOT NULL,      -- every case any record of the batch names (index)
    actors text[] NOT NULL,        -- every key id, role and provider id in it (index)
    previous_hash text NOT NULL UNIQUE,  -- the chain before its first record: no fork
    hash text NOT NULL UNIQUE,           -- the chain after its last record
    records text NOT NULL,         -- a JSON array: one object per record, chain order
    CHECK (last_position >= first_position),
    CHECK (last_at >= first_at)
)
--
CREATE INDEX access_log_batches_case_ids ON access_log_batches USING gin (case_ids)
--
CREATE INDEX access_log_batches_actors ON access_log_batches USING gin (actors)
--
CREATE INDEX access_log_batches_last_at ON access_log_batches (last_at)
--
CREATE TRIGGER access_log_batches_append_only BEFORE UPDATE OR DELETE ON access_log_batches
    FOR EACH ROW EXECUTE FUNCTION access_log_refuse_change()
--
CREATE TRIGGER access_log_batches_no_truncate BEFORE TRUNCATE ON access_log_batches
    FOR EACH STATEMENT EXECUTE FUNCTION access_log_refuse_change()
--
-- What was recorded before: one batch per record, at its own position.
INSERT INTO access_log_batches (first_position, last_position, first_at, last_at, case_ids,
                                actors, previous_hash, hash, records)
SELECT position, position, at, at, case_ids,
       array_remove(ARRAY[key_id, role, provider_id], NULL), previous_hash, hash,
       json_build_array(json_build_object(
           'at', at, 'key_id', key_id, 'role', role, 'provider_id', provider_id,
           'client', client, 'case_ids', case_ids, 'endpoint', endpoint,
           'request_id', request_id, 'status', status,
           'previous_hash', previous_hash, 'hash', hash))::text
FROM access_log
--
DROP FUNCTION caseledger_record_access(jsonb)
--
DROP TABLE access_log
--
-- One row per record, as the table was: `position` counts records across batches.
CREATE VIEW access_log AS
SELECT b.first_position + r.n - 1 AS position, r.at, r.key_id, r.role, r.provider_id,
       r.client, r.case_ids, r.endpoint, r.request_id, r.status, r.previous_hash, r.hash
FROM access_log_batches AS b
CROSS JOIN LATERAL ROWS FROM (
    json_to_recordset(b.records::json) AS (
        at timestamptz, key_id text, role text, provider_id text, client text,
        case_ids text[], endpoint text, request_id text, status integer,
        previous_hash text, hash text)
) WITH ORDINALITY AS r (at, key_id, role, provider_id, client, case_ids, endpoint,
                        request_id, status, previous_hash, hash, n)
--
CREATE FUNCTION access_log_view_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'access_log is append-only: % is refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$
--
CREATE TRIGGER access_log_append_only INSTEAD OF UPDATE OR DELETE ON access_log
    FOR EACH ROW EXECUTE FUNCTION access_log_view_refuse_change()
--
-- The service's one way in. The caller holds the chain's advisory lock and hashed each
-- record from the one before; the database checks that the batch continues the chain's
-- head (else 40001: the writer keeps its records and tries again with the new head),
-- that it holds as many records as it says, and numbers it after the last batch.
CREATE FUNCTION caseledger_record_access_batch(
    p_previous_hash text, p_hash text, p_count integer, p_first_at timestamptz,
    p_last_at timestamptz, p_case_ids text[], p_actors text[], p_records text
) RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    v_head text;
    v_last bigint;
BEGIN
    SELECT hash, last_position INTO v_head, v_last
    FROM access_log_batches ORDER BY last_position DESC LIMIT 1;
    IF p_previous_hash IS DISTINCT FROM coalesce(v_head, repeat('0', 64)) THEN  -- GENESIS
        RAISE EXCEPTION 'this batch continues %, the access record chain ends at %',
            p_previous_hash, coalesce(v_head, 'its genesis') USING ERRCODE = 'serialization_failure';
    END IF;
    IF p_count IS NULL OR p_count < 1 OR p_count <> json_array_length(p_records::json) THEN
        RAISE EXCEPTION 'a batch says it holds % records and holds %',
            p_count, json_array_length(p_records::json) USING ERRCODE = 'invalid_parameter_value';
    END IF;
    INSERT INTO access_log_batches (first_position, last_position, first_at, last_at,
                                    case_ids, actors, previous_hash, hash, records)
    VALUES (coalesce(v_last, 0) + 1, coalesce(v_last, 0) + p_count, p_first_at, p_last_at,
            p_case_ids, p_actors, p_previous_hash, p_hash, p_records);
    RETURN coalesce(v_last, 0) + 1;
END $$
--
DO $$
DECLARE
    here text := current_schema();
    app text := current_setting('caseledger.app_role', true);
BEGIN
    -- lz4 where the server has it (0011): a batch of records compresses about 4:1
    IF EXISTS (SELECT 1 FROM pg_settings
                WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)) THEN
        EXECUTE 'ALTER TABLE access_log_batches ALTER COLUMN records SET COMPRESSION lz4';
    END IF;
    EXECUTE format('ALTER FUNCTION %I.caseledger_record_access_batch SECURITY DEFINER '
                   'SET search_path = pg_catalog, %I, pg_temp', here, here);
    EXECUTE format('REVOKE ALL ON FUNCTION %I.caseledger_record_access_batch FROM PUBLIC', here);
    IF app IS NOT NULL AND app <> '' THEN
        EXECUTE format('GRANT EXECUTE ON FUNCTION %I.caseledger_record_access_batch TO %I', here, app);
    END IF;
END $$
