-- The tree's leaf hashes in order, for proofs: the first $1 leaves.
SELECT leaf_hash
FROM merkle_leaves
WHERE leaf_index < $1
ORDER BY leaf_index
