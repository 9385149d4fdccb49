-- The leaf of an event (by event_id): its index in the tree and its case.
SELECT l.leaf_index, e.case_id, e.version
FROM events e
JOIN merkle_leaves l ON l.kind = 'event' AND l.subject = e.case_id AND l.version = e.version
WHERE e.event_id = $1
