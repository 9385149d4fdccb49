-- What an append needs to know of a case before deciding, in one round trip:
-- the head, the snapshot unless the caller's cached version ($3) is current,
-- and any of the batch's event_ids ($2) already stored (a retry finds its original).
SELECT s.version, s.last_hash, s.last_recorded_at, s.state_version, s.fold_version,
       CASE WHEN s.version = $3 THEN NULL ELSE s.state END AS state,
       (SELECT jsonb_agg(jsonb_build_object(
                   'position', position, 'case_id', case_id, 'version', version,
                   'event_id', event_id, 'type', type, 'schema_version', schema_version,
                   'data', data, 'metadata', metadata, 'recorded_at', recorded_at, 'hash', hash)
               ORDER BY position)
        FROM events WHERE event_id = ANY($2::uuid[])) AS existing
FROM (SELECT 1) AS one LEFT JOIN case_state AS s ON s.case_id = $1
