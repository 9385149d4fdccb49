-- Refused claims, optionally of one case and/or one provider, oldest first.
SELECT case_id, pba_id, provider_id, type, data, rule, detail, actor, refused_at
  FROM refused_claims
 WHERE ($1::text IS NULL OR case_id = $1)
   AND ($2::text IS NULL OR provider_id = $2)
 ORDER BY refused_at, claim_key
 LIMIT $3;
