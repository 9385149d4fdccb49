-- The next cases after a cursor, in case_id order: one chunk of a preview or refresh walk.
SELECT case_id FROM case_state WHERE case_id > $1 ORDER BY case_id LIMIT $2
