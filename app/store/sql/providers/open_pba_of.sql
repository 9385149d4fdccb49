-- Whether the case holds an open PBA of this provider (the ledger read model is written in
-- the same statement as the events, so it is as current as the stream).
SELECT EXISTS (
    SELECT 1 FROM ledger_pba WHERE case_id = $1 AND provider_id = $2 AND status = 'open'
)
