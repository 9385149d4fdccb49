-- Read-model rows of cases that have no events (a fresh fold gives them none).
SELECT 'case_state' AS model, m.case_id FROM case_state m
WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.case_id = m.case_id)
UNION ALL
SELECT 'closure_clock', m.case_id FROM closure_clock m
WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.case_id = m.case_id)
UNION ALL
SELECT DISTINCT 'ledger_pba', m.case_id FROM ledger_pba m
WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.case_id = m.case_id)
