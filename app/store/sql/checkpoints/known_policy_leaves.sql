SELECT version, digest
FROM merkle_leaves
WHERE kind = 'policy' AND subject = $1
