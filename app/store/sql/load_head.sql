-- What an append needs to know of a case before deciding, in one round trip:
-- the head, the snapshot unless the caller's cached version ($3) is current,
-- and any of the batch's event_ids ($2) already stored (a retry finds its original).
-- The ids are looked up one at a time (a LATERAL with LIMIT, which the planner cannot
-- turn into a join): `event_id = ANY($2)` in a generic plan counts ten ids, and on a
-- small `events` a sequential scan beat ten index probes, a plan each connection then
-- kept as the table grew (no ANALYZE without autovacuum). One probe per id uses the
-- unique index at any size.
SELECT s.version, s.last_hash, s.last_recorded_at, s.state_version, s.fold_version,
       CASE WHEN s.version = $3 THEN NULL ELSE s.state END AS state,
       (SELECT jsonb_agg(jsonb_build_object(
                   'position', e.position, 'case_id', e.case_id, 'version', e.version,
                   'event_id', e.event_id, 'type', e.type, 'schema_version', e.schema_version,
                   'data', e.data, 'metadata', e.metadata, 'recorded_at', e.recorded_at, 'hash', e.hash)
               ORDER BY e.position)
        FROM (SELECT DISTINCT id FROM unnest($2::uuid[]) AS u(id)) AS i
        CROSS JOIN LATERAL (SELECT * FROM events WHERE event_id = i.id LIMIT 1) AS e) AS existing
FROM (SELECT 1) AS one LEFT JOIN case_state AS s ON s.case_id = $1
