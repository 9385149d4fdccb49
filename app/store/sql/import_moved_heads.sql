-- The heads of the existing cases an import batch appends to, as caseledger_append moves
-- them (the snapshot only where one is due, $7 not null). Only a head still at the version
-- the batch was decided on ($2) moves: the caller compares the rows returned with its cases
-- and treats a missing one as the function's CL409 (the head moved).
UPDATE case_state s
   SET version = u.version, last_hash = u.last_hash, last_recorded_at = u.recorded_at,
       state_version = CASE WHEN u.state IS NULL THEN s.state_version ELSE u.version END,
       fold_version = CASE WHEN u.state IS NULL THEN s.fold_version ELSE u.fold_version END,
       state = COALESCE(u.state::jsonb, s.state)
  FROM unnest($1::text[], $2::int[], $3::int[], $4::text[], $5::timestamptz[], $6::int[], $7::text[])
       AS u(case_id, expected, version, last_hash, recorded_at, fold_version, state)
 WHERE s.case_id = u.case_id AND s.version = u.expected
RETURNING s.case_id
