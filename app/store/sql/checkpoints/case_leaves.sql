SELECT subject AS case_id, version, leaf_index
FROM merkle_leaves
WHERE kind = 'event' AND subject = $1 AND leaf_index < $2
ORDER BY version
