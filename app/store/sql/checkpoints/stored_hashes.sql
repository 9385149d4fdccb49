-- The stored hash of each (case_id, version) asked for: the predecessors a verifier's
-- bounded cache no longer holds.
SELECT e.case_id, e.version, e.hash
FROM unnest($1::text[], $2::int[]) AS k(case_id, version)
JOIN events e ON e.case_id = k.case_id AND e.version = k.version
