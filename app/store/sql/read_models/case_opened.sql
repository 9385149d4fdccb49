SELECT EXISTS (SELECT 1 FROM case_state WHERE case_id = $1);
