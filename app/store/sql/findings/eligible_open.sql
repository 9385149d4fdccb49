-- Cases eligible for closure for more than `days` days and still open.
SELECT c.case_id, 'eligible_not_closed' AS rule,
       format('eligible for closure since %s (%s days before %s) and still open',
              c.eligible_on, params.today - c.eligible_on, params.today) AS detail,
       c.eligible_on AS on_day, ARRAY[]::text[] AS event_ids,
       NULL::text AS provider_id, 'rules' AS source,
       jsonb_build_object('eligible_on', c.eligible_on, 'clock_start', c.clock_start) AS dates
FROM closure_clock c
WHERE c.phase = 'in_follow_up' AND c.eligible_on <= params.today - params.days
  AND (params.case_id IS NULL OR c.case_id = params.case_id)
