-- Cases with an event committed after the replay read them: their writer's rows are newer.
SELECT u.case_id FROM unnest($1::text[], $2::int[]) AS u(case_id, version)
WHERE EXISTS (SELECT 1 FROM events e WHERE e.case_id = u.case_id AND e.version > u.version)
