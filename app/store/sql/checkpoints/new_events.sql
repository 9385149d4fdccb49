-- Events not yet in the tree, in feed order, below the feed's horizon ($2): every
-- transaction with a smaller position has finished, so none can land below them later.
SELECT position, case_id, version, hash
FROM events
WHERE position > $1 AND position < $2
ORDER BY position
