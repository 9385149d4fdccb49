SELECT count(DISTINCT case_id) FROM events;
