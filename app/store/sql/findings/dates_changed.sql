-- A closure or employment date retracted and entered again later: changed after the fact.
SELECT r.case_id, 'date_changed_after_the_fact' AS rule,
       format('%s of %s was retracted on %s and entered again as %s', t.type,
              COALESCE(t.data->>'closed_on', t.data->>'start_date', t.data->>'end_date'),
              (r.recorded_at AT TIME ZONE 'UTC')::date,
              COALESCE(n.data->>'closed_on', n.data->>'start_date', n.data->>'end_date')) AS detail,
       (r.recorded_at AT TIME ZONE 'UTC')::date AS on_day,
       ARRAY[t.event_id::text, r.event_id::text, n.event_id::text] AS event_ids,
       NULL::text AS provider_id, 'rules' AS source,
       jsonb_build_object('was', COALESCE(t.data->>'closed_on', t.data->>'start_date', t.data->>'end_date'),
                          'now', COALESCE(n.data->>'closed_on', n.data->>'start_date', n.data->>'end_date'),
                          'by', r.metadata->>'actor', 'reason', r.data->>'reason') AS dates
FROM events r
JOIN events t ON t.event_id = (r.data->>'retracted_event_id')::uuid
JOIN LATERAL (
    SELECT e.event_id, e.data FROM events e
    WHERE e.case_id = r.case_id AND e.type = t.type AND e.version > r.version
    ORDER BY e.version LIMIT 1
) n ON true
WHERE r.type = 'EventRetracted'
  AND t.type IN ('CaseClosed', 'EmploymentStarted', 'EmploymentEnded')
  AND (params.case_id IS NULL OR r.case_id = params.case_id)
