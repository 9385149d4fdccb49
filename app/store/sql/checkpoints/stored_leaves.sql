-- Every recorded leaf, in tree order (verify compares them with the events).
SELECT leaf_index, kind, subject, version, digest, position
FROM merkle_leaves
ORDER BY leaf_index
