-- A case's stream up to version $2, as the closure-clock read folds it (json, in
-- version order), for an evaluation date before the case's latest business date.
SELECT json_agg(json_build_object(
           'event_id', e.event_id, 'version', e.version, 'type', e.type,
           'schema_version', e.schema_version, 'data', e.data,
           'recorded_at', e.recorded_at) ORDER BY e.version)
  FROM events AS e
 WHERE e.case_id = $1 AND e.version <= $2
