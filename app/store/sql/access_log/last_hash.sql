-- The chain's head: the newest access record's hash (none before the first).
SELECT hash FROM access_log ORDER BY position DESC LIMIT 1
