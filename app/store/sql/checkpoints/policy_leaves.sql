SELECT leaf_index, subject, version, digest, position
FROM merkle_leaves
WHERE kind = 'policy'
ORDER BY leaf_index
