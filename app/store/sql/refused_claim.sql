-- A refused milestone claim is kept once per claim key, outside the stream, so
-- the ledgers can list it with its reason; the service and the importer both write it.
INSERT INTO refused_claims (case_id, claim_key, pba_id, provider_id, type, data, rule, detail, actor)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT DO NOTHING
