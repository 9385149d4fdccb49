SELECT tree_size, root_hash, last_position, signed_at, note
FROM checkpoints
ORDER BY tree_size DESC
LIMIT 1
