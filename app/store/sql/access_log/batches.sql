-- Every batch of access records in chain order, as stored (app.ops.verify_access_log).
SELECT first_position, last_position, first_at, last_at, case_ids, actors, previous_hash, hash,
       records
FROM access_log_batches ORDER BY first_position
