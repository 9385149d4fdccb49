-- Who read which case: one row per request that returned a case's data (issue 13).
-- Append-only and hash-chained like `events`: each row's hash covers the previous
-- row's hash and its own canonical content (app.domain.access_records).
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
);
--
CREATE INDEX access_log_case_ids ON access_log USING gin (case_ids);
--
CREATE INDEX access_log_key_id ON access_log (key_id, position);
--
CREATE INDEX access_log_at ON access_log (at);
--
CREATE FUNCTION access_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'access_log is append-only: % is refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
--
CREATE TRIGGER access_log_append_only BEFORE UPDATE OR DELETE ON access_log
    FOR EACH ROW EXECUTE FUNCTION access_log_refuse_change();
--
CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON access_log
    FOR EACH STATEMENT EXECUTE FUNCTION access_log_refuse_change();
--
-- The service's one way in (its role may only SELECT and call functions). The caller
-- holds the chain's advisory lock and computed each hash from the previous one.
CREATE FUNCTION caseledger_record_access(p_records jsonb) RETURNS integer
LANGUAGE sql SECURITY DEFINER SET search_path FROM CURRENT AS $$
    INSERT INTO access_log (at, key_id, role, provider_id, client, case_ids, endpoint,
                            request_id, status, previous_hash, hash)
    SELECT (r->>'at')::timestamptz, r->>'key_id', r->>'role', r->>'provider_id', r->>'client',
           ARRAY(SELECT jsonb_array_elements_text(r->'case_ids')), r->>'endpoint',
           r->>'request_id', (r->>'status')::integer, r->>'previous_hash', r->>'hash'
    FROM jsonb_array_elements(p_records) WITH ORDINALITY AS t(r, n)
    ORDER BY n;
    SELECT jsonb_array_length(p_records);
$$;
--
-- Each case's data key, wrapped by the master key (app.domain.data_keys). Clearing
-- `wrapped` destroys the case's personal data (retention); nothing else changes a row.
CREATE TABLE case_data_keys (
    case_id text PRIMARY KEY,
    wrapped bytea,  -- NULL once destroyed (retention): the case's personal data is gone
    master_key_id text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    destroyed_at timestamptz,
    CHECK ((wrapped IS NULL) = (destroyed_at IS NOT NULL))
)
;
--
-- The service's way to give a new case its data key: the first writer's key wins, every
-- writer then reads the stored one (no key row is ever changed but by destruction).
CREATE FUNCTION caseledger_put_data_key(p_case_id text, p_wrapped bytea, p_master_key_id text)
RETURNS bytea LANGUAGE sql SECURITY DEFINER SET search_path FROM CURRENT AS $$
    INSERT INTO case_data_keys (case_id, wrapped, master_key_id)
    VALUES (p_case_id, p_wrapped, p_master_key_id)
    ON CONFLICT (case_id) DO NOTHING;
    SELECT wrapped FROM case_data_keys WHERE case_id = p_case_id;
$$
