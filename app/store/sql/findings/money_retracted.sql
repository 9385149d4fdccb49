-- Money events taken back by a retraction: who, when, why.
SELECT r.case_id, 'money_event_retracted' AS rule,
       format('%s %s was retracted by %s on %s: %s', t.type, t.event_id, r.metadata->>'actor',
              (r.recorded_at AT TIME ZONE 'UTC')::date, r.data->>'reason') AS detail,
       (r.recorded_at AT TIME ZONE 'UTC')::date AS on_day,
       ARRAY[r.event_id::text, t.event_id::text] AS event_ids,
       COALESCE(t.data->>'provider_id', lp.provider_id) AS provider_id,
       'rules' AS source,
       jsonb_build_object('retracted_at', r.recorded_at, 'by', r.metadata->>'actor',
                          'reason', r.data->>'reason', 'type', t.type) AS dates
FROM events r
JOIN events t ON t.event_id = (r.data->>'retracted_event_id')::uuid
LEFT JOIN ledger_pba lp ON lp.case_id = t.case_id AND lp.pba_id = t.data->>'pba_id'
WHERE r.type = 'EventRetracted'
  AND t.type IN ('AuthorizationIssued', 'AuthorizationPaid', 'AuthorizationCancelled',
                 'PBAMilestoneReached')
  AND (params.case_id IS NULL OR r.case_id = params.case_id)
