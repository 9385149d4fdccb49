-- Retention: the case's wrapped data key is gone; its sealed values never open again.
UPDATE case_data_keys SET wrapped = NULL, destroyed_at = $2
WHERE case_id = $1 AND wrapped IS NOT NULL
