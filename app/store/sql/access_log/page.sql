-- One page of access records, oldest first, after a position; every filter optional.
-- The batch's own columns pick the batches (through their indexes); only those are
-- unpacked, and each record is filtered again.
SELECT a.position, a.at, a.key_id, a.role, a.provider_id, a.client, a.case_ids, a.endpoint,
       a.request_id, a.status, a.hash
FROM access_log_batches AS b
CROSS JOIN LATERAL (
    SELECT b.first_position + r.n - 1 AS position, r.at, r.key_id, r.role, r.provider_id,
           r.client, r.case_ids, r.endpoint, r.request_id, r.status, r.hash
    FROM ROWS FROM (
        json_to_recordset(b.records::json) AS (
            at timestamptz, key_id text, role text, provider_id text, client text,
            case_ids text[], endpoint text, request_id text, status integer, hash text)
    ) WITH ORDINALITY AS r (at, key_id, role, provider_id, client, case_ids, endpoint,
                            request_id, status, hash, n)
) AS a
WHERE b.last_position > $1
  AND ($2::text IS NULL OR b.case_ids @> ARRAY[$2::text])
  AND ($3::text IS NULL OR b.actors @> ARRAY[$3::text])
  AND ($4::timestamptz IS NULL OR b.last_at >= $4)
  AND ($5::timestamptz IS NULL OR b.first_at < $5)
  AND a.position > $1
  AND ($2::text IS NULL OR a.case_ids @> ARRAY[$2::text])
  AND ($3::text IS NULL OR a.key_id = $3 OR a.role = $3 OR a.provider_id = $3)
  AND ($4::timestamptz IS NULL OR a.at >= $4)
  AND ($5::timestamptz IS NULL OR a.at < $5)
ORDER BY b.last_position, a.position
LIMIT $6
