-- Undo 0010: the helpers as 0009 left them (frozen copies of 0003's put_clock, 0001's
-- put_ledger and 0008's put_data_key, which PUBLIC could execute). Owners and the other
-- grants are kept. Statements are separated by lines holding only `--`.
CREATE OR REPLACE FUNCTION caseledger_put_clock(p_case_id text, p_clock jsonb) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO closure_clock (case_id, phase, clock_start, eligible_on, explanation)
    VALUES (p_case_id, p_clock->>'phase', (p_clock->>'clock_start')::date,
            (p_clock->>'eligible_on')::date, p_clock->'explanation')
    ON CONFLICT (case_id) DO UPDATE SET
        phase = EXCLUDED.phase, clock_start = EXCLUDED.clock_start,
        eligible_on = EXCLUDED.eligible_on, explanation = EXCLUDED.explanation;
$$
--
CREATE OR REPLACE FUNCTION caseledger_put_ledger(p_case_id text, p_ledger jsonb) RETURNS void
LANGUAGE sql AS $$
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
$$
--
CREATE OR REPLACE FUNCTION caseledger_put_data_key(p_case_id text, p_wrapped bytea, p_master_key_id text)
RETURNS bytea LANGUAGE sql SECURITY DEFINER SET search_path FROM CURRENT AS $$
    INSERT INTO case_data_keys (case_id, wrapped, master_key_id)
    VALUES (p_case_id, p_wrapped, p_master_key_id)
    ON CONFLICT (case_id) DO NOTHING;
    SELECT wrapped FROM case_data_keys WHERE case_id = p_case_id;
$$
--
DO $$
BEGIN
    EXECUTE format('GRANT EXECUTE ON FUNCTION %I.caseledger_put_data_key TO PUBLIC', current_schema());
    EXECUTE format('GRANT EXECUTE ON FUNCTION %I.caseledger_record_access TO PUBLIC', current_schema());
END $$
--
ALTER FUNCTION caseledger_record_access SET search_path FROM CURRENT
