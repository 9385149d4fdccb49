-- A provider's sums over its PBAs.
SELECT count(*) AS pbas,
       count(*) FILTER (WHERE status = 'open') AS open_pbas,
       coalesce(sum(earned), 0) AS earned,
       coalesce(sum(authorized), 0) AS authorized,
       coalesce(sum(paid), 0) AS paid,
       coalesce(sum(outstanding), 0) AS outstanding
  FROM ledger_pba
 WHERE provider_id = $1;
