-- One batch of access records (app.domain.access_records.Batch); its first position.
SELECT caseledger_record_access_batch(
    p_previous_hash => $1, p_hash => $2, p_count => $3, p_first_at => $4, p_last_at => $5,
    p_case_ids => $6, p_actors => $7, p_records => $8)
