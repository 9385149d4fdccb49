-- One page of access records, oldest first, after a position; every filter optional.
SELECT position, at, key_id, role, provider_id, client, case_ids, endpoint, request_id, status, hash
FROM access_log
WHERE position > $1
  AND ($2::text IS NULL OR case_ids @> ARRAY[$2::text])
  AND ($3::text IS NULL OR key_id = $3 OR role = $3 OR provider_id = $3)
  AND ($4::timestamptz IS NULL OR at >= $4)
  AND ($5::timestamptz IS NULL OR at < $5)
ORDER BY position
LIMIT $6
