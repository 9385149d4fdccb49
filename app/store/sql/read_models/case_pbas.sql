-- The PBAs of a case, optionally of one provider, in the order they opened.
SELECT detail
  FROM ledger_pba
 WHERE case_id = $1
   AND ($2::text IS NULL OR provider_id = $2)
 ORDER BY opened_on, pba_id;
