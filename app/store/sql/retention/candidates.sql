-- A page of closed cases a retention run must look at, after the cursor $1, at most $3:
-- those whose data key still lives (or that never had one), and that closed on or before
-- $2 (the latest closure that can be due: app.domain.retention.latest_due_closure) or
-- already record CaseRecordsDestroyed (a run that stopped before destroying the key).
-- Each comes with the events the retention rule reads, personal values left out
-- (`reason` is the only personal field of these types).
WITH page AS (
    SELECT c.case_id
    FROM closure_clock c
    LEFT JOIN case_data_keys k ON k.case_id = c.case_id
    WHERE c.case_id > $1
      AND c.phase = 'closed'
      AND k.destroyed_at IS NULL
      AND EXISTS (
          SELECT 1 FROM events d
          WHERE d.case_id = c.case_id
            AND ((d.type = 'CaseClosed' AND (d.data ->> 'closed_on')::date <= $2)
                 OR d.type = 'CaseRecordsDestroyed'))
    ORDER BY c.case_id
    LIMIT $3
)
SELECT p.case_id,
       s.version,
       (SELECT jsonb_agg(jsonb_build_object('event_id', e.event_id, 'type', e.type,
                                            'data', e.data - 'reason') ORDER BY e.version)
        FROM events e
        WHERE e.case_id = p.case_id
          AND e.type IN ('CaseClosed', 'EventRetracted', 'LegalHoldPlaced', 'LegalHoldLifted',
                         'CaseRecordsDestroyed')) AS events
FROM page p
JOIN case_state s ON s.case_id = p.case_id
ORDER BY p.case_id
