-- The head of every event in feed order: what the tree audit merges on (the hashes of
-- their content come from the hash workers, which read the rest).
SELECT position, case_id, version, hash
FROM events
ORDER BY position
