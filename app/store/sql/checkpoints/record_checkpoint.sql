INSERT INTO checkpoints (tree_size, root_hash, last_position, signed_at, note)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (tree_size) DO NOTHING
