-- Which of these event_ids ($1) are stored, with what an idempotent retry compares.
SELECT event_id, case_id, type, data FROM events WHERE event_id = ANY($1::uuid[])
