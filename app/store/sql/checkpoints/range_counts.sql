-- What the hash workers of `verify --checkpoints` must have sent, under the verifier's own
-- snapshot: per range of positions [$1[n], $2[n]), in the ranges' order, how many events it
-- holds, their lowest and highest position and the positions' sum (app/ops/verify_ranges.py).
-- A count over the primary key's range per range, not a read of the rows.
SELECT count(e.position) AS rows, min(e.position) AS lowest, max(e.position) AS highest,
       coalesce(sum(e.position), 0) AS total
FROM unnest($1::bigint[], $2::bigint[]) WITH ORDINALITY AS r(low, high, n)
LEFT JOIN events AS e ON e.position >= r.low AND e.position < r.high
GROUP BY r.n
ORDER BY r.n
