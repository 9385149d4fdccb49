-- The first case_id of each part, when the cases (in case_id order) are cut into
-- $1 parts of about equal weight. The weights (case_id, n) come from the query
-- app.store.bulk.shard_bounds puts in place of the braces: by_heads or by_events.
SELECT min(case_id) AS first FROM (
  SELECT case_id,
         floor((sum(n) OVER (ORDER BY case_id) - n) * $1 / GREATEST(sum(n) OVER (), 1)) AS part
  FROM ({weights}) AS weights
) AS parts GROUP BY part ORDER BY first;
