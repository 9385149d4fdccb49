-- The heads of an import batch's cases ($1), without the snapshot of a case whose
-- state at that version ($2) is in the import's cache.
SELECT s.case_id, s.version, s.last_hash, s.last_recorded_at, s.state_version, s.fold_version,
       CASE WHEN s.version = u.cached THEN NULL ELSE s.state END AS state
FROM unnest($1::text[], $2::int[]) AS u(case_id, cached) JOIN case_state s USING (case_id)
