-- Imported events the rules refused and the importer kept as facts (issue 15): the
-- finding rides in the event's metadata; only the importer's actor may set it.
SELECT e.case_id, f.rule, f.detail,
       COALESCE(e.data->>'closed_on', e.data->>'reached_on', e.data->>'payment_date',
                e.data->>'start_date', e.data->>'amended_on', e.data->>'end_date',
                e.data->>'opened_on', (e.recorded_at AT TIME ZONE 'UTC')::date::text)::date AS on_day,
       ARRAY[e.event_id::text] AS event_ids,
       COALESCE(e.data->>'provider_id', lp.provider_id) AS provider_id,
       'import' AS source,
       f.dates || jsonb_build_object('type', e.type) AS dates
FROM events e
CROSS JOIN LATERAL jsonb_to_record(e.metadata->'import_finding') AS f(rule text, detail text, dates jsonb)
LEFT JOIN ledger_pba lp ON lp.case_id = e.case_id AND lp.pba_id = e.data->>'pba_id'
WHERE e.metadata ? 'import_finding' AND e.metadata->>'actor' LIKE 'import:%'
  AND (params.case_id IS NULL OR e.case_id = params.case_id)
