-- The chain's head: the newest batch's last hash (none before the first).
SELECT hash FROM access_log_batches ORDER BY last_position DESC LIMIT 1
