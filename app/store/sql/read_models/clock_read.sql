-- The stored clock of a case and its version, in one indexed read; with the case's
-- stream (json, in version order) when the row cannot answer for the evaluation date
-- $2 (it precedes the case's latest business date, or the row predates it) and the
-- caller's cache does not hold this version ($3).
SELECT s.version, c.phase, c.clock_start, c.eligible_on, c.explanation,
       CASE WHEN coalesce((c.explanation->>'latest_on')::date <= $2, false) OR s.version = $3 THEN NULL
            ELSE (SELECT json_agg(json_build_object(
                     'event_id', e.event_id, 'version', e.version, 'type', e.type,
                     'schema_version', e.schema_version, 'data', e.data,
                     'recorded_at', e.recorded_at) ORDER BY e.version)
                  FROM events AS e WHERE e.case_id = s.case_id AND e.version <= s.version)
       END AS stream
  FROM case_state AS s
  JOIN closure_clock AS c ON c.case_id = s.case_id
 WHERE s.case_id = $1;
