-- Every access record in chain order, as its hash covers it.
SELECT at, key_id, role, provider_id, client, case_ids, endpoint, request_id, status, previous_hash, hash
FROM access_log ORDER BY position
