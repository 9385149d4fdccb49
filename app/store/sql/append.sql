-- One append, named parameters in the function's order (see AppendCall). An
-- append that is the only one of its transaction passes p_offset => 0; the
-- importer, which appends many cases in one transaction, passes NULL and the
-- appends continue one transaction-local event counter.
SELECT caseledger_append(
    p_case_id => $1, p_expected_version => $2, p_event_ids => $3, p_types => $4,
    p_schema_versions => $5, p_data => $6, p_metadata => $7, p_hashes => $8,
    p_recorded_at => $9, p_fold_version => $10, p_state => $11, p_clock => $12,
    p_ledger => $13, p_offset => $14)
