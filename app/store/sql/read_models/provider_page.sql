-- One keyset page of a provider's PBAs across cases.
SELECT case_id, detail
  FROM ledger_pba
 WHERE provider_id = $1
   AND (case_id, pba_id) > ($2, $3)
 ORDER BY case_id, pba_id
 LIMIT $4;
