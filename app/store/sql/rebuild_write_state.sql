-- A case's head and snapshot as the replay of its whole stream gives them.
INSERT INTO case_state (case_id, version, last_hash, last_recorded_at, state_version,
                        fold_version, state)
VALUES ($1, $2, $3, $4, $2, $5, $6)
ON CONFLICT (case_id) DO UPDATE SET version = EXCLUDED.version, last_hash = EXCLUDED.last_hash,
  last_recorded_at = EXCLUDED.last_recorded_at, state_version = EXCLUDED.state_version,
  fold_version = EXCLUDED.fold_version, state = EXCLUDED.state
