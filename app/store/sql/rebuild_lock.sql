-- The chunk's cases, locked against their writers while the rebuild writes their rows.
SELECT case_id FROM case_state WHERE case_id = ANY($1::text[]) ORDER BY case_id FOR UPDATE
