-- Migration 0003's copy (frozen: a later change goes into a new migration's copy).
-- One round trip per append: the events, the decider's snapshot and both read
-- models in one statement and so in one transaction. The function checks the
-- caller's expected version against the stored head itself and refuses with
-- SQLSTATE CL409 (DETAIL: the current version) when it differs, a non-zero
-- expected version on an unknown case included. A writer that read the head
-- just before another one committed fails on the (case_id, version) key instead.
-- Call it with named notation: caseledger_append(p_case_id => $1, ...).
CREATE FUNCTION caseledger_append(
    p_case_id text,
    p_expected_version integer,
    p_event_ids uuid[],
    p_types text[],
    p_schema_versions integer[],
    p_data jsonb[],
    p_metadata jsonb[],
    p_hashes text[],
    p_recorded_at timestamptz,
    p_fold_version integer,
    p_state jsonb,
    p_clock jsonb,
    p_ledger jsonb,
    p_offset integer DEFAULT NULL
) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    -- position = (top-level xid << 20) + index: a feed reader that stops below
    -- the oldest running transaction can never skip a late commit. A caller that
    -- appends several times in one transaction (bulk import) passes no offset and
    -- the appends continue one transaction-local counter; a caller whose append is
    -- alone in its transaction passes 0 and skips the counter.
    v_offset integer := COALESCE(
        p_offset,
        NULLIF(current_setting('caseledger.tx_events', true), '')::integer,
        0);
    v_base bigint := ((pg_current_xact_id()::text::bigint) << 20) + v_offset;
    v_count integer := cardinality(p_event_ids);
    v_version integer := p_expected_version + v_count;
    v_head integer;
BEGIN
    SELECT version INTO v_head FROM case_state WHERE case_id = p_case_id;
    IF COALESCE(v_head, 0) <> p_expected_version THEN
        RAISE EXCEPTION 'expected version % but case % is at version %',
                        p_expected_version, p_case_id, COALESCE(v_head, 0)
            USING ERRCODE = 'CL409',
                  DETAIL = COALESCE(v_head, 0)::text,
                  HINT = 'read the case again and decide on its current version';
    END IF;
    IF v_count = 0 THEN
        RAISE EXCEPTION 'an append holds at least one event' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF v_offset + v_count >= 1048576 THEN
        RAISE EXCEPTION 'more than 1048575 events in one transaction';
    END IF;
    IF p_offset IS NULL THEN
        PERFORM set_config('caseledger.tx_events', (v_offset + v_count)::text, true);
    END IF;
    INSERT INTO events (position, case_id, version, event_id, type, schema_version,
                        data, metadata, recorded_at, hash)
    SELECT v_base + i, p_case_id, p_expected_version + i, e, t, s, d, m, p_recorded_at, h
    FROM unnest(p_event_ids, p_types, p_schema_versions, p_data, p_metadata, p_hashes)
         WITH ORDINALITY AS u(e, t, s, d, m, h, i);

    -- The snapshot (p_state) is written every few versions, not on every append;
    -- a reader folds the events after state_version onto it.
    IF p_expected_version = 0 THEN
        INSERT INTO case_state (case_id, version, last_hash, last_recorded_at, state_version,
                                fold_version, state)
        VALUES (p_case_id, v_version, p_hashes[v_count], p_recorded_at, v_version,
                p_fold_version, COALESCE(p_state, 'null'::jsonb));
    ELSIF p_state IS NULL THEN
        UPDATE case_state SET version = v_version, last_hash = p_hashes[v_count],
                              last_recorded_at = p_recorded_at
        WHERE case_id = p_case_id;
    ELSE
        UPDATE case_state SET version = v_version, last_hash = p_hashes[v_count],
                              last_recorded_at = p_recorded_at, state_version = v_version,
                              fold_version = p_fold_version, state = p_state
        WHERE case_id = p_case_id;
    END IF;

    IF p_clock IS NOT NULL THEN
        PERFORM caseledger_put_clock(p_case_id, p_clock);
    END IF;
    IF p_ledger IS NOT NULL THEN
        PERFORM caseledger_put_ledger(p_case_id, p_ledger);
    END IF;
    RETURN v_base;
END $$;
