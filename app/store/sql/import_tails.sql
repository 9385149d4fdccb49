-- For each case ($1), its events after a version ($2): what its snapshot does not cover yet.
SELECT ev.*
FROM unnest($1::text[], $2::int[]) AS u(c, after),
LATERAL (SELECT position, case_id, version, event_id, type, schema_version, data, metadata,
                recorded_at, hash
         FROM events WHERE case_id = u.c AND version > u.after ORDER BY version) AS ev
