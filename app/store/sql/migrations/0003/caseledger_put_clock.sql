-- Migration 0003's copy. The one closure-clock upsert: the append and the
-- rebuild both write a case's row through it.
CREATE OR REPLACE FUNCTION caseledger_put_clock(p_case_id text, p_clock jsonb) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO closure_clock (case_id, phase, clock_start, eligible_on, explanation)
    VALUES (p_case_id, p_clock->>'phase', (p_clock->>'clock_start')::date,
            (p_clock->>'eligible_on')::date, p_clock->'explanation')
    ON CONFLICT (case_id) DO UPDATE SET
        phase = EXCLUDED.phase, clock_start = EXCLUDED.clock_start,
        eligible_on = EXCLUDED.eligible_on, explanation = EXCLUDED.explanation;
$$;
