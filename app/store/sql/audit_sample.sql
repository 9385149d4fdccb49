-- A reproducible audit sample: cases ordered by sha256(seed || case_id), the first `size`
-- ($1 seed, $2 phase, $3 closed_from, $4 closed_to, $5 size). Same seed, same data: same cases.
SELECT c.case_id, c.phase, c.eligible_on, cl.closed_on,
       encode(sha256(convert_to($1::text || c.case_id, 'UTF8')), 'hex') AS draw
FROM closure_clock c
LEFT JOIN LATERAL (
    SELECT (e.data->>'closed_on')::date AS closed_on FROM events e
    WHERE e.case_id = c.case_id AND e.type = 'CaseClosed'
    ORDER BY e.version DESC LIMIT 1
) cl ON true
WHERE ($2::text IS NULL OR c.phase = $2)
  AND ($3::date IS NULL OR cl.closed_on >= $3)
  AND ($4::date IS NULL OR cl.closed_on <= $4)
ORDER BY draw, c.case_id
LIMIT $5
