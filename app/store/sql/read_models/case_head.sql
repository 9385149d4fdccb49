-- A case's head: its version, the version and fold of its stored state, and the
-- state itself unless the caller already holds that version ($2) in its cache.
SELECT version, state_version, fold_version,
       CASE WHEN version = $2 THEN NULL ELSE state END AS state
  FROM case_state
 WHERE case_id = $1;
