SELECT tree_size, last_position, hashes
FROM merkle_frontier
ORDER BY tree_size DESC
LIMIT 1
