-- Authorizations neither paid in full nor cancelled by the day the case was closed.
SELECT c.case_id, 'authorization_open_at_closure' AS rule,
       format('authorization %s (%s) was still open when the case was closed on %s',
              i.data->>'authorization_id', i.data->>'service_category', c.data->>'closed_on') AS detail,
       (c.data->>'closed_on')::date AS on_day,
       ARRAY[i.event_id::text, c.event_id::text] AS event_ids,
       i.data->>'provider_id' AS provider_id, 'rules' AS source,
       jsonb_build_object('closed_on', c.data->>'closed_on', 'start_date', i.data->>'start_date',
                          'end_date', i.data->>'end_date') AS dates
FROM events c
JOIN events i ON i.case_id = c.case_id AND i.type = 'AuthorizationIssued'
WHERE c.type = 'CaseClosed'
  AND NOT EXISTS (
    SELECT 1 FROM events p
    WHERE p.case_id = i.case_id
      AND p.data->>'authorization_id' = i.data->>'authorization_id'
      AND ((p.type = 'AuthorizationPaid' AND (p.data->>'paid_in_full')::boolean
            AND p.data->>'payment_date' <= c.data->>'closed_on')
           OR p.type = 'AuthorizationCancelled'))
  AND NOT EXISTS (
    SELECT 1 FROM events x
    WHERE x.case_id = c.case_id AND x.type = 'EventRetracted'
      AND (x.data->>'retracted_event_id')::uuid IN (c.event_id, i.event_id))
  AND (params.case_id IS NULL OR c.case_id = params.case_id)
